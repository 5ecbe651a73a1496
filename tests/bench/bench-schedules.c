/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-schedules: what 10 000 schedules cost orchestratord (issue 16's
 * goals: < 2 MiB of RSS per 10 000, no wake-up between elapses, one next
 * elapse < 5 µs).  Not a test; bench-schedules.sh runs it against a
 * daemon of its own on a private bus.
 *
 *   bench-schedules --address=BUS --daemon-pid=PID [--count=10000]
 *                   [--idle-s=30] [--runs=3]
 *
 * Per run: an idle window with no schedule (the baseline: the daemon's
 * own timers), then COUNT schedules created over D-Bus (daily calendar
 * and cron expressions of varied shapes, none due within the hour), then
 * the same idle window again; then they are removed.  Idle figures are
 * the daemon's context switches (voluntary + involuntary, /proc/PID/status:
 * each one a wake-up) and CPU time (utime + stime) over the window.  RSS
 * is VmRSS before the first Create and after the last, in the first run
 * (a fresh daemon): later runs reuse what the first one's removals freed,
 * so their growth (also printed) says little.  The first run then adds
 * a second batch of COUNT: its growth is the marginal cost of COUNT
 * schedules once SQLite's page cache (bounded, 2 MiB by default) and
 * malloc's arenas are warm.  In process, the scheduler alone over a
 * state database in a temporary directory: heap bytes in use (mallinfo2)
 * per schedule, less what SQLite holds (sqlite3_memory_used).  The next-elapse
 * figure is measured in process over the same expressions (each call
 * timed alone, median).  Prints one JSON object; medians of the runs.
 */
#include "basic/orch-calendar.h"
#include "basic/orch-cron.h"
#include "core/orch-scheduler.h"
#include "bench-proc.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <malloc.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define IFACE "org.orchestrator.Schedules"
#define WINDOW_OUTSTANDING 64

static GDBusConnection *bus;
static int daemon_pid;

static gint64
status_field (const char *name)
{
  return proc_status_kb (daemon_pid, name);
}

static gint64
switches (void)
{
  return status_field ("voluntary_ctxt_switches") + status_field ("nonvoluntary_ctxt_switches");
}

/* utime + stime of every thread, in clock ticks. */
static gint64
cpu_ticks (void)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", daemon_pid);
  g_autofree char *text = NULL;
  g_auto(GStrv) f = NULL;
  const char *p;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (p = strrchr (text, ')')) == NULL)
    return -1;
  f = g_strsplit (p + 2, " ", -1);
  /* fields after the name: state is [0]; utime is field 14 → [11] */
  return g_ascii_strtoll (f[11], NULL, 10) + g_ascii_strtoll (f[12], NULL, 10);
}

typedef struct {
  gint64 switches;
  double cpu_ms;
} Idle;

static Idle
idle_window (guint seconds)
{
  gint64 s0 = switches (), c0 = cpu_ticks ();
  Idle out;

  g_usleep ((gulong) seconds * G_USEC_PER_SEC);
  out.switches = switches () - s0;
  out.cpu_ms = (double) (cpu_ticks () - c0) * 1000.0 / (double) sysconf (_SC_CLK_TCK);
  return out;
}

/* The i-th expression: daily times and weekday/cron shapes, all at least
 * an hour after @now (UTC), so none elapses during the windows. */
static char *
expression (guint i, gint64 now, gboolean *ret_cron)
{
  gint64 t = now / G_USEC_PER_SEC + 3600 + (gint64) (i * 7919) % (20 * 3600);
  int h = (int) ((t / 3600) % 24), m = (int) ((t / 60) % 60), s = (int) (t % 60);

  *ret_cron = i % 4 == 3;
  switch (i % 4)
    {
    case 0:
      return g_strdup_printf ("*-*-* %02d:%02d:%02d UTC", h, m, s);
    case 1:
      return g_strdup_printf ("Mon..Sun *-*-* %02d:%02d:%02d UTC", h, m, s);
    case 2:
      return g_strdup_printf ("*-*-1..31 %02d:%02d:00 UTC", h, m);
    default:
      return g_strdup_printf ("%d %d * * *", m, h);
    }
}

