/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.orchestrator.Jobs through the bus, against a real orchestratord on a
 * private bus, with the backend named by the first argument. */
#include "orch-test-daemon.h"
#include "basic/orch-cgroup.h"
#include "basic/orch-proc.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

static OrchTestDaemon *d;

#define MAX_CONCURRENT 12

static GVariant *
stop_job (const char *id, const char *options_text)
{
  g_autoptr(GError) error = NULL;
  GVariant *opts = g_variant_parse (G_VARIANT_TYPE_VARDICT, options_text ? options_text : "@a{sv} {}",
                                    NULL, NULL, &error);
  g_autoptr(GVariant) r = NULL;

  g_assert_no_error (error);
  r = orch_test_call (d, "Stop", g_variant_new ("(s@a{sv})", id, opts), &error);
  g_assert_no_error (error);
  return g_variant_get_child_value (r, 0);
}

static void
remove_job (const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = orch_test_call (d, "Remove", g_variant_new ("(s)", id), &error);

  g_assert_no_error (error);
}

static guint
job_count (void)
{
  g_autoptr(GVariant) r = orch_test_call (d, "List", g_variant_new_parsed ("(@a{sv} {},)"), NULL);

  g_assert_nonnull (r);
  return (guint) g_variant_n_children (g_variant_get_child_value (r, 0));
}

static char *
read_log (GVariant *rec)
{
  char *text = NULL;

  g_assert_true (g_file_get_contents (orch_test_rec_str (rec, "log_path"), &text, NULL, NULL));
  return text;
}

/* ---- introspection ---- */

static GDBusInterfaceInfo *
xml_interface (const char *file, const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "..", "dbus", file, NULL);
  g_autofree char *xml = NULL;
  g_autoptr(GError) error = NULL;
  GDBusNodeInfo *node;
  GDBusInterfaceInfo *iface;

  g_assert_true (g_file_get_contents (path, &xml, NULL, &error));
  node = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  iface = g_dbus_node_info_lookup_interface (node, name);
  g_assert_nonnull (iface);
  g_dbus_interface_info_ref (iface);
  g_dbus_node_info_unref (node);
  return iface;
}

static GDBusInterfaceInfo *
live_interface (const char *path, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = g_dbus_connection_call_sync (
      d->conn, "org.orchestrator", path, "org.freedesktop.DBus.Introspectable", "Introspect",
      NULL, G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  const char *xml;
  GDBusNodeInfo *node;
  GDBusInterfaceInfo *iface;

  g_assert_no_error (error);
  g_variant_get (r, "(&s)", &xml);
  node = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  iface = g_dbus_node_info_lookup_interface (node, name);
  g_assert_nonnull (iface);
  g_dbus_interface_info_ref (iface);
  g_dbus_node_info_unref (node);
  return iface;
}

static char *
describe_args (GDBusArgInfo **args)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; args && args[i]; i++)
    g_string_append_printf (s, "%s:%s,", args[i]->name, args[i]->signature);
  return g_string_free (s, FALSE);
}

static const char *
emits (GDBusAnnotationInfo **ann)
{
  const char *v = g_dbus_annotation_info_lookup (ann, "org.freedesktop.DBus.Property.EmitsChangedSignal");
  return v ? v : "true";
}

/* Everything a client can see: names, argument names and types, property
 * types, access and change signalling, in the same order. */
static char *
describe_interface (GDBusInterfaceInfo *i)
{
  GString *s = g_string_new (NULL);

  for (guint n = 0; i->methods && i->methods[n]; n++)
    {
      g_autofree char *in = describe_args (i->methods[n]->in_args);
      g_autofree char *out = describe_args (i->methods[n]->out_args);
      g_string_append_printf (s, "method %s(%s) -> (%s)\n", i->methods[n]->name, in, out);
    }
  for (guint n = 0; i->signals && i->signals[n]; n++)
    {
      g_autofree char *args = describe_args (i->signals[n]->args);
      g_string_append_printf (s, "signal %s(%s)\n", i->signals[n]->name, args);
    }
  for (guint n = 0; i->properties && i->properties[n]; n++)
    g_string_append_printf (s, "property %s %s %d emits=%s\n", i->properties[n]->name,
                            i->properties[n]->signature, i->properties[n]->flags,
                            emits (i->properties[n]->annotations));
  return g_string_free (s, FALSE);
}

static void
check_introspection (const char *file, const char *path, const char *name)
{
  GDBusInterfaceInfo *want = xml_interface (file, name);
  GDBusInterfaceInfo *got = live_interface (path, name);
  g_autofree char *a = describe_interface (want);
  g_autofree char *b = describe_interface (got);

  g_assert_cmpstr (b, ==, a);
  g_dbus_interface_info_unref (want);
  g_dbus_interface_info_unref (got);
}

static void
test_introspection (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = orch_test_create (d, "{'command': <['sleep', '600']>}", &error);
  g_autofree char *path = g_strconcat ("/org/orchestrator/job/", id, NULL);
  g_autoptr(GVariant) rec = NULL;

  g_assert_no_error (error);
  check_introspection ("org.orchestrator.Jobs.xml", "/org/orchestrator", "org.orchestrator.Jobs");
  check_introspection ("org.orchestrator.Job.xml", path, "org.orchestrator.Job");
  rec = stop_job (id, NULL);
  remove_job (id);
}

/* ---- properties ---- */

