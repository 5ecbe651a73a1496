/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/orch-autoscale.h"

#include "basic/orch-error.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>

/* Kubernetes' rules are those of pkg/controller/podautoscaler
 * (replica_calculator.go, horizontal.go), rewritten from their documented
 * behaviour: docs/AUTOSCALING.md says where this one differs. */

typedef struct {
  gint64 time_us;
  guint replicas; /* for the scale-up window */
  guint held;     /* for the scale-down window */
} Recommendation;

typedef struct {
  gint64 time_us;
  gint delta; /* > 0 added, < 0 removed */
} ScaleEvent;

typedef struct {
  gint64 time_us;
  double load; /* value_sum with every wanted replica measured */
} LoadSample;

struct _OrchAutoscaler {
  OrchAutoscaleSettings settings;
  GArray *recommendations; /* Recommendation, oldest first */
  GArray *events;          /* ScaleEvent, oldest first */
  GArray *loads;           /* LoadSample, oldest first, for the trend */
};

#define S G_USEC_PER_SEC

void
orch_autoscale_settings_init (OrchAutoscaleSettings *settings, double target, guint min, guint max)
{
  *settings = (OrchAutoscaleSettings){
    .target = target,
    .min_replicas = min,
    .max_replicas = max,
    .tolerance = 0.1,
    .up_tolerance = 0,
    .up_window_us = 10 * S,
    .down_window_us = 300 * S,
    .down_decay = TRUE,
    .up_pods = 4,
    .up_percent = 100,
    .up_period_us = 15 * S,
    .down_pods = 0,
    .down_percent = 100,
    .down_period_us = 15 * S,
    /* Lead: a scale-up window, a rate period and a start; one standard
     * deviation of headroom: chosen on the principle, then checked on the
     * held-out traces (docs/AUTOSCALING.md). */
    .lead_us = 30 * S,
    .trend_window_us = 60 * S,
    .noise_headroom = 1.0,
    /* off by default: a forecast costs a fit per period */
    .proactive = FALSE,
    .proactive_horizon_us = 300 * S,
  };
}

void
orch_autoscale_settings_init_hpa (OrchAutoscaleSettings *settings, double target, guint min,
                                  guint max)
{
  orch_autoscale_settings_init (settings, target, min, max);
  settings->up_tolerance = 0.1;
  settings->up_window_us = 0;
  settings->down_decay = FALSE;
  settings->unready_as_zero = TRUE;
  settings->lead_us = 0;
  settings->trend_window_us = 0;
  settings->noise_headroom = 0;
  settings->proactive = FALSE;
}

/* One row per key: {"key", "type"}. */
// clang-format off
const char *const orch_autoscale_field_types[] = {
  "metric", "s",
  "target", "d",
  "min", "u",
  "max", "u",
  "period_ms", "u",
  "scale_down_window_s", "u",
  "scale_up_window_s", "u",
  "tolerance", "d",
  "up_tolerance", "d",
  "scale_up_pods", "u",
  "scale_up_percent", "d",
  "scale_down_pods", "u",
  "scale_down_percent", "d",
  "rate_period_s", "u",
  /* metric prometheus: where, and which series */
  "url", "s",
  "series", "s",
  /* the trend and the noise headroom */
  "lead_s", "u",
  "trend_window_s", "u",
  "noise_headroom", "d",
  /* scale for the forecast (cpu_percent, memory_bytes) */
  "proactive", "b",
  "proactive_horizon_s", "u",
  NULL
};
// clang-format on

gboolean
orch_autoscale_settings_check (const OrchAutoscaleSettings *s, GError **error)
{
  const char *bad = NULL;

  if (!(s->target > 0) || !isfinite (s->target))
    bad = "target";
  else if (s->max_replicas == 0)
    bad = "max";
  else if (s->min_replicas > s->max_replicas)
    bad = "min";
  else if (!(s->tolerance >= 0 && s->tolerance < 1))
    bad = "tolerance";
  else if (!(s->up_tolerance >= 0 && s->up_tolerance < 1))
    bad = "up_tolerance";
  else if (s->up_window_us < 0)
    bad = "scale_up_window";
  else if (s->down_window_us < 0)
    bad = "scale_down_window";
  else if (!(s->up_percent >= 0 && s->up_percent <= 10000))
    bad = "scale_up_percent";
  else if (!(s->down_percent >= 0 && s->down_percent <= 100))
    bad = "scale_down_percent";
  else if ((s->up_pods || s->up_percent > 0) && s->up_period_us <= 0)
    bad = "scale_up_period";
  else if ((s->down_pods || s->down_percent > 0) && s->down_period_us <= 0)
    bad = "scale_down_period";
  else if (s->ceiling < 0 || !isfinite (s->ceiling))
    bad = "ceiling";
  else if (s->lead_us < 0)
    bad = "lead_s";
  else if (s->trend_window_us < 0)
    bad = "trend_window_s";
  else if (!(s->noise_headroom >= 0 && s->noise_headroom <= 10))
    bad = "noise_headroom";
  else if (s->proactive &&
           !(s->proactive_horizon_us >= S && s->proactive_horizon_us <= (gint64) 86400 * S))
    bad = "proactive_horizon_s";
  if (!bad)
    return TRUE;
  g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
               _ ("autoscale: \"%s\" is out of range (min ≤ max, max > 0, target > 0, "
                  "tolerance in [0, 1), windows and periods ≥ 0)"),
               bad);
  return FALSE;
}

