/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-sampler.h"
#include "basic/orch-cgroup.h"
#include "basic/orch-error.h"
#include "basic/orch-fd-budget.h"
#include "orch-history.h"
#include "orch-job-stats.h"
#include "basic/orch-proc.h"
#include "orch-proc-tracker.h"
#include "basic/orch-metrics-parse.h"
#include "basic/orch-mounts.h"
#include "basic/orch-ring.h"
#include "basic/orch-vardict.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

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
  ORCH_SYSTEM_N_SERIES
} OrchSystemSeries;

/* Their keys in GetSystemHistory rows. */
static const char *const system_series_keys[] = {
  [ORCH_SYSTEM_SERIES_CPU_PERCENT] = "cpu_percent",
  [ORCH_SYSTEM_SERIES_MEMORY_USED] = "memory_used",
  [ORCH_SYSTEM_SERIES_MEMORY_PERCENT] = "memory_percent",
  [ORCH_SYSTEM_SERIES_SWAP_USED] = "swap_used",
  [ORCH_SYSTEM_SERIES_LOAD_1] = "load_1",
  [ORCH_SYSTEM_SERIES_LOAD_5] = "load_5",
  [ORCH_SYSTEM_SERIES_LOAD_15] = "load_15",
  [ORCH_SYSTEM_SERIES_NET_SEND_RATE] = "net_send_rate",
  [ORCH_SYSTEM_SERIES_NET_RECV_RATE] = "net_recv_rate",
  [ORCH_SYSTEM_SERIES_DISK_USED] = "disk_used",
};
G_STATIC_ASSERT (G_N_ELEMENTS (system_series_keys) == ORCH_SYSTEM_N_SERIES);

/* The per-job series kept in history: the ring's columns, in order. */
typedef enum {
  ORCH_JOB_SERIES_CPU_PERCENT,
  ORCH_JOB_SERIES_MEMORY_BYTES,
  ORCH_JOB_SERIES_IO_READ_BYTES,
  ORCH_JOB_SERIES_IO_WRITE_BYTES,
  ORCH_JOB_SERIES_TASKS,
  ORCH_JOB_N_SERIES
} OrchJobSeries;

/* Their keys in GetJobHistory rows. */
static const char *const job_series_keys[] = {
  [ORCH_JOB_SERIES_CPU_PERCENT] = "cpu_percent",
  [ORCH_JOB_SERIES_MEMORY_BYTES] = "memory_bytes",
  [ORCH_JOB_SERIES_IO_READ_BYTES] = "io_read_bytes",
  [ORCH_JOB_SERIES_IO_WRITE_BYTES] = "io_write_bytes",
  [ORCH_JOB_SERIES_TASKS] = "tasks",
};
G_STATIC_ASSERT (G_N_ELEMENTS (job_series_keys) == ORCH_JOB_N_SERIES);

/* Big enough for any per-job file; cgroup.procs of a huge job is cut. */
#define SCRATCH_SIZE (64 * 1024)

typedef struct {
  gint64 run;             /* job->started_at of the run being sampled */
  char *cgroup;
  OrchJobFiles files;     /* kept open for the run, unless uncached */
  gboolean open;          /* files opened for this run (or this tick) */
  gboolean uncached;      /* fds are short: opened, read and closed each tick */
  guint n_fds;            /* what files holds between ticks */
  OrchJobStats stats;
  gint64 time_us;         /* of stats, 0 = no sample yet */
  double cpu_percent;
  guint64 peak_seen;      /* procfs has no peak: the highest sampled */
  OrchRing *history;
  guint64 seen;           /* the last tick that found the job listed */
  const char *id;         /* the key in OrchSampler.jobs */
  const OrchJob *job;     /* compared, never followed: may be gone */
} JobEntry;

typedef enum { F_STAT, F_MEMINFO, F_LOADAVG, F_UPTIME, F_NETDEV, F_DISKSTATS, N_FILES } SysFile;
static const char *const sys_file_names[N_FILES] = { "stat", "meminfo", "loadavg", "uptime",
                                                     "net/dev", "diskstats" };

typedef struct {
  OrchNetDev dev;
  double rx_rate, tx_rate;  /* bytes/s since the previous tick */
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
} SystemSample;

struct _OrchSampler {
  const OrchConfig *config;
  OrchManager *manager;
  GHashTable *jobs;       /* id -> JobEntry */
  GPtrArray *by_pos;      /* JobEntry of the running job at each list position, last tick */
  GHashTable *groups;     /* pgid -> pids, for jobs without a cgroup */
  guint groups_age;       /* ticks since the /proc scan behind it */
  GHashTable *foreign;    /* pid -> Foreign, as of the last scan */
  guint64 scans;
  guint process_count;    /* as of the last /proc scan */
  guint count_age;        /* ticks counted, the count taken every count_ticks */
  guint count_ticks;      /* recounted every this many ticks: 5 s */
  guint second_ticks;     /* ticks in a second, at least 1 */
  guint disk_age;         /* ticks counted, diskstats read every second_ticks */
  gint64 disks_time_us;   /* when it was */
  gint64 detail_until;    /* monotonic: GetSystemDetailed was called lately */
  GArray *pids;           /* scratch */
  char *scratch;          /* scratch for file text */
  OrchProcTracker *procs;
  char *proc_root;
  int fds[N_FILES];
  int root_fd;            /* "/", for its disk figures without a path lookup */
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
  OrchRing *history;
  guint64 ticks;          /* sample_jobs() runs */
  guint64 cached_fds;     /* held by the jobs' files between ticks */
  gboolean fds_tight;     /* gave fds back lately: new runs start uncached */
  guint64 fd_cap;         /* the most cached_fds may be, from the limit */
  guint fd_probe_age;     /* ticks since free fds were counted, not estimated */
  guint fd_probe_ticks;   /* counted every this many ticks */
  guint timer;
  OrchSampledFunc sampled;
  gpointer user_data;
};

/* Reads a whole /proc file through its kept-open fd: pread at 0 makes the
 * kernel produce it afresh, with no open/close per tick.  Files of one
 * seq_file record (stat, meminfo, loadavg, uptime) come whole in one read,
 * so a short read ends them; net/dev and diskstats come a page at a time. */
static int
read_fd (OrchSampler *s, SysFile which, const char **ret_text, gsize *ret_len)
{
  int fd = s->fds[which];
  gboolean one_record = which != F_NETDEV && which != F_DISKSTATS;
  gsize len = 0;

  for (;;)
    {
      ssize_t n;
      if (s->buf->len - len < 4096)
        g_byte_array_set_size (s->buf, s->buf->len * 2);
      n = pread (fd, s->buf->data + len, s->buf->len - len - 1, (off_t) len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -errno;
        }
      if (n == 0)
        break;
      len += (gsize) n;
      if (one_record && (gsize) n < s->buf->len - (len - (gsize) n) - 1)
        break;
    }
  s->buf->data[len] = '\0';
  *ret_text = (const char *) s->buf->data;
  *ret_len = len;
  return 0;
}