static void
test_properties (void)
{
  g_autoptr(GVariant) r = g_dbus_connection_call_sync (
      d->conn, "org.orchestrator", "/org/orchestrator", "org.freedesktop.DBus.Properties", "GetAll",
      g_variant_new ("(s)", "org.orchestrator.Jobs"), G_VARIANT_TYPE ("(a{sv})"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  g_autoptr(GVariant) props = g_variant_get_child_value (r, 0);
  const char *backend;
  guint32 max;

  g_assert_true (g_variant_lookup (props, "Backend", "&s", &backend));
  g_assert_cmpstr (backend, ==, d->backend);
  g_assert_true (g_variant_lookup (props, "MaxConcurrent", "u", &max));
  g_assert_cmpuint (max, ==, MAX_CONCURRENT);
}

/* ---- a job runs, in its group ---- */

static void
test_job_runs (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = orch_test_create (d, "{'command': <['sleep', '600']>, 'name': <'nap'>}", &error);
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) stopped = NULL;
  g_autoptr(GArray) pids = NULL;
  pid_t pid;

  g_assert_no_error (error);
  rec = orch_test_wait_state (d, id, "running", 10000);
  pid = (pid_t) orch_test_rec_int (rec, "pid");
  g_assert_cmpint (pid, >, 0);
  g_assert_true (orch_test_pid_alive (pid));
  g_assert_cmpstr (orch_test_rec_str (rec, "name"), ==, "nap");
  g_assert_cmpstr (orch_test_rec_str (rec, "backend"), ==, d->backend);
  g_assert_cmpint (orch_test_rec_int (rec, "started_at"), >=, orch_test_rec_int (rec, "created_at"));

  /* The process is really the job's: with cgroupfs, in the job's cgroup. */
  pids = orch_test_job_pids (d, rec);
  g_assert_cmpuint (pids->len, ==, 1);
  g_assert_cmpint (g_array_index (pids, pid_t, 0), ==, pid);
  {
    /* Its parent is orchestrator-monitor, in the same cgroup. */
    OrchProcStat st, mon;
    g_autofree char *own = NULL, *mons = NULL;
    g_assert_cmpint (orch_proc_read_stat (NULL, pid, &st), ==, 0);
    g_assert_cmpint (orch_proc_read_stat (NULL, st.ppid, &mon), ==, 0);
    g_assert_cmpstr (mon.comm, ==, "orchestrator-mo");
    g_assert_cmpint (orch_cgroup_of_pid (pid, &own), ==, 0);
    g_assert_cmpint (orch_cgroup_of_pid (st.ppid, &mons), ==, 0);
    g_assert_cmpstr (own, ==, mons);
  }
  if (g_strcmp0 (d->backend, "cgroupfs") == 0)
    {
      g_autofree char *expect = g_strconcat (d->cgroup_root + strlen (d->cgroup_mount), "/", id, NULL);
      g_assert_cmpstr (orch_test_rec_str (rec, "cgroup"), ==, expect);
    }

  stopped = stop_job (id, NULL);
  g_assert_cmpstr (orch_test_rec_str (stopped, "state"), ==, "stopped");
  g_assert_cmpint (orch_test_rec_int (stopped, "signal"), ==, SIGTERM);
  g_assert_cmpint (orch_test_rec_int (stopped, "finished_at"), >=, orch_test_rec_int (stopped, "started_at"));
  g_assert_false (orch_test_pid_alive (pid));
  if (g_strcmp0 (d->backend, "cgroupfs") == 0)
    {
      /* The job's cgroup is gone with it. */
      g_autofree char *dir = g_build_filename (d->cgroup_root, id, NULL);
      g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
    }
  remove_job (id);
}

static void
test_stop_whole_group (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = orch_test_create (d, "{'command': <['sh', '-c', 'sleep 1000 & sleep 1000']>}", &error);
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) stopped = NULL;
  g_autoptr(GArray) pids = NULL;
  g_autoptr(GArray) after = NULL;

  g_assert_no_error (error);
  rec = orch_test_wait_state (d, id, "running", 10000);
  /* sh and both sleeps */
  for (int i = 0; i < 500; i++)
    {
      g_clear_pointer (&pids, g_array_unref);
      pids = orch_test_job_pids (d, rec);
      if (pids->len >= 3)
        break;
      g_usleep (2000);
    }
  g_assert_cmpuint (pids->len, ==, 3);

  stopped = stop_job (id, NULL);
  g_assert_cmpstr (orch_test_rec_str (stopped, "state"), ==, "stopped");
  /* The reply came only once no process of the job was left. */
  for (guint i = 0; i < pids->len; i++)
    g_assert_false (orch_test_pid_alive (g_array_index (pids, pid_t, i)));
  remove_job (id);
}

static void
test_stop_escalates_to_sigkill (void)
{
  g_autoptr(GError) error = NULL;
  /* Ignores SIGTERM, and so does the sleep it starts. */
  g_autofree char *id = orch_test_create (d, "{'command': <['sh', '-c', 'trap \"\" TERM; sleep 1000; sleep 1000']>}", &error);
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) stopped = NULL;
  gint64 start;
  pid_t pid;

  g_assert_no_error (error);
  rec = orch_test_wait_state (d, id, "running", 10000);
  pid = (pid_t) orch_test_rec_int (rec, "pid");
  g_usleep (100000); /* let sh set its trap */
  start = g_get_monotonic_time ();
  stopped = stop_job (id, "{'timeout_ms': <uint32 300>}");
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 300000);
  g_assert_cmpstr (orch_test_rec_str (stopped, "state"), ==, "stopped");
  g_assert_cmpint (orch_test_rec_int (stopped, "signal"), ==, SIGKILL);
  g_assert_false (orch_test_pid_alive (pid));
  remove_job (id);
}

/* A Stop sent the moment Create answers, while the job's process may not
 * exist yet or may not have set its signal handlers back: the SIGTERM
 * still ends it (not the SIGKILL after the stop timeout, 5 s here). */
static void
test_stop_at_once (void)
{
  for (int i = 0; i < 10; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *id = orch_test_create (d, "{'command': <['sleep', '600']>}", &error);
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr(GVariant) rec = NULL;
      gint64 ms;

      g_assert_no_error (error);
      rec = stop_job (id, NULL);
      ms = (g_get_monotonic_time () - t0) / 1000;
      g_test_message ("round %d: %s, signal %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT " ms", i,
                      orch_test_rec_str (rec, "state"), orch_test_rec_int (rec, "signal"), ms);
      g_assert_cmpstr (orch_test_rec_str (rec, "state"), ==, "stopped");
      g_assert_cmpint (orch_test_rec_int (rec, "signal"), !=, SIGKILL);
      g_assert_cmpint (ms, <, 4000);
      remove_job (id);
    }
}

static void
test_stop_signal_option (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = orch_test_create (d, "{'command': <['sleep', '600']>}", &error);
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) stopped = NULL;

  g_assert_no_error (error);
  rec = orch_test_wait_state (d, id, "running", 10000);
  stopped = stop_job (id, "{'signal': <int32 2>}");
  g_assert_cmpint (orch_test_rec_int (stopped, "signal"), ==, SIGINT);
  remove_job (id);
}

static void
test_exit_code (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = orch_test_create (d, "{'command': <['sh', '-c', 'exit 3']>}", &error);
  g_autoptr(GVariant) rec = NULL;
  g_autofree char *ok_id = NULL;
  g_autoptr(GVariant) ok = NULL;

  g_assert_no_error (error);
  rec = orch_test_wait_state (d, id, "failed|exited", 10000);
  g_assert_cmpstr (orch_test_rec_str (rec, "state"), ==, "failed");
  g_assert_cmpint (orch_test_rec_int (rec, "exit_code"), ==, 3);
  g_assert_cmpint (orch_test_rec_int (rec, "signal"), ==, 0);
  g_assert_cmpint (orch_test_rec_int (rec, "finished_at"), >, 0);
  remove_job (id);

  ok_id = orch_test_create (d, "{'command': <['true']>}", &error);
  ok = orch_test_wait_state (d, ok_id, "failed|exited", 10000);
  g_assert_cmpstr (orch_test_rec_str (ok, "state"), ==, "exited");
  g_assert_cmpint (orch_test_rec_int (ok, "exit_code"), ==, 0);
  remove_job (ok_id);
}

static void
test_killed_by_signal (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = orch_test_create (d, "{'command': <['sleep', '600']>}", &error);
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) dead = NULL;

  g_assert_no_error (error);
  rec = orch_test_wait_state (d, id, "running", 10000);
  g_assert_cmpint (kill ((pid_t) orch_test_rec_int (rec, "pid"), SIGKILL), ==, 0);
  dead = orch_test_wait_state (d, id, "failed", 10000);
  g_assert_cmpint (orch_test_rec_int (dead, "signal"), ==, SIGKILL);
  g_assert_cmpint (orch_test_rec_int (dead, "exit_code"), ==, -1);
  remove_job (id);
}