const char *
orch_autoscale_reason_to_string (OrchAutoscaleReason reason)
{
  static const char *const names[] = {
    [ORCH_AUTOSCALE_HOLD] = "within-tolerance",
    [ORCH_AUTOSCALE_NO_METRICS] = "no-metrics",
    [ORCH_AUTOSCALE_LOAD] = "load",
    [ORCH_AUTOSCALE_SATURATED] = "saturated",
    [ORCH_AUTOSCALE_STARTING] = "starting",
    [ORCH_AUTOSCALE_STABILIZING] = "stabilizing",
    [ORCH_AUTOSCALE_RATE_LIMIT] = "rate-limit",
    [ORCH_AUTOSCALE_MIN] = "min",
    [ORCH_AUTOSCALE_MAX] = "max",
    [ORCH_AUTOSCALE_TREND] = "trend",
    [ORCH_AUTOSCALE_FORECAST] = "forecast",
  };

  if ((guint) reason < G_N_ELEMENTS (names))
    return names[reason];
  return "unknown";
}

OrchAutoscaler *
orch_autoscaler_new (const OrchAutoscaleSettings *settings)
{
  OrchAutoscaler *a = g_new0 (OrchAutoscaler, 1);

  a->settings = *settings;
  a->recommendations = g_array_new (FALSE, FALSE, sizeof (Recommendation));
  a->events = g_array_new (FALSE, FALSE, sizeof (ScaleEvent));
  a->loads = g_array_new (FALSE, FALSE, sizeof (LoadSample));
  return a;
}

void
orch_autoscaler_free (OrchAutoscaler *a)
{
  if (!a)
    return;
  g_array_unref (a->recommendations);
  g_array_unref (a->events);
  g_array_unref (a->loads);
  g_free (a);
}

const OrchAutoscaleSettings *
orch_autoscaler_get_settings (OrchAutoscaler *a)
{
  return &a->settings;
}

static guint
ceil_replicas (double x)
{
  /* 1e-9: 2.0000000001 from rounding is 2, not 3 */
  x = ceil (x - 1e-9);
  if (x <= 0)
    return 0;
  return x >= G_MAXINT ? G_MAXINT : (guint) x;
}

/* HPA's replica calculation for a utilization metric: replicas without a
 * figure (pending, unready) are left out, and only on a scale-up put back
 * with zero load, which must still point up. */
static guint
recommend_hpa (const OrchAutoscaleSettings *s, const OrchAutoscaleInput *in, double ratio)
{
  guint unready = in->current > in->measured ? in->current - in->measured : 0;
  double new_ratio;
  guint n;

  if (!(unready > 0 && ratio > 1.0))
    {
      if (fabs (1.0 - ratio) <= s->tolerance)
        return in->current;
      return ceil_replicas (ratio * in->measured);
    }
  n = in->measured + unready;
  new_ratio = in->value_sum / (s->target * n);
  if (fabs (1.0 - new_ratio) <= s->tolerance || new_ratio < 1.0)
    return in->current;
  n = ceil_replicas (new_ratio * n);
  return n < in->current ? in->current : n;
}

static int
cmp_abs_double (const void *x, const void *y)
{
  double a = fabs (*(const double *) x), b = fabs (*(const double *) y);
  return (a > b) - (a < b);
}

/* The noise in @loads, robustly: the median absolute difference between
 * successive figures over 0.6745 √2 (a normal noise's σ), so that a step
 * (one large difference) or a trend (a small constant one) is not taken
 * for noise. */
