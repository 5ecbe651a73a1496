/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.orchestrator.Schedules against the real daemon: runs are real jobs,
 * policies hold, schedules survive the daemon (killed or stopped), and a
 * clock set is noticed.  The daemon's scheduler clock is offset through
 * its test hook (ORCH_TEST_CLOCK_OFFSET_FILE, SIGUSR2 = "the clock was
 * set"): CLOCK_REALTIME is not namespaced, and setting the host's clock
 * would disturb everything else on the machine. */
#include "orch-test-daemon.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define IFACE "org.orchestrator.Schedules"
#define SEC G_GINT64_CONSTANT (1000000)

static OrchTestDaemon *d;
static char *clock_dir;
static char *offset_file;

static GVariant *
scall (const char *method, GVariant *args, GError **error)
{
  return g_dbus_connection_call_sync (d->conn, "org.orchestrator", "/org/orchestrator", IFACE,
                                      method, args, NULL, G_DBUS_CALL_FLAGS_NONE, 30000, NULL,
                                      error);
}

static char *
screate (const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *args = g_strdup_printf ("(%s,)", text);
  g_autoptr(GVariant) r = scall ("Create", g_variant_new_parsed (args), &error);
  const char *id, *path;

  g_assert_no_error (error);
  g_variant_get (r, "(&s&o)", &id, &path);
  g_assert_true (g_str_has_prefix (id, "sched_"));
  g_assert_true (g_str_has_suffix (path, id));
  return g_strdup (id);
}

static GVariant *
sget (const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = scall ("Get", g_variant_new ("(s)", id), &error);

  g_assert_no_error (error);
  return g_variant_get_child_value (r, 0);
}

static void
sid_call (const char *method, const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = scall (method, g_variant_new ("(s)", id), &error);

  g_assert_no_error (error);
}

static gint64
sget_int (const char *id, const char *key)
{
  g_autoptr(GVariant) rec = sget (id);

  return orch_test_rec_int (rec, key);
}

/* Polls the schedule until @key reaches @at_least; its value. */
static gint64
wait_count (const char *id, const char *key, gint64 at_least, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;
  gint64 v;

  while ((v = sget_int (id, key)) < at_least && g_get_monotonic_time () < deadline)
    g_usleep (50000);
  return v;
}

/* Polls the schedule until its last_result is @result. */
static gboolean
wait_result (const char *id, const char *result, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  for (;;)
    {
      g_autoptr(GVariant) rec = sget (id);
      if (g_strcmp0 (orch_test_rec_str (rec, "last_result"), result) == 0)
        return TRUE;
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_usleep (50000);
    }
}

/* The jobs whose record names @sched_id, oldest first. */
static GPtrArray *
jobs_of (const char *sched_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = orch_test_call (d, "List", g_variant_new_parsed ("(@a{sv} {},)"), &error);
  g_autoptr(GVariant) all = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);

  g_assert_no_error (error);
  all = g_variant_get_child_value (r, 0);
  for (gsize i = 0; i < g_variant_n_children (all); i++)
    {
      GVariant *rec = g_variant_get_child_value (all, i);
      const char *s = NULL;
      if (g_variant_lookup (rec, "schedule_id", "&s", &s) && g_strcmp0 (s, sched_id) == 0)
        g_ptr_array_add (out, rec);
      else
        g_variant_unref (rec);
    }
  return out;
}

static void
discard_schedule (const char *id)
{
  g_autoptr(GPtrArray) jobs = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = scall ("Remove", g_variant_new ("(s)", id), &error);

  jobs = jobs_of (id);
  for (guint i = 0; i < jobs->len; i++)
    orch_test_discard (d, orch_test_rec_str (jobs->pdata[i], "id"));
}

static void
set_clock_offset (gint64 seconds)
{
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT "\n", seconds);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (offset_file, text, -1, &error));
}

/* A daily calendar expression for the UTC time @t (µs). */
static char *
daily_at (gint64 t)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (t / SEC);

  return g_date_time_format (dt, "*-*-* %H:%M:%S UTC");
}

