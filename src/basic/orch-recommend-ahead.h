/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-forecast.h"
#include "orch-recommend.h"

G_BEGIN_DECLS

/* A time-bound memory recommendation for a running job: the limit its
 * forecast says it stays under, with a chance of 1 - ORCH_RECOMMEND_EXCEED_PER_HOUR per hour,
 * over the next @interval_s — to be recomputed and re-applied when that
 * interval ends, as VPA's updater re-applies its recommender's targets.
 * A decaying histogram's peak percentile keeps a leak's limit where the
 * leak was and a cycle's limit a margin above its highest peak; a bound
 * on the forecast path's maximum follows a trend and knows the next
 * interval's peak, so it carries less slack at no more crossings
 * (bench-forecast's replay measures both).  Pure: no I/O. */

/* The lifetime the daemon gives a recommendation by default ([forecast]
 * recommend_interval_s), and the range a caller may ask for: a minute
 * (a limit for less is re-applied more often than it is worth), a day
 * (the history the daemon keeps). */
#define ORCH_RECOMMEND_INTERVAL_S 3600.0
#define ORCH_RECOMMEND_MIN_INTERVAL_S 60
#define ORCH_RECOMMEND_MAX_INTERVAL_S 86400
/* The chance the usage goes over memory_max within an hour (within
 * one interval: in proportion to its length). */
#define ORCH_RECOMMEND_EXCEED_PER_HOUR 0.01
/* How far back the run's own peak floors the bound at least (the
 * interval's length when longer): the histogram's peak windows. */
#define ORCH_RECOMMEND_PEAK_LOOKBACK_S 300.0
/* Grid points the forecast is fitted on at least (fewer: the histogram
 * alone). */
#define ORCH_RECOMMEND_MIN_POINTS 32

typedef struct {
  gboolean bounded;      /* FALSE: the history was too short, the histogram's values stand */
  gint64 valid_until_us; /* last sample + interval (bounded only) */
  double bound;          /* the forecast's bound on the interval's maximum, bytes */
  double high;           /* its highest pointwise 95 % bound, bytes */
  double recent_peak;    /* the highest sample of the last interval or 5 min, bytes */
  double step_s;         /* the grid the forecast was fitted on */
  guint points, steps;   /* fitted, forecast */
  OrchForecastMethod method;
  double z;                /* the bound's multiplier of the forecast's sd */
  double trend_per_s;      /* the last interval's least-squares slope, bytes/s */
  double trend_window_s;   /* ... over this long */
  gboolean trend_followed; /* it stood out: the bound carries it, undamped */
} OrchRecommendAhead;

/* The z with P(N(0,1) > z) = @p, for 0 < p < 1. */
double orch_recommend_upper_z (double p);

/* @run: this run's samples (the forecast's series); @prior: earlier runs
 * of the same job (a floor: this run may yet do what they did).  @out
 * holds the VPA-style histogram recommendation of all samples (five-
 * minute peak windows, as the daemon has always given), with memory_max
 * and memory_high replaced by the forecast's bounds when @run is long
 * enough (@ahead->bounded): memory_max the simultaneous bound on the
 * path's maximum over @interval_s (Bonferroni over its steps: each step at
 * its share of ORCH_RECOMMEND_EXCEED_PER_HOUR, on the calibrated sd), memory_high the
 * highest pointwise 95 % bound, both at least the last sample and at
 * least @prior's own recommendation.  A rising trend that stands out of
 * the last interval (@ahead->trend_followed) is carried to the
 * interval's end undamped instead, the model's damping being per step
 * (see trend_bound()); without one, memory_max is at most the
 * histogram's (or the recent peak, if higher).  FALSE when no sample
 * has a value. */
gboolean
orch_recommend_ahead (const OrchUsageSample *run, guint n_run, const OrchUsageSample *prior,
                      guint n_prior, gint64 now_us, double interval_s, OrchRecommendation *out,
                      OrchRecommendAhead *ahead);

G_END_DECLS