static double
noise_sd (GArray *loads)
{
  g_autofree double *diff = NULL;
  guint n = loads->len - 1;
  double m;

  if (loads->len < 3)
    return 0;
  diff = g_new (double, n);
  for (guint i = 0; i < n; i++)
    diff[i] = g_array_index (loads, LoadSample, i + 1).load -
              g_array_index (loads, LoadSample, i).load;
  qsort (diff, n, sizeof *diff, cmp_abs_double);
  m = n % 2 ? fabs (diff[n / 2]) : (fabs (diff[n / 2 - 1]) + fabs (diff[n / 2])) / 2;
  return m / (0.6745 * G_SQRT2);
}

/* The load's rise per second over the trend window, 0 unless the
 * least-squares slope is positive and at least TREND_T standard errors
 * from 0 (noise alone rarely makes one). */
#define TREND_T 2.0
#define TREND_MIN_SAMPLES 6

static double
load_trend (OrchAutoscaler *a, gint64 now_us, const OrchAutoscaleInput *in, double *ret_sd)
{
  const OrchAutoscaleSettings *s = &a->settings;
  LoadSample sample = { now_us, in->value_sum };
  double n = 0, mx = 0, my = 0, sxx = 0, sxy = 0, sse = 0, slope, se;
  guint i;

  /* Only a figure for the whole group is the group's load. */
  if (in->measured < in->current || in->measured == 0)
    g_array_set_size (a->loads, 0);
  else
    g_array_append_val (a->loads, sample);
  for (i = 0; i < a->loads->len; i++)
    if (g_array_index (a->loads, LoadSample, i).time_us > now_us - s->trend_window_us)
      break;
  g_array_remove_range (a->loads, 0, i);
  *ret_sd = 0;
  if (a->loads->len < TREND_MIN_SAMPLES)
    return 0;
  for (i = 0; i < a->loads->len; i++)
    {
      LoadSample *l = &g_array_index (a->loads, LoadSample, i);
      n++;
      mx += (double) (l->time_us - now_us) / S;
      my += l->load;
    }
  mx /= n;
  my /= n;
  for (i = 0; i < a->loads->len; i++)
    {
      LoadSample *l = &g_array_index (a->loads, LoadSample, i);
      double x = (double) (l->time_us - now_us) / S - mx;
      sxx += x * x;
      sxy += x * (l->load - my);
    }
  if (sxx <= 0)
    return 0;
  slope = sxy / sxx;
  for (i = 0; i < a->loads->len; i++)
    {
      LoadSample *l = &g_array_index (a->loads, LoadSample, i);
      double x = (double) (l->time_us - now_us) / S - mx;
      double e = l->load - (my + slope * x);
      sse += e * e;
    }
  se = sqrt (sse / (n - 2) / sxx);
  *ret_sd = noise_sd (a->loads);
  return slope > TREND_T * se ? slope : 0;
}

static guint
recommend (OrchAutoscaler *a, const OrchAutoscaleInput *in, OrchAutoscaleDecision *d)
{
  const OrchAutoscaleSettings *s = &a->settings;
  guint r;

  if (in->measured == 0)
    {
      d->reason = ORCH_AUTOSCALE_NO_METRICS;
      return in->current;
    }
  d->average = in->value_sum / in->measured;
  if (s->unready_as_zero)
    {
      d->ratio = d->average / s->target;
      r = recommend_hpa (s, in, d->ratio);
      d->reason = r == in->current ? ORCH_AUTOSCALE_HOLD : ORCH_AUTOSCALE_LOAD;
      return r;
    }
  /* The measured replicas carry the whole demand until the others report:
   * the ratio is that demand over what all wanted replicas can take. */
  d->ratio = in->value_sum / (s->target * MAX (in->current, 1));
  if (s->ceiling > 0 && d->average >= 0.95 * s->ceiling && d->ratio > 1.0 + s->tolerance)
    {
      d->reason = ORCH_AUTOSCALE_SATURATED;
      return G_MAXINT;
    }
  if (d->ratio <= 1.0 + s->up_tolerance && d->ratio >= 1.0 - s->tolerance)
    {
      d->reason = ORCH_AUTOSCALE_HOLD;
      return in->current;
    }
  r = ceil_replicas (in->value_sum / s->target);
  if (r < in->current && in->measured < in->current)
    {
      d->reason = ORCH_AUTOSCALE_STARTING;
      return in->current;
    }
  d->reason = ORCH_AUTOSCALE_LOAD;
  return r;
}

