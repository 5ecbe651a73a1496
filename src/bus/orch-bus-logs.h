/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-bus-auth.h"
#include "core/orch-logs.h"

#include <systemd/sd-bus.h>

G_BEGIN_DECLS

/* org.orchestrator.Logs on /org/orchestrator. */
typedef struct _OrchBusLogs OrchBusLogs;

OrchBusLogs *orch_bus_logs_new (sd_bus *bus, OrchLogs *logs, GError **error);
void orch_bus_logs_free (OrchBusLogs *self);
/* Who may call what; must be set before the name is taken. */
void orch_bus_logs_set_auth (OrchBusLogs *self, OrchBusAuth *auth);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchBusLogs, orch_bus_logs_free)

G_END_DECLS
