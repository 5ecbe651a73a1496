/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who may call what, with a real unprivileged user: created here with
 * useradd (and a group of its own standing for "orchestrator"), removed
 * at the end, pass or fail.  The daemon runs as root on a bus that lets
 * anyone call anything, so what is refused is refused by the daemon. */
#include "orch-test-daemon.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static OrchTestDaemon *d;
static char *user_name;
static char *group_name;
static uid_t user_uid;
static gid_t user_gid;
static gboolean made_user, made_group;
static gboolean interactive;  /* next calls: gdbus call --interactive */

static gboolean
run_tool (const char *const *argv, char **ret_out)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  int status;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                               &status, &error));
  g_assert_no_error (error);
  if (ret_out)
    *ret_out = g_strconcat (out, err, NULL);
  return g_spawn_check_wait_status (status, NULL);
}

/* Removes what this test made, and only that: at exit, and on a signal. */
static void
remove_identities (void)
{
  if (made_user)
    run_tool ((const char *const[]){ "userdel", "-f", user_name, NULL }, NULL);
  if (made_group)
    run_tool ((const char *const[]){ "groupdel", group_name, NULL }, NULL);
  made_user = made_group = FALSE;
}

static void
on_fatal_signal (int sig)
{
  remove_identities ();
  signal (sig, SIG_DFL);
  raise (sig);
}

/* Calls @method on @path as the test user, with gdbus under setpriv: a
 * process of its own with the user's uid, gid and groups.  Returns the
 * output; *ret_ok says whether the call succeeded. */
static char *
call_as_user (const char *path, const char *method, const char *arg1, const char *arg2,
              gboolean *ret_ok)
{
  g_autofree char *uid = g_strdup_printf ("%u", (unsigned) user_uid);
  g_autofree char *gid = g_strdup_printf ("%u", (unsigned) user_gid);
  const char *argv[] = { "setpriv", "--reuid", uid, "--regid", gid, "--init-groups", "--",
                         "env", "-i", "PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8",
                         "gdbus", "call", "--address", d->bus_address, "--dest", "org.orchestrator",
                         "--object-path", path, "--timeout", "20", "--method", method,
                         arg1, arg2, NULL, NULL };
  char *out = NULL;

  if (interactive)
    {
      /* After --method: shift the arguments along and put it first. */
      argv[G_N_ELEMENTS (argv) - 2] = argv[G_N_ELEMENTS (argv) - 3];
      argv[G_N_ELEMENTS (argv) - 3] = argv[G_N_ELEMENTS (argv) - 4];
      argv[G_N_ELEMENTS (argv) - 4] = "--interactive";
      if (arg1 == NULL)
        argv[G_N_ELEMENTS (argv) - 3] = NULL;
    }
  *ret_ok = run_tool (argv, &out);
  return out;
}

static void
assert_denied (const char *path, const char *method, const char *arg1, const char *arg2)
{
  gboolean ok;
  g_autofree char *out = call_as_user (path, method, arg1, arg2, &ok);

  if (ok || strstr (out, "org.orchestrator.Error.PermissionDenied") == NULL)
    g_error ("%s as %s: expected PermissionDenied, got: %s", method, user_name, out);
}

static char *
assert_allowed (const char *path, const char *method, const char *arg1, const char *arg2)
{
  gboolean ok;
  char *out = call_as_user (path, method, arg1, arg2, &ok);

  if (!ok)
    g_error ("%s as %s: expected success, got: %s", method, user_name, out);
  return out;
}

#define OBJ "/org/orchestrator"

/* Restarts the daemon with [auth] read=@read (jobs do not survive it
 * yet: durable state is another issue). */
static void
restart_daemon (const char *read)
{
  g_autofree char *text = NULL;
  g_autofree char *base = NULL;
  g_autofree char *auth_config = g_strdup_printf ("[auth]\ngroup=%s\nread=%s\n", group_name, read);
  char *cut;

  g_assert_true (g_file_get_contents (d->config_path, &text, NULL, NULL));
  cut = strstr (text, "[auth]");
  if (cut)
    *cut = '\0';
  base = g_strconcat (text, auth_config, NULL);
  g_assert_true (g_file_set_contents (d->config_path, base, -1, NULL));
  orch_test_daemon_kill (d, SIGTERM);
  orch_test_daemon_spawn (d);
}

