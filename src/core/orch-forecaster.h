/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-groups.h"
#include "orch-manager.h"
#include "orch-sampler.h"

G_BEGIN_DECLS

/* Forecasts and recommendations on the sampler's history, read through
 * its history accessors (never the rings themselves), computed when asked
 * for: nothing here runs on the sampling tick. */

/* options: horizon_s u (default 3600, at most 7 days), step_s u (the
 * spacing of the points returned; default horizon_s / 60, at least the
 * sample interval).  a{sv}: cpu_percent and memory_bytes forecasts,
 * memory_exhaustion_* (see docs/API.md).  NotFound for an unknown job;
 * InvalidState with fewer than 2 samples. */
GVariant *orch_forecaster_job (OrchSampler *s, OrchManager *m, const char *id, GVariant *options,
                               GError **error);
/* The same for the host: memory_bytes is the used memory, the limit what
 * is used plus what is available. */
GVariant *orch_forecaster_system (OrchSampler *s, GVariant *options, GError **error);

/* a{sv}: memory_max, memory_high, cpu_quota, cpu_weight with reasons,
 * from the history of job @id and of the other jobs of the same name the
 * daemon still knows (a template learns from its earlier runs).  A
 * running job's memory values hold for @options' interval_s (u), else
 * @interval_s (the daemon's [forecast] recommend_interval_s);
 * InvalidArgument naming an unknown option or one out of range. */
GVariant *orch_forecaster_recommend (OrchSampler *s, OrchManager *m, const char *id,
                                     GVariant *options, guint32 interval_s, GError **error);

/* GetJobForecast for a job group: its members' figures summed per
 * sample tick (members that came and went included for their time);
 * the limit is the live members' own limits summed when each has one
 * (source "members"), else the host's.  NotFound for an unknown group. */
GVariant *orch_forecaster_group (OrchSampler *s, OrchManager *m, OrchGroups *groups, const char *id,
                                 GVariant *options, GError **error);

typedef struct {
  double limit;             /* memory_high, memory_max or the host's */
  const char *limit_source; /* static */
  gboolean own_limit;       /* FALSE: the host's available memory */
  double memory_bytes;      /* the newest sample */
  guint samples;
  const char *method;   /* static */
  double trend_per_s;   /* bytes a second of a followed rising trend, 0: none */
  gint64 exhaustion_at; /* µs, 0: not within the horizon */
  double searched_s;    /* how far ahead the forecast went */
  double confidence;    /* P(over the limit) at that time */
} OrchMemoryOutlook;

/* For the proactive warning (orch-forecast-watch): the job's memory only,
 * its forecast no further than @horizon_s.  InvalidState with fewer than
 * @min_samples samples. */
gboolean
orch_forecaster_memory_outlook (OrchSampler *s, OrchManager *m, const char *id, guint32 horizon_s,
                                guint min_samples, OrchMemoryOutlook *out, GError **error);

G_END_DECLS
