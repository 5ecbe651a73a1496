/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-error.h"

#include <string.h>

G_DEFINE_QUARK (orch-error-quark, orch_error)

#define DBUS_PREFIX "org.orchestrator.Error."

/* Everything a caller sees of an error, by code: the daemon's D-Bus name
 * (sd-bus replies, GDBus clients map it back to the code), the shim's HTTP
 * status and the body's "error" (the name's short form), orchestratorctl's
 * exit status (ORCH_CTL_EXIT_*: 1 failure, 2 input refused as invalid,
 * 4 no such job).  The README's tables of statuses and exit codes say the
 * same. */
static const struct {
  const char *dbus_name;
  guint http_status;
  int exit_code;
} errors[] = {
  [ORCH_ERROR_FAILED] = { DBUS_PREFIX "Failed", 500, 1 },
  [ORCH_ERROR_NOT_FOUND] = { DBUS_PREFIX "NotFound", 404, 4 },
  [ORCH_ERROR_INVALID_ARGUMENT] = { DBUS_PREFIX "InvalidArgument", 422, 2 },
  [ORCH_ERROR_COMMAND_REJECTED] = { DBUS_PREFIX "CommandRejected", 403, 1 },
  [ORCH_ERROR_LIMIT_REACHED] = { DBUS_PREFIX "LimitReached", 429, 1 },
  [ORCH_ERROR_INVALID_STATE] = { DBUS_PREFIX "InvalidState", 409, 1 },
  [ORCH_ERROR_PERMISSION_DENIED] = { DBUS_PREFIX "PermissionDenied", 403, 1 },
  [ORCH_ERROR_TIMEOUT] = { DBUS_PREFIX "Timeout", 504, 1 },
  [ORCH_ERROR_UNAVAILABLE] = { DBUS_PREFIX "Unavailable", 503, 1 },
  [ORCH_ERROR_MALFORMED] = { DBUS_PREFIX "InvalidArgument.Malformed", 400, 2 },
  [ORCH_ERROR_METHOD_NOT_ALLOWED] = { DBUS_PREFIX "MethodNotAllowed", 405, 2 },
  [ORCH_ERROR_TOO_LARGE] = { DBUS_PREFIX "TooLarge", 413, 2 },
  [ORCH_ERROR_HEADERS_TOO_LARGE] = { DBUS_PREFIX "HeadersTooLarge", 431, 2 },
  [ORCH_ERROR_UPGRADE_REQUIRED] = { DBUS_PREFIX "UpgradeRequired", 426, 2 },
};

G_STATIC_ASSERT (G_N_ELEMENTS (errors) == ORCH_ERROR_N_CODES);

static guint
row (OrchError code)
{
  return (guint) code < G_N_ELEMENTS (errors) ? (guint) code : ORCH_ERROR_FAILED;
}

OrchError
orch_error_code (const GError *error)
{
  return error->domain == ORCH_ERROR ? (OrchError) row (error->code) : ORCH_ERROR_FAILED;
}

const char *
orch_error_to_dbus_name (OrchError code)
{
  return errors[row (code)].dbus_name;
}

const char *
orch_error_to_short_name (OrchError code)
{
  const char *tail = errors[row (code)].dbus_name + strlen (DBUS_PREFIX);
  const char *dot = strchr (tail, '.');
  g_autofree char *parent = NULL;

  if (dot == NULL)
    return tail;
  parent = g_strndup (tail, dot - tail);
  return g_intern_string (parent);
}

guint
orch_error_to_http_status (OrchError code)
{
  return errors[row (code)].http_status;
}

int
orch_error_to_exit_code (OrchError code)
{
  return errors[row (code)].exit_code;
}
