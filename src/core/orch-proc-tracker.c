/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-proc-tracker.h"
#include "basic/orch-cgroup.h"
#include "basic/orch-error.h"
#include "orch-history.h"
#include "basic/orch-metrics-parse.h"
#include "basic/orch-proc.h"
#include "basic/orch-ring.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

/* A tracked process's history columns, named: the enum indexes the keys. */
typedef enum {
  PROC_SERIES_CPU_PERCENT,
  PROC_SERIES_RSS_BYTES,
  PROC_SERIES_VMS_BYTES,
  PROC_SERIES_THREADS,
  PROC_SERIES_IO_READ_BYTES,
  PROC_SERIES_IO_WRITE_BYTES,
  N_PROC_SERIES
} ProcSeries;

static const char *const proc_history_keys[] = {
  [PROC_SERIES_CPU_PERCENT] = "cpu_percent",     [PROC_SERIES_RSS_BYTES] = "rss_bytes",
  [PROC_SERIES_VMS_BYTES] = "vms_bytes",         [PROC_SERIES_THREADS] = "threads",
  [PROC_SERIES_IO_READ_BYTES] = "io_read_bytes", [PROC_SERIES_IO_WRITE_BYTES] = "io_write_bytes",
};
G_STATIC_ASSERT (G_N_ELEMENTS (proc_history_keys) == N_PROC_SERIES);

typedef struct {
  pid_t pid;
  guint64 starttime;      /* ticks after boot: tells a reused pid apart */
  guint64 cpu_ticks;      /* utime + stime at the last sample */
  gint64 time_us;         /* of the last sample, 0 = none yet */
  double cpu_percent;
  gint64 expires;         /* monotonic µs: tracked until then */
  OrchRing *history;
} ProcEntry;

struct _OrchProcTracker {
  const OrchConfig *config;
  char *proc_root;
  guint64 boot_time;      /* seconds since the epoch */
  long ticks_per_s;
  GHashTable *procs;      /* pid -> ProcEntry */
};

static void
proc_entry_free (ProcEntry *e)
{
  orch_ring_free (e->history);
  g_free (e);
}

OrchProcTracker *
orch_proc_tracker_new (const OrchConfig *config, const char *proc_root)
{
  OrchProcTracker *t = g_new0 (OrchProcTracker, 1);
  g_autofree char *stat_path = NULL;
  g_autofree char *text = NULL;

  t->config = config;
  t->proc_root = g_strdup (proc_root ? proc_root : "/proc");
  t->ticks_per_s = sysconf (_SC_CLK_TCK);
  t->procs = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) proc_entry_free);
  stat_path = g_build_filename (t->proc_root, "stat", NULL);
  if (orch_read_small_file (stat_path, &text) == 0)
    {
      g_auto(OrchSysStat) st = { 0 };
      if (orch_parse_sys_stat (text, strlen (text), &st) == 0)
        t->boot_time = st.boot_time;
    }
  return t;
}

void
orch_proc_tracker_free (OrchProcTracker *t)
{
  if (t == NULL)
    return;
  g_hash_table_unref (t->procs);
  g_free (t->proc_root);
  g_free (t);
}

/* Everything /proc tells about @pid that a record shows. */
typedef struct {
  OrchProcStat stat;
  OrchProcStatus status;
  gboolean have_status;
  OrchProcIo io;
  gboolean have_io;
  int open_fds;           /* -1 when not readable */
  GPtrArray *cmdline;
} ProcReading;

static void
reading_clear (ProcReading *r)
{
  g_clear_pointer (&r->cmdline, g_ptr_array_unref);
}

