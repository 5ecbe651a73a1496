/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* orch-forecast's own answers: baselines, intervals, the backtest's
 * choice, crossings, resampling.  The smoothing itself is checked against
 * statsmodels by test-forecast-oracle.py. */
#include "basic/orch-forecast.h"
#include "basic/orch-forecast-conformal.h"
#include "basic/orch-recommend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void
test_baselines (void)
{
  double y[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  OrchForecastFit fit;
  OrchForecastPath p;

  orch_forecast_path_init (&p, 4);
  g_assert_true (orch_forecast_one (y, 8, ORCH_FORECAST_NAIVE, 0, 0, &fit, &p));
  g_assert_cmpfloat (p.mean[3], ==, 8);
  /* Residuals all 1: sigma2 1, random-walk variance k. */
  g_assert_cmpfloat_with_epsilon (p.sd[3], 2.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (p.hi95[0] - p.mean[0], 1.959963984540054, 1e-9);
  g_assert_true (p.lo80[0] > p.lo95[0] && p.hi80[0] < p.hi95[0]);
  g_assert_true (orch_forecast_one (y, 8, ORCH_FORECAST_SEASONAL_NAIVE, 3, 0, &fit, &p));
  g_assert_cmpfloat (p.mean[0], ==, 6);
  g_assert_cmpfloat (p.mean[3], ==, 6);
  g_assert_true (orch_forecast_one (y, 8, ORCH_FORECAST_MOVING_AVERAGE, 0, 4, &fit, &p));
  g_assert_cmpfloat (p.mean[2], ==, 6.5);
  /* The mean of the same phase over the last (up to 4) periods: 6 and 3
   * one period back, 3 two back, no third. */
  g_assert_true (orch_forecast_one (y, 8, ORCH_FORECAST_SEASONAL_MEAN, 3, 0, &fit, &p));
  g_assert_cmpfloat (p.mean[0], ==, 4.5);
  g_assert_cmpfloat (p.mean[2], ==, 6.5);
  g_assert_cmpfloat (p.mean[3], ==, 4.5);
  g_assert_cmpuint (fit.period, ==, 3);
  /* In-sample: every one-period-back forecast is 3 (t < 6) or 4.5 too
   * low; a fixed cycle plus noise: that spread at every step. */
  g_assert_cmpfloat_with_epsilon (fit.sigma2, (3 * 9 + 2 * 4.5 * 4.5) / 5, 1e-12);
  g_assert_cmpfloat_with_epsilon (p.sd[3], sqrt (fit.sigma2), 1e-12);
  /* Too short: seasonal naive needs a period, Holt-Winters two of them,
   * seasonal mean two. */
  g_assert_false (orch_forecast_one (y, 5, ORCH_FORECAST_SEASONAL_MEAN, 3, 0, &fit, &p));
  g_assert_false (orch_forecast_one (y, 8, ORCH_FORECAST_SEASONAL_NAIVE, 0, 0, &fit, &p));
  g_assert_false (orch_forecast_one (y, 8, ORCH_FORECAST_HOLT_WINTERS, 4, 0, &fit, &p));
  orch_forecast_path_clear (&p);
}

static void
test_auto_seasonal (void)
{
  guint n = 360;
  g_autofree double *y = g_new (double, n);
  OrchForecastFit fit;
  OrchForecastPath p;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);

  for (guint t = 0; t < n; t++)
    y[t] = 100 + 40 * sin (2 * G_PI * t / 30.0) + g_rand_double_range (rand, -2, 2);
  orch_forecast_path_init (&p, 60);
  g_assert_true (orch_forecast_auto (y, n, 60, &fit, &p));
  g_assert_cmpuint (fit.period, ==, 30);
  g_assert_true (fit.method == ORCH_FORECAST_HOLT_WINTERS ||
                 fit.method == ORCH_FORECAST_SEASONAL_NAIVE ||
                 fit.method == ORCH_FORECAST_SEASONAL_MEAN);
  /* Far better than the naive and the moving average on a cycle. */
  g_assert_cmpfloat (fit.mase, <, 0.5 * fit.mase_by_method[ORCH_FORECAST_NAIVE]);
  for (guint k = 0; k < 60; k++)
    {
      double truth = 100 + 40 * sin (2 * G_PI * (n + k) / 30.0);

      g_assert_cmpfloat (fabs (p.mean[k] - truth), <, 6);
      g_assert_true (p.lo95[k] < truth && truth < p.hi95[k]);
    }
  orch_forecast_path_clear (&p);
}

static void
test_auto_short_and_flat (void)
{
  double flat[40];
  OrchForecastFit fit;
  OrchForecastPath p;

  for (guint i = 0; i < G_N_ELEMENTS (flat); i++)
    flat[i] = 5;
  orch_forecast_path_init (&p, 10);
  g_assert_false (orch_forecast_auto (flat, 0, 10, &fit, &p));
  g_assert_true (orch_forecast_auto (flat, 1, 10, &fit, &p));
  g_assert_cmpint (fit.method, ==, ORCH_FORECAST_NAIVE);
  g_assert_cmpfloat (p.mean[9], ==, 5);
  g_assert_true (orch_forecast_auto (flat, 40, 10, &fit, &p));
  g_assert_cmpuint (fit.period, ==, 0);
  for (guint k = 0; k < 10; k++)
    g_assert_cmpfloat_with_epsilon (p.mean[k], 5.0, 1e-6);
  orch_forecast_path_clear (&p);
}

static void
test_crossing_and_probability (void)
{
  double v[] = { 1, 2, 3, 4, 5 };

  g_assert_cmpuint (orch_forecast_first_crossing (v, 5, 3), ==, 3);
  g_assert_cmpuint (orch_forecast_first_crossing (v, 5, 6), ==, 0);
  g_assert_cmpfloat_with_epsilon (orch_forecast_prob_above (10, 2, 10), 0.5, 1e-12);
  g_assert_cmpfloat_with_epsilon (orch_forecast_prob_above (10, 1, 10 - 1.959963984540054), 0.975,
                                  1e-9);
  g_assert_cmpfloat (orch_forecast_prob_above (10, 0, 9), ==, 1.0);
}

static void
test_resample (void)
{
  gint64 t[] = { 0, 10, 20, 40 };
  double v[] = { 0, 10, NAN, 40 };
  double out[8];

  /* The NaN row is skipped: 10 -> 40 over 10..40. */
  g_assert_cmpuint (orch_forecast_resample (t, v, 4, 0, 5, out, 8), ==, 8);
  g_assert_cmpfloat (out[1], ==, 5);
  g_assert_cmpfloat (out[4], ==, 20);
  g_assert_cmpfloat (out[7], ==, 35);
  /* Stops at the last row. */
  g_assert_cmpuint (orch_forecast_resample (t, v, 4, 30, 20, out, 8), ==, 1);
  g_assert_cmpfloat (out[0], ==, 30);
}

/* A square wave of period 6 whose edges jitter by a sample, as a batch
 * started by a timer does: its multiples correlate as well as 6 does. */
static void
test_period_fundamental (void)
{
  guint n = 240;
  g_autofree double *y = g_new (double, n);
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);

  for (guint c = 0; c < n / 6; c++)
    {
      guint up = 2 + (g_rand_int_range (rand, 0, 3) == 0);

      for (guint i = 0; i < 6; i++)
        y[6 * c + i] = (i < up ? 100 : 10) + g_rand_double_range (rand, -1, 1);
    }
  g_assert_cmpuint (orch_forecast_detect_period (y, n, 2), ==, 6);
}

