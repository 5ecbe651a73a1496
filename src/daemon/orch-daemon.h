/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basic/orch-config.h"
#include "core/orch-logs.h"
#include "core/orch-manager.h"
#include "core/orch-sampler.h"

#include <glib.h>

G_BEGIN_DECLS

/* The whole daemon: configuration, state, backend, manager, logs, sampler
 * and the D-Bus objects over them, built and torn down in one place, so
 * orchestratord's main() and in-process tests build it the same way. */
typedef struct _OrchDaemon OrchDaemon;

typedef struct {
  /* Where to serve.  Neither: the system bus.  @no_bus: none at all, the
   * engine alone (tests, benchmarks). */
  gboolean user;           /* the session bus, the user's systemd manager and state dir */
  const char *bus_address; /* any bus, e.g. a private one */
  gboolean no_bus;
  const char *config_path; /* NULL: the installed one, missing means defaults */
  /* Override the configuration file's; NULL: as configured. */
  const char *backend;
  const char *log_dir;
  const char *state_dir;
  const char *cgroup_root;
} OrchDaemonOptions;

/* Loads the configuration, picks the backend, locks the state directory,
 * connects to the bus and opens the state; nothing is served yet.
 * @options need not outlive the call. */
OrchDaemon *orch_daemon_new (const OrchDaemonOptions *options, GError **error);
/* Restores the jobs the state holds, starts logs, retention and sampling,
 * then takes the bus name: clients never see a half-loaded list.  The
 * work is done by the thread-default main loop (orch_daemon_run() or the
 * caller's own). */
gboolean orch_daemon_start (OrchDaemon *self, GError **error);
/* Runs the main loop until orch_daemon_quit() or the bus connection is
 * lost; FALSE if it was lost (a failure: the service manager restarts
 * the daemon). */
gboolean orch_daemon_run (OrchDaemon *self);
void orch_daemon_quit (OrchDaemon *self);
/* Gives up the bus name first, then frees everything in dependency order.
 * Running jobs keep running: they outlive the daemon by design. */
void orch_daemon_free (OrchDaemon *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchDaemon, orch_daemon_free)

const OrchConfig *orch_daemon_get_config (OrchDaemon *self);
OrchManager *orch_daemon_get_manager (OrchDaemon *self);
/* NULL until orch_daemon_start(). */
OrchLogs *orch_daemon_get_logs (OrchDaemon *self);
OrchSampler *orch_daemon_get_sampler (OrchDaemon *self);
/* NULL with [state] durable=false. */
OrchState *orch_daemon_get_state (OrchDaemon *self);

G_END_DECLS
