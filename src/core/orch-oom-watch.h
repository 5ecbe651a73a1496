/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The memory events of the running jobs, told by the kernel, not sampled:
 * a job's cgroup v2 memory.events wakes poll() with POLLPRI when a counter
 * moves; a hybrid host's v1 memory.oom_control signals an eventfd
 * registered in cgroup.event_control when the group runs out of memory
 * (before the kill, so the counter is read again a moment later).
 * @oom_func hears each change of the oom_kill counter; @high_func the
 * "high" counter's rises (memory.high throttling), at most once a period
 * per job, with the rise since the last report. */
typedef struct _OrchOomWatch OrchOomWatch;
typedef void (*OrchOomFunc) (const char *id, guint64 oom_kill, gpointer user_data);
typedef void (*OrchHighFunc) (const char *id, guint64 high, guint64 delta, gpointer user_data);

OrchOomWatch *orch_oom_watch_new (guint64 high_period_us, OrchOomFunc oom_func,
                                  OrchHighFunc high_func, gpointer user_data);
void orch_oom_watch_free (OrchOomWatch *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchOomWatch, orch_oom_watch_free)

/* Watches @path (memory.events or memory.oom_control) for job @id, once
 * (again after a remove); the counters are read at once too. */
void orch_oom_watch_add (OrchOomWatch *w, const char *id, const char *path);
void orch_oom_watch_remove (OrchOomWatch *w, const char *id);
gboolean orch_oom_watch_has (OrchOomWatch *w, const char *id);

/* When a rise of the high counter is told: at once if @period_us has
 * passed since the last report at @last_us (0: none yet), else at the
 * returned time. */
gint64 orch_oom_high_due (gint64 now_us, gint64 last_us, guint64 period_us);

G_END_DECLS