/* An exact cycle plus noise: the mean over periods halves the noise
 * seasonal-naive carries into every point. */
static void
test_seasonal_mean_noise (void)
{
  guint n = 400, h = 20, origins = 0;
  g_autofree double *y = g_new (double, n + h);
  g_autoptr (GRand) rand = g_rand_new_with_seed (11);
  double e_naive = 0, e_mean = 0;
  OrchForecastFit fit;
  OrchForecastPath p;

  for (guint t = 0; t < n + h; t++)
    y[t] = 50 + 20 * sin (2 * G_PI * t / 20.0) + g_rand_double_range (rand, -5, 5);
  orch_forecast_path_init (&p, h);
  for (guint o = 200; o + h <= n + h; o += 20, origins++)
    for (guint m = 0; m < 2; m++)
      {
        OrchForecastMethod method = m ? ORCH_FORECAST_SEASONAL_MEAN : ORCH_FORECAST_SEASONAL_NAIVE;

        g_assert_true (orch_forecast_one (y, o, method, 20, 0, &fit, &p));
        for (guint k = 0; k < h; k++)
          *(m ? &e_mean : &e_naive) += fabs (p.mean[k] - 50 - 20 * sin (2 * G_PI * (o + k) / 20.0));
      }
  g_assert_cmpuint (origins, ==, 11);
  /* Uniform noise of spread 10: E|e| 2.5 one period back, about 1.3 for
   * the mean of four. */
  g_assert_cmpfloat (e_mean, <, 0.65 * e_naive);
  /* The backtest scores against noisy values: the error's spread is
   * sqrt(1 + 1/4) of the noise's against sqrt(2), 0.79 of it.  It sees
   * that too (Holt-Winters, also averaging, may win). */
  g_assert_true (orch_forecast_auto (y, n, h, &fit, &p));
  g_assert_cmpfloat (fit.mase_by_method[ORCH_FORECAST_SEASONAL_MEAN], <,
                     0.9 * fit.mase_by_method[ORCH_FORECAST_SEASONAL_NAIVE]);
  g_assert_cmpint (fit.method, !=, ORCH_FORECAST_SEASONAL_NAIVE);
  orch_forecast_path_clear (&p);
}

