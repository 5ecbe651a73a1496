/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OOM kills and memory.high through D-Bus: a job allocating past its
 * memory_max is killed by the kernel and told as an oom_kill JobEvent
 * within a second, its record says result "oom-kill" and counts the kill;
 * a kill while the daemon is dead is told once after it starts again,
 * and never twice.  Where the backend has no memory counter here (none,
 * a unified tree without the memory controller and no v1 memory
 * hierarchy to use) the limits are refused and the tests say so. */
#include "orch-test-daemon.h"
#include "basic/orch-cgroup.h"
#include "basic/orch-error.h"

#include <signal.h>
#include <string.h>

static OrchTestDaemon *d;

/* A Python program that grows by 1 MiB steps (touched) until the kernel
 * stops it: its path, written once. */
static const char *
hog (void)
{
  static char *path;

  if (path == NULL)
    {
      path = g_build_filename (d->scratch, "hog.py", NULL);
      g_assert_true (g_file_set_contents (
          path, "b = []\nwhile True:\n    b.append(b'x' * (1 << 20))\n", -1, NULL));
    }
  return path;
}

typedef enum { MEM_NONE, MEM_V1, MEM_V2 } MemKind;

/* How the cgroupfs backend's jobs are accounted here. */
static MemKind
mem_kind (char **ret_v1_root)
{
  g_autofree char *own = NULL;
  g_autofree char *ctl = NULL;
  g_autofree char *text = NULL;

  if (g_strcmp0 (d->backend, "cgroupfs") != 0)
    return MEM_NONE;
  ctl = g_build_filename (d->cgroup_root, "cgroup.subtree_control", NULL);
  if (g_file_get_contents (ctl, &text, NULL, NULL) && strstr (text, "memory"))
    return MEM_V2;
  if (orch_cgroup_v1_own_dir ("memory", &own) == 0)
    {
      g_autofree char *name = g_path_get_basename (d->cgroup_root);
      g_autofree char *root = g_build_filename (own, name, NULL);
      if (g_file_test (root, G_FILE_TEST_IS_DIR))
        {
          if (ret_v1_root)
            *ret_v1_root = g_steal_pointer (&root);
          return MEM_V1;
        }
    }
  return MEM_NONE;
}

static GVariant *
get_events (const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = orch_test_call (
      d, "GetEvents", g_variant_new ("(s@a{sv})", id, g_variant_new_parsed ("@a{sv} {}")), &error);

  g_assert_no_error (error);
  return g_variant_get_child_value (r, 0);
}

/* The first oom_kill JobEvent of @id: when the client heard it. */
typedef struct {
  const char *id;
  gint64 heard_us; /* real time, 0 until heard */
} Heard;

static void
on_event (GDBusConnection *c, const char *sender, const char *path, const char *iface,
          const char *signal, GVariant *params, gpointer data)
{
  Heard *h = data;
  const char *id, *kind;

  g_variant_get (params, "(&s&st@a{sv})", &id, &kind, NULL, NULL);
  if (h->heard_us == 0 && strcmp (id, h->id) == 0 && strcmp (kind, "oom_kill") == 0)
    h->heard_us = g_get_real_time ();
}

static gboolean
skip_without_memory (void)
{
  if (mem_kind (NULL) != MEM_NONE)
    return FALSE;
  g_test_skip ("no memory counter for this backend's jobs here");
  return TRUE;
}

static void
test_refused_without_memory (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  if (mem_kind (NULL) != MEM_NONE && g_strcmp0 (d->backend, "none") != 0)
    {
      g_test_skip ("this backend has a memory counter here");
      return;
    }
  id = orch_test_create (d, "{'command': <['true']>, 'memory_max': <uint64 33554432>}", &error);
  if (id == NULL)
    {
      g_assert_nonnull (strstr (error->message, "memory_max"));
      return;
    }
  /* A backend without limits at all (none) runs it unlimited: the record
   * says what was asked, and no OOM is reported for it. */
  orch_test_discard (d, id);
}

