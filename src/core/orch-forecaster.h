/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

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
 * daemon still knows (a template learns from its earlier runs). */
GVariant *
orch_forecaster_recommend (OrchSampler *s, OrchManager *m, const char *id, GError **error);

/* The proactive warning: called with each job forecast whose memory is
 * predicted to reach its limit within @warn_before_s (default 600 s).
 * The events interface is not there yet: this is where it plugs in. */
void orch_forecaster_warn_hook (const char *id, gint64 exhaustion_at_us, double confidence);

G_END_DECLS
