/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basic/orch-config.h"

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Any pid a client asked about, sampled on every tick from then on (for
 * [metrics] process_track_s after the last question), with a history of
 * its own.  A pid reused by another process (its start time changed)
 * starts a new history. */
typedef struct _OrchProcTracker OrchProcTracker;

OrchProcTracker *orch_proc_tracker_new (const OrchConfig *config, const char *proc_root);
void orch_proc_tracker_free (OrchProcTracker *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchProcTracker, orch_proc_tracker_free)

/* Samples the tracked pids; forgets those gone or no longer asked about. */
void orch_proc_tracker_tick (OrchProcTracker *t);

/* The process's figures, a{sv}: pid, ppid, name, state, cmdline, uid,
 * cpu_percent, rss_bytes, vms_bytes, threads, open_fds, io_read_bytes,
 * io_write_bytes, start_time; NotFound for a pid that does not exist.
 * Starts (or extends) tracking. */
GVariant *orch_proc_tracker_get (OrchProcTracker *t, guint32 pid, GError **error);
/* options: since t, limit u, step_s u. */
GVariant *orch_proc_tracker_get_history (OrchProcTracker *t, guint32 pid, GVariant *options,
                                         GError **error);

G_END_DECLS