/* What @object_path says of @iface is what dbus/@xml_name says. */
static void
check_introspection (const char *object_path, const char *xml_name, const char *iface)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "..", "dbus", xml_name, NULL);
  g_autofree char *xml = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusNodeInfo) want = NULL;
  g_autoptr(GDBusNodeInfo) got = NULL;
  g_autoptr(GVariant) r = g_dbus_connection_call_sync (
      d->conn, "org.orchestrator", object_path, "org.freedesktop.DBus.Introspectable", "Introspect",
      NULL, G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  const char *live;
  g_autoptr(GString) a = g_string_new (NULL);
  g_autoptr(GString) b = g_string_new (NULL);
  GDBusInterfaceInfo *ifaces[2];
  GString *out[2] = { a, b };

  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &xml, NULL, &error));
  g_variant_get (r, "(&s)", &live);
  want = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  got = g_dbus_node_info_new_for_xml (live, &error);
  g_assert_no_error (error);
  ifaces[0] = g_dbus_node_info_lookup_interface (want, iface);
  ifaces[1] = g_dbus_node_info_lookup_interface (got, iface);
  g_assert_nonnull (ifaces[0]);
  g_assert_nonnull (ifaces[1]);
  /* names, argument names and types, in order */
  for (guint k = 0; k < 2; k++)
    {
      for (guint i = 0; ifaces[k]->methods && ifaces[k]->methods[i]; i++)
        {
          GDBusMethodInfo *m = ifaces[k]->methods[i];
          g_string_append_printf (out[k], "method %s(", m->name);
          for (guint j = 0; m->in_args && m->in_args[j]; j++)
            g_string_append_printf (out[k], "%s:%s,", m->in_args[j]->name,
                                    m->in_args[j]->signature);
          g_string_append (out[k], ")->(");
          for (guint j = 0; m->out_args && m->out_args[j]; j++)
            g_string_append_printf (out[k], "%s:%s,", m->out_args[j]->name,
                                    m->out_args[j]->signature);
          g_string_append (out[k], ")\n");
        }
      for (guint i = 0; ifaces[k]->signals && ifaces[k]->signals[i]; i++)
        {
          GDBusSignalInfo *s = ifaces[k]->signals[i];
          g_string_append_printf (out[k], "signal %s(", s->name);
          for (guint j = 0; s->args && s->args[j]; j++)
            g_string_append_printf (out[k], "%s:%s,", s->args[j]->name, s->args[j]->signature);
          g_string_append (out[k], ")\n");
        }
      for (guint i = 0; ifaces[k]->properties && ifaces[k]->properties[i]; i++)
        {
          GDBusPropertyInfo *p = ifaces[k]->properties[i];
          g_string_append_printf (out[k], "property %s:%s:%d\n", p->name, p->signature, p->flags);
        }
    }
  g_assert_cmpstr (b->str, ==, a->str);
}

static void
test_introspection (void)
{
  check_introspection ("/org/orchestrator", "org.orchestrator.Schedules.xml", IFACE);
}

/* Every 2 s: at least 3 runs in 7 s, each one a real job that ran and
 * carries the schedule's id. */
static void
test_every_two_seconds (void)
{
  g_autofree char *id = screate ("{'name': <'tick'>, 'interval_s': <uint64 2>,"
                                 " 'job': <{'command': <['/bin/sh', '-c', 'echo tick']>}>}");
  gint64 created = sget_int (id, "created_at");
  g_autoptr(GPtrArray) jobs = NULL;
  gint64 runs;

  g_usleep (7 * SEC);
  /* Under load a run may come late; "late" is measured, not waited out. */
  runs = wait_count (id, "runs", 3, 20000);
  g_assert_cmpint (runs, >=, 3);
  jobs = jobs_of (id);
  g_assert_cmpuint (jobs->len, >=, 3);
  for (guint i = 0; i < 3; i++)
    {
      const char *job_id = orch_test_rec_str (jobs->pdata[i], "id");
      g_autoptr(GVariant) done = orch_test_wait_state (d, job_id, "exited", 20000);
      g_autofree char *log = orch_test_log_text (d, job_id);
      gint64 started = orch_test_rec_int (done, "started_at");
      g_assert_cmpint (orch_test_rec_int (done, "exit_code"), ==, 0);
      g_assert_cmpstr (log, ==, "tick\n");
      /* not before its elapse: creation + 2 s per run (from the last start) */
      g_assert_cmpint (started, >=, created + (gint64) (i + 1) * 2 * SEC - 10000);
    }
  {
    g_autoptr(GVariant) rec = sget (id);
    g_assert_cmpstr (orch_test_rec_str (rec, "last_job_id"), !=, "");
    g_assert_cmpint (orch_test_rec_int (rec, "skipped"), ==, 0);
    g_assert_cmpint (orch_test_rec_int (rec, "next_run_at"), >,
                     orch_test_rec_int (rec, "last_run_at"));
  }
  discard_schedule (id);
}

