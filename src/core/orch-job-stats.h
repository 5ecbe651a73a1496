/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basic/orch-metrics-parse.h"

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

/* The files one job's figures come from, opened once per run and read
 * with pread on every tick: reopening costs 2.4-3.8x more, and a file a
 * hybrid host lacks is found missing once, not on every tick. */
typedef enum {
  ORCH_CG_CPU_STAT,
  ORCH_CG_MEMORY_CURRENT,
  ORCH_CG_MEMORY_PEAK,
  ORCH_CG_MEMORY_EVENTS,
  ORCH_CG_IO_STAT,
  ORCH_CG_PIDS_CURRENT,
  ORCH_CG_PROCS,
  ORCH_CG_N_FILES,
} OrchCgroupFile;

typedef struct {
  int dir_fd;               /* the job's cgroup directory, -1 without one */
  int cg[ORCH_CG_N_FILES];  /* -1: missing (or no cgroup) */
  GArray *procs;            /* OrchPidFiles of the pids seen last tick */
  guint ticks;
  /* /proc/PID/io totals, read every ORCH_JOB_REFRESH_TICKS ticks */
  guint64 io_read, io_write;
  gboolean io_ok;
  /* cpu.stat's usage as of the last read: kept while no process of the
   * job runs (see OrchPidFiles), on a host that has /proc read anyway */
  guint64 cpu_usec;
  gboolean have_cpu;
  gboolean ran_since_pids;  /* a process ran since the pid set was read */
  guint unread_refreshes;   /* refresh ticks that did not read the set */
  /* Released (orch_job_files_release()): fds closed, the rest kept, so
   * that the next open goes on where this one stopped and a process's
   * files open only when read. */
  gboolean released;
  guint cg_count;        /* fds of the cgroup's own at the last open */
  const char *proc_root; /* where pid files open, not owned */
  /* orch_job_files_count() as of the last change of the files: counted
   * again only after one (an open, a close, a new pid set), not on every
   * tick.  Zeroed: not known. */
  guint n_fds;
  gboolean n_fds_known;
} OrchJobFiles;

/* The slow-moving parts — which pids a cgroup holds, their io counters —
 * are read every this many ticks, not every tick: they cost as much as
 * everything else together, and a job's pid set rarely changes (an exit
 * shows at once: its stat file stops reading). */
#define ORCH_JOB_REFRESH_TICKS 5

/* Whether this tick reads the slow-moving parts; counts the tick. */
gboolean orch_job_files_tick (OrchJobFiles *f);

typedef struct {
  pid_t pid;
  int stat_fd;              /* /proc/PID/stat */
  int io_fd;                /* /proc/PID/io, -1 when not readable */
  int sched_fd;             /* /proc/PID/schedstat, -1 when not there */
  int statm_fd;             /* /proc/PID/statm, opened when first wanted */
  guint8 unopened;          /* ORCH_PID_FILE_* bits: fds released, opened again when read */
  pid_t pgrp;               /* as of the last read, 0 if it failed or a zombie */
  /* The last stat reading, and the run time (schedstat, ns) it was taken
   * at: a single-threaded process that has not run since has the same
   * CPU times and thread count, so stat is not read again (it costs four
   * times what schedstat does) until the next refresh tick. */
  gboolean have_last;
  guint64 run_ns;
  guint64 cpu_ticks;
  guint64 rss_bytes;
  guint32 threads;
  /* Likewise the last /proc/PID/io reading, and the run time it was at. */
  gboolean have_io;
  guint64 io_run_ns;
  guint64 io_read, io_write;
} OrchPidFiles;

enum {
  ORCH_PID_FILE_STAT = 1 << 0,
  ORCH_PID_FILE_IO = 1 << 1,
  ORCH_PID_FILE_SCHED = 1 << 2,
  ORCH_PID_FILE_STATM = 1 << 3,
  ORCH_PID_FILE_ALL = 0xf,
};

/* Opens what @cgroup_dir holds (NULL: a job without a cgroup).  After
 * orch_job_files_release() it only opens again, keeping the figures and
 * tick count of the run; otherwise a new run starts with a full read. */
void orch_job_files_open (OrchJobFiles *f, const char *cgroup_dir);
void orch_job_files_close (OrchJobFiles *f);
/* Closes every fd of @f but keeps what it read (the pid set, each
 * process's last figures, the tick count): a job whose files cannot stay
 * open (fds are short) then costs a tick what a kept one does, plus the
 * open and close of only the files that tick reads (mostly one schedstat
 * a process), not a full first read every tick. */
void orch_job_files_release (OrchJobFiles *f);
/* How many fds @f holds open, or would again once opened if released. */
guint orch_job_files_count (OrchJobFiles *f);

/* cgroup.procs is read on at least one refresh tick in this many. */
#define ORCH_JOB_PIDS_MAX_SKIPS 10

/* Whether a refresh tick should read the cgroup's pids: not when its own
 * files tell everything, nor when none of its processes has run since the
 * set was read (then none can have forked or exited). */
gboolean orch_job_files_want_pids (OrchJobFiles *f);

/* The pids of the job's cgroup into @pids (cleared first). */
int orch_job_files_pids (OrchJobFiles *f, char *scratch, gsize scratch_size, GArray *pids);

/* Reads the job's cgroup v2 files and falls back, figure by figure, to
 * /proc over @pids where a file is missing — as on a hybrid host, whose
 * unified tree has only cpu.stat.  @scratch is a buffer for file text.
 * Never fails: what cannot be read from either stays 0 with source NONE.
 * Pressure is not read here (see orch_job_stats_read_pressure). */
void orch_job_stats_read (OrchJobFiles *f, const pid_t *pids, guint n_pids, gboolean refresh,
                          const char *proc_root, char *scratch, gsize scratch_size,
                          OrchJobStats *ret);

/* For a tick on which nothing in the job can have run since @last was
 * read (its parent cgroup's CPU time has not moved): only what moves
 * without running is read again, memory (reclaim), and only on refresh
 * ticks; the rest of @last is the answer.  @ret may be @last. */
void orch_job_stats_read_idle (OrchJobFiles *f, const OrchJobStats *last, gboolean refresh,
                               char *scratch, gsize scratch_size, OrchJobStats *ret);

/* The pressure files, read when someone asks (GetJob), not every tick. */
void orch_job_stats_read_pressure (OrchJobFiles *f, OrchJobStats *stats);

G_END_DECLS
