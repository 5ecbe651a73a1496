/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-bus-error.h"

#include "basic/orch-error.h"

int
orch_bus_set_gerror (sd_bus_error *ret_error, const GError *error)
{
  int code = error->domain == ORCH_ERROR ? error->code : ORCH_ERROR_FAILED;

  return sd_bus_error_set (ret_error, orch_error_to_dbus_name (code), error->message);
}

int
orch_bus_reply_gerror (sd_bus_message *m, const GError *error)
{
  int code = error->domain == ORCH_ERROR ? error->code : ORCH_ERROR_FAILED;

  return sd_bus_reply_method_errorf (m, orch_error_to_dbus_name (code), "%s", error->message);
}
