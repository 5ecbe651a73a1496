/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GetJobForecast, GetSystemForecast, GetRecommendation: the history as
 * the sampler serves it, resampled onto an even grid, handed to
 * orch-forecast / orch-recommend. */
#include "config.h"

#include "orch-forecaster.h"
#include "basic/orch-error.h"
#include "basic/orch-forecast.h"
#include "basic/orch-recommend.h"
#include "basic/orch-vardict.h"

#include <glib/gi18n.h>
#include <math.h>

#define DEFAULT_HORIZON_S 3600
#define MAX_HORIZON_S (7 * 24 * 3600)
/* Points fitted at least, and at most (the newest kept). */
#define MIN_FIT_POINTS 32
#define MAX_FIT_POINTS 2048
/* How far past the horizon the exhaustion time is looked for. */
#define EXHAUSTION_SEARCH_S (24 * 3600)
#define MAX_PATH 20000
#define MAX_POINTS 1440 /* a day by the minute */
#define WARN_BEFORE_S 600

typedef struct {
  GArray *t; /* gint64 */
  GArray *v; /* double */
} Series;

static void
series_clear (Series *s)
{
  g_clear_pointer (&s->t, g_array_unref);
  g_clear_pointer (&s->v, g_array_unref);
}

/* Column @key of history rows (aa{sv}), rows without it skipped. */
static void
series_from_rows (GVariant *rows, const char *key, Series *out)
{
  GVariantIter it;
  GVariant *row;

  out->t = g_array_new (FALSE, FALSE, sizeof (gint64));
  out->v = g_array_new (FALSE, FALSE, sizeof (double));
  g_variant_iter_init (&it, rows);
  while ((row = g_variant_iter_next_value (&it)))
    {
      guint64 ts;
      double v;

      if (g_variant_lookup (row, "timestamp", "t", &ts) && g_variant_lookup (row, key, "d", &v))
        {
          gint64 t = (gint64) ts;

          g_array_append_val (out->t, t);
          g_array_append_val (out->v, v);
        }
      g_variant_unref (row);
    }
}

typedef struct {
  guint32 horizon_s, step_s;
  guint64 memory_limit; /* 0: the job's or the host's */
} Options;

static gboolean
parse_options (GVariant *options, guint interval_ms, Options *o, GError **error)
{
  o->horizon_s = DEFAULT_HORIZON_S;
  o->step_s = 0;
  o->memory_limit = 0;
  if (!orch_vardict_check (
          options, _("option"),
          (const char *const[]){ "horizon_s", "u", "step_s", "u", "memory_limit", "t", NULL },
          error))
    return FALSE;
  if (options)
    {
      g_variant_lookup (options, "horizon_s", "u", &o->horizon_s);
      g_variant_lookup (options, "step_s", "u", &o->step_s);
      g_variant_lookup (options, "memory_limit", "t", &o->memory_limit);
    }
  if (o->horizon_s == 0 || o->horizon_s > MAX_HORIZON_S)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("option “%s”: must be between 1 and %u seconds"), "horizon_s", MAX_HORIZON_S);
      return FALSE;
    }
  /* The step is a resolution, not a contract: it is brought within what
   * the horizon and the reply's size allow (MAX_POINTS points, the rest
   * of a week at one second would be 29 MB), and the reply says the step
   * used. */
  if (o->step_s == 0)
    o->step_s = MAX (o->horizon_s / 60, 1);
  o->step_s = MAX (o->step_s, (interval_ms + 999) / 1000);
  o->step_s = MAX (o->step_s, (o->horizon_s + MAX_POINTS - 1) / MAX_POINTS);
  o->step_s = MIN (o->step_s, o->horizon_s);
  return TRUE;
}

typedef struct {
  OrchForecastFit fit;
  OrchForecastPath path; /* at fit_step_us, far enough for the exhaustion search */
  gint64 last_us, fit_step_us, first_us;
  guint n_fit, horizon_steps;
} SeriesForecast;

