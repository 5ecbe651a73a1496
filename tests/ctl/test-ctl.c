/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* orchestratorctl, the built binary, against a real orchestratord on a
 * private bus (backend from the first argument): every subcommand, its
 * JSON, its exit codes, logs -f, top in a pseudo-terminal, Spanish. */
#include "orch-test-daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static OrchTestDaemon *d;

typedef struct {
  int status;   /* exit status, or -1 if killed */
  char *out;
  char *err;
} Result;

static void
result_free (Result *r)
{
  g_free (r->out);
  g_free (r->err);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Result, result_free)

static const char *
ctl_path (void)
{
  const char *p = g_getenv ("ORCHESTRATORCTL");

  g_assert_nonnull (p);
  return p;
}

static GPtrArray *
ctl_argv (const char *const *args)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup (ctl_path ()));
  g_ptr_array_add (argv, g_strdup_printf ("--bus-address=%s", g_test_dbus_get_bus_address (d->dbus)));
  for (const char *const *a = args; *a; a++)
    g_ptr_array_add (argv, g_strdup (*a));
  g_ptr_array_add (argv, NULL);
  return argv;
}

/* Runs the CLI with @args (NULL-terminated) and, in @env, "NAME=VALUE"
 * pairs set for it; waits for it. */
static Result *
ctl_env (const char *const *env, const char *const *args)
{
  g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = ctl_argv (args);
  g_autoptr(GSubprocess) p = NULL;
  g_autoptr(GError) error = NULL;
  Result *r = g_new0 (Result, 1);

  g_subprocess_launcher_unsetenv (l, "LANGUAGE");
  g_subprocess_launcher_unsetenv (l, "NO_COLOR");
  for (const char *const *e = env; e && *e; e++)
    {
      g_auto(GStrv) kv = g_strsplit (*e, "=", 2);
      g_subprocess_launcher_setenv (l, kv[0], kv[1], TRUE);
    }
  p = g_subprocess_launcher_spawnv (l, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (p, NULL, NULL, &r->out, &r->err, &error));
  g_assert_no_error (error);
  r->status = g_subprocess_get_if_exited (p) ? g_subprocess_get_exit_status (p) : -1;
  return r;
}

#define CTL(...) ctl_env (NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define CTL_ENV(env, ...) ctl_env (env, (const char *const[]){ __VA_ARGS__, NULL })

/* Exit 0 and a clean stderr, else the test fails showing both. */
static void
assert_ok (Result *r)
{
  if (r->status != 0)
    g_error ("orchestratorctl exited %d: %s%s", r->status, r->out, r->err);
}

/* Exit @code and one line on stderr that names the tool. */
static void
assert_fails (Result *r, int code)
{
  const char *nl = strchr (r->err, '\n');

  if (r->status != code)
    g_error ("expected exit %d, got %d: %s%s", code, r->status, r->out, r->err);
  g_assert_true (g_str_has_prefix (r->err, "orchestratorctl: "));
  g_assert_true (nl != NULL && nl[1] == '\0');
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) p = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (p, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (p));
}

static char *
ctl_run_job (const char *const *args)
{
  g_autoptr(Result) r = ctl_env (NULL, args);
  char *id;

  assert_ok (r);
  id = g_strstrip (g_strdup (r->out));
  g_assert_true (g_str_has_prefix (id, "job_"));
  return id;
}

#define RUN_JOB(...) ctl_run_job ((const char *const[]){ "run", __VA_ARGS__, NULL })

static const char *
rec_str (GVariant *rec, const char *key)
{
  const char *v = "";

  g_variant_lookup (rec, key, "&s", &v);
  return v;
}

static void
test_help (void)
{
  g_autoptr(Result) help = CTL ("--help");
  g_autoptr(Result) run_help = CTL ("run", "--help");
  g_autoptr(Result) none = CTL ("--system");
  g_autoptr(Result) unknown = CTL ("frobnicate");
  g_autoptr(Result) version = CTL ("--version");

  assert_ok (help);
  g_assert_nonnull (strstr (help->out, "Commands:"));
  for (const char *const *c = (const char *const[]){ "run", "list", "status", "stop", "restart", "rm", "logs",
                                                      "top", "metrics", "cleanup", NULL };
       *c; c++)
    g_assert_nonnull (strstr (help->out, *c));
  assert_ok (run_help);
  g_assert_nonnull (strstr (run_help->out, "--memory-max"));
  g_assert_nonnull (strstr (run_help->out, "--env"));
  assert_fails (none, 2);
  assert_fails (unknown, 2);
  g_assert_nonnull (strstr (unknown->err, "frobnicate"));
  assert_ok (version);
  g_assert_true (g_str_has_prefix (version->out, "orchestratorctl "));
}

