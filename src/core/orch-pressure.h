/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A PSI trigger per job and resource (cpu, memory, io): the kernel wakes
 * us (POLLPRI) when the job's "some" stall time passes the threshold
 * within the window, at most once a window; no sampling. */
typedef struct _OrchPressure OrchPressure;
typedef void (*OrchPressureFunc) (const char *id, const char *resource, guint64 threshold_us,
                                  guint64 window_us, gpointer user_data);

/* @threshold_us 0: no triggers at all. */
OrchPressure *orch_pressure_new (guint64 threshold_us, guint64 window_us, OrchPressureFunc func,
                                 gpointer user_data);
void orch_pressure_free (OrchPressure *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchPressure, orch_pressure_free)

/* Arms the triggers in the cgroup directory @dir for job @id, once (again
 * after an unwatch); resources whose file refuses a trigger are skipped. */
void orch_pressure_watch (OrchPressure *p, const char *id, const char *dir);
void orch_pressure_unwatch (OrchPressure *p, const char *id);

/* The trigger text for the kernel: "some THRESHOLD WINDOW". */
char *orch_pressure_trigger_text (guint64 threshold_us, guint64 window_us);

G_END_DECLS