/* Only /proc's directory tells how many processes there are, and reading
 * it costs a dentry lookup per process (0.9 ms with 2000 of them, twenty
 * times the rest of a tick): every 5 s, or with the process group scan. */
#define PROCESS_COUNT_MS 5000

static guint
count_processes (OrchSampler *s)
{
  struct dirent *de;
  guint n = 0;

  if (s->proc_dir == NULL)
    return 0;
  rewinddir (s->proc_dir);
  while ((de = readdir (s->proc_dir)))
    if (de->d_name[0] >= '1' && de->d_name[0] <= '9')
      n++;
  return n;
}

static void
read_disks (OrchSampler *s, gint64 now_us)
{
  double dt = s->disks_time_us ? (now_us - s->disks_time_us) / 1e6 : 0.0;
  const char *text;
  gsize len;

  if (s->fds[F_DISKSTATS] >= 0 && read_fd (s, F_DISKSTATS, &text, &len) == 0)
    {
      g_autoptr(GArray) disks = NULL;
      if (orch_parse_diskstats (text, len, &disks) == 0)
        {
          g_autoptr(GArray) rows = g_array_sized_new (FALSE, TRUE, sizeof (DiskRow), disks->len);
          for (guint i = 0; i < disks->len; i++)
            {
              DiskRow row = { .disk = g_array_index (disks, OrchDiskStat, i) };
              for (guint j = 0; dt > 0 && j < s->disks->len; j++)
                {
                  const DiskRow *p = &g_array_index (s->disks, DiskRow, j);
                  if (strcmp (p->disk.name, row.disk.name) != 0)
                    continue;
                  if (row.disk.read_sectors >= p->disk.read_sectors)
                    row.read_rate = (row.disk.read_sectors - p->disk.read_sectors) * 512.0 / dt;
                  if (row.disk.write_sectors >= p->disk.write_sectors)
                    row.write_rate = (row.disk.write_sectors - p->disk.write_sectors) * 512.0 / dt;
                }
              g_array_append_val (rows, row);
            }
          g_array_unref (s->disks);
          s->disks = g_steal_pointer (&rows);
        }
    }
  s->disks_time_us = now_us;
}