static void
test_leftovers_cleaned (void)
{
  g_autoptr(GError) error = NULL;
  /* The main process exits at once; its background child is the job's too. */
  g_autofree char *id = orch_test_create (d, "{'command': <['sh', '-c', 'sleep 1000 & echo $! ; exit 0']>}", &error);
  g_autoptr(GVariant) rec = NULL;
  g_autofree char *log = NULL;

  g_assert_no_error (error);
  rec = orch_test_wait_state (d, id, "exited|failed", 15000);
  g_assert_cmpstr (orch_test_rec_str (rec, "state"), ==, "exited");
  log = read_log (rec);
  g_assert_false (orch_test_pid_alive ((pid_t) g_ascii_strtoll (log, NULL, 10)));
  remove_job (id);
}

static void
test_restart_on_failure (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = orch_test_create (
      d, "{'command': <['sh', '-c', 'echo run; exit 1']>, 'restart': <'on-failure'>,"
         " 'restart_max': <uint32 3>, 'restart_delay_ms': <uint32 20>}", &error);
  g_autoptr(GVariant) rec = NULL;
  g_autofree char *log = NULL;
  g_auto(GStrv) lines = NULL;
  guint runs = 0, separators = 0;

  g_assert_no_error (error);
  /* 20, 40, 80 ms of backoff: all three are done well within a second. */
  for (int i = 0; i < 5000; i++)
    {
      g_clear_pointer (&rec, g_variant_unref);
      rec = orch_test_get (d, id);
      if (orch_test_rec_int (rec, "restarts") == 3 && g_strcmp0 (orch_test_rec_str (rec, "state"), "failed") == 0)
        break;
      g_usleep (2000);
    }
  g_assert_cmpint (orch_test_rec_int (rec, "restarts"), ==, 3);
  /* And no fourth: wait past the next backoff step (160 ms). */
  g_usleep (500000);
  g_clear_pointer (&rec, g_variant_unref);
  rec = orch_test_get (d, id);
  g_assert_cmpint (orch_test_rec_int (rec, "restarts"), ==, 3);
  g_assert_cmpstr (orch_test_rec_str (rec, "state"), ==, "failed");

  log = read_log (rec);
  lines = g_strsplit (log, "\n", -1);
  for (char **l = lines; *l; l++)
    {
      if (strcmp (*l, "run") == 0)
        runs++;
      else if (g_str_has_prefix (*l, "--- orchestrator:"))
        separators++;
    }
  g_assert_cmpuint (runs, ==, 4);
  g_assert_cmpuint (separators, ==, 3);
  remove_job (id);
}

static void
test_restart_always_and_stop (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = orch_test_create (
      d, "{'command': <['true']>, 'restart': <'always'>, 'restart_max': <uint32 0>,"
         " 'restart_delay_ms': <uint32 1000>}", &error);
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) stopped = NULL;

  g_assert_no_error (error);
  rec = orch_test_wait_state (d, id, "exited", 10000);
  /* Waiting for its restart: Stop cancels that. */
  stopped = stop_job (id, NULL);
  g_usleep (1300000);
  g_clear_pointer (&rec, g_variant_unref);
  rec = orch_test_get (d, id);
  g_assert_cmpint (orch_test_rec_int (rec, "restarts"), ==, 0);
  g_assert_cmpstr (orch_test_rec_str (rec, "state"), ==, "exited");
  remove_job (id);
}

static void
test_restart_method (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = orch_test_create (d, "{'command': <['sleep', '600']>}", &error);
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) r = NULL;
  g_autoptr(GVariant) again = NULL;
  g_autoptr(GVariant) r2 = NULL;
  g_autoptr(GVariant) third = NULL;
  g_autoptr(GVariant) stopped = NULL;
  pid_t first;

  g_assert_no_error (error);
  rec = orch_test_wait_state (d, id, "running", 10000);
  first = (pid_t) orch_test_rec_int (rec, "pid");

  r = orch_test_call (d, "Restart", g_variant_new ("(s)", id), &error);
  g_assert_no_error (error);
  again = g_variant_get_child_value (r, 0);
  g_assert_cmpstr (orch_test_rec_str (again, "state"), ==, "running");
  g_assert_cmpint (orch_test_rec_int (again, "restarts"), ==, 1);
  g_assert_cmpint (orch_test_rec_int (again, "pid"), !=, first);
  g_assert_false (orch_test_pid_alive (first));
  g_assert_true (orch_test_pid_alive ((pid_t) orch_test_rec_int (again, "pid")));

  /* A stopped job restarts too. */
  stopped = stop_job (id, NULL);
  r2 = orch_test_call (d, "Restart", g_variant_new ("(s)", id), &error);
  g_assert_no_error (error);
  third = g_variant_get_child_value (r2, 0);
  g_assert_cmpstr (orch_test_rec_str (third, "state"), ==, "running");
  g_assert_cmpint (orch_test_rec_int (third, "restarts"), ==, 2);
  g_clear_pointer (&stopped, g_variant_unref);
  stopped = stop_job (id, NULL);
  remove_job (id);
}

static void
test_remove (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = orch_test_create (d, "{'command': <['sleep', '600']>}", &error);
  g_autofree char *path = g_strconcat ("/org/orchestrator/job/", id, NULL);
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) r = NULL;
  g_autoptr(GVariant) stopped = NULL;
  g_autoptr(GVariant) prop = NULL;
  g_autofree char *remote = NULL;

  g_assert_no_error (error);
  rec = orch_test_wait_state (d, id, "running", 10000);
  r = orch_test_call (d, "Remove", g_variant_new ("(s)", id), &error);
  g_assert_null (r);
  remote = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote, ==, "org.orchestrator.Error.InvalidState");
  g_clear_error (&error);

  stopped = stop_job (id, NULL);
  remove_job (id);
  g_assert_null (orch_test_get (d, id));
  prop = g_dbus_connection_call_sync (d->conn, "org.orchestrator", path, "org.freedesktop.DBus.Properties",
                                      "Get", g_variant_new ("(ss)", "org.orchestrator.Job", "State"),
                                      NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_null (prop);
  g_assert_nonnull (error);
}

typedef struct {
  GVariant *reply;
  GError *error;
  gboolean done;
} AsyncCall;

static void
async_done (GObject *source, GAsyncResult *res, gpointer data)
{
  AsyncCall *c = data;

  c->reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &c->error);
  c->done = TRUE;
}

/* The D-Bus error name of a failed call, or "ok". */
static char *
outcome (GVariant *reply, GError *error)
{
  if (reply == NULL && !g_dbus_error_is_remote_error (error))
    return g_strdup (error->message);
  return reply ? g_strdup ("ok") : g_dbus_error_get_remote_error (error);
}

/* A Restart and a Remove of one job, racing: each answers success or the
 * error that says what happened (NotFound, InvalidState), never Failed.
 * The job's program stops being executable after its first run, so the
 * restarted run fails before it runs and waits 3 s for its automatic
 * restart: the Restart is still waiting when Remove comes. */
