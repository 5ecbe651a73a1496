/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-test-daemon.h"

#include "basic/orch-cgroup.h"
#include "basic/orch-proc.h"

#include <dirent.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

static gboolean
rm_rf (const char *path)
{
  g_autoptr(GFile) f = g_file_new_for_path (path);
  g_autoptr(GFileEnumerator) en = g_file_enumerate_children (f, G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                                             G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                                             NULL, NULL);
  GFileInfo *info;

  while (en && (info = g_file_enumerator_next_file (en, NULL, NULL)))
    {
      g_autoptr(GFileInfo) i = info;
      g_autofree char *child = g_build_filename (path, g_file_info_get_name (i), NULL);
      if (g_file_info_get_file_type (i) == G_FILE_TYPE_DIRECTORY)
        rm_rf (child);
      else
        g_unlink (child);
    }
  return g_rmdir (path) == 0;
}

/* Ends every process whose stdout is a log file under @log_dir: the
 * none backend's jobs have no cgroup to find them by. */
static void
kill_log_writers (const char *log_dir)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;

  while (proc && (name = g_dir_read_name (proc)))
    {
      g_autofree char *link = g_strdup_printf ("/proc/%s/fd/1", name);
      g_autofree char *target = g_file_read_link (link, NULL);
      if (target && g_str_has_prefix (target, log_dir) && target[strlen (log_dir)] == '/')
        kill ((pid_t) g_ascii_strtoll (name, NULL, 10), SIGKILL);
    }
}

static void
kill_cgroups (const char *root)
{
  g_autoptr(GDir) dir = g_dir_open (root, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *sub = g_build_filename (root, name, NULL);
      if (g_file_test (sub, G_FILE_TEST_IS_DIR))
        {
          orch_cgroup_kill (sub, SIGKILL);
          for (int i = 0; i < 200 && orch_cgroup_is_empty (sub) == 0; i++)
            g_usleep (5000);
          g_rmdir (sub);
        }
    }
  g_rmdir (root);
}

/* Jobs outlive the daemon by design, so a test that aborts halfway would
 * leave its jobs running.  A watcher process, forked before anything else
 * runs, cleans up when told (a byte on its pipe) or when the test process
 * dies however it dies (PR_SET_PDEATHSIG): it ends the jobs and removes
 * the cgroup and the scratch directory.  Not pipe EOF alone: GTestDBus
 * forks a helper of its own that would keep the pipe open. */
static void
wake (int sig)
{
}

static void
start_watcher (OrchTestDaemon *d)
{
  int p[2];
  pid_t parent = getpid ();
  pid_t pid;

  g_assert_cmpint (pipe2 (p, O_CLOEXEC), ==, 0);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      struct sigaction sa = { .sa_handler = wake }; /* no SA_RESTART: read() returns */
      char c;
      close (p[1]);
      setsid (); /* out of the test's process group and its signals */
      sigaction (SIGTERM, &sa, NULL);
      prctl (PR_SET_PDEATHSIG, SIGTERM);
      if (getppid () == parent)
        while (read (p[0], &c, 1) < 0 && errno == EINTR && getppid () == parent)
          ;
      kill_log_writers (d->log_dir);
      if (d->cgroup_root)
        {
          g_autofree char *own = NULL;
          kill_cgroups (d->cgroup_root);
          /* A hybrid host's v1 memory groups of the jobs (now empty). */
          if (orch_cgroup_v1_own_dir ("memory", &own) == 0)
            {
              g_autofree char *name = g_path_get_basename (d->cgroup_root);
              g_autofree char *v1 = g_build_filename (own, name, NULL);
              kill_cgroups (v1);
            }
        }
      rm_rf (d->scratch);
      _exit (0);
    }
  close (p[0]);
  d->watcher_fd = p[1];
  d->watcher_pid = pid;
}

/* The test is the subreaper of what a killed daemon leaves (monitors and
 * their jobs would otherwise go to PID 1, which may not reap them): at the
 * end, with the daemon, bus and watcher gone, it reaps those zombies,
 * waiting a little for monitors still winding down.  Other children (GLib's
 * helpers) are not its business. */
