/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/orch-autoscale.h"
#include "basic/orch-error.h"

#include <math.h>

#define S G_USEC_PER_SEC

static OrchAutoscaleDecision
decide (OrchAutoscaler *a, gint64 t_s, guint current, guint measured, double sum)
{
  OrchAutoscaleInput in = { .current = current, .measured = measured, .value_sum = sum };
  OrchAutoscaleDecision d;

  orch_autoscaler_decide (a, t_s * S, &in, &d);
  g_assert_cmpint (d.time_us, ==, t_s * S);
  g_assert_cmpuint (d.from, ==, current);
  g_assert_cmpuint (d.input.measured, ==, measured);
  return d;
}

static void
test_autoscale_formula (void)
{
  OrchAutoscaleSettings s;
  OrchAutoscaleDecision d;

  orch_autoscale_settings_init (&s, 0.5, 1, 100);
  s.up_window_us = 0;
  g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&s);

  /* ratio 0.92: inside the 10 % band below the target */
  d = decide (a, 0, 4, 4, 4 * 0.46);
  g_assert_cmpuint (d.to, ==, 4);
  g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_HOLD);
  /* ratio 1.08: no band above it (HPA would hold) */
  d = decide (a, 1, 4, 4, 4 * 0.54);
  g_assert_cmpuint (d.to, ==, 5);
  /* ceil (2 × 0.9 / 0.5) = ceil (3.6) = 4 */
  d = decide (a, 100, 2, 2, 1.8);
  g_assert_cmpuint (d.recommended, ==, 4);
  g_assert_cmpuint (d.to, ==, 4);
  g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_LOAD);
  g_assert_cmpfloat_with_epsilon (d.average, 0.9, 1e-9);
  g_assert_cmpfloat_with_epsilon (d.ratio, 1.8, 1e-9);
  /* nothing measured: hold */
  d = decide (a, 200, 3, 0, 0);
  g_assert_cmpuint (d.to, ==, 3);
  g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_NO_METRICS);
}

/* Starting replicas are not zero load: the measured ones carry the demand
 * the whole group will share; and nothing is removed while they start. */
static void
test_autoscale_starting (void)
{
  OrchAutoscaleSettings s, h;
  OrchAutoscaleDecision d;

  orch_autoscale_settings_init (&s, 0.5, 1, 100);
  s.up_window_us = 0;
  s.down_window_us = 0;
  orch_autoscale_settings_init_hpa (&h, 0.5, 1, 100);
  h.down_window_us = 0;
  g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&s);
  g_autoptr(OrchAutoscaler) hpa = orch_autoscaler_new (&h);

  /* 4 wanted, 2 up carrying 1.8: all 4 will be at 0.45, within tolerance */
  d = decide (a, 0, 4, 2, 1.8);
  g_assert_cmpuint (d.to, ==, 4);
  /* 2 up carrying 3.0 (the demand): 6 needed */
  d = decide (a, 1, 4, 2, 3.0);
  g_assert_cmpuint (d.to, ==, 6);
  /* a drop while replicas start: no removal yet */
  d = decide (a, 2, 6, 2, 0.4);
  g_assert_cmpuint (d.to, ==, 6);
  g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_STARTING);
  /* once all report, the drop is followed */
  d = decide (a, 3, 6, 6, 0.4);
  g_assert_cmpuint (d.to, ==, 1);

  /* HPA: on a drop the unready replicas are left out: ceil (0.2/0.5 × 2) */
  d = decide (hpa, 2, 6, 2, 0.4);
  g_assert_cmpuint (d.to, ==, 1);
  /* on a rise they count as zero: 3.0 over 4 replicas is 1.5 × target */
  d = decide (hpa, 100, 4, 2, 3.0);
  g_assert_cmpuint (d.to, ==, 6);
  /* ... which can cancel the rise: 2 up at 1.6 × target, 4 more at zero */
  d = decide (hpa, 200, 6, 2, 1.6);
  g_assert_cmpuint (d.to, ==, 6);
  g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_HOLD);
}