static void
prune (OrchAutoscaler *a, gint64 now_us)
{
  const OrchAutoscaleSettings *s = &a->settings;
  gint64 keep_recs = MAX (s->up_window_us, s->down_window_us);
  gint64 keep_events = MAX (s->up_period_us, s->down_period_us);
  guint i;

  for (i = 0; i < a->recommendations->len; i++)
    if (g_array_index (a->recommendations, Recommendation, i).time_us > now_us - keep_recs)
      break;
  g_array_remove_range (a->recommendations, 0, i);
  for (i = 0; i < a->events->len; i++)
    if (g_array_index (a->events, ScaleEvent, i).time_us > now_us - keep_events)
      break;
  g_array_remove_range (a->events, 0, i);
}

/* Within the windows (strictly younger than them, as HPA's cutoffs): the
 * lowest recommendation for a scale-up, the highest for a scale-down. */
static guint
stabilize (OrchAutoscaler *a, gint64 now_us, guint current, guint recommended)
{
  const OrchAutoscaleSettings *s = &a->settings;
  guint up = recommended, down = recommended, r;

  for (guint i = 0; i < a->recommendations->len; i++)
    {
      Recommendation *rec = &g_array_index (a->recommendations, Recommendation, i);
      gint64 age = now_us - rec->time_us;

      if (age < s->up_window_us)
        up = MIN (up, rec->replicas);
      if (age < s->down_window_us && rec->held > recommended)
        {
          guint held = rec->held;
          if (s->down_decay)
            held = ceil_replicas (recommended +
                                  (double) (rec->held - recommended) *
                                      pow (1.0 - (double) age / s->down_window_us, 2));
          down = MAX (down, held);
        }
    }
  r = current;
  if (r < up)
    r = up;
  if (r > down)
    r = down;
  return r;
}

static void
period_changes (OrchAutoscaler *a, gint64 now_us, gint64 period_us, guint *added, guint *removed)
{
  *added = *removed = 0;
  for (guint i = 0; i < a->events->len; i++)
    {
      ScaleEvent *e = &g_array_index (a->events, ScaleEvent, i);
      if (e->time_us <= now_us - period_us)
        continue;
      if (e->delta > 0)
        *added += e->delta;
      else
        *removed += -e->delta;
    }
}

/* HPA's rate limits with selectPolicy Max: the largest change any policy
 * allows, from the replicas at the start of its period. */
static guint
rate_limit (OrchAutoscaler *a, gint64 now_us, guint current, guint wanted)
{
  const OrchAutoscaleSettings *s = &a->settings;
  guint added, removed;
  gint64 start;

  if (wanted > current)
    {
      gint64 limit = -1;

      if (!s->up_pods && s->up_percent <= 0)
        return wanted;
      period_changes (a, now_us, s->up_period_us, &added, &removed);
      start = (gint64) current - added + removed;
      if (s->up_pods)
        limit = MAX (limit, start + s->up_pods);
      if (s->up_percent > 0)
        limit = MAX (limit, (gint64) ceil (start * (1 + s->up_percent / 100.0)));
      limit = MAX (limit, current);
      return MIN ((gint64) wanted, limit);
    }
  if (wanted < current)
    {
      gint64 limit = G_MAXINT64;

      if (!s->down_pods && s->down_percent <= 0)
        return current;
      period_changes (a, now_us, s->down_period_us, &added, &removed);
      start = (gint64) current + removed - added;
      if (s->down_pods)
        limit = MIN (limit, start - (gint64) s->down_pods);
      if (s->down_percent > 0)
        limit = MIN (limit, (gint64) (start * (1 - s->down_percent / 100.0)));
      limit = MIN (limit, current);
      return MAX ((gint64) wanted, limit);
    }
  return wanted;
}

static void
record_change (OrchAutoscaler *a, gint64 now_us, guint from, guint to)
{
  ScaleEvent e = { now_us, (gint) to - (gint) from };

  if (to != from)
    g_array_append_val (a->events, e);
}

/* Proactive: the recommendation for max(now, forecast) when that is
 * higher.  The forecast is of the whole group, as value_sum is taken to
 * be (recommend() shares it over the wanted replicas); a saturated or
 * unmeasured group is left as it is. */
static void
forecast_ahead (OrchAutoscaler *a, const OrchAutoscaleInput *in, OrchAutoscaleDecision *d)
{
  OrchAutoscaleInput ahead = *in;
  OrchAutoscaleDecision scratch = *d;
  guint r;

  if (in->measured == 0 || d->recommended == G_MAXINT || !isfinite (in->forecast_sum) ||
      !(in->forecast_sum > in->value_sum))
    return;
  ahead.value_sum = in->forecast_sum;
  r = recommend (a, &ahead, &scratch);
  if (r > d->recommended && r != G_MAXINT)
    {
      d->recommended = r;
      d->reason = ORCH_AUTOSCALE_FORECAST;
    }
}