static void
take_sample (OrchSampler *s)
{
  SystemSample cur = { .time_us = g_get_real_time () };
  const char *text;
  gsize len;
  struct statvfs vfs;
  double dt, mem_used;
  double values[ORCH_SYSTEM_N_SERIES];

  if (s->fds[F_STAT] >= 0 && read_fd (s, F_STAT, &text, &len) == 0)
    {
      OrchSysStat st = { 0 };
      if (orch_parse_sys_stat (text, len, &st) == 0)
        {
          cur.cpu_count = st.cpus->len;
          cur.cpu_percent = s->have_prev ? orch_cpu_busy_percent (&s->prev_cpu, &st.total) : 0.0;
          g_array_set_size (s->cpu_percents, st.cpus->len);
          for (guint i = 0; i < st.cpus->len; i++)
            g_array_index (s->cpu_percents, double, i) =
                s->prev_cpus && i < s->prev_cpus->len
                    ? orch_cpu_busy_percent (&g_array_index (s->prev_cpus, OrchCpuTimes, i),
                                             &g_array_index (st.cpus, OrchCpuTimes, i))
                    : 0.0;
          s->prev_cpu = st.total;
          s->have_prev = TRUE;
          g_clear_pointer (&s->prev_cpus, g_array_unref);
          s->prev_cpus = g_steal_pointer (&st.cpus);
          orch_sys_stat_clear (&st);
        }
    }
  if (s->fds[F_MEMINFO] >= 0 && read_fd (s, F_MEMINFO, &text, &len) == 0)
    (void) orch_parse_meminfo (text, len, &cur.mem);
  if (s->fds[F_LOADAVG] >= 0 && read_fd (s, F_LOADAVG, &text, &len) == 0)
    (void) orch_parse_loadavg (text, len, &cur.load);
  if (s->boottime_uptime)
    {
      /* What /proc/uptime says, without a read. */
      struct timespec ts;
      if (clock_gettime (CLOCK_BOOTTIME, &ts) == 0)
        cur.uptime_s = ts.tv_sec + ts.tv_nsec / 1e9;
    }
  else if (s->fds[F_UPTIME] >= 0 && read_fd (s, F_UPTIME, &text, &len) == 0)
    (void) orch_parse_uptime (text, len, &cur.uptime_s);
  dt = s->last.time_us ? (cur.time_us - s->last.time_us) / 1e6 : 0.0;
  if (s->fds[F_NETDEV] >= 0 && read_fd (s, F_NETDEV, &text, &len) == 0)
    {
      g_autoptr(GArray) devs = NULL;
      if (orch_parse_net_dev (text, len, &devs) == 0)
        {
          g_autoptr(GArray) rows = g_array_sized_new (FALSE, TRUE, sizeof (NetRow), devs->len);
          for (guint i = 0; i < devs->len; i++)
            {
              NetRow row = { .dev = g_array_index (devs, OrchNetDev, i) };
              for (guint j = 0; dt > 0 && j < s->nets->len; j++)
                {
                  const NetRow *p = &g_array_index (s->nets, NetRow, j);
                  if (strcmp (p->dev.name, row.dev.name) != 0)
                    continue;
                  row.rx_rate = row.dev.rx_bytes >= p->dev.rx_bytes ? (row.dev.rx_bytes - p->dev.rx_bytes) / dt : 0;
                  row.tx_rate = row.dev.tx_bytes >= p->dev.tx_bytes ? (row.dev.tx_bytes - p->dev.tx_bytes) / dt : 0;
                }
              g_array_append_val (rows, row);
              if (strcmp (row.dev.name, "lo") == 0)
                continue; /* loopback traffic is not the host's network */
              cur.net_rx_bytes += row.dev.rx_bytes;
              cur.net_tx_bytes += row.dev.tx_bytes;
              cur.net_rx_packets += row.dev.rx_packets;
              cur.net_tx_packets += row.dev.tx_packets;
            }
          g_array_unref (s->nets);
          s->nets = g_steal_pointer (&rows);
        }
    }
  /* Per-disk figures are only in GetSystemDetailed: every tick while
   * someone asks for them, else about once a second. */
  if (s->disk_age++ % s->second_ticks == 0 || g_get_monotonic_time () < s->detail_until)
    read_disks (s, cur.time_us);
  if (s->root_fd >= 0 && fstatvfs (s->root_fd, &vfs) == 0)
    {
      cur.disk_total = (guint64) vfs.f_blocks * vfs.f_frsize;
      cur.disk_free = (guint64) vfs.f_bavail * vfs.f_frsize;
      /* As df: used excludes the blocks reserved for root. */
      cur.disk_used = (guint64) (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
    }
  if (s->count_age++ % s->count_ticks == 0)
    s->process_count = count_processes (s);
  cur.process_count = s->process_count;

  if (dt > 0)
    {
      /* Counters can go back (an interface went away): no negative rates. */
      cur.net_rx_rate = cur.net_rx_bytes >= s->last.net_rx_bytes
                            ? (cur.net_rx_bytes - s->last.net_rx_bytes) / dt : 0.0;
      cur.net_tx_rate = cur.net_tx_bytes >= s->last.net_tx_bytes
                            ? (cur.net_tx_bytes - s->last.net_tx_bytes) / dt : 0.0;
    }
  s->last = cur;

  mem_used = (double) (cur.mem.total - MIN (cur.mem.available, cur.mem.total));
  values[ORCH_SYSTEM_SERIES_CPU_PERCENT] = cur.cpu_percent;
  values[ORCH_SYSTEM_SERIES_MEMORY_USED] = mem_used;
  values[ORCH_SYSTEM_SERIES_MEMORY_PERCENT] = cur.mem.total ? 100.0 * mem_used / cur.mem.total : NAN;
  values[ORCH_SYSTEM_SERIES_SWAP_USED] =
      (double) (cur.mem.swap_total - MIN (cur.mem.swap_free, cur.mem.swap_total));
  values[ORCH_SYSTEM_SERIES_LOAD_1] = cur.load.load1;
  values[ORCH_SYSTEM_SERIES_LOAD_5] = cur.load.load5;
  values[ORCH_SYSTEM_SERIES_LOAD_15] = cur.load.load15;
  values[ORCH_SYSTEM_SERIES_NET_SEND_RATE] = cur.net_tx_rate;
  values[ORCH_SYSTEM_SERIES_NET_RECV_RATE] = cur.net_rx_rate;
  values[ORCH_SYSTEM_SERIES_DISK_USED] = (double) cur.disk_used;
  orch_ring_push (s->history, cur.time_us, values);
}

static void
job_entry_close (JobEntry *e)
{
  orch_job_files_close (&e->files);
  e->open = FALSE;
}

static void
job_entry_open (JobEntry *e)
{
  const char *mount;

  if (e->cgroup && e->cgroup[0] && orch_cgroup_v2_mount (&mount) == 0)
    {
      g_autofree char *dir = g_build_filename (mount, e->cgroup, NULL);
      orch_job_files_open (&e->files, dir);
    }
  else
    orch_job_files_open (&e->files, NULL);
  e->open = TRUE;
}

static void
job_entry_free (JobEntry *e)
{
  job_entry_close (e);
  g_free (e->cgroup);
  orch_ring_free (e->history);
  g_free (e);
}

/* A process no job holds, as the last scans saw it. */
typedef struct {
  ino_t ino;              /* of its /proc directory: a reused pid has another */
  pid_t pgrp;             /* 0: a zombie */
  guint reads;            /* scans since its stat was read */
  guint64 scan;           /* the last scan that saw it */
} Foreign;

/* A foreign process's stat is read again every this many scans, in case
 * it changed its group: those of jobs' processes are always fresh. */
#define FOREIGN_REREAD_SCANS 10

/* pgid -> GArray of pids, for jobs without a cgroup (none backend): one
 * /proc scan serves them all.  The processes of jobs were read this tick
 * or the last through their kept fds, so their group is known; the other
 * processes on the host are remembered by the inode of their /proc
 * directory, so only new ones have their stat file opened.  The scan
 * counts the processes too. */
static GHashTable *
scan_process_groups (OrchSampler *s)
{
  GHashTable *groups = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_array_unref);
  g_autoptr(GHashTable) known = g_hash_table_new (NULL, NULL);
  GHashTableIter it;
  gpointer value;
  struct dirent *de;
  guint count = 0;

  if (s->proc_dir == NULL)
    return groups;
  s->scans++;
  g_hash_table_iter_init (&it, s->jobs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      const JobEntry *e = value;
      for (guint i = 0; e->files.procs && i < e->files.procs->len; i++)
        {
          const OrchPidFiles *p = &g_array_index (e->files.procs, OrchPidFiles, i);
          if (p->pgrp > 0)
            g_hash_table_insert (known, GINT_TO_POINTER (p->pid), GINT_TO_POINTER (p->pgrp));
        }
    }
  rewinddir (s->proc_dir);
  while ((de = readdir (s->proc_dir)))
    {
      OrchProcStat st;
      char *end;
      long pid = strtol (de->d_name, &end, 10);
      pid_t pgrp;
      GArray *pids;

      if (*end || pid <= 0 || pid > G_MAXINT32)
        continue;
      count++;
      pgrp = GPOINTER_TO_INT (g_hash_table_lookup (known, GINT_TO_POINTER (pid)));
      if (pgrp == 0)
        {
          Foreign *f = g_hash_table_lookup (s->foreign, GINT_TO_POINTER (pid));
          if (f == NULL || f->ino != de->d_ino || ++f->reads >= FOREIGN_REREAD_SCANS)
            {
              if (orch_proc_read_stat_at (dirfd (s->proc_dir), (pid_t) pid, s->scratch, SCRATCH_SIZE, &st) < 0)
                continue;
              if (f == NULL)
                {
                  f = g_new0 (Foreign, 1);
                  g_hash_table_insert (s->foreign, GINT_TO_POINTER (pid), f);
                }
              f->ino = de->d_ino;
              f->pgrp = st.state == 'Z' ? 0 : st.pgrp;
              f->reads = 0;
            }
          f->scan = s->scans;
          pgrp = f->pgrp;
          if (pgrp == 0)
            continue;
        }
      pids = g_hash_table_lookup (groups, GINT_TO_POINTER (pgrp));
      if (pids == NULL)
        {
          pids = g_array_new (FALSE, FALSE, sizeof (pid_t));
          g_hash_table_insert (groups, GINT_TO_POINTER (pgrp), pids);
        }
      g_array_append_vals (pids, &(pid_t){ (pid_t) pid }, 1);
    }
  /* Forget the processes that are gone. */
  g_hash_table_iter_init (&it, s->foreign);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (((Foreign *) value)->scan != s->scans)
      g_hash_table_iter_remove (&it);
  s->process_count = count;
  s->count_age = 1;
  return groups;
}