static void
test_oom_kill (void)
{
  Heard h = { 0 };
  guint sub;
  g_autofree char *id = NULL, *spec = NULL;
  g_autoptr(GVariant) rec = NULL, events = NULL, exited = NULL;
  gint64 deadline, latency_us;
  guint64 finished_at;

  if (skip_without_memory ())
    return;
  sub = g_dbus_connection_signal_subscribe (d->conn, NULL, "org.orchestrator.Jobs", "JobEvent",
                                            "/org/orchestrator", NULL, 0, on_event, &h, NULL);
  spec = g_strdup_printf ("{'command': <['/usr/bin/python3', '%s']>,"
                          " 'memory_max': <uint64 67108864>}",
                          hog ());
  id = orch_test_start (d, spec, "failed", 60000);
  h.id = id;
  rec = orch_test_get (d, id);
  g_assert_cmpstr (orch_test_rec_str (rec, "result"), ==, "oom-kill");
  g_assert_cmpint (orch_test_rec_int (rec, "signal"), ==, SIGKILL);
  g_assert_cmpint (orch_test_rec_int (rec, "oom_kills"), >=, 1);
  finished_at = (guint64) orch_test_rec_int (rec, "finished_at");

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (h.heard_us == 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  g_dbus_connection_signal_unsubscribe (d->conn, sub);
  g_assert_cmpint (h.heard_us, >, 0);
  /* The kill comes just before the main process's end (finished_at, the
   * monitor's clock): the signal within a second of it. */
  latency_us = h.heard_us - (gint64) finished_at;
  g_test_message ("oom_kill heard %" G_GINT64_FORMAT " µs after the job's end", latency_us);
  g_assert_cmpint (latency_us, <, G_USEC_PER_SEC);

  events = get_events (id);
  g_assert_cmpuint (orch_test_count_kind (events, "oom_kill"), ==,
                    orch_test_rec_int (rec, "oom_kills"));
  for (gsize i = 0; i < g_variant_n_children (events); i++)
    {
      g_autoptr(GVariant) e = g_variant_get_child_value (events, i);
      const char *k = NULL, *result = NULL;
      g_autoptr(GVariant) data = NULL;
      if (!g_variant_lookup (e, "kind", "&s", &k) || strcmp (k, "exited") != 0)
        continue;
      data = g_variant_lookup_value (e, "data", G_VARIANT_TYPE_VARDICT);
      g_assert_true (g_variant_lookup (data, "result", "&s", &result));
      g_assert_cmpstr (result, ==, "oom-kill");
    }
  orch_test_discard (d, id);
}

/* A kill while the daemon is dead: after it starts, told once; after a
 * second SIGKILL and start, not again.  The main process (sh) lives on,
 * so the run's result is not "oom-kill" when it is stopped. */
static void
test_sigkill (void)
{
  g_autofree char *go = NULL, *done = NULL, *spec = NULL, *id = NULL;
  g_autoptr(GVariant) rec = NULL, events = NULL, stopped = NULL;
  g_autoptr(GError) error = NULL;
  gint64 deadline;

  if (skip_without_memory ())
    return;
  go = g_build_filename (d->scratch, "oom-go", NULL);
  done = g_build_filename (d->scratch, "oom-done", NULL);
  spec = g_strdup_printf ("{'command': <['sh', '-c', 'while [ ! -e %s ]; do sleep 0.05; done;"
                          " /usr/bin/python3 %s; touch %s; exec sleep 600']>,"
                          " 'memory_max': <uint64 67108864>}",
                          go, hog (), done);
  id = orch_test_start (d, spec, "running", 20000);

  orch_test_daemon_kill (d, SIGKILL);
  g_assert_true (g_file_set_contents (go, "", 0, NULL));
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (!g_file_test (done, G_FILE_TEST_EXISTS) && g_get_monotonic_time () < deadline)
    g_usleep (20000);
  g_assert_true (g_file_test (done, G_FILE_TEST_EXISTS));
  orch_test_daemon_spawn (d);

  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  do
    {
      g_clear_pointer (&events, g_variant_unref);
      g_usleep (50000);
      events = get_events (id);
    }
  while (orch_test_count_kind (events, "oom_kill") == 0 && g_get_monotonic_time () < deadline);
  g_assert_cmpuint (orch_test_count_kind (events, "oom_kill"), ==, 1);
  rec = orch_test_get (d, id);
  g_assert_cmpstr (orch_test_rec_str (rec, "state"), ==, "running");
  g_assert_cmpint (orch_test_rec_int (rec, "oom_kills"), ==, 1);

  orch_test_daemon_kill (d, SIGKILL);
  orch_test_daemon_spawn (d);
  orch_test_wait_state (d, id, "running", 20000);
  g_clear_pointer (&events, g_variant_unref);
  events = get_events (id);
  g_assert_cmpuint (orch_test_count_kind (events, "oom_kill"), ==, 1);

  g_clear_pointer (&rec, g_variant_unref);
  rec = orch_test_call (d, "Stop", g_variant_new ("(sa{sv})", id, NULL), &error);
  g_assert_no_error (error);
  stopped = orch_test_wait_state (d, id, "stopped", 20000);
  g_assert_cmpstr (orch_test_rec_str (stopped, "result"), !=, "oom-kill");
  g_assert_cmpint (orch_test_rec_int (stopped, "oom_kills"), ==, 1);
  orch_test_discard (d, id);
}

/* memory_max changed live reaches the kernel's file, and the stored one
 * is put back into a group that a crash left different; a hybrid host's
 * v1 memory has no memory.high: refused, nothing changed. */
static void
test_live_limits (void)
{
  g_autofree char *v1_root = NULL;
  g_autofree char *id = NULL, *file = NULL, *text = NULL;
  g_autoptr(GVariant) r = NULL, rec = NULL;
  g_autoptr(GError) error = NULL;
  MemKind kind = mem_kind (&v1_root);

  if (kind != MEM_V1)
    {
      g_test_skip ("for a hybrid host's v1 memory hierarchy (tests/bus/test-limits.c has v2)");
      return;
    }
  id = orch_test_start (d, "{'command': <['sleep', '600']>, 'memory_max': <uint64 67108864>}",
                        "running", 20000);
  file = g_build_filename (v1_root, id, "memory.limit_in_bytes", NULL);
  g_assert_true (g_file_get_contents (file, &text, NULL, NULL));
  g_assert_cmpint (g_ascii_strtoull (text, NULL, 10), ==, 67108864);

  r = orch_test_call (d, "SetLimits",
                      g_variant_new_parsed ("(%s, {'memory_max': <uint64 33554432>})", id), &error);
  g_assert_no_error (error);
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (file, &text, NULL, NULL));
  g_assert_cmpint (g_ascii_strtoull (text, NULL, 10), ==, 33554432);

  g_clear_pointer (&r, g_variant_unref);
  r = orch_test_call (d, "SetLimits",
                      g_variant_new_parsed ("(%s, {'memory_high': <uint64 16777216>})", id),
                      &error);
  g_assert_null (r);
  g_assert_nonnull (strstr (error->message, "memory_high"));
  g_clear_error (&error);
  rec = orch_test_get (d, id);
  g_assert_cmpint (orch_test_rec_int (rec, "memory_max"), ==, 33554432);
  g_assert_false (g_variant_lookup (rec, "memory_high", "t", NULL));

  /* SetLimits' crash window: the group changed, the daemon killed before
   * the spec was stored.  The adopted run gets the stored limit back. */
  g_assert_cmpint (orch_write_file (file, "50331648"), ==, 0);
  orch_test_daemon_kill (d, SIGKILL);
  orch_test_daemon_spawn (d);
  orch_test_wait_state (d, id, "running", 20000);
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (file, &text, NULL, NULL));
  g_assert_cmpint (g_ascii_strtoull (text, NULL, 10), ==, 33554432);

  g_clear_pointer (&r, g_variant_unref);
  r = orch_test_call (d, "SetLimits", g_variant_new_parsed ("(%s, {'memory_max': <uint64 0>})", id),
                      &error);
  g_assert_no_error (error);
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (file, &text, NULL, NULL));
  g_assert_cmpint (g_ascii_strtoull (text, NULL, 10), >, G_GUINT64_CONSTANT (1) << 60);
  orch_test_discard (d, id);
}