/* "Uid:\tR\tE\tS\tFS" of /proc/<pid>/status: all four must be @uid. */
static void
assert_runs_as (guint32 pid, uid_t uid, gid_t gid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%u/status", pid);
  g_autofree char *text = NULL;
  g_autofree char *want_uid = g_strdup_printf ("Uid:\t%u\t%u\t%u\t%u\n", uid, uid, uid, uid);
  g_autofree char *want_gid = g_strdup_printf ("Gid:\t%u\t%u\t%u\t%u\n", gid, gid, gid, gid);

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, want_uid));
  g_assert_nonnull (strstr (text, want_gid));
}

static char *
id_of_create_output (const char *out)
{
  /* gdbus prints ('job_..._xxxxxx', objectpath '/org/...') */
  const char *p = strstr (out, "('");
  g_assert_nonnull (p);
  return g_strndup (p + 2, strcspn (p + 2, "'"));
}

static void
test_outsider (void)
{
  g_autofree char *root_job = orch_test_start (d, "{'command': <['sleep', '600']>}", "running", 10000);
  g_autofree char *job_path = g_strconcat (OBJ "/job/", root_job, NULL);
  g_autofree char *quoted = g_strdup_printf ("'%s'", root_job);
  g_autofree char *intro = NULL, *sys = NULL;
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) list = NULL;

  /* Open to everyone: introspection and metrics. */
  intro = assert_allowed (OBJ, "org.freedesktop.DBus.Introspectable.Introspect", NULL, NULL);
  g_assert_nonnull (strstr (intro, "org.orchestrator.Jobs"));
  sys = assert_allowed (OBJ, "org.orchestrator.Metrics.GetSystem", NULL, NULL);
  g_assert_nonnull (strstr (sys, "cpu_percent"));

  /* Reading jobs and logs: root and the group only (read=group). */
  assert_denied (OBJ, "org.orchestrator.Jobs.List", "{}", NULL);
  assert_denied (OBJ, "org.orchestrator.Jobs.Get", quoted, NULL);
  assert_denied (OBJ, "org.orchestrator.Logs.Read", quoted, "{}");
  assert_denied (OBJ, "org.orchestrator.Logs.Open", quoted, "'all'");
  assert_denied (job_path, "org.freedesktop.DBus.Properties.Get", "'org.orchestrator.Job'", "'Command'");
  assert_denied (OBJ, "org.freedesktop.DBus.ObjectManager.GetManagedObjects", NULL, NULL);

  /* Changing anything: refused, and nothing changed. */
  assert_denied (OBJ, "org.orchestrator.Jobs.Create", "{'command': <['true']>}", NULL);
  assert_denied (OBJ, "org.orchestrator.Jobs.Stop", quoted, "{}");
  assert_denied (OBJ, "org.orchestrator.Jobs.Restart", quoted, NULL);
  assert_denied (OBJ, "org.orchestrator.Jobs.Remove", quoted, NULL);
  assert_denied (job_path, "org.orchestrator.Job.Stop", "{}", NULL);
  assert_denied (OBJ, "org.orchestrator.Logs.Delete", quoted, NULL);
  assert_denied (OBJ, "org.orchestrator.Logs.Cleanup", "{}", NULL);
  /* Groups: reading as jobs, changing as managing jobs. */
  assert_denied (OBJ, "org.orchestrator.Groups.List", NULL, NULL);
  assert_denied (OBJ, "org.orchestrator.Groups.Get", "'group_20260101_000000_000000'", NULL);
  assert_denied (OBJ, "org.orchestrator.Groups.Create", "{'template': <{'command': <['true']>}>}",
                 NULL);
  assert_denied (OBJ, "org.orchestrator.Groups.Scale", "'group_20260101_000000_000000'", "3");
  assert_denied (OBJ, "org.orchestrator.Groups.Remove", "'group_20260101_000000_000000'", "{}");
  rec = orch_test_wait_state (d, root_job, "running", 1000);
  list = orch_test_call (d, "List", g_variant_new_parsed ("(@a{sv} {},)"), NULL);
  g_assert_cmpuint (g_variant_n_children (g_variant_get_child_value (list, 0)), ==, 1);

  orch_test_discard (d, root_job);
}

