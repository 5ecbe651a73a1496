/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Job events through D-Bus: JobEvent as they happen, GetEvents after,
 * each event once, none lost or repeated when the daemon is killed with
 * SIGKILL and started again. */
#include "orch-test-daemon.h"
#include "basic/orch-error.h"

#include <signal.h>
#include <string.h>

static OrchTestDaemon *d;

static GVariant *
get_events (const char *id, const char *options_text, GError **error)
{
  g_autoptr(GVariant) r = orch_test_call (
      d, "GetEvents", g_variant_new ("(s@a{sv})", id, g_variant_new_parsed (options_text)), error);

  return r ? g_variant_get_child_value (r, 0) : NULL;
}

/* Events arrive as signals; gathered here while the loop runs. */
typedef struct {
  GPtrArray *kinds; /* "id kind" */
} Heard;

static void
on_event (GDBusConnection *c, const char *sender, const char *path, const char *iface,
          const char *signal, GVariant *params, gpointer data)
{
  Heard *h = data;
  const char *id, *kind;
  guint64 time;
  g_autoptr(GVariant) ev_data = NULL;

  g_variant_get (params, "(&s&st@a{sv})", &id, &kind, &time, &ev_data);
  g_assert_cmpuint (time, >, 0);
  g_ptr_array_add (h->kinds, g_strdup_printf ("%s %s", id, kind));
}

static gboolean
heard (Heard *h, const char *id, const char *kind)
{
  g_autofree char *want = g_strdup_printf ("%s %s", id, kind);

  for (guint i = 0; i < h->kinds->len; i++)
    if (strcmp (h->kinds->pdata[i], want) == 0)
      return TRUE;
  return FALSE;
}

static void
test_exited_signal_and_list (void)
{
  Heard h = { g_ptr_array_new_with_free_func (g_free) };
  guint sub = g_dbus_connection_signal_subscribe (d->conn, NULL, "org.orchestrator.Jobs",
                                                  "JobEvent", "/org/orchestrator", NULL, 0,
                                                  on_event, &h, NULL);
  g_autofree char *id = orch_test_start (d, "{'command': <['sh', '-c', 'exit 3']>}", "failed",
                                         10000);
  g_autoptr(GVariant) events = NULL;
  g_autoptr(GVariant) first = NULL;
  g_autoptr(GVariant) data = NULL;
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  gint32 code = 0;

  while (!heard (&h, id, "exited") && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE), g_usleep (10000);
  g_assert_true (heard (&h, id, "exited"));

  events = get_events (id, "@a{sv} {}", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (orch_test_count_kind (events, "exited"), ==, 1);
  first = g_variant_get_child_value (events, 0);
  data = g_variant_lookup_value (first, "data", G_VARIANT_TYPE_VARDICT);
  g_assert_true (g_variant_lookup (data, "exit_code", "i", &code));
  g_assert_cmpint (code, ==, 3);
  g_dbus_connection_signal_unsubscribe (d->conn, sub);
  g_ptr_array_unref (h.kinds);
  orch_test_discard (d, id);
}

static void
test_restarted (void)
{
  g_autofree char *id = orch_test_create (
      d,
      "{'command': <['false']>, 'restart': <'on-failure'>, 'restart_max': <uint32 8>,"
      " 'restart_delay_ms': <uint32 10>}",
      NULL);
  g_autoptr(GVariant) events = NULL;
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  guint seen = 0;

  g_assert_nonnull (id);
  /* Nine runs, eight restarts, each told once: a command as short as
   * this one often ends before the daemon hears it started, and the run
   * must still be one run (its start time keys its events). */
  do
    {
      g_clear_pointer (&events, g_variant_unref);
      g_usleep (50000);
      events = get_events (id, "@a{sv} {}", &error);
      g_assert_no_error (error);
    }
  while (orch_test_count_kind (events, "exited") < 9 && g_get_monotonic_time () < deadline);
  g_assert_cmpuint (orch_test_count_kind (events, "exited"), ==, 9);
  g_assert_cmpuint (orch_test_count_kind (events, "restarted"), ==, 8);
  for (gsize i = 0; i < g_variant_n_children (events); i++)
    {
      g_autoptr(GVariant) ev = g_variant_get_child_value (events, i);
      g_autoptr(GVariant) data = g_variant_lookup_value (ev, "data", G_VARIANT_TYPE_VARDICT);
      const char *kind = NULL;
      guint32 n = 0;

      if (g_variant_lookup (ev, "kind", "&s", &kind) && g_str_equal (kind, "restarted"))
        {
          g_assert_true (g_variant_lookup (data, "restarts", "u", &n));
          g_assert_cmpuint (n, >=, 1);
          g_assert_cmpuint (n, <=, 8);
          g_assert_false (seen & (1u << n)); /* each restart once */
          seen |= 1u << n;
        }
    }
  orch_test_discard (d, id);
}

/* A job that ends while the daemon is dead: its exited event is written
 * once the daemon is back, and every event is kept exactly once. */
static void
test_sigkill (void)
{
  g_autofree char *id = orch_test_start (d, "{'command': <['sleep', '1']>}", "running", 10000);
  g_autoptr(GVariant) before = NULL, after = NULL, mine = NULL, again = NULL;
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GError) error = NULL;

  before = get_events ("", "@a{sv} {}", &error);
  g_assert_no_error (error);
  orch_test_daemon_kill (d, SIGKILL);
  g_usleep (1500000); /* the job ends meanwhile */
  orch_test_daemon_spawn (d);
  rec = orch_test_wait_state (d, id, "exited", 10000);

  after = get_events ("", "@a{sv} {}", &error);
  g_assert_no_error (error);
  /* What was there is there unchanged, plus this job's end, once. */
  g_assert_cmpuint (g_variant_n_children (after), ==, g_variant_n_children (before) + 1);
  for (gsize i = 0; i < g_variant_n_children (before); i++)
    {
      g_autoptr(GVariant) a = g_variant_get_child_value (before, i);
      g_autoptr(GVariant) b = g_variant_get_child_value (after, i);
      g_assert_true (g_variant_equal (a, b));
    }
  mine = get_events (id, "@a{sv} {}", &error);
  g_assert_cmpuint (orch_test_count_kind (mine, "exited"), ==, 1);

  /* A second restart derives nothing new. */
  orch_test_daemon_kill (d, SIGKILL);
  orch_test_daemon_spawn (d);
  again = get_events ("", "@a{sv} {}", &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_equal (after, again));
  orch_test_discard (d, id);
}

