/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-metrics-parse.h"

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef enum {
  ORCH_SOURCE_NONE,     /* nothing could be read */
  ORCH_SOURCE_CGROUP,
  ORCH_SOURCE_PROCFS,
} OrchStatSource;

/* One reading of a job's figures.  Counters are cumulative. */
typedef struct {
  guint64 cpu_usage_usec;
  guint64 memory_bytes;
  guint64 memory_peak_bytes;
  guint64 io_read_bytes;
  guint64 io_write_bytes;
  guint32 tasks;
  guint64 oom_kills;
  OrchPressure cpu_pressure, memory_pressure, io_pressure;
  gboolean have_cpu_pressure, have_memory_pressure, have_io_pressure;
  OrchStatSource cpu_source, memory_source, memory_peak_source, io_source, tasks_source,
      oom_source;
} OrchJobStats;

const char *orch_stat_source_to_string (OrchStatSource source);

/* Reads the cgroup v2 files in @cgroup_fd (an O_DIRECTORY fd, or -1 when
 * the job has no cgroup) and falls back, figure by figure, to /proc over
 * @pids where a file is missing — as on a hybrid host, whose unified tree
 * has only cpu.stat and the pressure files.  Never fails: what cannot be
 * read from either stays 0 with source NONE. */
void orch_job_stats_read (int cgroup_fd, const pid_t *pids, guint n_pids, const char *proc_root,
                          OrchJobStats *ret);

/* The pids in @cgroup_fd's cgroup.procs. */
int orch_job_stats_cgroup_pids (int cgroup_fd, GArray **ret_pids);

G_END_DECLS
