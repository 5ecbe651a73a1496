/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GetJobForecast, GetSystemForecast, GetRecommendation: the history as
 * the sampler serves it, resampled onto an even grid, handed to
 * orch-forecast / orch-recommend. */
#include "config.h"

#include "orch-forecaster.h"
#include "basic/orch-error.h"
#include "basic/orch-forecast.h"
#include "basic/orch-recommend-ahead.h"
#include "basic/orch-recommend.h"
#include "basic/orch-vardict.h"

#include <string.h>

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

/* Column @key of history rows as the sampler's query left them, rows
 * where it is unknown (NaN, which the a{sv} rows leave out) skipped: the
 * same series series_from_rows() reads, with no GVariant between. */
static void
series_from_history (const OrchHistoryRows *rows, const char *key, Series *out)
{
  guint k;

  out->t = g_array_sized_new (FALSE, FALSE, sizeof (gint64), rows->n);
  out->v = g_array_sized_new (FALSE, FALSE, sizeof (double), rows->n);
  for (k = 0; k < rows->n_keys && strcmp (rows->keys[k], key) != 0; k++)
    ;
  if (k == rows->n_keys)
    return;
  for (guint i = 0; i < rows->n; i++)
    {
      double v = g_array_index (rows->values, double, i * rows->n_keys + k);

      if (isnan (v))
        continue;
      g_array_append_val (out->t, g_array_index (rows->times, gint64, i));
      g_array_append_val (out->v, v);
    }
}

typedef struct {
  guint32 horizon_s, step_s;
  guint64 memory_limit; /* 0: the job's or the host's */
  guint32 search_s;     /* how far the path goes (at least the horizon) */
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
  o->search_s = MAX (o->horizon_s, EXHAUSTION_SEARCH_S);
  return TRUE;
}

typedef struct {
  OrchForecastFit fit;
  OrchForecastPath path; /* at fit_step_us, far enough for the exhaustion search */
  gint64 last_us, fit_step_us, first_us;
  guint n_fit, horizon_steps;
} SeriesForecast;

/* Fits @raw on a grid of its own: the output step, or finer when that
 * leaves fewer than MIN_FIT_POINTS, never finer than the sample interval.
 * A memory series (@memory) follows a rising trend that stands out of
 * its last horizon: the smoother damps its trend per step, and at a
 * fine step a steady leak's forecast flattened within minutes, its
 * exhaustion coming late or not at all (orch_forecast_auto_memory()). */
static gboolean
forecast_series (const Series *raw, const Options *o, guint interval_ms, gboolean memory,
                 SeriesForecast *f, GError **error)
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
  n_path = (guint) MIN ((gint64) MAX (o->horizon_s, o->search_s) * G_USEC_PER_SEC / step + 1,
                        MAX_PATH);
  orch_forecast_path_init (&f->path, n_path);
  if (memory)
    orch_forecast_auto_memory (grid, f->n_fit, f->horizon_steps, &f->fit, &f->path);
  else
    orch_forecast_auto (grid, f->n_fit, f->horizon_steps, &f->fit, &f->path);
  return TRUE;
}

static GVariant *
doubles (const double *v, guint n)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, v, n, sizeof (double));
}

/* The followed trend's rise a second (0 when none is followed). */
static double
trend_per_s (const OrchForecastFit *fit, gint64 fit_step_us)
{
  return fit->trend_followed ? fit->trend_per_step * G_USEC_PER_SEC / (double) fit_step_us : 0.0;
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
  /* The path follows a tested rising line (orch_forecast_auto_memory()),
   * not the method's own trend: say so, and how steep. */
  if (f->fit.trend_followed)
    g_variant_builder_add (&b, "{sv}", "trend_per_s",
                           g_variant_new_double (trend_per_s (&f->fit, f->fit_step_us)));
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
add_exhaustion (GVariantBuilder *b, const SeriesForecast *f, double limit, const char *source)
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
}

/* A 't' figure of the system record, read from the plain fields: no
 * record built for one number (the warning asks once per job). */