/* overlap=skip with a run longer than the period: the elapses meanwhile
 * are skipped and counted, and no second job starts. */
static void
test_overlap_skip (void)
{
  g_autofree char *id = screate ("{'interval_s': <uint64 1>, 'overlap': <'skip'>,"
                                 " 'job': <{'command': <['sleep', '30']>}>}");
  g_autoptr(GPtrArray) jobs = NULL;
  g_autoptr(GVariant) rec = NULL;

  g_assert_cmpint (wait_count (id, "skipped", 2, 30000), >=, 2);
  rec = sget (id);
  g_assert_cmpint (orch_test_rec_int (rec, "runs"), ==, 1);
  g_assert_cmpstr (orch_test_rec_str (rec, "last_result"), ==, "skipped");
  g_assert_nonnull (strstr (orch_test_rec_str (rec, "last_skip_reason"), "still running"));
  jobs = jobs_of (id);
  g_assert_cmpuint (jobs->len, ==, 1);
  discard_schedule (id);
}

static void
on_changed (GDBusConnection *c, const char *sender, const char *path, const char *iface,
            const char *signal, GVariant *params, gpointer data)
{
  GPtrArray *seen = data;
  g_autoptr(GVariant) rec = g_variant_get_child_value (params, 1);
  const char *state = "";

  g_variant_lookup (rec, "state", "&s", &state);
  g_ptr_array_add (seen, g_strdup (state));
}

static void
test_pause_resume_trigger_update_remove (void)
{
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  guint sub = g_dbus_connection_signal_subscribe (d->conn, "org.orchestrator", IFACE,
                                                  "ScheduleChanged", "/org/orchestrator", NULL,
                                                  G_DBUS_SIGNAL_FLAGS_NONE, on_changed, seen, NULL);
  g_autofree char *id = screate ("{'name': <'nightly'>, 'calendar': <'*-*-* 03:00:00 UTC'>,"
                                 " 'job': <{'command': <['/bin/true']>}>}");
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) rec = sget (id);
  gint64 next = orch_test_rec_int (rec, "next_run_at");
  g_autofree char *job_id = NULL;

  g_assert_cmpstr (orch_test_rec_str (rec, "state"), ==, "active");
  g_assert_cmpstr (orch_test_rec_str (rec, "calendar"), ==, "*-*-* 03:00:00 UTC");
  g_assert_cmpstr (orch_test_rec_str (rec, "overlap"), ==, "skip");
  g_assert_cmpint (next, >, g_get_real_time ());
  g_assert_cmpint (next % (24 * 3600 * SEC), ==, 3 * 3600 * SEC);

  sid_call ("Pause", id);
  g_clear_pointer (&rec, g_variant_unref);
  rec = sget (id);
  g_assert_cmpstr (orch_test_rec_str (rec, "state"), ==, "paused");
  g_assert_cmpint (orch_test_rec_int (rec, "next_run_at"), ==, 0);
  sid_call ("Resume", id);
  g_assert_cmpint (sget_int (id, "next_run_at"), ==, next);

  {
    g_autoptr(GVariant) r = scall ("Trigger", g_variant_new ("(s)", id), &error);
    g_autoptr(GVariant) done = NULL;
    g_assert_no_error (error);
    g_variant_get (r, "(s)", &job_id);
    done = orch_test_wait_state (d, job_id, "exited", 20000);
    g_assert_cmpstr (orch_test_rec_str (done, "schedule_id"), ==, id);
  }
  g_assert_cmpint (sget_int (id, "runs"), ==, 1);
  {
    g_autoptr(GVariant) r2 = sget (id);
    g_assert_cmpstr (orch_test_rec_str (r2, "last_job_id"), ==, job_id);
    g_assert_cmpstr (orch_test_rec_str (r2, "last_result"), ==, "exited");
  }

  {
    g_autoptr(GVariant) r = scall (
        "Update", g_variant_new_parsed ("(%s, {'cron': <'30 4 * * *'>, 'timezone': <'UTC'>})", id),
        &error);
    g_autoptr(GVariant) r2 = NULL;
    g_assert_no_error (error);
    r2 = sget (id);
    g_assert_false (g_variant_lookup (r2, "calendar", "&s", NULL));
    g_assert_cmpstr (orch_test_rec_str (r2, "cron"), ==, "30 4 * * *");
    g_assert_cmpstr (orch_test_rec_str (r2, "name"), ==, "nightly");
    g_assert_cmpint (orch_test_rec_int (r2, "next_run_at") % (24 * 3600 * SEC), ==,
                     (4 * 3600 + 30 * 60) * SEC);
    g_assert_cmpint (orch_test_rec_int (r2, "runs"), ==, 1);
  }
  {
    /* a bad update names the field and the position, and changes nothing */
    g_autoptr(GVariant) r = scall (
        "Update", g_variant_new_parsed ("(%s, {'cron': <'30 4 * 13 *'>})", id), &error);
    g_autofree char *remote = g_dbus_error_get_remote_error (error);
    g_assert_null (r);
    g_assert_cmpstr (remote, ==, "org.orchestrator.Error.InvalidArgument");
    g_assert_nonnull (strstr (error->message, "cron"));
    g_assert_nonnull (strstr (error->message, "character 8"));
    g_clear_error (&error);
    {
      g_autoptr(GVariant) r2 = sget (id);
      g_assert_cmpstr (orch_test_rec_str (r2, "cron"), ==, "30 4 * * *");
    }
  }

  sid_call ("Remove", id);
  {
    g_autoptr(GVariant) r = scall ("Get", g_variant_new ("(s)", id), &error);
    g_autofree char *remote = g_dbus_error_get_remote_error (error);
    g_assert_null (r);
    g_assert_cmpstr (remote, ==, "org.orchestrator.Error.NotFound");
    g_clear_error (&error);
  }
  /* the signals came: created, paused, resumed, ..., removed */
  for (int i = 0; i < 500 && (seen->len == 0 || g_strcmp0 (seen->pdata[seen->len - 1], "removed"));
       i++)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (10000);
    }
  g_assert_cmpuint (seen->len, >=, 5);
  g_assert_cmpstr (seen->pdata[seen->len - 1], ==, "removed");
  {
    gboolean paused = FALSE;
    for (guint i = 0; i < seen->len; i++)
      paused |= g_strcmp0 (seen->pdata[i], "paused") == 0;
    g_assert_true (paused);
  }
  g_dbus_connection_signal_unsubscribe (d->conn, sub);
  orch_test_discard (d, job_id);
}

