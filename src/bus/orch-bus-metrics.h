/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "core/orch-sampler.h"

#include <systemd/sd-bus.h>

G_BEGIN_DECLS

/* org.orchestrator.Metrics on /org/orchestrator. */
typedef struct _OrchBusMetrics OrchBusMetrics;

OrchBusMetrics *orch_bus_metrics_new (sd_bus *bus, GError **error);
void orch_bus_metrics_set_sampler (OrchBusMetrics *self, OrchSampler *sampler);
void orch_bus_metrics_free (OrchBusMetrics *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchBusMetrics, orch_bus_metrics_free)

/* An OrchSampledFunc: emits SystemSampled.  @user_data is the OrchBusMetrics. */
void orch_bus_metrics_sampled (OrchSampler *sampler, gpointer user_data);

G_END_DECLS
