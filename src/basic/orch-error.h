/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ORCH_ERROR (orch_error_quark ())

/* One domain for the whole project; each code maps to one D-Bus error name
 * (org.orchestrator.Error.<Name>) and one HTTP status, in orch-error.c. */
typedef enum {
  ORCH_ERROR_FAILED,
  ORCH_ERROR_NOT_FOUND,
  ORCH_ERROR_INVALID_ARGUMENT,
  ORCH_ERROR_COMMAND_REJECTED,
  ORCH_ERROR_LIMIT_REACHED,
  ORCH_ERROR_INVALID_STATE,
  ORCH_ERROR_PERMISSION_DENIED,
} OrchError;

GQuark orch_error_quark (void);

/* "org.orchestrator.Error.NotFound" for ORCH_ERROR_NOT_FOUND, ... */
const char *orch_error_to_dbus_name (int code);
/* Inverse of the above; ORCH_ERROR_FAILED for unknown names. */
int orch_error_from_dbus_name (const char *name);
/* The tail of the D-Bus name ("NotFound"), as the REST shim reports it. */
const char *orch_error_to_short_name (int code);

G_END_DECLS
