/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basic/orch-config.h"
#include "orch-manager.h"
#include "orch-state.h"

#include <glib.h>

G_BEGIN_DECLS

/* Job groups: a job template and a replica count, kept by creating and
 * stopping ordinary jobs through the manager (each a replica, its record
 * carrying group_id and replica), optionally sized by the autoscaler
 * (basic/orch-autoscale.h) from the replicas' sampled figures.  Records
 * are persisted before a change is announced; at start the groups adopt
 * their replicas again (restore). */
typedef struct _OrchGroups OrchGroups;

/* @event: "added", "changed", "scaled" (@data: the decision, with its
 * inputs), "replica-failed" (@data: {replica u, error s}), "removed";
 * @data is the group's record for the others. */
typedef void (*OrchGroupsChangedFunc) (const char *id, const char *event, GVariant *data,
                                       gpointer user_data);

/* @state may be NULL (nothing persisted). */
OrchGroups *orch_groups_new (const OrchConfig *config, OrchManager *manager, OrchState *state,
                             OrchGroupsChangedFunc changed, gpointer user_data);
void orch_groups_free (OrchGroups *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchGroups, orch_groups_free)

/* After orch_manager_restore(): loads the groups, adopts the replicas
 * their records or the jobs' records name, stops duplicates. */
gboolean orch_groups_restore (OrchGroups *g, GError **error);

/* options: template a{sv} (required; Jobs.Create's spec, without
 * request_id or restart), replicas u, max_unavailable u, name s,
 * autoscale a{sv} (docs/API.md).  Returns the new id. */
char *orch_groups_create (OrchGroups *g, GVariant *options, GError **error);
GVariant *orch_groups_get (OrchGroups *g, const char *id, GError **error);
/* aa{sv}, by id */
GVariant *orch_groups_list (OrchGroups *g);
/* options: template, max_unavailable, autoscale (as Create's) */
gboolean orch_groups_update (OrchGroups *g, const char *id, GVariant *options, GError **error);
gboolean orch_groups_scale (OrchGroups *g, const char *id, guint replicas, GError **error);
gboolean orch_groups_remove (OrchGroups *g, const char *id, GVariant *options, GError **error);
gboolean orch_groups_exists (OrchGroups *g, const char *id);
/* The sampler a group's cpu_pressure and memory_pressure are read from. */
typedef struct _OrchSampler OrchSampler;
void orch_groups_set_sampler (OrchGroups *g, OrchSampler *sampler);

G_END_DECLS
