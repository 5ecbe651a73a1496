/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The error table (src/basic/orch-error.c) and what each of its users
 * derives from it: the daemon's D-Bus names, the codes GDBus clients get
 * back, the shim's HTTP statuses and bodies, orchestratorctl's exit
 * statuses. */
#include "basic/orch-error.h"
#include "basic/orch-spec.h"
#include "client/orch-client.h"
#include "ctl/orch-ctl.h"
#include "rest/orch-rest-json.h"

#include <string.h>

#define PREFIX "org.orchestrator.Error."

/* Every code has a row: a unique, valid D-Bus name under our prefix, an
 * HTTP error status and one of orchestratorctl's documented exit codes. */
static void
test_table (void)
{
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  for (int code = 0; code < ORCH_ERROR_N_CODES; code++)
    {
      const char *name = orch_error_to_dbus_name (code);
      const char *short_name = orch_error_to_short_name (code);
      guint status = orch_error_to_http_status (code);
      int exit_code = orch_error_to_exit_code (code);

      g_test_message ("code %d: %s, %u, exit %d", code, name, status, exit_code);
      g_assert_nonnull (name);
      g_assert_true (g_str_has_prefix (name, PREFIX));
      /* Error names follow the rules of interface names. */
      g_assert_true (g_dbus_is_interface_name (name));
      g_assert_true (g_hash_table_add (names, (gpointer) name));

      g_assert_nonnull (short_name);
      g_assert_null (strchr (short_name, '.'));
      g_assert_true (g_str_has_prefix (name + strlen (PREFIX), short_name));
      g_assert_cmpuint (status, >=, 400);
      g_assert_cmpuint (status, <=, 599);
      g_assert_true (exit_code == ORCH_CTL_EXIT_FAILED || exit_code == ORCH_CTL_EXIT_USAGE ||
                     exit_code == ORCH_CTL_EXIT_NOT_FOUND);
    }
  g_assert_cmpuint (g_hash_table_size (names), ==, ORCH_ERROR_N_CODES);
}

/* What users see, as the README documents it. */
static void
test_documented (void)
{
  const struct {
    OrchError code;
    const char *name;
    const char *short_name;
    guint status;
    int exit_code;
  } rows[] = {
    { ORCH_ERROR_FAILED, PREFIX "Failed", "Failed", 500, ORCH_CTL_EXIT_FAILED },
    { ORCH_ERROR_NOT_FOUND, PREFIX "NotFound", "NotFound", 404, ORCH_CTL_EXIT_NOT_FOUND },
    { ORCH_ERROR_INVALID_ARGUMENT, PREFIX "InvalidArgument", "InvalidArgument", 422,
      ORCH_CTL_EXIT_USAGE },
    { ORCH_ERROR_COMMAND_REJECTED, PREFIX "CommandRejected", "CommandRejected", 403,
      ORCH_CTL_EXIT_FAILED },
    { ORCH_ERROR_LIMIT_REACHED, PREFIX "LimitReached", "LimitReached", 429, ORCH_CTL_EXIT_FAILED },
    { ORCH_ERROR_INVALID_STATE, PREFIX "InvalidState", "InvalidState", 409, ORCH_CTL_EXIT_FAILED },
    { ORCH_ERROR_PERMISSION_DENIED, PREFIX "PermissionDenied", "PermissionDenied", 403,
      ORCH_CTL_EXIT_FAILED },
    { ORCH_ERROR_TIMEOUT, PREFIX "Timeout", "Timeout", 504, ORCH_CTL_EXIT_FAILED },
    { ORCH_ERROR_UNAVAILABLE, PREFIX "Unavailable", "Unavailable", 503, ORCH_CTL_EXIT_FAILED },
    { ORCH_ERROR_MALFORMED, PREFIX "InvalidArgument.Malformed", "InvalidArgument", 400,
      ORCH_CTL_EXIT_USAGE },
    { ORCH_ERROR_METHOD_NOT_ALLOWED, PREFIX "MethodNotAllowed", "MethodNotAllowed", 405,
      ORCH_CTL_EXIT_USAGE },
    { ORCH_ERROR_TOO_LARGE, PREFIX "TooLarge", "TooLarge", 413, ORCH_CTL_EXIT_USAGE },
    { ORCH_ERROR_HEADERS_TOO_LARGE, PREFIX "HeadersTooLarge", "HeadersTooLarge", 431,
      ORCH_CTL_EXIT_USAGE },
    { ORCH_ERROR_UPGRADE_REQUIRED, PREFIX "UpgradeRequired", "UpgradeRequired", 426,
      ORCH_CTL_EXIT_USAGE },
  };

  G_STATIC_ASSERT (G_N_ELEMENTS (rows) == ORCH_ERROR_N_CODES);
  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_assert_cmpstr (orch_error_to_dbus_name (rows[i].code), ==, rows[i].name);
      g_assert_cmpstr (orch_error_to_short_name (rows[i].code), ==, rows[i].short_name);
      g_assert_cmpuint (orch_error_to_http_status (rows[i].code), ==, rows[i].status);
      g_assert_cmpint (orch_error_to_exit_code (rows[i].code), ==, rows[i].exit_code);
    }
  /* Anything else is Failed. */
  g_assert_cmpstr (orch_error_to_dbus_name (ORCH_ERROR_N_CODES), ==, PREFIX "Failed");
  g_assert_cmpstr (orch_error_to_dbus_name (-1), ==, PREFIX "Failed");
}

