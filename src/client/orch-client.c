/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-client.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define ERROR_PREFIX "org.orchestrator.Error."

GDBusConnection *
orch_client_open_bus (gboolean user, const char *address, GError **error)
{
  if (address)
    return g_dbus_connection_new_for_address_sync (
        address,
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
        NULL, NULL, error);
  return g_bus_get_sync (user ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM, NULL, error);
}

const char *
orch_client_error_tail (const char *dbus_error_name)
{
  if (dbus_error_name && g_str_has_prefix (dbus_error_name, ERROR_PREFIX) &&
      dbus_error_name[strlen (ERROR_PREFIX)] != '\0')
    return dbus_error_name + strlen (ERROR_PREFIX);
  return "Failed";
}

char *
orch_client_variant_to_json (GVariant *v, gboolean pretty)
{
  g_autoptr(JsonNode) node = json_gvariant_serialize (v);

  return json_to_string (node, pretty);
}
