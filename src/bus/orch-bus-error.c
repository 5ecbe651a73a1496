/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-bus-error.h"

#include "basic/orch-error.h"

#include <glib/gi18n.h>

/* The name comes from the one error table (orch-error.c); a GError of
 * another domain is org.orchestrator.Error.Failed. */
int
orch_bus_set_gerror (sd_bus_error *ret_error, const GError *error)
{
  return sd_bus_error_set (ret_error, orch_error_to_dbus_name (orch_error_code (error)),
                           error->message);
}

int
orch_bus_reply_gerror (sd_bus_message *m, const GError *error)
{
  return sd_bus_reply_method_errorf (m, orch_error_to_dbus_name (orch_error_code (error)), "%s",
                                     error->message);
}

gboolean
orch_bus_check_export (int r, GError **error)
{
  if (r >= 0)
    return TRUE;
  g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot export D-Bus objects: %s"),
               g_strerror (-r));
  return FALSE;
}
