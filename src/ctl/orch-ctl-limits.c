/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* set-limits: org.orchestrator.Jobs.SetLimits. */
#include "config.h"

#include "orch-ctl.h"
#include "orch-ctl-units.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

/* "max", "none" and "0" remove a limit (SetLimits' 0). */
static gboolean
is_unlimited (const char *value)
{
  return strcmp (value, "max") == 0 || strcmp (value, "none") == 0 || strcmp (value, "0") == 0;
}

static int
bad_value (const char *option, const char *value, const char *example)
{
  return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, _("--%s: “%s” is not valid (for example: %s)"), option,
                        value, example);
}

static gboolean
add_size (GVariantBuilder *b, const char *key, const char *option, const char *value,
          int *exit_code)
{
  guint64 bytes = 0;

  if (value == NULL)
    return TRUE;
  if (!is_unlimited (value) && !orch_ctl_parse_size (value, &bytes))
    {
      *exit_code = bad_value (option, value, "512M, 1.5G, max");
      return FALSE;
    }
  g_variant_builder_add (b, "{sv}", key, g_variant_new_uint64 (bytes));
  return TRUE;
}

static gboolean
add_count (GVariantBuilder *b, const char *key, const char *option, const char *value,
           int *exit_code)
{
  guint64 n = 0;

  if (value == NULL)
    return TRUE;
  if (!is_unlimited (value) && !g_ascii_string_to_unsigned (value, 10, 1, G_MAXUINT32, &n, NULL))
    {
      *exit_code = bad_value (option, value, "100, max");
      return FALSE;
    }
  g_variant_builder_add (b, "{sv}", key, g_variant_new_uint32 ((guint32) n));
  return TRUE;
}

/* The limits in force, one line: what the record says after the call. */
static void
print_limits (GVariant *rec)
{
  static const char *const keys[] = { "memory_max", "memory_high", "cpu_quota",
                                      "cpu_weight", "tasks_max",   "io_weight" };
  GString *line = g_string_new (orch_ctl_rec_str (rec, "id"));

  g_string_append_c (line, ':');
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autoptr(GVariant) v = g_variant_lookup_value (rec, keys[i], NULL);
      if (v == NULL)
        continue;
      if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64))
        {
          g_autofree char *size = orch_ctl_format_size (g_variant_get_uint64 (v));
          g_string_append_printf (line, " %s=%s", keys[i], size);
        }
      else if (g_variant_is_of_type (v, G_VARIANT_TYPE_DOUBLE))
        g_string_append_printf (line, " %s=%g", keys[i], g_variant_get_double (v));
      else
        g_string_append_printf (line, " %s=%u", keys[i], g_variant_get_uint32 (v));
    }
  if (line->len == strlen (orch_ctl_rec_str (rec, "id")) + 1)
    g_string_append_printf (line, " %s", _("no limits"));
  g_print ("%s\n", line->str);
  g_string_free (line, TRUE);
}

int
orch_ctl_cmd_set_limits (OrchCtl *ctl, int argc, char **argv)
{
  g_autofree char *memory_max = NULL, *memory_high = NULL, *cpu_quota = NULL;
  g_autofree char *cpu_weight = NULL, *tasks_max = NULL, *io_weight = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "memory-max", 'm', 0, G_OPTION_ARG_STRING, &memory_max,
      N_("Memory limit (512M, 1.5G; max: none)"), N_("SIZE") },
    { "memory-high", 0, 0, G_OPTION_ARG_STRING, &memory_high,
      N_("Memory use above which the job is throttled (max: none)"), N_("SIZE") },
    { "cpu-quota", 'c', 0, G_OPTION_ARG_STRING, &cpu_quota,
      N_("CPU limit in cores (0.5) or percent of one core (50%); max: none"), N_("CORES") },
    { "cpu-weight", 0, 0, G_OPTION_ARG_STRING, &cpu_weight,
      N_("CPU share, 1 to 10000 (max: the default, 100)"), N_("N") },
    { "tasks-max", 0, 0, G_OPTION_ARG_STRING, &tasks_max,
      N_("Limit on processes and threads (max: none)"), N_("N") },
    { "io-weight", 0, 0, G_OPTION_ARG_STRING, &io_weight,
      N_("I/O share, 1 to 10000 (max: the default, 100)"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the job's record as JSON"), NULL },
    { NULL }
  };
  g_auto(GVariantBuilder) limits = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) rec = NULL;
  int exit_code = ORCH_CTL_EXIT_OK;

  if (!orch_ctl_parse (
          ctl, "set-limits", _("ID"),
          _("Change the limits of a job, running or not; they stay for its later runs."), entries,
          FALSE, &argc, &argv, &exit_code) ||
      !orch_ctl_want_args (argc, argv, 1, "set-limits", &exit_code))
    return exit_code;
  if (!add_size (&limits, "memory_max", "memory-max", memory_max, &exit_code) ||
      !add_size (&limits, "memory_high", "memory-high", memory_high, &exit_code) ||
      !add_count (&limits, "cpu_weight", "cpu-weight", cpu_weight, &exit_code) ||
      !add_count (&limits, "tasks_max", "tasks-max", tasks_max, &exit_code) ||
      !add_count (&limits, "io_weight", "io-weight", io_weight, &exit_code))
    return exit_code;
  if (cpu_quota)
    {
      double cores = 0;
      if (!is_unlimited (cpu_quota) && !orch_ctl_parse_cores (cpu_quota, &cores))
        return bad_value ("cpu-quota", cpu_quota, "0.5, 2, 150%, max");
      g_variant_builder_add (&limits, "{sv}", "cpu_quota", g_variant_new_double (cores));
    }
  if (!memory_max && !memory_high && !cpu_quota && !cpu_weight && !tasks_max && !io_weight)
    return orch_ctl_fail (ORCH_CTL_EXIT_USAGE,
                          _("set-limits: give at least one limit (--memory-max, --cpu-quota, …)"));
  reply = orch_ctl_call (ctl, "Jobs", "SetLimits",
                         g_variant_new ("(s@a{sv})", argv[1], g_variant_builder_end (&limits)),
                         "(a{sv})", &exit_code);
  if (reply == NULL)
    return exit_code;
  rec = g_variant_get_child_value (reply, 0);
  if (json)
    orch_ctl_print_json (rec);
  else
    print_limits (rec);
  return ORCH_CTL_EXIT_OK;
}