/* @pos: the job's place in the manager's list, G_MAXUINT outside a tick.
 * The list keeps its order, so the entry found there last tick is mostly
 * the one: no hashing of the id. */
static JobEntry *
job_entry_for (OrchSampler *s, OrchJob *job, guint pos)
{
  JobEntry *e = NULL;

  if (pos < s->by_pos->len)
    {
      JobEntry *c = s->by_pos->pdata[pos];
      if (c && c->job == job && strcmp (c->id, job->id) == 0)
        e = c;
    }
  if (e == NULL)
    e = g_hash_table_lookup (s->jobs, job->id);
  if (e == NULL)
    {
      char *id = g_strdup (job->id);

      e = g_new0 (JobEntry, 1);
      e->run = -1; /* so the files are opened below */
      e->files.dir_fd = -1;
      for (int i = 0; i < ORCH_CG_N_FILES; i++)
        e->files.cg[i] = -1;
      e->history = orch_ring_new (ORCH_JOB_N_SERIES, s->config->job_history_size,
                                  s->config->job_history_coarse_size,
                                  s->config->job_history_coarse_step_s);
      e->id = id;
      g_hash_table_insert (s->jobs, id, e);
    }
  e->job = job;
  if (pos != G_MAXUINT)
    {
      if (pos >= s->by_pos->len)
        g_ptr_array_set_size (s->by_pos, pos + 1);
      s->by_pos->pdata[pos] = e;
    }
  /* A new run (restart), or a cgroup learned since: start over. */
  if (e->run != job->started_at || g_strcmp0 (e->cgroup, job->cgroup) != 0)
    {
      job_entry_close (e);
      g_free (e->cgroup);
      e->cgroup = g_strdup (job->cgroup);
      e->run = job->started_at;
      e->time_us = 0;
      e->peak_seen = 0;
      memset (&e->stats, 0, sizeof e->stats);
      /* Opened in sample_job(); kept only while fds are not short. */
      e->uncached = s->fds_tight || s->cached_fds + ORCH_CG_N_FILES + 1 > s->fd_cap;
    }
  return e;
}

/* Rescanned every this many ticks: a job's process group rarely changes,
 * and a scan reads every process on the host. */
#define GROUP_SCAN_TICKS 10

static JobEntry *
sample_job (OrchSampler *s, OrchJob *job, guint pos)
{
  JobEntry *e = job_entry_for (s, job, pos);
  const pid_t *pids = NULL;
  guint n_pids = 0;
  OrchJobStats now;
  gint64 t = g_get_real_time ();
  double values[ORCH_JOB_N_SERIES];
  gboolean refresh;

  e->seen = s->ticks;
  if (!e->open)
    job_entry_open (e);
  refresh = orch_job_files_tick (&e->files);

  if (e->files.dir_fd >= 0)
    {
      /* Between refreshes pids stays NULL: the last set is kept. */
      if (refresh && orch_job_files_want_pids (&e->files) &&
          orch_job_files_pids (&e->files, s->scratch, SCRATCH_SIZE, s->pids) == 0)
        {
          /* Not orchestrator-monitor, the job's parent in its cgroup: its
           * few pages are not the job's, and reading its /proc files
           * would double the work of the procfs fallback. */
          for (guint i = 0; i < s->pids->len; i++)
            if (job->monitor_pid > 0 && g_array_index (s->pids, pid_t, i) == job->monitor_pid)
              {
                g_array_remove_index_fast (s->pids, i);
                break;
              }
          pids = (const pid_t *) s->pids->data;
          n_pids = s->pids->len;
        }
    }
  else
    {
      GArray *group;
      if (s->groups == NULL)
        {
          s->groups = scan_process_groups (s);
          s->groups_age = 0;
        }
      /* The child made itself leader of its own group: pgid == pid. */
      group = g_hash_table_lookup (s->groups, GINT_TO_POINTER (job->pid));
      if (group)
        {
          pids = (const pid_t *) group->data;
          n_pids = group->len;
        }
      else if (job->pid > 0)
        {
          /* Started since the last scan: its main process at least. */
          pids = &job->pid;
          n_pids = 1;
        }
    }
  orch_job_stats_read (&e->files, pids, n_pids, refresh, s->proc_root, s->scratch, SCRATCH_SIZE,
                       &now);
  /* Counted either way: what it would hold if cached again. */
  e->n_fds = orch_job_files_count (&e->files);
  if (e->uncached)
    job_entry_close (e);

  if (e->time_us > 0 && t > e->time_us)
    {
      /* /proc counts only live processes, so its total can drop. */
      guint64 used = now.cpu_usage_usec > e->stats.cpu_usage_usec
                         ? now.cpu_usage_usec - e->stats.cpu_usage_usec : 0;
      e->cpu_percent = 100.0 * (double) used / (double) (t - e->time_us);
    }
  else if (job->started_at > 0 && t > job->started_at)
    /* First sample of the run: the average since it started. */
    e->cpu_percent = 100.0 * (double) now.cpu_usage_usec / (double) (t - job->started_at);
  e->peak_seen = MAX (e->peak_seen, now.memory_bytes);
  e->stats = now;
  e->time_us = t;

  job->cpu_percent = e->cpu_percent;
  job->memory_bytes = now.memory_bytes;

  values[ORCH_JOB_SERIES_CPU_PERCENT] = e->cpu_percent;
  values[ORCH_JOB_SERIES_MEMORY_BYTES] = (double) now.memory_bytes;
  values[ORCH_JOB_SERIES_IO_READ_BYTES] = now.io_source ? (double) now.io_read_bytes : NAN;
  values[ORCH_JOB_SERIES_IO_WRITE_BYTES] = now.io_source ? (double) now.io_write_bytes : NAN;
  values[ORCH_JOB_SERIES_TASKS] = (double) now.tasks;
  orch_ring_push (e->history, t, values);
  return e;
}

/* Under pressure (orch-fd-budget.h): closes the files of cached jobs until
 * @want fds are given back; those jobs are read with open/read/close from
 * then on, and so are new runs for a while. */
static guint
give_back_fds (guint want, gpointer data)
{
  OrchSampler *s = data;
  GHashTableIter it;
  gpointer value;
  guint given = 0;

  s->fds_tight = TRUE;
  g_hash_table_iter_init (&it, s->jobs);
  while (given < want && g_hash_table_iter_next (&it, NULL, &value))
    {
      JobEntry *e = value;
      if (!e->open || e->uncached)
        continue;
      given += orch_job_files_count (&e->files);
      job_entry_close (e);
      e->uncached = TRUE;
    }
  s->cached_fds -= MIN (s->cached_fds, given);
  orch_fd_budget_cache_held (give_back_fds, s, s->cached_fds);
  return given;
}

