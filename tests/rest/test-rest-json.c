/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shim's GVariant-to-JSON writer against json-glib's bridge, which it
 * replaces on the request path: the same text for every value the daemon
 * sends and then some. */
#include "rest/orch-rest-json.h"

#include <json-glib/json-glib.h>
#include <math.h>

static char *
ours (GVariant *v)
{
  GString *out = g_string_new (NULL);

  orch_rest_variant_to_json (out, v);
  return g_string_free (out, FALSE);
}

static char *
json_glib (GVariant *v)
{
  g_autoptr(JsonNode) node = json_gvariant_serialize (v);

  return json_to_string (node, FALSE);
}

static void
test_same_as_json_glib (void)
{
  static const char *const values[] = {
    "true", "false", "byte 7", "int16 -3", "uint16 65535", "int32 -2147483648",
    "uint32 4294967295", "int64 -9223372036854775807", "uint64 9223372036854775807",
    "handle 3", "0.0", "1.0", "-2.5", "0.1", "1e300", "3.141592653589793", "1e-300",
    "''", "'plain'", "'quote \" back \\\\ slash'", "'tab\\tline\\nret\\rbs\\bff\\f'",
    "'\\u0001\\u001e\\u007f'", "'ünïcødé €'", "objectpath '/org/orchestrator'",
    "signature 'a{sv}'", "<'boxed'>", "<<uint32 5>>", "just 'x'", "@ms nothing",
    "@as []", "['a', 'b']", "@a{sv} {}", "{'k': <1>, 'l': <'v'>}", "{'k', 'v'}",
    "{1, 'one'}", "{true, 1}", "(1, 'a', [2.0])", "()",
    "[{'id': <'job_20250101_120000_a1b2c3'>, 'pid': <uint32 42>, 'cpu_percent': <12.5>,"
    "  'command': <['sh', '-c', 'echo \"hi\"']>, 'env': <{'A': 'b'}>}]",
    "({'a': <[{'b': <[1, 2]>}]>},)", "{'n': <@mv nothing>}", "[[[]], [[1]]]",
    "{'x': 1.0e20}", "{uint32 7: 'seven'}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) v = g_variant_parse (NULL, values[i], NULL, NULL, &error);
      g_autofree char *a = NULL, *b = NULL;

      g_assert_no_error (error);
      a = ours (v);
      b = json_glib (v);
      g_test_message ("%s -> %s", values[i], a);
      /* json-glib writes "1e-300.0", which is not JSON; ours "1e-300". */
      {
        g_autoptr(GRegex) bogus = g_regex_new ("(e[-+][0-9]+)\\.0", 0, 0, NULL);
        g_autofree char *fixed = g_regex_replace (bogus, b, -1, 0, "\\1", 0, NULL);
        g_assert_cmpstr (a, ==, fixed);
      }
    }
}

/* Where json-glib writes what is not JSON, the shim does not. */
static void
test_valid_where_json_glib_is_not (void)
{
  g_autoptr(GVariant) us = g_variant_ref_sink (g_variant_new_string ("\x1f"));
  g_autoptr(GVariant) nan = g_variant_ref_sink (g_variant_new_double (NAN));
  g_autoptr(GVariant) inf = g_variant_ref_sink (g_variant_new_double (-INFINITY));
  g_autofree char *a = ours (us), *b = ours (nan), *c = ours (inf);

  g_assert_cmpstr (a, ==, "\"\\u001f\"");
  g_assert_cmpstr (b, ==, "null");
  g_assert_cmpstr (c, ==, "null");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rest-json/same-as-json-glib", test_same_as_json_glib);
  g_test_add_func ("/rest-json/valid-json", test_valid_where_json_glib_is_not);
  return g_test_run ();
}