static void
test_bad_input (void)
{
  static const struct {
    const char *params;
    const char *needles[3];
  } cases[] = {
    { "{'calendar': <'Mon *-*-* 25:00'>, 'job': <{'command': <['/bin/true']>}>}",
      { "calendar", "character", NULL } },
    { "{'cron': <'*/0 * * * *'>, 'job': <{'command': <['/bin/true']>}>}",
      { "cron", "character", NULL } },
    { "{'interval_s': <uint64 5>, 'calendar': <'daily'>, 'job': <{'command': <['/bin/true']>}>}",
      { "exactly one", NULL } },
    { "{'interval_s': <uint64 5>, 'job': <{'command': <['/nonexistent/prog']>}>}",
      { "job", "/nonexistent/prog", NULL } },
    { "{'interval_s': <uint64 5>}", { "job", NULL } },
    { "{'interval_s': <uint64 5>, 'overlap': <'maybe'>, 'job': <{'command': <['/bin/true']>}>}",
      { "overlap", NULL } },
    { "{'interval_s': <uint64 5>, 'colour': <'red'>, 'job': <{'command': <['/bin/true']>}>}",
      { "colour", NULL } },
  };
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *args = g_strdup_printf ("(%s,)", cases[i].params);
      g_autoptr(GVariant) r = scall ("Create", g_variant_new_parsed (args), &error);
      g_autofree char *remote = NULL;
      g_assert_null (r);
      remote = g_dbus_error_get_remote_error (error);
      g_assert_cmpstr (remote, ==, "org.orchestrator.Error.InvalidArgument");
      for (guint k = 0; cases[i].needles[k]; k++)
        if (!strstr (error->message, cases[i].needles[k]))
          g_error ("case %u: “%s” lacks “%s”", i, error->message, cases[i].needles[k]);
      g_clear_error (&error);
    }
  {
    g_autoptr(GVariant) r = scall ("List", g_variant_new_parsed ("(@a{sv} {},)"), &error);
    g_autoptr(GVariant) all = g_variant_get_child_value (r, 0);
    g_assert_cmpuint (g_variant_n_children (all), ==, 0);
  }
}

