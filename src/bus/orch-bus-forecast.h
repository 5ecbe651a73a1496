/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-bus-auth.h"
#include "core/orch-groups.h"
#include "core/orch-manager.h"
#include "core/orch-sampler.h"

#include <systemd/sd-bus.h>

G_BEGIN_DECLS

/* The forecast methods, added to org.orchestrator.Metrics
 * (GetJobForecast, GetSystemForecast) and org.orchestrator.Jobs
 * (GetRecommendation, GetRecommendationWith) on /org/orchestrator as vtables of their own. */
typedef struct _OrchBusForecast OrchBusForecast;

/* @sampler, @manager, @auth must outlive the object. */
OrchBusForecast *orch_bus_forecast_new (sd_bus *bus, OrchSampler *sampler, OrchManager *manager,
                                        OrchBusAuth *auth, GError **error);
void orch_bus_forecast_free (OrchBusForecast *self);
/* GetJobForecast answers for job groups too (their ids) once set. */
void orch_bus_forecast_set_groups (OrchBusForecast *self, OrchGroups *groups);
/* How long a recommendation's memory values hold when the caller does
 * not say ([forecast] recommend_interval_s; an hour until set). */
void orch_bus_forecast_set_recommend_interval (OrchBusForecast *self, guint32 interval_s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchBusForecast, orch_bus_forecast_free)

G_END_DECLS
