/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-job.h"

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* What orchestrator-monitor wrote when the job's process ended. */
typedef struct {
  pid_t pid;
  int status;           /* waitpid()'s */
  gint64 finished_at;   /* microseconds since the epoch */
} OrchExitRecord;

/* Parses ID.exit ("pid=N\nstatus=N\nfinished_at=N\n"); -EBADMSG if it is
 * not that. */
int orch_exit_record_parse (const char *text, gsize len, OrchExitRecord *out);
/* Reads @dir_fd/@id.exit: 0, -ENOENT, or another -errno. */
int orch_exit_record_read (int dir_fd, const char *id, OrchExitRecord *out);
void orch_exit_record_remove (int dir_fd, const char *id);

/* The start time of live process @pid (clock ticks after boot, the
 * identity that survives PID reuse); 0 if it is gone or a zombie. */
guint64 orch_process_start_time (pid_t pid);

/* The first child of @pid (the monitor's is the job's process), 0 if none. */
pid_t orch_process_first_child (pid_t pid);

typedef enum {
  ORCH_ADOPT_YES,       /* the job's monitor is alive and ours */
  ORCH_ADOPT_GONE,      /* nothing of the run is left */
  ORCH_ADOPT_STRANGER,  /* the pid lives, but is someone else now */
} OrchAdoptVerdict;

/* Whether the run recorded in @job can be supervised again: the monitor's
 * pid alive with the recorded start time, the job's pid too if it still
 * lives, and (with cgroups) the monitor still in the job's cgroup.  @why
 * says why not. */
OrchAdoptVerdict orch_reconcile_check (const OrchJob *job, char **why);

G_END_DECLS