static void
test_period_none_on_noise (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  double y[300];

  for (guint i = 0; i < G_N_ELEMENTS (y); i++)
    y[i] = g_rand_double (rand);
  g_assert_cmpuint (orch_forecast_detect_period (y, 300, 2), ==, 0);
}

/* VPA's rules: CPU p90 of the samples, memory p90 of window peaks, a
 * 15 % margin; old samples count less. */
static void
test_recommend (void)
{
  OrchUsageSample u[200];
  OrchRecommendOptions o = ORCH_RECOMMEND_OPTIONS_VPA;
  OrchRecommendation r;
  const gint64 s = G_USEC_PER_SEC;

  o.peak_window_s = 60;
  /* 200 s: CPU 10 % but 50 % one sample in five; memory 100 MiB with a
   * 300 MiB spike once a minute. */
  for (guint i = 0; i < 200; i++)
    {
      u[i].t_us = (gint64) i * s;
      u[i].cpu_percent = i % 5 == 0 ? 50 : 10;
      u[i].memory_bytes = i % 60 == 30 ? 300.0 * (1 << 20) : 100.0 * (1 << 20);
    }
  g_assert_false (orch_recommend (u, 0, 200 * s, &o, &r));
  g_assert_true (orch_recommend (u, 200, 200 * s, &o, &r));
  g_assert_cmpuint (r.n_samples, ==, 200);
  g_assert_cmpuint (r.n_windows, ==, 4);
  /* p90 of CPU is the 50 % bucket: 0.5 cores, within a bucket (5 %). */
  g_assert_cmpfloat (r.cpu_cores, >=, 0.5);
  g_assert_cmpfloat (r.cpu_cores, <, 0.5 * 1.051);
  g_assert_cmpfloat_with_epsilon (r.cpu_quota, r.cpu_cores * 1.15, 1e-9);
  g_assert_cmpuint (r.cpu_weight, ==, (guint) round (100 * r.cpu_cores));
  /* Three of four windows peak at 300 MiB (the last has none): p90 is
   * the spike. */
  g_assert_cmpfloat (r.memory_peak, >=, 300.0 * (1 << 20));
  g_assert_cmpfloat (r.memory_peak, <, 300.0 * (1 << 20) * 1.051);
  g_assert_cmpuint (r.memory_max, >=, (guint64) (r.memory_peak * 1.15));
  g_assert_cmpuint (r.memory_max % (1 << 20), ==, 0);
  /* With a half-life of a second the newest samples decide: the last
   * window (180..199 s) never spiked. */
  o.half_life_s = 1;
  g_assert_true (orch_recommend (u, 200, 200 * s, &o, &r));
  g_assert_cmpfloat (r.memory_peak, <, 110.0 * (1 << 20));
}

/* A batch that spikes for 3 minutes an hour: 1 five-minute window in
 * 12 peaks high, under VPA's p90 but not under the same crossing rate per
 * day over five-minute windows. */
