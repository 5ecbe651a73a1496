/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The system figures: /proc files kept open and read with pread on each
 * tick, rates against the previous tick, the history ring. */
#include "config.h"

#include "orch-sampler-private.h"
#include "orch-history-prefill.h"
#include "basic/orch-error.h"
#include "basic/orch-fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

static const char *const sys_file_names[N_FILES] = {
  "stat",      "meminfo",      "loadavg",         "uptime",      "net/dev",
  "diskstats", "pressure/cpu", "pressure/memory", "pressure/io",
};

/* Reads a whole /proc file through its kept-open fd: pread at 0 makes the
 * kernel produce it afresh, with no open/close per tick.  Files of one
 * seq_file record (stat, meminfo, loadavg, uptime) come whole in one read,
 * so a short read ends them; net/dev and diskstats come a page at a time,
 * and a first page with room left is the whole file. */
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
      if (!one_record && len == (gsize) n && orch_seq_first_read_is_whole (len))
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
/* Counts kept by /proc's link count alone before a listing all the same. */
#define COUNT_KEPT_MAX 12

/* /proc's link count: its own directories' links plus one for each
 * process on the host (proc_root_getattr(): nr_processes()), 0 if it
 * cannot tell that (see nlink_counts in orch_sampler_system_init()). */
static guint64
proc_nlink (OrchSampler *s)
{
  struct stat st;

  if (!s->nlink_counts || fstat (dirfd (s->proc_dir), &st) < 0)
    return 0;
  return (guint64) st.st_nlink;
}

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

static gboolean
line_blank (const char *s, const char *end)
{
  for (; s < end; s++)
    if (*s != ' ' && *s != '\t')
      return FALSE;
  return TRUE;
}

/* The rows of diskstats' @text, rates against s->disks.  A line the same
 * as in the text behind s->disks is its row there with rates of 0 (its
 * counters stand), not parsed again: mostly every line but a busy disk's
 * (loop and zram devices, idle disks), and parsing every field of every
 * line was most of what the file cost.  Others are parsed as the whole
 * file would be; FALSE, as for the whole file, if one is malformed. */
static gboolean
disk_rows (OrchSampler *s, const char *text, gsize len, double dt, GArray *rows)
{
  const char *p = text, *end = text + len;
  const char *q = s->disks_text->len ? (const char *) s->disks_text->data : "";
  const char *q_end = q + s->disks_text->len;
  guint prev_row = 0; /* the row of the previous text's line below */

  while (p < end)
    {
      const char *nl = memchr (p, '\n', end - p), *le = nl ? nl : end;
      const char *ql = NULL, *qle = NULL;
      gboolean q_row = FALSE;

      if (q < q_end)
        {
          const char *qnl = memchr (q, '\n', q_end - q);
          ql = q;
          qle = qnl ? qnl : q_end;
          q = qnl ? qnl + 1 : q_end;
          q_row = !line_blank (ql, qle); /* it made a row: the text parsed whole */
        }
      if (q_row && le - p == qle - ql && memcmp (p, ql, le - p) == 0 && prev_row < s->disks->len)
        {
          DiskRow row = { .disk = g_array_index (s->disks, DiskRow, prev_row).disk };
          g_array_append_val (rows, row);
        }
      else
        {
          g_autoptr(GArray) disks = NULL;
          if (orch_parse_diskstats (p, le - p, &disks) < 0)
            return FALSE;
          for (guint i = 0; i < disks->len; i++)
            {
              DiskRow row = { .disk = g_array_index (disks, OrchDiskStat, i) };
              for (guint j = 0; dt > 0 && j < s->disks->len; j++)
                {
                  const DiskRow *o = &g_array_index (s->disks, DiskRow, j);
                  if (strcmp (o->disk.name, row.disk.name) != 0)
                    continue;
                  if (row.disk.read_sectors >= o->disk.read_sectors)
                    row.read_rate = (row.disk.read_sectors - o->disk.read_sectors) * 512.0 / dt;
                  if (row.disk.write_sectors >= o->disk.write_sectors)
                    row.write_rate = (row.disk.write_sectors - o->disk.write_sectors) * 512.0 / dt;
                }
              g_array_append_val (rows, row);
            }
        }
      prev_row += q_row;
      p = nl ? nl + 1 : end;
    }
  return TRUE;
}

void
orch_sampler_read_disks (OrchSampler *s, gint64 now_us)
{
  double dt = s->disks_time_us ? (now_us - s->disks_time_us) / 1e6 : 0.0;
  const char *text;
  gsize len;

  if (s->fds[F_DISKSTATS] >= 0 && read_fd (s, F_DISKSTATS, &text, &len) == 0)
    {
      g_autoptr(GArray) rows = g_array_sized_new (FALSE, TRUE, sizeof (DiskRow), s->disks->len);
      if (disk_rows (s, text, len, dt, rows))
        {
          g_array_unref (s->disks);
          s->disks = g_steal_pointer (&rows);
          g_byte_array_set_size (s->disks_text, 0);
          g_byte_array_append (s->disks_text, (const guint8 *) text, (guint) len);
        }
      else
        g_byte_array_set_size (s->disks_text, 0); /* s->disks is not its rows */
    }
  s->disks_time_us = now_us;
}