/* Fits @raw on a grid of its own: the output step, or finer when that
 * leaves fewer than MIN_FIT_POINTS, never finer than the sample interval. */
static gboolean
forecast_series (const Series *raw, const Options *o, guint interval_ms, SeriesForecast *f,
                 GError **error)
{
  const gint64 *t = (const gint64 *) raw->t->data;
  gint64 span, step, min_step = MAX ((gint64) interval_ms * 1000, G_USEC_PER_SEC / 10);
  guint n_grid, n_path;
  g_autofree double *grid = NULL;

  if (raw->t->len < 2 || t[raw->t->len - 1] <= t[0])
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_STATE,
                   _("not enough history to forecast yet: %u samples, at least 2 needed"),
                   raw->t->len);
      return FALSE;
    }
  span = t[raw->t->len - 1] - t[0];
  step = (gint64) o->step_s * G_USEC_PER_SEC;
  if (span / step < MIN_FIT_POINTS)
    step = MAX (span / MIN_FIT_POINTS, min_step);
  /* The newest MAX_FIT_POINTS grid points. */
  n_grid = (guint) MIN (span / step + 1, MAX_FIT_POINTS);
  f->last_us = t[raw->t->len - 1];
  f->first_us = f->last_us - (gint64) (n_grid - 1) * step;
  f->fit_step_us = step;
  grid = g_new (double, n_grid);
  f->n_fit = orch_forecast_resample (t, (const double *) raw->v->data, raw->t->len, f->first_us,
                                     step, grid, n_grid);
  f->horizon_steps = (guint) MIN ((gint64) o->horizon_s * G_USEC_PER_SEC / step + 1, MAX_PATH);
  n_path = (guint) MIN (
      (gint64) MAX (o->horizon_s, EXHAUSTION_SEARCH_S) * G_USEC_PER_SEC / step + 1, MAX_PATH);
  orch_forecast_path_init (&f->path, n_path);
  orch_forecast_auto (grid, f->n_fit, f->horizon_steps, &f->fit, &f->path);
  return TRUE;
}

static GVariant *
doubles (const double *v, guint n)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, v, n, sizeof (double));
}

/* The a{sv} of one metric: points every step_s up to the horizon. */
static GVariant *
series_dict (const SeriesForecast *f, const Options *o, gboolean nonneg)
{
  guint n = o->horizon_s / o->step_s;
  g_autofree double *buf = g_new (double, 5 * (gsize) MAX (n, 1));
  g_autofree guint64 *times = g_new (guint64, MAX (n, 1));
  const double *src[5] = { f->path.mean, f->path.lo80, f->path.hi80, f->path.lo95, f->path.hi95 };
  static const char *const keys[5] = { "predicted", "lower_80", "upper_80", "lower_95",
                                       "upper_95" };
  GVariantBuilder b;

  for (guint k = 1; k <= n; k++)
    {
      gint64 dt = (gint64) k * o->step_s * G_USEC_PER_SEC;
      /* The fit grid's point nearest to this time (1-based step). */
      gint64 idx = CLAMP ((dt + f->fit_step_us / 2) / f->fit_step_us, 1, (gint64) f->path.h);

      times[k - 1] = (guint64) (f->last_us + dt);
      for (guint j = 0; j < 5; j++)
        buf[j * n + k - 1] = nonneg ? MAX (src[j][idx - 1], 0.0) : src[j][idx - 1];
    }
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "method",
                         g_variant_new_string (orch_forecast_method_name (f->fit.method)));
  g_variant_builder_add (
      &b, "{sv}", "period_s",
      g_variant_new_double ((double) f->fit.period * f->fit_step_us / G_USEC_PER_SEC));
  if (!isnan (f->fit.mase))
    g_variant_builder_add (&b, "{sv}", "backtest_mase", g_variant_new_double (f->fit.mase));
  g_variant_builder_add (&b, "{sv}", "history_start", g_variant_new_uint64 ((guint64) f->first_us));
  g_variant_builder_add (&b, "{sv}", "history_end", g_variant_new_uint64 ((guint64) f->last_us));
  g_variant_builder_add (&b, "{sv}", "history_points", g_variant_new_uint32 (f->n_fit));
  g_variant_builder_add (&b, "{sv}", "fit_step_s",
                         g_variant_new_double ((double) f->fit_step_us / G_USEC_PER_SEC));
  g_variant_builder_add (
      &b, "{sv}", "timestamps",
      g_variant_new_fixed_array (G_VARIANT_TYPE_UINT64, times, n, sizeof (guint64)));
  for (guint j = 0; j < 5; j++)
    g_variant_builder_add (&b, "{sv}", keys[j], doubles (buf + j * n, n));
  return g_variant_builder_end (&b);
}