static double
system_figure (OrchSampler *s, const char *key)
{
  OrchSampleField f[ORCH_SAMPLE_MAX_FIELDS];
  guint n = orch_sampler_system_fields (s, f);

  for (guint i = 0; i < n; i++)
    if (f[i].type == 't' && strcmp (f[i].key, key) == 0)
      return (double) f[i].v.t;
  return 0.0;
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
  if (forecast_series (&cpu, &o, interval, FALSE, &fc, error) &&
      forecast_series (&mem, &o, interval, TRUE, &fm, error))
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
        add_exhaustion (&b, &fm, (double) o.memory_limit, "option");
      else
        add_exhaustion (&b, &fm, limit, source);
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

/* The limit the job's memory runs into first: memory_high (reclaim and
 * throttling start there) before memory_max (the OOM killer); without
 * either, what it has plus what the host has free (@own FALSE). */
static double
job_limit (OrchSampler *s, const OrchJob *job, const char **source, gboolean *own)
{
  guint64 high = job->spec->memory_high, max = job->spec->memory_max;

  *own = TRUE;
  if (high > 0 && (max == 0 || high <= max))
    {
      *source = "memory_high";
      return (double) high;
    }
  if (max > 0)
    {
      *source = "memory_max";
      return (double) max;
    }
  *own = FALSE;
  *source = "host_available";
  return job->memory_bytes + system_figure (s, "memory_available");
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
  gboolean own;

  if (job == NULL)
    return NULL;
  rows = orch_sampler_get_job_history (s, id, none, error);
  if (rows == NULL)
    return NULL;
  g_variant_ref_sink (rows);
  limit = job_limit (s, job, &source, &own);
  return forecast (s, rows, "memory_bytes", limit, source, id, options, error);
}

/* Group forecasts: the members' rows summed per sample tick. */

typedef struct {
  gint64 t;
  double cpu, mem;
} SumRow;

static void
sum_rows (GHashTable *sums, GVariant *rows, gint64 tick_us)
{
  GVariantIter it;
  GVariant *row;

  g_variant_iter_init (&it, rows);
  while ((row = g_variant_iter_next_value (&it)))
    {
      guint64 ts;
      double cpu = 0, mem = 0;

      if (g_variant_lookup (row, "timestamp", "t", &ts))
        {
          /* Members are sampled on the same tick: their timestamps agree
           * to within a tick, so one key per tick. */
          gint64 key = ((gint64) ts + tick_us / 2) / tick_us;
          SumRow *r = g_hash_table_lookup (sums, &key);

          if (r == NULL)
            {
              r = g_new0 (SumRow, 1);
              r->t = key;
              g_hash_table_insert (sums, &r->t, r);
            }
          g_variant_lookup (row, "cpu_percent", "d", &cpu);
          g_variant_lookup (row, "memory_bytes", "d", &mem);
          r->cpu += cpu;
          r->mem += mem;
        }
      g_variant_unref (row);
    }
}

static int
cmp_sum_row (gconstpointer a, gconstpointer b)
{
  gint64 x = (*(SumRow *const *) a)->t, y = (*(SumRow *const *) b)->t;

  return x < y ? -1 : x > y;
}

GVariant *
orch_forecaster_group (OrchSampler *s, OrchManager *m, OrchGroups *groups, const char *id,
                       GVariant *options, GError **error)
{
  g_autoptr(GVariant) none = empty_options ();
  g_autoptr(GPtrArray) jobs = NULL;
  g_autoptr(GHashTable) sums = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_free);
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  gint64 tick_us = MAX ((gint64) orch_sampler_interval_ms (s) * 1000, 1);
  double limit = 0, used = 0;
  gboolean all_own = TRUE;
  guint live = 0;
  GVariantBuilder b;
  GHashTableIter hi;
  gpointer v;
  g_autoptr(GVariant) rows = NULL;

  if (!orch_groups_exists (groups, id))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_NOT_FOUND, _("no job group %s"), id);
      return NULL;
    }
  jobs = orch_manager_list (m, NULL, NULL, error);
  if (jobs == NULL)
    return NULL;
  for (guint i = 0; i < jobs->len; i++)
    {
      OrchJob *job = jobs->pdata[i];
      g_autoptr(GVariant) jrows = NULL;

      if (g_strcmp0 (job->spec->group_id, id) != 0)
        continue;
      jrows = orch_sampler_get_job_history (s, job->id, none, NULL);
      if (jrows)
        sum_rows (sums, g_variant_ref_sink (jrows), tick_us);
      if (orch_job_state_is_active (job->state))
        {
          const char *source;
          gboolean own;

          limit += job_limit (s, job, &source, &own);
          used += job->memory_bytes;
          all_own = all_own && own;
          live++;
        }
    }
  g_hash_table_iter_init (&hi, sums);
  while (g_hash_table_iter_next (&hi, NULL, &v))
    g_ptr_array_add (sorted, v);
  g_ptr_array_sort (sorted, cmp_sum_row);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < sorted->len; i++)
    {
      SumRow *r = sorted->pdata[i];

      g_variant_builder_add_parsed (&b,
                                    "{'timestamp': <%t>, 'cpu_percent': <%d>, "
                                    "'memory_bytes': <%d>}",
                                    (guint64) (r->t * tick_us), r->cpu, r->mem);
    }
  rows = g_variant_ref_sink (g_variant_builder_end (&b));
  /* The members' own limits summed when each live one has one; otherwise
   * what the group has plus what the host has free. */
  if (live == 0 || !all_own)
    limit = used + system_figure (s, "memory_available");
  return forecast (s, rows, "memory_bytes", limit, live && all_own ? "members" : "host_available",
                   id, options, error);
}