static void
test_run_list_logs (void)
{
  g_autofree char *cwd = g_build_filename (d->scratch, "work", NULL);
  g_autofree char *cwd_opt = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *id = NULL;
  g_autoptr(GVariant) rec = NULL;
  g_autoptr(JsonNode) list = NULL;
  g_autoptr(Result) table = NULL, json = NULL, quiet = NULL, exited = NULL, logs = NULL, by_name = NULL;
  gboolean found = FALSE;

  g_assert_cmpint (g_mkdir_with_parents (cwd, 0755), ==, 0);
  cwd_opt = g_strdup_printf ("--cwd=%s", cwd);
  id = RUN_JOB ("--name", "web", "--env", "GREETING=hola", "--env", "EMPTY=", cwd_opt, "--",
                "sh", "-c", "echo \"$GREETING from $(pwd) [$EMPTY]\"; exec sleep 600");
  rec = orch_test_wait_state (d, id, "running", 10000);
  g_assert_cmpstr (rec_str (rec, "name"), ==, "web");

  table = CTL ("list");
  assert_ok (table);
  g_assert_nonnull (strstr (table->out, "ID"));
  g_assert_nonnull (strstr (table->out, "MEMORY"));
  g_assert_nonnull (strstr (table->out, id));
  g_assert_nonnull (strstr (table->out, "web"));
  g_assert_nonnull (strstr (table->out, "running"));
  g_assert_null (strchr (table->out, '\033')); /* not a terminal: no colour */

  json = CTL ("list", "--json");
  assert_ok (json);
  list = parse_json (json->out);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (list));
  for (guint i = 0; i < json_array_get_length (json_node_get_array (list)); i++)
    {
      JsonObject *o = json_array_get_object_element (json_node_get_array (list), i);
      if (g_strcmp0 (json_object_get_string_member (o, "id"), id) != 0)
        continue;
      found = TRUE;
      g_assert_cmpstr (json_object_get_string_member (o, "state"), ==, "running");
      g_assert_cmpstr (json_object_get_string_member (o, "name"), ==, "web");
      g_assert_cmpint (json_object_get_int_member (o, "pid"), >, 1);
      g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (o, "command"), 0), ==, "sh");
    }
  g_assert_true (found);

  quiet = CTL ("list", "-q", "--state", "running");
  assert_ok (quiet);
  g_assert_nonnull (strstr (quiet->out, id));
  exited = CTL ("list", "-q", "--state", "exited");
  assert_ok (exited);
  g_assert_null (strstr (exited->out, id));
  by_name = CTL ("list", "-q", "--name", "web");
  assert_ok (by_name);
  g_assert_nonnull (strstr (by_name->out, id));

  for (int i = 0; i < 200; i++)
    {
      g_clear_pointer (&logs, result_free);
      logs = CTL ("logs", id);
      assert_ok (logs);
      if (*logs->out)
        break;
      g_usleep (20000);
    }
  expected = g_strdup_printf ("hola from %s []\n", cwd);
  g_assert_cmpstr (logs->out, ==, expected);
  orch_test_discard (d, id);
}

static void
test_status (void)
{
  g_autofree char *id = RUN_JOB ("--name", "nap", "--", "sh", "-c", "for i in $(seq 1 15); do echo line$i; done; exec sleep 600");
  g_autoptr(Result) text = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *o = NULL;

  g_variant_unref (orch_test_wait_state (d, id, "running", 10000));
  /* Figures come with the first sample after the start. */
  for (int i = 0; i < 100; i++)
    {
      g_autoptr(Result) json = CTL ("status", id, "--json");
      assert_ok (json);
      g_clear_pointer (&root, json_node_unref);
      root = parse_json (json->out);
      o = json_node_get_object (root);
      if (json_object_has_member (o, "metrics") && strstr (json_object_get_string_member (o, "log"), "line15"))
        break;
      g_usleep (50000);
    }
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "job"), "id"), ==, id);
  g_assert_true (json_object_has_member (o, "metrics"));
  g_assert_true (json_object_has_member (json_object_get_object_member (o, "metrics"), "memory_bytes"));
  g_assert_true (json_object_has_member (o, "history"));
  /* The last ten lines, as systemctl status shows them. */
  g_assert_null (strstr (json_object_get_string_member (o, "log"), "line5\n"));
  g_assert_nonnull (strstr (json_object_get_string_member (o, "log"), "line6\n"));

  text = CTL ("status", id);
  assert_ok (text);
  g_assert_nonnull (strstr (text->out, id));
  g_assert_nonnull (strstr (text->out, "(nap)"));
  g_assert_nonnull (strstr (text->out, "State: running since"));
  g_assert_nonnull (strstr (text->out, "Memory:"));
  g_assert_nonnull (strstr (text->out, "line15\n"));
  g_assert_null (strstr (text->out, "line5\n"));
  orch_test_discard (d, id);
}