static void
test_restart_races_remove (void)
{
  g_autofree char *dir = g_dir_make_tmp ("orch-race-XXXXXX", NULL);
  g_autofree char *prog = g_build_filename (dir, "prog", NULL);
  g_autofree char *spec = g_strdup_printf (
      "{'command': <['%s']>, 'restart': <'always'>, 'restart_delay_ms': <uint32 3000>}", prog);

  for (int round = 0; round < 3; round++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *id = NULL;
      g_autoptr(GVariant) rec = NULL;
      g_autoptr(GVariant) removed = NULL;
      g_autoptr(GError) remove_error = NULL;
      g_autofree char *restart_outcome = NULL;
      g_autofree char *remove_outcome = NULL;
      AsyncCall restart = { 0 };

      g_assert_true (g_file_set_contents (prog, "#!/bin/sh\nexit 0\n", -1, NULL));
      g_assert_cmpint (chmod (prog, 0755), ==, 0);
      id = orch_test_create (d, spec, &error);
      g_assert_no_error (error);
      rec = orch_test_wait_state (d, id, "exited", 10000);
      g_assert_cmpint (chmod (prog, 0644), ==, 0);
      g_dbus_connection_call (d->conn, "org.orchestrator", "/org/orchestrator", "org.orchestrator.Jobs",
                              "Restart", g_variant_new ("(s)", id), NULL, G_DBUS_CALL_FLAGS_NONE, -1,
                              NULL, async_done, &restart);
      g_usleep ((gulong) round * 100000);
      removed = orch_test_call (d, "Remove", g_variant_new ("(s)", id), &remove_error);
      while (!restart.done)
        g_main_context_iteration (NULL, TRUE);
      restart_outcome = outcome (restart.reply, restart.error);
      remove_outcome = outcome (removed, remove_error);
      g_test_message ("round %d: Restart %s, Remove %s", round, restart_outcome, remove_outcome);
      g_assert_true (g_strv_contains ((const char *const[]){ "ok", "org.orchestrator.Error.NotFound",
                                                             "org.orchestrator.Error.InvalidState", NULL },
                                      restart_outcome));
      g_assert_true (g_strv_contains ((const char *const[]){ "ok", "org.orchestrator.Error.InvalidState", NULL },
                                      remove_outcome));
      g_clear_pointer (&restart.reply, g_variant_unref);
      g_clear_error (&restart.error);
      if (removed == NULL)
        orch_test_discard (d, id);
    }
  g_unlink (prog);
  g_rmdir (dir);
}

/* ---- signals ---- */

typedef struct {
  GPtrArray *events; /* "J:<state>" for JobChanged, "P:<state>" for PropertiesChanged,
                       "A:<state>" for InterfacesAdded */
  char *id;
  char *path;
} Recorder;

static void
on_signal (GDBusConnection *c, const char *sender, const char *path, const char *iface,
           const char *name, GVariant *params, gpointer data)
{
  Recorder *r = data;

  if (strcmp (name, "JobChanged") == 0)
    {
      const char *id;
      g_autoptr(GVariant) rec = NULL;
      g_variant_get (params, "(&s@a{sv})", &id, &rec);
      if (r->id && strcmp (id, r->id) == 0)
        g_ptr_array_add (r->events, g_strconcat ("J:", orch_test_rec_str (rec, "state"), NULL));
    }
  else if (strcmp (name, "PropertiesChanged") == 0 && r->path && strcmp (path, r->path) == 0)
    {
      const char *state;
      g_autoptr(GVariant) changed = g_variant_get_child_value (params, 1);
      if (g_variant_lookup (changed, "State", "&s", &state))
        g_ptr_array_add (r->events, g_strconcat ("P:", state, NULL));
    }
  else if (strcmp (name, "JobRemoved") == 0)
    {
      const char *id;
      g_variant_get (params, "(&s)", &id);
      if (r->id && strcmp (id, r->id) == 0)
        g_ptr_array_add (r->events, g_strdup ("removed"));
    }
  else if (strcmp (name, "InterfacesAdded") == 0)
    {
      const char *obj, *state;
      g_autoptr(GVariant) ifaces = NULL;
      g_autoptr(GVariant) props = NULL;
      g_variant_get (params, "(&o@a{sa{sv}})", &obj, &ifaces);
      props = g_variant_lookup_value (ifaces, "org.orchestrator.Job", G_VARIANT_TYPE_VARDICT);
      if (r->path && strcmp (obj, r->path) == 0 && props &&
          g_variant_lookup (props, "State", "&s", &state))
        g_ptr_array_add (r->events, g_strconcat ("A:", state, NULL));
    }
}

static void
pump_until (GPtrArray *events, const char *last, guint timeout_ms)
{
  gint64 until = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_get_monotonic_time () < until)
    {
      if (events->len && strcmp (g_ptr_array_index (events, events->len - 1), last) == 0)
        return;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_error ("no “%s” event within %u ms", last, timeout_ms);
}

static void
test_signals_in_order (void)
{
  g_autoptr(GError) error = NULL;
  Recorder r = { g_ptr_array_new_with_free_func (g_free), NULL, NULL };
  guint sub = g_dbus_connection_signal_subscribe (d->conn, "org.orchestrator", NULL, NULL, NULL, NULL,
                                                  G_DBUS_SIGNAL_FLAGS_NONE, on_signal, &r, NULL);
  g_autoptr(GVariant) stopped = NULL;
  g_autoptr(GString) seq = g_string_new (NULL);
  const char *prev = NULL;

  /* The subscription must be in place at the daemon before the job. */
  g_dbus_connection_call_sync (d->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus.Peer", "Ping", NULL, NULL,
                               G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  /* The id is known only after Create returns, but the signals are queued
   * in our context until we iterate it, so nothing is missed. */
  r.id = orch_test_create (d, "{'command': <['sleep', '600']>}", &error);
  g_assert_no_error (error);
  r.path = g_strconcat ("/org/orchestrator/job/", r.id, NULL);
  orch_test_wait_state (d, r.id, "running", 10000);
  stopped = stop_job (r.id, NULL);
  remove_job (r.id);
  pump_until (r.events, "removed", 5000);

  /* The new job's InterfacesAdded carries its first state, then its
   * JobChanged, and no PropertiesChanged repeats those values.  Every
   * later JobChanged is followed by its PropertiesChanged with the same
   * state; a state may repeat (other fields change), but states come in
   * the order they happened. */
  g_assert_cmpuint (r.events->len, >=, 3);
  g_assert_cmpstr (g_ptr_array_index (r.events, 0), ==, "A:starting");
  g_assert_cmpstr (g_ptr_array_index (r.events, 1), ==, "J:starting");
  g_assert_cmpstr (g_ptr_array_index (r.events, r.events->len - 1), ==, "removed");
  g_assert_cmpuint (r.events->len % 2, ==, 1);
  g_string_append (seq, "starting ");
  prev = "starting";
  for (guint i = 2; i + 1 < r.events->len; i += 2)
    {
      const char *j = g_ptr_array_index (r.events, i);
      const char *p = g_ptr_array_index (r.events, i + 1);
      g_assert_true (g_str_has_prefix (j, "J:"));
      g_assert_true (g_str_has_prefix (p, "P:"));
      g_assert_cmpstr (j + 2, ==, p + 2);
      if (prev && strcmp (prev, j + 2) == 0)
        continue;
      g_string_append_printf (seq, "%s ", j + 2);
      prev = j + 2;
    }
  g_assert_cmpstr (seq->str, ==, "starting running stopping stopped ");

  g_dbus_connection_signal_unsubscribe (d->conn, sub);
  g_ptr_array_unref (r.events);
  g_free (r.id);
  g_free (r.path);
}

/* ---- logs and exec settings ---- */

static void
test_log_and_environment (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = orch_test_create (
      d, "{'command': <['sh', '-c', 'echo out:$FOO; echo err >&2; pwd; echo id:$ORCHESTRATOR_JOB_ID']>,"
         " 'env': <{'FOO': 'bar baz'}>, 'cwd': <'/usr'>}", &error);
  g_autoptr(GVariant) rec = NULL;
  g_autofree char *log = NULL;
  g_autofree char *expect = NULL;
  struct stat st;

  g_assert_no_error (error);
  rec = orch_test_wait_state (d, id, "exited|failed", 10000);
  g_assert_cmpstr (orch_test_rec_str (rec, "state"), ==, "exited");
  log = read_log (rec);
  expect = g_strdup_printf ("out:bar baz\nerr\n/usr\nid:%s\n", id);
  g_assert_cmpstr (log, ==, expect);
  g_assert_true (g_str_has_prefix (orch_test_rec_str (rec, "log_path"), d->log_dir));
  g_assert_cmpint (stat (orch_test_rec_str (rec, "log_path"), &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0640);
  remove_job (id);
}

/* The daemon raises its own open-file limit; a job gets the one the
 * daemon started with, at most FD_SETSIZE (select() breaks above it). */
static void
test_nofile_limit (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = orch_test_create (d, "{'command': <['sh', '-c', 'ulimit -n']>}", &error);
  g_autoptr(GVariant) rec = NULL;
  g_autofree char *log = NULL;
  g_autofree char *want = NULL;
  struct rlimit rl;

  g_assert_no_error (error);
  rec = orch_test_wait_state (d, id, "exited|failed", 10000);
  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &rl), ==, 0);
  want = g_strdup_printf ("%llu\n", (unsigned long long) MIN (rl.rlim_cur, FD_SETSIZE));
  log = read_log (rec);
  g_assert_cmpstr (log, ==, want);
  remove_job (id);
}

