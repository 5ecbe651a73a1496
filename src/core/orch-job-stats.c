/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-job-stats.h"
#include "basic/orch-cgroup.h"
#include "basic/orch-fileio.h"
#include "basic/orch-proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const cg_names[ORCH_CG_N_FILES] = {
  [ORCH_CG_CPU_STAT] = "cpu.stat",
  [ORCH_CG_MEMORY_CURRENT] = "memory.current",
  [ORCH_CG_MEMORY_PEAK] = "memory.peak",
  [ORCH_CG_MEMORY_EVENTS] = "memory.events",
  [ORCH_CG_IO_STAT] = "io.stat",
  [ORCH_CG_PIDS_CURRENT] = "pids.current",
  [ORCH_CG_PROCS] = "cgroup.procs",
};

const char *
orch_stat_source_to_string (OrchStatSource source)
{
  switch (source)
    {
    case ORCH_SOURCE_CGROUP:
      return "cgroup";
    case ORCH_SOURCE_PROCFS:
      return "procfs";
    case ORCH_SOURCE_NONE:
    default:
      return "none";
    }
}

/* The whole file behind @fd, from offset 0, NUL-terminated in @buf.
 * @one_record: the file is a single seq_file record (/proc/PID/stat, a
 * cgroup's cpu.stat...), which the kernel hands out whole, so a read
 * shorter than asked is the end: no second read just to see 0.  Files of
 * many records (cgroup.procs) come a page at a time: read to 0, unless
 * the first page had room left (orch_seq_first_read_is_whole()). */
static gssize
pread_all (int fd, char *buf, gsize size, gboolean one_record)
{
  gsize len = 0;

  if (fd < 0)
    return -EBADF;
  while (len < size - 1)
    {
      ssize_t n = pread (fd, buf + len, size - 1 - len, (off_t) len);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return -errno;
        }
      if (n == 0)
        break;
      len += (gsize) n;
      if (one_record && (gsize) n < size - 1 - (len - (gsize) n))
        break;
      if (!one_record && len == (gsize) n && size > 4096 && orch_seq_first_read_is_whole (len))
        break;
    }
  buf[len] = '\0';
  return (gssize) len;
}

