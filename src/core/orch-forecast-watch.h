/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-forecaster.h"

G_BEGIN_DECLS

/* The proactive memory warning: every @interval_s, the running jobs'
 * memory forecasts, one job per idle dispatch at low priority (never on
 * the sampling tick, never more than one fit between two other events);
 * a job forecast to reach its limit within @warn_before_s is reported
 * once, and again only after a forecast has put the crossing beyond
 * twice that (or the run, or the limit, changed). */
typedef struct _OrchForecastWatch OrchForecastWatch;

/* @id's warning: @data a{sv} (floating): limit, limit_source,
 * memory_bytes, exhaustion_at, confidence, warn_before_s, method. */
typedef void (*OrchForecastWarnFunc) (const char *id, gint64 now, GVariant *data,
                                      gpointer user_data);

/* @warn_before_s: for jobs whose spec has no memory_warn_before_s (0:
 * none for them; a job's own value still counts, and a job with 0 is
 * never forecast). */
OrchForecastWatch *
orch_forecast_watch_new (OrchSampler *s, OrchManager *m, guint warn_before_s, guint interval_s,
                         OrchForecastWarnFunc func, gpointer user_data);
void orch_forecast_watch_free (OrchForecastWatch *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchForecastWatch, orch_forecast_watch_free)

G_END_DECLS