/* The job starts with no signal blocked or ignored, whatever the daemon
 * and the monitor block and ignore (the daemon ignores SIGPIPE; both
 * block every signal around the start), in both of the monitor's ways of
 * starting it (log_timestamps passes the output through the monitor). */
static void
test_signal_state (void)
{
  static const char *const specs[] = {
    "{'command': <['grep', '-E', '^Sig(Blk|Ign):', '/proc/self/status']>}",
    "{'command': <['grep', '-E', '^Sig(Blk|Ign):', '/proc/self/status']>, 'log_timestamps': <true>}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *id = orch_test_create (d, specs[i], &error);
      g_autoptr(GVariant) rec = NULL;
      g_autofree char *log = NULL;

      g_assert_no_error (error);
      rec = orch_test_wait_state (d, id, "exited|failed", 10000);
      g_assert_cmpstr (orch_test_rec_str (rec, "state"), ==, "exited");
      log = read_log (rec);
      if (i == 0)
        g_assert_cmpstr (log, ==, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
      else
        {
          g_assert_nonnull (strstr (log, "SigBlk:\t0000000000000000\n"));
          g_assert_nonnull (strstr (log, "SigIgn:\t0000000000000000\n"));
        }
      remove_job (id);
    }
}

static void
test_stderr_separate (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = orch_test_create (
      d, "{'command': <['sh', '-c', 'echo out; echo err >&2']>, 'stderr': <'separate'>}", &error);
  g_autoptr(GVariant) rec = NULL;
  g_autofree char *out = NULL, *err = NULL;

  g_assert_no_error (error);
  rec = orch_test_wait_state (d, id, "exited|failed", 10000);
  out = read_log (rec);
  g_assert_cmpstr (out, ==, "out\n");
  g_assert_true (g_file_get_contents (orch_test_rec_str (rec, "stderr_log_path"), &err, NULL, NULL));
  g_assert_cmpstr (err, ==, "err\n");
  remove_job (id);
}

static void
test_user (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  g_autoptr(GVariant) rec = NULL;
  g_autofree char *log = NULL;

  if (geteuid () != 0)
    {
      g_test_skip ("changing user needs root");
      return;
    }
  id = orch_test_create (d, "{'command': <['sh', '-c', 'id -u; id -g; echo $HOME']>, 'user': <'nobody'>}", &error);
  g_assert_no_error (error);
  rec = orch_test_wait_state (d, id, "exited|failed", 10000);
  log = read_log (rec);
  g_assert_cmpstr (log, ==, "65534\n65534\n/nonexistent\n");
  remove_job (id);
}

static void
test_list_filters (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *a = orch_test_create (d, "{'command': <['sleep', '600']>, 'name': <'alpha'>}", &error);
  g_autofree char *b = orch_test_create (d, "{'command': <['true']>, 'name': <'beta'>}", &error);
  g_autoptr(GVariant) ra = NULL, rb = NULL, r1 = NULL, r2 = NULL, r3 = NULL, stopped = NULL;
  g_autoptr(GVariant) l1 = NULL, l2 = NULL;

  g_assert_no_error (error);
  ra = orch_test_wait_state (d, a, "running", 10000);
  rb = orch_test_wait_state (d, b, "exited", 10000);
  r1 = orch_test_call (d, "List", g_variant_new_parsed ("({'name': <'alpha'>},)"), &error);
  g_assert_no_error (error);
  l1 = g_variant_get_child_value (r1, 0);
  g_assert_cmpuint (g_variant_n_children (l1), ==, 1);
  r2 = orch_test_call (d, "List", g_variant_new_parsed ("({'state': <'exited'>, 'name': <'beta'>},)"), &error);
  l2 = g_variant_get_child_value (r2, 0);
  g_assert_cmpuint (g_variant_n_children (l2), ==, 1);
  r3 = orch_test_call (d, "List", g_variant_new_parsed ("({'state': <'asleep'>},)"), &error);
  g_assert_null (r3);
  g_assert_true (g_dbus_error_is_remote_error (error));
  g_clear_error (&error);
  /* keys: those fields of each record and no other; an unknown one is
   * refused by name. */
  {
    g_autoptr(GVariant) rk = orch_test_call (
        d, "List", g_variant_new_parsed ("({'name': <'alpha'>, 'keys': <['id', 'pid']>},)"),
        &error);
    g_autoptr(GVariant) lk = NULL, rec = NULL;
    guint32 pid = 0;
    const char *id = NULL;

    g_assert_no_error (error);
    lk = g_variant_get_child_value (rk, 0);
    g_assert_cmpuint (g_variant_n_children (lk), ==, 1);
    rec = g_variant_get_child_value (lk, 0);
    g_assert_cmpuint (g_variant_n_children (rec), ==, 2);
    g_assert_true (g_variant_lookup (rec, "id", "&s", &id));
    g_assert_cmpstr (id, ==, a);
    g_assert_true (g_variant_lookup (rec, "pid", "u", &pid));
    g_assert_cmpuint (pid, >, 0);
    g_clear_pointer (&rk, g_variant_unref);
    rk = orch_test_call (d, "List", g_variant_new_parsed ("({'keys': <['id', 'colour']>},)"),
                         &error);
    g_assert_null (rk);
    g_assert_true (g_dbus_error_is_remote_error (error));
    g_assert_nonnull (strstr (error->message, "colour"));
    g_clear_error (&error);
  }
  stopped = stop_job (a, NULL);
  remove_job (a);
  remove_job (b);
}

/* The record of @id in a List reply, or NULL. */
static GVariant *
find_record (GVariant *reply, const char *id)
{
  g_autoptr(GVariant) records = g_variant_get_child_value (reply, 0);

  for (gsize i = 0; i < g_variant_n_children (records); i++)
    {
      g_autoptr(GVariant) rec = g_variant_get_child_value (records, i);
      const char *rid;
      if (g_variant_lookup (rec, "id", "&s", &rid) && g_str_equal (rid, id))
        return g_steal_pointer (&rec);
    }
  return NULL;
}

/* ListRows: each job once, as a struct of the named keys in their order
 * and with their types, the same values List sends; a key the record has
 * not is its type's zero; the filter and paging as List's; an unknown key,
 * or none, is refused by name and nothing else is said. */
static void
test_list_rows (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *a = orch_test_create (d, "{'command': <['sleep', '600']>, 'name': <'rows'>}",
                                         &error);
  g_autofree char *b = orch_test_create (
      d, "{'command': <['sh', '-c', 'exit 3']>, 'name': <'rows'>}", &error);
  g_autoptr(GVariant) ra = NULL, rb = NULL, reply = NULL, rows = NULL, list = NULL, stopped = NULL;
  gsize matched = 0;

  g_assert_no_error (error);
  ra = orch_test_wait_state (d, a, "running", 10000);
  rb = orch_test_wait_state (d, b, "failed", 10000);
  reply = orch_test_call (
      d, "ListRows",
      g_variant_new_parsed ("(['state', 'id', 'pid', 'exit_code', 'command', 'schedule_id'], "
                            "{'name': <'rows'>})"),
      &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &rows);
  g_assert_cmpstr (g_variant_get_type_string (rows), ==, "a(ssuiass)");
  g_assert_cmpuint (g_variant_n_children (rows), ==, 2);
  list = orch_test_call (d, "List", g_variant_new_parsed ("({'name': <'rows'>},)"), &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < g_variant_n_children (rows); i++)
    {
      const char *state, *id, *schedule;
      guint32 pid, want_pid = 0;
      gint32 exit_code, want_code = -7;
      g_autofree const char **command = NULL;
      g_autoptr(GVariant) rec = NULL;

      g_variant_get_child (rows, i, "(&s&sui^a&s&s)", &state, &id, &pid, &exit_code, &command,
                           &schedule);
      rec = find_record (list, id);
      g_assert_nonnull (rec);
      g_assert_cmpstr (state, ==, g_str_equal (id, a) ? "running" : "failed");
      g_assert_true (g_variant_lookup (rec, "exit_code", "i", &want_code));
      g_assert_cmpint (exit_code, ==, want_code);
      if (g_str_equal (id, b))
        g_assert_cmpint (exit_code, ==, 3);
      g_assert_true (g_variant_lookup (rec, "pid", "u", &want_pid));
      g_assert_cmpuint (pid, ==, want_pid);
      g_assert_cmpstr (command[0], ==, g_str_equal (id, a) ? "sleep" : "sh");
      /* Not in the record (no schedule started it): the row says "". */
      g_assert_false (g_variant_lookup (rec, "schedule_id", "&s", NULL));
      g_assert_cmpstr (schedule, ==, "");
      matched++;
    }
  g_assert_cmpuint (matched, ==, 2);
  g_clear_pointer (&reply, g_variant_unref);
  g_clear_pointer (&rows, g_variant_unref);
  /* Paged as List is. */
  reply = orch_test_call (
      d, "ListRows", g_variant_new_parsed ("(['id'], {'name': <'rows'>, 'limit': <uint32 1>})"),
      &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &rows);
  g_assert_cmpuint (g_variant_n_children (rows), ==, 1);
  /* Refused: an unknown key (by name), no key, a key List's filter has. */
  for (const char *const *bad =
           (const char *const[]){ "(['id', 'colour'], @a{sv} {})", "(@as [], @a{sv} {})",
                                  "(['id'], {'keys': <['id']>})", NULL };
       *bad; bad++)
    {
      g_autoptr(GVariant) r = orch_test_call (d, "ListRows", g_variant_new_parsed (*bad), &error);
      g_autofree char *remote = NULL;

      g_assert_null (r);
      remote = g_dbus_error_get_remote_error (error);
      g_assert_cmpstr (remote, ==, "org.orchestrator.Error.InvalidArgument");
      g_test_message ("%s: %s", *bad, error->message);
      if (strstr (*bad, "colour"))
        g_assert_nonnull (strstr (error->message, "colour"));
      g_clear_error (&error);
    }
  stopped = stop_job (a, NULL);
  remove_job (a);
  remove_job (b);
}

/* Paged: "limit" jobs "after" the last one seen walk the whole list, in
 * order, without a gap or a repeat; an unknown "after" is an error. */
static void
test_list_pages (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) all = NULL, list = NULL, bad = NULL;
  g_autofree char *after = g_strdup ("");
  char *ids[3];
  guint seen = 0, pages = 0;

  for (int i = 0; i < 3; i++)
    {
      ids[i] = orch_test_create (d, "{'command': <['true']>, 'name': <'paged'>}", &error);
      g_assert_no_error (error);
    }
  all = orch_test_call (d, "List", g_variant_new_parsed ("({'name': <'paged'>},)"), &error);
  g_assert_no_error (error);
  list = g_variant_get_child_value (all, 0);
  g_assert_cmpuint (g_variant_n_children (list), ==, 3);
  for (;;)
    {
      g_autoptr(GVariant) r = orch_test_call (
          d, "List",
          g_variant_new_parsed ("({'name': <'paged'>, 'limit': <@u 2>, 'after': <%s>},)", after),
          &error);
      g_autoptr(GVariant) page = NULL;
      gsize n;

      g_assert_no_error (error);
      page = g_variant_get_child_value (r, 0);
      n = g_variant_n_children (page);
      g_assert_cmpuint (n, <=, 2);
      if (n == 0)
        break;
      pages++;
      for (gsize k = 0; k < n; k++)
        {
          g_autoptr(GVariant) rec = g_variant_get_child_value (page, k);
          g_autoptr(GVariant) want = g_variant_get_child_value (list, seen);
          const char *id, *want_id;
          g_assert_true (g_variant_lookup (rec, "id", "&s", &id));
          g_assert_true (g_variant_lookup (want, "id", "&s", &want_id));
          g_assert_cmpstr (id, ==, want_id);
          seen++;
          g_free (after);
          after = g_strdup (id);
        }
    }
  g_assert_cmpuint (seen, ==, 3);
  g_assert_cmpuint (pages, ==, 2);
  bad = orch_test_call (d, "List", g_variant_new_parsed ("({'after': <'job_nope'>},)"), &error);
  g_assert_null (bad);
  g_assert_nonnull (strstr (error->message, "job_nope"));
  g_clear_error (&error);
  for (int i = 0; i < 3; i++)
    {
      g_autoptr(GVariant) r = orch_test_wait_state (d, ids[i], "exited", 10000);
      remove_job (ids[i]);
      g_free (ids[i]);
    }
}

