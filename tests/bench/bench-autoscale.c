/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-autoscale: the autoscaler core (src/basic/orch-autoscale.c)
 * against Kubernetes' HorizontalPodAutoscaler at its default settings, in
 * a simulator: synthetic load traces, a fake clock, a simple workload.
 * Not a test.
 *
 *   bench-autoscale [--seeds=7] [--start-delay=10] [--target=0.6] [--trace=NAME]
 *
 * Workload: the demand D(t) (in CPUs) is shared equally by the replicas
 * that are up; a replica takes --start-delay seconds to come up and gives
 * at most one CPU (the part of the demand above that is lost).  Removal
 * takes the youngest replicas first (starting ones before running ones).
 *
 * Peer, HPA with default settings: a decision every 15 s from figures
 * averaged over the last 15 s (metrics-server's resolution); a replica
 * has a usable figure only once a full window has passed since it came
 * up (HPA's readiness rule inside the CPU initialization period); the
 * replica calculation with its unready handling, scale-up stabilization
 * 0 s, scale-down stabilization 300 s, scale-up max(100 %, 4 pods) per
 * 15 s, scale-down 100 % per 15 s, tolerance 10 %.
 *
 * Ours: orch_autoscale_settings_init(), a decision every --period seconds
 * from the sampler's figures averaged over the same period (the daemon
 * samples every second, so a replica has a figure one second after it is
 * up), the ceiling set to one CPU.
 *
 * Figures per trace and autoscaler, each the median over the seeds:
 * replica-seconds (every replica, starting ones too), seconds over target
 * (demand per running replica above the target), direction changes (a
 * scale-up after a scale-down or the reverse).  Prints one JSON object.
 */
#include "basic/orch-autoscale.h"
#include "basic/orch-forecast.h"

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DURATION 3600 /* seconds per trace */

/* --lead, --trend-window: override ours (-1: the defaults). */
static gint lead_s = -1, trend_window_s = -1;
static double headroom = -1;
static gboolean use_held_out;
/* --proactive: ours with proactive on, this horizon (0: off) */
static gint proactive_s;
#define FORECAST_BLOCK_S 5     /* the history fitted: block means ... */
#define FORECAST_HISTORY_S 300 /* ... over this long */
#define MAX_REPLICAS 64

typedef double (*TraceFunc) (guint t, GRand *rand, const double *params);

typedef struct {
  const char *name;
  TraceFunc func;
} Trace;

typedef struct {
  double replica_seconds;
  double over_target_s;
  double over_band_s;
  double direction_changes;
  double scale_events;
} Figures;

typedef struct {
  gboolean hpa;
  guint period_s;     /* decision period */
  guint window_s;     /* figures averaged over */
  guint figure_lag_s; /* seconds up before a replica has a figure */
} Scaler;

static double
noise (GRand *rand, double sigma)
{
  /* Box-Muller */
  double u = g_rand_double_range (rand, 1e-12, 1.0), v = g_rand_double (rand);
  return sigma * sqrt (-2 * log (u)) * cos (2 * G_PI * v);
}

/* step: 2 CPUs, 8 from 10 min to 40 min, then 2 */
static double
trace_step (guint t, GRand *rand, const double *p)
{
  (void) p;
  double d = (t >= 600 && t < 2400) ? 8 : 2;
  return MAX (0, d * (1 + noise (rand, 0.05)));
}

/* ramp: 1 CPU to 12 over 30 min, back to 1 over the next 30 */
static double
trace_ramp (guint t, GRand *rand, const double *p)
{
  (void) p;
  double d = t < 1800 ? 1 + 11.0 * t / 1800 : 12 - 11.0 * (t - 1800) / 1800;
  return MAX (0, d * (1 + noise (rand, 0.05)));
}

/* sine: 6 ± 3 CPUs, a 15 min period, with noise of σ = 1 CPU per second */
static double
trace_sine (guint t, GRand *rand, const double *p)
{
  (void) p;
  return MAX (0, 6 + 3 * sin (2 * G_PI * t / 900.0) + noise (rand, 1.0));
}

/* spike: 3 CPUs, with 60-second spikes to 12 at times drawn per seed */
static double
trace_spike (guint t, GRand *rand, const double *p)
{
  for (guint i = 0; i < 4; i++)
    if (t >= p[i] && t < p[i] + 60)
      return MAX (0, 12 * (1 + noise (rand, 0.05)));
  return MAX (0, 3 * (1 + noise (rand, 0.05)));
}

static const Trace traces[] = {
  { "step", trace_step },
  { "ramp", trace_ramp },
  { "sine-noise", trace_sine },
  { "spike", trace_spike },
};

/* Held out (--held-out): shapes and seeds the defaults were not chosen
 * on, to check that they were not fitted to the four above. */

/* square: 3 and 9 CPUs alternating every 10 min */
static double
trace_square (guint t, GRand *rand, const double *p)
{
  (void) p;
  return MAX (0, ((t / 600) % 2 ? 9 : 3) * (1 + noise (rand, 0.05)));
}

/* sawtooth: 1 CPU rising to 10 over 15 min, then back to 1 at once */
static double
trace_sawtooth (guint t, GRand *rand, const double *p)
{
  (void) p;
  return MAX (0, (1 + 9.0 * (t % 900) / 900) * (1 + noise (rand, 0.05)));
}

/* sine-slow: 5 ± 3 CPUs, a 40 min period, σ = 0.5 CPU noise per second */
static double
trace_sine_slow (guint t, GRand *rand, const double *p)
{
  (void) p;
  return MAX (0, 5 + 3 * sin (2 * G_PI * t / 2400.0) + noise (rand, 0.5));
}

/* bursts: 2 CPUs, and +6 during bursts of 30 to 150 s at seeded times */
static double
trace_bursts (guint t, GRand *rand, const double *p)
{
  double d = 2;

  for (guint i = 0; i < 4; i++)
    if (t >= p[i] && t < p[i] + 30 + (guint) p[i] % 120)
      d += 6;
  return MAX (0, d * (1 + noise (rand, 0.1)));
}

static const Trace held_out[] = {
  { "square", trace_square },
  { "sawtooth", trace_sawtooth },
  { "sine-slow", trace_sine_slow },
  { "bursts", trace_bursts },
};

/* One run of one trace with one autoscaler; the demand is drawn from the
 * seed alone, so both autoscalers see the same trace. */
/* The daemon's proactive forecast, from the trace's own history: the
 * group's figure summed (the load served), 5 s block means over the last
 * 300 s, orch_forecast_auto's mean proactive_s ahead. */
static gboolean
forecast_served (const double *served, guint t, double *ret)
{
  double y[FORECAST_HISTORY_S / FORECAST_BLOCK_S];
  guint n = 0, h = MAX (proactive_s / FORECAST_BLOCK_S, 1);
  guint from = t + 1 >= FORECAST_HISTORY_S ? t + 1 - FORECAST_HISTORY_S : 0;
  OrchForecastFit fit;
  OrchForecastPath path;
  gboolean ok;

  /* whole blocks ending at t */
  from += (t + 1 - from) % FORECAST_BLOCK_S;
  for (guint b = from; b + FORECAST_BLOCK_S <= t + 1; b += FORECAST_BLOCK_S)
    {
      double sum = 0;
      for (guint u = b; u < b + FORECAST_BLOCK_S; u++)
        sum += served[u];
      y[n++] = sum / FORECAST_BLOCK_S;
    }
  if (n < 8)
    return FALSE;
  orch_forecast_path_init (&path, h);
  ok = orch_forecast_auto (y, n, h, &fit, &path) && isfinite (path.mean[h - 1]);
  if (ok)
    *ret = MAX (path.mean[h - 1], 0);
  orch_forecast_path_clear (&path);
  return ok;
}

static Figures
simulate (const Trace *trace, const Scaler *sc, guint32 seed, double target, guint start_delay,
          GArray *decision_log)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GRand) spike_rand = g_rand_new_with_seed (seed ^ 0x5eed);
  OrchAutoscaleSettings s;
  double params[4];
  double demand[DURATION], per_replica[DURATION], served[DURATION];
  gint64 up_at[MAX_REPLICAS]; /* second each replica is (or will be) up */
  guint n, last_dir = 0;
  Figures f = { 0 };

  for (guint i = 0; i < 4; i++)
    params[i] = 300 + i * 800 + g_rand_int_range (spike_rand, 0, 400);
  for (guint t = 0; t < DURATION; t++)
    demand[t] = trace->func (t, rand, params);

  if (sc->hpa)
    orch_autoscale_settings_init_hpa (&s, target, 1, MAX_REPLICAS);
  else
    {
      orch_autoscale_settings_init (&s, target, 1, MAX_REPLICAS);
      s.ceiling = 1.0;
      if (lead_s >= 0)
        s.lead_us = (gint64) lead_s * G_USEC_PER_SEC;
      if (headroom >= 0)
        s.noise_headroom = headroom;
      if (trend_window_s >= 0)
        s.trend_window_us = (gint64) trend_window_s * G_USEC_PER_SEC;
      s.proactive = proactive_s > 0;
      s.proactive_horizon_us = (gint64) proactive_s * G_USEC_PER_SEC;
    }
  g_autoptr(OrchAutoscaler) a = orch_autoscaler_new (&s);

  /* start sized for the first second's demand, all up */
  n = CLAMP ((guint) ceil (demand[0] / target), 1, MAX_REPLICAS);
  for (guint i = 0; i < n; i++)
    up_at[i] = -1000;

  for (guint t = 0; t < DURATION; t++)
    {
      guint running = 0;

      for (guint i = 0; i < n; i++)
        running += up_at[i] <= t;
      per_replica[t] = running ? MIN (1.0, demand[t] / running) : 0;
      served[t] = per_replica[t] * running;
      f.replica_seconds += n;
      if (!running || demand[t] / running > target)
        f.over_target_s++;
      if (!running || demand[t] / running > target * (1 + s.tolerance))
        f.over_band_s++;

      if (t == 0 || t % sc->period_s)
        continue;
      /* figures of the replicas up for at least figure_lag_s */
      OrchAutoscaleInput in = { .current = n };
      for (guint i = 0; i < n; i++)
        {
          gint64 from = MAX ((gint64) t + 1 - sc->window_s, up_at[i]);
          double sum = 0;

          if (up_at[i] + (gint64) sc->figure_lag_s > (gint64) t + 1)
            continue;
          for (gint64 u = MAX (from, 0); u <= (gint64) t; u++)
            sum += per_replica[u];
          in.measured++;
          in.value_sum += sum / (t + 1 - MAX (from, 0));
        }
      if (s.proactive && in.measured)
        in.has_forecast = forecast_served (served, t, &in.forecast_sum);
      OrchAutoscaleDecision d;
      orch_autoscaler_decide (a, (gint64) t * G_USEC_PER_SEC, &in, &d);
      if (d.to == n)
        continue;
      guint dir = d.to > n ? 1 : 2;
      if (last_dir && dir != last_dir)
        f.direction_changes++;
      last_dir = dir;
      f.scale_events++;
      if (decision_log)
        {
          guint row[3] = { t, n, d.to };
          g_array_append_vals (decision_log, row, 3);
        }
      if (d.to > n)
        for (guint i = n; i < d.to; i++)
          up_at[i] = t + start_delay;
      n = d.to;
    }
  return f;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *v, guint n)
{
  qsort (v, n, sizeof (double), cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static Figures
median_figures (const Figures *runs, guint n)
{
  g_autofree double *v = g_new (double, n);
  Figures m;

#define MEDIAN_OF(field)        \
  for (guint i = 0; i < n; i++) \
    v[i] = runs[i].field;       \
  m.field = median (v, n);
  MEDIAN_OF (replica_seconds)
  MEDIAN_OF (over_target_s)
  MEDIAN_OF (over_band_s)
  MEDIAN_OF (direction_changes)
  MEDIAN_OF (scale_events)
#undef MEDIAN_OF
  return m;
}

static void
print_figures (const char *name, const Figures *f, gboolean comma)
{
  printf ("      \"%s\": {\"replica_seconds\": %.0f, \"over_target_s\": %.0f, "
          "\"over_band_s\": %.0f, \"direction_changes\": %.0f, \"scale_events\": %.0f}%s\n",
          name, f->replica_seconds, f->over_target_s, f->over_band_s, f->direction_changes,
          f->scale_events, comma ? "," : "");
}

static double
change_pct (double ours, double peer)
{
  return peer > 0 ? 100.0 * (ours - peer) / peer : 0;
}

int
main (int argc, char **argv)
{
  gint seeds = 7, start_delay = 10, period = 5;
  double target = 0.6;
  g_autofree char *only = NULL, *dump = NULL;
  GOptionEntry entries[] = {
    { "seeds", 0, 0, G_OPTION_ARG_INT, &seeds, "seeds per trace", "N" },
    { "start-delay", 0, 0, G_OPTION_ARG_INT, &start_delay, "seconds a replica takes to start",
      "S" },
    { "period", 0, 0, G_OPTION_ARG_INT, &period, "our decision period", "S" },
    { "target", 0, 0, G_OPTION_ARG_DOUBLE, &target, "CPUs per replica to hold", "X" },
    { "trace", 0, 0, G_OPTION_ARG_STRING, &only, "only this trace", "NAME" },
    { "lead", 0, 0, G_OPTION_ARG_INT, &lead_s, "our trend lead (default: the setting's)", "S" },
    { "trend-window", 0, 0, G_OPTION_ARG_INT, &trend_window_s, "our trend window", "S" },
    { "headroom", 0, 0, G_OPTION_ARG_DOUBLE, &headroom, "our noise headroom (sd)", "Z" },
    { "held-out", 0, 0, G_OPTION_ARG_NONE, &use_held_out,
      "the held-out traces (square, sawtooth, sine-slow, bursts) and seeds", NULL },
    { "proactive", 0, 0, G_OPTION_ARG_INT, &proactive_s,
      "ours with proactive on, this horizon (default 0: off)", "S" },
    { "dump", 0, 0, G_OPTION_ARG_STRING, &dump, "print the first seed's decisions of this trace",
      "NAME" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- autoscaler vs HPA, simulated");
  g_autoptr(GError) error = NULL;
  const Scaler hpa = { TRUE, 15, 15, 15 };
  Scaler ours = { FALSE, 5, 5, 1 };
  gboolean first = TRUE;
  const Trace *set = traces;
  gsize n_set = G_N_ELEMENTS (traces);
  guint32 seed_base = 1000;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 2;
    }
  if (seeds < 1 || start_delay < 0 || period < 1 || !(target > 0 && target <= 1) ||
      proactive_s < 0 || proactive_s > FORECAST_HISTORY_S)
    {
      fprintf (stderr, "bad option value\n");
      return 2;
    }
  ours.period_s = ours.window_s = period;
  if (use_held_out)
    {
      set = held_out;
      n_set = G_N_ELEMENTS (held_out);
      seed_base = 5000;
    }

  printf (
      "{\n  \"benchmark\": \"autoscale\",\n  \"seeds\": %d,\n  \"start_delay_s\": %d,\n"
      "  \"set\": \"%s\",\n  \"target_cpu\": %.2f,\n  \"duration_s\": %d,\n  \"period_s\": {\"hpa\": 15, "
      "\"orch\": %d},\n  \"proactive_horizon_s\": %d,\n  \"traces\": {\n",
      seeds, start_delay, use_held_out ? "held-out" : "tuning", target, DURATION, period,
      proactive_s);
  for (guint k = 0; k < n_set; k++)
    {
      g_autofree Figures *h = g_new0 (Figures, seeds);
      g_autofree Figures *o = g_new0 (Figures, seeds);
      Figures mh, mo;

      if (only && strcmp (only, set[k].name) != 0)
        continue;
      for (gint i = 0; i < seeds; i++)
        {
          g_autoptr(GArray) lh = g_array_new (FALSE, FALSE, sizeof (guint));
          g_autoptr(GArray) lo = g_array_new (FALSE, FALSE, sizeof (guint));
          gboolean want = i == 0 && dump && strcmp (dump, set[k].name) == 0;

          h[i] = simulate (&set[k], &hpa, seed_base + i, target, start_delay, want ? lh : NULL);
          o[i] = simulate (&set[k], &ours, seed_base + i, target, start_delay, want ? lo : NULL);
          for (guint j = 0; want && j < lh->len; j += 3)
            fprintf (stderr, "hpa  t=%u %u -> %u\n", g_array_index (lh, guint, j),
                     g_array_index (lh, guint, j + 1), g_array_index (lh, guint, j + 2));
          for (guint j = 0; want && j < lo->len; j += 3)
            fprintf (stderr, "orch t=%u %u -> %u\n", g_array_index (lo, guint, j),
                     g_array_index (lo, guint, j + 1), g_array_index (lo, guint, j + 2));
        }
      mh = median_figures (h, seeds);
      mo = median_figures (o, seeds);
      printf ("%s    \"%s\": {\n", first ? "" : ",\n", set[k].name);
      first = FALSE;
      print_figures ("hpa", &mh, TRUE);
      print_figures ("orch", &mo, TRUE);
      printf ("      \"replica_seconds_change_pct\": %.1f,\n"
              "      \"over_target_change_pct\": %.1f,\n"
              "      \"over_band_change_pct\": %.1f\n    }",
              change_pct (mo.replica_seconds, mh.replica_seconds),
              change_pct (mo.over_target_s, mh.over_target_s),
              change_pct (mo.over_band_s, mh.over_band_s));
    }
  printf ("\n  }\n}\n");
  return 0;
}