/* The proactive warning's question, memory only and no further ahead
 * than asked: when does the job reach its limit? */
gboolean
orch_forecaster_memory_outlook (OrchSampler *s, OrchManager *m, const char *id, guint32 horizon_s,
                                guint min_samples, OrchMemoryOutlook *out, GError **error)
{
  OrchJob *job = orch_manager_lookup (m, id, error);
  g_autoptr(GVariant) query = NULL;
  OrchHistoryRows rows;
  GVariantBuilder qb;
  guint interval = orch_sampler_interval_ms (s);
  Series mem = { 0 };
  SeriesForecast fm = { 0 };
  Options o = { 0 };
  gboolean ok = FALSE;
  guint cross;
  gint64 now = g_get_real_time (), window_s, age_s;
  guint32 row_step_s;

  memset (out, 0, sizeof *out);
  if (job == NULL)
    return FALSE;
  o.horizon_s = MIN (horizon_s, MAX_HORIZON_S);
  o.step_s = MAX (MAX (o.horizon_s / 60, (interval + 999) / 1000), 1);
  o.search_s = o.horizon_s;
  /* Bounded work per job, whatever its age: the last six horizons, rows
   * averaged by the ring to about the fit's step (at least 32 of them),
   * rather than every sample of the day. */
  window_s = 6 * (gint64) o.horizon_s;
  age_s = job->started_at > 0 ? MAX ((now - job->started_at) / G_USEC_PER_SEC, 0) : window_s;
  row_step_s = (guint32) MIN ((gint64) o.step_s, MIN (age_s, window_s) / 32);
  /* Asked of every running job each round: rows as the ring gives
   * them, with no a{sv} per row built and looked up again. */
  g_variant_builder_init (&qb, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&qb, "{sv}", "since",
                         g_variant_new_uint64 ((guint64) MAX (now - window_s * G_USEC_PER_SEC, 0)));
  g_variant_builder_add (&qb, "{sv}", "step_s", g_variant_new_uint32 (row_step_s));
  query = g_variant_ref_sink (g_variant_builder_end (&qb));
  if (!orch_sampler_query_job_history (s, id, query, &rows, error))
    return FALSE;
  out->limit = job_limit (s, job, &out->limit_source, &out->own_limit);
  series_from_history (&rows, "memory_bytes", &mem);
  orch_history_rows_clear (&rows);
  out->samples = mem.t->len;
  /* Too young to say: fewer samples taken than @min_samples. */
  if (age_s * 1000 < (gint64) min_samples * interval)
    out->samples = 0;
  if (out->samples >= MAX (min_samples, 2) &&
      forecast_series (&mem, &o, interval, TRUE, &fm, error))
    {
      out->memory_bytes = g_array_index (mem.v, double, mem.v->len - 1);
      out->method = orch_forecast_method_name (fm.fit.method);
      out->trend_per_s = trend_per_s (&fm.fit, fm.fit_step_us);
      out->searched_s = (double) MIN (fm.horizon_steps, fm.path.h) * fm.fit_step_us /
                        G_USEC_PER_SEC;
      cross = orch_forecast_first_crossing (fm.path.mean, MIN (fm.horizon_steps, fm.path.h),
                                            out->limit);
      if (cross)
        {
          /* As GetJobForecast's: over the limit at the horizon's end. */
          guint hend = MIN (fm.horizon_steps, fm.path.h) - 1;

          out->exhaustion_at = fm.last_us + (gint64) cross * fm.fit_step_us;
          out->confidence = orch_forecast_prob_above (fm.path.mean[hend], fm.path.sd[hend],
                                                      out->limit);
        }
      ok = TRUE;
    }
  else if (out->samples < MAX (min_samples, 2))
    g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_STATE,
                 _("not enough history to forecast yet: %u samples, at least %u needed"),
                 out->samples, MAX (min_samples, 2));
  orch_forecast_path_clear (&fm.path);
  series_clear (&mem);
  return ok;
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