/* memory_exhaustion_*: when the forecast reaches @limit. */
static void
add_exhaustion (GVariantBuilder *b, const SeriesForecast *f, double limit, const char *source,
                const char *id)
{
  guint cross, early, hend = MIN (f->horizon_steps, f->path.h);
  double confidence;

  if (!(limit > 0))
    return;
  g_variant_builder_add (b, "{sv}", "memory_limit", g_variant_new_uint64 ((guint64) limit));
  g_variant_builder_add (b, "{sv}", "memory_limit_source", g_variant_new_string (source));
  cross = orch_forecast_first_crossing (f->path.mean, f->path.h, limit);
  early = orch_forecast_first_crossing (f->path.hi95, f->path.h, limit);
  /* How likely the limit is reached within the horizon, by the model's
   * normal predictive distribution at the horizon's end. */
  confidence = orch_forecast_prob_above (f->path.mean[hend - 1], f->path.sd[hend - 1], limit);
  g_variant_builder_add (b, "{sv}", "memory_exhaustion_confidence",
                         g_variant_new_double (confidence));
  if (cross)
    g_variant_builder_add (b, "{sv}", "memory_exhaustion_at",
                           g_variant_new_uint64 ((guint64) (f->last_us + cross * f->fit_step_us)));
  if (early)
    g_variant_builder_add (b, "{sv}", "memory_exhaustion_earliest",
                           g_variant_new_uint64 ((guint64) (f->last_us + early * f->fit_step_us)));
  if (id && cross && (gint64) cross * f->fit_step_us <= (gint64) WARN_BEFORE_S * G_USEC_PER_SEC)
    orch_forecaster_warn_hook (id, f->last_us + cross * f->fit_step_us, confidence);
}

void
orch_forecaster_warn_hook (const char *id, gint64 exhaustion_at_us, double confidence)
{
  /* The events issue's emitter goes here. */
  g_debug ("job %s: memory limit forecast to be reached at %" G_GINT64_FORMAT " (p=%.2f)", id,
           exhaustion_at_us, confidence);
}

static double
system_figure (OrchSampler *s, const char *key)
{
  g_autoptr(GVariant) sys = g_variant_ref_sink (orch_sampler_get_system (s));
  guint64 v = 0;

  g_variant_lookup (sys, key, "t", &v);
  return (double) v;
}