static void
reap_orphans (void)
{
  for (int round = 0; round < 200; round++)
    {
      g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
      const char *name;
      gboolean waiting = FALSE;

      while (proc && (name = g_dir_read_name (proc)))
        {
          OrchProcStat st;
          char *end;
          long p = strtol (name, &end, 10);
          if (*end || p <= 0 || orch_proc_read_stat (NULL, (pid_t) p, &st) < 0 || st.ppid != getpid ())
            continue;
          if (st.state == 'Z')
            waitpid ((pid_t) p, NULL, WNOHANG);
          else if (g_str_has_prefix (st.comm, "orchestrator-m"))
            waiting = TRUE;
        }
      if (!waiting)
        return;
      g_usleep (10000);
    }
}

static char *
find_daemon (void)
{
  const char *env = g_getenv ("ORCHESTRATORD");

  if (env)
    return g_strdup (env);
  return g_test_build_filename (G_TEST_BUILT, "..", "..", "src", "orchestratord", NULL);
}

static void
die_with_parent (gpointer unused)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

GSubprocessLauncher *
orch_test_launcher_new (GSubprocessFlags flags)
{
  GSubprocessLauncher *l = g_subprocess_launcher_new (flags);

  g_subprocess_launcher_set_child_setup (l, die_with_parent, NULL, NULL);
  return l;
}

/* A dbus-daemon of our own: GTestDBus's lets only its own user in. */
static void
start_open_bus (OrchTestDaemon *d)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *conf = g_build_filename (d->scratch, "bus.conf", NULL);
  g_autofree char *conf_arg = g_strdup_printf ("--config-file=%s", conf);
  g_autofree char *text = g_strdup_printf (
      "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
      " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
      "<busconfig>\n"
      "  <listen>unix:abstract=orch-test-%d-%08x</listen>\n"
      "  <auth>EXTERNAL</auth>\n"
      "  <policy context=\"default\">\n"
      "    <allow user=\"*\"/>\n"
      "    <allow own=\"*\"/>\n"
      "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
      "    <allow eavesdrop=\"true\"/>\n"
      "  </policy>\n"
      "</busconfig>\n",
      (int) getpid (), g_random_int ());
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;

  g_assert_true (g_file_set_contents (conf, text, -1, &error));
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  /* The bus goes when the test goes, however it goes. */
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  d->open_bus = g_subprocess_launcher_spawn (launcher, &error, "dbus-daemon", conf_arg,
                                             "--nofork", "--print-address=1", NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (d->open_bus));
  d->bus_address = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (d->bus_address);
}

static OrchTestDaemon *
daemon_new (const char *backend, const char *extra_config, gboolean open_bus, char **skip_reason);

OrchTestDaemon *
orch_test_daemon_new (const char *backend, const char *extra_config, char **skip_reason)
{
  return daemon_new (backend, extra_config, FALSE, skip_reason);
}

OrchTestDaemon *
orch_test_daemon_new_open (const char *backend, const char *extra_config, char **skip_reason)
{
  return daemon_new (backend, extra_config, TRUE, skip_reason);
}

