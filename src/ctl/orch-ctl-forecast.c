/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* forecast, recommend: Metrics.GetJobForecast / GetSystemForecast and
 * Jobs.GetRecommendation in human units. */
#include "config.h"

#include "orch-ctl.h"
#include "orch-ctl-units.h"

#include <glib/gi18n.h>
#include <string.h>

/* Rows shown by default: enough to see the shape. */
#define HUMAN_ROWS 12

static gboolean
parse_duration_s (const char *cmd, const char *opt, const char *text, guint32 *ret, int *exit_code)
{
  guint64 us;

  if (text == NULL)
    return TRUE;
  if (!orch_ctl_parse_duration (text, &us) || us < G_USEC_PER_SEC ||
      us / G_USEC_PER_SEC > G_MAXUINT32)
    {
      *exit_code = orch_ctl_fail (ORCH_CTL_EXIT_USAGE,
                                  _("%s: %s “%s” is not a duration of a second or more"), cmd, opt,
                                  text);
      return FALSE;
    }
  *ret = (guint32) (us / G_USEC_PER_SEC);
  return TRUE;
}

static GVariant *
fixed (GVariant *series, const char *key, const GVariantType *type, gsize size, gsize *n)
{
  GVariant *v = series ? g_variant_lookup_value (series, key, type) : NULL;

  *n = 0;
  if (v)
    g_variant_get_fixed_array (v, n, size);
  return v;
}

static char *
metric_line (GVariant *series)
{
  const char *method = "?";
  double mase = -1, period = 0, trend = 0;
  guint32 points = 0;
  guint64 start = 0, end = 0;
  g_autofree char *span = NULL;
  g_autofree char *per = NULL;
  g_autofree char *name = NULL;

  g_variant_lookup (series, "method", "&s", &method);
  /* Memory following a tested rising trend: the reason it climbs. */
  if (g_variant_lookup (series, "trend_per_s", "d", &trend) && trend > 0)
    {
      g_autofree char *rate = orch_ctl_format_size ((guint64) trend);

      method = name = g_strdup_printf (_("%s following a rising trend of %s/s"), method, rate);
    }
  g_variant_lookup (series, "backtest_mase", "d", &mase);
  g_variant_lookup (series, "period_s", "d", &period);
  g_variant_lookup (series, "history_points", "u", &points);
  g_variant_lookup (series, "history_start", "t", &start);
  g_variant_lookup (series, "history_end", "t", &end);
  span = orch_ctl_format_duration (end > start ? end - start : 0);
  per = period > 0 ? g_strdup_printf (_(", period %.3g s"), period) : g_strdup ("");
  if (mase >= 0)
    return g_strdup_printf (_("%s%s (backtest MASE %.2f), fitted on %u points over %s"), method,
                            per, mase, points, span);
  return g_strdup_printf (_("%s%s, fitted on %u points over %s"), method, per, points, span);
}