static void
test_since_limit_and_bad_input (void)
{
  g_autoptr(GError) error = NULL, e1 = NULL, e2 = NULL;
  g_autoptr(GVariant) all = get_events ("", "@a{sv} {}", &error);
  g_autoptr(GVariant) one = NULL, later = NULL, bad = NULL, bad_id = NULL, first = NULL;
  g_autofree char *since = NULL;
  guint64 seq = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (all), >=, 2);
  one = get_events ("", "{'limit': <uint32 1>}", &error);
  g_assert_cmpuint (g_variant_n_children (one), ==, 1);
  first = g_variant_get_child_value (one, 0);
  g_assert_true (g_variant_lookup (first, "seq", "t", &seq));
  since = g_strdup_printf ("{'since': <uint64 %" G_GUINT64_FORMAT ">}", seq);
  later = get_events ("", since, &error);
  g_assert_cmpuint (g_variant_n_children (later), ==, g_variant_n_children (all) - 1);

  bad = get_events ("", "{'since': <'yesterday'>}", &e1);
  g_assert_null (bad);
  g_assert_nonnull (strstr (e1->message, "since"));
  bad_id = get_events ("not-a-job", "@a{sv} {}", &e2);
  g_assert_null (bad_id);
  g_assert_nonnull (e2);
}

/* Four busy loops on this machine's cores stall on CPU: the kernel's
 * trigger on the job's cpu.pressure fires, and a pressure event says so.
 * Only where the job has a cgroup with pressure files. */
static void
test_pressure (void)
{
  g_autofree char *id = NULL;
  g_autoptr(GVariant) rec = NULL, events = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *file = NULL;
  gint64 deadline;

  if (g_strcmp0 (d->backend, "cgroupfs") != 0)
    {
      g_test_skip ("pressure triggers need a job cgroup (cgroupfs or systemd)");
      return;
    }
  id = orch_test_start (
      d, "{'command': <['sh', '-c', 'for i in 1 2 3 4; do (while :; do :; done) & done; wait']>}",
      "running", 10000);
  rec = orch_test_get (d, id);
  file = g_build_filename (d->cgroup_mount, orch_test_rec_str (rec, "cgroup"), "cpu.pressure",
                           NULL);
  if (!g_file_test (file, G_FILE_TEST_EXISTS))
    {
      orch_test_discard (d, id);
      g_test_skip ("no cpu.pressure in the job's cgroup (kernel without PSI)");
      return;
    }
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  do
    {
      g_clear_pointer (&events, g_variant_unref);
      g_usleep (200000);
      events = get_events (id, "@a{sv} {}", &error);
      g_assert_no_error (error);
    }
  while (orch_test_count_kind (events, "pressure") == 0 && g_get_monotonic_time () < deadline);
  orch_test_discard (d, id);
  g_assert_cmpuint (orch_test_count_kind (events, "pressure"), >=, 1);
}

static const OrchTestCase tests[] = { { "/events/exited", test_exited_signal_and_list },
                                      { "/events/restarted", test_restarted },
                                      { "/events/sigkill", test_sigkill },
                                      { "/events/since-limit-bad-input",
                                        test_since_limit_and_bad_input },
                                      { "/events/pressure", test_pressure },
                                      { NULL, NULL } };

int
main (int argc, char **argv)
{
  const OrchTestProgram program = {
    .daemon = &d,
    .config = "[events]\npressure_threshold_us=100000\npressure_window_us=2000000\n",
    .tests = tests,
  };

  return orch_test_main (argc, argv, &program);
}