/* Whether @events has a pressure event for memory. */
static gboolean
memory_pressure (GVariant *events)
{
  for (gsize i = 0; i < g_variant_n_children (events); i++)
    {
      g_autoptr(GVariant) e = g_variant_get_child_value (events, i);
      g_autoptr(GVariant) data = g_variant_lookup_value (e, "data", G_VARIANT_TYPE_VARDICT);
      const char *k = NULL, *res = NULL;
      if (g_variant_lookup (e, "kind", "&s", &k) && strcmp (k, "pressure") == 0 && data &&
          g_variant_lookup (data, "resource", "&s", &res) && strcmp (res, "memory") == 0)
        return TRUE;
    }
  return FALSE;
}

/* A job allocating past memory_high is throttled: memory_high events,
 * with the rise, at most one per period (2 s), and a memory pressure
 * event from its PSI trigger. */
static void
test_memory_high (void)
{
  g_autofree char *id = NULL, *spec = NULL;
  g_autoptr(GVariant) events = NULL;
  gint64 deadline, last = 0;
  guint n;

  if (mem_kind (NULL) != MEM_V2)
    {
      g_test_skip ("memory.high needs the cgroup2 memory controller");
      return;
    }
  spec = g_strdup_printf ("{'command': <['/usr/bin/python3', '%s']>,"
                          " 'memory_high': <uint64 33554432>, 'memory_max': <uint64 1073741824>}",
                          hog ());
  id = orch_test_start (d, spec, "running", 20000);
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  do
    {
      g_clear_pointer (&events, g_variant_unref);
      g_usleep (200000);
      events = get_events (id);
    }
  while ((orch_test_count_kind (events, "memory_high") < 2 || !memory_pressure (events)) &&
         g_get_monotonic_time () < deadline);
  /* Throttled under memory_high, it stalls on memory: the PSI trigger. */
  g_assert_true (memory_pressure (events));
  n = orch_test_count_kind (events, "memory_high");
  g_assert_cmpuint (n, >=, 2);
  for (gsize i = 0; i < g_variant_n_children (events); i++)
    {
      g_autoptr(GVariant) e = g_variant_get_child_value (events, i);
      g_autoptr(GVariant) data = NULL;
      const char *k = NULL;
      guint64 t = 0, delta = 0;
      if (!g_variant_lookup (e, "kind", "&s", &k) || strcmp (k, "memory_high") != 0)
        continue;
      data = g_variant_lookup_value (e, "data", G_VARIANT_TYPE_VARDICT);
      g_assert_true (g_variant_lookup (data, "delta", "t", &delta));
      g_assert_cmpuint (delta, >, 0);
      g_assert_true (g_variant_lookup (e, "time", "t", &t));
      /* One a period, less the scheduling slack of a loaded machine. */
      if (last)
        g_assert_cmpint ((gint64) t - last, >=, 1500000);
      last = (gint64) t;
    }
  orch_test_discard (d, id);
}