static void
print_forecast (OrchCtl *ctl, GVariant *fc)
{
  g_autoptr(GVariant) cpu = g_variant_lookup_value (fc, "cpu_percent", G_VARIANT_TYPE_VARDICT);
  g_autoptr(GVariant) mem = g_variant_lookup_value (fc, "memory_bytes", G_VARIANT_TYPE_VARDICT);
  g_autofree char *cpu_line = cpu ? metric_line (cpu) : g_strdup ("-");
  g_autofree char *mem_line = mem ? metric_line (mem) : g_strdup ("-");
  const char *headers[] = { _("TIME"), _("CPU"), _("CPU 80%"), _("MEMORY"), _("MEMORY 95%"), NULL };
  g_autoptr(OrchCtlTable) t = orch_ctl_table_new (ctl, headers);
  g_autoptr(GString) out = g_string_new (NULL);
  gsize nt, n[6];
  g_autoptr(GVariant) vt = fixed (cpu, "timestamps", G_VARIANT_TYPE ("at"), sizeof (guint64), &nt);
  g_autoptr(GVariant) c = fixed (cpu, "predicted", G_VARIANT_TYPE ("ad"), sizeof (double), &n[0]);
  g_autoptr(GVariant) clo = fixed (cpu, "lower_80", G_VARIANT_TYPE ("ad"), sizeof (double), &n[1]);
  g_autoptr(GVariant) chi = fixed (cpu, "upper_80", G_VARIANT_TYPE ("ad"), sizeof (double), &n[2]);
  g_autoptr(GVariant) m = fixed (mem, "predicted", G_VARIANT_TYPE ("ad"), sizeof (double), &n[3]);
  g_autoptr(GVariant) mlo = fixed (mem, "lower_95", G_VARIANT_TYPE ("ad"), sizeof (double), &n[4]);
  g_autoptr(GVariant) mhi = fixed (mem, "upper_95", G_VARIANT_TYPE ("ad"), sizeof (double), &n[5]);
  const guint64 *ts = vt ? g_variant_get_fixed_array (vt, &nt, sizeof (guint64)) : NULL;
  const double *a[6] = { NULL };
  GVariant *vs[6] = { c, clo, chi, m, mlo, mhi };
  gsize rows = nt, stride;
  guint64 limit = 0, at = 0, early = 0;
  double conf = 0;
  const char *source = NULL;

  for (guint i = 0; i < 6; i++)
    {
      a[i] = vs[i] ? g_variant_get_fixed_array (vs[i], &n[i], sizeof (double)) : NULL;
      rows = MIN (rows, a[i] ? n[i] : 0);
    }
  g_print (_("CPU:    %s\n"), cpu_line);
  g_print (_("Memory: %s\n"), mem_line);
  if (g_variant_lookup (fc, "memory_limit", "t", &limit) &&
      g_variant_lookup (fc, "memory_limit_source", "&s", &source))
    {
      g_autofree char *l = orch_ctl_format_size (limit);

      g_variant_lookup (fc, "memory_exhaustion_confidence", "d", &conf);
      if (g_variant_lookup (fc, "memory_exhaustion_at", "t", &at))
        {
          g_autofree char *when = orch_ctl_format_time (at);

          g_variant_lookup (fc, "memory_exhaustion_earliest", "t", &early);
          if (early)
            {
              g_autofree char *e = orch_ctl_format_time (early);
              g_print (
                  _("Memory reaches %s (%s) at %s, at the earliest %s; within the horizon: %.0f%%\n"),
                  l, source, when, e, 100 * conf);
            }
          else
            g_print (_("Memory reaches %s (%s) at %s; within the horizon: %.0f%%\n"), l, source,
                     when, 100 * conf);
        }
      else
        g_print (_("Memory is not forecast to reach %s (%s) within a day\n"), l, source);
    }
  stride = MAX (1, (rows + HUMAN_ROWS - 1) / HUMAN_ROWS);
  for (gsize i = stride - 1; i < rows; i += stride)
    {
      g_autofree char *tm = orch_ctl_format_time (ts[i]);
      g_autofree char *cp = g_strdup_printf ("%.1f%%", a[0][i]);
      g_autofree char *cr = g_strdup_printf ("%.1f–%.1f%%", MAX (a[1][i], 0), a[2][i]);
      g_autofree char *mp = orch_ctl_format_size ((guint64) MAX (a[3][i], 0));
      g_autofree char *ml = orch_ctl_format_size ((guint64) MAX (a[4][i], 0));
      g_autofree char *mh = orch_ctl_format_size ((guint64) MAX (a[5][i], 0));
      g_autofree char *mr = g_strdup_printf ("%s–%s", ml, mh);
      const char *cells[] = { tm, cp, cr, mp, mr, NULL };

      orch_ctl_table_add (t, cells, G_MAXUINT, NULL);
    }
  orch_ctl_table_align_right (t, 1);
  orch_ctl_table_align_right (t, 3);
  orch_ctl_table_print (t, out, 0);
  g_print ("%s", out->str);
}