void
orch_autoscaler_decide (OrchAutoscaler *a, gint64 now_us, const OrchAutoscaleInput *in,
                        OrchAutoscaleDecision *d)
{
  const OrchAutoscaleSettings *s = &a->settings;
  Recommendation rec;
  guint wanted, to;

  *d = (OrchAutoscaleDecision){ .time_us = now_us, .input = *in, .from = in->current };
  prune (a, now_us);
  d->recommended = recommend (a, in, d);
  if (s->trend_window_us > 0 && (s->lead_us > 0 || s->noise_headroom > 0))
    {
      /* Ahead only upwards: a replica removed early is load over target
       * now.  The figures (average, ratio) stay those of now. */
      double sd = 0, slope = load_trend (a, now_us, in, &sd);
      double extra = slope * ((double) s->lead_us / S) + s->noise_headroom * sd;
      OrchAutoscaleInput ahead = *in;
      OrchAutoscaleDecision scratch = *d;
      guint r;

      ahead.value_sum += extra;
      r = extra > 0 && d->recommended != G_MAXINT ? recommend (a, &ahead, &scratch) : 0;
      if (r > d->recommended && r != G_MAXINT)
        {
          d->recommended = r;
          d->reason = ORCH_AUTOSCALE_TREND;
        }
    }
  if (s->proactive && in->has_forecast)
    forecast_ahead (a, in, d);
  d->stabilized = stabilize (a, now_us, in->current, d->recommended);

  if (d->stabilized != d->recommended)
    d->reason = ORCH_AUTOSCALE_STABILIZING;
  wanted = CLAMP (d->stabilized, s->min_replicas, s->max_replicas);
  to = rate_limit (a, now_us, in->current, wanted);
  if (to != wanted)
    d->reason = ORCH_AUTOSCALE_RATE_LIMIT;
  else if (wanted != d->stabilized)
    d->reason = wanted == s->max_replicas ? ORCH_AUTOSCALE_MAX : ORCH_AUTOSCALE_MIN;
  /* Outside [min, max] (settings just changed): back inside at once, as
   * HPA does. */
  if (to < s->min_replicas)
    to = s->min_replicas, d->reason = ORCH_AUTOSCALE_MIN;
  else if (to > s->max_replicas)
    to = s->max_replicas, d->reason = ORCH_AUTOSCALE_MAX;
  if (d->stabilized == G_MAXINT)
    d->stabilized = wanted;
  d->to = to;
  /* A saturated figure says "at least": the scale-up window keeps it so,
   * the scale-down window keeps what it was granted. */
  rec.time_us = now_us;
  rec.replicas = MIN (d->recommended, s->max_replicas);
  rec.held = d->recommended == G_MAXINT ? to : rec.replicas;
  g_array_append_val (a->recommendations, rec);
  record_change (a, now_us, d->from, to);
}

void
orch_autoscaler_note_manual (OrchAutoscaler *a, gint64 now_us, guint from, guint to)
{
  Recommendation rec = { now_us, to, to };

  prune (a, now_us);
  g_array_set_size (a->recommendations, 0);
  g_array_append_val (a->recommendations, rec);
  record_change (a, now_us, from, to);
}

GVariant *
orch_autoscale_decision_to_variant (const OrchAutoscaleDecision *d)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "time", g_variant_new_int64 (d->time_us));
  g_variant_builder_add (&b, "{sv}", "from", g_variant_new_uint32 (d->from));
  g_variant_builder_add (&b, "{sv}", "to", g_variant_new_uint32 (d->to));
  g_variant_builder_add (&b, "{sv}", "reason",
                         g_variant_new_string (orch_autoscale_reason_to_string (d->reason)));
  g_variant_builder_add (&b, "{sv}", "recommended", g_variant_new_uint32 (d->recommended));
  g_variant_builder_add (&b, "{sv}", "stabilized", g_variant_new_uint32 (d->stabilized));
  g_variant_builder_add (&b, "{sv}", "measured", g_variant_new_uint32 (d->input.measured));
  g_variant_builder_add (&b, "{sv}", "value_sum", g_variant_new_double (d->input.value_sum));
  g_variant_builder_add (&b, "{sv}", "average", g_variant_new_double (d->average));
  g_variant_builder_add (&b, "{sv}", "ratio", g_variant_new_double (d->ratio));
  if (d->input.has_forecast)
    g_variant_builder_add (&b, "{sv}", "forecast", g_variant_new_double (d->input.forecast_sum));
  return g_variant_builder_end (&b);
}