/* Once fds are plenty again, one uncached job a tick keeps its files. */
static void
recache_one (OrchSampler *s)
{
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, s->jobs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      JobEntry *e = value;
      if (e->uncached && e->seen == s->ticks && s->cached_fds + e->n_fds <= s->fd_cap)
        {
          e->uncached = FALSE; /* opened and kept from the next tick */
          return;
        }
    }
}

/* Free fds are counted (not estimated, orch-fd-budget.h) at least this
 * often: what the estimate does not see, e.g. the limit lowered under the
 * daemon, shows within it. */
#define FD_PROBE_MS 10000

/* The jobs' open files stay within their share of the fds: under the cap
 * the limit gives them, and handed back at once when fewer than the
 * headroom are free; taken again, a job a second, once fds are plenty.
 * @held is what they hold now, @running how many jobs run, @uncached how
 * many of them are read without keeping files. */
static void
balance_fds (OrchSampler *s, guint64 held, guint running, guint uncached)
{
  gboolean count = ++s->fd_probe_age >= s->fd_probe_ticks;

  if (count)
    s->fd_probe_age = 0;
  s->fd_cap = orch_fd_budget_cache_cap (orch_fd_budget_limit ());
  s->cached_fds = held;
  orch_fd_budget_cache_held (give_back_fds, s, held);
  if (held > s->fd_cap)
    give_back_fds ((guint) MIN (held - s->fd_cap, G_MAXUINT), s);
  else if (held > 0 && !orch_fd_budget_room_for (ORCH_FD_HEADROOM, running, count))
    give_back_fds (ORCH_FD_HEADROOM, s);
  else if ((s->fds_tight || uncached > 0) && s->ticks % s->second_ticks == 0 &&
           orch_fd_budget_room_for (ORCH_FD_HEADROOM + ORCH_FD_LAUNCH, running, FALSE))
    {
      s->fds_tight = FALSE;
      if (uncached > 0)
        recache_one (s);
    }
  orch_fd_budget_maintain ();
}

static void
sample_jobs (OrchSampler *s)
{
  g_autoptr(GPtrArray) jobs = NULL;
  GHashTableIter it;
  gpointer value;
  guint64 held = 0;
  guint running = 0, uncached = 0;

  if (s->manager == NULL)
    return;
  jobs = orch_manager_list (s->manager, NULL, NULL, NULL);
  s->ticks++;
  if (s->groups && ++s->groups_age >= GROUP_SCAN_TICKS)
    g_clear_pointer (&s->groups, g_hash_table_unref);
  for (guint i = 0; i < jobs->len; i++)
    {
      OrchJob *job = jobs->pdata[i];
      /* The next entry's ring, while this job's files are read. */
      if (i + 1 < s->by_pos->len && s->by_pos->pdata[i + 1])
        orch_ring_prefetch (((JobEntry *) s->by_pos->pdata[i + 1])->history);
      if (job->state == ORCH_JOB_RUNNING || job->state == ORCH_JOB_STOPPING)
        {
          JobEntry *e = sample_job (s, job, i);
          running++;
          if (e->uncached)
            uncached++;
          else
            held += e->n_fds;
        }
      else
        {
          /* Finished: keep the figures and history, drop the fd. */
          JobEntry *e = g_hash_table_lookup (s->jobs, job->id);
          if (e)
            {
              job_entry_close (e);
              e->seen = s->ticks;
            }
          if (i < s->by_pos->len)
            s->by_pos->pdata[i] = NULL;
          job->cpu_percent = 0.0;
        }
    }
  /* Only entries seen now stay in it, so none it holds is freed below. */
  if (s->by_pos->len > jobs->len)
    g_ptr_array_set_size (s->by_pos, jobs->len);
  /* Forget jobs that were removed: those the list above did not show. */
  g_hash_table_iter_init (&it, s->jobs);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (((JobEntry *) value)->seen != s->ticks)
      g_hash_table_iter_remove (&it);
  balance_fds (s, held, running, uncached);
}

void
orch_sampler_tick (OrchSampler *s)
{
  take_sample (s);
  sample_jobs (s);
  orch_proc_tracker_tick (s->procs);
  if (s->sampled)
    s->sampled (s, s->user_data);
}

static gboolean
tick_cb (gpointer data)
{
  orch_sampler_tick (data);
  return G_SOURCE_CONTINUE;
}

guint
orch_sampler_system_fields (OrchSampler *s, OrchSampleField fields[ORCH_SAMPLE_MAX_FIELDS])
{
  const SystemSample *c = &s->last;
  guint64 used = c->mem.total - MIN (c->mem.available, c->mem.total);
  guint64 swap_used = c->mem.swap_total - MIN (c->mem.swap_free, c->mem.swap_total);
  guint n = 0;

#define ADD(k, ty, value) G_STMT_START { \
    g_assert (n < ORCH_SAMPLE_MAX_FIELDS); \
    fields[n].key = k; \
    fields[n].type = #ty[0]; \
    fields[n++].v.ty = value; \
  } G_STMT_END
  ADD ("timestamp", t, (guint64) c->time_us);
  ADD ("cpu_percent", d, c->cpu_percent);
  ADD ("cpu_count", u, c->cpu_count);
  ADD ("memory_total", t, c->mem.total);
  ADD ("memory_available", t, c->mem.available);
  ADD ("memory_used", t, used);
  ADD ("memory_percent", d, c->mem.total ? 100.0 * used / c->mem.total : 0.0);
  ADD ("swap_total", t, c->mem.swap_total);
  ADD ("swap_used", t, swap_used);
  ADD ("swap_percent", d, c->mem.swap_total ? 100.0 * swap_used / c->mem.swap_total : 0.0);
  ADD ("load_1", d, c->load.load1);
  ADD ("load_5", d, c->load.load5);
  ADD ("load_15", d, c->load.load15);
  ADD ("uptime_s", d, c->uptime_s);
  ADD ("disk_total", t, c->disk_total);
  ADD ("disk_used", t, c->disk_used);
  ADD ("disk_free", t, c->disk_free);
  ADD ("disk_percent", d, c->disk_used + c->disk_free ? 100.0 * c->disk_used / (c->disk_used + c->disk_free) : 0.0);
  ADD ("net_bytes_sent", t, c->net_tx_bytes);
  ADD ("net_bytes_recv", t, c->net_rx_bytes);
  ADD ("net_packets_sent", t, c->net_tx_packets);
  ADD ("net_packets_recv", t, c->net_rx_packets);
  ADD ("net_send_rate", d, c->net_tx_rate);
  ADD ("net_recv_rate", d, c->net_rx_rate);
  ADD ("process_count", u, c->process_count);
