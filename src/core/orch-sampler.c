/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-sampler.h"
#include "orch-cgroup.h"
#include "orch-error.h"
#include "orch-job-stats.h"
#include "orch-proc.h"
#include "orch-metrics-parse.h"
#include "orch-ring.h"
#include "orch-vardict.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* The system series kept in history, in ring column order. */
static const char *const history_keys[] = {
  "cpu_percent", "memory_used", "memory_percent", "swap_used", "load_1", "load_5", "load_15",
  "net_send_rate", "net_recv_rate", "disk_used",
};
#define N_SERIES G_N_ELEMENTS (history_keys)

/* The per-job series kept in history, in ring column order. */
static const char *const job_history_keys[] = {
  "cpu_percent", "memory_bytes", "io_read_bytes", "io_write_bytes", "tasks",
};
#define N_JOB_SERIES G_N_ELEMENTS (job_history_keys)

typedef struct {
  gint64 run;             /* job->started_at of the run being sampled */
  char *cgroup;
  int cgroup_fd;          /* kept open for the run: files are opened relative to it */
  OrchJobStats stats;
  gint64 time_us;         /* of stats, 0 = no sample yet */
  double cpu_percent;
  guint64 peak_seen;      /* procfs has no peak: the highest sampled */
  OrchRing *history;
} JobEntry;

typedef enum { F_STAT, F_MEMINFO, F_LOADAVG, F_UPTIME, F_NETDEV, N_FILES } SysFile;
static const char *const sys_file_names[N_FILES] = { "stat", "meminfo", "loadavg", "uptime", "net/dev" };

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
  char *proc_root;
  int fds[N_FILES];
  DIR *proc_dir;
  GByteArray *buf;
  OrchCpuTimes prev_cpu;
  gboolean have_prev;
  SystemSample last;
  OrchRing *history;
  guint timer;
  OrchSampledFunc sampled;
  gpointer user_data;
};

/* Reads a whole /proc file through its kept-open fd: pread at 0 makes the
 * kernel produce it afresh, with no open/close per tick. */
static int
read_fd (OrchSampler *s, int fd, const char **ret_text, gsize *ret_len)
{
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
    }
  s->buf->data[len] = '\0';
  *ret_text = (const char *) s->buf->data;
  *ret_len = len;
  return 0;
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