int
orch_ctl_cmd_forecast (OrchCtl *ctl, int argc, char **argv)
{
  gboolean json = FALSE;
  g_autofree char *horizon = NULL, *step = NULL, *limit = NULL;
  const GOptionEntry entries[] = {
    { "horizon", 0, 0, G_OPTION_ARG_STRING, &horizon, N_("How far ahead (default 1h)"),
      N_("DURATION") },
    { "step", 0, 0, G_OPTION_ARG_STRING, &step, N_("Spacing of the points (default horizon/60)"),
      N_("DURATION") },
    { "memory-limit", 0, 0, G_OPTION_ARG_STRING, &limit, N_("When would memory reach this size"),
      N_("SIZE") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  GVariantBuilder opts;
  guint32 horizon_s = 0, step_s = 0;
  guint64 limit_bytes = 0;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) fc = NULL;
  int exit_code = ORCH_CTL_EXIT_OK;
  gboolean system;

  if (!orch_ctl_parse (ctl, "forecast", _("ID|GROUP|system"),
                       _("Forecast a job's, a job group's or the host's CPU and memory."), entries,
                       FALSE, &argc, &argv, &exit_code))
    return exit_code;
  if (!orch_ctl_want_args (argc, argv, 1, "forecast", &exit_code))
    return exit_code;
  if (!parse_duration_s ("forecast", "--horizon", horizon, &horizon_s, &exit_code) ||
      !parse_duration_s ("forecast", "--step", step, &step_s, &exit_code))
    return exit_code;
  if (limit && (!orch_ctl_parse_size (limit, &limit_bytes) || limit_bytes == 0))
    return orch_ctl_fail (ORCH_CTL_EXIT_USAGE, _("forecast: --memory-limit “%s” is not a size"),
                          limit);
  g_variant_builder_init (&opts, G_VARIANT_TYPE_VARDICT);
  if (limit_bytes)
    g_variant_builder_add (&opts, "{sv}", "memory_limit", g_variant_new_uint64 (limit_bytes));
  if (horizon_s)
    g_variant_builder_add (&opts, "{sv}", "horizon_s", g_variant_new_uint32 (horizon_s));
  if (step_s)
    g_variant_builder_add (&opts, "{sv}", "step_s", g_variant_new_uint32 (step_s));
  system = strcmp (argv[1], "system") == 0;
  if (system)
    reply = orch_ctl_call (ctl, "Metrics", "GetSystemForecast", g_variant_new ("(a{sv})", &opts),
                           "(a{sv})", &exit_code);
  else
    reply = orch_ctl_call (ctl, "Metrics", "GetJobForecast",
                           g_variant_new ("(sa{sv})", argv[1], &opts), "(a{sv})", &exit_code);
  if (reply == NULL)
    return exit_code;
  fc = g_variant_get_child_value (reply, 0);
  if (json)
    orch_ctl_print_json (fc);
  else
    print_forecast (ctl, fc);
  return ORCH_CTL_EXIT_OK;
}

/* --apply: the recommended values of @keys, all at once through
 * SetLimits, which gives a running job all of them or none.  Reported
 * on stderr, so that --json's stdout stays one document. */
static int
apply_recommendation (OrchCtl *ctl, const char *id, GVariant *rec, const char *const *keys)
{
  g_autoptr(GVariant) reply = NULL;
  GVariantBuilder limits;
  int exit_code = ORCH_CTL_EXIT_OK;

  g_variant_builder_init (&limits, G_VARIANT_TYPE_VARDICT);
  for (guint i = 0; keys[i]; i++)
    {
      g_autoptr(GVariant) v = g_variant_lookup_value (rec, keys[i], NULL);
      if (v)
        g_variant_builder_add (&limits, "{sv}", keys[i], v);
    }
  reply = orch_ctl_call (ctl, "Jobs", "SetLimits", g_variant_new ("(sa{sv})", id, &limits),
                         "(a{sv})", &exit_code);
  if (reply == NULL)
    return exit_code;
  g_printerr (_("Applied to %s.\n"), id);
  return ORCH_CTL_EXIT_OK;
}

/* A forecast's bound holds for an interval: say until when, so that it
 * is asked for again by then. */
static void
print_valid_until (GVariant *rec)
{
  guint64 until;
  g_autofree char *when = NULL;

  if (!g_variant_lookup (rec, "valid_until", "t", &until))
    return;
  when = orch_ctl_format_time (until);
  g_print (_("Memory values hold until %s: recommend again by then.\n"), when);
}

int
orch_ctl_cmd_recommend (OrchCtl *ctl, int argc, char **argv)
{
  gboolean json = FALSE, apply = FALSE;
  g_autofree char *interval = NULL;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "apply", 0, 0, G_OPTION_ARG_NONE, &apply,
      N_("Give the job these limits now (Jobs.SetLimits)"), NULL },
    { "interval", 0, 0, G_OPTION_ARG_STRING, &interval,
      N_("How long the memory limits must hold (default: the daemon's, 1h)"), N_("DURATION") },
    { NULL }
  };
  guint32 interval_s = 0;
  static const char *const keys[] = { "memory_max", "memory_high", "cpu_quota", "cpu_weight",
                                      NULL };
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) reasons = NULL;
  int exit_code = ORCH_CTL_EXIT_OK;

  if (!orch_ctl_parse (ctl, "recommend", _("ID"),
                       _("Recommend limits for a job from its usage history."), entries, FALSE,
                       &argc, &argv, &exit_code))
    return exit_code;
  if (!orch_ctl_want_args (argc, argv, 1, "recommend", &exit_code) ||
      !parse_duration_s ("recommend", "--interval", interval, &interval_s, &exit_code))
    return exit_code;
  /* GetRecommendation when no option is given: a daemon from before
   * GetRecommendationWith still answers. */
  if (interval_s)
    reply = orch_ctl_call (ctl, "Jobs", "GetRecommendationWith",
                           g_variant_new_parsed ("(%s, {'interval_s': <%u>})", argv[1], interval_s),
                           "(a{sv})", &exit_code);
  else
    reply = orch_ctl_call (ctl, "Jobs", "GetRecommendation", g_variant_new ("(s)", argv[1]),
                           "(a{sv})", &exit_code);
  if (reply == NULL)
    return exit_code;
  rec = g_variant_get_child_value (reply, 0);
  if (json)
    {
      orch_ctl_print_json (rec);
      return apply ? apply_recommendation (ctl, argv[1], rec, keys) : ORCH_CTL_EXIT_OK;
    }
  reasons = g_variant_lookup_value (rec, "reasons", G_VARIANT_TYPE ("a{ss}"));
  for (guint i = 0; keys[i]; i++)
    {
      g_autofree char *value = NULL;
      const char *why = "";

      if (g_str_has_prefix (keys[i], "memory"))
        value = orch_ctl_format_size (orch_ctl_rec_u64 (rec, keys[i]));
      else if (strcmp (keys[i], "cpu_quota") == 0)
        value = g_strdup_printf ("%.0f%%", 100 * orch_ctl_rec_double (rec, keys[i]));
      else
        value = g_strdup_printf ("%" G_GUINT64_FORMAT, orch_ctl_rec_u64 (rec, keys[i]));
      if (reasons)
        g_variant_lookup (reasons, keys[i], "&s", &why);
      g_print ("%-12s %-8s %s\n", keys[i], value, why);
    }
  print_valid_until (rec);
  return apply ? apply_recommendation (ctl, argv[1], rec, keys) : ORCH_CTL_EXIT_OK;
}
