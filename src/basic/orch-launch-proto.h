/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What goes over a launch's status pipe, from the held child, then from
 * orchestrator-monitor and the job's process before exec: messages of two
 * ints, then EOF once the command runs.  Plain C: the monitor has no GLib. */
typedef struct {
  int kind;   /* ORCH_LAUNCH_MSG_PID or the OrchLaunchStage that failed */
  int value;  /* the job's pid, or errno */
} OrchLaunchMsg;

#define ORCH_LAUNCH_MSG_PID 0

typedef enum {
  ORCH_LAUNCH_STAGE_HOLD = 1,
  ORCH_LAUNCH_STAGE_STDIO,
  ORCH_LAUNCH_STAGE_USER,
  ORCH_LAUNCH_STAGE_CWD,
  ORCH_LAUNCH_STAGE_EXEC,
  ORCH_LAUNCH_STAGE_MONITOR,
  ORCH_LAUNCH_STAGE_EXIT_RECORD,
} OrchLaunchStage;

/* The fds orchestrator-monitor is started with (0-2 are stdio); it waits
 * for a byte on the hold fd before it starts the command. */
#define ORCH_MONITOR_EXIT_DIR_FD 3
#define ORCH_MONITOR_STATUS_FD 4
#define ORCH_MONITOR_HOLD_FD 5

/* The exit record: ID.exit in the state directory, written by the monitor
 * when the command ends (into ID.exit.tmp, made with this much space
 * allocated before the command runs, then renamed) and read, then
 * removed, by the daemon (orch-exit-record.h). */
#define ORCH_EXIT_RECORD_SUFFIX ".exit"
#define ORCH_EXIT_RECORD_TMP_SUFFIX ".exit.tmp"
#define ORCH_EXIT_RECORD_SPACE 512
/* pid, waitpid() status, finished_at in microseconds since the epoch. */
#define ORCH_EXIT_RECORD_FORMAT "pid=%d\nstatus=%d\nfinished_at=%lld\n"