static void
take_sample (OrchSampler *s)
{
  SystemSample cur = { .time_us = g_get_real_time () };
  const char *text;
  gsize len;
  struct statvfs vfs;
  double dt;
  double values[N_SERIES];

  if (s->fds[F_STAT] >= 0 && read_fd (s, s->fds[F_STAT], &text, &len) == 0)
    {
      OrchSysStat st = { 0 };
      if (orch_parse_sys_stat (text, len, &st) == 0)
        {
          cur.cpu_count = st.cpus->len;
          cur.cpu_percent = s->have_prev ? orch_cpu_busy_percent (&s->prev_cpu, &st.total) : 0.0;
          s->prev_cpu = st.total;
          s->have_prev = TRUE;
          orch_sys_stat_clear (&st);
        }
    }
  if (s->fds[F_MEMINFO] >= 0 && read_fd (s, s->fds[F_MEMINFO], &text, &len) == 0)
    (void) orch_parse_meminfo (text, len, &cur.mem);
  if (s->fds[F_LOADAVG] >= 0 && read_fd (s, s->fds[F_LOADAVG], &text, &len) == 0)
    (void) orch_parse_loadavg (text, len, &cur.load);
  if (s->fds[F_UPTIME] >= 0 && read_fd (s, s->fds[F_UPTIME], &text, &len) == 0)
    (void) orch_parse_uptime (text, len, &cur.uptime_s);
  if (s->fds[F_NETDEV] >= 0 && read_fd (s, s->fds[F_NETDEV], &text, &len) == 0)
    {
      g_autoptr(GArray) devs = NULL;
      if (orch_parse_net_dev (text, len, &devs) == 0)
        for (guint i = 0; i < devs->len; i++)
          {
            const OrchNetDev *d = &g_array_index (devs, OrchNetDev, i);
            if (strcmp (d->name, "lo") == 0)
              continue; /* loopback traffic is not the host's network */
            cur.net_rx_bytes += d->rx_bytes;
            cur.net_tx_bytes += d->tx_bytes;
            cur.net_rx_packets += d->rx_packets;
            cur.net_tx_packets += d->tx_packets;
          }
    }
  if (statvfs ("/", &vfs) == 0)
    {
      cur.disk_total = (guint64) vfs.f_blocks * vfs.f_frsize;
      cur.disk_free = (guint64) vfs.f_bavail * vfs.f_frsize;
      /* As df: used excludes the blocks reserved for root. */
      cur.disk_used = (guint64) (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
    }
  cur.process_count = count_processes (s);

  dt = s->last.time_us ? (cur.time_us - s->last.time_us) / 1e6 : 0.0;
  if (dt > 0)
    {
      /* Counters can go back (an interface went away): no negative rates. */
      cur.net_rx_rate = cur.net_rx_bytes >= s->last.net_rx_bytes
                            ? (cur.net_rx_bytes - s->last.net_rx_bytes) / dt : 0.0;
      cur.net_tx_rate = cur.net_tx_bytes >= s->last.net_tx_bytes
                            ? (cur.net_tx_bytes - s->last.net_tx_bytes) / dt : 0.0;
    }
  s->last = cur;

  values[0] = cur.cpu_percent;
  values[1] = (double) (cur.mem.total - MIN (cur.mem.available, cur.mem.total));
  values[2] = cur.mem.total ? 100.0 * values[1] / cur.mem.total : NAN;
  values[3] = (double) (cur.mem.swap_total - MIN (cur.mem.swap_free, cur.mem.swap_total));
  values[4] = cur.load.load1;
  values[5] = cur.load.load5;
  values[6] = cur.load.load15;
  values[7] = cur.net_tx_rate;
  values[8] = cur.net_rx_rate;
  values[9] = (double) cur.disk_used;
  orch_ring_push (s->history, cur.time_us, values);
}

static void
job_entry_close (JobEntry *e)
{
  if (e->cgroup_fd >= 0)
    close (e->cgroup_fd);
  e->cgroup_fd = -1;
}

static void
job_entry_free (JobEntry *e)
{
  job_entry_close (e);
  g_free (e->cgroup);
  orch_ring_free (e->history);
  g_free (e);
}

/* pgid -> GArray of pids, for jobs without a cgroup (none backend): one
 * /proc scan per tick serves them all. */
static GHashTable *
scan_process_groups (OrchSampler *s)
{
  GHashTable *groups = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_array_unref);
  struct dirent *de;

  if (s->proc_dir == NULL)
    return groups;
  rewinddir (s->proc_dir);
  while ((de = readdir (s->proc_dir)))
    {
      OrchProcStat st;
      char *end;
      long pid = strtol (de->d_name, &end, 10);
      GArray *pids;

      if (*end || pid <= 0 || orch_proc_read_stat (s->proc_root, (pid_t) pid, &st) < 0 ||
          st.state == 'Z')
        continue;
      pids = g_hash_table_lookup (groups, GINT_TO_POINTER (st.pgrp));
      if (pids == NULL)
        {
          pids = g_array_new (FALSE, FALSE, sizeof (pid_t));
          g_hash_table_insert (groups, GINT_TO_POINTER (st.pgrp), pids);
        }
      g_array_append_val (pids, st.pid);
    }
  return groups;
}

