/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basic/orch-config.h"

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Who may call what: the rule, apart from sd-bus so it can be tested.
 * The D-Bus side (orch-bus-auth.c) feeds it the caller's uid. */
typedef enum {
  ORCH_ACCESS_PUBLIC,  /* introspection, Metrics: anyone */
  ORCH_ACCESS_READ,    /* Jobs.List/Get, job properties, Logs.Read/Open */
  ORCH_ACCESS_MANAGE,  /* everything that changes something */
} OrchAccess;

typedef enum {
  ORCH_AUTH_ALLOW,
  ORCH_AUTH_DENY,
  ORCH_AUTH_ASK_POLKIT, /* neither root nor in the group: polkit decides */
} OrchAuthVerdict;

#define ORCH_POLKIT_ACTION_MANAGE "org.orchestrator.manage-jobs"
#define ORCH_POLKIT_ACTION_READ "org.orchestrator.read"

/* The rule: root (and the daemon's own user) may do anything; members of @config's group may read
 * and manage; anyone may read where [auth] read=everyone; the rest is
 * polkit's to decide ([auth] polkit=true) or denied.  @gids are the
 * caller's groups (primary and supplementary). */
OrchAuthVerdict orch_auth_decide (const OrchConfig *config, OrchAccess access, uid_t uid,
                                  const gid_t *gids, gsize n_gids);

/* Same, with the groups of @uid from the user database: the bus tells
 * us the uid, not the groups.  A uid without an entry has no groups. */
OrchAuthVerdict orch_auth_decide_uid (const OrchConfig *config, OrchAccess access, uid_t uid);

const char *orch_auth_polkit_action (OrchAccess access);

/* The user a job of a Create @spec (a{sv}) from @caller runs as.  Root's
 * spec is kept as it is.  For anyone else a spec without "user" gets the
 * caller's uid (but the daemon's own user's spec is kept too: a daemon
 * that is not root cannot change users); one naming the caller is kept; one naming somebody else
 * sets @ret_other_user: only root or polkit's manage-jobs may do that.
 * Returns the spec to use (a new reference). */
GVariant *orch_auth_spec_run_as (GVariant *spec, uid_t caller, gboolean *ret_other_user);

G_END_DECLS
