/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the sampler's files share, for them alone:
 *   orch-sampler.c          life cycle and the tick
 *   orch-sampler-system.c   the system figures, read each tick
 *   orch-sampler-jobs.c     each job's figures, and the fds they keep open
 *   orch-sampler-records.c  the a{sv} records and history rows served */

#include "orch-sampler.h"
#include "basic/orch-metrics-parse.h"
#include "basic/orch-ring.h"
#include "orch-job-stats.h"
#include "orch-proc-tracker.h"

#include <dirent.h>

G_BEGIN_DECLS

/* The system series kept in history: the ring's columns, in order. */
typedef enum {
  ORCH_SYSTEM_SERIES_CPU_PERCENT,
  ORCH_SYSTEM_SERIES_MEMORY_USED,
  ORCH_SYSTEM_SERIES_MEMORY_PERCENT,
  ORCH_SYSTEM_SERIES_SWAP_USED,
  ORCH_SYSTEM_SERIES_LOAD_1,
  ORCH_SYSTEM_SERIES_LOAD_5,
  ORCH_SYSTEM_SERIES_LOAD_15,
  ORCH_SYSTEM_SERIES_NET_SEND_RATE,
  ORCH_SYSTEM_SERIES_NET_RECV_RATE,
  ORCH_SYSTEM_SERIES_DISK_USED,
  ORCH_SYSTEM_SERIES_PRESSURE_CPU,
  ORCH_SYSTEM_SERIES_PRESSURE_MEMORY,
  ORCH_SYSTEM_SERIES_PRESSURE_IO,
  ORCH_SYSTEM_N_SERIES
} OrchSystemSeries;

/* Their keys in GetSystemHistory rows, indexed by OrchSystemSeries; in
 * orch-sampler-records.c, checked against the enum there. */
extern const char *const orch_sampler_system_series_keys[];

/* The per-job series kept in history: the ring's columns, in order. */
typedef enum {
  ORCH_JOB_SERIES_CPU_PERCENT,
  ORCH_JOB_SERIES_MEMORY_BYTES,
  ORCH_JOB_SERIES_IO_READ_BYTES,
  ORCH_JOB_SERIES_IO_WRITE_BYTES,
  ORCH_JOB_SERIES_TASKS,
  ORCH_JOB_N_SERIES
} OrchJobSeries;

/* Their keys in GetJobHistory rows, indexed by OrchJobSeries; the same. */
extern const char *const orch_sampler_job_series_keys[];

/* The cgroup that holds jobs' cgroups (cgroupfs's root, a systemd
 * slice): its cpu.stat counts the CPU time of everything under it, so
 * while that stands still no process of any job there runs, and the
 * jobs' own files need not be read (orch-sampler-jobs.c). */
typedef struct {
  GHashTable *owner;  /* OrchSampler.trees, which holds it under */
  const char *path;   /* this key, owned by the table */
  guint refs;         /* running jobs' entries that point to it */
  int fd;             /* its cpu.stat, -1 if it has none */
  guint64 usage_usec; /* as of the tick below */
  gboolean have;
  gboolean quiet; /* usage did not move since the tick before */
  guint64 tick;   /* OrchSampler.ticks when read */
} JobTree;

typedef struct {
  gint64 run; /* job->started_at of the run being sampled */
  char *cgroup;
  OrchJobFiles files; /* kept open for the run, unless uncached */
  gboolean open;      /* files opened for this run (or this tick) */
  gboolean uncached;  /* fds are short: opened, read and closed each tick */
  guint n_fds;        /* what files holds between ticks */
  OrchJobStats stats;
  gint64 time_us; /* of stats, 0 = no sample yet */
  double cpu_percent;
  guint64 peak_seen; /* procfs has no peak: the highest sampled */
  OrchRing *history;
  guint64 seen;       /* the last tick that found the job listed */
  const char *id;     /* the key in OrchSampler.jobs */
  const OrchJob *job; /* compared, never followed: may be gone */
  JobTree *tree;      /* of its parent cgroup while it runs (a reference), or NULL */
  guint idle_reads;   /* refresh ticks read idle since a full read */
} JobEntry;

typedef enum {
  F_STAT,
  F_MEMINFO,
  F_LOADAVG,
  F_UPTIME,
  F_NETDEV,
  F_DISKSTATS,
  F_PRESSURE_CPU, /* the three PSI files, in this order */
  F_PRESSURE_MEMORY,
  F_PRESSURE_IO,
  N_FILES
} SysFile;
#define N_PRESSURE 3

typedef struct {
  OrchNetDev dev;
  double rx_rate, tx_rate; /* bytes/s since the previous tick */
} NetRow;

