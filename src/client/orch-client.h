/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* What every D-Bus client of orchestratord (the REST shim, orchestratorctl)
 * does the same way. */

#define ORCH_BUS_NAME "org.orchestrator"
#define ORCH_BUS_PATH "/org/orchestrator"

/* The bus chosen by --bus-address=ADDRESS, else --user (session) or the
 * system bus, as orchestratord itself chooses it. */
GDBusConnection *orch_client_open_bus (gboolean user, const char *address, GError **error);

/* "NotFound" for org.orchestrator.Error.NotFound; "Failed" for any other
 * name (or NULL). */
const char *orch_client_error_tail (const char *dbus_error_name);

/* JSON text for a D-Bus value (a{sv} records keep their keys), through
 * json-glib's GVariant bridge. */
char *orch_client_variant_to_json (GVariant *v, gboolean pretty);

G_END_DECLS