/* read=everyone opens reading, not managing. */
static void
test_read_everyone (void)
{
  g_autofree char *root_job = NULL;
  g_autofree char *quoted = NULL;

  restart_daemon ("everyone");
  root_job = orch_test_start (d, "{'command': <['sleep', '600']>}", "running", 10000);
  quoted = g_strdup_printf ("'%s'", root_job);
  {
    g_autofree char *listed = assert_allowed (OBJ, "org.orchestrator.Jobs.List", "{}", NULL);
    g_autofree char *got = assert_allowed (OBJ, "org.orchestrator.Jobs.Get", quoted, NULL);
    g_autofree char *text = assert_allowed (OBJ, "org.orchestrator.Logs.Read", quoted, "{}");
    g_assert_nonnull (strstr (listed, root_job));
    g_assert_nonnull (strstr (got, "sleep"));
  }
  assert_denied (OBJ, "org.orchestrator.Jobs.Create", "{'command': <['true']>}", NULL);
  assert_denied (OBJ, "org.orchestrator.Jobs.Stop", quoted, "{}");
  orch_test_discard (d, root_job);
  restart_daemon ("group");
}

static void
test_group_member (void)
{
  g_autofree char *root_job = orch_test_start (d, "{'command': <['sleep', '600']>}", "running", 10000);
  g_autofree char *quoted_root = g_strdup_printf ("'%s'", root_job);
  g_autofree char *out = NULL, *own = NULL, *named = NULL, *stopped = NULL;
  g_autofree char *as_self = g_strdup_printf ("{'command': <['sleep', '600']>, 'user': <'%s'>}", user_name);
  g_autofree char *id = NULL, *id2 = NULL;
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(GVariant) rec2 = NULL;
  guint32 pid = 0;

  g_assert_true (run_tool ((const char *const[]){ "gpasswd", "-a", user_name, group_name, NULL }, NULL));

  /* It may manage jobs now; its own run as itself, with its groups. */
  out = assert_allowed (OBJ, "org.orchestrator.Jobs.Create", "{'command': <['sleep', '600']>}", NULL);
  id = id_of_create_output (out);
  rec = orch_test_wait_state (d, id, "running", 10000);
  g_assert_true (g_variant_lookup (rec, "pid", "u", &pid));
  assert_runs_as (pid, user_uid, user_gid);
  {
    g_autofree char *path = g_strdup_printf ("/proc/%u/status", pid);
    g_autofree char *text = NULL;
    g_autofree char *gid = g_strdup_printf ("%u", (unsigned) getgrnam (group_name)->gr_gid);
    const char *groups;
    g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
    groups = strstr (text, "Groups:");
    g_assert_nonnull (groups);
    g_assert_nonnull (strstr (groups, gid));
  }

  /* Naming itself is fine; naming root (by name or uid) is not. */
  named = assert_allowed (OBJ, "org.orchestrator.Jobs.Create", as_self, NULL);
  id2 = id_of_create_output (named);
  assert_denied (OBJ, "org.orchestrator.Jobs.Create", "{'command': <['true']>, 'user': <'root'>}", NULL);
  assert_denied (OBJ, "org.orchestrator.Jobs.Create", "{'command': <['true']>, 'user': <'0'>}", NULL);
  /* A key given twice cannot smuggle root past the check. */
  {
    gboolean ok;
    g_autofree char *dup = g_strdup_printf ("{'command': <['true']>, 'user': <'%s'>, 'user': <'root'>}", user_name);
    g_autofree char *res = call_as_user (OBJ, "org.orchestrator.Jobs.Create", dup, NULL, &ok);
    g_assert_false (ok);
  }

  /* Reads, and managing the jobs of others. */
  own = assert_allowed (OBJ, "org.orchestrator.Jobs.List", "{}", NULL);
  g_assert_nonnull (strstr (own, id));
  stopped = assert_allowed (OBJ, "org.orchestrator.Jobs.Stop", quoted_root, "{}");
  g_assert_nonnull (strstr (stopped, "stopped"));
  rec2 = orch_test_wait_state (d, root_job, "stopped", 5000);

  orch_test_discard (d, id);
  orch_test_discard (d, id2);
  orch_test_discard (d, root_job);
}

static gboolean
have_program (const char *name)
{
  g_autofree char *path = g_find_program_in_path (name);

  return path != NULL;
}

/* ---- a stand-in for polkit on the test bus ----
 * It runs in a thread of its own (its own main context), so it answers
 * while the test waits for gdbus. */
