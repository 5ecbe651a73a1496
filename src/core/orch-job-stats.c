/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-job-stats.h"
#include "orch-proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Reads @name in @dir_fd into @buf; the length, or a negative errno. */
static gssize
read_at (int dir_fd, const char *name, char *buf, gsize size)
{
  int fd = openat (dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  gsize len = 0;

  if (fd < 0)
    return -errno;
  while (len < size - 1)
    {
      ssize_t n = read (fd, buf + len, size - 1 - len);
      if (n < 0)
        {
          int r = -errno;
          if (errno == EINTR)
            continue;
          close (fd);
          return r;
        }
      if (n == 0)
        break;
      len += (gsize) n;
    }
  close (fd);
  buf[len] = '\0';
  return (gssize) len;
}

int
orch_job_stats_cgroup_pids (int cgroup_fd, GArray **ret_pids)
{
  g_autoptr(GArray) pids = g_array_new (FALSE, FALSE, sizeof (pid_t));
  g_autofree char *buf = g_malloc (65536);
  gssize n = read_at (cgroup_fd, "cgroup.procs", buf, 65536);
  char *p, *end;

  if (n < 0)
    return (int) n;
  for (p = buf; *p; p = end)
    {
      long v = strtol (p, &end, 10);
      if (end == p)
        break;
      if (v > 0)
        {
          pid_t pid = (pid_t) v;
          g_array_append_val (pids, pid);
        }
      while (*end == '\n')
        end++;
    }
  *ret_pids = g_steal_pointer (&pids);
  return 0;
}

static void
read_procfs (const pid_t *pids, guint n_pids, const char *proc_root, guint64 *cpu_usec,
             guint64 *rss, guint64 *io_read, guint64 *io_write, guint32 *tasks, gboolean *io_ok)
{
  long ticks = sysconf (_SC_CLK_TCK);
  long page = sysconf (_SC_PAGESIZE);
  guint64 cpu_ticks = 0;
  char buf[4096];

  *io_ok = n_pids > 0;
  for (guint i = 0; i < n_pids; i++)
    {
      OrchProcStat st;
      g_autofree char *dir = g_strdup_printf ("%s/%d", proc_root, (int) pids[i]);
      int dfd;
      gssize n;

      if (orch_proc_read_stat (proc_root, pids[i], &st) < 0 || st.state == 'Z')
        continue; /* gone meanwhile: its figures went with it */
      cpu_ticks += st.utime + st.stime;
      *rss += st.rss > 0 ? (guint64) st.rss * (guint64) page : 0;
      *tasks += st.num_threads > 0 ? (guint32) st.num_threads : 1;

      dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd < 0)
        continue;
      n = read_at (dfd, "io", buf, sizeof buf);
      close (dfd);
      if (n >= 0)
        {
          OrchProcIo io;
          if (orch_parse_proc_io (buf, (gsize) n, &io) == 0)
            {
              *io_read += io.read_bytes;
              *io_write += io.write_bytes;
              continue;
            }
        }
      *io_ok = FALSE; /* /proc/PID/io needs ptrace rights or a kernel with it */
    }
  *cpu_usec = ticks > 0 ? cpu_ticks * (G_USEC_PER_SEC / (guint64) ticks) : 0;
}

void
orch_job_stats_read (int cgroup_fd, const pid_t *pids, guint n_pids, const char *proc_root,
                     OrchJobStats *ret)
{
  OrchJobStats s = { 0 };
  char buf[8192];
  gssize n;
  guint64 p_cpu = 0, p_rss = 0, p_read = 0, p_write = 0;
  guint32 p_tasks = 0;
  gboolean p_io_ok = FALSE;

  if (proc_root == NULL)
    proc_root = "/proc";

  if (cgroup_fd >= 0)
    {
      OrchCgroupCpuStat cpu;
      OrchCgroupMemoryEvents ev;
      OrchCgroupIoStat io;
      guint64 v;

      if ((n = read_at (cgroup_fd, "cpu.stat", buf, sizeof buf)) >= 0 &&
          orch_parse_cgroup_cpu_stat (buf, (gsize) n, &cpu) == 0)
        {
          s.cpu_usage_usec = cpu.usage_usec;
          s.cpu_source = ORCH_SOURCE_CGROUP;
        }
      if ((n = read_at (cgroup_fd, "memory.current", buf, sizeof buf)) >= 0 &&
          orch_parse_cgroup_u64 (buf, (gsize) n, &v) == 0)
        {
          s.memory_bytes = v;
          s.memory_source = ORCH_SOURCE_CGROUP;
        }
      if ((n = read_at (cgroup_fd, "memory.peak", buf, sizeof buf)) >= 0 &&
          orch_parse_cgroup_u64 (buf, (gsize) n, &v) == 0)
        {
          s.memory_peak_bytes = v;
          s.memory_peak_source = ORCH_SOURCE_CGROUP;
        }
      if ((n = read_at (cgroup_fd, "memory.events", buf, sizeof buf)) >= 0 &&
          orch_parse_cgroup_memory_events (buf, (gsize) n, &ev) == 0)
        {
          s.oom_kills = ev.oom_kill;
          s.oom_source = ORCH_SOURCE_CGROUP;
        }
      if ((n = read_at (cgroup_fd, "io.stat", buf, sizeof buf)) >= 0 &&
          orch_parse_cgroup_io_stat (buf, (gsize) n, &io) == 0)
        {
          s.io_read_bytes = io.rbytes;
          s.io_write_bytes = io.wbytes;
          s.io_source = ORCH_SOURCE_CGROUP;
        }
      if ((n = read_at (cgroup_fd, "pids.current", buf, sizeof buf)) >= 0 &&
          orch_parse_cgroup_u64 (buf, (gsize) n, &v) == 0)
        {
          s.tasks = (guint32) MIN (v, G_MAXUINT32);
          s.tasks_source = ORCH_SOURCE_CGROUP;
        }
      if ((n = read_at (cgroup_fd, "cpu.pressure", buf, sizeof buf)) >= 0)
        s.have_cpu_pressure = orch_parse_pressure (buf, (gsize) n, &s.cpu_pressure) == 0;
      if ((n = read_at (cgroup_fd, "memory.pressure", buf, sizeof buf)) >= 0)
        s.have_memory_pressure = orch_parse_pressure (buf, (gsize) n, &s.memory_pressure) == 0;
      if ((n = read_at (cgroup_fd, "io.pressure", buf, sizeof buf)) >= 0)
        s.have_io_pressure = orch_parse_pressure (buf, (gsize) n, &s.io_pressure) == 0;
    }

  /* /proc only for what the cgroup could not tell. */
  if (s.cpu_source == ORCH_SOURCE_NONE || s.memory_source == ORCH_SOURCE_NONE ||
      s.io_source == ORCH_SOURCE_NONE || s.tasks_source == ORCH_SOURCE_NONE)
    {
      read_procfs (pids, n_pids, proc_root, &p_cpu, &p_rss, &p_read, &p_write, &p_tasks, &p_io_ok);
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
