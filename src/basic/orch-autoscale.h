/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The autoscaler of one group: pure, no I/O, the time passed in.
 *
 * It starts from Kubernetes' HorizontalPodAutoscaler (desired =
 * ceil(current × value / target), a tolerance band around the target,
 * scale-up and scale-down rate limits per period, a scale-down
 * stabilization window) and changes it where that is known to hurt:
 *
 * - replicas without a figure yet (starting, or not sampled) are not
 *   counted as zero load: the load the measured replicas carry is the
 *   demand the whole group will share, so the recommendation is
 *   ceil(sum / target), and nothing is removed while replicas start;
 * - the scale-down window releases large drops gradually: a past
 *   recommendation's excess over the present one shrinks with the square
 *   of its remaining share of the window, so a spike that has passed is
 *   given back along the window instead of held whole to its end, while
 *   a one-replica blip is still held the full window;
 * - no tolerance upwards (the band is asymmetric: under-provisioning is
 *   what users feel), a short scale-up window filtering single noisy
 *   samples instead;
 * - a figure at the replicas' ceiling (a saturated CPU) says the demand
 *   is at least that much, so the scale-up goes to the rate limit.
 *
 * Every decision carries its inputs, for the `scaled` event. */

typedef struct {
  double target;         /* metric per replica to hold, > 0 */
  guint min_replicas;    /* >= 0 */
  guint max_replicas;    /* >= min_replicas, > 0 */
  double tolerance;      /* no scale-down while ratio >= 1 - this */
  double up_tolerance;   /* no scale-up while ratio <= 1 + this (HPA: one
                            tolerance both ways) */
  gint64 up_window_us;   /* scale-up stabilization (min over it) */
  gint64 down_window_us; /* scale-down stabilization (max over it) */
  gboolean down_decay;   /* weigh old recommendations by age (see above) */
  guint up_pods;         /* scale-up: at most this many replicas ... */
  double up_percent;     /* ... or this % of the period's start, the larger */
  gint64 up_period_us;
  guint down_pods; /* scale-down: likewise; 0 and 0 = no removal */
  double down_percent;
  gint64 down_period_us;
  double ceiling;           /* a replica's figure cannot exceed this; 0 = none */
  gboolean unready_as_zero; /* HPA's rule instead: unmeasured replicas count as
                               0 on a scale-up, as the target on a scale-down */
  /* Scale up for the load @lead_us ahead: a replica asked for now serves
   * only once started, so a rising load (its least-squares slope over
   * @trend_window_us of figures, when clearly above noise) is met where
   * it will be.  0: react to the load now only. */
  gint64 lead_us;
  gint64 trend_window_us;
  /* ... and for this many standard deviations of the figures around
   * that trend: headroom for the noise the window has shown. */
  double noise_headroom;
  /* Proactive: the metric taken as max(now, the forecast
   * @proactive_horizon_us ahead) when the caller passes a forecast
   * (OrchAutoscaleInput.has_forecast); upwards only, like the trend. */
  gboolean proactive;
  gint64 proactive_horizon_us;
} OrchAutoscaleSettings;

/* This project's defaults: HPA's periods and limits, the 300 s scale-down
 * window with decay, a 10 s scale-up window, tolerance 10 % down, 0 up. */
void
orch_autoscale_settings_init (OrchAutoscaleSettings *settings, double target, guint min, guint max);

/* Kubernetes HPA's defaults (autoscaling/v2 behavior), for comparison. */
void orch_autoscale_settings_init_hpa (OrchAutoscaleSettings *settings, double target, guint min,
                                       guint max);

/* NULL when the settings are inconsistent; the error names the field. */
gboolean orch_autoscale_settings_check (const OrchAutoscaleSettings *settings, GError **error);

/* A group's "autoscale" option: its keys and D-Bus types, {"key",
 * "type", ..., NULL}.  The daemon checks the option by it and the REST
 * shim converts a JSON "autoscale" object by it. */
extern const char *const orch_autoscale_field_types[];

typedef struct {
  guint current;    /* replicas the group wants now (running or starting) */
  guint measured;   /* replicas with a fresh figure */
  double value_sum; /* the sum of their figures */
  /* proactive: the group's figure summed over its replicas, forecast
   * proactive_horizon_us ahead (the caller's forecaster) */
  gboolean has_forecast;
  double forecast_sum;
} OrchAutoscaleInput;

typedef enum {
  ORCH_AUTOSCALE_HOLD,        /* within tolerance */
  ORCH_AUTOSCALE_NO_METRICS,  /* nothing measured */
  ORCH_AUTOSCALE_LOAD,        /* follows the load */
  ORCH_AUTOSCALE_SATURATED,   /* figures at the ceiling */
  ORCH_AUTOSCALE_STARTING,    /* no removal while replicas start */
  ORCH_AUTOSCALE_STABILIZING, /* held by a stabilization window */
  ORCH_AUTOSCALE_RATE_LIMIT,  /* cut by a rate limit */
  ORCH_AUTOSCALE_MIN,         /* raised to min */
  ORCH_AUTOSCALE_MAX,         /* cut to max */
  ORCH_AUTOSCALE_TREND,       /* up for the load ahead (lead_us) */
  ORCH_AUTOSCALE_FORECAST,    /* up for the forecast (proactive) */
} OrchAutoscaleReason;

typedef struct {
  gint64 time_us;
  OrchAutoscaleInput input;
  double average;    /* value_sum / measured (0 without figures) */
  double ratio;      /* the load per wanted replica / target */
  guint recommended; /* from the load alone */
  guint stabilized;  /* after the windows */
  guint from;        /* = input.current */
  guint to;          /* the decision */
  OrchAutoscaleReason reason;
} OrchAutoscaleDecision;

const char *orch_autoscale_reason_to_string (OrchAutoscaleReason reason);

typedef struct _OrchAutoscaler OrchAutoscaler;

OrchAutoscaler *orch_autoscaler_new (const OrchAutoscaleSettings *settings);
void orch_autoscaler_free (OrchAutoscaler *autoscaler);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchAutoscaler, orch_autoscaler_free)

const OrchAutoscaleSettings *orch_autoscaler_get_settings (OrchAutoscaler *autoscaler);

/* One decision at now_us (monotonic, increasing).  The autoscaler records
 * the recommendation and, when to != from, the change (for the rate
 * limits): the caller is expected to apply it. */
void orch_autoscaler_decide (OrchAutoscaler *autoscaler, gint64 now_us,
                             const OrchAutoscaleInput *input, OrchAutoscaleDecision *ret_decision);

/* A change made by hand (Scale): counted by the rate limits, and the
 * windows start again from it. */
void orch_autoscaler_note_manual (OrchAutoscaler *autoscaler, gint64 now_us, guint from, guint to);

/* The decision as a{sv}, what the `scaled` event carries. */
GVariant *orch_autoscale_decision_to_variant (const OrchAutoscaleDecision *decision);

G_END_DECLS
