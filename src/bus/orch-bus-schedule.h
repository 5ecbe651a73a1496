/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-bus-schedules.h"

#include <systemd/sd-bus.h>

G_BEGIN_DECLS

#define ORCH_BUS_SCHEDULE_PREFIX "/org/orchestrator/schedule"
#define ORCH_BUS_SCHEDULE_IFACE "org.orchestrator.Schedule"

/* org.orchestrator.Schedule on ORCH_BUS_SCHEDULE_PREFIX/<id>: @vtable
 * (its methods are Schedules' handlers, which take the id from the path
 * for this interface) as a fallback, and a node enumerator, in
 * @slots[0..1]; negative errno. */
int orch_bus_schedule_export (sd_bus *bus, sd_bus_slot **slots, const sd_bus_vtable *vtable,
                              OrchBusSchedules *self);
/* The properties' getter: the schedule record's keys. */
int
orch_bus_schedule_prop (sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *ret_error);
char *orch_bus_schedule_path (const char *id);
/* The id in a schedule object's path, NULL if it is none. */
const char *orch_bus_schedule_id_from_path (const char *path);
/* PropertiesChanged for @id's object. */
void orch_bus_schedule_changed (sd_bus *bus, const char *id);

G_END_DECLS