/* Code -> D-Bus error reply -> GError a GDBus client sees -> the same
 * code, with the daemon's words once the name is stripped. */
static void
test_round_trip (void)
{
  g_autoptr(GDBusMessage) call = g_dbus_message_new_method_call (
      "org.orchestrator", "/org/orchestrator", "org.orchestrator.Jobs", "Get");

  orch_client_register_errors ();
  orch_client_register_errors (); /* any number of times */
  g_dbus_message_set_serial (call, 1);
  for (int code = 0; code < ORCH_ERROR_N_CODES; code++)
    {
      const char *name = orch_error_to_dbus_name (code);
      g_autoptr(GError) error = g_dbus_error_new_for_dbus_error (name, "no job “x”");
      g_autoptr(GError) local = g_error_new_literal (ORCH_ERROR, code, "no job “x”");
      g_autoptr(GDBusMessage) reply = g_dbus_message_new_method_error_literal (call, name,
                                                                               "no job “x”");
      g_autoptr(GError) from_reply = NULL;
      g_autofree char *remote = NULL;
      g_autofree char *encoded = NULL;

      g_assert_error (error, ORCH_ERROR, code);
      g_assert_cmpint (orch_client_error_code (error), ==, code);
      remote = g_dbus_error_get_remote_error (error);
      g_assert_cmpstr (remote, ==, name);
      g_dbus_error_strip_remote_error (error);
      g_assert_cmpstr (error->message, ==, "no job “x”");

      /* As a reply message off the wire. */
      g_assert_true (g_dbus_message_to_gerror (reply, &from_reply));
      g_assert_error (from_reply, ORCH_ERROR, code);

      /* And GDBus names our own errors the same way. */
      encoded = g_dbus_error_encode_gerror (local);
      g_assert_cmpstr (encoded, ==, name);
    }
}

/* What the bus and GDBus say, as codes: the shim's 503/504 and the CLI's
 * hints follow from them. */