#undef ADD
  return n;
}

GVariant *
orch_sampler_get_system (OrchSampler *s)
{
  OrchSampleField f[ORCH_SAMPLE_MAX_FIELDS];
  GVariant *entries[ORCH_SAMPLE_MAX_FIELDS];
  guint n = orch_sampler_system_fields (s, f);

  for (guint i = 0; i < n; i++)
    {
      GVariant *v = f[i].type == 't' ? g_variant_new_uint64 (f[i].v.t)
                    : f[i].type == 'u' ? g_variant_new_uint32 (f[i].v.u)
                                       : g_variant_new_double (f[i].v.d);
      entries[i] = g_variant_new_dict_entry (g_variant_new_string (f[i].key), g_variant_new_variant (v));
    }
  return g_variant_new_array (G_VARIANT_TYPE ("{sv}"), entries, n);
}

static GVariant *
pressure_dict (const char *proc_root)
{
  static const char *const kinds[] = { "cpu", "memory", "io" };
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/pressure/%s", proc_root, kinds[i]);
      g_autofree char *text = NULL;
      OrchPressure p;
      GVariantBuilder one;

      /* Kernels without PSI (or with it off) have no such files. */
      if (orch_read_small_file (path, &text) < 0 || orch_parse_pressure (text, strlen (text), &p) < 0)
        continue;
      g_variant_builder_init (&one, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&one, "{sv}", "some_avg10", g_variant_new_double (p.some_avg10));
      g_variant_builder_add (&one, "{sv}", "some_avg60", g_variant_new_double (p.some_avg60));
      g_variant_builder_add (&one, "{sv}", "some_avg300", g_variant_new_double (p.some_avg300));
      g_variant_builder_add (&one, "{sv}", "some_total_us", g_variant_new_uint64 (p.some_total_us));
      if (p.has_full)
        {
          g_variant_builder_add (&one, "{sv}", "full_avg10", g_variant_new_double (p.full_avg10));
          g_variant_builder_add (&one, "{sv}", "full_avg60", g_variant_new_double (p.full_avg60));
          g_variant_builder_add (&one, "{sv}", "full_avg300", g_variant_new_double (p.full_avg300));
          g_variant_builder_add (&one, "{sv}", "full_total_us", g_variant_new_uint64 (p.full_total_us));
        }
      g_variant_builder_add (&b, "{sv}", kinds[i], g_variant_builder_end (&one));
    }
  return g_variant_builder_end (&b);
}

static GVariant *
mounts_list (const char *proc_root)
{
  g_autofree char *fs_path = g_build_filename (proc_root, "filesystems", NULL);
  g_autofree char *mi_path = g_build_filename (proc_root, "self", "mountinfo", NULL);
  g_autofree char *fs = NULL, *mi = NULL;
  g_autoptr(GHashTable) real = NULL;
  g_autoptr(GPtrArray) mounts = NULL;
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  if (orch_read_small_file (fs_path, &fs) < 0 || orch_parse_filesystems (fs, &real) < 0 ||
      orch_read_small_file (mi_path, &mi) < 0 || orch_parse_mounts (mi, real, &mounts) < 0)
    return g_variant_builder_end (&b);
  for (guint i = 0; i < mounts->len; i++)
    {
      const OrchMount *m = mounts->pdata[i];
      struct statvfs vfs;
      GVariantBuilder one;
      guint64 total, used, avail;

      if (statvfs (m->mount_point, &vfs) < 0)
        continue;
      total = (guint64) vfs.f_blocks * vfs.f_frsize;
      used = (guint64) (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
      avail = (guint64) vfs.f_bavail * vfs.f_frsize;
      g_variant_builder_init (&one, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&one, "{sv}", "mount_point", g_variant_new_take_string (g_utf8_make_valid (m->mount_point, -1)));
      g_variant_builder_add (&one, "{sv}", "device", g_variant_new_take_string (g_utf8_make_valid (m->source, -1)));
      g_variant_builder_add (&one, "{sv}", "fstype", g_variant_new_string (m->fstype));
      g_variant_builder_add (&one, "{sv}", "total", g_variant_new_uint64 (total));
      g_variant_builder_add (&one, "{sv}", "used", g_variant_new_uint64 (used));
      g_variant_builder_add (&one, "{sv}", "free", g_variant_new_uint64 (avail));
      g_variant_builder_add (&one, "{sv}", "percent",
                             g_variant_new_double (used + avail ? 100.0 * used / (used + avail) : 0.0));
      g_variant_builder_add_value (&b, g_variant_builder_end (&one));
    }
  return g_variant_builder_end (&b);
}

/* How long per-disk figures are read on every tick after a
 * GetSystemDetailed. */
#define DETAIL_WANTED_US (10 * G_USEC_PER_SEC)

GVariant *
orch_sampler_get_system_detailed (OrchSampler *s)
{
  g_autoptr(GVariant) base = NULL;
  GVariantBuilder b, disks, nets;
  GVariantIter it;
  const char *key;
  GVariant *value;

  /* Asked for: per-disk figures on every tick for a while, and fresh now
   * if they were not read on the last one. */
  if (g_get_monotonic_time () >= s->detail_until && s->disks_time_us != s->last.time_us)
    read_disks (s, g_get_real_time ());
  s->detail_until = g_get_monotonic_time () + DETAIL_WANTED_US;
  base = g_variant_ref_sink (orch_sampler_get_system (s));

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&it, base);
  while (g_variant_iter_next (&it, "{&sv}", &key, &value))
    {
      g_variant_builder_add (&b, "{sv}", key, value);
      g_variant_unref (value);
    }
  g_variant_builder_add (&b, "{sv}", "cpus",
                         g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, s->cpu_percents->data,
                                                    s->cpu_percents->len, sizeof (double)));

  g_variant_builder_init (&disks, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < s->disks->len; i++)
    {
      const DiskRow *r = &g_array_index (s->disks, DiskRow, i);
      g_autofree char *part = g_strdup_printf ("/sys/class/block/%s/partition", r->disk.name);
      GVariantBuilder one;
      g_variant_builder_init (&one, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&one, "{sv}", "name", g_variant_new_take_string (g_utf8_make_valid (r->disk.name, -1)));
      g_variant_builder_add (&one, "{sv}", "major", g_variant_new_uint32 (r->disk.major));
      g_variant_builder_add (&one, "{sv}", "minor", g_variant_new_uint32 (r->disk.minor));
      g_variant_builder_add (&one, "{sv}", "partition", g_variant_new_boolean (g_file_test (part, G_FILE_TEST_EXISTS)));
      g_variant_builder_add (&one, "{sv}", "reads", g_variant_new_uint64 (r->disk.reads));
      g_variant_builder_add (&one, "{sv}", "writes", g_variant_new_uint64 (r->disk.writes));
      g_variant_builder_add (&one, "{sv}", "read_bytes", g_variant_new_uint64 (r->disk.read_sectors * 512));
      g_variant_builder_add (&one, "{sv}", "write_bytes", g_variant_new_uint64 (r->disk.write_sectors * 512));
      g_variant_builder_add (&one, "{sv}", "read_rate", g_variant_new_double (r->read_rate));
      g_variant_builder_add (&one, "{sv}", "write_rate", g_variant_new_double (r->write_rate));
      g_variant_builder_add_value (&disks, g_variant_builder_end (&one));
    }
  g_variant_builder_add (&b, "{sv}", "disks", g_variant_builder_end (&disks));

  g_variant_builder_init (&nets, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < s->nets->len; i++)
    {
      const NetRow *r = &g_array_index (s->nets, NetRow, i);
      GVariantBuilder one;
      g_variant_builder_init (&one, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&one, "{sv}", "name", g_variant_new_take_string (g_utf8_make_valid (r->dev.name, -1)));
      g_variant_builder_add (&one, "{sv}", "bytes_recv", g_variant_new_uint64 (r->dev.rx_bytes));
      g_variant_builder_add (&one, "{sv}", "bytes_sent", g_variant_new_uint64 (r->dev.tx_bytes));
      g_variant_builder_add (&one, "{sv}", "packets_recv", g_variant_new_uint64 (r->dev.rx_packets));
      g_variant_builder_add (&one, "{sv}", "packets_sent", g_variant_new_uint64 (r->dev.tx_packets));
      g_variant_builder_add (&one, "{sv}", "errors_recv", g_variant_new_uint64 (r->dev.rx_errs));
      g_variant_builder_add (&one, "{sv}", "errors_sent", g_variant_new_uint64 (r->dev.tx_errs));
      g_variant_builder_add (&one, "{sv}", "drops_recv", g_variant_new_uint64 (r->dev.rx_drop));
      g_variant_builder_add (&one, "{sv}", "drops_sent", g_variant_new_uint64 (r->dev.tx_drop));
      g_variant_builder_add (&one, "{sv}", "recv_rate", g_variant_new_double (r->rx_rate));
      g_variant_builder_add (&one, "{sv}", "send_rate", g_variant_new_double (r->tx_rate));
      g_variant_builder_add_value (&nets, g_variant_builder_end (&one));
    }
  g_variant_builder_add (&b, "{sv}", "interfaces", g_variant_builder_end (&nets));
  g_variant_builder_add (&b, "{sv}", "mounts", mounts_list (s->proc_root));
  g_variant_builder_add (&b, "{sv}", "pressure", pressure_dict (s->proc_root));
  return g_variant_builder_end (&b);
}