static void
test_stop_restart_rm (void)
{
  g_autofree char *id = RUN_JOB ("--", "sleep", "600");
  g_autoptr(Result) rm_running = NULL, stop = NULL, restart = NULL, stop2 = NULL, rm = NULL, rm_again = NULL,
                    status = NULL;
  g_autoptr(JsonNode) stopped = NULL;
  g_autoptr(GVariant) rec = NULL;
  g_autofree char *expected = NULL;

  g_variant_unref (orch_test_wait_state (d, id, "running", 10000));
  rm_running = CTL ("rm", id);
  assert_fails (rm_running, 1);

  stop = CTL ("stop", id, "--signal", "KILL", "--timeout", "2s", "--json");
  assert_ok (stop);
  stopped = parse_json (stop->out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (stopped), "state"), ==, "stopped");
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (stopped), "signal"), ==, SIGKILL);

  restart = CTL ("restart", id);
  assert_ok (restart);
  g_assert_nonnull (strstr (restart->out, "running"));
  rec = orch_test_wait_state (d, id, "running", 10000);
  g_assert_true (g_variant_lookup (rec, "restarts", "u", NULL));
  {
    guint32 restarts = 0;
    g_variant_lookup (rec, "restarts", "u", &restarts);
    g_assert_cmpuint (restarts, ==, 1);
  }

  stop2 = CTL ("stop", id);
  assert_ok (stop2);
  expected = g_strdup_printf ("%s: stopped\n", id);
  g_assert_cmpstr (stop2->out, ==, expected);
  rm = CTL ("rm", id);
  assert_ok (rm);
  g_assert_null (orch_test_get (d, id));
  rm_again = CTL ("rm", id);
  assert_fails (rm_again, 4);
  status = CTL ("status", id);
  assert_fails (status, 4);
}

static void
test_rm_force (void)
{
  g_autofree char *id = RUN_JOB ("--", "sleep", "600");
  g_autoptr(Result) rm = NULL;

  g_variant_unref (orch_test_wait_state (d, id, "running", 10000));
  rm = CTL ("rm", "--force", id);
  assert_ok (rm);
  g_assert_null (orch_test_get (d, id));
}

static void
test_bad_input (void)
{
  const char *unknown = "job_20260101_000000_abcdef";
  g_autoptr(Result) status = CTL ("status", unknown);
  g_autoptr(Result) logs = CTL ("logs", unknown);
  g_autoptr(Result) stop = CTL ("stop", unknown);
  g_autoptr(Result) metrics = CTL ("metrics", "job", unknown);
  g_autoptr(Result) size = CTL ("run", "--memory-max", "12Q", "--", "true");
  g_autoptr(Result) quota = CTL ("run", "--cpu-quota", "-1", "--", "true");
  g_autoptr(Result) env = CTL ("run", "--env", "NOEQUALS", "--", "true");
  g_autoptr(Result) no_dashes = CTL ("run", "sleep", "1");
  g_autoptr(Result) no_command = CTL ("run", "--");
  g_autoptr(Result) policy = CTL ("run", "--restart", "sometimes", "--", "true");
  g_autoptr(Result) signal = CTL ("stop", "--signal", "FOO", unknown);
  g_autoptr(Result) age = CTL ("cleanup", "--older-than", "7x");
  g_autoptr(Result) no_age = CTL ("cleanup");
  g_autoptr(Result) what = CTL ("metrics", "bogus");
  g_autoptr(Result) extra = CTL ("list", "extra");
  g_autoptr(Result) missing = CTL ("status");
  g_autoptr(Result) option = CTL ("list", "--bogus");
  g_autoptr(Result) lines = CTL ("logs", "-n", "0", unknown);
  g_autoptr(Result) jobs_before = CTL ("list", "-q");
  g_autoptr(Result) bus = NULL;

  assert_fails (status, 4);
  g_assert_nonnull (strstr (status->err, unknown));
  g_assert_nonnull (strstr (status->err, "orchestratorctl list"));
  assert_fails (logs, 4);
  assert_fails (stop, 4);
  assert_fails (metrics, 4);
  assert_fails (size, 2);
  g_assert_nonnull (strstr (size->err, "--memory-max"));
  g_assert_nonnull (strstr (size->err, "12Q"));
  assert_fails (quota, 2);
  assert_fails (env, 2);
  assert_fails (no_dashes, 2);
  g_assert_nonnull (strstr (no_dashes->err, "--"));
  assert_fails (no_command, 2);
  assert_fails (policy, 2); /* the daemon's InvalidArgument */
  assert_fails (signal, 2);
  assert_fails (age, 2);
  assert_fails (no_age, 2);
  assert_fails (what, 2);
  assert_fails (extra, 2);
  assert_fails (missing, 2);
  assert_fails (option, 2);
  assert_fails (lines, 2);
  /* Nothing was created by any of it. */
  assert_ok (jobs_before);
  g_assert_cmpstr (jobs_before->out, ==, "");

  {
    g_autofree char *path = g_build_filename (d->scratch, "no-bus", NULL);
    g_autofree char *addr = g_strdup_printf ("--bus-address=unix:path=%s", path);
    bus = ctl_env (NULL, (const char *const[]){ "list", addr, NULL });
    /* ctl_env put the real address first; the last one wins. */
    assert_fails (bus, 1);
    g_assert_nonnull (strstr (bus->err, "--bus-address"));
  }
}