static JobEntry *
job_entry_for (OrchSampler *s, OrchJob *job)
{
  JobEntry *e = g_hash_table_lookup (s->jobs, job->id);

  if (e == NULL)
    {
      e = g_new0 (JobEntry, 1);
      e->cgroup_fd = -1;
      e->history = orch_ring_new (N_JOB_SERIES, s->config->job_history_size,
                                  s->config->job_history_coarse_size,
                                  s->config->job_history_coarse_step_s);
      g_hash_table_insert (s->jobs, g_strdup (job->id), e);
    }
  /* A new run (restart), or a cgroup learned since: start over. */
  if (e->run != job->started_at || g_strcmp0 (e->cgroup, job->cgroup) != 0)
    {
      const char *mount;
      job_entry_close (e);
      g_free (e->cgroup);
      e->cgroup = g_strdup (job->cgroup);
      e->run = job->started_at;
      e->time_us = 0;
      e->peak_seen = 0;
      memset (&e->stats, 0, sizeof e->stats);
      if (job->cgroup[0] && orch_cgroup_v2_mount (&mount) == 0)
        {
          g_autofree char *dir = g_build_filename (mount, job->cgroup, NULL);
          e->cgroup_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
    }
  return e;
}

static void
sample_job (OrchSampler *s, OrchJob *job, GHashTable **groups)
{
  JobEntry *e = job_entry_for (s, job);
  g_autoptr(GArray) cg_pids = NULL;
  const pid_t *pids = NULL;
  guint n_pids = 0;
  OrchJobStats now;
  gint64 t = g_get_real_time ();
  double values[N_JOB_SERIES];

  if (e->cgroup_fd >= 0 && orch_job_stats_cgroup_pids (e->cgroup_fd, &cg_pids) == 0)
    {
      pids = (const pid_t *) cg_pids->data;
      n_pids = cg_pids->len;
    }
  else if (e->cgroup_fd < 0)
    {
      GArray *group;
      if (*groups == NULL)
        *groups = scan_process_groups (s);
      /* The child made itself leader of its own group: pgid == pid. */
      group = g_hash_table_lookup (*groups, GINT_TO_POINTER (job->pid));
      if (group)
        {
          pids = (const pid_t *) group->data;
          n_pids = group->len;
        }
    }
  orch_job_stats_read (e->cgroup_fd, pids, n_pids, s->proc_root, &now);

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

  values[0] = e->cpu_percent;
  values[1] = (double) now.memory_bytes;
  values[2] = now.io_source ? (double) now.io_read_bytes : NAN;
  values[3] = now.io_source ? (double) now.io_write_bytes : NAN;
  values[4] = (double) now.tasks;
  orch_ring_push (e->history, t, values);
}

static void
sample_jobs (OrchSampler *s)
{
  g_autoptr(GPtrArray) jobs = NULL;
  g_autoptr(GHashTable) groups = NULL;
  GHashTableIter it;
  gpointer key, value;

  if (s->manager == NULL)
    return;
  jobs = orch_manager_list (s->manager, NULL, NULL, NULL);
  for (guint i = 0; i < jobs->len; i++)
    {
      OrchJob *job = jobs->pdata[i];
      if (job->state == ORCH_JOB_RUNNING || job->state == ORCH_JOB_STOPPING)
        sample_job (s, job, &groups);
      else
        {
          /* Finished: keep the figures and history, drop the fd. */
          JobEntry *e = g_hash_table_lookup (s->jobs, job->id);
          if (e)
            job_entry_close (e);
          job->cpu_percent = 0.0;
        }
    }
  /* Forget jobs that were removed. */
  g_hash_table_iter_init (&it, s->jobs);
  while (g_hash_table_iter_next (&it, &key, &value))
    if (orch_manager_lookup (s->manager, key, NULL) == NULL)
      g_hash_table_iter_remove (&it);
}

void
orch_sampler_tick (OrchSampler *s)
{
  take_sample (s);
  sample_jobs (s);
  if (s->sampled)
    s->sampled (orch_sampler_get_system (s), s->user_data);
}

static gboolean
tick_cb (gpointer data)
{
  orch_sampler_tick (data);
  return G_SOURCE_CONTINUE;
}

GVariant *
orch_sampler_get_system (OrchSampler *s)
{
  const SystemSample *c = &s->last;
  guint64 used = c->mem.total - MIN (c->mem.available, c->mem.total);
  guint64 swap_used = c->mem.swap_total - MIN (c->mem.swap_free, c->mem.swap_total);
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
#define ADD(k, v) g_variant_builder_add (&b, "{sv}", k, v)
  ADD ("timestamp", g_variant_new_uint64 ((guint64) c->time_us));
  ADD ("cpu_percent", g_variant_new_double (c->cpu_percent));
  ADD ("cpu_count", g_variant_new_uint32 (c->cpu_count));
  ADD ("memory_total", g_variant_new_uint64 (c->mem.total));
  ADD ("memory_available", g_variant_new_uint64 (c->mem.available));
  ADD ("memory_used", g_variant_new_uint64 (used));
  ADD ("memory_percent", g_variant_new_double (c->mem.total ? 100.0 * used / c->mem.total : 0.0));
  ADD ("swap_total", g_variant_new_uint64 (c->mem.swap_total));
  ADD ("swap_used", g_variant_new_uint64 (swap_used));
  ADD ("swap_percent", g_variant_new_double (c->mem.swap_total ? 100.0 * swap_used / c->mem.swap_total : 0.0));
  ADD ("load_1", g_variant_new_double (c->load.load1));
  ADD ("load_5", g_variant_new_double (c->load.load5));
  ADD ("load_15", g_variant_new_double (c->load.load15));
  ADD ("uptime_s", g_variant_new_double (c->uptime_s));
  ADD ("disk_total", g_variant_new_uint64 (c->disk_total));
  ADD ("disk_used", g_variant_new_uint64 (c->disk_used));
  ADD ("disk_free", g_variant_new_uint64 (c->disk_free));
  ADD ("disk_percent", g_variant_new_double (
           c->disk_used + c->disk_free ? 100.0 * c->disk_used / (c->disk_used + c->disk_free) : 0.0));
  ADD ("net_bytes_sent", g_variant_new_uint64 (c->net_tx_bytes));
  ADD ("net_bytes_recv", g_variant_new_uint64 (c->net_rx_bytes));
  ADD ("net_packets_sent", g_variant_new_uint64 (c->net_tx_packets));
  ADD ("net_packets_recv", g_variant_new_uint64 (c->net_rx_packets));
  ADD ("net_send_rate", g_variant_new_double (c->net_tx_rate));
  ADD ("net_recv_rate", g_variant_new_double (c->net_rx_rate));
  ADD ("process_count", g_variant_new_uint32 (c->process_count));
#undef ADD
  return g_variant_builder_end (&b);
}

static GVariant *history_rows (OrchRing *ring, const char *const *keys, guint n_keys,
                               GVariant *options, GError **error);

GVariant *
orch_sampler_get_system_history (OrchSampler *s, GVariant *options, GError **error)
{
  return history_rows (s->history, history_keys, N_SERIES, options, error);
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
  return history_rows (e->history, job_history_keys, N_JOB_SERIES, options, error);
}

static GVariant *
history_rows (OrchRing *ring, const char *const *keys, guint n_keys, GVariant *options,
              GError **error)
{
  guint64 since = 0;
  guint32 limit = 0, step_s = 0;
  g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (double));
  GVariantBuilder rows;
  guint n;

  if (!orch_vardict_check (options, _("option"),
                           (const char *const[]){ "since", "t", "limit", "u", "step_s", "u", NULL },
                           error))
    return NULL;
  g_variant_lookup (options, "since", "t", &since);
  g_variant_lookup (options, "limit", "u", &limit);
  g_variant_lookup (options, "step_s", "u", &step_s);
  if (since > (guint64) G_MAXINT64 || step_s > 7 * 24 * 3600)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("option “%s”: out of range"), since > (guint64) G_MAXINT64 ? "since" : "step_s");
      return NULL;
    }

  n = orch_ring_query (ring, (gint64) since, limit, step_s, times, values);
  g_variant_builder_init (&rows, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < n; i++)
    {
      GVariantBuilder row;
      g_variant_builder_init (&row, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&row, "{sv}", "timestamp",
                             g_variant_new_uint64 ((guint64) g_array_index (times, gint64, i)));
      for (guint k = 0; k < n_keys; k++)
        {
          double v = g_array_index (values, double, i * n_keys + k);
          /* Unknown stays out of the row rather than becoming a fake 0. */
          if (!isnan (v))
            g_variant_builder_add (&row, "{sv}", keys[k], g_variant_new_double (v));
        }
      g_variant_builder_add_value (&rows, g_variant_builder_end (&row));
    }
  return g_variant_builder_end (&rows);
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
      GHashTable *groups = NULL;
      sample_job (s, job, &groups);
      g_clear_pointer (&groups, g_hash_table_unref);
      e = g_hash_table_lookup (s->jobs, id);
    }

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "id", g_variant_new_string (job->id));
  g_variant_builder_add (&b, "{sv}", "state", g_variant_new_string (orch_job_state_to_string (job->state)));
  g_variant_builder_add (&b, "{sv}", "timestamp", g_variant_new_uint64 (e ? (guint64) e->time_us : 0));
  if (e == NULL || e->time_us == 0)
    return g_variant_builder_end (&b);
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

  s->config = config;
  s->manager = manager;
  s->jobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) job_entry_free);
  s->proc_root = g_strdup (proc_root ? proc_root : "/proc");
  s->sampled = sampled;
  s->user_data = user_data;
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

  s->history = orch_ring_new (N_SERIES, config->history_size, config->history_coarse_size,
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
  for (int i = 0; i < N_FILES; i++)
    if (s->fds[i] >= 0)
      close (s->fds[i]);
  if (s->proc_dir)
    closedir (s->proc_dir);
  g_clear_pointer (&s->history, orch_ring_free);
  g_clear_pointer (&s->jobs, g_hash_table_unref);
  g_byte_array_unref (s->buf);
  g_free (s->proc_root);
  g_free (s);
}