/* The ids of List(@filter_text)'s jobs joined by ",", or NULL and @error. */
static char *
page_ids (const char *filter_text, GError **error)
{
  g_autoptr(GVariant) r = orch_test_call (d, "List", g_variant_new_parsed (filter_text), error);
  g_autoptr(GVariant) list = NULL;
  GString *s;

  if (r == NULL)
    return NULL;
  list = g_variant_get_child_value (r, 0);
  s = g_string_new (NULL);
  for (gsize k = 0; k < g_variant_n_children (list); k++)
    {
      g_autoptr(GVariant) rec = g_variant_get_child_value (list, k);
      const char *id;
      g_assert_true (g_variant_lookup (rec, "id", "&s", &id));
      g_string_append_printf (s, "%s%s", k ? "," : "", id);
    }
  return g_string_free (s, FALSE);
}

/* The walk goes on after a job the filter no longer takes (it stopped
 * between two pages); after a removed job it is NotFound, naming it. */
static void
test_list_pages_moving (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *first = NULL, *next = NULL, *gone = NULL, *want = NULL;
  g_autofree char *after_first = NULL, *remote = NULL;
  char *ids[3];

  for (int i = 0; i < 3; i++)
    {
      g_autoptr(GVariant) r = NULL;
      ids[i] = orch_test_create (d, "{'command': <['sleep', '600']>, 'name': <'paged-moving'>}",
                                 &error);
      g_assert_no_error (error);
      r = orch_test_wait_state (d, ids[i], "running", 10000);
    }
  first = page_ids ("({'name': <'paged-moving'>, 'state': <'running'>, 'limit': <@u 1>},)", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (first, ==, ids[0]);

  g_variant_unref (stop_job (ids[0], NULL));
  g_variant_unref (orch_test_wait_state (d, ids[0], "stopped", 10000));
  after_first = g_strdup_printf (
      "({'name': <'paged-moving'>, 'state': <'running'>, 'limit': <@u 5>, 'after': <'%s'>},)",
      ids[0]);
  next = page_ids (after_first, &error);
  g_assert_no_error (error);
  want = g_strdup_printf ("%s,%s", ids[1], ids[2]);
  g_assert_cmpstr (next, ==, want);

  remove_job (ids[0]);
  gone = page_ids (after_first, &error);
  g_assert_null (gone);
  remote = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote, ==, "org.orchestrator.Error.NotFound");
  g_assert_nonnull (strstr (error->message, ids[0]));
  g_clear_error (&error);

  g_free (ids[0]);
  for (int i = 1; i < 3; i++)
    {
      g_variant_unref (stop_job (ids[i], NULL));
      g_variant_unref (orch_test_wait_state (d, ids[i], "stopped", 10000));
      remove_job (ids[i]);
      g_free (ids[i]);
    }
}

