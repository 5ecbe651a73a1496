/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "bus/orch-bus-auth.h"
#include "core/orch-manager.h"
#include "core/orch-scheduler.h"

#include <systemd/sd-bus.h>

G_BEGIN_DECLS

/* The scheduler wired to the daemon: its runs are the manager's jobs, its
 * changes org.orchestrator.Schedules signals (@bus may be NULL). */
typedef struct _OrchDaemonSchedules OrchDaemonSchedules;

OrchDaemonSchedules *orch_daemon_schedules_new (OrchManager *manager, OrchState *state, sd_bus *bus,
                                                OrchBusAuth *auth, GError **error);
/* Loads and arms the stored schedules (after the manager's restore, so
 * their running jobs are known). */
gboolean orch_daemon_schedules_start (OrchDaemonSchedules *self, GError **error);
void orch_daemon_schedules_free (OrchDaemonSchedules *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchDaemonSchedules, orch_daemon_schedules_free)

/* From the manager's job_changed: a schedule's job that ended. */
void orch_daemon_schedules_job_changed (OrchDaemonSchedules *self, OrchJob *job);

OrchScheduler *orch_daemon_schedules_get (OrchDaemonSchedules *self);

G_END_DECLS
