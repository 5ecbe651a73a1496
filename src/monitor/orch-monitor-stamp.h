/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/* log_timestamps: the job writes into pipes, the monitor stamps each line
 * with its time of arrival and appends it to the log (orch-log-record.h).
 * Merged stdout and stderr share one pipe, so their lines keep the order
 * in which the job wrote them; separate ones get a pipe and a log each. */
typedef struct {
  int log_fd[2];  /* where stdout's and stderr's records go (same when merged) */
  int pipe_rd[2]; /* the monitor's ends; pipe_rd[1] -1 when merged */
  int pipe_wr[2]; /* the job's ends, for fds 1 and 2 */
} OrchStamp;

/* Makes the pipes; -errno. */
int orch_stamp_setup (OrchStamp *s, int stdout_log, int stderr_log);
/* In the job's process, before exec: the pipes become its fds 1 and 2. */
int orch_stamp_child (const OrchStamp *s);
/* In the monitor: stamps output until @pid ends, drains what it left in
 * the pipes, and returns its waitpid() status (-1 when waiting failed). */
int orch_stamp_run (OrchStamp *s, pid_t pid);
