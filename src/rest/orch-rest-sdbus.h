/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

G_BEGIN_DECLS

/* A second connection to the bus, in sd-bus, for the replies the shim
 * turns into text the most (GET /jobs/, /metrics): GDBus parses a whole
 * reply into a tree of GVariants on its worker thread, one allocation per
 * value, and that tree then has to be walked and freed again; over sd-bus
 * the reply is read once, straight into JSON or Prometheus text (issue 15:
 * the parse and the walk were 90 % of the shim's CPU on /jobs/).  Calls go
 * on the thread-default main loop; no thread. */
typedef struct _OrchRestSdBus OrchRestSdBus;

OrchRestSdBus *orch_rest_sdbus_new (const char *address);
void orch_rest_sdbus_free (OrchRestSdBus *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchRestSdBus, orch_rest_sdbus_free)

/* @reply is the method return, or NULL with @error set (a D-Bus error of
 * the daemon's, or a local one as GDBus would give it: G_IO_ERROR_TIMED_OUT,
 * G_IO_ERROR_CLOSED). */
typedef void (*OrchRestSdBusReply) (sd_bus_message *reply, GError *error, gpointer data);

/* Calls @method of orchestratord with @args (a tuple; NULL for none; not
 * consumed, so that the caller can send it by GDBus instead).  FALSE when the connection is
 * not there (then nothing was sent and the caller goes by GDBus); else
 * @done runs once, later, from the main loop. */
gboolean
orch_rest_sdbus_call (OrchRestSdBus *self, const char *iface, const char *method, GVariant *args,
                      guint timeout_ms, OrchRestSdBusReply done, gpointer data);

/* The members of the tuple @args appended to @m; negative errno for what
 * D-Bus cannot carry (maybe, handle). */
int orch_rest_sdbus_append (sd_bus_message *m, GVariant *args);

/* Jobs.List's arguments asking for the record keys @keys (NULL-ended)
 * only; floating. */
GVariant *orch_rest_list_args (const char *const *keys);

/* @changed runs for every signal of orchestratord's, when it comes or
 * goes, and when this connection breaks or is made again: whatever the
 * shim kept of the daemon's answers may be out of date then. */
typedef void (*OrchRestSdBusChanged) (gpointer data);
void
orch_rest_sdbus_watch_changes (OrchRestSdBus *self, OrchRestSdBusChanged changed, gpointer data);

/* Handles what has arrived on the connection (signals among it run
 * @changed; replies run their callbacks), so that a change the daemon
 * sent before this point is known.  FALSE when changes cannot be known
 * now: no connection, the watch not confirmed yet, or more waiting than
 * one pass handles. */
gboolean orch_rest_sdbus_sync_changes (OrchRestSdBus *self);

G_END_DECLS