/* ---- bad input ---- */

static guint
count_files (const char *dir)
{
  g_autoptr(GDir) dh = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (dh && g_dir_read_name (dh))
    n++;
  return n;
}

static void
test_bad_input (void)
{
  const struct {
    const char *spec;
    const char *error;
    const char *needle;
  } cases[] = {
    { "{'command': <@as []>}", "InvalidArgument", "“command”" },
    { "{'name': <'x'>}", "InvalidArgument", "“command”" },
    { "{'command': <['no-such-program-orch']>}", "InvalidArgument", "no-such-program-orch" },
    { "{'command': <['mkfs.ext4', '/dev/null']>}", "CommandRejected", "mkfs" },
    { "{'command': <['rm', '-rf', '/']>}", "CommandRejected", "rm -rf /" },
    { "{'command': <['true']>, 'colour': <'red'>}", "InvalidArgument", "“colour”" },
    { "{'command': <['true']>, 'cpu_quota': <'lots'>}", "InvalidArgument", "“cpu_quota”" },
    { "{'command': <['true']>, 'tasks_max': <int32 5>}", "InvalidArgument", "“tasks_max”" },
    { "{'command': <['true']>, 'env': <{'BAD-NAME': 'x'}>}", "InvalidArgument", "BAD-NAME" },
    { "{'command': <['true']>, 'cwd': <'/etc/passwd'>}", "InvalidArgument", "“cwd”" },
    { "{'command': <['true']>, 'cwd': <'/no/such/dir'>}", "InvalidArgument", "“cwd”" },
    { "{'command': <['true']>, 'user': <'no-such-user-orch'>}", "InvalidArgument", "“user”" },
    { "{'command': <['true']>, 'memory_max': <uint64 1>}", "InvalidArgument", "“memory_max”" },
    { "{'command': <['true']>, 'cpu_quota': <-1.0>}", "InvalidArgument", "“cpu_quota”" },
    { "{'command': <['true']>, 'restart': <'maybe'>}", "InvalidArgument", "“restart”" },
    { "{'command': <['true']>, 'stop_timeout_ms': <uint32 0>}", "InvalidArgument", "“stop_timeout_ms”" },
  };
  g_autoptr(GVariant) before = orch_test_call (d, "List", g_variant_new_parsed ("(@a{sv} {},)"), NULL);
  g_autoptr(GVariant) after = NULL;
  guint logs_before = count_files (d->log_dir);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *id = orch_test_create (d, cases[i].spec, &error);
      g_autofree char *remote = NULL;
      g_autofree char *want = g_strconcat ("org.orchestrator.Error.", cases[i].error, NULL);

      g_assert_null (id);
      remote = g_dbus_error_get_remote_error (error);
      g_dbus_error_strip_remote_error (error);
      if (g_strcmp0 (remote, want) != 0 || strstr (error->message, cases[i].needle) == NULL)
        g_error ("%s: got %s “%s”, want %s naming %s", cases[i].spec, remote, error->message,
                 want, cases[i].needle);
    }

  /* Wrong argument types and bad ids on the other methods. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) r = g_dbus_connection_call_sync (
        d->conn, "org.orchestrator", "/org/orchestrator", "org.orchestrator.Jobs", "Create",
        g_variant_new ("(s)", "sleep 1"), NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
    g_assert_null (r);
    g_assert_nonnull (error);
  }
  {
    const char *ids[] = { "../../etc/passwd", "/etc/passwd", "", "job_20991231_235959_ffffff" };
    for (gsize i = 0; i < G_N_ELEMENTS (ids); i++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) r = orch_test_call (d, "Get", g_variant_new ("(s)", ids[i]), &error);
        g_autofree char *remote = g_dbus_error_get_remote_error (error);
        g_assert_null (r);
        g_assert_cmpstr (remote, ==, i == 3 ? "org.orchestrator.Error.NotFound"
                                            : "org.orchestrator.Error.InvalidArgument");
      }
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) r = orch_test_call (d, "Stop",
                                            g_variant_new_parsed ("('job_20991231_235959_ffffff', {'sig': <1>})"),
                                            &error);
    g_autofree char *remote = g_dbus_error_get_remote_error (error);
    g_assert_null (r);
    g_assert_cmpstr (remote, ==, "org.orchestrator.Error.InvalidArgument");
  }

  /* Nothing was created: no record, no log file, no cgroup. */
  after = orch_test_call (d, "List", g_variant_new_parsed ("(@a{sv} {},)"), NULL);
  g_assert_true (g_variant_equal (before, after));
  g_assert_cmpuint (count_files (d->log_dir), ==, logs_before);
  if (d->cgroup_root)
    {
      g_autoptr(GDir) cg = g_dir_open (d->cgroup_root, 0, NULL);
      const char *name;
      while ((name = g_dir_read_name (cg)))
        g_assert_false (g_str_has_prefix (name, "job_"));
    }
}

