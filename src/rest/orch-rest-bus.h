/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The shim's connection to the bus, which outlives the bus: when the bus
 * goes away (dbus-daemon restarted, killed) it connects again to the same
 * address, with backoff, and says so through notify::connection.  Signal
 * subscriptions made here follow it to each new connection. */
/* How long a read may wait for orchestratord, which answers one at once
 * unless it hangs; then 504. */
#define ORCH_REST_READ_TIMEOUT_MS 5000

#define ORCH_TYPE_REST_BUS (orch_rest_bus_get_type ())
G_DECLARE_FINAL_TYPE (OrchRestBus, orch_rest_bus, ORCH, REST_BUS, GObject)

/* The bus at @address, else the session bus (@user) or the system bus.
 * The first connection is made here: an error if it fails. */
OrchRestBus *orch_rest_bus_new (gboolean user, const char *address, GError **error);

/* The connection, or NULL while the bus is away. */
GDBusConnection *orch_rest_bus_get_connection (OrchRestBus *self);
/* The bus's address, for a second connection (orch-rest-sdbus.h). */
const char *orch_rest_bus_get_address (OrchRestBus *self);

/* A subscription to orchestratord's @member signals on @iface (@arg0:
 * only those with this first argument, or NULL), kept across reconnects.
 * Returns an id for orch_rest_bus_unsubscribe(). */
guint orch_rest_bus_subscribe (OrchRestBus *self, const char *iface, const char *member,
                               const char *arg0, GDBusSignalCallback callback, gpointer data);
void orch_rest_bus_unsubscribe (OrchRestBus *self, guint id);

G_END_DECLS