/* Stopped and started again: the same next time; killed while a
 * persistent and a plain schedule's elapse passes: the persistent one
 * runs once at start, the other does not. */
static void
test_survives_restart (void)
{
  gint64 now = g_get_real_time ();
  g_autofree char *expr = daily_at (now + 600 * SEC);
  g_autofree char *p1 = g_strdup_printf (
      "{'calendar': <'%s'>, 'persistent': <true>, 'job': <{'command': <['/bin/true']>}>}", expr);
  g_autofree char *p2 = g_strdup_printf (
      "{'calendar': <'%s'>, 'job': <{'command': <['/bin/true']>}>}", expr);
  g_autofree char *pers = screate (p1);
  g_autofree char *plain = screate (p2);
  g_autofree char *hourly = screate ("{'calendar': <'hourly'>, 'randomized_delay_s': <uint32 1800>,"
                                     " 'job': <{'command': <['/bin/true']>}>}");
  gint64 hourly_next = sget_int (hourly, "next_run_at");
  gint64 elapse = sget_int (pers, "next_run_at");

  orch_test_daemon_kill (d, SIGTERM);
  orch_test_daemon_spawn (d);
  g_assert_cmpint (sget_int (hourly, "next_run_at"), ==, hourly_next);
  g_assert_cmpint (sget_int (pers, "next_run_at"), ==, elapse);

  /* Down for 20 minutes: past the elapse. */
  orch_test_daemon_kill (d, SIGKILL);
  set_clock_offset (1200);
  orch_test_daemon_spawn (d);
  {
    g_autoptr(GPtrArray) pj = NULL;
    g_autoptr(GPtrArray) nj = jobs_of (plain);
    g_autoptr(GVariant) rp = sget (pers);
    g_autoptr(GVariant) rn = sget (plain);
    g_assert_cmpint (orch_test_rec_int (rp, "runs"), ==, 1);
    g_assert_cmpint (orch_test_rec_int (rn, "runs"), ==, 0);
    g_assert_cmpuint (nj->len, ==, 0);
    pj = jobs_of (pers);
    g_assert_cmpuint (pj->len, ==, 1);
    /* both go on with tomorrow's */
    g_assert_cmpint (orch_test_rec_int (rp, "next_run_at"), ==, elapse + 24 * 3600 * SEC);
    g_assert_cmpint (orch_test_rec_int (rn, "next_run_at"), ==, elapse + 24 * 3600 * SEC);
  }
  /* once, not at every start */
  orch_test_daemon_kill (d, SIGKILL);
  orch_test_daemon_spawn (d);
  g_assert_cmpint (sget_int (pers, "runs"), ==, 1);

  set_clock_offset (0);
  orch_test_daemon_kill (d, SIGTERM);
  orch_test_daemon_spawn (d);
  discard_schedule (pers);
  discard_schedule (plain);
  discard_schedule (hourly);
}

/* The clock is set forward to 3 s before an elapse an hour away: the
 * daemon notices (what TFD_TIMER_CANCEL_ON_SET reports; here the test
 * hook's signal) and runs it 3 s later, not an hour later. */
static void
test_clock_change (void)
{
  gint64 now = g_get_real_time ();
  g_autofree char *expr = daily_at (now + 3600 * SEC);
  g_autofree char *params = g_strdup_printf (
      "{'calendar': <'%s'>, 'job': <{'command': <['/bin/true']>}>}", expr);
  g_autofree char *id = screate (params);
  gint64 elapse = sget_int (id, "next_run_at");
  pid_t pid = (pid_t) g_ascii_strtoll (g_subprocess_get_identifier (d->daemon), NULL, 10);

  set_clock_offset (3600 - 3);
  g_assert_cmpint (kill (pid, SIGUSR2), ==, 0);
  g_assert_cmpint (wait_count (id, "runs", 1, 20000), ==, 1);
  g_assert_cmpint (sget_int (id, "last_run_at"), >=, elapse);
  g_assert_cmpint (sget_int (id, "next_run_at"), ==, elapse + 24 * 3600 * SEC);

  /* set back an hour: today's elapse is ahead again */
  set_clock_offset (0);
  g_assert_cmpint (kill (pid, SIGUSR2), ==, 0);
  {
    gint64 deadline = g_get_monotonic_time () + 20 * SEC;
    while (sget_int (id, "next_run_at") != elapse && g_get_monotonic_time () < deadline)
      g_usleep (50000);
  }
  g_assert_cmpint (sget_int (id, "next_run_at"), ==, elapse);
  discard_schedule (id);
}

