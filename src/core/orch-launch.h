/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-spec.h"

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* The one place that makes job processes.  orch_launch_fork() forks a child
 * that waits on a pipe before it execs, so the caller can put it into its
 * cgroup or scope first; orch_launch_release() lets it go on; the status fd
 * reads EOF once exec succeeded, or an OrchLaunchFailure if it did not.
 * (The durable-state design puts orchestrator-monitor between this and the
 * job; it slots in here.) */
typedef struct {
  pid_t pid;
  int release_fd;  /* write end of the hold pipe, -1 once released */
  int status_fd;   /* read end of the exec status pipe */
} OrchLaunch;

typedef struct {
  gint32 stage;    /* OrchLaunchStage */
  gint32 error;    /* errno */
} OrchLaunchFailure;

typedef enum {
  ORCH_LAUNCH_STAGE_HOLD = 1,
  ORCH_LAUNCH_STAGE_STDIO,
  ORCH_LAUNCH_STAGE_USER,
  ORCH_LAUNCH_STAGE_CWD,
  ORCH_LAUNCH_STAGE_EXEC,
} OrchLaunchStage;

typedef struct {
  const OrchSpec *spec;     /* checked by orch_policy_check() */
  const char *job_id;
  int stdout_fd;            /* the job's log file, O_APPEND */
  int stderr_fd;            /* same fd as stdout_fd when merged */
} OrchLaunchParams;

gboolean orch_launch_fork (const OrchLaunchParams *params, OrchLaunch *out, GError **error);
/* Lets the held child exec.  FALSE (with errno set) if it is gone. */
gboolean orch_launch_release (OrchLaunch *launch);
/* Closes what is left open; does not touch the child. */
void orch_launch_clear (OrchLaunch *launch);

const char *orch_launch_stage_to_string (OrchLaunchStage stage);

/* The daemon raises its own open-file limit (it keeps files of every job
 * open); jobs get back the soft limit it started with. */
void orch_launch_raise_nofile (void);

/* The environment a job starts with: a clean base (PATH, HOME, USER,
 * LOGNAME, SHELL, ORCHESTRATOR_JOB_ID) with the spec's env over it. */
char **orch_launch_build_env (const OrchSpec *spec, const char *job_id);

G_END_DECLS