/* A Create retried with its request_id after SetLimits changed that
 * job's limits is the same Create: the same job, not "spec is
 * different"; a different command under that request_id still is. */
static void
test_replay_after_set_limits (void)
{
  const char *spec = "{'command': <['sleep', '600']>, 'request_id': <'oom-replay-1'>,"
                     " 'memory_max': <uint64 67108864>}";
  g_autofree char *id = NULL, *again = NULL, *other = NULL;
  g_autoptr(GVariant) r = NULL;
  g_autoptr(GError) error = NULL;

  if (skip_without_memory ())
    return;
  id = orch_test_start (d, spec, "running", 20000);
  r = orch_test_call (d, "SetLimits",
                      g_variant_new_parsed ("(%s, {'memory_max': <uint64 33554432>})", id), &error);
  g_assert_no_error (error);
  again = orch_test_create (d, spec, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, id);
  other = orch_test_create (d,
                            "{'command': <['sleep', '601']>, 'request_id': <'oom-replay-1'>,"
                            " 'memory_max': <uint64 67108864>}",
                            &error);
  g_assert_null (other);
  g_assert_nonnull (strstr (error->message, "request_id"));
  orch_test_discard (d, id);
}

static const OrchTestCase tests[] = { { "/oom/refused", test_refused_without_memory },
                                      { "/oom/kill", test_oom_kill },
                                      { "/oom/sigkill", test_sigkill },
                                      { "/oom/live-limits", test_live_limits },
                                      { "/oom/memory-high", test_memory_high },
                                      { "/oom/replay-after-set-limits",
                                        test_replay_after_set_limits },
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