static GVariant *
forecast (OrchSampler *s, GVariant *rows, const char *mem_key, double limit, const char *source,
          const char *id, GVariant *options, GError **error)
{
  Options o;
  Series cpu = { 0 }, mem = { 0 };
  SeriesForecast fc = { 0 }, fm = { 0 };
  GVariantBuilder b;
  GVariant *ret = NULL;
  guint interval = orch_sampler_interval_ms (s);

  if (!parse_options (options, interval, &o, error))
    return NULL;
  series_from_rows (rows, "cpu_percent", &cpu);
  series_from_rows (rows, mem_key, &mem);
  if (forecast_series (&cpu, &o, interval, &fc, error) &&
      forecast_series (&mem, &o, interval, &fm, error))
    {
      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      if (id)
        g_variant_builder_add (&b, "{sv}", "id", g_variant_new_string (id));
      g_variant_builder_add (&b, "{sv}", "horizon_s", g_variant_new_uint32 (o.horizon_s));
      g_variant_builder_add (&b, "{sv}", "step_s", g_variant_new_uint32 (o.step_s));
      g_variant_builder_add (&b, "{sv}", "cpu_percent", series_dict (&fc, &o, TRUE));
      g_variant_builder_add (&b, "{sv}", "memory_bytes", series_dict (&fm, &o, TRUE));
      /* A limit asked for: "when would it reach this?" */
      if (o.memory_limit > 0)
        add_exhaustion (&b, &fm, (double) o.memory_limit, "option", id);
      else
        add_exhaustion (&b, &fm, limit, source, id);
      ret = g_variant_builder_end (&b);
    }
  orch_forecast_path_clear (&fc.path);
  orch_forecast_path_clear (&fm.path);
  series_clear (&cpu);
  series_clear (&mem);
  return ret;
}

static GVariant *
empty_options (void)
{
  return g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
}

GVariant *
orch_forecaster_job (OrchSampler *s, OrchManager *m, const char *id, GVariant *options,
                     GError **error)
{
  OrchJob *job = orch_manager_lookup (m, id, error);
  g_autoptr(GVariant) none = empty_options ();
  g_autoptr(GVariant) rows = NULL;
  double limit;
  const char *source;

  if (job == NULL)
    return NULL;
  rows = orch_sampler_get_job_history (s, id, none, error);
  if (rows == NULL)
    return NULL;
  g_variant_ref_sink (rows);
  if (job->spec->memory_max > 0)
    {
      limit = (double) job->spec->memory_max;
      source = "memory_max";
    }
  else
    {
      /* No limit of its own: what it has plus what the host has free. */
      limit = job->memory_bytes + system_figure (s, "memory_available");
      source = "host_available";
    }
  return forecast (s, rows, "memory_bytes", limit, source, id, options, error);
}

GVariant *
orch_forecaster_system (OrchSampler *s, GVariant *options, GError **error)
{
  g_autoptr(GVariant) none = empty_options ();
  g_autoptr(GVariant) rows = orch_sampler_get_system_history (s, none, error);
  double limit = system_figure (s, "memory_used") + system_figure (s, "memory_available");

  if (rows == NULL)
    return NULL;
  g_variant_ref_sink (rows);
  return forecast (s, rows, "memory_used", limit, "memory_available", NULL, options, error);
}

/* Recommendations */

static void
add_samples (OrchSampler *s, const char *id, GArray *out)
{
  g_autoptr(GVariant) none = empty_options ();
  g_autoptr(GVariant) rows = orch_sampler_get_job_history (s, id, none, NULL);
  GVariantIter it;
  GVariant *row;

  if (rows == NULL)
    return;
  g_variant_ref_sink (rows);
  g_variant_iter_init (&it, rows);
  while ((row = g_variant_iter_next_value (&it)))
    {
      guint64 ts = 0;
      OrchUsageSample u = { 0, NAN, NAN };

      g_variant_lookup (row, "timestamp", "t", &ts);
      u.t_us = (gint64) ts;
      g_variant_lookup (row, "cpu_percent", "d", &u.cpu_percent);
      g_variant_lookup (row, "memory_bytes", "d", &u.memory_bytes);
      g_array_append_val (out, u);
      g_variant_unref (row);
    }
}

static void
add_reason (GVariantBuilder *b, const char *key, char *text /* owned */)
{
  g_variant_builder_add_value (
      b, g_variant_new_dict_entry (g_variant_new_string (key), g_variant_new_take_string (text)));
}