static void
test_limits (void)
{
  g_autoptr(Result) r = CTL ("run", "--memory-max", "64M", "--cpu-quota", "50%", "--tasks-max", "32",
                             "--", "sleep", "600");
  g_autofree char *id = NULL;
  g_autoptr(GVariant) rec = NULL;

  if (r->status != 0)
    {
      /* Only where the controllers are missing, and then it says so. */
      assert_fails (r, 2);
      g_assert_true (strstr (r->err, "controller") || strstr (r->err, "backend"));
      g_test_message ("limits refused here: %s", r->err);
      return;
    }
  id = g_strstrip (g_strdup (r->out));
  rec = orch_test_wait_state (d, id, "running", 10000);
  orch_test_check_limits (d, rec);
  orch_test_discard (d, id);
}

static void
test_logs (void)
{
  g_autofree char *id = RUN_JOB ("--separate-stderr", "--", "sh", "-c",
                                 "for i in 1 2 3 4 5; do echo out$i; done; echo oops >&2");
  g_autofree char *merged = RUN_JOB ("--", "sh", "-c", "echo one");
  g_autoptr(Result) tail = NULL, all = NULL, err = NULL, json = NULL, bad_stream = NULL;
  g_autoptr(JsonNode) node = NULL;

  g_variant_unref (orch_test_wait_state (d, id, "exited", 10000));
  g_variant_unref (orch_test_wait_state (d, merged, "exited", 10000));
  tail = CTL ("logs", id, "-n", "2");
  assert_ok (tail);
  g_assert_cmpstr (tail->out, ==, "out4\nout5\n");
  all = CTL ("logs", id);
  assert_ok (all);
  g_assert_cmpstr (all->out, ==, "out1\nout2\nout3\nout4\nout5\n");
  err = CTL ("logs", id, "--stderr");
  assert_ok (err);
  g_assert_cmpstr (err->out, ==, "oops\n");
  json = CTL ("logs", id, "--json", "-n", "1");
  assert_ok (json);
  node = parse_json (json->out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (node), "text"), ==, "out5\n");
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (node), "next_offset"), ==, 25);
  /* A merged log has no stderr of its own: the daemon says so. */
  bad_stream = CTL ("logs", merged, "--stderr");
  assert_fails (bad_stream, 2);
  orch_test_discard (d, id);
  orch_test_discard (d, merged);
}

static void
test_logs_follow (void)
{
  g_autofree char *flag = g_build_filename (d->scratch, "go-on", NULL);
  g_autofree char *script = g_strdup_printf ("echo early; while [ ! -e '%s' ]; do sleep 0.05; done; echo late; "
                                             "sleep 0.3; echo last", flag);
  g_autofree char *id = RUN_JOB ("--", "sh", "-c", script);
  g_autoptr(GPtrArray) argv = ctl_argv ((const char *const[]){ "logs", "-f", id, NULL });
  g_autoptr(GSubprocess) p = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *l1 = NULL, *l2 = NULL, *l3 = NULL, *rest = NULL;

  g_variant_unref (orch_test_wait_state (d, id, "running", 10000));
  p = g_subprocess_newv ((const char *const *) argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p));
  l1 = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_cmpstr (l1, ==, "early");
  /* Written only now, after logs -f printed what was there. */
  g_assert_true (g_file_set_contents (flag, "", 0, NULL));
  l2 = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_cmpstr (l2, ==, "late");
  l3 = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_cmpstr (l3, ==, "last");
  /* The job ends; so does logs -f, by itself. */
  rest = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_null (rest);
  g_assert_true (g_subprocess_wait (p, NULL, &error));
  g_assert_true (g_subprocess_get_if_exited (p));
  g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 0);
  orch_test_discard (d, id);
}

static void
test_logs_follow_interrupted (void)
{
  g_autofree char *id = RUN_JOB ("--", "sh", "-c", "echo up; exec sleep 600");
  g_autoptr(GPtrArray) argv = ctl_argv ((const char *const[]){ "logs", "--follow", id, NULL });
  g_autoptr(GSubprocess) p = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;

  g_variant_unref (orch_test_wait_state (d, id, "running", 10000));
  p = g_subprocess_newv ((const char *const *) argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_cmpstr (line, ==, "up");
  /* ^C ends it cleanly. */
  g_subprocess_send_signal (p, SIGINT);
  g_assert_true (g_subprocess_wait (p, NULL, &error));
  g_assert_true (g_subprocess_get_if_exited (p));
  g_assert_cmpint (g_subprocess_get_exit_status (p), ==, 0);
  orch_test_discard (d, id);
}

static void
test_metrics (void)
{
  g_autofree char *id = RUN_JOB ("--", "sleep", "600");
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());
  g_autoptr(Result) sys = CTL ("metrics", "--json");
  g_autoptr(Result) sys_text = CTL ("metrics", "system");
  g_autoptr(Result) detailed = CTL ("metrics", "detailed", "--json");
  g_autoptr(Result) proc = CTL ("metrics", "pid", pid, "--json");
  g_autoptr(Result) bad_pid = CTL ("metrics", "pid", "abc");
  g_autoptr(Result) job = NULL;
  g_autoptr(JsonNode) n_sys = NULL, n_det = NULL, n_proc = NULL, n_job = NULL;

  assert_ok (sys);
  n_sys = parse_json (sys->out);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (n_sys), "memory_total"), >, 0);
  g_assert_true (json_object_has_member (json_node_get_object (n_sys), "cpu_percent"));
  assert_ok (sys_text);
  g_assert_nonnull (strstr (sys_text->out, "memory_total"));
  g_assert_nonnull (strstr (sys_text->out, "%")); /* human units */
  assert_ok (detailed);
  n_det = parse_json (detailed->out);
  g_assert_true (json_object_has_member (json_node_get_object (n_det), "cpus"));
  assert_ok (proc);
  n_proc = parse_json (proc->out);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (n_proc), "pid"), ==, getpid ());
  assert_fails (bad_pid, 2);

  g_variant_unref (orch_test_wait_state (d, id, "running", 10000));
  for (int i = 0; i < 100; i++)
    {
      g_clear_pointer (&job, result_free);
      job = CTL ("metrics", "job", id, "--json");
      if (job->status == 0)
        break;
      g_usleep (50000);
    }
  assert_ok (job);
  n_job = parse_json (job->out);
  g_assert_true (json_object_has_member (json_node_get_object (n_job), "memory_bytes"));
  orch_test_discard (d, id);
}

