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
