/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Time-bound recommendations from a forecast: see orch-recommend-ahead.h. */
#include "config.h"

#include "orch-recommend-ahead.h"

#include <math.h>
#include <string.h>

#define MIB (1024.0 * 1024.0)
#define MAX_FIT 2048
#define MAX_STEPS 16384

double
orch_recommend_upper_z (double p)
{
  double lo = -40.0, hi = 40.0;

  for (guint i = 0; i < 200 && hi - lo > 1e-12; i++)
    {
      double mid = (lo + hi) / 2;

      if (0.5 * erfc (mid / G_SQRT2) > p)
        lo = mid;
      else
        hi = mid;
    }
  return (lo + hi) / 2;
}

static int
cmp_time (gconstpointer a, gconstpointer b)
{
  gint64 x = ((const OrchUsageSample *) a)->t_us, y = ((const OrchUsageSample *) b)->t_us;

  return x < y ? -1 : x > y;
}

static void
recommend_histogram (const OrchUsageSample *s, guint n, gint64 now_us, OrchRecommendation *out)
{
  OrchRecommendOptions o = ORCH_RECOMMEND_OPTIONS_VPA;

  orch_recommend_options_set_peak_window (&o, 300);
  orch_recommend (s, n, now_us, &o, out);
}

/* A leak's trend, undamped, over the interval.  The smoother's damping
 * is per step (a fitted phi of 0.9994 stops the trend within a few
 * thousand steps): on a fine grid the trend dies within minutes, however steady the leak
 * (a job growing 2 MiB/s got 96 MiB for an hour), while its variance,
 * which grows as the cube of the steps, makes an hour's bound from 12 s
 * of history tens of GiB.  So a trend that stands out of the series is
 * the model (orch_forecast_trend_test(), at the bound's z; GetJobForecast's
 * memory forecast makes the same test): the least-squares line through the last @window grid
 * points (the last interval's worth, and at least two of a detected
 * season's periods, whose ramps are no trend), when it goes up and its
 * rise over them is more than z times the scatter around it counted as
 * fewer independent points when the residuals follow each other (a
 * random walk's chance slope passes a plain test often: the replay's
 * random walk went over twice).  The bound is then at least the line at
 * the interval's end plus z times its prediction sd there (the scatter
 * and the slope's own error carried that far), and the forecast's own
 * bound where that is higher, up to the line's with the sd widened as
 * the test widens it: a plain line alone went over on the recorded
 * leak at one-minute intervals, where the smoother knew better; the
 * 95 % one likewise at 1.96. */
static void
trend_bound (const double *y, guint n, guint window, double recent_floor, OrchRecommendAhead *a)
{
  OrchForecastTrend t;
  double end, sd;

  orch_forecast_trend_test (y, n, MAX (window, ORCH_RECOMMEND_MIN_POINTS), a->z, &t);
  a->trend_per_s = t.slope / a->step_s;
  a->trend_window_s = (t.k - 1) * a->step_s;
  if (!t.rising)
    return;
  a->trend_followed = TRUE;
  end = orch_forecast_trend_at (&t, a->steps, &sd);
  a->bound = MAX (MAX (recent_floor, end + a->z * sd), MIN (a->bound, end + a->z * sd * t.inflate));
  a->high = MAX (MAX (y[n - 1], end + ORCH_FORECAST_Z95 * sd),
                 MIN (a->high, end + ORCH_FORECAST_Z95 * sd * t.inflate));
}

/* The run's memory on an even grid (the newest MAX_FIT points) and the
 * forecast's bounds over the interval; FALSE when too short. */