GVariant *
orch_sampler_get_system_history (OrchSampler *s, GVariant *options, GError **error)
{
  return orch_history_rows (s->history, system_series_keys, ORCH_SYSTEM_N_SERIES, options, error);
}

GVariant *
orch_sampler_get_job_history (OrchSampler *s, const char *id, GVariant *options, GError **error)
{
  OrchJob *job = s->manager ? orch_manager_lookup (s->manager, id, error) : NULL;
  JobEntry *e;

  if (job == NULL)
    return NULL;
  e = g_hash_table_lookup (s->jobs, id);
  if (e == NULL)
    {
      if (!orch_vardict_check (options, _("option"),
                               (const char *const[]){ "since", "t", "limit", "u", "step_s", "u", NULL },
                               error))
        return NULL;
      return g_variant_new_array (G_VARIANT_TYPE_VARDICT, NULL, 0);
    }
  return orch_history_rows (e->history, job_series_keys, ORCH_JOB_N_SERIES, options, error);
}


static void
add_pressure (GVariantBuilder *b, const char *what, gboolean have, const OrchPressure *p)
{
  g_autofree char *some = g_strdup_printf ("%s_pressure_some_avg10", what);
  g_autofree char *full = g_strdup_printf ("%s_pressure_full_avg10", what);

  if (!have)
    return;
  g_variant_builder_add (b, "{sv}", some, g_variant_new_double (p->some_avg10));
  if (p->has_full)
    g_variant_builder_add (b, "{sv}", full, g_variant_new_double (p->full_avg10));
}

GVariant *
orch_sampler_get_job (OrchSampler *s, const char *id, GError **error)
{
  OrchJob *job = s->manager ? orch_manager_lookup (s->manager, id, error) : NULL;
  JobEntry *e;
  const OrchJobStats *st;
  GVariantBuilder b, src;

  if (job == NULL)
    return NULL;
  e = g_hash_table_lookup (s->jobs, id);
  if ((e == NULL || e->time_us == 0) &&
      (job->state == ORCH_JOB_RUNNING || job->state == ORCH_JOB_STOPPING))
    {
      /* Asked before the first tick reached it: sample it now. */
      sample_job (s, job, G_MAXUINT);
      e = g_hash_table_lookup (s->jobs, id);
    }

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "id", g_variant_new_string (job->id));
  g_variant_builder_add (&b, "{sv}", "state", g_variant_new_string (orch_job_state_to_string (job->state)));
  g_variant_builder_add (&b, "{sv}", "timestamp", g_variant_new_uint64 (e ? (guint64) e->time_us : 0));
  if (e == NULL || e->time_us == 0)
    return g_variant_builder_end (&b);
  /* Pressure only when asked: it is not kept in history. */
  if (e->open)
    orch_job_stats_read_pressure (&e->files, &e->stats);
  else if (e->uncached && (job->state == ORCH_JOB_RUNNING || job->state == ORCH_JOB_STOPPING))
    {
      job_entry_open (e);
      orch_job_stats_read_pressure (&e->files, &e->stats);
      job_entry_close (e);
    }
  st = &e->stats;
  g_variant_builder_add (&b, "{sv}", "cpu_usage_usec", g_variant_new_uint64 (st->cpu_usage_usec));
  g_variant_builder_add (&b, "{sv}", "cpu_percent", g_variant_new_double (e->cpu_percent));
  g_variant_builder_add (&b, "{sv}", "memory_bytes", g_variant_new_uint64 (st->memory_bytes));
  g_variant_builder_add (&b, "{sv}", "memory_peak_bytes",
                         g_variant_new_uint64 (st->memory_peak_source ? st->memory_peak_bytes : e->peak_seen));
  g_variant_builder_add (&b, "{sv}", "io_read_bytes", g_variant_new_uint64 (st->io_read_bytes));
  g_variant_builder_add (&b, "{sv}", "io_write_bytes", g_variant_new_uint64 (st->io_write_bytes));
  g_variant_builder_add (&b, "{sv}", "tasks", g_variant_new_uint32 (st->tasks));
  g_variant_builder_add (&b, "{sv}", "oom_kills", g_variant_new_uint64 (st->oom_kills));
  add_pressure (&b, "cpu", st->have_cpu_pressure, &st->cpu_pressure);
  add_pressure (&b, "memory", st->have_memory_pressure, &st->memory_pressure);
  add_pressure (&b, "io", st->have_io_pressure, &st->io_pressure);

  /* Where each figure came from: the cgroup, or /proc over its pids. */
  g_variant_builder_init (&src, G_VARIANT_TYPE ("a{ss}"));
  g_variant_builder_add (&src, "{ss}", "cpu", orch_stat_source_to_string (st->cpu_source));
  g_variant_builder_add (&src, "{ss}", "memory", orch_stat_source_to_string (st->memory_source));
  g_variant_builder_add (&src, "{ss}", "memory_peak",
                         orch_stat_source_to_string (st->memory_peak_source ? st->memory_peak_source
                                                     : st->memory_source));
  g_variant_builder_add (&src, "{ss}", "io", orch_stat_source_to_string (st->io_source));
  g_variant_builder_add (&src, "{ss}", "tasks", orch_stat_source_to_string (st->tasks_source));
  g_variant_builder_add (&src, "{ss}", "oom_kills", orch_stat_source_to_string (st->oom_source));
  g_variant_builder_add (&b, "{sv}", "source", g_variant_builder_end (&src));
  return g_variant_builder_end (&b);
}

