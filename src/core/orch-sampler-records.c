/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The records org.orchestrator.Metrics serves: the system record (also as
 * plain fields for the per-tick signal), the detailed one, a job's, and
 * history rows, built from what the tick left in the sampler. */
#include "config.h"

#include "orch-sampler-private.h"
#include "basic/orch-fileio.h"
#include "basic/orch-mounts.h"
#include "basic/orch-vardict.h"
#include "orch-history.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>
#include <sys/statvfs.h>

/* For both tables: a series added to the enum and not to the table (or
 * the reverse) fails the build; a hole in the middle fails
 * tests/unit/test-sampler.c. */
const char *const orch_sampler_system_series_keys[] = {
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
  [ORCH_SYSTEM_SERIES_PRESSURE_CPU] = "pressure_cpu",
  [ORCH_SYSTEM_SERIES_PRESSURE_MEMORY] = "pressure_memory",
  [ORCH_SYSTEM_SERIES_PRESSURE_IO] = "pressure_io",
};
G_STATIC_ASSERT (G_N_ELEMENTS (orch_sampler_system_series_keys) == ORCH_SYSTEM_N_SERIES);

const char *const orch_sampler_job_series_keys[] = {
  [ORCH_JOB_SERIES_CPU_PERCENT] = "cpu_percent",
  [ORCH_JOB_SERIES_MEMORY_BYTES] = "memory_bytes",
  [ORCH_JOB_SERIES_IO_READ_BYTES] = "io_read_bytes",
  [ORCH_JOB_SERIES_IO_WRITE_BYTES] = "io_write_bytes",
  [ORCH_JOB_SERIES_TASKS] = "tasks",
};
G_STATIC_ASSERT (G_N_ELEMENTS (orch_sampler_job_series_keys) == ORCH_JOB_N_SERIES);