/* A run is over when its job is finally done: a failure the job's
 * restart policy retries is still the same run.  So an elapse while it
 * waits for its restart is skipped (overlap=skip), and last_result
 * stays "running" until the last try failed. */
static void
test_restart_policy (void)
{
  g_autofree char *id = screate (
      "{'interval_s': <uint64 2>, 'overlap': <'skip'>,"
      " 'job': <{'command': <['sh', '-c', 'exit 3']>, 'restart': <'on-failure'>,"
      " 'restart_max': <uint32 1>, 'restart_delay_ms': <uint32 4000>}>}");
  g_autoptr(GPtrArray) jobs = NULL;
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) job = NULL;
  const char *job_id;
  gint64 deadline;

  /* The first run fails at once and waits 4 s for its one restart: the
   * elapse 2 s later finds it still going. */
  g_assert_cmpint (wait_count (id, "skipped", 1, 30000), >=, 1);
  rec = sget (id);
  g_assert_cmpint (orch_test_rec_int (rec, "runs"), ==, 1);
  g_assert_cmpint (orch_test_rec_int (rec, "running"), ==, 1);
  g_assert_nonnull (strstr (orch_test_rec_str (rec, "last_skip_reason"), "still running"));
  jobs = jobs_of (id);
  g_assert_cmpuint (jobs->len, ==, 1);
  job_id = orch_test_rec_str (jobs->pdata[0], "id");
  g_assert_cmpstr (orch_test_rec_str (jobs->pdata[0], "state"), ==, "failed");
  sid_call ("Pause", id);

  /* After the retry failed too, the run is over, as "failed". */
  deadline = g_get_monotonic_time () + 30 * SEC;
  while (sget_int (id, "running") > 0 && g_get_monotonic_time () < deadline)
    g_usleep (50000);
  g_clear_pointer (&rec, g_variant_unref);
  rec = sget (id);
  g_assert_cmpint (orch_test_rec_int (rec, "running"), ==, 0);
  g_assert_cmpstr (orch_test_rec_str (rec, "last_job_id"), ==, job_id);
  g_assert_cmpstr (orch_test_rec_str (rec, "last_result"), ==, "failed");
  job = orch_test_get (d, job_id);
  g_assert_cmpint (orch_test_rec_int (job, "restarts"), ==, 1);
  discard_schedule (id);
}

/* timeout_s deadlines are stored: a run whose deadline passed while the
 * daemon was down (SIGKILL) is stopped at start; one still within it
 * is stopped when it comes, not never. */
static void
test_timeout_survives_kill (void)
{
  g_autofree char *early = screate ("{'interval_s': <uint64 3600>, 'timeout_s': <uint32 3>,"
                                    " 'job': <{'command': <['sleep', '60']>}>}");
  g_autofree char *late = screate ("{'interval_s': <uint64 3600>, 'timeout_s': <uint32 12>,"
                                   " 'job': <{'command': <['sleep', '60']>}>}");
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r1 = scall ("Trigger", g_variant_new ("(s)", early), &error);
  g_autoptr(GVariant) r2 = NULL;
  g_autoptr(GVariant) job = NULL;
  const char *early_job, *late_job;
  gint64 started;

  g_assert_no_error (error);
  r2 = scall ("Trigger", g_variant_new ("(s)", late), &error);
  g_assert_no_error (error);
  started = g_get_monotonic_time ();
  g_variant_get (r1, "(&s)", &early_job);
  g_variant_get (r2, "(&s)", &late_job);
  g_variant_unref (orch_test_wait_state (d, early_job, "running", 20000));
  g_variant_unref (orch_test_wait_state (d, late_job, "running", 20000));

  orch_test_daemon_kill (d, SIGKILL);
  /* Past the first deadline, before the second. */
  while (g_get_monotonic_time () < started + 4 * SEC)
    g_usleep (50000);
  orch_test_daemon_spawn (d);

  job = orch_test_wait_state (d, early_job, "stopped|failed", 20000);
  g_assert_cmpstr (orch_test_rec_str (job, "state"), ==, "stopped");
  g_assert_true (wait_result (early, "timeout", 20000));

  /* The other one is left its remaining time, then stopped. */
  g_clear_pointer (&job, g_variant_unref);
  job = orch_test_wait_state (d, late_job, "stopped|failed|exited", 40000);
  g_assert_cmpstr (orch_test_rec_str (job, "state"), ==, "stopped");
  g_assert_cmpint (g_get_monotonic_time () - started, >=, 11 * SEC);
  g_assert_true (wait_result (late, "timeout", 20000));
  discard_schedule (early);
  discard_schedule (late);
}

