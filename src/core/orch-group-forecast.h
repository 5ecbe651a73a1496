/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-groups.h"
#include "orch-manager.h"
#include "orch-sampler.h"

G_BEGIN_DECLS

/* A group's proactive autoscale forecast: its members' cpu_percent or
 * memory_bytes summed, forecast @horizon_s ahead (orch_forecaster_group),
 * computed in one low-priority idle dispatch when asked for, never on the
 * groups' tick; at most one pending at a time, so at most one fit per
 * request (the caller asks once per decision period). */
typedef struct _OrchGroupForecast OrchGroupForecast;

/* @metric "cpu_percent" or "memory_bytes" (static). */
OrchGroupForecast *
orch_group_forecast_new (const char *group_id, const char *metric, guint32 horizon_s);
void orch_group_forecast_free (OrchGroupForecast *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchGroupForecast, orch_group_forecast_free)

/* Queues one fit unless one is pending.  The objects outlive @f. */
void orch_group_forecast_request (OrchGroupForecast *f, OrchSampler *s, OrchManager *m,
                                  OrchGroups *groups);

/* The newest forecast (the sum @horizon_s ahead), when one was made in
 * the last @max_age_us (monotonic @now_us); FALSE otherwise. */
gboolean
orch_group_forecast_latest (OrchGroupForecast *f, gint64 now_us, gint64 max_age_us, double *ret);

/* What the last fit cost (µs of wall time in the idle dispatch), for
 * the decision's inputs; 0 before the first. */
gint64 orch_group_forecast_cost_us (OrchGroupForecast *f);

G_END_DECLS