/* The reasons of a time-bound recommendation's memory values. */
static void
add_bounded_reasons (GVariantBuilder *reasons, const OrchRecommendAhead *a, double interval_s,
                     guint prior_runs, const char *span)
{
  g_autofree char *floor = prior_runs > 0
                               ? g_strdup_printf (_ ("; at least what %u earlier run(s) of the "
                                                     "same name were recommended"),
                                                  prior_runs)
                               : g_strdup ("");

  if (a->trend_followed)
    add_reason (reasons, "memory_max",
                g_strdup_printf (_ ("the usage's trend over the last %.0f s (%.0f bytes/s), "
                                    "carried over the next %.0f s plus %.2f prediction sd (a 1 "
                                    "%% chance per hour of going over; the %s forecast's own "
                                    "bound where higher, up to that sd widened for the "
                                    "residuals' correlation), or the highest usage of the last "
                                    "%.0f s plus %.2f one-step sd, whichever is higher%s; %s"),
                                 a->trend_window_s, a->trend_per_s, interval_s, a->z,
                                 orch_forecast_method_name (a->method), interval_s, a->z, floor,
                                 span));
  else
    add_reason (reasons, "memory_max",
                g_strdup_printf (_ ("the %s forecast's bound on the highest usage over the next "
                                    "%.0f s (%.2f sd at each of %u steps of %.1f s, fitted on %u "
                                    "points: a 1 %% chance per hour of going over), or the highest "
                                    "usage of the last %.0f s plus %.2f one-step sd, whichever is "
                                    "higher%s; %s"),
                                 orch_forecast_method_name (a->method), interval_s, a->z, a->steps,
                                 a->step_s, a->points, interval_s, a->z, floor, span));
  if (a->trend_followed)
    add_reason (reasons, "memory_high",
                g_strdup_printf (_ ("the usage's trend over the last %.0f s carried over the "
                                    "next %.0f s plus 1.96 prediction sd%s; %s"),
                                 a->trend_window_s, interval_s, floor, span));
  else
    add_reason (reasons, "memory_high",
                g_strdup_printf (_ ("the highest 95 %% bound of the %s forecast over the next "
                                    "%.0f s%s; %s"),
                                 orch_forecast_method_name (a->method), interval_s, floor, span));
}

/* interval_s u within ORCH_RECOMMEND_MIN/MAX_INTERVAL_S, @interval_s
 * without it. */
static gboolean
parse_recommend_options (GVariant *options, guint32 *interval_s, GError **error)
{
  if (options)
    {
      if (!orch_vardict_check (options, _("option"),
                               (const char *const[]){ "interval_s", "u", NULL }, error))
        return FALSE;
      g_variant_lookup (options, "interval_s", "u", interval_s);
    }
  if (*interval_s < ORCH_RECOMMEND_MIN_INTERVAL_S || *interval_s > ORCH_RECOMMEND_MAX_INTERVAL_S)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("option “%s”: must be between %u and %u seconds"), "interval_s",
                   ORCH_RECOMMEND_MIN_INTERVAL_S, ORCH_RECOMMEND_MAX_INTERVAL_S);
      return FALSE;
    }
  return TRUE;
}