static GVariant *
oprop (const char *path, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = g_dbus_connection_call_sync (
      d->conn, "org.orchestrator", path, "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", "org.orchestrator.Schedule", name), G_VARIANT_TYPE ("(v)"),
      G_DBUS_CALL_FLAGS_NONE, 30000, NULL, &error);
  GVariant *v;

  g_assert_no_error (error);
  g_variant_get (r, "(v)", &v);
  return v;
}

static GVariant *
ocall (const char *path, const char *method, GVariant *args, GError **error)
{
  return g_dbus_connection_call_sync (d->conn, "org.orchestrator", path,
                                      "org.orchestrator.Schedule", method, args, NULL,
                                      G_DBUS_CALL_FLAGS_NONE, 30000, NULL, error);
}

static void
ocall_ok (const char *path, const char *method, GVariant *args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = ocall (path, method, args, &error);

  g_assert_no_error (error);
}

static void
assert_prop_str (const char *path, const char *name, const char *want)
{
  g_autoptr(GVariant) v = oprop (path, name);

  g_assert_cmpstr (g_variant_get_string (v, NULL), ==, want);
}

static void
on_props_changed (GDBusConnection *c, const char *sender, const char *path, const char *iface,
                  const char *signal, GVariant *params, gpointer data)
{
  g_autoptr(GVariant) changed = g_variant_get_child_value (params, 1);
  const char *state = NULL;

  if (g_variant_lookup (changed, "State", "&s", &state))
    g_ptr_array_add (data, g_strdup (state));
}

/* The object at the path Create returns: introspectable as its XML, the
 * record as properties (also through GetManagedObjects and
 * PropertiesChanged), the per-schedule methods. */