static void
test_cleanup (void)
{
  g_autofree char *id = RUN_JOB ("--", "sh", "-c", "echo bye");
  g_autoptr(GVariant) rec = orch_test_wait_state (d, id, "exited", 10000);
  g_autofree char *log = g_strdup (rec_str (rec, "log_path"));
  g_autoptr(Result) week = NULL, now = NULL, status = NULL;
  g_autoptr(JsonNode) n = NULL;

  g_assert_true (g_file_test (log, G_FILE_TEST_EXISTS));
  week = CTL ("cleanup", "--older-than", "7d");
  assert_ok (week);
  g_assert_true (g_file_test (log, G_FILE_TEST_EXISTS));
  now = CTL ("cleanup", "--older-than", "0s", "--json");
  assert_ok (now);
  n = parse_json (now->out);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (n), "removed"), >=, 1);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (n), "bytes_freed"), >=, 4);
  g_assert_false (g_file_test (log, G_FILE_TEST_EXISTS));
  /* status still shows the job, without its log and without complaint. */
  status = CTL ("status", id);
  assert_ok (status);
  g_assert_cmpstr (status->err, ==, "");
  g_assert_nonnull (strstr (status->out, "exit code 0"));
  orch_test_discard (d, id);
}

static void
test_daemon_gone (void)
{
  g_autoptr(Result) list = NULL, status = NULL;

  orch_test_daemon_kill (d, SIGTERM);
  list = CTL ("list");
  assert_fails (list, 1);
  g_assert_nonnull (strstr (list->err, "orchestratord is not running"));
  g_assert_nonnull (strstr (list->err, "systemctl start orchestratord"));
  orch_test_daemon_spawn (d);
  status = CTL ("list", "-q");
  assert_ok (status);
}

/* ---- a pseudo-terminal ---- */

typedef struct {
  int master, slave;
  pid_t pid;
  GString *out;
} Pty;

/* Starts the CLI on a new pseudo-terminal of 30×120. */
static void
pty_spawn (Pty *t, const char *const *env, const char *const *args)
{
  struct winsize ws = { .ws_row = 30, .ws_col = 120 };
  g_autoptr(GPtrArray) argv = ctl_argv (args);
  /* Built before fork: the child of a threaded process must not allocate. */
  g_auto(GStrv) envp = g_environ_setenv (g_get_environ (), "TERM", "xterm", TRUE);

  envp = g_environ_unsetenv (envp, "NO_COLOR");
  for (const char *const *e = env; e && *e; e++)
    {
      g_auto(GStrv) kv = g_strsplit (*e, "=", 2);
      envp = g_environ_setenv (envp, kv[0], kv[1], TRUE);
    }
  g_assert_cmpint (openpty (&t->master, &t->slave, NULL, NULL, &ws), ==, 0);
  g_assert_cmpint (fcntl (t->master, F_SETFL, O_NONBLOCK), ==, 0);
  t->out = g_string_new (NULL);
  t->pid = fork ();
  g_assert_cmpint (t->pid, >=, 0);
  if (t->pid == 0)
    {
      setsid ();
      ioctl (t->slave, TIOCSCTTY, 0);
      dup2 (t->slave, 0);
      dup2 (t->slave, 1);
      dup2 (t->slave, 2);
      close (t->master);
      close (t->slave);
      execve (argv->pdata[0], (char **) argv->pdata, envp);
      _exit (127);
    }
}

/* Reads what the terminal shows until @until is in it (or the child ends,
 * with @until NULL); FALSE on timeout. */