static void
test_recommend_peak_window (void)
{
  guint n = 6 * 3600 / 10;
  g_autofree OrchUsageSample *u = g_new (OrchUsageSample, n);
  OrchRecommendOptions o = ORCH_RECOMMEND_OPTIONS_VPA, p90 = ORCH_RECOMMEND_OPTIONS_VPA;
  OrchRecommendation r;
  const double mib = 1 << 20;

  orch_recommend_options_set_peak_window (&o, 300);
  g_assert_cmpfloat (o.peak_window_s, ==, 300);
  g_assert_cmpfloat_with_epsilon (o.mem_percentile, 1 - 0.1 / 288, 1e-12);
  p90.peak_window_s = 300;
  for (guint i = 0; i < n; i++)
    {
      u[i].t_us = (gint64) i * 10 * G_USEC_PER_SEC;
      u[i].cpu_percent = 10;
      u[i].memory_bytes = (i * 10) % 3600 < 180 ? 400 * mib : 100 * mib;
    }
  g_assert_true (orch_recommend (u, n, (gint64) n * 10 * G_USEC_PER_SEC, &p90, &r));
  g_assert_cmpfloat (r.memory_peak, <, 110 * mib);
  g_assert_true (orch_recommend (u, n, (gint64) n * 10 * G_USEC_PER_SEC, &o, &r));
  g_assert_cmpfloat (r.memory_peak, >=, 400 * mib);
  g_assert_cmpfloat (r.memory_peak, <, 400 * mib * 1.051);
}

/* Once per crossing: a forecast that keeps saying "soon" warns once; it
 * warns again after moving beyond twice the warning time, or for a new run
 * or limit; a forecast too short to tell (NAN) changes nothing. */