static struct {
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  gint answer;            /* 1 yes, 0 no */
  GMutex lock;
  char *last_action;
  guint32 last_flags;
  char *last_subject_kind;
  guint calls;
} polkit;

static void
polkit_method (GDBusConnection *conn, const char *sender, const char *path, const char *iface,
               const char *method, GVariant *params, GDBusMethodInvocation *inv, gpointer data)
{
  const char *kind, *action;
  guint32 flags;

  g_variant_get (params, "((&s@a{sv})&s@a{ss}u&s)", &kind, NULL, &action, NULL, &flags, NULL);
  g_mutex_lock (&polkit.lock);
  g_free (polkit.last_action);
  polkit.last_action = g_strdup (action);
  g_free (polkit.last_subject_kind);
  polkit.last_subject_kind = g_strdup (kind);
  polkit.last_flags = flags;
  polkit.calls++;
  g_mutex_unlock (&polkit.lock);
  g_dbus_method_invocation_return_value (
      inv, g_variant_new ("((bb@a{ss}))", g_atomic_int_get (&polkit.answer) == 1, FALSE,
                          g_variant_new_array (G_VARIANT_TYPE ("{ss}"), NULL, 0)));
}

static const char polkit_xml[] =
  "<node><interface name='org.freedesktop.PolicyKit1.Authority'>"
  "<method name='CheckAuthorization'>"
  "<arg type='(sa{sv})' direction='in'/><arg type='s' direction='in'/>"
  "<arg type='a{ss}' direction='in'/><arg type='u' direction='in'/>"
  "<arg type='s' direction='in'/><arg type='(bba{ss})' direction='out'/>"
  "</method></interface></node>";

static gpointer
polkit_thread (gpointer ready)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (polkit_xml, &error);
  g_autoptr(GDBusConnection) conn = NULL;
  const GDBusInterfaceVTable vtable = { polkit_method, NULL, NULL, { 0 } };
  guint reg;
  g_autoptr(GVariant) owned = NULL;

  g_main_context_push_thread_default (polkit.context);
  conn = g_dbus_connection_new_for_address_sync (d->bus_address,
                                                 G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                     G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                 NULL, NULL, &error);
  g_assert_no_error (error);
  reg = g_dbus_connection_register_object (conn, "/org/freedesktop/PolicyKit1/Authority",
                                           info->interfaces[0], &vtable, NULL, NULL, &error);
  g_assert_no_error (error);
  owned = g_dbus_connection_call_sync (conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "RequestName",
                                       g_variant_new ("(su)", "org.freedesktop.PolicyKit1", 4u),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  g_atomic_int_set ((gint *) ready, 1);
  g_main_loop_run (polkit.loop);
  g_dbus_connection_unregister_object (conn, reg);
  g_dbus_connection_close_sync (conn, NULL, NULL);
  g_main_context_pop_thread_default (polkit.context);
  return NULL;
}

static void
polkit_start (void)
{
  gint ready = 0;

  polkit.context = g_main_context_new ();
  polkit.loop = g_main_loop_new (polkit.context, FALSE);
  polkit.thread = g_thread_new ("polkit", polkit_thread, &ready);
  while (!g_atomic_int_get (&ready))
    g_usleep (1000);
}