void
orch_sampler_read_system (OrchSampler *s)
{
  SystemSample cur = { .time_us = g_get_real_time () };
  const char *text;
  gsize len;
  struct statvfs vfs;
  double dt, mem_used;
  guint64 forks = 0;
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
            g_array_index (s->cpu_percents, double,
                           i) = s->prev_cpus && i < s->prev_cpus->len
                                    ? orch_cpu_busy_percent (
                                          &g_array_index (s->prev_cpus, OrchCpuTimes, i),
                                          &g_array_index (st.cpus, OrchCpuTimes, i))
                                    : 0.0;
          s->prev_cpu = st.total;
          s->have_prev = TRUE;
          g_clear_pointer (&s->prev_cpus, g_array_unref);
          s->prev_cpus = g_steal_pointer (&st.cpus);
          forks = st.processes;
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
                  row.rx_rate = row.dev.rx_bytes >= p->dev.rx_bytes
                                    ? (row.dev.rx_bytes - p->dev.rx_bytes) / dt
                                    : 0;
                  row.tx_rate = row.dev.tx_bytes >= p->dev.tx_bytes
                                    ? (row.dev.tx_bytes - p->dev.tx_bytes) / dt
                                    : 0;
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
    orch_sampler_read_disks (s, cur.time_us);
  if (s->root_fd >= 0 && fstatvfs (s->root_fd, &vfs) == 0)
    {
      cur.disk_total = (guint64) vfs.f_blocks * vfs.f_frsize;
      cur.disk_free = (guint64) vfs.f_bavail * vfs.f_frsize;
      /* As df: used excludes the blocks reserved for root. */
      cur.disk_used = (guint64) (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
    }
  /* The system's stall figures, kept in history like the others (the
   * detailed record reads the files whole; this is avg10 of "some"). */
  for (int k = 0; k < N_PRESSURE; k++)
    {
      OrchPressure p;
      cur.pressure[k] = NAN;
      if (s->fds[F_PRESSURE_CPU + k] >= 0 && read_fd (s, F_PRESSURE_CPU + k, &text, &len) == 0 &&
          orch_parse_pressure (text, len, &p) == 0)
        cur.pressure[k] = p.some_avg10;
    }
  /* No task was created (the fork count stands) and none went (the
   * task count stands): the processes are those counted last time.  Or
   * /proc's link count is what it was at that count: as many processes
   * as then, however many came and went (a directory listing walks them
   * all, 12 % of the daemon's time with 200 jobs' 400 processes); a full
   * count all the same once a minute. */
  if (s->count_age++ % s->count_ticks == 0)
    {
      guint64 nlink = proc_nlink (s);

      if (s->count_known && forks != 0 && forks == s->count_forks && cur.load.total != 0 &&
          cur.load.total == s->count_tasks)
        ;
      else if (nlink != 0 && nlink == s->count_nlink && s->count_kept < COUNT_KEPT_MAX)
        s->count_kept++;
      else
        {
          s->process_count = count_processes (s);
          s->counts++;
          s->count_known = TRUE;
          s->count_forks = forks;
          s->count_tasks = cur.load.total;
          s->count_kept = 0;
          /* A process that came or went during the listing: the count
           * may not be the one of either link count. */
          s->count_nlink = nlink != 0 && proc_nlink (s) == nlink ? nlink : 0;
        }
    }
  cur.process_count = s->process_count;

  if (dt > 0)
    {
      /* Counters can go back (an interface went away): no negative rates. */
      cur.net_rx_rate = cur.net_rx_bytes >= s->last.net_rx_bytes
                            ? (cur.net_rx_bytes - s->last.net_rx_bytes) / dt
                            : 0.0;
      cur.net_tx_rate = cur.net_tx_bytes >= s->last.net_tx_bytes
                            ? (cur.net_tx_bytes - s->last.net_tx_bytes) / dt
                            : 0.0;
    }
  s->last = cur;

  mem_used = (double) (cur.mem.total - MIN (cur.mem.available, cur.mem.total));
  values[ORCH_SYSTEM_SERIES_CPU_PERCENT] = cur.cpu_percent;
  values[ORCH_SYSTEM_SERIES_MEMORY_USED] = mem_used;
  values[ORCH_SYSTEM_SERIES_MEMORY_PERCENT] = cur.mem.total ? 100.0 * mem_used / cur.mem.total
                                                            : NAN;
  values[ORCH_SYSTEM_SERIES_SWAP_USED] = (double) (cur.mem.swap_total -
                                                   MIN (cur.mem.swap_free, cur.mem.swap_total));
  values[ORCH_SYSTEM_SERIES_LOAD_1] = cur.load.load1;
  values[ORCH_SYSTEM_SERIES_LOAD_5] = cur.load.load5;
  values[ORCH_SYSTEM_SERIES_LOAD_15] = cur.load.load15;
  values[ORCH_SYSTEM_SERIES_NET_SEND_RATE] = cur.net_tx_rate;
  values[ORCH_SYSTEM_SERIES_NET_RECV_RATE] = cur.net_rx_rate;
  values[ORCH_SYSTEM_SERIES_DISK_USED] = (double) cur.disk_used;
  values[ORCH_SYSTEM_SERIES_PRESSURE_CPU] = cur.pressure[0];
  values[ORCH_SYSTEM_SERIES_PRESSURE_MEMORY] = cur.pressure[1];
  values[ORCH_SYSTEM_SERIES_PRESSURE_IO] = cur.pressure[2];
  orch_history_prefill (s->history, cur.time_us, values, ORCH_SYSTEM_N_SERIES,
                        s->config->sample_interval_ms,
                        MAX (s->config->history_coarse_size * s->config->history_coarse_step_s,
                             s->config->history_size * s->config->sample_interval_ms / 1000),
                        TRUE);
  orch_ring_push (s->history, cur.time_us, values);
}

/* Whether @proc_root is the kernel's /proc of the initial pid namespace,
 * seen by a process that sees every process in it: only there does its
 * link count follow the processes it lists (it counts the host's). */
static gboolean
proc_is_hosts (const char *proc_root)
{
  char ns[64];
  ssize_t n;

  if (strcmp (proc_root, "/proc") != 0 || geteuid () != 0)
    return FALSE;
  n = readlink ("/proc/self/ns/pid", ns, sizeof ns - 1);
  if (n <= 0)
    return FALSE;
  ns[n] = '\0';
  return strcmp (ns, "pid:[4026531836]") == 0; /* PROC_PID_INIT_INO */
}

gboolean
orch_sampler_system_init (OrchSampler *s, GError **error)
{
  int dfd;

  s->root_fd = open ("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  s->boottime_uptime = strcmp (s->proc_root, "/proc") == 0;
  s->count_ticks = MAX (1, PROCESS_COUNT_MS / MAX (s->config->sample_interval_ms, 1));
  s->cpu_percents = g_array_new (FALSE, TRUE, sizeof (double));
  s->nets = g_array_new (FALSE, TRUE, sizeof (NetRow));
  s->disks = g_array_new (FALSE, TRUE, sizeof (DiskRow));
  s->disks_text = g_byte_array_new ();
  s->buf = g_byte_array_sized_new (16384);
  g_byte_array_set_size (s->buf, 16384);
  for (int i = 0; i < N_FILES; i++)
    {
      g_autofree char *path = g_build_filename (s->proc_root, sys_file_names[i], NULL);
      s->fds[i] = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
      /* Kernels without PSI (or with it off) have no pressure files. */
      if (s->fds[i] < 0 && i < F_PRESSURE_CPU)
        g_message ("%s: %s; its figures stay 0", path, g_strerror (errno));
    }
  if (s->fds[F_STAT] < 0 || s->fds[F_MEMINFO] < 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED,
                   _("cannot read %s/stat and %s/meminfo: is /proc mounted?"), s->proc_root,
                   s->proc_root);
      return FALSE;
    }
  dfd = open (s->proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0 && (s->proc_dir = fdopendir (dfd)) == NULL)
    close (dfd);
  s->nlink_counts = s->proc_dir && proc_is_hosts (s->proc_root);

  s->history = orch_ring_new (ORCH_SYSTEM_N_SERIES, s->config->history_size,
                              s->config->history_coarse_size, s->config->history_coarse_step_s);
  /* A first reading, so the first tick has a CPU baseline. */
  orch_sampler_read_system (s);
  return TRUE;
}

void
orch_sampler_system_clear (OrchSampler *s)
{
  for (int i = 0; i < N_FILES; i++)
    if (s->fds[i] >= 0)
      close (s->fds[i]);
  if (s->proc_dir)
    closedir (s->proc_dir);
  if (s->root_fd >= 0)
    close (s->root_fd);
  g_clear_pointer (&s->history, orch_ring_free);
  g_clear_pointer (&s->buf, g_byte_array_unref);
  g_clear_pointer (&s->prev_cpus, g_array_unref);
  g_clear_pointer (&s->cpu_percents, g_array_unref);
  g_clear_pointer (&s->nets, g_array_unref);
  g_clear_pointer (&s->disks, g_array_unref);
  g_clear_pointer (&s->disks_text, g_byte_array_unref);
}
