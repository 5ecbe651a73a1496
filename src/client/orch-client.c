/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-client.h"

#include <json-glib/json-glib.h>

GDBusConnection *
orch_client_open_bus (gboolean user, const char *address, GError **error)
{
  orch_client_register_errors ();
  if (address)
    return g_dbus_connection_new_for_address_sync (
        address,
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
        NULL, NULL, error);
  return g_bus_get_sync (user ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM, NULL, error);
}

void
orch_client_register_errors (void)
{
  static gsize done = 0;
  static GDBusErrorEntry entries[ORCH_ERROR_N_CODES];
  static gsize quark = 0;

  if (g_once_init_enter (&done))
    {
      /* GDBus wants the entries as an array of their own: built once from
       * the table, for the quark ORCH_ERROR already is. */
      for (int code = 0; code < ORCH_ERROR_N_CODES; code++)
        entries[code] = (GDBusErrorEntry){ code, orch_error_to_dbus_name (code) };
      g_dbus_error_register_error_domain (g_quark_to_string (ORCH_ERROR), &quark, entries,
                                          G_N_ELEMENTS (entries));
      g_assert (quark == ORCH_ERROR);
      g_once_init_leave (&done, 1);
    }
}

OrchError
orch_client_error_code (const GError *error)
{
  static const struct {
    GQuark (*domain) (void);
    int code;
    OrchError as;
  } foreign[] = {
    { g_dbus_error_quark, G_DBUS_ERROR_SERVICE_UNKNOWN, ORCH_ERROR_UNAVAILABLE },
    { g_dbus_error_quark, G_DBUS_ERROR_NAME_HAS_NO_OWNER, ORCH_ERROR_UNAVAILABLE },
    { g_dbus_error_quark, G_DBUS_ERROR_DISCONNECTED, ORCH_ERROR_UNAVAILABLE },
    { g_io_error_quark, G_IO_ERROR_CLOSED, ORCH_ERROR_UNAVAILABLE },
    { g_dbus_error_quark, G_DBUS_ERROR_NO_REPLY, ORCH_ERROR_TIMEOUT },
    { g_dbus_error_quark, G_DBUS_ERROR_TIMEOUT, ORCH_ERROR_TIMEOUT },
    { g_dbus_error_quark, G_DBUS_ERROR_TIMED_OUT, ORCH_ERROR_TIMEOUT },
    { g_io_error_quark, G_IO_ERROR_TIMED_OUT, ORCH_ERROR_TIMEOUT },
    { g_dbus_error_quark, G_DBUS_ERROR_ACCESS_DENIED, ORCH_ERROR_PERMISSION_DENIED },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (foreign); i++)
    if (g_error_matches (error, foreign[i].domain (), foreign[i].code))
      return foreign[i].as;
  return orch_error_code (error);
}

char *
orch_client_variant_to_json (GVariant *v, gboolean pretty)
{
  g_autoptr(JsonNode) node = json_gvariant_serialize (v);

  return json_to_string (node, pretty);
}