static gboolean
quit_loop (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static void
polkit_stop (void)
{
  g_main_context_invoke (polkit.context, quit_loop, polkit.loop);
  g_thread_join (polkit.thread);
  g_main_loop_unref (polkit.loop);
  g_main_context_unref (polkit.context);
  g_clear_pointer (&polkit.last_action, g_free);
  g_clear_pointer (&polkit.last_subject_kind, g_free);
}

/* Callers outside the group: the daemon asks polkit, asynchronously,
 * with the caller's bus name as subject, and does what it says. */
static void
test_polkit (void)
{
  g_autofree char *out = NULL, *id = NULL, *listed = NULL, *as_root = NULL, *root_id = NULL;
  g_autofree char *quoted = NULL;
  g_autoptr(GVariant) rec = NULL;
  guint32 pid = 0;

  polkit_start ();

  g_atomic_int_set (&polkit.answer, 1);
  out = assert_allowed (OBJ, "org.orchestrator.Jobs.Create", "{'command': <['sleep', '600']>}", NULL);
  g_assert_cmpstr (polkit.last_action, ==, "org.orchestrator.manage-jobs");
  g_assert_cmpstr (polkit.last_subject_kind, ==, "system-bus-name");
  g_assert_cmpuint (polkit.last_flags, ==, 0);
  id = id_of_create_output (out);
  quoted = g_strdup_printf ("'%s'", id);
  rec = orch_test_wait_state (d, id, "running", 10000);
  g_assert_true (g_variant_lookup (rec, "pid", "u", &pid));
  assert_runs_as (pid, user_uid, user_gid);
  listed = assert_allowed (OBJ, "org.orchestrator.Jobs.List", "{}", NULL);
  g_assert_cmpstr (polkit.last_action, ==, "org.orchestrator.read");
  g_assert_nonnull (strstr (listed, id));

  /* The caller's allow-interactive-authorization flag reaches polkit. */
  interactive = TRUE;
  {
    g_autofree char *again = assert_allowed (OBJ, "org.orchestrator.Jobs.Get", quoted, NULL);
  }
  interactive = FALSE;
  g_assert_cmpuint (polkit.last_flags, ==, 1);

  /* polkit's yes to manage-jobs also lets it name another user. */
  as_root = assert_allowed (OBJ, "org.orchestrator.Jobs.Create", "{'command': <['sleep', '600']>, 'user': <'root'>}", NULL);
  root_id = id_of_create_output (as_root);
  {
    g_autoptr(GVariant) r = orch_test_wait_state (d, root_id, "running", 10000);
    guint32 rpid = 0;
    g_assert_true (g_variant_lookup (r, "pid", "u", &rpid));
    assert_runs_as (rpid, 0, 0);
  }

  /* And its no is PermissionDenied. */
  g_atomic_int_set (&polkit.answer, 0);
  assert_denied (OBJ, "org.orchestrator.Jobs.Create", "{'command': <['true']>}", NULL);
  assert_denied (OBJ, "org.orchestrator.Jobs.Stop", quoted, "{}");
  g_variant_unref (orch_test_wait_state (d, id, "running", 1000));

  polkit_stop ();
  orch_test_discard (d, id);
  orch_test_discard (d, root_id);
}

static const OrchTestCase tests[] = { { "/auth/outsider", test_outsider },
                                      { "/auth/read-everyone", test_read_everyone },
                                      { "/auth/polkit", test_polkit },
                                      { "/auth/group-member", test_group_member },
                                      { NULL, NULL } };

/* The user and the group, made before the daemon starts. */
static char *
make_identities (void)
{
  struct passwd *pw;

  if (geteuid () != 0 || !have_program ("useradd") || !have_program ("setpriv") ||
      !have_program ("gdbus") || !have_program ("dbus-daemon"))
    return g_strdup ("needs root, useradd, setpriv, gdbus and dbus-daemon");

  atexit (remove_identities);
  signal (SIGTERM, on_fatal_signal);
  signal (SIGINT, on_fatal_signal);
  signal (SIGABRT, on_fatal_signal);
  signal (SIGTRAP, on_fatal_signal); /* g_error() */
  g_assert_true (run_tool ((const char *const[]){ "groupadd", group_name, NULL }, NULL));
  made_group = TRUE;
  g_assert_true (run_tool ((const char *const[]){ "useradd", "--no-create-home", "--shell", "/usr/sbin/nologin",
                                                  "--user-group", user_name, NULL }, NULL));
  made_user = TRUE;
  pw = getpwnam (user_name);
  g_assert_nonnull (pw);
  user_uid = pw->pw_uid;
  user_gid = pw->pw_gid;
  return NULL;
}

int
main (int argc, char **argv)
{
  /* Names of our own: other runs on this machine use theirs. */
  g_autofree char *user = g_strdup_printf ("orch-t-%d", (int) getpid ());
  g_autofree char *group = g_strdup_printf ("orch-tg-%d", (int) getpid ());
  g_autofree char *config = g_strdup_printf ("[auth]\ngroup=%s\n", group);
  const OrchTestProgram program = {
    .daemon = &d,
    .config = config,
    .open_bus = TRUE,
    .prepare = make_identities,
    .tests = tests,
  };
  int ret;

  user_name = user;
  group_name = group;
  ret = orch_test_main (argc, argv, &program);
  /* After the daemon: the user's jobs are gone with it. */
  remove_identities ();
  return ret;
}