static OrchTestDaemon *
daemon_new (const char *backend, const char *extra_config, gboolean open_bus, char **skip_reason)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *config = NULL;
  OrchTestDaemon *d = g_new0 (OrchTestDaemon, 1);

  d->backend = g_strdup (backend);
  d->scratch = g_dir_make_tmp ("orch-bus-test-XXXXXX", &error);
  g_assert_no_error (error);
  d->log_dir = g_build_filename (d->scratch, "log", NULL);
  d->config_path = g_build_filename (d->scratch, "orchestrator.conf", NULL);

  if (g_strcmp0 (backend, "cgroupfs") == 0)
    {
      const char *mount;
      g_autofree char *name = g_strdup_printf ("orch-test-%d", (int) getpid ());

      if (geteuid () != 0 || orch_cgroup_v2_mount (&mount) < 0 || access (mount, W_OK) < 0)
        {
          *skip_reason = g_strdup ("cgroupfs backend: needs root and a writable cgroup2 hierarchy");
          orch_test_daemon_free (d);
          return NULL;
        }
      d->cgroup_mount = g_strdup (mount);
      d->cgroup_root = g_build_filename (mount, name, NULL);
    }

  prctl (PR_SET_CHILD_SUBREAPER, 1);
  start_watcher (d);
  config = g_strdup_printf ("[daemon]\nbackend=%s\nlog_dir=%s\nstate_dir=%s/state\n%s%s%s\n%s",
                            backend, d->log_dir, d->scratch,
                            d->cgroup_root ? "cgroup_root=" : "",
                            d->cgroup_root ? d->cgroup_root : "",
                            d->cgroup_root ? "\n" : "",
                            extra_config ? extra_config : "");
  g_assert_true (g_file_set_contents (d->config_path, config, -1, &error));

  if (open_bus)
    start_open_bus (d);
  else
    {
      d->dbus = g_test_dbus_new (G_TEST_DBUS_NONE);
      g_test_dbus_up (d->dbus);
      d->bus_address = g_strdup (g_test_dbus_get_bus_address (d->dbus));
    }

  d->conn = g_dbus_connection_new_for_address_sync (d->bus_address,
                                                    G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                        G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                    NULL, NULL, &error);
  g_assert_no_error (error);
  orch_test_daemon_spawn (d);
  return d;
}