static GVariant *
spec_with_env (const char *arg, guint nvars, gsize var_len)
{
  GVariantBuilder b, env;
  const char *argv[] = { "true", arg, NULL };
  g_autofree char *value = g_strnfill (var_len, 'v');

  g_variant_builder_init (&env, G_VARIANT_TYPE ("a{ss}"));
  for (guint i = 0; i < nvars; i++)
    {
      g_autofree char *name = g_strdup_printf ("V%u", i);
      g_variant_builder_add (&env, "{ss}", name, value);
    }
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "command", g_variant_new_strv (argv, arg ? 2 : 1));
  g_variant_builder_add (&b, "{sv}", "env", g_variant_builder_end (&env));
  return g_variant_new ("(@a{sv})", g_variant_builder_end (&b));
}

/* What exec would refuse with E2BIG (one string of 128 KiB with its NUL,
 * or argv and env together over ARG_MAX) is refused at Create, naming the
 * field, and starts nothing; one byte less runs. */
static void
test_exec_size (void)
{
  g_autofree char *big = g_strnfill (128 * 1024, 'x');
  g_autoptr(GVariant) before = orch_test_call (d, "List", g_variant_new_parsed ("(@a{sv} {},)"), NULL);
  g_autoptr(GVariant) after = NULL;
  struct {
    GVariant *args;
    const char *needle;
  } cases[] = {
    { spec_with_env (big, 0, 0), "argument 1 is 131072 bytes" },
    { spec_with_env (NULL, 1, 128 * 1024), "variable “V0”" },
    { spec_with_env (NULL, (guint) (sysconf (_SC_ARG_MAX) / (100 * 1024)) + 1, 100 * 1024), "ARG_MAX" },
  };
  g_autoptr(GVariant) fits = NULL;
  g_autoptr(GError) error = NULL;
  const char *id;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(GVariant) r = orch_test_call (d, "Create", cases[i].args, &local);
      g_autofree char *remote = g_dbus_error_get_remote_error (local);
      g_assert_null (r);
      g_assert_cmpstr (remote, ==, "org.orchestrator.Error.InvalidArgument");
      if (strstr (local->message, cases[i].needle) == NULL)
        g_error ("case %zu: “%s” does not name %s", i, local->message, cases[i].needle);
    }
  after = orch_test_call (d, "List", g_variant_new_parsed ("(@a{sv} {},)"), NULL);
  g_assert_true (g_variant_equal (before, after));

  big[128 * 1024 - 1] = '\0';
  fits = orch_test_call (d, "Create", spec_with_env (big, 0, 0), &error);
  g_assert_no_error (error);
  g_variant_get (fits, "(&so)", &id, NULL);
  {
    g_autoptr(GVariant) rec = orch_test_wait_state (d, id, "exited|failed", 10000);
    g_assert_cmpstr (orch_test_rec_str (rec, "state"), ==, "exited");
    g_assert_cmpint (orch_test_rec_int (rec, "exit_code"), ==, 0);
  }
  orch_test_discard (d, id);
}

static void
test_max_concurrent (void)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *extra = NULL;
  g_autofree char *remote = NULL;
  guint before = job_count ();

  for (int i = 0; i < MAX_CONCURRENT; i++)
    {
      char *id = orch_test_create (d, "{'command': <['sleep', '600']>}", &error);
      g_assert_no_error (error);
      g_ptr_array_add (ids, id);
    }
  extra = orch_test_create (d, "{'command': <['sleep', '600']>}", &error);
  g_assert_null (extra);
  remote = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote, ==, "org.orchestrator.Error.LimitReached");
  g_assert_cmpuint (job_count (), ==, before + MAX_CONCURRENT);

  for (guint i = 0; i < ids->len; i++)
    {
      g_autoptr(GVariant) stopped = stop_job (ids->pdata[i], NULL);
      remove_job (ids->pdata[i]);
    }
}

static void
test_limits_applied (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = orch_test_create (
      d, "{'command': <['sleep', '600']>, 'memory_max': <uint64 67108864>, 'tasks_max': <uint32 32>,"
         " 'cpu_quota': <0.5>}", &error);
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) stopped = NULL;

  if (id == NULL)
    {
      /* Only where the controllers are missing, and then the error says so. */
      g_assert_nonnull (strstr (error->message, "controller") ? error->message : strstr (error->message, "backend"));
      g_test_message ("limits refused here: %s", error->message);
      return;
    }
  rec = orch_test_wait_state (d, id, "running", 10000);
  orch_test_check_limits (d, rec);
  stopped = stop_job (id, NULL);
  remove_job (id);
}

static const OrchTestCase tests[] = { { "/jobs/introspection", test_introspection },
                                      { "/jobs/properties", test_properties },
                                      { "/jobs/runs", test_job_runs },
                                      { "/jobs/stop-whole-group", test_stop_whole_group },
                                      { "/jobs/stop-escalates", test_stop_escalates_to_sigkill },
                                      { "/jobs/stop-signal-option", test_stop_signal_option },
                                      { "/jobs/stop-at-once", test_stop_at_once },
                                      { "/jobs/exit-code", test_exit_code },
                                      { "/jobs/killed-by-signal", test_killed_by_signal },
                                      { "/jobs/leftovers-cleaned", test_leftovers_cleaned },
                                      { "/jobs/restart-on-failure", test_restart_on_failure },
                                      { "/jobs/restart-always-stop", test_restart_always_and_stop },
                                      { "/jobs/restart-method", test_restart_method },
                                      { "/jobs/remove", test_remove },
                                      { "/jobs/restart-races-remove", test_restart_races_remove },
                                      { "/jobs/signals-in-order", test_signals_in_order },
                                      { "/jobs/log-and-environment", test_log_and_environment },
                                      { "/jobs/stderr-separate", test_stderr_separate },
                                      { "/jobs/nofile-limit", test_nofile_limit },
                                      { "/jobs/user", test_user },
                                      { "/jobs/list-filters", test_list_filters },
                                      { "/jobs/list-pages", test_list_pages },
                                      { "/jobs/list-pages-moving", test_list_pages_moving },
                                      { "/jobs/list-rows", test_list_rows },
                                      { "/jobs/bad-input", test_bad_input },
                                      { "/jobs/exec-size", test_exec_size },
                                      { "/jobs/max-concurrent", test_max_concurrent },
                                      { "/jobs/limits", test_limits_applied },
                                      { "/jobs/signal-state", test_signal_state },
                                      { NULL, NULL } };

int
main (int argc, char **argv)
{
  const OrchTestProgram program = {
    .daemon = &d,
    .config = "[jobs]\nmax_concurrent=" G_STRINGIFY (MAX_CONCURRENT) "\nstop_timeout_ms=5000\n",
    .tests = tests,
  };

  return orch_test_main (argc, argv, &program);
}
