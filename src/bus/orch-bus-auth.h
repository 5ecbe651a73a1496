/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "core/orch-auth.h"

#include <systemd/sd-bus.h>

G_BEGIN_DECLS

/* The daemon's own check of every caller (the bus policy is only the
 * first fence): the caller's uid from the bus, the rule of orch-auth.c,
 * and polkit, asked asynchronously, for callers the rule leaves to it. */
typedef struct _OrchBusAuth OrchBusAuth;

typedef int (*OrchBusHandler) (sd_bus_message *m, void *userdata, sd_bus_error *ret_error);

/* @config must outlive the object. */
OrchBusAuth *orch_bus_auth_new (sd_bus *bus, const OrchConfig *config);
/* Cancels the polkit questions still open (their calls get no reply). */
void orch_bus_auth_free (OrchBusAuth *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchBusAuth, orch_bus_auth_free)

/* Runs @handler for @m now if the caller may have @access, later (from
 * polkit's answer) if polkit must be asked, or fails with PermissionDenied.
 * Returns what a method handler returns.  @handler finds @m unread. */
int orch_bus_auth_gate (OrchBusAuth *self, sd_bus_message *m, OrchAccess access,
                        OrchBusHandler handler, void *userdata, sd_bus_error *ret_error);

/* As orch_bus_auth_gate() for what only root or polkit's manage-jobs may
 * do (run a job as another user): the group is not enough. */
int orch_bus_auth_gate_admin (OrchBusAuth *self, sd_bus_message *m,
                              OrchBusHandler handler, void *userdata, sd_bus_error *ret_error);

/* Defines method handler @name that runs @handler once the caller may
 * have @access; @type is the userdata's struct, with an "auth" member. */
#define ORCH_BUS_GATED(name, type, access, handler)                                 \
  static int name (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)      \
  {                                                                                 \
    return orch_bus_auth_gate (((type *) userdata)->auth, m, access, handler, userdata, \
                               ret_error);                                          \
  }

/* Synchronous, for property getters: allowed without asking polkit? */
int orch_bus_auth_check_now (OrchBusAuth *self, sd_bus_message *m, OrchAccess access,
                             sd_bus_error *ret_error);

/* The uid of @m's sender, from the bus (not from /proc), remembered per
 * unique name. */
int orch_bus_auth_caller_uid (OrchBusAuth *self, sd_bus_message *m, uid_t *ret_uid);

G_END_DECLS
