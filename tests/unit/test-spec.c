/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/orch-error.h"
#include "basic/orch-spec.h"

#include <string.h>

static GVariant *
parse_text (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *v = g_variant_parse (G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);

  g_assert_no_error (error);
  return v;
}

static void
test_full (void)
{
  g_autoptr(GVariant) v = parse_text (
      "{'command': <['sleep', '1']>, 'name': <'nap'>, 'env': <{'FOO': 'bar'}>,"
      " 'cwd': <'/tmp'>, 'user': <'nobody'>, 'restart': <'on-failure'>,"
      " 'restart_max': <uint32 7>, 'restart_delay_ms': <uint32 250>,"
      " 'stop_timeout_ms': <uint32 2000>, 'memory_max': <uint64 268435456>,"
      " 'cpu_quota': <0.5>, 'tasks_max': <uint32 64>, 'stderr': <'separate'>,"
      " 'memory_high': <uint64 134217728>, 'cpu_weight': <uint32 200>, 'io_weight': <uint32 50>}");
  g_autoptr(GError) error = NULL;
  g_autoptr(OrchSpec) s = orch_spec_from_variant (v, &error);
  g_autoptr(GVariant) back = NULL;
  g_autoptr(OrchSpec) s2 = NULL;

  g_assert_no_error (error);
  g_assert_cmpstrv (s->argv, ((const char *const[]){ "sleep", "1", NULL }));
  g_assert_cmpstr (s->name, ==, "nap");
  g_assert_cmpstr (g_hash_table_lookup (s->env, "FOO"), ==, "bar");
  g_assert_cmpstr (s->cwd, ==, "/tmp");
  g_assert_cmpstr (s->user, ==, "nobody");
  g_assert_cmpint (s->restart, ==, ORCH_RESTART_ON_FAILURE);
  g_assert_cmpuint (s->restart_max, ==, 7);
  g_assert_cmpuint (s->restart_delay_ms, ==, 250);
  g_assert_cmpuint (s->stop_timeout_ms, ==, 2000);
  g_assert_cmpuint (s->memory_max, ==, 268435456);
  g_assert_cmpfloat (s->cpu_quota, ==, 0.5);
  g_assert_cmpuint (s->tasks_max, ==, 64);
  g_assert_cmpint (s->stderr_mode, ==, ORCH_STDERR_SEPARATE);
  g_assert_cmpuint (s->memory_high, ==, 134217728);
  g_assert_cmpuint (s->cpu_weight, ==, 200);
  g_assert_cmpuint (s->io_weight, ==, 50);

  /* The record form parses back to the same spec. */
  back = g_variant_ref_sink (orch_spec_to_variant (s));
  s2 = orch_spec_from_variant (back, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_equal (back, g_variant_ref_sink (orch_spec_to_variant (s2))));
}