static gboolean
pty_read_until (Pty *t, const char *until, int count, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * 1000;

  for (;;)
    {
      struct pollfd pfd = { .fd = t->master, .events = POLLIN };
      char buf[4096];
      int n_seen = 0;

      if (until)
        for (const char *p = t->out->str; (p = strstr (p, until)); p += strlen (until))
          n_seen++;
      if (until && n_seen >= count)
        return TRUE;
      if (g_get_monotonic_time () > end)
        {
          g_test_message ("the terminal showed: %s", t->out->str);
          return FALSE;
        }
      if (poll (&pfd, 1, 50) > 0)
        {
          ssize_t n = read (t->master, buf, sizeof buf);
          if (n > 0)
            g_string_append_len (t->out, buf, n);
        }
      else if (until == NULL)
        {
          /* Ended? Look without reaping: pty_wait wants its status. */
          siginfo_t si = { 0 };
          if (waitid (P_PID, (id_t) t->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == t->pid)
            return TRUE;
        }
    }
}

/* Waits for the child; its exit status, or -1. */
static int
pty_wait (Pty *t)
{
  int status = 0;

  for (int i = 0; i < 200; i++)
    {
      char buf[4096];
      ssize_t n;
      pid_t r = waitpid (t->pid, &status, WNOHANG);
      /* Drain, or the child may block writing its last bytes. */
      while ((n = read (t->master, buf, sizeof buf)) > 0)
        g_string_append_len (t->out, buf, n);
      if (r == t->pid)
        {
          t->pid = 0;
          return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
        }
      g_usleep (25000);
    }
  kill (t->pid, SIGKILL);
  waitpid (t->pid, NULL, 0);
  t->pid = 0;
  return -1;
}

static void
pty_close (Pty *t)
{
  if (t->pid > 0)
    {
      kill (t->pid, SIGKILL);
      waitpid (t->pid, NULL, 0);
    }
  close (t->master);
  close (t->slave);
  g_string_free (t->out, TRUE);
}

static guint32
pid_of (const char *id)
{
  g_autoptr(GVariant) rec = orch_test_get (d, id);
  guint32 pid = 0;

  g_assert_nonnull (rec);
  g_assert_true (g_variant_lookup (rec, "pid", "u", &pid));
  return pid;
}

static void
test_top (void)
{
  g_autofree char *id = RUN_JOB ("--name", "topjob", "--", "sleep", "600");
  Pty t = { 0 };
  struct termios before, during, after;

  g_variant_unref (orch_test_wait_state (d, id, "running", 10000));
  pty_spawn (&t, NULL, (const char *const[]){ "top", "--delay", "0.2s", NULL });
  g_assert_cmpint (tcgetattr (t.slave, &before), ==, 0);
  g_assert_true (before.c_lflag & ICANON);
  g_assert_true (before.c_lflag & ECHO);
  /* Two refreshes: the screen is cleared and drawn twice. */
  g_assert_true (pty_read_until (&t, "\033[H\033[2J", 3, 10000));
  g_assert_true (pty_read_until (&t, id, 1, 5000));
  /* The job's row: id, name, state (coloured), its pid. */
  {
    const char *row = strstr (t.out->str, id);
    g_autofree char *line = g_strndup (row, strcspn (row, "\r\n"));
    g_autofree char *pid = g_strdup_printf (" %u ", pid_of (id));
    g_assert_nonnull (strstr (line, " topjob "));
    g_assert_nonnull (strstr (line, "running"));
    g_assert_nonnull (strstr (line, pid));
  }
  g_assert_nonnull (strstr (t.out->str, "CPU:"));
  g_assert_nonnull (strstr (t.out->str, "\033[?1049h")); /* the alternate screen */
  /* While it runs, keys are read one by one, not echoed. */
  g_assert_cmpint (tcgetattr (t.slave, &during), ==, 0);
  g_assert_false (during.c_lflag & ICANON);
  g_assert_false (during.c_lflag & ECHO);

  g_assert_cmpint (write (t.master, "q", 1), ==, 1);
  g_assert_cmpint (pty_wait (&t), ==, 0);
  /* The terminal is as it was: cursor shown, main screen, cooked mode. */
  g_assert_nonnull (strstr (t.out->str, "\033[?25h\033[?1049l"));
  g_assert_cmpint (tcgetattr (t.slave, &after), ==, 0);
  g_assert_cmpuint (after.c_lflag, ==, before.c_lflag);
  pty_close (&t);
  orch_test_discard (d, id);
}

static void
test_colour (void)
{
  g_autofree char *id = RUN_JOB ("--", "sleep", "600");
  Pty coloured = { 0 }, plain = { 0 };
  static char no_color[] = "NO_COLOR=1";

  g_variant_unref (orch_test_wait_state (d, id, "running", 10000));
  pty_spawn (&coloured, NULL, (const char *const[]){ "list", NULL });
  g_assert_true (pty_read_until (&coloured, NULL, 0, 10000));
  g_assert_cmpint (pty_wait (&coloured), ==, 0);
  g_assert_nonnull (strstr (coloured.out->str, "\033[32mrunning\033[0m"));

  pty_spawn (&plain, (const char *const[]){ no_color, NULL }, (const char *const[]){ "list", NULL });
  g_assert_true (pty_read_until (&plain, NULL, 0, 10000));
  g_assert_cmpint (pty_wait (&plain), ==, 0);
  g_assert_nonnull (strstr (plain.out->str, id));
  g_assert_null (strchr (plain.out->str, '\033'));
  pty_close (&coloured);
  pty_close (&plain);
  orch_test_discard (d, id);
}

static void
test_spanish (void)
{
  const char *localedir = g_getenv ("ORCH_LOCALEDIR");
  g_autofree char *dir_env = NULL;
  g_autoptr(Result) help = NULL, error = NULL, list = NULL;

  if (localedir == NULL)
    {
      g_test_skip ("ORCH_LOCALEDIR is not set");
      return;
    }
  dir_env = g_strdup_printf ("ORCH_LOCALEDIR=%s", localedir);
  /* LANGUAGE picks the catalog; glibc honours it under C.UTF-8. */
  help = CTL_ENV (((const char *const[]){ "LANGUAGE=es", "LC_ALL=C.UTF-8", dir_env, NULL }), "--help");
  assert_ok (help);
  g_assert_nonnull (strstr (help->out, "Órdenes:"));
  g_assert_nonnull (strstr (help->out, "Inicia un trabajo e imprime su id"));
  g_assert_null (strstr (help->out, "Commands:"));

  error = CTL_ENV (((const char *const[]){ "LANGUAGE=es", "LC_ALL=C.UTF-8", dir_env, NULL }),
                   "run", "--memory-max", "12Q", "--", "true");
  assert_fails (error, 2);
  g_assert_cmpstr (error->err, ==, "orchestratorctl: --memory-max: “12Q” no es válido (por ejemplo: 512M, 1.5G)\n");

  list = CTL_ENV (((const char *const[]){ "LANGUAGE=es", "LC_ALL=C.UTF-8", dir_env, NULL }), "list");
  assert_ok (list);
  g_assert_nonnull (strstr (list->out, "ESTADO"));
}

/* set-limits: SetLimits' answer, or its refusal with the daemon's words
 * (the none backend has no cgroup controllers). */
static void
test_set_limits (void)
{
  g_autofree char *id = RUN_JOB ("--", "sleep", "600");
  g_autoptr(Result) none = NULL, bad = NULL, set = NULL;
  g_autoptr(GVariant) rec = orch_test_wait_state (d, id, "running", 10000);

  none = CTL ("set-limits", id);
  assert_fails (none, 2);
  bad = CTL ("set-limits", id, "--memory-max", "lots");
  assert_fails (bad, 2);
  g_assert_nonnull (strstr (bad->err, "--memory-max"));
  set = CTL ("set-limits", id, "--memory-max", "64M", "--cpu-quota", "20%");
  if (set->status == 0)
    g_assert_nonnull (strstr (set->out, "memory_max=64"));
  else
    {
      g_autoptr(GVariant) after = orch_test_get (d, id);
      g_autoptr(GVariant) limit = g_variant_lookup_value (after, "memory_max", NULL);
      assert_fails (set, 1);
      /* memory, or cpu where a hybrid host's v1 memory stands in. */
      g_assert_true (strstr (set->err, "memory") || strstr (set->err, "cpu"));
      g_assert_null (limit);
    }
  orch_test_discard (d, id);
}

/* events: the list, and -f printing one as it happens. */
static void
test_events (void)
{
  g_autoptr(GPtrArray) argv = ctl_argv ((const char *const[]){ "events", "-f", NULL });
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) follow = NULL;
  g_autofree char *id = NULL, *out = NULL, *err = NULL, *line = NULL;
  g_autoptr(Result) list = NULL, json = NULL, bad = NULL;
  g_autoptr(GVariant) rec = NULL;

  follow = g_subprocess_newv ((const char *const *) argv->pdata,
                              G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                              &error);
  g_assert_no_error (error);
  g_usleep (500000); /* subscribed */
  id = RUN_JOB ("--", "sh", "-c", "exit 4");
  rec = orch_test_wait_state (d, id, "failed", 10000);

  list = CTL ("events", id);
  assert_ok (list);
  line = g_strdup_printf ("%s  exited", id);
  g_assert_nonnull (strstr (list->out, line));
  g_assert_nonnull (strstr (list->out, "exit_code=4"));
  json = CTL ("events", "--json", "-n", "1", id);
  assert_ok (json);
  g_assert_nonnull (strstr (json->out, "\"kind\" : \"exited\""));
  bad = CTL ("events", id, id);
  assert_fails (bad, 2);

  g_usleep (500000);
  g_subprocess_send_signal (follow, SIGTERM);
  g_assert_true (g_subprocess_communicate_utf8 (follow, NULL, NULL, &out, &err, &error));
  g_assert_true (g_subprocess_get_if_exited (follow) && g_subprocess_get_exit_status (follow) == 0);
  g_assert_nonnull (strstr (out, line));
  orch_test_discard (d, id);
}