static void
test_autoscale_stabilization_hpa (void)
{
  OrchAutoscaleSettings s;
  OrchAutoscaleDecision d;

  orch_autoscale_settings_init_hpa (&s, 0.5, 1, 100);
  g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&s);

  d = decide (a, 0, 10, 10, 5.0);
  g_assert_cmpuint (d.to, ==, 10);
  /* the load falls to a tenth: held at the window's highest, 10 */
  for (gint64 t = 15; t < 300; t += 15)
    {
      d = decide (a, t, 10, 10, 0.5);
      g_assert_cmpuint (d.to, ==, 10);
      g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_STABILIZING);
    }
  /* the recommendation of t = 0 leaves the window: all the way down */
  d = decide (a, 300, 10, 10, 0.5);
  g_assert_cmpuint (d.recommended, ==, 1);
  g_assert_cmpuint (d.to, ==, 1);
}

/* With decay a large drop is given back along the window, a one-replica
 * blip is held to its end. */
static void
test_autoscale_stabilization_decay (void)
{
  OrchAutoscaleSettings s;
  OrchAutoscaleDecision d;
  guint current = 10, last = 10;

  orch_autoscale_settings_init (&s, 0.5, 1, 100);
  /* The window alone: the blip's noise would add headroom for a while. */
  s.noise_headroom = 0;
  g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&s);

  d = decide (a, 0, 10, 10, 5.0);
  g_assert_cmpuint (d.to, ==, 10);
  for (gint64 t = 15; t <= 300; t += 15)
    {
      d = decide (a, t, current, current, 0.5 * current / 10.0);
      current = d.to;
      g_assert_cmpuint (current, <=, last);
      last = current;
      if (t == 150)
        {
          g_assert_cmpuint (current, >, 1);
          g_assert_cmpuint (current, <, 10);
        }
    }
  g_assert_cmpuint (current, ==, 1);

  /* a blip from 4 to 5 */
  g_autoptr(OrchAutoscaler) b = orch_autoscaler_new (&s);
  d = decide (b, 1000, 4, 4, 2.0);
  g_assert_cmpuint (d.to, ==, 4);
  d = decide (b, 1010, 4, 4, 2.5);
  d = decide (b, 1020, 4, 4, 2.5);
  g_assert_cmpuint (d.to, ==, 5);
  for (gint64 t = 1030; t < 1320; t += 10)
    {
      d = decide (b, t, 5, 5, 2.0);
      g_assert_cmpuint (d.to, ==, 5);
    }
  d = decide (b, 1330, 5, 5, 2.0);
  g_assert_cmpuint (d.to, ==, 4);
}

/* Lead and headroom: a clearly rising load is met where it will be
 * (lead_us ahead), a noisy one with a standard deviation to spare; a
 * flat quiet one gets nothing extra, nor does a falling one. */
static void
test_autoscale_trend (void)
{
  OrchAutoscaleSettings s;
  OrchAutoscaleDecision d;
  guint with = 0, without = 0;

  orch_autoscale_settings_init (&s, 1.0, 1, 100);
  s.up_window_us = 0;
  g_assert_cmpint (s.lead_us, ==, 30 * S);
  {
    g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&s);
    OrchAutoscaleSettings plain = s;
    plain.lead_us = 0;
    plain.noise_headroom = 0;
    g_autoptr(OrchAutoscaler) b = orch_autoscaler_new (&plain);

    /* 0.1 a second: at t = 100 the load is 10, in 30 s it will be 13. */
    for (gint64 t = 5; t <= 100; t += 5)
      {
        d = decide (a, t, with ? with : 1, with ? with : 1, 0.1 * t);
        with = d.to;
        d = decide (b, t, without ? without : 1, without ? without : 1, 0.1 * t);
        without = d.to;
      }
    g_assert_cmpuint (without, ==, 10);
    g_assert_cmpuint (with, >=, 12);
    g_assert_cmpuint (with, <=, 14);
    g_assert_cmpstr (orch_autoscale_reason_to_string (ORCH_AUTOSCALE_TREND), ==, "trend");
  }
  {
    /* Flat: nothing extra. */
    g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&s);
    for (gint64 t = 5; t <= 100; t += 5)
      d = decide (a, t, 5, 5, 5.0);
    g_assert_cmpuint (d.to, ==, 5);
    g_assert_cmpuint (d.recommended, ==, 5);
  }
  {
    /* Noisy around 5 (uniform in 4.2 .. 5.8, sd ~0.46): a replica to
     * spare, not the 8 or more a lead on noise would give. */
    g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&s);
    g_autoptr(GRand) rand = g_rand_new_with_seed (7);
    guint n = 6;
    for (gint64 t = 5; t <= 100; t += 5)
      {
        d = decide (a, t, n, n, g_rand_double_range (rand, 4.2, 5.8));
        n = d.to;
      }
    g_assert_cmpuint (n, >=, 6);
    g_assert_cmpuint (n, <=, 7);
  }
}