static void
test_defaults (void)
{
  g_autoptr(GVariant) v = parse_text ("{'command': <['/usr/bin/sleep', '1']>}");
  g_autoptr(GError) error = NULL;
  g_autoptr(OrchSpec) s = orch_spec_from_variant (v, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (s->name, ==, "sleep");
  g_assert_cmpint (s->restart, ==, ORCH_RESTART_NO);
  g_assert_cmpuint (s->restart_max, ==, ORCH_DEFAULT_RESTART_MAX);
  g_assert_cmpuint (s->memory_max, ==, 0);
  g_assert_cmpint (s->stderr_mode, ==, ORCH_STDERR_MERGE);
  g_assert_null (s->env);
}

static void
test_errors (void)
{
  const struct {
    const char *text;
    const char *needle;
  } cases[] = {
    { "{'name': <'x'>}", "“command” is required" },
    { "{'command': <@as []>}", "“command”: must not be empty" },
    { "{'command': <['']>}", "program name" },
    { "{'command': <'sleep 1'>}", "“command” must be of type as, not s" },
    { "{'command': <['true']>, 'comand': <['x']>}", "unknown spec field “comand”" },
    { "{'command': <['true']>, 'cpu_quota': <'half'>}", "“cpu_quota” must be of type d, not s" },
    { "{'command': <['true']>, 'cpu_quota': <0.0>}", "“cpu_quota”" },
    { "{'command': <['true']>, 'cpu_quota': <5000.0>}", "“cpu_quota”" },
    { "{'command': <['true']>, 'memory_max': <uint64 100>}", "“memory_max”" },
    { "{'command': <['true']>, 'memory_max': <100>}", "“memory_max” must be of type t, not i" },
    { "{'command': <['true']>, 'tasks_max': <uint32 0>}", "“tasks_max”" },
    { "{'command': <['true']>, 'memory_high': <uint64 100>}", "“memory_high”" },
    { "{'command': <['true']>, 'cpu_weight': <uint32 0>}", "“cpu_weight”" },
    { "{'command': <['true']>, 'io_weight': <uint32 10001>}", "“io_weight”" },
    { "{'command': <['true']>, 'stop_timeout_ms': <uint32 0>}", "“stop_timeout_ms”" },
    { "{'command': <['true']>, 'restart': <'sometimes'>}", "“restart”" },
    { "{'command': <['true']>, 'restart_delay_ms': <uint32 4000000>}", "“restart_delay_ms”" },
    { "{'command': <['true']>, 'env': <{'1X': 'y'}>}", "“1X”" },
    { "{'command': <['true']>, 'env': <{'A=B': 'y'}>}", "“A=B”" },
    { "{'command': <['true']>, 'env': <{'': 'y'}>}", "“env”" },
    { "{'command': <['true']>, 'cwd': <'relative'>}", "“cwd”" },
    { "{'command': <['true']>, 'user': <''>}", "“user”" },
    { "{'command': <['true']>, 'name': <''>}", "“name”" },
    { "{'command': <['true']>, 'name': <'a\\nb'>}", "“name”" },
    { "{'command': <['true']>, 'name': <'ab\\n'>}", "control characters" },
    { "{'command': <['true']>, 'env': <{'FOO\\n': 'y'}>}", "“FOO" },
    { "{'command': <['true']>, 'request_id': <'a-b\\n'>}", "printable ASCII" },
    { "{'command': <['true']>, 'name': <'a\\u0085b'>}", "control characters" },
    { "{'command': <['true']>, 'restart_max': <uint32 1000001>}", "at most 1000000" },
    { "{'command': <['true']>, 'stop_timeout_ms': <uint32 3600001>}", "from 1 to 3600000" },
    { "{'command': <['true']>, 'cpu_quota': <0.005>}", "from 0.01 to 4096" },
    { "{'command': <['true']>, 'memory_max': <uint64 1048575>}", "at least 1048576" },
    { "{'command': <['true']>, 'request_id': <'a b'>}", "printable ASCII" },
    { "{'command': <['true']>, 'stderr': <'both'>}", "“stderr”" },
    { "{'command': <['true']>, 'memory_warn_before_s': <uint32 86401>}", "at most 86400" },
    { "{'command': <['true']>, 'memory_warn_before_s': <600>}", "must be of type u, not i" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GVariant) v = parse_text (cases[i].text);
      g_autoptr(GError) error = NULL;
      g_autoptr(OrchSpec) s = orch_spec_from_variant (v, &error);

      g_assert_null (s);
      g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
      if (strstr (error->message, cases[i].needle) == NULL)
        g_error ("case %s: message “%s” lacks “%s”", cases[i].text, error->message, cases[i].needle);
    }
}

/* Each row's C test says what its pattern says, as JSON Schema reads it
 * (ECMA-262: "$" is the end, not also before a final newline), on every
 * string built from a set of awkward pieces; and a row has both or neither. */
static void
test_patterns (void)
{
  static const char *const pieces[] = {
    "",
    "a",
    "Z",
    "_",
    "0",
    "9",
    "/",
    " ",
    "!",
    "~",
    "=",
    "-",
    "\n",
    "\t",
    "\x1f",
    "\x7f",
    "\xc2\x85", /* U+0085, a C1 control */
    "\xc2\xa0", /* U+00A0, not one */
    "\xc3\xa9",
    "\xe6\x97\xa5",
    "\xf0\x9f\x98\x80",
  };
  gsize n_fields, n_pieces = G_N_ELEMENTS (pieces), checked = 0;
  const OrchSpecField *fields = orch_spec_fields (&n_fields);

  for (gsize i = 0; i < n_fields; i++)
    {
      const OrchSpecField *f = &fields[i];
      g_autoptr(GRegex) re = NULL;
      g_autofree char *long_ok = g_strnfill (255, 'x');
      g_autofree char *too_long = g_strnfill (256, 'x');

      g_assert_true ((f->pattern == NULL) == (f->match == NULL));
      if (f->pattern == NULL)
        continue;
      re = g_regex_new (f->pattern, G_REGEX_DOLLAR_ENDONLY, 0, NULL);
      g_assert_nonnull (re);
      g_assert_cmpint (f->match (long_ok), ==, g_regex_match (re, long_ok, 0, NULL));
      g_assert_cmpint (f->match (too_long), ==, g_regex_match (re, too_long, 0, NULL));
      /* Every string of up to three pieces. */
      for (gsize a = 0; a < n_pieces; a++)
        for (gsize b = 0; b < n_pieces; b++)
          for (gsize c = 0; c < n_pieces; c++)
            {
              g_autofree char *str = g_strconcat (pieces[a], pieces[b], pieces[c], NULL);
              if (f->match (str) != g_regex_match (re, str, 0, NULL))
                g_error ("field %s: the C test and /%s/ differ on “%s”", f->key, f->pattern,
                         g_strescape (str, NULL));
              checked++;
            }
    }
  g_assert_cmpuint (checked, >, 0);
}

static void
test_not_a_dict (void)
{
  g_autoptr(GVariant) v = g_variant_ref_sink (g_variant_new_string ("x"));
  g_autoptr(GError) error = NULL;

  g_assert_null (orch_spec_from_variant (v, &error));
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
}

/* group_id and replica are the daemon's: a caller cannot set them, the
 * state database keeps them with the spec. */
static void
test_group_fields (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) asked = g_variant_ref_sink (g_variant_new_parsed (
      "{'command': <['/bin/true']>, 'group_id': <'group_20260101_000000_abcdef'>}"));
  g_autoptr(OrchSpec) refused = orch_spec_from_variant (asked, &error);
  g_autoptr(OrchSpec) spec = NULL, back = NULL;
  g_autoptr(GVariant) stored = NULL;

  g_assert_null (refused);
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_autoptr(GVariant) plain = g_variant_ref_sink (
      g_variant_new_parsed ("{'command': <['/bin/true']>}"));
  spec = orch_spec_from_variant (plain, &error);
  g_assert_no_error (error);
  spec->group_id = g_strdup ("group_20260101_000000_abcdef");
  spec->replica = 3;
  stored = g_variant_ref_sink (orch_spec_to_variant (spec));
  back = orch_spec_from_stored (stored, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->group_id, ==, "group_20260101_000000_abcdef");
  g_assert_cmpuint (back->replica, ==, 3);
  g_assert_cmpstr (back->argv[0], ==, "/bin/true");
}