static gboolean
name_has_owner (OrchTestDaemon *d)
{
  g_autoptr(GVariant) r = g_dbus_connection_call_sync (
      d->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "NameHasOwner", g_variant_new ("(s)", "org.orchestrator"), G_VARIANT_TYPE ("(b)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  gboolean has = FALSE;

  if (r)
    g_variant_get (r, "(b)", &has);
  return has;
}

void
orch_test_daemon_spawn (OrchTestDaemon *d)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autofree char *daemon_path = find_daemon ();
  g_autofree char *address_arg = g_strdup_printf ("--bus-address=%s", d->bus_address);

  g_assert_null (d->daemon);
  g_subprocess_launcher_setenv (launcher, "G_DEBUG", "fatal-criticals", TRUE);
  d->daemon = g_subprocess_launcher_spawn (launcher, &error, daemon_path, address_arg,
                                           "--config", d->config_path, NULL);
  g_assert_no_error (error);

  /* Wait for the name: the daemon owns it only once it serves. */
  for (int i = 0; i < 1000; i++)
    {
      if (name_has_owner (d))
        return;
      g_assert_nonnull (g_subprocess_get_identifier (d->daemon));
      g_usleep (10000);
    }
  g_error ("orchestratord did not take its bus name within 10 s");
}

void
orch_test_daemon_kill (OrchTestDaemon *d, int sig)
{
  g_subprocess_send_signal (d->daemon, sig);
  g_subprocess_wait (d->daemon, NULL, NULL);
  g_clear_object (&d->daemon);
  /* The bus notices the dead connection a moment later; until then the
   * name still looks owned, and a new daemon would look ready at once. */
  for (int i = 0; i < 1000 && name_has_owner (d); i++)
    g_usleep (5000);
  g_assert_false (name_has_owner (d));
}

void
orch_test_daemon_free (OrchTestDaemon *d)
{
  if (d == NULL)
    return;
  if (d->daemon)
    {
      g_subprocess_send_signal (d->daemon, SIGTERM);
      g_subprocess_wait (d->daemon, NULL, NULL);
      /* The daemon itself must never die of anything but our SIGTERM. */
      g_assert_true (g_subprocess_get_if_exited (d->daemon));
      g_assert_cmpint (g_subprocess_get_exit_status (d->daemon), ==, 0);
      g_object_unref (d->daemon);
    }
  if (d->conn)
    {
      g_dbus_connection_close_sync (d->conn, NULL, NULL);
      g_object_unref (d->conn);
    }
  if (d->dbus)
    {
      g_test_dbus_down (d->dbus);
      g_object_unref (d->dbus);
    }
  if (d->open_bus)
    {
      g_subprocess_send_signal (d->open_bus, SIGTERM);
      g_subprocess_wait (d->open_bus, NULL, NULL);
      g_object_unref (d->open_bus);
    }
  /* Jobs outlive the daemon by design; the tests stop theirs, and the
   * watcher ends anything left and removes what the run made. */
  if (d->watcher_pid > 0)
    {
      g_assert_cmpint (write (d->watcher_fd, "x", 1), ==, 1);
      close (d->watcher_fd);
      g_assert_cmpint (waitpid (d->watcher_pid, NULL, 0), ==, d->watcher_pid);
    }
  reap_orphans ();
  g_free (d->backend);
  g_free (d->scratch);
  g_free (d->log_dir);
  g_free (d->config_path);
  g_free (d->cgroup_mount);
  g_free (d->cgroup_root);
  g_free (d->bus_address);
  g_free (d);
}

GVariant *
orch_test_call (OrchTestDaemon *d, const char *method, GVariant *args, GError **error)
{
  return g_dbus_connection_call_sync (d->conn, "org.orchestrator", "/org/orchestrator",
                                      "org.orchestrator.Jobs", method, args, NULL,
                                      G_DBUS_CALL_FLAGS_NONE, 30000, NULL, error);
}

GVariant *
orch_test_get (OrchTestDaemon *d, const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = orch_test_call (d, "Get", g_variant_new ("(s)", id), &error);
  g_autofree char *remote = NULL;

  if (r == NULL)
    {
      remote = g_dbus_error_get_remote_error (error);
      g_assert_cmpstr (remote, ==, "org.orchestrator.Error.NotFound");
      return NULL;
    }
  return g_variant_get_child_value (r, 0);
}

GVariant *
orch_test_wait_state (OrchTestDaemon *d, const char *id, const char *states, guint timeout_ms)
{
  g_auto(GStrv) want = g_strsplit (states, "|", -1);
  gint64 until = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  const char *state = NULL;

  for (;;)
    {
      g_autoptr(GVariant) rec = orch_test_get (d, id);
      g_assert_nonnull (rec);
      g_assert_true (g_variant_lookup (rec, "state", "&s", &state));
      if (g_strv_contains ((const char *const *) want, state))
        return g_steal_pointer (&rec);
      if (g_get_monotonic_time () > until)
        g_error ("job %s: state %s, not %s after %u ms", id, state, states, timeout_ms);
      g_usleep (2000);
    }
}

char *
orch_test_create (OrchTestDaemon *d, const char *spec_text, GError **error)
{
  g_autoptr(GError) parse_error = NULL;
  GVariant *spec = g_variant_parse (G_VARIANT_TYPE_VARDICT, spec_text, NULL, NULL, &parse_error);
  g_autoptr(GVariant) r = NULL;
  char *id = NULL;

  g_assert_no_error (parse_error);
  r = orch_test_call (d, "Create", g_variant_new_tuple (&spec, 1), error);
  if (r == NULL)
    return NULL;
  g_variant_get (r, "(so)", &id, NULL);
  return id;
}

char *
orch_test_start (OrchTestDaemon *d, const char *spec_text, const char *states, guint timeout_ms)
{
  g_autoptr(GError) error = NULL;
  char *id = orch_test_create (d, spec_text, &error);
  g_autoptr(GVariant) rec = NULL;

  g_assert_no_error (error);
  rec = orch_test_wait_state (d, id, states, timeout_ms);
  return id;
}

void
orch_test_discard (OrchTestDaemon *d, const char *id)
{
  /* Stop fails with InvalidState for a finished job: fine here. */
  g_autoptr(GVariant) stopped = orch_test_call (d, "Stop", g_variant_new_parsed ("(%s, @a{sv} {})", id), NULL);
  g_autoptr(GVariant) removed = orch_test_call (d, "Remove", g_variant_new ("(s)", id), NULL);
}

GArray *
orch_test_job_pids (OrchTestDaemon *d, GVariant *record)
{
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (pid_t));
  const char *cgroup = NULL;
  guint32 pid = 0;

  g_assert_true (g_variant_lookup (record, "cgroup", "&s", &cgroup));
  g_assert_true (g_variant_lookup (record, "pid", "u", &pid));
  if (cgroup[0])
    {
      g_autofree char *dir = g_build_filename (d->cgroup_mount, cgroup, NULL);
      g_autoptr(GArray) found = NULL;
      g_assert_cmpint (orch_cgroup_pids (dir, &found), ==, 0);
      /* All but orchestrator-monitor, the parent of the job's process. */
      for (guint i = 0; i < found->len; i++)
        {
          pid_t p = g_array_index (found, pid_t, i);
          OrchProcStat st;
          if (orch_proc_read_stat (NULL, p, &st) == 0 && g_str_has_prefix (st.comm, "orchestrator-m"))
            continue;
          g_array_append_val (pids, p);
        }
    }
  else
    {
      /* none backend: the job's process group */
      g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
      const char *name;
      while ((name = g_dir_read_name (proc)))
        {
          OrchProcStat st;
          char *end;
          long p = strtol (name, &end, 10);
          if (*end || p <= 0)
            continue;
          if (orch_proc_read_stat (NULL, (pid_t) p, &st) == 0 && st.pgrp == (pid_t) pid &&
              st.state != 'Z')
            {
              pid_t v = (pid_t) p;
              g_array_append_val (pids, v);
            }
        }
    }
  return pids;
}