static int
read_process (OrchProcTracker *t, pid_t pid, gboolean full, ProcReading *r)
{
  g_autofree char *dir = g_strdup_printf ("%s/%d", t->proc_root, (int) pid);
  int res = orch_proc_read_stat (t->proc_root, pid, &r->stat);

  if (res < 0)
    return res;
  r->open_fds = -1;
  {
    g_autofree char *path = g_build_filename (dir, "io", NULL);
    g_autofree char *text = NULL;
    if (orch_read_small_file (path, &text) == 0)
      r->have_io = orch_parse_proc_io (text, strlen (text), &r->io) == 0;
  }
  if (!full)
    return 0;
  {
    g_autofree char *path = g_build_filename (dir, "status", NULL);
    g_autofree char *text = NULL;
    if (orch_read_small_file (path, &text) == 0)
      r->have_status = orch_parse_proc_status (text, strlen (text), &r->status) == 0;
  }
  {
    g_autofree char *path = g_build_filename (dir, "cmdline", NULL);
    g_autofree char *data = NULL;
    gsize len = 0;
    r->cmdline = g_ptr_array_new_with_free_func (g_free);
    if (g_file_get_contents (path, &data, &len, NULL))
      for (gsize i = 0; i < len;)
        {
          gsize n = strnlen (data + i, len - i);
          /* Arguments are bytes, a D-Bus string must be UTF-8. */
          g_ptr_array_add (r->cmdline, g_utf8_make_valid (data + i, (gssize) n));
          i += n + 1;
        }
  }
  {
    g_autofree char *path = g_build_filename (dir, "fd", NULL);
    DIR *d = opendir (path);
    if (d)
      {
        struct dirent *de;
        r->open_fds = 0;
        while ((de = readdir (d)))
          if (de->d_name[0] != '.')
            r->open_fds++;
        closedir (d);
      }
  }
  return 0;
}

static void
record_sample (OrchProcTracker *t, ProcEntry *e, const ProcReading *r)
{
  gint64 now = g_get_real_time ();
  guint64 ticks = r->stat.utime + r->stat.stime;
  double values[N_PROC_SERIES];
  long page = sysconf (_SC_PAGESIZE);

  if (e->time_us > 0 && now > e->time_us)
    e->cpu_percent = 100.0 * (double) (ticks >= e->cpu_ticks ? ticks - e->cpu_ticks : 0) *
                     (1e6 / t->ticks_per_s) / (double) (now - e->time_us);
  else
    {
      /* First look: the average since the process started. */
      double started = t->boot_time + (double) r->stat.starttime / t->ticks_per_s;
      double alive = now / 1e6 - started;
      e->cpu_percent = alive > 0 ? 100.0 * ((double) ticks / t->ticks_per_s) / alive : 0.0;
    }
  e->cpu_ticks = ticks;
  e->time_us = now;

  values[PROC_SERIES_CPU_PERCENT] = e->cpu_percent;
  values[PROC_SERIES_RSS_BYTES] = (double) (r->stat.rss > 0 ? (guint64) r->stat.rss * page : 0);
  values[PROC_SERIES_VMS_BYTES] = (double) r->stat.vsize;
  values[PROC_SERIES_THREADS] = (double) r->stat.num_threads;
  values[PROC_SERIES_IO_READ_BYTES] = r->have_io ? (double) r->io.read_bytes : NAN;
  values[PROC_SERIES_IO_WRITE_BYTES] = r->have_io ? (double) r->io.write_bytes : NAN;
  orch_ring_push (e->history, now, values);
}

/* The entry for @pid, new or reset when the pid now belongs to another
 * process; NULL with NotFound when there is no such process. */
static ProcEntry *
track (OrchProcTracker *t, guint32 pid, ProcReading *r, GError **error)
{
  ProcEntry *e;
  int res = pid > 0 && pid <= G_MAXINT32 ? read_process (t, (pid_t) pid, TRUE, r) : -ESRCH;

  if (res < 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_NOT_FOUND, _("no process with pid %u"), pid);
      return NULL;
    }
  e = g_hash_table_lookup (t->procs, GUINT_TO_POINTER (pid));
  if (e && e->starttime != r->stat.starttime)
    {
      g_hash_table_remove (t->procs, GUINT_TO_POINTER (pid));
      e = NULL;
    }
  if (e == NULL)
    {
      if (g_hash_table_size (t->procs) >= t->config->max_tracked_processes)
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_LIMIT_REACHED,
                       _("%u processes are tracked, the configured maximum ([metrics] max_tracked_processes)"),
                       t->config->max_tracked_processes);
          return NULL;
        }
      e = g_new0 (ProcEntry, 1);
      e->pid = (pid_t) pid;
      e->starttime = r->stat.starttime;
      e->history = orch_ring_new (N_PROC_SERIES, t->config->job_history_size,
                                  t->config->job_history_coarse_size,
                                  t->config->job_history_coarse_step_s);
      g_hash_table_insert (t->procs, GUINT_TO_POINTER (pid), e);
      record_sample (t, e, r);
    }
  e->expires = g_get_monotonic_time () + (gint64) t->config->process_track_s * G_USEC_PER_SEC;
  return e;
}