/* list --limit/--after: pages that join up to the whole list, in its
 * order; an --after the list does not have is "not found" (4). */
static void
test_list_pages (void)
{
  g_autofree char *a = RUN_JOB ("--name", "page", "--", "sleep", "600");
  g_autofree char *b = RUN_JOB ("--name", "page", "--", "sleep", "600");
  g_autofree char *c = RUN_JOB ("--name", "page", "--", "sleep", "600");
  g_autoptr(Result) all = NULL, first = NULL, rest = NULL, unknown = NULL, negative = NULL;
  g_auto(GStrv) ids = NULL, page1 = NULL;
  g_autofree char *after = NULL, *joined = NULL;

  all = CTL ("list", "-q", "--name", "page");
  assert_ok (all);
  ids = g_strsplit (g_strstrip (all->out), "\n", -1);
  g_assert_cmpuint (g_strv_length (ids), ==, 3);
  first = CTL ("list", "-q", "--name", "page", "--limit", "2");
  assert_ok (first);
  page1 = g_strsplit (g_strstrip (first->out), "\n", -1);
  g_assert_cmpuint (g_strv_length (page1), ==, 2);
  g_assert_cmpstr (page1[0], ==, ids[0]);
  g_assert_cmpstr (page1[1], ==, ids[1]);
  after = g_strdup (page1[1]);
  rest = CTL ("list", "-q", "--name", "page", "--limit", "2", "--after", after);
  assert_ok (rest);
  g_assert_cmpstr (g_strstrip (rest->out), ==, ids[2]);
  unknown = CTL ("list", "--after", "job_20991231_235959_ffffff");
  assert_fails (unknown, 4);
  g_assert_nonnull (strstr (unknown->err, "job_20991231_235959_ffffff"));
  negative = CTL ("list", "--limit", "-1");
  assert_fails (negative, 2);
  g_assert_nonnull (strstr (negative->err, "--limit"));
  joined = g_strjoin (" ", a, b, c, NULL);
  g_test_message ("paged over %s", joined);
  orch_test_discard (d, a);
  orch_test_discard (d, b);
  orch_test_discard (d, c);
}