gboolean
orch_test_pid_alive (pid_t pid)
{
  OrchProcStat st;

  /* A zombie is dead: it only waits for its parent to reap it. */
  return orch_proc_read_stat (NULL, pid, &st) == 0 && st.state != 'Z' && st.state != 'X';
}

const char *
orch_test_rec_str (GVariant *rec, const char *key)
{
  const char *v = NULL;

  if (!g_variant_lookup (rec, key, "&s", &v))
    g_error ("record has no string “%s”", key);
  return v;
}

gint64
orch_test_rec_int (GVariant *rec, const char *key)
{
  g_autoptr(GVariant) v = g_variant_lookup_value (rec, key, NULL);

  if (v == NULL)
    g_error ("record has no “%s”", key);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT32))
    return g_variant_get_uint32 (v);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT32))
    return g_variant_get_int32 (v);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_UINT64))
    return (gint64) g_variant_get_uint64 (v);
  if (g_variant_is_of_type (v, G_VARIANT_TYPE_INT64))
    return g_variant_get_int64 (v);
  g_error ("“%s” is not a number", key);
  return 0;
}

char *
orch_test_log_text (OrchTestDaemon *d, const char *id)
{
  g_autofree char *name = g_strconcat (id, ".log", NULL);
  g_autofree char *path = g_build_filename (d->log_dir, name, NULL);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

void
orch_test_check_limits (OrchTestDaemon *d, GVariant *record)
{
  const char *cgroup = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *mem_path = NULL, *cpu_path = NULL, *pids_path = NULL;
  g_autofree char *mem = NULL, *cpu = NULL, *pids = NULL;

  if (g_strcmp0 (d->backend, "cgroupfs") != 0)
    return;
  g_assert_true (g_variant_lookup (record, "cgroup", "&s", &cgroup));
  dir = g_build_filename (d->cgroup_mount, cgroup, NULL);
  mem_path = g_build_filename (dir, "memory.max", NULL);
  cpu_path = g_build_filename (dir, "cpu.max", NULL);
  pids_path = g_build_filename (dir, "pids.max", NULL);
  g_assert_true (g_file_get_contents (mem_path, &mem, NULL, NULL));
  g_assert_cmpstr (mem, ==, "67108864\n");
  g_assert_true (g_file_get_contents (cpu_path, &cpu, NULL, NULL));
  g_assert_cmpstr (cpu, ==, "50000 100000\n");
  g_assert_true (g_file_get_contents (pids_path, &pids, NULL, NULL));
  g_assert_cmpstr (pids, ==, "32\n");
}

static gboolean
has_arg_prefix (const char *const *v, const char *prefix)
{
  for (; v && *v; v++)
    if (g_str_has_prefix (*v, prefix))
      return TRUE;
  return FALSE;
}

GSubprocess *
orch_test_shim_start (OrchTestDaemon *d, const char *const *extra, char **ret_base, GError **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *data = g_test_build_filename (G_TEST_DIST, "..", "..", "data", NULL);
  g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  GSubprocess *p;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;

  /* A test that dies must not leave its shim serving. */
  g_subprocess_launcher_set_child_setup (l, die_with_parent, NULL, NULL);
  g_ptr_array_add (argv, g_strdup (g_getenv ("ORCHESTRATOR_REST")));
  g_ptr_array_add (argv, g_strdup_printf ("--bus-address=%s", d->bus_address));
  g_ptr_array_add (argv, g_strdup_printf ("--data-dir=%s", data));
  g_ptr_array_add (argv, g_strdup_printf ("--config=%s", d->config_path));
  for (const char *const *e = extra; e && *e; e++)
    g_ptr_array_add (argv, g_strdup (*e));
  /* Tests run without a token unless they give one: the default token
   * file is the installed shim's, not theirs to create. */
  if (!has_arg_prefix (extra, "--token-file="))
    g_ptr_array_add (argv, g_strdup ("--no-auth"));
  g_ptr_array_add (argv, NULL);
  p = g_subprocess_launcher_spawnv (l, (const char *const *) argv->pdata, error);
  if (p == NULL)
    return NULL;
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p));
  line = g_data_input_stream_read_line (out, NULL, NULL, NULL);
  if (line == NULL || !g_str_has_prefix (line, "listening on "))
    {
      /* It refused to start: that is the answer some tests want. */
      g_subprocess_wait (p, NULL, NULL);
      if (ret_base)
        *ret_base = NULL;
      return p;
    }
  if (ret_base)
    {
      *ret_base = g_strdup (line + strlen ("listening on "));
      if (g_str_has_suffix (*ret_base, "/"))
        (*ret_base)[strlen (*ret_base) - 1] = '\0';
    }
  return p;
}