/* A short scale-up window: one noisy sample does not scale. */
static void
test_autoscale_up_window (void)
{
  OrchAutoscaleSettings s;
  OrchAutoscaleDecision d;

  orch_autoscale_settings_init (&s, 0.5, 1, 100);
  g_assert_cmpint (s.up_window_us, ==, 10 * S);
  g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&s);

  d = decide (a, 0, 4, 4, 2.0);
  d = decide (a, 5, 4, 4, 4.0);
  g_assert_cmpuint (d.recommended, ==, 8);
  g_assert_cmpuint (d.to, ==, 4);
  g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_STABILIZING);
  d = decide (a, 10, 4, 4, 4.0);
  g_assert_cmpuint (d.to, ==, 8);
}

static void
test_autoscale_rate_limits (void)
{
  OrchAutoscaleSettings s;
  OrchAutoscaleDecision d;

  orch_autoscale_settings_init_hpa (&s, 0.5, 1, 1000);
  s.down_window_us = 0;
  s.down_percent = 0;
  s.down_pods = 1;
  s.down_period_us = 60 * S;
  g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&s);

  /* 4 pods or 100 %, the larger: 2 → 6 */
  d = decide (a, 0, 2, 2, 50.0);
  g_assert_cmpuint (d.recommended, ==, 100);
  g_assert_cmpuint (d.to, ==, 6);
  g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_RATE_LIMIT);
  /* same period: the period started at 2, nothing more */
  d = decide (a, 5, 6, 6, 50.0);
  g_assert_cmpuint (d.to, ==, 6);
  /* next period: 100 % of 6 */
  d = decide (a, 15, 6, 6, 50.0);
  g_assert_cmpuint (d.to, ==, 12);
  d = decide (a, 30, 12, 12, 50.0);
  g_assert_cmpuint (d.to, ==, 24);
  /* scale-down: one replica a minute */
  d = decide (a, 100, 24, 24, 0.1);
  g_assert_cmpuint (d.to, ==, 23);
  d = decide (a, 130, 23, 23, 0.1);
  g_assert_cmpuint (d.to, ==, 23);
  g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_RATE_LIMIT);
  d = decide (a, 160, 23, 23, 0.1);
  g_assert_cmpuint (d.to, ==, 22);
}

static void
test_autoscale_min_max (void)
{
  OrchAutoscaleSettings s;
  OrchAutoscaleDecision d;

  orch_autoscale_settings_init (&s, 0.5, 2, 5);
  s.up_window_us = 0;
  s.down_window_us = 0;
  g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&s);

  d = decide (a, 0, 4, 4, 100.0);
  g_assert_cmpuint (d.to, ==, 5);
  g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_MAX);
  d = decide (a, 100, 5, 5, 0.0);
  g_assert_cmpuint (d.to, ==, 2);
  g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_MIN);
  /* below min (settings changed), even without figures: back to min */
  d = decide (a, 200, 0, 0, 0.0);
  g_assert_cmpuint (d.to, ==, 2);
  g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_MIN);
  d = decide (a, 300, 9, 9, 4.5);
  g_assert_cmpuint (d.to, ==, 5);

  /* randomized: never outside [min, max] */
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  guint current = 3;
  for (gint64 t = 1000; t < 5000; t += 5)
    {
      guint measured = g_rand_int_range (rand, 0, current + 1);
      d = decide (a, t, current, measured, g_rand_double_range (rand, 0, 2) * measured);
      g_assert_cmpuint (d.to, >=, 2);
      g_assert_cmpuint (d.to, <=, 5);
      current = d.to;
    }
}

