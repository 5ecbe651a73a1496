/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-bus-auth.h"
#include "core/orch-scheduler.h"

#include <systemd/sd-bus.h>

G_BEGIN_DECLS

typedef struct _OrchBusSchedules OrchBusSchedules;

/* org.orchestrator.Schedules on /org/orchestrator. */
OrchBusSchedules *orch_bus_schedules_new (sd_bus *bus, OrchBusAuth *auth, GError **error);
void orch_bus_schedules_free (OrchBusSchedules *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchBusSchedules, orch_bus_schedules_free)

void orch_bus_schedules_set_scheduler (OrchBusSchedules *self, OrchScheduler *scheduler);

/* ScheduleChanged, for the scheduler's changed/removed callbacks. */
void orch_bus_schedules_changed (OrchBusSchedules *self, OrchSchedule *sched);
void orch_bus_schedules_removed (OrchBusSchedules *self, const char *id);

/* For the schedule objects (orch-bus-schedule.c). */
OrchScheduler *orch_bus_schedules_scheduler (OrchBusSchedules *self);
OrchBusAuth *orch_bus_schedules_auth (OrchBusSchedules *self);
/* @sched's record (full reference). */
GVariant *orch_bus_schedules_record (OrchBusSchedules *self, const OrchSchedule *sched);

G_END_DECLS
