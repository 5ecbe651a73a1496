/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-bus-auth.h"
#include "core/orch-groups.h"

#include <systemd/sd-bus.h>

G_BEGIN_DECLS

/* org.orchestrator.Groups on /org/orchestrator. */
typedef struct _OrchBusGroups OrchBusGroups;

OrchBusGroups *orch_bus_groups_new (sd_bus *bus, GError **error);
void orch_bus_groups_free (OrchBusGroups *self);
/* Both must be set before the name is taken. */
void orch_bus_groups_set_groups (OrchBusGroups *self, OrchGroups *groups);
void orch_bus_groups_set_auth (OrchBusGroups *self, OrchBusAuth *auth);
/* An OrchGroupsChangedFunc (user data: the OrchBusGroups): GroupChanged. */
void orch_bus_groups_changed (const char *id, const char *event, GVariant *data, gpointer self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchBusGroups, orch_bus_groups_free)

G_END_DECLS