guint
orch_sampler_system_fields (OrchSampler *s, OrchSampleField fields[ORCH_SAMPLE_MAX_FIELDS])
{
  const SystemSample *c = &s->last;
  guint64 used = c->mem.total - MIN (c->mem.available, c->mem.total);
  guint64 swap_used = c->mem.swap_total - MIN (c->mem.swap_free, c->mem.swap_total);
  guint n = 0;

#define ADD(k, ty, value)                  \
  G_STMT_START                             \
  {                                        \
    g_assert (n < ORCH_SAMPLE_MAX_FIELDS); \
    fields[n].key = k;                     \
    fields[n].type = #ty[0];               \
    fields[n++].v.ty = value;              \
  }                                        \
  G_STMT_END
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
  ADD ("disk_percent", d,
       c->disk_used + c->disk_free ? 100.0 * c->disk_used / (c->disk_used + c->disk_free) : 0.0);
  ADD ("net_bytes_sent", t, c->net_tx_bytes);
  ADD ("net_bytes_recv", t, c->net_rx_bytes);
  ADD ("net_packets_sent", t, c->net_tx_packets);
  ADD ("net_packets_recv", t, c->net_rx_packets);
  ADD ("net_send_rate", d, c->net_tx_rate);
  ADD ("net_recv_rate", d, c->net_rx_rate);
  ADD ("process_count", u, c->process_count);
  /* Present where the kernel has PSI. */
  for (int k = 0; k < N_PRESSURE; k++)
    if (!isnan (c->pressure[k]))
      ADD (orch_sampler_system_series_keys[ORCH_SYSTEM_SERIES_PRESSURE_CPU + k], d, c->pressure[k]);
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
      GVariant *v = f[i].type == 't'   ? g_variant_new_uint64 (f[i].v.t)
                    : f[i].type == 'u' ? g_variant_new_uint32 (f[i].v.u)
                                       : g_variant_new_double (f[i].v.d);
      entries[i] = g_variant_new_dict_entry (g_variant_new_string (f[i].key),
                                             g_variant_new_variant (v));
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
      if (orch_read_small_file (path, &text) < 0 ||
          orch_parse_pressure (text, strlen (text), &p) < 0)
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
          g_variant_builder_add (&one, "{sv}", "full_total_us",
                                 g_variant_new_uint64 (p.full_total_us));
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
      g_variant_builder_add (&one, "{sv}", "mount_point",
                             g_variant_new_take_string (g_utf8_make_valid (m->mount_point, -1)));
      g_variant_builder_add (&one, "{sv}", "device",
                             g_variant_new_take_string (g_utf8_make_valid (m->source, -1)));
      g_variant_builder_add (&one, "{sv}", "fstype", g_variant_new_string (m->fstype));
      g_variant_builder_add (&one, "{sv}", "total", g_variant_new_uint64 (total));
      g_variant_builder_add (&one, "{sv}", "used", g_variant_new_uint64 (used));
      g_variant_builder_add (&one, "{sv}", "free", g_variant_new_uint64 (avail));
      g_variant_builder_add (
          &one, "{sv}", "percent",
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
    orch_sampler_read_disks (s, g_get_real_time ());
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
      g_variant_builder_add (&one, "{sv}", "name",
                             g_variant_new_take_string (g_utf8_make_valid (r->disk.name, -1)));
      g_variant_builder_add (&one, "{sv}", "major", g_variant_new_uint32 (r->disk.major));
      g_variant_builder_add (&one, "{sv}", "minor", g_variant_new_uint32 (r->disk.minor));
      g_variant_builder_add (&one, "{sv}", "partition",
                             g_variant_new_boolean (g_file_test (part, G_FILE_TEST_EXISTS)));
      g_variant_builder_add (&one, "{sv}", "reads", g_variant_new_uint64 (r->disk.reads));
      g_variant_builder_add (&one, "{sv}", "writes", g_variant_new_uint64 (r->disk.writes));
      g_variant_builder_add (&one, "{sv}", "read_bytes",
                             g_variant_new_uint64 (r->disk.read_sectors * 512));
      g_variant_builder_add (&one, "{sv}", "write_bytes",
                             g_variant_new_uint64 (r->disk.write_sectors * 512));
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
      g_variant_builder_add (&one, "{sv}", "name",
                             g_variant_new_take_string (g_utf8_make_valid (r->dev.name, -1)));
      g_variant_builder_add (&one, "{sv}", "bytes_recv", g_variant_new_uint64 (r->dev.rx_bytes));
      g_variant_builder_add (&one, "{sv}", "bytes_sent", g_variant_new_uint64 (r->dev.tx_bytes));
      g_variant_builder_add (&one, "{sv}", "packets_recv",
                             g_variant_new_uint64 (r->dev.rx_packets));
      g_variant_builder_add (&one, "{sv}", "packets_sent",
                             g_variant_new_uint64 (r->dev.tx_packets));
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
  return orch_history_rows (s->history, orch_sampler_system_series_keys, ORCH_SYSTEM_N_SERIES,
                            options, error);
}

gboolean
orch_sampler_query_system_history (OrchSampler *s, GVariant *options, OrchHistoryRows *rows,
                                   GError **error)
{
  return orch_history_query (s->history, orch_sampler_system_series_keys, ORCH_SYSTEM_N_SERIES,
                             options, rows, error);
}

gboolean
orch_sampler_query_job_history (OrchSampler *s, const char *id, GVariant *options,
                                OrchHistoryRows *rows, GError **error)
{
  OrchJob *job = s->manager ? orch_manager_lookup (s->manager, id, error) : NULL;
  JobEntry *e;

  if (job == NULL)
    return FALSE;
  e = g_hash_table_lookup (s->jobs, id);
  return orch_history_query (e ? e->history : NULL, orch_sampler_job_series_keys, ORCH_JOB_N_SERIES,
                             options, rows, error);
}

GVariant *
orch_sampler_get_job_history (OrchSampler *s, const char *id, GVariant *options, GError **error)
{
  OrchHistoryRows rows;
  GVariant *v;

  if (!orch_sampler_query_job_history (s, id, options, &rows, error))
    return NULL;
  v = orch_history_rows_to_variant (&rows);
  orch_history_rows_clear (&rows);
  return v;
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
  e = orch_sampler_job_latest (s, job);

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "id", g_variant_new_string (job->id));
  g_variant_builder_add (&b, "{sv}", "state",
                         g_variant_new_string (orch_job_state_to_string (job->state)));
  g_variant_builder_add (&b, "{sv}", "timestamp",
                         g_variant_new_uint64 (e ? (guint64) e->time_us : 0));
  if (e == NULL || e->time_us == 0)
    return g_variant_builder_end (&b);
  st = &e->stats;
  g_variant_builder_add (&b, "{sv}", "cpu_usage_usec", g_variant_new_uint64 (st->cpu_usage_usec));
  g_variant_builder_add (&b, "{sv}", "cpu_percent", g_variant_new_double (e->cpu_percent));
  g_variant_builder_add (&b, "{sv}", "memory_bytes", g_variant_new_uint64 (st->memory_bytes));
  g_variant_builder_add (
      &b, "{sv}", "memory_peak_bytes",
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