static void
test_autoscale_saturated (void)
{
  OrchAutoscaleSettings s;
  OrchAutoscaleDecision d;

  orch_autoscale_settings_init (&s, 80, 1, 100);
  s.up_window_us = 0;
  s.ceiling = 100;
  g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&s);

  /* 4 replicas at 99 % of a CPU: the demand is unknown, at least this */
  d = decide (a, 0, 4, 4, 4 * 99.0);
  g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_RATE_LIMIT);
  g_assert_cmpuint (d.to, ==, 8);
  g_assert_cmpuint (d.stabilized, ==, 100);
}

static void
test_autoscale_manual (void)
{
  OrchAutoscaleSettings s;
  OrchAutoscaleDecision d;

  orch_autoscale_settings_init (&s, 0.5, 1, 100);
  g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&s);

  d = decide (a, 0, 2, 2, 1.0);
  orch_autoscaler_note_manual (a, 10 * S, 2, 8);
  /* load for 2: the hand-set 8 is given back along the window, not at once */
  d = decide (a, 20, 8, 8, 1.0);
  g_assert_cmpuint (d.to, >, 2);
}

static void
test_autoscale_variant (void)
{
  OrchAutoscaleSettings s;
  OrchAutoscaleDecision d;
  const char *reason;
  guint32 from, to, measured;
  double sum;

  orch_autoscale_settings_init (&s, 0.5, 1, 100);
  s.up_window_us = 0;
  g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&s);
  d = decide (a, 7, 2, 2, 1.8);
  g_autoptr(GVariant) v = g_variant_ref_sink (orch_autoscale_decision_to_variant (&d));
  g_assert_true (g_variant_lookup (v, "from", "u", &from));
  g_assert_true (g_variant_lookup (v, "to", "u", &to));
  g_assert_true (g_variant_lookup (v, "measured", "u", &measured));
  g_assert_true (g_variant_lookup (v, "value_sum", "d", &sum));
  g_assert_true (g_variant_lookup (v, "reason", "&s", &reason));
  g_assert_cmpuint (from, ==, 2);
  g_assert_cmpuint (to, ==, 4);
  g_assert_cmpuint (measured, ==, 2);
  g_assert_cmpfloat (sum, ==, 1.8);
  g_assert_cmpstr (reason, ==, "load");
}

static void
test_autoscale_check (void)
{
  OrchAutoscaleSettings s;
  g_autoptr(GError) error = NULL;

  orch_autoscale_settings_init (&s, 0.5, 1, 4);
  g_assert_true (orch_autoscale_settings_check (&s, NULL));
  s.min_replicas = 5;
  g_assert_false (orch_autoscale_settings_check (&s, &error));
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "\"min\""));
  g_clear_error (&error);
  orch_autoscale_settings_init (&s, 0, 1, 4);
  g_assert_false (orch_autoscale_settings_check (&s, &error));
  g_assert_nonnull (strstr (error->message, "\"target\""));
  g_clear_error (&error);
  orch_autoscale_settings_init (&s, 1, 0, 4);
  s.tolerance = 1.5;
  g_assert_false (orch_autoscale_settings_check (&s, &error));
  g_assert_nonnull (strstr (error->message, "\"tolerance\""));
}

static OrchAutoscaleDecision
decide_forecast (OrchAutoscaler *a, gint64 t_s, guint current, double sum, double forecast)
{
  OrchAutoscaleInput in = { current, current, sum, TRUE, forecast };
  OrchAutoscaleDecision d;

  orch_autoscaler_decide (a, t_s * S, &in, &d);
  return d;
}

/* Proactive: the metric is max(now, forecast); up for a forecast above
 * now (reason forecast, the figure in the decision), nothing from one
 * below, no scale-down below what the forecast needs, min/max kept, and
 * nothing at all with proactive off or without a forecast. */