static gssize
read_at (int dir_fd, const char *name, char *buf, gsize size)
{
  int fd = openat (dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  gssize n;

  if (fd < 0)
    return -errno;
  n = pread_all (fd, buf, size, TRUE);
  close (fd);
  return n;
}

void
orch_job_files_open (OrchJobFiles *f, const char *cgroup_dir)
{
  f->n_fds_known = FALSE;
  f->dir_fd = cgroup_dir ? open (cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  f->cg_count = f->dir_fd >= 0;
  for (int i = 0; i < ORCH_CG_N_FILES; i++)
    {
      f->cg[i] = f->dir_fd >= 0 ? openat (f->dir_fd, cg_names[i], O_RDONLY | O_CLOEXEC | O_NOCTTY)
                                : -1;
      f->cg_count += f->cg[i] >= 0;
    }
  if (f->released && f->procs)
    {
      f->released = FALSE;
      return; /* the same run, on from where it was released */
    }
  f->released = FALSE;
  if (f->procs == NULL)
    f->procs = g_array_new (FALSE, FALSE, sizeof (OrchPidFiles));
  /* A new run starts with a full read. */
  f->ticks = 0;
  f->io_read = f->io_write = 0;
  f->io_ok = FALSE;
  f->have_cpu = FALSE;
  f->ran_since_pids = FALSE;
  f->unread_refreshes = 0;
}

static void
pid_files_close (OrchPidFiles *p)
{
  if (p->stat_fd >= 0)
    close (p->stat_fd);
  if (p->io_fd >= 0)
    close (p->io_fd);
  if (p->sched_fd >= 0)
    close (p->sched_fd);
  if (p->statm_fd >= 0)
    close (p->statm_fd);
}

static void
cg_files_close (OrchJobFiles *f)
{
  for (int i = 0; i < ORCH_CG_N_FILES; i++)
    {
      if (f->cg[i] >= 0)
        close (f->cg[i]);
      f->cg[i] = -1;
    }
  if (f->dir_fd >= 0)
    close (f->dir_fd);
  f->dir_fd = -1;
}

void
orch_job_files_close (OrchJobFiles *f)
{
  f->n_fds_known = FALSE;
  cg_files_close (f);
  for (guint i = 0; f->procs && i < f->procs->len; i++)
    pid_files_close (&g_array_index (f->procs, OrchPidFiles, i));
  g_clear_pointer (&f->procs, g_array_unref);
  f->released = FALSE;
}

void
orch_job_files_release (OrchJobFiles *f)
{
  f->n_fds_known = FALSE;
  cg_files_close (f);
  for (guint i = 0; f->procs && i < f->procs->len; i++)
    {
      OrchPidFiles *p = &g_array_index (f->procs, OrchPidFiles, i);
      pid_files_close (p);
      p->stat_fd = p->io_fd = p->sched_fd = p->statm_fd = -1;
      p->unopened = ORCH_PID_FILE_ALL;
    }
  f->released = f->procs != NULL;
}

/* @p's file @which, opened now if it was released. */
static int
pid_fd (OrchJobFiles *f, OrchPidFiles *p, guint8 which, int *fd)
{
  static const char *const names[] = { "stat", "io", "schedstat", "statm" };

  if (p->unopened & which)
    {
      char path[64];
      p->unopened &= (guint8) ~which;
      f->n_fds_known = FALSE; /* the open may fail */
      g_snprintf (path, sizeof path, "%s/%d/%s", f->proc_root ? f->proc_root : "/proc",
                  (int) p->pid, names[g_bit_nth_lsf (which, -1)]);
      *fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    }
  return *fd;
}

guint
orch_job_files_count (OrchJobFiles *f)
{
  guint n = f->released ? f->cg_count : f->dir_fd >= 0;

  if (f->n_fds_known)
    return f->n_fds;

  for (int i = 0; !f->released && i < ORCH_CG_N_FILES; i++)
    n += f->cg[i] >= 0;
  for (guint i = 0; f->procs && i < f->procs->len; i++)
    {
      const OrchPidFiles *p = &g_array_index (f->procs, OrchPidFiles, i);
      n += (p->stat_fd >= 0 || (p->unopened & ORCH_PID_FILE_STAT)) +
           (p->io_fd >= 0 || (p->unopened & ORCH_PID_FILE_IO)) +
           (p->sched_fd >= 0 || (p->unopened & ORCH_PID_FILE_SCHED)) +
           (p->statm_fd >= 0 || (p->unopened & ORCH_PID_FILE_STATM));
    }
  f->n_fds = n;
  f->n_fds_known = TRUE;
  return n;
}

gboolean
orch_job_files_tick (OrchJobFiles *f)
{
  return f->ticks++ % ORCH_JOB_REFRESH_TICKS == 0;
}

static gboolean
needs_procfs (const OrchJobFiles *f)
{
  return f->cg[ORCH_CG_CPU_STAT] < 0 || f->cg[ORCH_CG_MEMORY_CURRENT] < 0 ||
         f->cg[ORCH_CG_IO_STAT] < 0 || f->cg[ORCH_CG_PIDS_CURRENT] < 0;
}

gboolean
orch_job_files_want_pids (OrchJobFiles *f)
{
  /* The cgroup's own files tell everything: its pids are not needed. */
  if (!needs_procfs (f))
    return FALSE;
  /* No process of it has run since the set was read, so none forked or
   * exited; read it all the same now and then, for one moved in from
   * outside. */
  if (f->procs && f->procs->len > 0 && !f->ran_since_pids &&
      ++f->unread_refreshes < ORCH_JOB_PIDS_MAX_SKIPS)
    return FALSE;
  f->unread_refreshes = 0;
  return TRUE;
}

int
orch_job_files_pids (OrchJobFiles *f, char *scratch, gsize scratch_size, GArray *pids)
{
  gssize n = pread_all (f->cg[ORCH_CG_PROCS], scratch, scratch_size, FALSE);

  g_array_set_size (pids, 0);
  if (n < 0)
    return (int) n;
  orch_cgroup_parse_pids (scratch, pids);
  return 0;
}

/* Brings f->procs in line with @pids: keeps the files of pids still there,
 * opens those of new ones, closes those of pids gone. */
static void
sync_pid_files (OrchJobFiles *f, const pid_t *pids, guint n_pids, const char *proc_root)
{
  g_autoptr(GArray) next = NULL;
  guint same = 0;

  f->ran_since_pids = FALSE;
  f->proc_root = proc_root;
  /* Mostly the set has not changed: nothing to do. */
  while (same < n_pids && same < f->procs->len &&
         g_array_index (f->procs, OrchPidFiles, same).pid == pids[same])
    same++;
  if (same == n_pids && same == f->procs->len)
    return;
  f->n_fds_known = FALSE;

  next = g_array_sized_new (FALSE, FALSE, sizeof (OrchPidFiles), n_pids);
  for (guint i = 0; i < n_pids; i++)
    {
      OrchPidFiles pf = { .pid = pids[i], .stat_fd = -1, .io_fd = -1, .sched_fd = -1, .statm_fd = -1 };
      for (guint j = 0; j < f->procs->len; j++)
        {
          OrchPidFiles *old = &g_array_index (f->procs, OrchPidFiles, j);
          if (old->pid == pids[i] && (old->stat_fd >= 0 || (old->unopened & ORCH_PID_FILE_STAT)))
            {
              pf = *old;
              old->stat_fd = old->io_fd = old->sched_fd = old->statm_fd = -1; /* moved */
              old->unopened = 0;
              break;
            }
        }
      if (pf.stat_fd < 0 && !(pf.unopened & ORCH_PID_FILE_STAT))
        {
          char path[64];
          g_snprintf (path, sizeof path, "%s/%d/stat", proc_root, (int) pids[i]);
          pf.stat_fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
          g_snprintf (path, sizeof path, "%s/%d/io", proc_root, (int) pids[i]);
          pf.io_fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
          g_snprintf (path, sizeof path, "%s/%d/schedstat", proc_root, (int) pids[i]);
          pf.sched_fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
          g_snprintf (path, sizeof path, "%s/%d/statm", proc_root, (int) pids[i]);
          pf.statm_fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        }
      if (pf.stat_fd >= 0 || (pf.unopened & ORCH_PID_FILE_STAT))
        g_array_append_val (next, pf);
    }
  for (guint j = 0; j < f->procs->len; j++)
    pid_files_close (&g_array_index (f->procs, OrchPidFiles, j));
  g_array_unref (f->procs);
  f->procs = g_steal_pointer (&next);
}

/* The first figure of /proc/PID/schedstat: the time the process's main
 * thread has run, in ns. */
static gboolean
read_run_ns (int fd, char *buf, gsize size, guint64 *ret)
{
  gssize n = pread_all (fd, buf, size, TRUE);
  guint64 v = 0;
  gssize i;

  if (n <= 0)
    return FALSE;
  for (i = 0; i < n && buf[i] >= '0' && buf[i] <= '9' && v <= G_MAXUINT64 / 10 - 1; i++)
    v = v * 10 + (guint64) (buf[i] - '0');
  if (i == 0 || i >= n || buf[i] != ' ')
    return FALSE;
  *ret = v;
  return TRUE;
}

/* The second figure of /proc/PID/statm (resident pages), in bytes. */
static gboolean
read_resident (int fd, char *buf, gsize size, long page, guint64 *ret)
{
  gssize n = pread_all (fd, buf, size, TRUE);
  const char *p = buf, *end = buf + MAX (n, 0);
  guint64 v = 0;

  if (n <= 0)
    return FALSE;
  while (p < end && *p != ' ')
    p++;
  if (p >= end || ++p >= end || *p < '0' || *p > '9')
    return FALSE;
  for (; p < end && *p >= '0' && *p <= '9'; p++)
    {
      if (v > G_MAXUINT64 / 10 - 1)
        return FALSE;
      v = v * 10 + (guint64) (*p - '0');
    }
  if (p >= end || *p != ' ' || v > G_MAXUINT64 / (guint64) page)
    return FALSE;
  *ret = v * (guint64) page;
  return TRUE;
}

/* Sums over the job's processes; TRUE if none of them has run since the
 * last tick, nor since the set was read (each with one thread), so that
 * nothing in the job can have moved. */
static gboolean
read_procfs (OrchJobFiles *f, gboolean refresh, char *buf, gsize size, guint64 *cpu_usec,
             guint64 *rss, guint64 *io_read, guint64 *io_write, guint32 *tasks, gboolean *io_ok)
{
  static long ticks = 0, page = 0;
  guint64 cpu_ticks = 0;
  gboolean moved = FALSE;

  if (ticks == 0)
    {
      ticks = sysconf (_SC_CLK_TCK);
      page = sysconf (_SC_PAGESIZE);
    }
  *io_ok = f->procs->len > 0;
  if (!refresh)
    {
      *io_read = f->io_read;
      *io_write = f->io_write;
      *io_ok = f->io_ok;
    }
  for (guint i = 0; i < f->procs->len; i++)
    {
      OrchPidFiles *p = &g_array_index (f->procs, OrchPidFiles, i);
      OrchProcStat st;
      OrchProcIo io;
      guint64 run_ns = 0;
      gboolean have_run = read_run_ns (pid_fd (f, p, ORCH_PID_FILE_SCHED, &p->sched_fd), buf, size,
                                       &run_ns);
      gboolean still = have_run && p->have_last && p->threads == 1 && run_ns == p->run_ns;
      gssize n;

      moved |= !still;
      /* Not run since it was last read: its CPU times and threads are the
       * same.  Its RSS can move all the same (reclaim): on a refresh tick
       * it is read from statm, a third of what stat costs. */
      if (!(still && (!refresh || read_resident (pid_fd (f, p, ORCH_PID_FILE_STATM, &p->statm_fd),
                                                 buf, size, page, &p->rss_bytes))))
        {
          /* A process that is gone reads as an error through its old fd,
           * even if its pid was given to another one meanwhile. */
          n = pread_all (pid_fd (f, p, ORCH_PID_FILE_STAT, &p->stat_fd), buf, size, TRUE);
          p->pgrp = 0;
          p->have_last = FALSE;
          if (n < 0 || orch_proc_parse_stat (buf, (gsize) n, &st) < 0 || st.state == 'Z')
            continue;
          p->pgrp = st.pgrp;
          p->cpu_ticks = st.utime + st.stime;
          p->rss_bytes = st.rss > 0 ? (guint64) st.rss * (guint64) page : 0;
          p->threads = st.num_threads > 0 ? (guint32) st.num_threads : 1;
          p->run_ns = run_ns;
          p->have_last = have_run;
        }
      cpu_ticks += p->cpu_ticks;
      *rss += p->rss_bytes;
      *tasks += p->threads;
      if (!refresh)
        continue;
      /* Its bytes read and written are counted as it runs. */
      if (!(have_run && p->have_io && p->threads == 1 && run_ns == p->io_run_ns))
        {
          n = pread_all (pid_fd (f, p, ORCH_PID_FILE_IO, &p->io_fd), buf, size, TRUE);
          p->have_io = n >= 0 && orch_parse_proc_io (buf, (gsize) n, &io) == 0;
          p->io_run_ns = run_ns;
          p->io_read = p->have_io ? io.read_bytes : 0;
          p->io_write = p->have_io ? io.write_bytes : 0;
        }
      if (p->have_io)
        {
          *io_read += p->io_read;
          *io_write += p->io_write;
        }
      else
        *io_ok = FALSE; /* /proc/PID/io needs ptrace rights or a kernel with it */
    }
  *cpu_usec = ticks > 0 ? cpu_ticks * (G_USEC_PER_SEC / (guint64) ticks) : 0;
  if (refresh)
    {
      f->io_read = *io_read;
      f->io_write = *io_write;
      f->io_ok = *io_ok;
    }
  /* One that ran may have forked: the set is in doubt until re-read. */
  f->ran_since_pids |= moved;
  return !moved && !f->ran_since_pids && f->procs->len > 0;
}

static gboolean
read_u64 (OrchJobFiles *f, OrchCgroupFile which, char *buf, gsize size, guint64 *ret)
{
  gssize n = pread_all (f->cg[which], buf, size, TRUE);

  return n >= 0 && orch_parse_cgroup_u64 (buf, (gsize) n, ret) == 0;
}

void
orch_job_stats_read (OrchJobFiles *f, const pid_t *pids, guint n_pids, gboolean refresh,
                     const char *proc_root, char *buf, gsize size, OrchJobStats *ret)
{
  OrchJobStats s = { 0 };
  OrchCgroupCpuStat cpu;
  OrchCgroupMemoryEvents ev;
  OrchCgroupIoStat io;
  guint64 v, p_cpu = 0, p_rss = 0, p_read = 0, p_write = 0;
  guint32 p_tasks = 0;
  gboolean p_io_ok = FALSE, procfs_read = FALSE, quiet = FALSE;
  gssize n;

  /* A file missing (a hybrid host's unified tree has only cpu.stat):
   * /proc first, as whether the job ran tells if cpu.stat moved. */
  if (needs_procfs (f))
    {
      /* pids NULL: keep the set of the last refresh. */
      if (pids)
        sync_pid_files (f, pids, n_pids, proc_root ? proc_root : "/proc");
      quiet = read_procfs (f, refresh, buf, size, &p_cpu, &p_rss, &p_read, &p_write, &p_tasks, &p_io_ok);
      procfs_read = TRUE;
    }

  /* Nothing ran: cpu.stat is as it was, unless a process moved in from
   * outside, which only the pid set shows: read with it. */
  if (quiet && f->have_cpu && pids == NULL)
    {
      s.cpu_usage_usec = f->cpu_usec;
      s.cpu_source = ORCH_SOURCE_CGROUP;
    }
  else if ((n = pread_all (f->cg[ORCH_CG_CPU_STAT], buf, size, TRUE)) >= 0 &&
           orch_parse_cgroup_cpu_stat (buf, (gsize) n, &cpu) == 0)
    {
      s.cpu_usage_usec = cpu.usage_usec;
      s.cpu_source = ORCH_SOURCE_CGROUP;
    }
  f->cpu_usec = s.cpu_usage_usec;
  f->have_cpu = s.cpu_source == ORCH_SOURCE_CGROUP;
  if (read_u64 (f, ORCH_CG_MEMORY_CURRENT, buf, size, &v))
    {
      s.memory_bytes = v;
      s.memory_source = ORCH_SOURCE_CGROUP;
    }
  if (read_u64 (f, ORCH_CG_MEMORY_PEAK, buf, size, &v))
    {
      s.memory_peak_bytes = v;
      s.memory_peak_source = ORCH_SOURCE_CGROUP;
    }
  if ((n = pread_all (f->cg[ORCH_CG_MEMORY_EVENTS], buf, size, TRUE)) >= 0 &&
      orch_parse_cgroup_memory_events (buf, (gsize) n, &ev) == 0)
    {
      s.oom_kills = ev.oom_kill;
      s.oom_source = ORCH_SOURCE_CGROUP;
    }
  if ((n = pread_all (f->cg[ORCH_CG_IO_STAT], buf, size, TRUE)) >= 0 &&
      orch_parse_cgroup_io_stat (buf, (gsize) n, &io) == 0)
    {
      s.io_read_bytes = io.rbytes;
      s.io_write_bytes = io.wbytes;
      s.io_source = ORCH_SOURCE_CGROUP;
    }
  if (read_u64 (f, ORCH_CG_PIDS_CURRENT, buf, size, &v))
    {
      s.tasks = (guint32) MIN (v, G_MAXUINT32);
      s.tasks_source = ORCH_SOURCE_CGROUP;
    }

  /* /proc only for what the cgroup could not tell. */
  if (s.cpu_source == ORCH_SOURCE_NONE || s.memory_source == ORCH_SOURCE_NONE ||
      s.io_source == ORCH_SOURCE_NONE || s.tasks_source == ORCH_SOURCE_NONE)
    {
      if (!procfs_read)
        {
          if (pids)
            sync_pid_files (f, pids, n_pids, proc_root ? proc_root : "/proc");
          read_procfs (f, refresh, buf, size, &p_cpu, &p_rss, &p_read, &p_write, &p_tasks, &p_io_ok);
        }
      n_pids = f->procs->len;
      if (s.cpu_source == ORCH_SOURCE_NONE && n_pids > 0)
        {
          s.cpu_usage_usec = p_cpu;
          s.cpu_source = ORCH_SOURCE_PROCFS;
        }
      if (s.memory_source == ORCH_SOURCE_NONE && n_pids > 0)
        {
          s.memory_bytes = p_rss;
          s.memory_source = ORCH_SOURCE_PROCFS;
        }
      if (s.io_source == ORCH_SOURCE_NONE && p_io_ok)
        {
          s.io_read_bytes = p_read;
          s.io_write_bytes = p_write;
          s.io_source = ORCH_SOURCE_PROCFS;
        }
      if (s.tasks_source == ORCH_SOURCE_NONE && n_pids > 0)
        {
          s.tasks = p_tasks;
          s.tasks_source = ORCH_SOURCE_PROCFS;
        }
    }
  *ret = s;
}

void
orch_job_stats_read_idle (OrchJobFiles *f, const OrchJobStats *last, gboolean refresh, char *buf,
                          gsize size, OrchJobStats *ret)
{
  static long page = 0;
  guint64 v, rss = 0;

  *ret = *last;
  if (!refresh)
    return;
  if (last->memory_source == ORCH_SOURCE_CGROUP)
    {
      if (read_u64 (f, ORCH_CG_MEMORY_CURRENT, buf, size, &v))
        ret->memory_bytes = v;
      return;
    }
  if (last->memory_source != ORCH_SOURCE_PROCFS || f->procs == NULL)
    return;
  if (page == 0)
    page = sysconf (_SC_PAGESIZE);
  /* The processes read_procfs() counted (pgrp set): statm, as it does. */
  for (guint i = 0; i < f->procs->len; i++)
    {
      OrchPidFiles *p = &g_array_index (f->procs, OrchPidFiles, i);
      if (p->pgrp <= 0)
        continue;
      (void) read_resident (pid_fd (f, p, ORCH_PID_FILE_STATM, &p->statm_fd), buf, size, page,
                            &p->rss_bytes);
      rss += p->rss_bytes;
    }
  ret->memory_bytes = rss;
}

void
orch_job_stats_read_pressure (OrchJobFiles *f, OrchJobStats *s)
{
  char buf[1024];
  gssize n;

  if (f->dir_fd < 0)
    return;
  if ((n = read_at (f->dir_fd, "cpu.pressure", buf, sizeof buf)) >= 0)
    s->have_cpu_pressure = orch_parse_pressure (buf, (gsize) n, &s->cpu_pressure) == 0;
  if ((n = read_at (f->dir_fd, "memory.pressure", buf, sizeof buf)) >= 0)
    s->have_memory_pressure = orch_parse_pressure (buf, (gsize) n, &s->memory_pressure) == 0;
  if ((n = read_at (f->dir_fd, "io.pressure", buf, sizeof buf)) >= 0)
    s->have_io_pressure = orch_parse_pressure (buf, (gsize) n, &s->io_pressure) == 0;
}