static gboolean
forecast_bound (const OrchUsageSample *run, guint n_run, double interval_s, OrchRecommendAhead *a)
{
  g_autofree OrchUsageSample *s = g_memdup2 (run, sizeof *s * MAX (n_run, 1));
  g_autofree gint64 *t = g_new (gint64, MAX (n_run, 1));
  g_autofree double *v = g_new (double, MAX (n_run, 1));
  g_autofree double *grid = NULL;
  guint n = 0, n_grid;
  gint64 span, step, spacing, since;
  OrchForecastPath path;
  OrchForecastFit fit;
  double floor;

  qsort (s, n_run, sizeof *s, cmp_time);
  for (guint i = 0; i < n_run; i++)
    if (!isnan (s[i].memory_bytes) && (n == 0 || s[i].t_us > t[n - 1]))
      {
        t[n] = s[i].t_us;
        v[n++] = s[i].memory_bytes;
      }
  if (n < ORCH_RECOMMEND_MIN_POINTS)
    return FALSE;
  span = t[n - 1] - t[0];
  spacing = MAX (span / (n - 1), 1);
  /* The samples' own spacing (a coarser grid would blur a cycle shorter
   * than its step into a level and cut the peaks the bound is about), or
   * what keeps the interval within MAX_STEPS. */
  step = MAX (spacing, (gint64) ceil (interval_s * G_USEC_PER_SEC / MAX_STEPS));
  n_grid = (guint) MIN (span / step + 1, MAX_FIT);
  grid = g_new (double, n_grid);
  n_grid = orch_forecast_resample (t, v, n, t[n - 1] - (gint64) (n_grid - 1) * step, step, grid,
                                   n_grid);
  if (n_grid < ORCH_RECOMMEND_MIN_POINTS)
    return FALSE;
  a->steps = (guint) CLAMP (ceil (interval_s * G_USEC_PER_SEC / step), 1, MAX_STEPS);
  g_assert (a->steps * (double) step >= interval_s * G_USEC_PER_SEC);
  a->points = n_grid;
  a->step_s = (double) step / G_USEC_PER_SEC;
  /* Bonferroni: the path's maximum passes the bound only if some step
   * does, whatever the errors' correlation from step to step; each step
   * at its share of ORCH_RECOMMEND_EXCEED_PER_HOUR, so the rate of
   * crossings per hour does not grow when the interval is shorter and
   * the recommendation renewed more often. */
  a->z = orch_recommend_upper_z (ORCH_RECOMMEND_EXCEED_PER_HOUR * a->step_s / 3600.0);
  orch_forecast_path_init (&path, a->steps);
  orch_forecast_auto (grid, n_grid, a->steps, &fit, &path);
  a->method = fit.method;
  /* What the job reached within the last interval it may reach again in
   * the next, whatever the model makes of it: a build's compiler spikes
   * over a quiet baseline are noise to a smoother, and rare enough to
   * stay out of a calibrated sd.  Five minutes back at least: a limit
   * for the next minute that forgot the spike of two minutes ago was
   * crossed on the recorded build (bench-forecast --replay, 1 min). */
  a->recent_peak = v[n - 1];
  since = t[n - 1] - (gint64) (MAX (interval_s, ORCH_RECOMMEND_PEAK_LOOKBACK_S) * G_USEC_PER_SEC);
  for (guint i = n; i-- > 0 && t[i] >= since;)
    a->recent_peak = MAX (a->recent_peak, v[i]);
  /* ... give or take the forecast's one-step error at the bound's z. */
  a->bound = floor = a->recent_peak + a->z * path.sd[0];
  a->high = v[n - 1];
  for (guint k = 0; k < a->steps; k++)
    {
      a->bound = MAX (a->bound, path.mean[k] + a->z * path.sd[k]);
      a->high = MAX (a->high, path.hi95[k]);
    }
  orch_forecast_path_clear (&path);
  trend_bound (grid, n_grid, MAX ((guint) (interval_s / a->step_s), 2 * fit.period), floor, a);
  a->valid_until_us = t[n - 1] + (gint64) (interval_s * G_USEC_PER_SEC);
  return TRUE;
}

gboolean
orch_recommend_ahead (const OrchUsageSample *run, guint n_run, const OrchUsageSample *prior,
                      guint n_prior, gint64 now_us, double interval_s, OrchRecommendation *out,
                      OrchRecommendAhead *ahead)
{
  g_autofree OrchUsageSample *all = g_new (OrchUsageSample, MAX (n_run + n_prior, 1));
  OrchRecommendation pr;
  gboolean have_prior;

  memset (ahead, 0, sizeof *ahead);
  if (n_run)
    memcpy (all, run, n_run * sizeof *all);
  if (n_prior)
    memcpy (all + n_run, prior, n_prior * sizeof *all);
  recommend_histogram (all, n_run + n_prior, now_us, out);
  if (out->n_samples == 0)
    return FALSE;
  if (!forecast_bound (run, n_run, interval_s, ahead))
    return TRUE;
  ahead->bounded = TRUE;
  memset (&pr, 0, sizeof pr);
  have_prior = n_prior > 0;
  if (have_prior)
    recommend_histogram (prior, n_prior, now_us, &pr);
  /* With no trend to carry, no more than the histogram's own limit (its
   * peaks, decayed, and a margin; the recent peak at least): a single
   * spike in a quiet history inflates the calibrated sd tenfold and more,
   * and the bound with it, where the peak itself says what the job does.
   * Replayed: less slack on the build and periodic traces, no crossing
   * added anywhere (docs/FORECAST.md, "The interval, and a fast leak's
   * trend"). */
  if (!ahead->trend_followed)
    ahead->bound = MIN (ahead->bound, MAX ((double) out->memory_max, ahead->recent_peak));
  out->memory_max = (guint64) (ceil (ahead->bound / MIB) * MIB);
  out->memory_max = MAX (out->memory_max, pr.memory_max);
  out->memory_high = (guint64) (ceil (ahead->high / MIB) * MIB);
  out->memory_high = MIN (MAX (out->memory_high, pr.memory_high), out->memory_max);
  return TRUE;
}