GVariant *
orch_forecaster_recommend (OrchSampler *s, OrchManager *m, const char *id, GVariant *options,
                           guint32 interval_s, GError **error)
{
  OrchJob *job = orch_manager_lookup (m, id, error);
  g_autoptr(GArray) run = g_array_new (FALSE, FALSE, sizeof (OrchUsageSample));
  g_autoptr(GArray) prior = g_array_new (FALSE, FALSE, sizeof (OrchUsageSample));
  g_autoptr(GPtrArray) same = NULL;
  OrchRecommendOptions opts = ORCH_RECOMMEND_OPTIONS_VPA;
  OrchRecommendation r;
  OrchRecommendAhead a;
  GVariantBuilder b, reasons;
  guint runs = 1;
  g_autofree char *span = NULL;

  if (job == NULL || !parse_recommend_options (options, &interval_s, error))
    return NULL;
  /* A running job's own history is the forecast's series; a finished
   * one's only counts with its namesakes' for the next run. */
  add_samples (s, id, orch_job_state_is_active (job->state) ? run : prior);
  if (job->spec->name && job->spec->name[0])
    {
      same = orch_manager_list (m, NULL, job->spec->name, NULL);
      for (guint i = 0; same && i < same->len; i++)
        {
          OrchJob *o = same->pdata[i];

          if (g_strcmp0 (o->id, id) != 0)
            {
              guint before = prior->len;

              add_samples (s, o->id, prior);
              runs += prior->len > before;
            }
        }
    }
  /* Our history is a day at most: memory peaks per 5 minutes rather than
   * VPA's 24 h, so the percentile has windows to choose among; at VPA's
   * rate of crossings per day (p90 of 5-minute peaks went over 288 times
   * as often).  orch_recommend_ahead() makes that histogram
   * recommendation, and bounds memory by the running job's forecast. */
  orch_recommend_options_set_peak_window (&opts, 300);
  if (!orch_recommend_ahead ((OrchUsageSample *) run->data, run->len,
                             (OrchUsageSample *) prior->data, prior->len, g_get_real_time (),
                             interval_s, &r, &a))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_STATE,
                   _("no usage history for job %s yet: nothing to recommend from"), id);
      return NULL;
    }
  span = g_strdup_printf ("%u samples of %u run(s) over %.0f s", r.n_samples, runs,
                          (double) (r.last_us - r.first_us) / G_USEC_PER_SEC);
  g_variant_builder_init (&reasons, G_VARIANT_TYPE ("a{ss}"));
  if (a.bounded)
    add_bounded_reasons (&reasons, &a, interval_s, runs - 1, span);
  else
    {
      add_reason (&reasons, "memory_max",
                  g_strdup_printf (_ ("%.2f percentile of %u five-minute memory peaks, as "
                                      "often crossed as VPA's 90th of daily peaks (%.0f bytes), "
                                      "plus a 15 %% margin; %s"),
                                   100 * opts.mem_percentile, r.n_windows, r.memory_peak, span));
      add_reason (&reasons, "memory_high",
                  g_strdup_printf (_ ("%.2f percentile of %u five-minute memory peaks; %s"),
                                   100 * opts.mem_percentile, r.n_windows, span));
    }
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
  g_variant_builder_add (
      &b, "{sv}", "method",
      g_variant_new_string (a.bounded ? "forecast-bound" : "vpa-decaying-histogram"));
  /* A forecast's bound holds for its interval: recompute and re-apply
   * by then. */
  if (a.bounded)
    g_variant_builder_add (&b, "{sv}", "valid_until",
                           g_variant_new_uint64 ((guint64) a.valid_until_us));
  g_variant_builder_add (&b, "{sv}", "interval_s", g_variant_new_uint32 (interval_s));
  g_variant_builder_add (&b, "{sv}", "reasons", g_variant_builder_end (&reasons));
  return g_variant_builder_end (&b);
}
