/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The proactive autoscale forecast.  Cost: one group forecast per request
 * (the members' sampler histories, bounded by the rings, summed, and one
 * fit of one series), in a G_PRIORITY_LOW idle dispatch: bus requests and
 * the sampling tick go first. */
#include "config.h"

#include "orch-group-forecast.h"
#include "orch-forecaster.h"

#include <math.h>

/* Fewer summed samples than this give a fit too noisy to scale on. */
#define MIN_POINTS 8

struct _OrchGroupForecast {
  char *id;
  const char *metric;
  guint32 horizon_s;
  OrchSampler *sampler;
  OrchManager *manager;
  OrchGroups *groups;
  guint idle_source;
  gboolean have;
  double value;
  gint64 at_us; /* monotonic */
  gint64 cost_us;
};

OrchGroupForecast *
orch_group_forecast_new (const char *group_id, const char *metric, guint32 horizon_s)
{
  OrchGroupForecast *f = g_new0 (OrchGroupForecast, 1);

  f->id = g_strdup (group_id);
  f->metric = metric;
  f->horizon_s = horizon_s;
  return f;
}

void
orch_group_forecast_free (OrchGroupForecast *f)
{
  if (f == NULL)
    return;
  if (f->idle_source)
    g_source_remove (f->idle_source);
  g_free (f->id);
  g_free (f);
}

/* The predicted sum at the horizon: the last point of the path. */
static gboolean
at_horizon (GVariant *reply, const char *metric, double *ret)
{
  g_autoptr(GVariant) series = g_variant_lookup_value (reply, metric, G_VARIANT_TYPE_VARDICT);
  g_autoptr(GVariant) predicted = NULL;
  guint32 points = 0;
  gsize n = 0;
  const double *p;

  if (series == NULL || !g_variant_lookup (series, "history_points", "u", &points) ||
      points < MIN_POINTS)
    return FALSE;
  predicted = g_variant_lookup_value (series, "predicted", G_VARIANT_TYPE ("ad"));
  if (predicted == NULL)
    return FALSE;
  p = g_variant_get_fixed_array (predicted, &n, sizeof (double));
  if (n == 0 || !isfinite (p[n - 1]))
    return FALSE;
  *ret = MAX (p[n - 1], 0);
  return TRUE;
}

static gboolean
idle_cb (gpointer data)
{
  OrchGroupForecast *f = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  /* One point, at the horizon. */
  g_autoptr(GVariant) options = g_variant_ref_sink (
      g_variant_new_parsed ("{'horizon_s': <%u>, 'step_s': <%u>}", f->horizon_s, f->horizon_s));
  gint64 start = g_get_monotonic_time ();
  double v;

  f->idle_source = 0;
  reply = orch_forecaster_group (f->sampler, f->manager, f->groups, f->id, options, &error);
  f->cost_us = g_get_monotonic_time () - start;
  if (reply && at_horizon (reply, f->metric, &v))
    {
      f->have = TRUE;
      f->value = v;
      f->at_us = g_get_monotonic_time ();
    }
  else if (error)
    g_debug ("group %s: no forecast: %s", f->id, error->message);
  return G_SOURCE_REMOVE;
}

void
orch_group_forecast_request (OrchGroupForecast *f, OrchSampler *s, OrchManager *m,
                             OrchGroups *groups)
{
  if (f->idle_source || s == NULL)
    return;
  f->sampler = s;
  f->manager = m;
  f->groups = groups;
  f->idle_source = g_idle_add_full (G_PRIORITY_LOW, idle_cb, f, NULL);
}

gboolean
orch_group_forecast_latest (OrchGroupForecast *f, gint64 now_us, gint64 max_age_us, double *ret)
{
  if (!f->have || now_us - f->at_us > max_age_us)
    return FALSE;
  *ret = f->value;
  return TRUE;
}

gint64
orch_group_forecast_cost_us (OrchGroupForecast *f)
{
  return f->cost_us;
}
