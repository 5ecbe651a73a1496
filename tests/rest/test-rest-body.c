/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shim's request-body decoder on nested objects (a group's template
 * and autoscale) and on bodies that are a call's arguments (Scale). */
#include "basic/orch-error.h"
#include "rest/orch-rest-json.h"

#include <string.h>

static const char *const group_types[] = { "template",  ORCH_REST_TYPE_JOB_SPEC,  "replicas", "u",
                                           "autoscale", ORCH_REST_TYPE_AUTOSCALE, NULL };

static GVariant *
decode (const char *body, GError **error)
{
  GVariant *v = orch_rest_object_from_json (body, strlen (body), group_types, error);

  return v ? g_variant_ref_sink (v) : NULL;
}

static void
test_nested_converted (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) v = decode (
      "{\"template\": {\"command\": [\"sleep\", \"1\"], \"memory_max\": 1e6, \"env\": {\"A\": \"b\"}},"
      " \"replicas\": 2, \"autoscale\": {\"target\": 50, \"max\": 4, \"metric\": \"cpu_percent\"}}",
      &error);
  g_autoptr(GVariant) tmpl = NULL, as = NULL, env = NULL;
  const char *metric;
  guint32 max;
  guint64 mem;
  double target;

  g_assert_no_error (error);
  tmpl = g_variant_lookup_value (v, "template", G_VARIANT_TYPE_VARDICT);
  as = g_variant_lookup_value (v, "autoscale", G_VARIANT_TYPE_VARDICT);
  g_assert_nonnull (tmpl);
  g_assert_nonnull (as);
  /* Each member typed by its table: a JSON integer becomes a double
   * where autoscale wants one, 1e6 a t where the spec wants one. */
  g_assert_true (g_variant_lookup (tmpl, "memory_max", "t", &mem));
  g_assert_cmpuint (mem, ==, 1000000);
  g_assert_true (g_variant_lookup (as, "target", "d", &target));
  g_assert_cmpfloat (target, ==, 50.0);
  g_assert_true (g_variant_lookup (as, "max", "u", &max));
  g_assert_cmpuint (max, ==, 4);
  g_assert_true (g_variant_lookup (as, "metric", "&s", &metric));
  g_assert_cmpstr (metric, ==, "cpu_percent");
  env = g_variant_lookup_value (tmpl, "env", NULL);
  g_assert_true (g_variant_is_of_type (env, G_VARIANT_TYPE ("a{ss}")));
}

/* Errors name the member by its path; nothing is returned. */
static void
test_nested_errors (void)
{
  static const struct {
    const char *body;
    const char *field;
  } cases[] = {
    { "{\"template\": {\"command\": \"sleep 1\"}}", "“template.command”" },
    { "{\"template\": {\"comand\": [\"x\"]}}", "“template.comand”" },
    { "{\"template\": [\"sleep\"]}", "“template”" },
    { "{\"autoscale\": {\"target\": \"high\", \"max\": 2}}", "“autoscale.target”" },
    { "{\"autoscale\": {\"target\": 1, \"max\": -1}}", "“autoscale.max”" },
    { "{\"autoscale\": {\"target\": 1, \"max\": 2, \"mx\": 3}}", "“autoscale.mx”" },
    { "{\"replicas\": 1.5}", "“replicas”" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) v = decode (cases[i].body, &error);

      g_test_message ("%s", cases[i].body);
      g_assert_null (v);
      g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, cases[i].field));
    }
}

static void
test_args (void)
{
  static const char *const scale_types[] = { "replicas", "u", NULL };
  static const struct {
    const char *body;
    const char *error; /* NULL: fine */
  } cases[] = {
    { "{\"replicas\": 3}", NULL },
    { "{}", "“replicas”" },
    { "{\"replicas\": 3, \"force\": true}", "“force”" },
    { "{\"replicas\": \"3\"}", "“replicas”" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      GVariant *obj = orch_rest_object_from_json (cases[i].body, strlen (cases[i].body),
                                                  scale_types, &error);
      GVariant *args[2] = { NULL, NULL };
      gssize n = -1;

      g_test_message ("%s", cases[i].body);
      if (obj)
        {
          g_variant_ref_sink (obj);
          n = orch_rest_args_from_object (obj, scale_types, args, G_N_ELEMENTS (args), &error);
          g_variant_unref (obj);
        }
      if (cases[i].error == NULL)
        {
          g_assert_no_error (error);
          g_assert_cmpint (n, ==, 1);
          g_assert_cmpuint (g_variant_get_uint32 (args[0]), ==, 3);
          g_variant_unref (args[0]);
          continue;
        }
      g_assert_cmpint (n, ==, -1);
      g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, cases[i].error));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rest-body/nested-converted", test_nested_converted);
  g_test_add_func ("/rest-body/nested-errors", test_nested_errors);
  g_test_add_func ("/rest-body/args", test_args);
  return g_test_run ();
}