static void
test_autoscale_forecast (void)
{
  OrchAutoscaleSettings s;
  OrchAutoscaleDecision d;

  orch_autoscale_settings_init (&s, 1.0, 1, 6);
  s.up_window_us = 0;
  s.lead_us = 0;
  s.noise_headroom = 0;
  g_assert_false (s.proactive);
  g_assert_cmpint (s.proactive_horizon_us, ==, 300 * S);
  {
    /* off: the forecast is ignored */
    g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&s);
    d = decide_forecast (a, 0, 2, 2.0, 5.0);
    g_assert_cmpuint (d.to, ==, 2);
    g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_HOLD);
  }
  s.proactive = TRUE;
  {
    g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&s);
    g_autoptr(GVariant) v = NULL;
    double f = 0;
    const char *reason = NULL;

    d = decide_forecast (a, 0, 2, 2.0, 4.5);
    g_assert_cmpuint (d.recommended, ==, 5);
    g_assert_cmpuint (d.to, ==, 5);
    g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_FORECAST);
    /* the figures of now stay those of now */
    g_assert_cmpfloat (d.ratio, ==, 1.0);
    v = g_variant_ref_sink (orch_autoscale_decision_to_variant (&d));
    g_assert_true (g_variant_lookup (v, "forecast", "d", &f));
    g_assert_cmpfloat (f, ==, 4.5);
    g_assert_true (g_variant_lookup (v, "reason", "&s", &reason));
    g_assert_cmpstr (reason, ==, "forecast");
    /* beyond max: max */
    d = decide_forecast (a, 20, 5, 5.0, 40.0);
    g_assert_cmpuint (d.to, ==, 6);
    g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_MAX);
  }
  {
    /* a forecast below now changes nothing */
    g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&s);
    d = decide_forecast (a, 0, 2, 4.0, 1.0);
    g_assert_cmpuint (d.to, ==, 4);
    g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_LOAD);
    /* NAN: none */
    d = decide_forecast (a, 20, 4, 6.0, NAN);
    g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_LOAD);
  }
  {
    /* load falling now but forecast back up: held for the forecast, and
     * never under min */
    OrchAutoscaleSettings quick = s;
    quick.down_window_us = 0;
    g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&quick);
    d = decide_forecast (a, 0, 4, 0.5, 3.0);
    g_assert_cmpuint (d.to, ==, 3);
    g_assert_cmpint (d.reason, ==, ORCH_AUTOSCALE_FORECAST);
    d = decide_forecast (a, 20, 3, 0.1, 0.2);
    g_assert_cmpuint (d.to, ==, 1);
    d = decide_forecast (a, 40, 1, 0.0, 0.0);
    g_assert_cmpuint (d.to, ==, 1);
  }
  {
    /* without a forecast: as off */
    g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&s);
    g_autoptr(GVariant) v = NULL;
    d = decide (a, 0, 2, 2, 2.0);
    g_assert_cmpuint (d.to, ==, 2);
    v = g_variant_ref_sink (orch_autoscale_decision_to_variant (&d));
    g_assert_false (g_variant_lookup (v, "forecast", "d", NULL));
  }
  /* the horizon is checked only when on */
  s.proactive_horizon_us = 0;
  {
    g_autoptr(GError) error = NULL;
    g_assert_false (orch_autoscale_settings_check (&s, &error));
    g_assert_nonnull (strstr (error->message, "\"proactive_horizon_s\""));
  }
  s.proactive = FALSE;
  g_assert_true (orch_autoscale_settings_check (&s, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/autoscale/trend", test_autoscale_trend);
  g_test_add_func ("/autoscale/formula", test_autoscale_formula);
  g_test_add_func ("/autoscale/starting", test_autoscale_starting);
  g_test_add_func ("/autoscale/stabilization-hpa", test_autoscale_stabilization_hpa);
  g_test_add_func ("/autoscale/stabilization-decay", test_autoscale_stabilization_decay);
  g_test_add_func ("/autoscale/up-window", test_autoscale_up_window);
  g_test_add_func ("/autoscale/rate-limits", test_autoscale_rate_limits);
  g_test_add_func ("/autoscale/min-max", test_autoscale_min_max);
  g_test_add_func ("/autoscale/saturated", test_autoscale_saturated);
  g_test_add_func ("/autoscale/manual", test_autoscale_manual);
  g_test_add_func ("/autoscale/variant", test_autoscale_variant);
  g_test_add_func ("/autoscale/check", test_autoscale_check);
  g_test_add_func ("/autoscale/forecast", test_autoscale_forecast);
  return g_test_run ();
}