GVariant *
orch_sampler_get_process (OrchSampler *s, guint32 pid, GError **error)
{
  return orch_proc_tracker_get (s->procs, pid, error);
}

GVariant *
orch_sampler_get_process_history (OrchSampler *s, guint32 pid, GVariant *options, GError **error)
{
  return orch_proc_tracker_get_history (s->procs, pid, options, error);
}

guint
orch_sampler_interval_ms (OrchSampler *s)
{
  return s->config->sample_interval_ms;
}

guint
orch_sampler_history_size (OrchSampler *s)
{
  return s->config->history_size;
}

OrchSampler *
orch_sampler_new (const OrchConfig *config, const char *proc_root, OrchManager *manager,
                  OrchSampledFunc sampled, gpointer user_data, GError **error)
{
  g_autoptr(OrchSampler) s = g_new0 (OrchSampler, 1);
  int dfd;

  s->root_fd = open ("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  s->config = config;
  s->manager = manager;
  s->jobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) job_entry_free);
  s->by_pos = g_ptr_array_new ();
  s->foreign = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  s->pids = g_array_new (FALSE, FALSE, sizeof (pid_t));
  s->scratch = g_malloc (SCRATCH_SIZE);
  s->proc_root = g_strdup (proc_root ? proc_root : "/proc");
  s->procs = orch_proc_tracker_new (config, s->proc_root);
  s->fd_cap = orch_fd_budget_cache_cap (orch_fd_budget_limit ());
  orch_fd_budget_add_cache (give_back_fds, s);
  s->boottime_uptime = strcmp (s->proc_root, "/proc") == 0;
  s->sampled = sampled;
  s->user_data = user_data;
  s->second_ticks = MAX (1, 1000 / MAX (config->sample_interval_ms, 1));
  s->count_ticks = MAX (1, PROCESS_COUNT_MS / MAX (config->sample_interval_ms, 1));
  s->fd_probe_ticks = MAX (1, FD_PROBE_MS / MAX (config->sample_interval_ms, 1));
  s->cpu_percents = g_array_new (FALSE, TRUE, sizeof (double));
  s->nets = g_array_new (FALSE, TRUE, sizeof (NetRow));
  s->disks = g_array_new (FALSE, TRUE, sizeof (DiskRow));
  s->buf = g_byte_array_sized_new (16384);
  g_byte_array_set_size (s->buf, 16384);
  for (int i = 0; i < N_FILES; i++)
    {
      g_autofree char *path = g_build_filename (s->proc_root, sys_file_names[i], NULL);
      s->fds[i] = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
      if (s->fds[i] < 0)
        g_message ("%s: %s; its figures stay 0", path, g_strerror (errno));
    }
  if (s->fds[F_STAT] < 0 || s->fds[F_MEMINFO] < 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED,
                   _("cannot read %s/stat and %s/meminfo: is /proc mounted?"), s->proc_root,
                   s->proc_root);
      return NULL;
    }
  dfd = open (s->proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0 && (s->proc_dir = fdopendir (dfd)) == NULL)
    close (dfd);

  s->history = orch_ring_new (ORCH_SYSTEM_N_SERIES, config->history_size, config->history_coarse_size,
                              config->history_coarse_step_s);
  /* A first reading, so the first tick has a CPU baseline. */
  take_sample (s);
  s->timer = g_timeout_add (config->sample_interval_ms, tick_cb, s);
  return g_steal_pointer (&s);
}

void
orch_sampler_free (OrchSampler *s)
{
  if (s == NULL)
    return;
  if (s->timer)
    g_source_remove (s->timer);
  orch_fd_budget_remove_cache (give_back_fds, s);
  for (int i = 0; i < N_FILES; i++)
    if (s->fds[i] >= 0)
      close (s->fds[i]);
  if (s->proc_dir)
    closedir (s->proc_dir);
  if (s->root_fd >= 0)
    close (s->root_fd);
  g_clear_pointer (&s->history, orch_ring_free);
  g_clear_pointer (&s->by_pos, g_ptr_array_unref);
  g_clear_pointer (&s->jobs, g_hash_table_unref);
  g_clear_pointer (&s->groups, g_hash_table_unref);
  g_clear_pointer (&s->foreign, g_hash_table_unref);
  g_clear_pointer (&s->pids, g_array_unref);
  g_free (s->scratch);
  g_clear_pointer (&s->procs, orch_proc_tracker_free);
  g_byte_array_unref (s->buf);
  g_clear_pointer (&s->prev_cpus, g_array_unref);
  g_clear_pointer (&s->cpu_percents, g_array_unref);
  g_clear_pointer (&s->nets, g_array_unref);
  g_clear_pointer (&s->disks, g_array_unref);
  g_free (s->proc_root);
  g_free (s);
}
