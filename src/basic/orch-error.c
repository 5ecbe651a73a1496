/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-error.h"

#include <string.h>

G_DEFINE_QUARK (orch-error-quark, orch_error)

static const struct {
  OrchError code;
  const char *name;
} error_names[] = {
  { ORCH_ERROR_FAILED, "org.orchestrator.Error.Failed" },
  { ORCH_ERROR_NOT_FOUND, "org.orchestrator.Error.NotFound" },
  { ORCH_ERROR_INVALID_ARGUMENT, "org.orchestrator.Error.InvalidArgument" },
  { ORCH_ERROR_COMMAND_REJECTED, "org.orchestrator.Error.CommandRejected" },
  { ORCH_ERROR_LIMIT_REACHED, "org.orchestrator.Error.LimitReached" },
  { ORCH_ERROR_INVALID_STATE, "org.orchestrator.Error.InvalidState" },
  { ORCH_ERROR_PERMISSION_DENIED, "org.orchestrator.Error.PermissionDenied" },
};

const char *
orch_error_to_dbus_name (int code)
{
  for (gsize i = 0; i < G_N_ELEMENTS (error_names); i++)
    if ((int) error_names[i].code == code)
      return error_names[i].name;
  return error_names[0].name;
}

int
orch_error_from_dbus_name (const char *name)
{
  for (gsize i = 0; name && i < G_N_ELEMENTS (error_names); i++)
    if (strcmp (error_names[i].name, name) == 0)
      return error_names[i].code;
  return ORCH_ERROR_FAILED;
}

const char *
orch_error_to_short_name (int code)
{
  const char *full = orch_error_to_dbus_name (code);
  return strrchr (full, '.') + 1;
}