/* memory_warn_before_s: unset (the configuration decides) differs from
 * 0 (no warnings for this job), and both survive the stored form. */
static void
test_memory_warn_before (void)
{
  const char *const texts[] = { "{'command': <['true']>}",
                                "{'command': <['true']>, 'memory_warn_before_s': <uint32 0>}",
                                "{'command': <['true']>, 'memory_warn_before_s': <uint32 7200>}" };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(GVariant) v = parse_text (texts[i]);
      g_autoptr(GError) error = NULL;
      g_autoptr(OrchSpec) s = orch_spec_from_variant (v, &error);
      g_autoptr(GVariant) back = NULL;
      g_autoptr(OrchSpec) s2 = NULL;
      guint32 u = 1;

      g_assert_no_error (error);
      g_assert_cmpint (s->memory_warn_before_set, ==, i > 0);
      g_assert_cmpuint (s->memory_warn_before_s, ==, i == 2 ? 7200 : 0);
      back = g_variant_ref_sink (orch_spec_to_variant (s));
      g_assert_cmpint (g_variant_lookup (back, "memory_warn_before_s", "u", &u), ==, i > 0);
      s2 = orch_spec_from_stored (back, &error);
      g_assert_no_error (error);
      g_assert_cmpint (s2->memory_warn_before_set, ==, i > 0);
      g_assert_cmpuint (s2->memory_warn_before_s, ==, s->memory_warn_before_s);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/spec/full", test_full);
  g_test_add_func ("/spec/defaults", test_defaults);
  g_test_add_func ("/spec/errors", test_errors);
  g_test_add_func ("/spec/patterns", test_patterns);
  g_test_add_func ("/spec/not-a-dict", test_not_a_dict);
  g_test_add_func ("/spec/group-fields", test_group_fields);
  g_test_add_func ("/spec/memory-warn-before", test_memory_warn_before);
  return g_test_run ();
}
