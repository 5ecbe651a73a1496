/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basic/orch-error.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* What every D-Bus client of orchestratord (the REST shim, orchestratorctl)
 * does the same way. */

#define ORCH_BUS_NAME "org.orchestrator"
#define ORCH_BUS_PATH "/org/orchestrator"

/* The bus chosen by --bus-address=ADDRESS, else --user (session) or the
 * system bus, as orchestratord itself chooses it.  Registers the errors
 * first (below). */
GDBusConnection *orch_client_open_bus (gboolean user, const char *address, GError **error);

/* Makes GDBus turn the daemon's org.orchestrator.Error.* replies into
 * ORCH_ERROR GErrors of the matching code (g_dbus_error_strip_remote_error
 * leaves the daemon's message).  Call before the first call to the daemon;
 * any number of times. */
void orch_client_register_errors (void);

/* The code for an error of a call to the daemon: its own, or what the bus
 * or GDBus said: no daemon on the bus, a lost bus: UNAVAILABLE; no answer
 * in time: TIMEOUT; refused by the bus policy: PERMISSION_DENIED; anything
 * else FAILED. */
OrchError orch_client_error_code (const GError *error);

/* JSON text for a D-Bus value (a{sv} records keep their keys), through
 * json-glib's GVariant bridge. */
char *orch_client_variant_to_json (GVariant *v, gboolean pretty);

G_END_DECLS