GVariant *
orch_forecaster_recommend (OrchSampler *s, OrchManager *m, const char *id, GError **error)
{
  OrchJob *job = orch_manager_lookup (m, id, error);
  g_autoptr(GArray) samples = g_array_new (FALSE, FALSE, sizeof (OrchUsageSample));
  g_autoptr(GPtrArray) same = NULL;
  OrchRecommendOptions opts = ORCH_RECOMMEND_OPTIONS_VPA;
  OrchRecommendation r;
  GVariantBuilder b, reasons;
  guint runs = 1;
  g_autofree char *span = NULL;

  if (job == NULL)
    return NULL;
  add_samples (s, id, samples);
  if (job->spec->name && job->spec->name[0])
    {
      same = orch_manager_list (m, NULL, job->spec->name, NULL);
      for (guint i = 0; same && i < same->len; i++)
        {
          OrchJob *o = same->pdata[i];

          if (g_strcmp0 (o->id, id) != 0)
            {
              guint before = samples->len;

              add_samples (s, o->id, samples);
              runs += samples->len > before;
            }
        }
    }
  /* Our history is a day at most: memory peaks per 5 minutes rather than
   * VPA's 24 h, so the percentile has windows to choose among. */
  opts.peak_window_s = 300;
  if (!orch_recommend ((OrchUsageSample *) samples->data, samples->len, g_get_real_time (), &opts,
                       &r))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_STATE,
                   _("no usage history for job %s yet: nothing to recommend from"), id);
      return NULL;
    }
  span = g_strdup_printf ("%u samples of %u run(s) over %.0f s", r.n_samples, runs,
                          (double) (r.last_us - r.first_us) / G_USEC_PER_SEC);
  g_variant_builder_init (&reasons, G_VARIANT_TYPE ("a{ss}"));
  add_reason (&reasons, "memory_max",
              g_strdup_printf (_ ("90th percentile of %u five-minute memory peaks "
                                  "(%.0f bytes) plus a 15 %% margin; %s"),
                               r.n_windows, r.memory_peak, span));
  add_reason (
      &reasons, "memory_high",
      g_strdup_printf (_("90th percentile of %u five-minute memory peaks; %s"), r.n_windows, span));
  add_reason (&reasons, "cpu_quota",
              g_strdup_printf (_ ("90th percentile of CPU use (%.3f cores) plus a 15 %% "
                                  "margin; %s"),
                               r.cpu_cores, span));
  add_reason (&reasons, "cpu_weight",
              g_strdup_printf (_ ("100 per core of the 90th percentile of CPU use "
                                  "(%.3f cores)"),
                               r.cpu_cores));
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "id", g_variant_new_string (id));
  g_variant_builder_add (&b, "{sv}", "memory_max", g_variant_new_uint64 (r.memory_max));
  g_variant_builder_add (&b, "{sv}", "memory_high", g_variant_new_uint64 (r.memory_high));
  g_variant_builder_add (&b, "{sv}", "cpu_quota", g_variant_new_double (r.cpu_quota));
  g_variant_builder_add (&b, "{sv}", "cpu_weight", g_variant_new_uint32 (r.cpu_weight));
  g_variant_builder_add (&b, "{sv}", "samples", g_variant_new_uint32 (r.n_samples));
  g_variant_builder_add (&b, "{sv}", "runs", g_variant_new_uint32 (runs));
  g_variant_builder_add (&b, "{sv}", "history_start", g_variant_new_uint64 ((guint64) r.first_us));
  g_variant_builder_add (&b, "{sv}", "history_end", g_variant_new_uint64 ((guint64) r.last_us));
  g_variant_builder_add (&b, "{sv}", "method", g_variant_new_string ("vpa-decaying-histogram"));
  g_variant_builder_add (&b, "{sv}", "reasons", g_variant_builder_end (&reasons));
  return g_variant_builder_end (&b);
}