typedef struct {
  guint outstanding;
  guint failed;
  GPtrArray *ids;
} Batch;

static void
created (GObject *src, GAsyncResult *res, gpointer data)
{
  Batch *b = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = g_dbus_connection_call_finish (bus, res, &error);

  b->outstanding--;
  if (r == NULL)
    {
      if (b->failed++ == 0)
        g_printerr ("bench-schedules: Create: %s\n", error->message);
      return;
    }
  {
    const char *id;
    g_variant_get (r, "(&so)", &id, NULL);
    g_ptr_array_add (b->ids, g_strdup (id));
  }
}

static void
removed (GObject *src, GAsyncResult *res, gpointer data)
{
  Batch *b = data;
  g_autoptr(GVariant) r = g_dbus_connection_call_finish (bus, res, NULL);

  b->outstanding--;
  if (r == NULL)
    b->failed++;
}

/* Creates @count schedules, the @first-th expression on, over D-Bus. */
static void
create_batch (Batch *b, int first, int count, gint64 now)
{
  for (int i = first; i < first + count; i++)
    {
      gboolean cron;
      g_autofree char *e = expression ((guint) i, now, &cron);
      GVariant *params = g_variant_new_parsed (
          "({'name': <%s>, %s: <%s>, 'job': <{'command': <['/bin/true']>}>},)", "bench",
          cron ? "cron" : "calendar", e);
      while (b->outstanding >= WINDOW_OUTSTANDING)
        g_main_context_iteration (NULL, TRUE);
      b->outstanding++;
      g_dbus_connection_call (bus, "org.orchestrator", "/org/orchestrator", IFACE, "Create", params,
                              G_VARIANT_TYPE ("(so)"), G_DBUS_CALL_FLAGS_NONE, 60000, NULL, created,
                              b);
    }
  while (b->outstanding > 0)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
check_any (GVariant *spec, gpointer data, GError **error)
{
  return TRUE;
}

/* The scheduler's own heap bytes per schedule, in this process, with a
 * state database (so the definition lives there, as in the daemon):
 * heap in use less SQLite's, after @count Creates, over @count. */
static double
in_process_bytes (int count, gint64 now)
{
  static const OrchSchedulerOps ops = { .check = check_any };
  g_autofree char *dir = g_dir_make_tmp ("bench-schedules-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(OrchState) state = dir ? orch_state_open (dir, &error) : NULL;
  g_autoptr(OrchScheduler) sched = state ? orch_scheduler_new (state, &ops, NULL, &error) : NULL;
  gint64 heap0 = 0, sql0 = 0, heap1 = 0, sql1 = 0;
  double per = -1;

  if (sched == NULL)
    {
      g_printerr ("bench-schedules: in process: %s\n", error ? error->message : "no temp dir");
      return -1;
    }
  /* One first, so that the one-off costs (statements, zone data) are
   * not counted per schedule. */
  for (int pass = 0; pass < 2; pass++)
    {
      int n = pass == 0 ? 1 : count;
      if (pass == 1)
        {
          heap0 = (gint64) mallinfo2 ().uordblks;
          sql0 = sqlite3_memory_used ();
        }
      (void) orch_state_begin (state, NULL);
      for (int i = 0; i < n; i++)
        {
          gboolean cron;
          g_autofree char *e = expression ((guint) (pass * count + i), now, &cron);
          g_autoptr(GVariant) params = g_variant_ref_sink (g_variant_new_parsed (
              "{'name': <%s>, %s: <%s>, 'job': <{'command': <['/bin/true']>}>}", "bench",
              cron ? "cron" : "calendar", e));
          if (orch_scheduler_create (sched, params, &error) == NULL)
            {
              g_printerr ("bench-schedules: in process: %s\n", error->message);
              (void) orch_state_commit (state, NULL);
              goto out;
            }
        }
      (void) orch_state_commit (state, NULL);
    }
  heap1 = (gint64) mallinfo2 ().uordblks;
  sql1 = sqlite3_memory_used ();
  per = (double) ((heap1 - heap0) - (sql1 - sql0)) / count;
out:
  g_clear_pointer (&sched, orch_scheduler_free);
  g_clear_pointer (&state, orch_state_free);
  {
    g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name (d)))
      {
        g_autofree char *f = g_build_filename (dir, name, NULL);
        g_unlink (f);
      }
    g_rmdir (dir);
  }
  return per;
}