void
orch_proc_tracker_tick (OrchProcTracker *t)
{
  GHashTableIter it;
  gpointer key, value;
  gint64 now = g_get_monotonic_time ();

  g_hash_table_iter_init (&it, t->procs);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      ProcEntry *e = value;
      ProcReading r = { 0 };

      if (now > e->expires || read_process (t, e->pid, FALSE, &r) < 0 ||
          r.stat.starttime != e->starttime)
        {
          /* Not asked about for a while, gone, or someone else now. */
          g_hash_table_iter_remove (&it);
          continue;
        }
      record_sample (t, e, &r);
    }
}

GVariant *
orch_proc_tracker_get (OrchProcTracker *t, guint32 pid, GError **error)
{
  ProcReading r = { 0 };
  ProcEntry *e = track (t, pid, &r, error);
  GVariantBuilder b;
  long page = sysconf (_SC_PAGESIZE);
  double started;

  if (e == NULL)
    {
      reading_clear (&r);
      return NULL;
    }
  started = t->boot_time + (double) r.stat.starttime / t->ticks_per_s;
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
#define ADD(k, v) g_variant_builder_add (&b, "{sv}", k, v)
  ADD ("pid", g_variant_new_uint32 (pid));
  ADD ("ppid", g_variant_new_uint32 ((guint32) r.stat.ppid));
  {
    g_autofree char *name = g_utf8_make_valid (r.stat.comm, -1);
    ADD ("name", g_variant_new_string (name));
  }
  ADD ("state", g_variant_new_string ((char[]){ r.stat.state, '\0' }));
  g_ptr_array_add (r.cmdline, NULL);
  ADD ("cmdline", g_variant_new_strv ((const char *const *) r.cmdline->pdata, -1));
  if (r.have_status)
    ADD ("uid", g_variant_new_uint32 (r.status.uid));
  ADD ("cpu_percent", g_variant_new_double (e->cpu_percent));
  ADD ("rss_bytes", g_variant_new_uint64 (r.stat.rss > 0 ? (guint64) r.stat.rss * page : 0));
  ADD ("vms_bytes", g_variant_new_uint64 (r.stat.vsize));
  ADD ("threads", g_variant_new_uint32 ((guint32) MAX (r.stat.num_threads, 0)));
  if (r.open_fds >= 0)
    ADD ("open_fds", g_variant_new_uint32 ((guint32) r.open_fds));
  if (r.have_io)
    {
      ADD ("io_read_bytes", g_variant_new_uint64 (r.io.read_bytes));
      ADD ("io_write_bytes", g_variant_new_uint64 (r.io.write_bytes));
    }
  ADD ("start_time", g_variant_new_uint64 ((guint64) (started * G_USEC_PER_SEC)));
  ADD ("timestamp", g_variant_new_uint64 ((guint64) g_get_real_time ()));
#undef ADD
  reading_clear (&r);
  return g_variant_builder_end (&b);
}

GVariant *
orch_proc_tracker_get_history (OrchProcTracker *t, guint32 pid, GVariant *options, GError **error)
{
  ProcReading r = { 0 };
  ProcEntry *e = track (t, pid, &r, error);

  reading_clear (&r);
  if (e == NULL)
    return NULL;
  return orch_history_rows (e->history, proc_history_keys, N_PROC_SERIES, options, error);
}
