/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-bus-auth.h"
#include "core/orch-events.h"
#include "core/orch-manager.h"

#include <systemd/sd-bus.h>

G_BEGIN_DECLS

typedef struct _OrchBusJobs OrchBusJobs;

/* org.orchestrator.Jobs on /org/orchestrator, org.orchestrator.Job on
 * /org/orchestrator/job/<id>, and the ObjectManager. */
OrchBusJobs *orch_bus_jobs_new (sd_bus *bus, GError **error);
void orch_bus_jobs_free (OrchBusJobs *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchBusJobs, orch_bus_jobs_free)

void orch_bus_jobs_set_manager (OrchBusJobs *self, OrchManager *manager);
/* Who may call what; must be set before the name is taken. */
void orch_bus_jobs_set_auth (OrchBusJobs *self, OrchBusAuth *auth);
/* Where GetEvents reads; not owned. */
void orch_bus_jobs_set_events (OrchBusJobs *self, OrchEvents *events);
/* Jobs.JobEvent(s id, s kind, t time, a{sv} data). */
void orch_bus_jobs_emit_event (OrchBusJobs *self, const OrchEvent *ev);
/* For orch_manager_new(), with @self as user data. */
const OrchManagerCallbacks *orch_bus_jobs_callbacks (void);

G_END_DECLS