static double
median_of (GArray *a)
{
  g_array_sort (a, cmp_double);
  if (a->len == 0)
    return 0;
  if (a->len % 2)
    return g_array_index (a, double, a->len / 2);
  return (g_array_index (a, double, a->len / 2 - 1) + g_array_index (a, double, a->len / 2)) / 2;
}

/* One next elapse, timed alone, for each expression; the median in µs. */
static double
next_elapse_us (guint count, gint64 now)
{
  g_autoptr(GArray) t = g_array_new (FALSE, FALSE, sizeof (double));

  for (guint i = 0; i < count; i++)
    {
      gboolean cron;
      g_autofree char *e = expression (i, now, &cron);
      g_autoptr(OrchCalendar) cal = cron ? NULL : orch_calendar_parse (e, NULL);
      g_autoptr(OrchCron) cr = cron ? orch_cron_parse (e, "UTC", NULL) : NULL;
      gint64 at, t0 = (gint64) now_ns ();
      double us;
      if (cal)
        orch_calendar_next (cal, now, &at);
      else if (cr)
        orch_cron_next (cr, now, &at);
      us = (double) ((gint64) now_ns () - t0) / 1000.0;
      g_array_append_val (t, us);
    }
  return median_of (t);
}

/* [a, b, c] of @a's values, in run order (before any median sorts them). */
static char *
json_array (GArray *a, int decimals)
{
  GString *s = g_string_new ("[");

  for (guint i = 0; i < a->len; i++)
    {
      if (i)
        g_string_append_c (s, ',');
      g_string_append_printf (s, "%.*f", decimals, g_array_index (a, double, i));
    }
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

int
main (int argc, char **argv)
{
  g_autofree char *address = NULL;
  int count = 10000, idle_s = 30, runs = 3;
  GOptionEntry entries[] = {
    { "address", 0, 0, G_OPTION_ARG_STRING, &address, "Bus address", "ADDR" },
    { "daemon-pid", 0, 0, G_OPTION_ARG_INT, &daemon_pid, "orchestratord's pid", "PID" },
    { "count", 0, 0, G_OPTION_ARG_INT, &count, "Schedules", "N" },
    { "idle-s", 0, 0, G_OPTION_ARG_INT, &idle_s, "Idle window", "S" },
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Runs", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) rss = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) base_sw = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) sched_sw = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) base_cpu = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) sched_cpu = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) create_s = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) next_us = g_array_new (FALSE, FALSE, sizeof (double));
  guint failed = 0;
  double marginal_mib = 0, bytes_per = 0;
  g_autofree char *rss_runs = NULL, *base_runs = NULL, *sched_runs = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || address == NULL || daemon_pid <= 0)
    {
      g_printerr ("bench-schedules: --address and --daemon-pid are needed\n");
      return 2;
    }
  bus = g_dbus_connection_new_for_address_sync (address,
                                                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                NULL, NULL, &error);
  if (bus == NULL)
    {
      g_printerr ("bench-schedules: %s\n", error->message);
      return 1;
    }
  for (int run = 0; run < runs; run++)
    {
      Batch b = { 0, 0, g_ptr_array_new_with_free_func (g_free) };
      gint64 now = g_get_real_time (), t0;
      double rss0, rss1, v;
      Idle idle;

      idle = idle_window ((guint) idle_s);
      v = (double) idle.switches;
      g_array_append_val (base_sw, v);
      g_array_append_val (base_cpu, idle.cpu_ms);

      rss0 = (double) status_field ("VmRSS");
      t0 = g_get_monotonic_time ();
      create_batch (&b, 0, count, now);
      v = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
      g_array_append_val (create_s, v);
      rss1 = (double) status_field ("VmRSS");
      v = (rss1 - rss0) / 1024.0;
      g_array_append_val (rss, v);

      idle = idle_window ((guint) idle_s);
      v = (double) idle.switches;
      g_array_append_val (sched_sw, v);
      g_array_append_val (sched_cpu, idle.cpu_ms);

      v = next_elapse_us ((guint) count, now);
      g_array_append_val (next_us, v);

      if (run == 0)
        {
          rss1 = (double) status_field ("VmRSS");
          create_batch (&b, count, count, now);
          marginal_mib = ((double) status_field ("VmRSS") - rss1) / 1024.0;
        }

      for (guint i = 0; i < b.ids->len; i++)
        {
          while (b.outstanding >= WINDOW_OUTSTANDING)
            g_main_context_iteration (NULL, TRUE);
          b.outstanding++;
          g_dbus_connection_call (bus, "org.orchestrator", "/org/orchestrator", IFACE, "Remove",
                                  g_variant_new ("(s)", (const char *) b.ids->pdata[i]), NULL,
                                  G_DBUS_CALL_FLAGS_NONE, 60000, NULL, removed, &b);
        }
      while (b.outstanding > 0)
        g_main_context_iteration (NULL, TRUE);
      failed += b.failed;
      g_printerr ("bench-schedules: run %d: %u created, rss +%.2f MiB, idle switches %.0f -> %.0f, "
                  "cpu %.1f -> %.1f ms\n",
                  run + 1, b.ids->len, g_array_index (rss, double, rss->len - 1),
                  g_array_index (base_sw, double, base_sw->len - 1),
                  g_array_index (sched_sw, double, sched_sw->len - 1),
                  g_array_index (base_cpu, double, base_cpu->len - 1),
                  g_array_index (sched_cpu, double, sched_cpu->len - 1));
      g_ptr_array_unref (b.ids);
    }
  bytes_per = in_process_bytes (count, g_get_real_time ());
  rss_runs = json_array (rss, 3);
  base_runs = json_array (base_sw, 0);
  sched_runs = json_array (sched_sw, 0);
  printf ("{\"schedules\":%d,\"runs\":%d,\"idle_window_s\":%d,"
          "\"rss_growth_mib\":%.3f,\"rss_growth_mib_runs\":%s,\"rss_growth_second_batch_mib\":%.3f,"
          "\"scheduler_heap_bytes_per_schedule\":%.1f,\"create_all_s\":%.2f,"
          "\"idle_switches_without_runs\":%s,\"idle_switches_with_runs\":%s,"
          "\"idle_switches_without\":%.0f,\"idle_switches_with\":%.0f,"
          "\"idle_cpu_ms_per_min_without\":%.2f,\"idle_cpu_ms_per_min_with\":%.2f,"
          "\"next_elapse_median_us\":%.3f,\"failed_calls\":%u}\n",
          count, runs, idle_s, g_array_index (rss, double, 0), rss_runs, marginal_mib, bytes_per,
          median_of (create_s), base_runs, sched_runs, median_of (base_sw), median_of (sched_sw),
          median_of (base_cpu) * 60.0 / idle_s, median_of (sched_cpu) * 60.0 / idle_s,
          median_of (next_us), failed);
  return failed ? 1 : 0;
}
