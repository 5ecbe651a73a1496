/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Limits: SetLimits' argument, the cgroup and systemd forms of each limit,
 * and the controller check, without a daemon. */
#include "basic/orch-error.h"
#include "basic/orch-limits.h"

#include <string.h>

static gboolean
parse (const char *text, OrchLimits *out, GError **error)
{
  g_autoptr(GVariant) v = g_variant_ref_sink (g_variant_new_parsed (text));

  return orch_limits_from_variant (v, out, error);
}

static void
test_parse (void)
{
  g_autoptr(GError) error = NULL;
  OrchLimits l;

  g_assert_true (parse ("{'memory_max': <uint64 67108864>, 'cpu_quota': <0.2>,"
                        " 'io_weight': <uint32 0>}",
                        &l, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (l.mask, ==,
                    (1u << ORCH_LIMIT_MEMORY_MAX) | (1u << ORCH_LIMIT_CPU_QUOTA) |
                        (1u << ORCH_LIMIT_IO_WEIGHT));
  g_assert_cmpuint (l.value[ORCH_LIMIT_MEMORY_MAX], ==, 67108864);
  g_assert_cmpuint (l.value[ORCH_LIMIT_CPU_QUOTA], ==, 200000);
  g_assert_cmpuint (l.value[ORCH_LIMIT_IO_WEIGHT], ==, 0);
}

static void
test_parse_errors (void)
{
  static const struct {
    const char *text;
    const char *says;
  } cases[] = {
    { "@a{sv} {}", "no limit" },
    { "{'command': <['x']>}", "“command” is not a limit" },
    { "{'memory_max': <uint32 5>}", "type t" },
    { "{'memory_max': <uint64 5>}", "1048576" },
    { "{'cpu_weight': <uint32 10001>}", "10000" },
    { "{'cpu_quota': <-1.0>}", "0.01" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      OrchLimits l;

      g_assert_false (parse (cases[i].text, &l, &error));
      g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
      if (strstr (error->message, cases[i].says) == NULL)
        g_error ("%s: “%s” does not say “%s”", cases[i].text, error->message, cases[i].says);
    }
}

static void
test_apply (void)
{
  g_autoptr(OrchSpec) spec = orch_spec_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) back = NULL;
  g_autofree char *printed = NULL;
  OrchLimits l, all;

  spec->memory_max = 1 << 30;
  spec->tasks_max = 10;
  g_assert_true (parse ("{'memory_max': <uint64 0>, 'memory_high': <uint64 2097152>,"
                        " 'cpu_weight': <uint32 50>}",
                        &l, &error));
  orch_limits_apply (&l, spec);
  g_assert_cmpuint (spec->memory_max, ==, 0);
  g_assert_cmpuint (spec->memory_high, ==, 2097152);
  g_assert_cmpuint (spec->cpu_weight, ==, 50);
  g_assert_cmpuint (spec->tasks_max, ==, 10); /* not named: kept */

  orch_limits_set_in_spec (spec, &all);
  g_assert_cmpuint (all.mask, ==,
                    (1u << ORCH_LIMIT_MEMORY_HIGH) | (1u << ORCH_LIMIT_CPU_WEIGHT) |
                        (1u << ORCH_LIMIT_TASKS_MAX));
  back = g_variant_ref_sink (orch_limits_to_variant (&l));
  printed = g_variant_print (back, FALSE);
  g_assert_cmpstr (
      printed, ==,
      "{'memory_max': <uint64 0>, 'memory_high': <uint64 2097152>, 'cpu_weight': <uint32 50>}");
}

static void
test_cgroup_text (void)
{
  static const struct {
    OrchLimit l;
    guint64 v;
    const char *text;
  } cases[] = {
    { ORCH_LIMIT_MEMORY_MAX, 67108864, "67108864" },
    { ORCH_LIMIT_MEMORY_MAX, 0, "max" },
    { ORCH_LIMIT_MEMORY_HIGH, 0, "max" },
    { ORCH_LIMIT_CPU_QUOTA, 500000, "50000 100000" },
    { ORCH_LIMIT_CPU_QUOTA, 10000, "1000 100000" },
    { ORCH_LIMIT_CPU_QUOTA, 0, "max 100000" },
    { ORCH_LIMIT_CPU_WEIGHT, 0, "100" },
    { ORCH_LIMIT_CPU_WEIGHT, 300, "300" },
    { ORCH_LIMIT_TASKS_MAX, 32, "32" },
    { ORCH_LIMIT_IO_WEIGHT, 50, "default 50" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *t = orch_limit_cgroup_text (cases[i].l, cases[i].v);
      g_assert_cmpstr (t, ==, cases[i].text);
    }
  g_assert_cmpuint (orch_limit_systemd_value (ORCH_LIMIT_MEMORY_MAX, 0), ==, G_MAXUINT64);
  g_assert_cmpuint (orch_limit_systemd_value (ORCH_LIMIT_CPU_QUOTA, 200000), ==, 200000);
  g_assert_cmpstr (orch_limit_info (ORCH_LIMIT_CPU_QUOTA)->property, ==, "CPUQuotaPerSecUSec");
}

static void
test_missing_controller (void)
{
  const char *const v2[] = { "cpu", "memory", "pids", NULL };
  const char *const none[] = { NULL };
  OrchLimits l = { .mask = (1u << ORCH_LIMIT_TASKS_MAX) | (1u << ORCH_LIMIT_IO_WEIGHT) };

  /* The first one missing is named, whatever the order given. */
  g_assert_cmpint (orch_limits_missing_controller (&l, v2), ==, ORCH_LIMIT_IO_WEIGHT);
  g_assert_cmpint (orch_limits_missing_controller (&l, none), ==, ORCH_LIMIT_TASKS_MAX);
  g_assert_cmpint (orch_limits_missing_controller (&l, NULL), ==, ORCH_LIMIT_TASKS_MAX);
  l.mask = 1u << ORCH_LIMIT_MEMORY_HIGH;
  g_assert_cmpint (orch_limits_missing_controller (&l, v2), ==, -1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/limits/parse", test_parse);
  g_test_add_func ("/limits/parse-errors", test_parse_errors);
  g_test_add_func ("/limits/apply", test_apply);
  g_test_add_func ("/limits/cgroup-text", test_cgroup_text);
  g_test_add_func ("/limits/missing-controller", test_missing_controller);
  return g_test_run ();
}