typedef struct {
  OrchDiskStat disk;
  double read_rate, write_rate;
} DiskRow;

typedef struct {
  gint64 time_us;
  double cpu_percent;
  guint cpu_count;
  OrchMeminfo mem;
  OrchLoadavg load;
  double uptime_s;
  guint64 disk_total, disk_used, disk_free;
  guint64 net_rx_bytes, net_tx_bytes, net_rx_packets, net_tx_packets;
  double net_rx_rate, net_tx_rate;
  guint process_count;
  double pressure[N_PRESSURE]; /* "some" avg10 of cpu, memory, io; NAN without PSI */
} SystemSample;

/* Each field belongs to the file whose job it serves (system figures,
 * jobs); orch-sampler-records.c reads them and only sets detail_until. */
struct _OrchSampler {
  const OrchConfig *config;
  OrchManager *manager;
  GHashTable *jobs;    /* id -> JobEntry */
  GPtrArray *by_pos;   /* JobEntry of the running job at each list position, last tick */
  GHashTable *groups;  /* pgid -> pids, for jobs without a cgroup */
  guint groups_age;    /* ticks since the /proc scan behind it */
  GHashTable *foreign; /* pid -> Foreign, as of the last scan */
  GHashTable *trees;   /* parent cgroup path -> JobTree */
  guint64 scans;
  guint process_count;   /* as of the last /proc scan */
  guint count_age;       /* ticks counted, the count taken every count_ticks */
  guint count_ticks;     /* recounted every this many ticks: 5 s */
  gboolean count_known;  /* count_forks and count_tasks are the last count's */
  guint64 count_forks;   /* /proc/stat "processes" then */
  guint32 count_tasks;   /* /proc/loadavg's task total then */
  guint64 count_nlink;   /* /proc's link count then, 0 if not known (orch-sampler-system.c) */
  guint count_kept;      /* counts kept since, by the link count alone */
  guint64 counts;        /* /proc listings made to count */
  gboolean nlink_counts; /* /proc's link count follows its processes */
  guint second_ticks;    /* ticks in a second, at least 1 */
  guint disk_age;        /* ticks counted, diskstats read every second_ticks */
  gint64 disks_time_us;  /* when it was */
  gint64 detail_until;   /* monotonic: GetSystemDetailed was called lately */
  GArray *pids;          /* scratch */
  char *scratch;         /* scratch for file text */
  OrchProcTracker *procs;
  char *proc_root;
  int fds[N_FILES];
  int root_fd;              /* "/", for its disk figures without a path lookup */
  gboolean boottime_uptime; /* the real /proc: uptime is CLOCK_BOOTTIME */
  DIR *proc_dir;
  GByteArray *buf;
  OrchCpuTimes prev_cpu;
  gboolean have_prev;
  SystemSample last;
  GArray *prev_cpus;      /* OrchCpuTimes of the previous tick */
  GArray *cpu_percents;   /* double per CPU */
  GArray *nets;           /* NetRow */
  GArray *disks;          /* DiskRow */
  GByteArray *disks_text; /* the diskstats text of disks, empty if it is not theirs */
  OrchRing *history;
  guint64 ticks;        /* orch_sampler_sample_jobs() runs */
  gint64 tick_time_us;  /* the time of every job sample of the last tick */
  guint64 cached_fds;   /* held by the jobs' files between ticks */
  gboolean fds_tight;   /* gave fds back lately: new runs start uncached */
  guint64 fd_cap;       /* the most cached_fds may be, from the limit */
  guint fd_probe_age;   /* ticks since free fds were counted, not estimated */
  guint fd_probe_ticks; /* counted every this many ticks */
  guint timer;
  OrchSampledFunc sampled;
  gpointer user_data;
};

/* orch-sampler-system.c.  Init opens the /proc files and takes a first
 * reading, the CPU baseline; it fails only when /proc is unreadable. */
gboolean orch_sampler_system_init (OrchSampler *s, GError **error);
void orch_sampler_system_clear (OrchSampler *s);
void orch_sampler_read_system (OrchSampler *s);
/* Per-disk figures, which the tick reads only about once a second. */
void orch_sampler_read_disks (OrchSampler *s, gint64 now_us);

/* orch-sampler-jobs.c */
void orch_sampler_jobs_init (OrchSampler *s);
void orch_sampler_jobs_clear (OrchSampler *s);
void orch_sampler_sample_jobs (OrchSampler *s);
/* The entry of @job as a record wants it (NULL or time_us 0: no sample). */
JobEntry *orch_sampler_job_latest (OrchSampler *s, OrchJob *job);

G_END_DECLS