static void
test_object (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) created = scall (
      "Create",
      g_variant_new_parsed ("({'name': <'obj'>, 'calendar': <'*-*-* 04:05:06 UTC'>,"
                            " 'overlap': <'queue'>, 'timeout_s': <uint32 30>,"
                            " 'job': <{'command': <['/bin/true']>}>},)"),
      &error);
  g_autoptr(GVariant) v = NULL;
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) managed = NULL;
  g_autoptr(GVariant) r = NULL;
  g_autoptr(GPtrArray) states = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *job_id = NULL;
  const char *id, *path;
  guint sub;

  g_assert_no_error (error);
  g_variant_get (created, "(&s&o)", &id, &path);
  check_introspection (path, "org.orchestrator.Schedule.xml", "org.orchestrator.Schedule");

  rec = sget (id);
  assert_prop_str (path, "Id", id);
  assert_prop_str (path, "Calendar", "*-*-* 04:05:06 UTC");
  assert_prop_str (path, "Cron", "");
  assert_prop_str (path, "Overlap", "queue");
  v = oprop (path, "NextRunAt");
  g_assert_cmpint ((gint64) g_variant_get_uint64 (v), ==, orch_test_rec_int (rec, "next_run_at"));
  g_clear_pointer (&v, g_variant_unref);
  v = oprop (path, "TimeoutS");
  g_assert_cmpuint (g_variant_get_uint32 (v), ==, 30);
  g_clear_pointer (&v, g_variant_unref);
  v = oprop (path, "Job");
  {
    g_autoptr(GVariant) cmd = g_variant_lookup_value (v, "command", G_VARIANT_TYPE_STRING_ARRAY);
    g_assert_nonnull (cmd);
  }
  g_clear_pointer (&v, g_variant_unref);

  /* In the object manager's list, with its properties. */
  managed = g_dbus_connection_call_sync (d->conn, "org.orchestrator", "/org/orchestrator",
                                         "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                                         NULL, NULL, G_DBUS_CALL_FLAGS_NONE, 30000, NULL, &error);
  g_assert_no_error (error);
  {
    g_autoptr(GVariant) objects = g_variant_get_child_value (managed, 0);
    g_autoptr(GVariant) ifaces = g_variant_lookup_value (objects, path, NULL);
    g_autoptr(GVariant) props = NULL;
    const char *name = NULL;
    g_assert_nonnull (ifaces);
    props = g_variant_lookup_value (ifaces, "org.orchestrator.Schedule", NULL);
    g_assert_nonnull (props);
    g_assert_true (g_variant_lookup (props, "Name", "&s", &name));
    g_assert_cmpstr (name, ==, "obj");
  }

  /* Pause and Resume: State changes, announced by PropertiesChanged. */
  sub = g_dbus_connection_signal_subscribe (
      d->conn, "org.orchestrator", "org.freedesktop.DBus.Properties", "PropertiesChanged", path,
      NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_props_changed, states, NULL);
  ocall_ok (path, "Pause", NULL);
  assert_prop_str (path, "State", "paused");
  ocall_ok (path, "Resume", NULL);
  {
    gint64 deadline = g_get_monotonic_time () + 20 * SEC;
    while (states->len < 2 && g_get_monotonic_time () < deadline)
      g_main_context_iteration (NULL, FALSE);
  }
  g_dbus_connection_signal_unsubscribe (d->conn, sub);
  g_assert_cmpuint (states->len, >=, 2);
  g_assert_cmpstr (states->pdata[0], ==, "paused");
  g_assert_cmpstr (states->pdata[1], ==, "active");

  r = ocall (path, "Trigger", NULL, &error);
  g_assert_no_error (error);
  g_variant_get (r, "(s)", &job_id);
  g_variant_unref (orch_test_wait_state (d, job_id, "exited", 20000));
  assert_prop_str (path, "LastJobId", job_id);

  ocall_ok (path, "Update", g_variant_new_parsed ("({'name': <'renamed'>},)"));
  assert_prop_str (path, "Name", "renamed");
  /* Bad input: refused, nothing changed. */
  g_clear_pointer (&r, g_variant_unref);
  r = ocall (path, "Update", g_variant_new_parsed ("({'overlap': <'sometimes'>},)"), &error);
  g_assert_nonnull (error);
  {
    g_autofree char *remote = g_dbus_error_get_remote_error (error);
    g_assert_cmpstr (remote, ==, "org.orchestrator.Error.InvalidArgument");
  }
  g_assert_nonnull (strstr (error->message, "overlap"));
  g_clear_error (&error);
  assert_prop_str (path, "Overlap", "queue");

  ocall_ok (path, "Remove", NULL);
  /* Gone: no object there any more. */
  r = ocall (path, "Pause", NULL, &error);
  g_assert_nonnull (error);
  g_clear_error (&error);
  orch_test_discard (d, job_id);
}

static char *
prepare (void)
{
  clock_dir = g_dir_make_tmp ("orch-sched-clock-XXXXXX", NULL);
  offset_file = g_build_filename (clock_dir, "offset", NULL);
  set_clock_offset (0);
  g_setenv ("ORCH_TEST_CLOCK_OFFSET_FILE", offset_file, TRUE);
  return NULL;
}

static void
teardown (void)
{
  g_unlink (offset_file);
  g_rmdir (clock_dir);
}

static const OrchTestCase tests[] = {
  { "/schedules/introspection", test_introspection },
  { "/schedules/bad-input", test_bad_input },
  { "/schedules/every-two-seconds", test_every_two_seconds },
  { "/schedules/overlap-skip", test_overlap_skip },
  { "/schedules/pause-resume-trigger-update-remove", test_pause_resume_trigger_update_remove },
  { "/schedules/survives-restart", test_survives_restart },
  { "/schedules/clock-change", test_clock_change },
  { "/schedules/restart-policy", test_restart_policy },
  { "/schedules/object", test_object },
  { "/schedules/timeout-survives-kill", test_timeout_survives_kill },
  { NULL, NULL }
};

int
main (int argc, char **argv)
{
  const OrchTestProgram program = {
    .daemon = &d,
    .config = "[jobs]\nmax_concurrent=50\n",
    .prepare = prepare,
    .teardown = teardown,
    .tests = tests,
  };

  return orch_test_main (argc, argv, &program);
}
