/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Resource recommendations from usage history, the way Kubernetes' VPA
 * recommender makes them: decaying histograms with exponential buckets
 * (5 % apart), each sample weighted 2^((t - now) / half_life); CPU at a
 * percentile of the samples, memory at a percentile of per-window peaks;
 * a safety margin on top.  Pure: no I/O. */

typedef struct {
  gint64 t_us;
  double cpu_percent;  /* 100 = one core; NaN: unknown */
  double memory_bytes; /* NaN: unknown */
} OrchUsageSample;

typedef struct {
  double half_life_s;    /* VPA: 24 h */
  double cpu_percentile; /* VPA: 0.9 */
  double mem_percentile; /* of the window peaks; VPA: 0.9 */
  double margin;         /* VPA: 0.15 */
  double peak_window_s;  /* VPA: 24 h; shorter for our shorter history */
} OrchRecommendOptions;

#define ORCH_RECOMMEND_OPTIONS_VPA           \
  {                                          \
    24 * 3600.0, 0.9, 0.9, 0.15, 24 * 3600.0 \
  }

typedef struct {
  guint n_samples;
  gint64 first_us, last_us;
  guint n_windows;     /* memory peak windows */
  double cpu_cores;    /* the CPU percentile, cores */
  double memory_peak;  /* the peak percentile, bytes */
  double cpu_quota;    /* cores, margin added */
  guint cpu_weight;    /* 100 per core of cpu_cores, in [1, 10000] */
  guint64 memory_high; /* the peak percentile, rounded up to 1 MiB */
  guint64 memory_max;  /* the peak percentile plus the margin, rounded up to 1 MiB */
} OrchRecommendation;

/* Peak windows of @window_s instead of @o's, at the same rate of limit
 * crossings per unit time: a peak percentile p of daily windows lets
 * 1 - p of the days go over the peak; with windows k times shorter, that
 * is (1 - p) / k of the windows.  (VPA's p90 kept over five-minute
 * windows would let the limit be crossed 288 times as often.) */
void orch_recommend_options_set_peak_window (OrchRecommendOptions *o, double window_s);

/* Samples in any order.  FALSE when none has a known value. */
gboolean orch_recommend (const OrchUsageSample *samples, guint n, gint64 now_us,
                         const OrchRecommendOptions *options, OrchRecommendation *out);

/* The weighted percentile of a VPA histogram: values from @first up in
 * buckets growing by 5 %, returns the upper bound of the bucket where the
 * cumulative weight reaches @p of the total; 0 for no weight. */
double orch_recommend_percentile (const double *values, const double *weights, guint n,
                                  double first, double p);

G_END_DECLS
