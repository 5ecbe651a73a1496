/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basic/orch-launch-proto.h"
#include "basic/orch-spec.h"

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* The one place that makes job processes.  orch_launch_fork() starts a
 * child (vfork-like: the daemon's memory is not copied; straight into its
 * cgroup when it can, see in_cgroup) that waits on a pipe, so the caller
 * can put it into its cgroup or scope first; orch_launch_release() lets it go on: it becomes
 * orchestrator-monitor, which starts the command as its own child and
 * records how it ends.  The status fd (non-blocking) carries OrchLaunchMsg:
 * the command's pid, or the stage that failed; EOF once the command runs. */
typedef struct {
  pid_t pid;       /* the monitor (the held child before release) */
  int release_fd;  /* write end of the hold pipe, -1 once released */
  int status_fd;   /* read end of the status pipe */
  gboolean in_cgroup; /* started in params->cgroup_fd: no attach needed */
} OrchLaunch;

typedef struct {
  const OrchSpec *spec;     /* checked by orch_policy_check() */
  const char *job_id;
  int stdout_fd;            /* the job's log file, O_APPEND */
  int stderr_fd;            /* same fd as stdout_fd when merged */
  int exit_dir_fd;          /* where the monitor writes ID.exit */
  const char *monitor;      /* orchestrator-monitor's path */
  int cgroup_fd;            /* the job's cgroup2 directory to start in, or -1 */
} OrchLaunchParams;

gboolean orch_launch_fork (const OrchLaunchParams *params, OrchLaunch *out, GError **error);
/* Lets the held child exec.  FALSE (with errno set) if it is gone. */
gboolean orch_launch_release (OrchLaunch *launch);
/* Closes what is left open; does not touch the child. */
void orch_launch_clear (OrchLaunch *launch);

const char *orch_launch_stage_to_string (OrchLaunchStage stage);

/* Where orchestrator-monitor is: $ORCHESTRATOR_MONITOR, else next to the
 * running executable (a build tree), else the installed one. */
char *orch_launch_find_monitor (void);

/* The daemon raises its own soft open-file limit to the hard one (it
 * keeps files of every job open); jobs get back the soft limit it started
 * with, at most FD_SETSIZE (1024, as systemd gives its services: select()
 * breaks above it), and the hard one. */
void orch_launch_raise_nofile (void);

/* The environment a job starts with: a clean base (PATH, HOME, USER,
 * LOGNAME, SHELL, ORCHESTRATOR_JOB_ID) with the spec's env over it. */
char **orch_launch_build_env (const OrchSpec *spec, const char *job_id);

G_END_DECLS