int
orch_test_main (int argc, char **argv, const OrchTestProgram *program)
{
  g_autofree char *skip = NULL;
  const char *backend;
  int ret;

  g_test_init (&argc, &argv, NULL);
  backend = argc > 1 ? argv[1] : "none";
  if (program->prepare)
    skip = program->prepare ();
  if (skip == NULL)
    *program->daemon = program->open_bus
                           ? orch_test_daemon_new_open (backend, program->config, &skip)
                           : orch_test_daemon_new (backend, program->config, &skip);
  if (skip)
    {
      g_print ("1..0 # SKIP %s\n", skip);
      return 77;
    }
  if (program->shim)
    {
      g_autoptr(GError) error = NULL;

      *program->shim = orch_test_shim_start (*program->daemon,
                                             (const char *const[]){ "--listen=127.0.0.1:0", NULL },
                                             program->shim_base, &error);
      g_assert_no_error (error);
      g_assert_nonnull (*program->shim_base);
    }
  if (program->setup)
    program->setup ();
  for (const OrchTestCase *t = program->tests; t->path; t++)
    g_test_add_func (t->path, t->func);

  ret = g_test_run ();

  if (program->teardown)
    program->teardown ();
  if (program->shim)
    {
      g_subprocess_send_signal (*program->shim, SIGTERM);
      g_subprocess_wait (*program->shim, NULL, NULL);
      /* A clean exit: under ASan a leak in the shim fails here. */
      g_assert_true (g_subprocess_get_if_exited (*program->shim));
      g_assert_cmpint (g_subprocess_get_exit_status (*program->shim), ==, 0);
      g_clear_object (program->shim);
      g_clear_pointer (program->shim_base, g_free);
    }
  g_clear_pointer (program->daemon, orch_test_daemon_free);
  return ret;
}

guint
orch_test_count_kind (GVariant *events, const char *kind)
{
  guint n = 0;

  for (gsize i = 0; i < g_variant_n_children (events); i++)
    {
      g_autoptr(GVariant) e = g_variant_get_child_value (events, i);
      const char *k = NULL;
      if (g_variant_lookup (e, "kind", "&s", &k) && strcmp (k, kind) == 0)
        n++;
    }
  return n;
}
