/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VPA-style recommendations: see orch-recommend.h. */
#include "config.h"

#include "orch-recommend.h"

#include <math.h>
#include <string.h>

#define RATIO 1.05
#define N_BUCKETS 512
/* VPA's first buckets: 0.01 cores, 10 MB. */
#define CPU_FIRST 0.01
#define MEM_FIRST 1e7
#define MIB (1024.0 * 1024.0)

static guint
bucket_of (double v, double first)
{
  double b;

  if (!(v > first))
    return 0;
  b = floor (log (v / first) / log (RATIO)) + 1;
  return (guint) MIN (b, N_BUCKETS - 1);
}

static double
bucket_end (guint b, double first)
{
  return first * pow (RATIO, b);
}

double
orch_recommend_percentile (const double *values, const double *weights, guint n, double first,
                           double p)
{
  double hist[N_BUCKETS] = { 0 };
  double total = 0.0, acc = 0.0;

  for (guint i = 0; i < n; i++)
    if (!isnan (values[i]) && weights[i] > 0.0)
      {
        hist[bucket_of (values[i], first)] += weights[i];
        total += weights[i];
      }
  if (total <= 0.0)
    return 0.0;
  for (guint b = 0; b < N_BUCKETS; b++)
    {
      acc += hist[b];
      if (acc >= p * total * (1.0 - 1e-12) && hist[b] > 0.0)
        return bucket_end (b, first);
    }
  return bucket_end (N_BUCKETS - 1, first);
}

static int
cmp_time (gconstpointer a, gconstpointer b)
{
  gint64 x = ((const OrchUsageSample *) a)->t_us, y = ((const OrchUsageSample *) b)->t_us;

  return x < y ? -1 : x > y;
}

static double
decay (gint64 t_us, gint64 now_us, double half_life_s)
{
  return exp2 ((double) (t_us - now_us) / G_USEC_PER_SEC / half_life_s);
}

void
orch_recommend_options_set_peak_window (OrchRecommendOptions *o, double window_s)
{
  if (window_s > 0 && o->peak_window_s > 0)
    o->mem_percentile = 1.0 - (1.0 - o->mem_percentile) * window_s / o->peak_window_s;
  o->peak_window_s = window_s;
}

gboolean
orch_recommend (const OrchUsageSample *samples, guint n, gint64 now_us,
                const OrchRecommendOptions *o, OrchRecommendation *out)
{
  g_autofree OrchUsageSample *s = g_memdup2 (samples, sizeof *s * MAX (n, 1));
  g_autofree double *cpu = g_new (double, MAX (n, 1));
  g_autofree double *cw = g_new (double, MAX (n, 1));
  g_autofree double *peaks = g_new (double, MAX (n, 1));
  g_autofree double *pw = g_new (double, MAX (n, 1));
  guint nc = 0, np = 0;
  gint64 win_us = (gint64) (o->peak_window_s * G_USEC_PER_SEC);
  gint64 cur_win = G_MININT64;

  memset (out, 0, sizeof *out);
  qsort (s, n, sizeof *s, cmp_time);
  for (guint i = 0; i < n; i++)
    {
      gboolean any = FALSE;

      if (!isnan (s[i].cpu_percent))
        {
          cpu[nc] = s[i].cpu_percent / 100.0;
          cw[nc++] = decay (s[i].t_us, now_us, o->half_life_s);
          any = TRUE;
        }
      if (!isnan (s[i].memory_bytes))
        {
          /* Windows aligned to the epoch, like VPA's aggregation intervals;
           * a window's peak weighs as its first sample. */
          gint64 w = win_us > 0 ? s[i].t_us / win_us : 0;

          if (np == 0 || w != cur_win)
            {
              cur_win = w;
              peaks[np] = s[i].memory_bytes;
              pw[np++] = decay (s[i].t_us, now_us, o->half_life_s);
            }
          else
            peaks[np - 1] = MAX (peaks[np - 1], s[i].memory_bytes);
          any = TRUE;
        }
      if (any)
        {
          if (out->n_samples == 0)
            out->first_us = s[i].t_us;
          out->last_us = s[i].t_us;
          out->n_samples++;
        }
    }
  if (out->n_samples == 0)
    return FALSE;
  out->n_windows = np;
  out->cpu_cores = nc ? orch_recommend_percentile (cpu, cw, nc, CPU_FIRST, o->cpu_percentile) : 0;
  out->memory_peak = np ? orch_recommend_percentile (peaks, pw, np, MEM_FIRST, o->mem_percentile)
                        : 0;
  out->cpu_quota = out->cpu_cores * (1.0 + o->margin);
  out->cpu_weight = (guint) CLAMP (round (100.0 * out->cpu_cores), 1, 10000);
  out->memory_high = (guint64) (ceil (out->memory_peak / MIB) * MIB);
  out->memory_max = (guint64) (ceil (out->memory_peak * (1.0 + o->margin) / MIB) * MIB);
  return TRUE;
}