/* group create / list / show, scale, group rm, as a user types them. */
static void
test_groups (void)
{
  g_autoptr(Result) created = CTL ("group", "create", "--name", "pool", "--replicas", "2", "--",
                                   "sleep", "600");
  g_autofree char *id = NULL;
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  assert_ok (created);
  id = g_strstrip (g_strdup (created->out));
  g_assert_true (g_str_has_prefix (id, "group_"));
  for (;;)
    {
      g_autoptr(Result) shown = CTL ("group", "show", id);
      g_autoptr(JsonNode) rec = NULL;
      assert_ok (shown);
      rec = parse_json (shown->out);
      if (json_object_get_int_member (json_node_get_object (rec), "running") == 2)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_usleep (100 * 1000);
    }
  {
    g_autoptr(Result) scaled = CTL ("scale", id, "1");
    g_autoptr(Result) listed = NULL;
    assert_ok (scaled);
    listed = CTL ("group", "list");
    assert_ok (listed);
    g_assert_nonnull (strstr (listed->out, id));
    g_assert_nonnull (strstr (listed->out, "manual"));
  }
  {
    g_autoptr(Result) not_number = CTL ("scale", id, "many");
    g_autoptr(Result) no_group = CTL ("scale", "group_20990101_000000_000000", "1");
    g_autoptr(Result) no_dashes = CTL ("group", "create", "sleep", "1");
    assert_fails (not_number, 2);
    assert_fails (no_group, 4);
    assert_fails (no_dashes, 2);
  }
  {
    g_autoptr(Result) removed = CTL ("group", "rm", id);
    g_autoptr(Result) gone = NULL;
    assert_ok (removed);
    gone = CTL ("group", "show", id);
    assert_fails (gone, 4);
  }
}

static const OrchTestCase tests[] = { { "/ctl/help", test_help },
                                      { "/ctl/bad-input", test_bad_input },
                                      { "/ctl/run-list-logs", test_run_list_logs },
                                      { "/ctl/status", test_status },
                                      { "/ctl/stop-restart-rm", test_stop_restart_rm },
                                      { "/ctl/rm-force", test_rm_force },
                                      { "/ctl/limits", test_limits },
                                      { "/ctl/logs", test_logs },
                                      { "/ctl/logs-follow", test_logs_follow },
                                      { "/ctl/logs-follow-interrupted",
                                        test_logs_follow_interrupted },
                                      { "/ctl/metrics", test_metrics },
                                      { "/ctl/top", test_top },
                                      { "/ctl/colour", test_colour },
                                      { "/ctl/spanish", test_spanish },
                                      { "/ctl/cleanup", test_cleanup },
                                      { "/ctl/daemon-gone", test_daemon_gone },
                                      { "/ctl/set-limits", test_set_limits },
                                      { "/ctl/events", test_events },
                                      { "/ctl/groups", test_groups },
                                      { "/ctl/list-pages", test_list_pages },
                                      { NULL, NULL } };

int
main (int argc, char **argv)
{
  const OrchTestProgram program = {
    .daemon = &d,
    .config = "[jobs]\nstop_timeout_ms=5000\n",
    .tests = tests,
  };

  return orch_test_main (argc, argv, &program);
}
