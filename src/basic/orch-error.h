/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ORCH_ERROR (orch_error_quark ())

/* One domain for the whole project.  Each code has one row in the table in
 * orch-error.c: its D-Bus error name, the HTTP status the REST shim answers
 * with and orchestratorctl's exit status.  A new error is a new code and a
 * new row, nothing else. */
typedef enum {
  ORCH_ERROR_FAILED,
  ORCH_ERROR_NOT_FOUND,
  ORCH_ERROR_INVALID_ARGUMENT,
  ORCH_ERROR_COMMAND_REJECTED,
  ORCH_ERROR_LIMIT_REACHED,
  ORCH_ERROR_INVALID_STATE,
  ORCH_ERROR_PERMISSION_DENIED,
  /* The clients' own, never sent by the daemon: it did not answer in
   * time; it is not there (or the bus is not). */
  ORCH_ERROR_TIMEOUT,
  ORCH_ERROR_UNAVAILABLE,
  /* Request input that is not even well-formed (bad JSON, a bad escape):
   * reported as InvalidArgument, with HTTP 400 rather than 422. */
  ORCH_ERROR_MALFORMED,
  /* The REST shim's own refusals of a request's form, each with the
   * status its name says. */
  ORCH_ERROR_METHOD_NOT_ALLOWED,
  ORCH_ERROR_TOO_LARGE,
  ORCH_ERROR_HEADERS_TOO_LARGE,
  ORCH_ERROR_UPGRADE_REQUIRED,
  ORCH_ERROR_N_CODES /* not a code: how many there are */
} OrchError;

GQuark orch_error_quark (void);

/* @error's code if it is an ORCH_ERROR, else ORCH_ERROR_FAILED. */
OrchError orch_error_code (const GError *error);

/* "org.orchestrator.Error.NotFound" for ORCH_ERROR_NOT_FOUND, ...; unique
 * per code.  Out-of-range codes are ORCH_ERROR_FAILED. */
const char *orch_error_to_dbus_name (OrchError code);
/* The name's first element after org.orchestrator.Error. ("NotFound"), as
 * the REST shim's bodies and the README say it: a refinement
 * (InvalidArgument.Malformed) reports the error it refines. */
const char *orch_error_to_short_name (OrchError code);
guint orch_error_to_http_status (OrchError code);
int orch_error_to_exit_code (OrchError code);

G_END_DECLS