static void
test_foreign (void)
{
  const struct {
    const char *name;
    OrchError code;
  } remote[] = {
    { "org.freedesktop.DBus.Error.ServiceUnknown", ORCH_ERROR_UNAVAILABLE },
    { "org.freedesktop.DBus.Error.NameHasNoOwner", ORCH_ERROR_UNAVAILABLE },
    { "org.freedesktop.DBus.Error.Disconnected", ORCH_ERROR_UNAVAILABLE },
    { "org.freedesktop.DBus.Error.NoReply", ORCH_ERROR_TIMEOUT },
    { "org.freedesktop.DBus.Error.Timeout", ORCH_ERROR_TIMEOUT },
    { "org.freedesktop.DBus.Error.TimedOut", ORCH_ERROR_TIMEOUT },
    { "org.freedesktop.DBus.Error.AccessDenied", ORCH_ERROR_PERMISSION_DENIED },
    { "org.freedesktop.DBus.Error.UnknownMethod", ORCH_ERROR_FAILED },
    { "org.orchestrator.Error.NoSuchThing", ORCH_ERROR_FAILED },
    { "com.example.Error.Odd", ORCH_ERROR_FAILED },
  };
  g_autoptr(GError) timed_out = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "timed out");
  g_autoptr(GError) closed = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED, "closed");
  g_autoptr(GError) other = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "failed");
  g_autoptr(GError) odd_code = g_error_new_literal (ORCH_ERROR, ORCH_ERROR_N_CODES + 3, "odd");

  orch_client_register_errors ();
  for (gsize i = 0; i < G_N_ELEMENTS (remote); i++)
    {
      g_autoptr(GError) error = g_dbus_error_new_for_dbus_error (remote[i].name, "words");
      g_assert_cmpint (orch_client_error_code (error), ==, remote[i].code);
    }
  g_assert_cmpint (orch_client_error_code (timed_out), ==, ORCH_ERROR_TIMEOUT);
  g_assert_cmpint (orch_client_error_code (closed), ==, ORCH_ERROR_UNAVAILABLE);
  g_assert_cmpint (orch_client_error_code (other), ==, ORCH_ERROR_FAILED);
  g_assert_cmpint (orch_error_code (other), ==, ORCH_ERROR_FAILED);
  g_assert_cmpint (orch_error_code (odd_code), ==, ORCH_ERROR_FAILED);
}

/* The shim's 400 or 422 follows from the decoder's code, whatever the
 * message says (or the language it says it in). */
static void
test_json_codes (void)
{
  const struct {
    const char *body;
    int code;
  } cases[] = {
    { "", ORCH_ERROR_MALFORMED },
    { "{\"command\": ", ORCH_ERROR_MALFORMED },
    { "[1, 2]", ORCH_ERROR_MALFORMED },
    { "{} {}", ORCH_ERROR_MALFORMED },
    { "{\"command\": [\"tr\xff\"]}", ORCH_ERROR_MALFORMED },
    { "{\"command\": \"sleep 1\"}", ORCH_ERROR_INVALID_ARGUMENT },
    { "{\"command\": [\"true\"], \"tasks_max\": -4}", ORCH_ERROR_INVALID_ARGUMENT },
  };
  g_autoptr(GString) deep = g_string_new ("{\"command\": ");

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) v = orch_rest_object_from_json (cases[i].body, strlen (cases[i].body),
                                                          orch_spec_field_types, &error);
      g_assert_null (v);
      g_assert_error (error, ORCH_ERROR, cases[i].code);
    }

  /* Nested too deep is malformed too (its message never said "JSON"). */
  for (int i = 0; i < 1000; i++)
    g_string_append_c (deep, '[');
  for (int i = 0; i < 1000; i++)
    g_string_append_c (deep, ']');
  g_string_append_c (deep, '}');
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) v = orch_rest_object_from_json (deep->str, deep->len, orch_spec_field_types,
                                                        &error);
    g_assert_null (v);
    g_assert_error (error, ORCH_ERROR, ORCH_ERROR_MALFORMED);
    g_assert_cmpuint (orch_error_to_http_status (orch_error_code (error)), ==, 400);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/error/table", test_table);
  g_test_add_func ("/error/documented", test_documented);
  g_test_add_func ("/error/round-trip", test_round_trip);
  g_test_add_func ("/error/foreign", test_foreign);
  g_test_add_func ("/error/json-codes", test_json_codes);
  return g_test_run ();
}