static void
test_warn_once (void)
{
  OrchForecastWarnState st = { 0 };

  g_assert_false (orch_forecast_warn_step (&st, 1, 100, -1, 600));
  g_assert_false (orch_forecast_warn_step (&st, 1, 100, 900, 600));
  g_assert_true (orch_forecast_warn_step (&st, 1, 100, 500, 600));
  g_assert_false (orch_forecast_warn_step (&st, 1, 100, 400, 600));
  g_assert_false (orch_forecast_warn_step (&st, 1, 100, 0, 600));
  /* Wobbling just past the edge: still the same crossing. */
  g_assert_false (orch_forecast_warn_step (&st, 1, 100, 700, 600));
  g_assert_false (orch_forecast_warn_step (&st, 1, 100, 550, 600));
  g_assert_false (orch_forecast_warn_step (&st, 1, 100, NAN, 600));
  g_assert_false (orch_forecast_warn_step (&st, 1, 100, 300, 600));
  /* Gone far away, then back: a new crossing. */
  g_assert_false (orch_forecast_warn_step (&st, 1, 100, 1300, 600));
  g_assert_true (orch_forecast_warn_step (&st, 1, 100, 300, 600));
  g_assert_false (orch_forecast_warn_step (&st, 1, 100, -1, 600));
  g_assert_true (orch_forecast_warn_step (&st, 1, 100, 10, 600));
  /* A new limit, a new run. */
  g_assert_true (orch_forecast_warn_step (&st, 1, 200, 10, 600));
  g_assert_false (orch_forecast_warn_step (&st, 1, 200, 10, 600));
  g_assert_true (orch_forecast_warn_step (&st, 2, 200, 10, 600));
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

/* The conformal rank: the ceil((n + 1) level)-th smallest, found by
 * selection (checked against a sort, duplicates included); too few
 * scores for the level give NaN, too few for calibration FALSE. */
static void
test_conformal_quantile (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (5);
  double few[3] = { 1, 2, 3 };
  OrchConformal c;
  double q80, q95;

  for (guint rep = 0; rep < 200; rep++)
    {
      guint n = g_rand_int_range (rand, 1, 300);
      g_autofree double *v = g_new (double, n);
      g_autofree double *sorted = g_new (double, n);

      for (guint i = 0; i < n; i++)
        v[i] = g_rand_int_range (rand, 0, 1 + n / 3); /* ties */
      memcpy (sorted, v, n * sizeof (double));
      qsort (sorted, n, sizeof (double), cmp_double);
      for (guint l = 0; l < 3; l++)
        {
          double level = (double[]){ 0.5, 0.8, 0.95 }[l];
          guint r = (guint) ceil ((n + 1) * level);
          double q = orch_conformal_quantile (v, n, level);

          if (r > n)
            g_assert_true (isnan (q));
          else
            g_assert_cmpfloat (q, ==, sorted[r - 1]);
        }
    }
  g_assert_true (isnan (orch_conformal_quantile (few, 3, 0.95)));
  orch_conformal_init (&c);
  for (guint i = 0; i < ORCH_CONFORMAL_MIN_SCORES - 1; i++)
    {
      double f = 0, a = i, sd = 1;

      orch_conformal_add (&c, &f, &a, &sd, 1);
    }
  g_assert_false (orch_conformal_quantiles (&c, &q80, &q95));
  {
    /* Scores 0..99 (sd 2, errors 0..198): ranks 81 and 96. */
    double f[100] = { 0 }, a[100], sd[100];

    g_array_set_size (c.scores, 0);
    for (guint i = 0; i < 100; i++)
      {
        a[i] = 2.0 * i;
        sd[i] = 2;
      }
    orch_conformal_add (&c, f, a, sd, 100);
    g_assert_true (orch_conformal_quantiles (&c, &q80, &q95));
    g_assert_cmpfloat (q80, ==, 80);
    g_assert_cmpfloat (q95, ==, 95);
  }
  orch_conformal_clear (&c);
}

static double
gauss (GRand *r)
{
  double u = 1.0 - g_rand_double (r), v = g_rand_double (r);

  return sqrt (-2 * log (u)) * cos (2 * G_PI * v);
}

/* A square wave (20 of every 60 steps high, as the recorded periodic
 * batch's memory), forecast 10 steps ahead from every phase: the
 * backtest's five windows once aliased with the cycle, all fell in
 * flat parts where naive is as exact as seasonal-naive, and the tie
 * went to naive, which misses the next edge. */
static void
test_square_wave_short_horizon (void)
{
  guint misses = 0;

  /* At these lengths the windows' spacing is near three periods: evenly
   * spaced, their phases bunch within a third of the cycle. */
  for (guint n = 1470; n < 1530; n++)
    {
      double y[1540];
      OrchForecastPath p;
      OrchForecastFit fit;
      double err = 0;

      for (guint t = 0; t < n + 10; t++)
        y[t] = t % 60 < 20 ? 105e6 : 5e6; /* resident bytes stand still between edges */
      orch_forecast_path_init (&p, 10);
      g_assert_true (orch_forecast_auto (y, n, 10, &fit, &p));
      for (guint k = 0; k < 10; k++)
        err += fabs (p.mean[k] - y[n + k]);
      /* An edge missed costs 100 MB a step. */
      misses += err > 1e6;
      orch_forecast_path_clear (&p);
    }
  g_test_message ("edges missed from %u of 60 phases", misses);
  g_assert_cmpuint (misses, ==, 0);
}

/* Known noise of unit variance on a level, a cycle and a line: the
 * calibrated 95 % intervals of auto's forecasts, 20 steps past 300
 * points, cover 95 % +- 3 % of the draws that follow, over 300 series
 * each; 80 % ones 80 % +- 4 %.  Gaussian noise, which the analytic
 * intervals assume, and uniform noise, for which they are wrong (the
 * analytic 95 % band holds 98-100 % of it, the 80 % one 75-78 %). */
static void
test_conformal_coverage (void)
{
  guint n = 300, h = 20;

  for (guint kind = 0; kind < 6; kind++)
    {
      double c95 = 0, c80 = 0, points = 0;
      guint calibrated = 0, reps = 300;

      for (guint rep = 0; rep < reps; rep++)
        {
          g_autoptr (GRand) rand = g_rand_new_with_seed (100 + rep);
          double y[320];
          OrchForecastPath p;
          OrchForecastFit fit;

          for (guint t = 0; t < n + h; t++)
            y[t] = (kind % 3 == 0   ? 10
                    : kind % 3 == 1 ? 50 + 20 * sin (2 * G_PI * t / 20.0)
                                    : 5 + 0.3 * t) +
                   (kind < 3 ? gauss (rand) : sqrt (3) * g_rand_double_range (rand, -1, 1));
          orch_forecast_path_init (&p, h);
          g_assert_true (orch_forecast_auto (y, n, h, &fit, &p));
          calibrated += fit.calibrated;
          for (guint k = 0; k < h; k++)
            {
              double a = y[n + k];

              c95 += a >= p.lo95[k] && a <= p.hi95[k];
              c80 += a >= p.lo80[k] && a <= p.hi80[k];
              points++;
              /* The sd agrees with the 95 % band (crossing odds). */
              g_assert_cmpfloat_with_epsilon (p.hi95[k] - p.mean[k], 1.959963984540054 * p.sd[k],
                                              1e-9 * (1 + fabs (p.hi95[k])));
            }
          orch_forecast_path_clear (&p);
        }
      g_assert_cmpuint (calibrated, ==, reps);
      g_assert_cmpfloat (fabs (c95 / points - 0.95), <=, 0.03);
      g_assert_cmpfloat (fabs (c80 / points - 0.80), <=, 0.04);
    }
}

/* The combination: on a cycle plus a slow random level two methods err
 * differently; auto either picks one of them or their mean, and when it
 * picks the mean its backtest MASE beats each member's. */
static void
test_combination (void)
{
  guint n = 360, h = 30, combined = 0;

  for (guint seed = 0; seed < 20; seed++)
    {
      g_autoptr (GRand) rand = g_rand_new_with_seed (300 + seed);
      double y[360], level = 0;
      OrchForecastPath p;
      OrchForecastFit fit;

      for (guint t = 0; t < n; t++)
        {
          level += 0.3 * gauss (rand);
          y[t] = 100 + level + 15 * sin (2 * G_PI * t / 24.0) + 2 * gauss (rand);
        }
      orch_forecast_path_init (&p, h);
      g_assert_true (orch_forecast_auto (y, n, h, &fit, &p));
      if (fit.method == ORCH_FORECAST_COMBINED)
        {
          guint members = 0;

          combined++;
          g_assert_cmpstr (orch_forecast_method_name (fit.method), ==, "combination");
          for (guint m = 0; m < ORCH_FORECAST_N_METHODS; m++)
            if (fit.combined & (1u << m))
              {
                members++;
                g_assert_cmpfloat (fit.mase, <, fit.mase_by_method[m]);
              }
          g_assert_cmpuint (members, ==, 2);
          for (guint k = 0; k < h; k++)
            g_assert_true (isfinite (p.mean[k]) && p.lo95[k] < p.mean[k] && p.mean[k] < p.hi95[k]);
        }
      else
        g_assert_cmpfloat (fit.mase, ==, fit.mase_by_method[fit.method]);
      orch_forecast_path_clear (&p);
    }
  /* It is a real candidate here, not a rarity. */
  g_assert_cmpuint (combined, >=, 3);
}

/* A steady leak as the daemon samples it: @rate bytes a second, in
 * chunks of a tenth of that (an allocator's steps), sampled every @dt
 * seconds with a little noise. */
static double *
leak_series (guint n, double dt, double rate, guint seed)
{
  g_autoptr (GRand) r = g_rand_new_with_seed (seed);
  double *y = g_new (double, n);

  for (guint i = 0; i < n; i++)
    y[i] = 50e6 + rate / 10 * floor (i * dt * 10 + g_rand_double_range (r, 0, 1)) +
           g_rand_double_range (r, 0, 64e3);
  return y;
}

/* The step (1-based) where the memory forecast of y reaches @limit
 * within @h steps, 0 if it does not. */
static guint
memory_crossing (const double *y, guint n, guint h, double limit, gboolean *followed)
{
  OrchForecastPath path;
  OrchForecastFit fit;
  guint cross;

  orch_forecast_path_init (&path, h);
  g_assert_true (orch_forecast_auto_memory (y, n, h, &fit, &path));
  cross = orch_forecast_first_crossing (path.mean, h, limit);
  for (guint k = 0; k < h; k++)
    {
      g_assert_cmpfloat (path.lo95[k], <=, path.lo80[k]);
      g_assert_cmpfloat (path.lo80[k], <=, path.mean[k]);
      g_assert_cmpfloat (path.mean[k], <=, path.hi80[k]);
      g_assert_cmpfloat (path.hi80[k], <=, path.hi95[k]);
    }
  orch_forecast_path_clear (&path);
  *followed = fit.trend_followed;
  return cross;
}

/* Linear growth at the daemon's fine steps (0.1 s and 1 s) from the
 * short histories a young job has (32 to 120 points: the daemon fits at
 * least 32), the limit 10 and 30 minutes ahead: the exhaustion time
 * within 5 %.  The fitted damping (phi 0.9994-0.9999 here) stopped
 * the trend a few thousand steps out, minutes at 0.1 s: before, 14 of
 * these 36 forecasts never got there and 2 more came over 5 % late. */
static void
test_leak_exhaustion (void)
{
  static const double dts[] = { 0.1, 1.0 }, aheads[] = { 600, 1800 };
  static const guint lens[] = { 32, 64, 120 };
  const double rate = 2.0 * 1024 * 1024;

  for (guint i = 0; i < G_N_ELEMENTS (dts); i++)
    for (guint j = 0; j < G_N_ELEMENTS (aheads); j++)
      for (guint l = 0; l < G_N_ELEMENTS (lens); l++)
        for (guint seed = 1; seed <= 3; seed++)
          {
            guint n = lens[l], h = (guint) (1.5 * aheads[j] / dts[i]), cross;
            g_autofree double *y = leak_series (n, dts[i], rate, seed);
            double limit = 50e6 + rate * ((n - 1) * dts[i] + aheads[j]), at;
            gboolean followed;

            cross = memory_crossing (y, n, h, limit, &followed);
            at = cross * dts[i];
            g_test_message ("%.1f s steps, %u points, limit %.0f s ahead: forecast %.0f s", dts[i],
                            n, aheads[j], at);
            g_assert_true (followed);
            g_assert_cmpuint (cross, >, 0);
            g_assert_cmpfloat (fabs (at - aheads[j]), <=, 0.05 * aheads[j]);
          }
}

/* No trend where there is none: a random walk's chance run, a cycle's
 * rising half.  Neither is followed, and a limit a random walk reaches
 * only by a three-sigma move over the horizon (a cycle: half its
 * amplitude over its peak) is not forecast to be reached. */
static void
test_leak_no_spurious (void)
{
  const guint n = 600, h = 600;
  guint followed_walks = 0;

  for (guint seed = 1; seed <= 40; seed++)
    {
      g_autoptr (GRand) r = g_rand_new_with_seed (seed);
      g_autofree double *y = g_new (double, n);
      gboolean followed;
      double walk = 500e6;
      guint cross;

      /* Sampled with a little noise of its own. */
      for (guint i = 0; i < n; i++)
        {
          walk += g_rand_double_range (r, -1e6, 1e6);
          y[i] = walk + g_rand_double_range (r, 0, 64e3);
        }
      /* A step's sd is 1e6 / sqrt (3). */
      cross = memory_crossing (y, n, h, walk + 3 * 1e6 / sqrt (3) * sqrt (h), &followed);
      if (cross || followed)
        g_test_message ("seed %u: crossing at %u, trend followed %d", seed, cross, followed);
      g_assert_cmpuint (cross, ==, 0);
      followed_walks += followed;
    }
  g_test_message ("random walks with a trend followed: %u of 40", followed_walks);
  g_assert_cmpuint (followed_walks, ==, 0);
  for (guint seed = 1; seed <= 5; seed++)
    {
      g_autoptr (GRand) r = g_rand_new_with_seed (seed);
      g_autofree double *y = g_new (double, n);

      for (guint i = 0; i < n; i++)
        y[i] = 300e6 + 100e6 * sin (2 * G_PI * i / 120.0) + g_rand_double_range (r, -3e6, 3e6);
      /* Windows ending anywhere in the cycle, its rising half too. */
      for (guint end = 480; end <= n; end += 20)
        {
          gboolean followed;

          g_assert_cmpuint (memory_crossing (y, end, 240, 450e6, &followed), ==, 0);
          g_assert_false (followed);
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/forecast/baselines", test_baselines);
  g_test_add_func ("/forecast/auto-seasonal", test_auto_seasonal);
  g_test_add_func ("/forecast/auto-short-and-flat", test_auto_short_and_flat);
  g_test_add_func ("/forecast/crossing-probability", test_crossing_and_probability);
  g_test_add_func ("/forecast/resample", test_resample);
  g_test_add_func ("/forecast/period-none-on-noise", test_period_none_on_noise);
  g_test_add_func ("/forecast/recommend", test_recommend);
  g_test_add_func ("/forecast/warn-once", test_warn_once);
  g_test_add_func ("/forecast/period-fundamental", test_period_fundamental);
  g_test_add_func ("/forecast/square-wave-short-horizon", test_square_wave_short_horizon);
  g_test_add_func ("/forecast/seasonal-mean-averages-noise", test_seasonal_mean_noise);
  g_test_add_func ("/forecast/recommend-peak-window", test_recommend_peak_window);
  g_test_add_func ("/forecast/conformal-quantile", test_conformal_quantile);
  g_test_add_func ("/forecast/conformal-coverage", test_conformal_coverage);
  g_test_add_func ("/forecast/combination", test_combination);
  g_test_add_func ("/forecast/leak-exhaustion", test_leak_exhaustion);
  g_test_add_func ("/forecast/leak-no-spurious", test_leak_no_spurious);
  return g_test_run ();
}
