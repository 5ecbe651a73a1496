/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SetLimits through D-Bus: a running job's group gets the new limits (the
 * kernel files say so) or nothing changes, and the limits outlive a daemon
 * killed with SIGKILL.  Where the backend lacks the controllers (none, a
 * hybrid host's unified tree) the call must fail and change nothing. */
#include "orch-test-daemon.h"
#include "basic/orch-error.h"

#include <signal.h>
#include <string.h>

static OrchTestDaemon *d;

static GVariant *
set_limits (const char *id, const char *limits_text, GError **error)
{
  g_autoptr(GVariant) r = orch_test_call (
      d, "SetLimits", g_variant_new ("(s@a{sv})", id, g_variant_new_parsed (limits_text)), error);

  return r ? g_variant_get_child_value (r, 0) : NULL;
}

/* The text of the job's cgroup file @name, NULL where it has none. */
static char *
cgroup_file (GVariant *rec, const char *name)
{
  g_autofree char *path = NULL;
  char *text = NULL;

  if (g_strcmp0 (d->backend, "cgroupfs") != 0)
    return NULL;
  path = g_build_filename (d->cgroup_mount, orch_test_rec_str (rec, "cgroup"), name, NULL);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return g_strstrip (text);
}

static gboolean
has_key (GVariant *rec, const char *key)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (rec, key, NULL);

  return v != NULL;
}

/* The tests link no client layer, so errors are matched by D-Bus name. */
static void
assert_error (const GError *error, OrchError code)
{
  g_autofree char *remote = NULL;

  g_assert_nonnull (error);
  remote = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote, ==, orch_error_to_dbus_name (code));
}

/* A refusal for want of a controller: InvalidState, naming it. */
static void
assert_refused (const GError *error, const char *controller)
{
  g_autofree char *quoted = g_strdup_printf ("“%s”", controller);

  assert_error (error, ORCH_ERROR_INVALID_STATE);
  g_assert_nonnull (strstr (error->message, quoted));
  g_test_message ("refused here: %s", error->message);
}

static void
test_bad_input (void)
{
  static const char *const bad[] = {
    "@a{sv} {}",
    "{'command': <['true']>}",
    "{'memory_max': <uint64 5>}",
    "{'memory_max': <'64M'>}",
    "{'cpu_weight': <uint32 20000>}",
  };
  g_autofree char *id = orch_test_start (d, "{'command': <['sleep', '600']>}", "running", 10000);
  g_autoptr(GVariant) before = orch_test_get (d, id);
  g_autoptr(GVariant) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) e = NULL;
      g_autoptr(GVariant) rec = set_limits (id, bad[i], &e);
      g_assert_null (rec);
      assert_error (e, ORCH_ERROR_INVALID_ARGUMENT);
    }
  r = set_limits ("job_20200101_000000_aaaaaa", "{'tasks_max': <uint32 10>}", &error);
  assert_error (error, ORCH_ERROR_NOT_FOUND);

  after = orch_test_get (d, id);
  g_assert_true (g_variant_equal (g_variant_lookup_value (before, "state", NULL),
                                  g_variant_lookup_value (after, "state", NULL)));
  g_assert_false (has_key (after, "memory_max"));
  g_assert_false (has_key (after, "cpu_weight"));
  orch_test_discard (d, id);
}

static void
test_live (void)
{
  g_autofree char *id = orch_test_start (d, "{'command': <['sleep', '600']>}", "running", 10000);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) again = NULL;
  g_autoptr(GVariant) r = NULL;
  g_autofree char *path = NULL;
  g_autofree char *mem = NULL, *pids = NULL;

  rec = set_limits (id, "{'memory_max': <uint64 67108864>, 'tasks_max': <uint32 32>}", &error);
  if (rec == NULL)
    {
      /* All or nothing: neither limit reached the record or the group. */
      g_autoptr(GVariant) now = orch_test_get (d, id);
      g_autofree char *pids_now = NULL;
      /* memory, or pids where a hybrid host's v1 memory stands in. */
      assert_refused (error, strstr (error->message, "“pids”") ? "pids" : "memory");
      g_assert_false (has_key (now, "memory_max"));
      g_assert_false (has_key (now, "tasks_max"));
      pids_now = cgroup_file (now, "pids.max");
      g_assert_true (pids_now == NULL || strcmp (pids_now, "max") == 0);
      orch_test_discard (d, id);
      return;
    }
  g_assert_cmpint (orch_test_rec_int (rec, "memory_max"), ==, 67108864);
  g_assert_cmpint (orch_test_rec_int (rec, "tasks_max"), ==, 32);
  mem = cgroup_file (rec, "memory.max");
  pids = cgroup_file (rec, "pids.max");
  g_assert_cmpstr (mem, ==, "67108864");
  g_assert_cmpstr (pids, ==, "32");

  /* Lower, through the job's own object. */
  path = g_strconcat ("/org/orchestrator/job/", id, NULL);
  r = g_dbus_connection_call_sync (d->conn, "org.orchestrator", path, "org.orchestrator.Job",
                                   "SetLimits",
                                   g_variant_new_parsed ("({'memory_max': <uint64 33554432>},)"),
                                   NULL, G_DBUS_CALL_FLAGS_NONE, 30000, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&mem, g_free);
  mem = cgroup_file (rec, "memory.max");
  g_assert_cmpstr (mem, ==, "33554432");

  /* A daemon killed outright finds them again. */
  orch_test_daemon_kill (d, SIGKILL);
  orch_test_daemon_spawn (d);
  again = orch_test_wait_state (d, id, "running", 10000);
  g_assert_cmpint (orch_test_rec_int (again, "memory_max"), ==, 33554432);
  g_assert_cmpint (orch_test_rec_int (again, "tasks_max"), ==, 32);

  /* 0 removes one. */
  g_clear_pointer (&again, g_variant_unref);
  again = set_limits (id, "{'memory_max': <uint64 0>}", &error);
  g_assert_no_error (error);
  g_assert_false (has_key (again, "memory_max"));
  g_clear_pointer (&mem, g_free);
  mem = cgroup_file (rec, "memory.max");
  g_assert_cmpstr (mem, ==, "max");
  orch_test_discard (d, id);
}

/* A job that is not running: the limits are for its next run. */
static void
test_finished (void)
{
  g_autofree char *id = orch_test_start (d, "{'command': <['true']>}", "exited", 10000);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) rec = set_limits (id, "{'cpu_quota': <0.2>}", &error);
  g_autoptr(GVariant) again = NULL;

  if (rec == NULL)
    {
      g_autoptr(GVariant) now = orch_test_get (d, id);
      assert_refused (error, "cpu");
      g_assert_false (has_key (now, "cpu_quota"));
      orch_test_discard (d, id);
      return;
    }
  g_assert_cmpfloat (g_variant_get_double (g_variant_lookup_value (rec, "cpu_quota", NULL)), ==,
                     0.2);
  orch_test_daemon_kill (d, SIGKILL);
  orch_test_daemon_spawn (d);
  again = orch_test_get (d, id);
  g_assert_cmpfloat (g_variant_get_double (g_variant_lookup_value (again, "cpu_quota", NULL)), ==,
                     0.2);
  orch_test_discard (d, id);
}

static const OrchTestCase tests[] = { { "/limits/bad-input", test_bad_input },
                                      { "/limits/live", test_live },
                                      { "/limits/finished", test_finished },
                                      { NULL, NULL } };

int
main (int argc, char **argv)
{
  const OrchTestProgram program = {
    .daemon = &d,
    .tests = tests,
  };

  return orch_test_main (argc, argv, &program);
}
