/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon in process, without a bus, on the none backend: real jobs
 * run, end, stop, are restarted by their policy and found again by a
 * fresh daemon on the same state directory. */
#include "daemon/orch-daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long a job may take to get where a test waits for it (a loaded
 * machine runs tests side by side). */
#define WAIT_S 20

typedef struct {
  char *dir;
  char *config_path;
  char *log_dir;
  OrchDaemon *daemon;
} Fixture;

/* ---- jobs never outlive the test ----
 * Jobs outlive the daemon by design, so a test that aborts halfway would
 * leave them running.  A watcher forked first waits for its pipe to close
 * (however this process ends), then ends every process whose stdout is a
 * log under the scratch directory and removes the directory. */

static char *scratch;
static int watcher_fd = -1;
static pid_t watcher_pid;

static void
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        rm_rf (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
kill_jobs_under (const char *dir)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  gsize len = strlen (dir);
  const char *name;

  while (proc && (name = g_dir_read_name (proc)))
    {
      g_autofree char *link = g_strdup_printf ("/proc/%s/fd/1", name);
      g_autofree char *target = g_file_read_link (link, NULL);
      if (target && strncmp (target, dir, len) == 0 && target[len] == '/')
        kill ((pid_t) g_ascii_strtoll (name, NULL, 10), SIGKILL);
    }
}

static void
start_watcher (void)
{
  int p[2];
  char c;

  g_assert_no_errno (pipe2 (p, O_CLOEXEC));
  watcher_pid = fork ();
  g_assert_cmpint (watcher_pid, >=, 0);
  if (watcher_pid == 0)
    {
      close (p[1]);
      while (read (p[0], &c, 1) < 0 && errno == EINTR)
        ;
      kill_jobs_under (scratch);
      rm_rf (scratch);
      _exit (0);
    }
  close (p[0]);
  watcher_fd = p[1];
}

static void
stop_watcher (void)
{
  int status;

  close (watcher_fd);
  while (waitpid (watcher_pid, &status, 0) < 0 && errno == EINTR)
    ;
}

/* ---- helpers ---- */

static gboolean
timed_out_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

typedef gboolean (*Predicate) (Fixture *f, gconstpointer data);

/* Runs the main loop until @pred holds; fails the test after WAIT_S. */
static void
run_until (Fixture *f, Predicate pred, gconstpointer data, const char *what)
{
  gboolean timed_out = FALSE;
  guint timer = g_timeout_add_seconds (WAIT_S, timed_out_cb, &timed_out);

  while (!pred (f, data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("waited %d s for %s", WAIT_S, what);
  g_source_remove (timer);
}

static OrchJob *
lookup (Fixture *f, const char *id)
{
  g_autoptr(GError) error = NULL;
  OrchJob *job = orch_manager_lookup (orch_daemon_get_manager (f->daemon), id, &error);

  g_assert_no_error (error);
  return job;
}

static gboolean
job_finished (Fixture *f, gconstpointer id)
{
  return !orch_job_state_is_active (lookup (f, id)->state);
}

static gboolean
job_running (Fixture *f, gconstpointer id)
{
  OrchJob *job = lookup (f, id);

  return job->state == ORCH_JOB_RUNNING && job->pid > 0;
}

static void
daemon_up (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  OrchDaemonOptions o = { .no_bus = TRUE, .config_path = f->config_path };

  f->daemon = orch_daemon_new (&o, &error);
  g_assert_no_error (error);
  g_assert_true (orch_daemon_start (f->daemon, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (orch_manager_backend_name (orch_daemon_get_manager (f->daemon)), ==, "none");
}

static char *
create (Fixture *f, const char *spec_text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) spec = g_variant_ref_sink (g_variant_new_parsed (spec_text));
  OrchJob *job = orch_manager_create (orch_daemon_get_manager (f->daemon), spec, &error);

  g_assert_no_error (error);
  g_assert_nonnull (job);
  return g_strdup (job->id);
}

static char *
log_text (OrchJob *job)
{
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_assert_true (g_file_get_contents (job->log_path, &text, NULL, &error));
  g_assert_no_error (error);
  return text;
}

/* The process is there, and is what the job runs. */
static void
assert_alive (pid_t pid, const char *comm)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/comm", (int) pid);
  g_autofree char *text = NULL;

  g_assert_cmpint (kill (pid, 0), ==, 0);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_strchomp (text);
  g_assert_cmpstr (text, ==, comm);
}

static void
assert_gone (pid_t pid)
{
  g_assert_cmpint (kill (pid, 0), ==, -1);
  g_assert_cmpint (errno, ==, ESRCH);
}

/* ---- fixture ---- */

static void
setup (Fixture *f, gconstpointer data)
{
  g_autofree char *state_dir = NULL;
  g_autofree char *conf = NULL;
  g_autoptr(GError) error = NULL;

  f->dir = g_build_filename (scratch, g_test_get_path (), NULL);
  g_strdelimit (f->dir + strlen (scratch) + 1, "/", '_');
  g_assert_no_errno (g_mkdir_with_parents (f->dir, 0700));
  f->log_dir = g_build_filename (f->dir, "log", NULL);
  state_dir = g_build_filename (f->dir, "state", NULL);
  f->config_path = g_build_filename (f->dir, "orchestrator.conf", NULL);
  conf = g_strdup_printf ("[daemon]\nbackend=none\nlog_dir=%s\nstate_dir=%s\n", f->log_dir,
                          state_dir);
  g_assert_true (g_file_set_contents (f->config_path, conf, -1, &error));
  g_assert_no_error (error);
  daemon_up (f);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->daemon, orch_daemon_free);
  kill_jobs_under (f->log_dir);
  g_free (f->config_path);
  g_free (f->log_dir);
  g_free (f->dir);
}

/* ---- tests ---- */

/* A command runs, ends with its code, and that is what a fresh daemon
 * reads back from the state directory. */
static void
test_exit_code (Fixture *f, gconstpointer data)
{
  g_autofree char *id = create (f, "{'command': <['/bin/sh', '-c', 'echo ran as $$; exit 7']>}");
  g_autofree char *text = NULL;
  g_autofree char *expected = NULL;
  OrchJob *job;

  run_until (f, job_finished, id, "the job to end");
  job = lookup (f, id);
  g_assert_cmpstr (orch_job_state_to_string (job->state), ==, "failed");
  g_assert_cmpint (job->exit_code, ==, 7);
  g_assert_cmpint (job->signal, ==, 0);
  g_assert_cmpint (job->pid, >, 0);
  g_assert_cmpint (job->started_at, >=, job->created_at);
  g_assert_cmpint (job->finished_at, >=, job->started_at);
  /* It really ran, as the pid the job reports. */
  text = log_text (job);
  expected = g_strdup_printf ("ran as %d\n", (int) job->pid);
  g_assert_cmpstr (text, ==, expected);

  g_clear_pointer (&f->daemon, orch_daemon_free);
  daemon_up (f);
  job = lookup (f, id);
  g_assert_cmpstr (orch_job_state_to_string (job->state), ==, "failed");
  g_assert_cmpint (job->exit_code, ==, 7);
  g_assert_cmpint (job->finished_at, >, 0);
}

typedef struct {
  gboolean done;
  OrchJobState state;
  GError *error;
} Done;

static void
done_cb (OrchJob *job, const GError *error, gpointer data)
{
  Done *d = data;

  d->done = TRUE;
  d->state = job ? job->state : ORCH_JOB_FAILED;
  d->error = error ? g_error_copy (error) : NULL;
}

static gboolean
is_done (Fixture *f, gconstpointer data)
{
  return ((const Done *) data)->done;
}

static void
stop (Fixture *f, const char *id, pid_t pid)
{
  Done d = { 0 };
  OrchJob *job;

  orch_manager_stop (orch_daemon_get_manager (f->daemon), id, 0, 0, done_cb, &d);
  run_until (f, is_done, &d, "the stop to complete");
  g_assert_no_error (d.error);
  g_assert_cmpstr (orch_job_state_to_string (d.state), ==, "stopped");
  job = lookup (f, id);
  g_assert_cmpstr (orch_job_state_to_string (job->state), ==, "stopped");
  g_assert_cmpint (job->signal, ==, SIGTERM);
  assert_gone (pid);
  g_assert_cmpuint (orch_manager_running_count (orch_daemon_get_manager (f->daemon)), ==, 0);
}

/* Stop ends a running command with SIGTERM, and the caller hears of it
 * once the process is gone. */
static void
test_stop (Fixture *f, gconstpointer data)
{
  g_autofree char *id = create (f, "{'command': <['sleep', '600']>}");
  pid_t pid;

  run_until (f, job_running, id, "the job to run");
  g_assert_cmpuint (orch_manager_running_count (orch_daemon_get_manager (f->daemon)), ==, 1);
  pid = lookup (f, id)->pid;
  assert_alive (pid, "sleep");
  stop (f, id, pid);
}

/* A job runs on without the daemon; a fresh daemon supervises it again
 * (same process) and can stop it. */
static void
test_adopt (Fixture *f, gconstpointer data)
{
  g_autofree char *id = create (f, "{'command': <['sleep', '600']>}");
  OrchJob *job;
  pid_t pid;

  run_until (f, job_running, id, "the job to run");
  pid = lookup (f, id)->pid;

  g_clear_pointer (&f->daemon, orch_daemon_free);
  assert_alive (pid, "sleep");
  daemon_up (f);
  job = lookup (f, id);
  g_assert_cmpstr (orch_job_state_to_string (job->state), ==, "running");
  g_assert_cmpint (job->pid, ==, pid);
  g_assert_cmpuint (orch_manager_running_count (orch_daemon_get_manager (f->daemon)), ==, 1);
  stop (f, id, pid);
}

static gboolean
restarts_done (Fixture *f, gconstpointer id)
{
  OrchJob *job = lookup (f, id);

  return job->restarts == 2 && !orch_job_state_is_active (job->state);
}

/* The policy starts a failing command again, each run from a clean slate,
 * until restart_max. */
static void
test_restart_policy (Fixture *f, gconstpointer data)
{
  g_autofree char *id = create (f, "{'command': <['/bin/sh', '-c', 'echo run; exit 3']>,"
                                   " 'restart': <'on-failure'>, 'restart_max': <uint32 2>,"
                                   " 'restart_delay_ms': <uint32 10>}");
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  OrchJob *job;

  run_until (f, restarts_done, id, "two restarts");
  /* No third run is on its way. */
  g_usleep (100 * 1000);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  job = lookup (f, id);
  g_assert_cmpuint (job->restarts, ==, 2);
  g_assert_cmpstr (orch_job_state_to_string (job->state), ==, "failed");
  g_assert_cmpint (job->exit_code, ==, 3);
  text = log_text (job);
  lines = g_strsplit (text, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 6); /* run, sep, run, sep, run, "" */
  g_assert_cmpstr (lines[0], ==, "run");
  g_assert_true (g_str_has_prefix (lines[1], "--- orchestrator: "));
  g_assert_true (g_str_has_suffix (lines[1], " restart 1 ---"));
  g_assert_cmpstr (lines[2], ==, "run");
  g_assert_true (g_str_has_suffix (lines[3], " restart 2 ---"));
  g_assert_cmpstr (lines[4], ==, "run");
}

static guint
job_count (Fixture *f)
{
  g_autoptr(GPtrArray) jobs = orch_manager_list (orch_daemon_get_manager (f->daemon), NULL, NULL,
                                                 NULL);
  return jobs->len;
}

static gboolean
count_is (Fixture *f, gconstpointer n)
{
  return job_count (f) == GPOINTER_TO_UINT (n);
}

typedef struct {
  Fixture *f;
  guint seen; /* jobs held when the timeout ran */
} Between;

static gboolean
between_cb (gpointer data)
{
  Between *b = data;

  b->seen = job_count (b->f);
  return G_SOURCE_REMOVE;
}

static char *
log_file (Fixture *f, const char *id, const char *suffix)
{
  g_autofree char *name = g_strconcat (id, suffix, NULL);
  return g_build_filename (f->log_dir, name, NULL);
}

static gboolean
file_gone (Fixture *f, gconstpointer path)
{
  return !g_file_test (path, G_FILE_TEST_EXISTS);
}

static char *
exit_file (Fixture *f, const char *id, const char *suffix)
{
  g_autofree char *name = g_strconcat (id, suffix, NULL);
  return g_build_filename (f->dir, "state", "exits", name, NULL);
}

/* The exit directory keeps nothing of a run once its end is saved, and
 * the file a killed monitor prepared but never wrote goes with the job
 * (Remove) or before its next run (Start). */
static void
test_exit_files (Fixture *f, gconstpointer data)
{
  OrchManager *m = orch_daemon_get_manager (f->daemon);
  g_autofree char *a = create (f, "{'command': <['true']>}");
  g_autofree char *b = NULL;
  g_autofree char *a_exit = exit_file (f, a, ".exit");
  g_autofree char *a_tmp = exit_file (f, a, ".exit.tmp");
  g_autofree char *b_tmp = NULL;
  g_autoptr(GError) error = NULL;
  OrchJob *job;
  pid_t monitor, pid;

  run_until (f, job_finished, a, "job a to end");
  g_assert_cmpint (lookup (f, a)->exit_code, ==, 0);
  /* Once the end is saved (the group's commit, in the loop's next pass). */
  run_until (f, file_gone, a_exit, "job a's exit record to go");
  g_assert_false (g_file_test (a_tmp, G_FILE_TEST_EXISTS));
  g_assert_true (orch_manager_remove (m, a, &error));
  g_assert_no_error (error);

  /* The monitor killed before the command: its record never written. */
  b = create (f, "{'command': <['sleep', '600']>}");
  b_tmp = exit_file (f, b, ".exit.tmp");
  run_until (f, job_running, b, "job b to run");
  job = lookup (f, b);
  monitor = (pid_t) job->monitor_pid;
  pid = (pid_t) job->pid;
  g_assert_cmpint (monitor, >, 0);
  g_assert_true (g_file_test (b_tmp, G_FILE_TEST_EXISTS));
  g_assert_no_errno (kill (monitor, SIGKILL));
  g_assert_no_errno (kill (pid, SIGKILL));
  run_until (f, job_finished, b, "job b to end");
  g_assert_true (g_file_test (b_tmp, G_FILE_TEST_EXISTS));
  g_assert_true (orch_manager_remove (m, b, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (b_tmp, G_FILE_TEST_EXISTS));
}

typedef struct {
  Fixture *f;
  GPtrArray *ids; /* the purged ones, as the callback was told */
} Purged;

/* The callback is told of a job once its record is gone from the
 * database, while the manager still holds it. */
static void
purged_cb (const char *id, gpointer data)
{
  Purged *p = data;
  sqlite3 *db = orch_state_db (orch_daemon_get_state (p->f->daemon));
  sqlite3_stmt *st = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT count(*) FROM jobs WHERE id = ?", -1, &st, NULL),
                   ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (st, 0), ==, 0);
  sqlite3_finalize (st);
  g_assert_nonnull (orch_manager_lookup (orch_daemon_get_manager (p->f->daemon), id, NULL));
  g_ptr_array_add (p->ids, g_strdup (id));
}

/* A purge whose commit fails removes nothing: no record, and nothing
 * that goes with a job (the daemon deletes its logs from the callback)
 * before the record is gone for good.  The delete is made to fail by a
 * trigger on the daemon's own connection. */
static void
test_purge_failed (Fixture *f, gconstpointer data)
{
  enum { JOBS = 8, KEEP = 3 };
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) told = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *conf = NULL;
  Purged p = { f, told };
  OrchManager *m;
  sqlite3 *db;
  guint n = 99;

  g_clear_pointer (&f->daemon, orch_daemon_free);
  g_assert_true (g_file_get_contents (f->config_path, &conf, NULL, NULL));
  {
    g_autofree char *more = g_strdup_printf ("%s[state]\nkeep_finished=%d\n", conf, KEEP);
    g_assert_true (g_file_set_contents (f->config_path, more, -1, NULL));
  }
  daemon_up (f);
  for (guint i = 0; i < JOBS; i++)
    {
      char *id = create (f, "{'command': <['true']>}");
      g_ptr_array_add (ids, id);
      run_until (f, job_finished, id, "the job to end");
    }
  m = orch_daemon_get_manager (f->daemon);
  db = orch_state_db (orch_daemon_get_state (f->daemon));
  g_assert_cmpint (sqlite3_exec (db,
                                 "CREATE TEMP TRIGGER purge_fault BEFORE DELETE ON jobs "
                                 "BEGIN SELECT RAISE(ABORT, 'injected fault'); END",
                                 NULL, NULL, NULL),
                   ==, SQLITE_OK);

  g_test_expect_message (NULL, G_LOG_LEVEL_WARNING, "*cannot purge finished jobs*injected fault*");
  g_assert_false (orch_manager_purge (m, g_get_real_time (), purged_cb, &p, &n));
  g_test_assert_expected_messages ();
  g_assert_cmpuint (n, ==, 0);
  g_assert_cmpuint (told->len, ==, 0);
  g_assert_cmpuint (job_count (f), ==, JOBS);

  g_assert_cmpint (sqlite3_exec (db, "DROP TRIGGER purge_fault", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_false (orch_manager_purge (m, g_get_real_time (), purged_cb, &p, &n));
  g_assert_cmpuint (n, ==, JOBS - KEEP);
  g_assert_cmpuint (told->len, ==, JOBS - KEEP);
  g_assert_cmpuint (job_count (f), ==, KEEP);
  /* The oldest went, each told once. */
  for (guint i = 0; i < JOBS - KEEP; i++)
    g_assert_true (g_ptr_array_find_with_equal_func (told, ids->pdata[i], g_str_equal, NULL));
}

/* Retention after many jobs ended: the purge goes a slice at a time (64
 * jobs, one commit each), the loop runs other sources in between, and
 * every purged job's logs go, rotated generations included. */
static void
test_purge_slices (Fixture *f, gconstpointer data)
{
  enum { JOBS = 150, KEEP = 3, SLICE = 64 };
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *conf = NULL;
  Between b = { f, 0 };

  for (guint i = 0; i < JOBS; i++)
    {
      char *id = create (f, "{'command': <['true']>}");
      g_ptr_array_add (ids, id);
      run_until (f, job_finished, id, "the job to end");
    }
  /* Rotated generations of the oldest job, as rotation leaves them. */
  for (guint g = 1; g <= 2; g++)
    {
      g_autofree char *suffix = g_strdup_printf (".log.%u", g);
      g_autofree char *path = log_file (f, ids->pdata[0], suffix);
      g_assert_true (g_file_set_contents (path, "old\n", -1, NULL));
    }
  g_clear_pointer (&f->daemon, orch_daemon_free);
  g_assert_true (g_file_get_contents (f->config_path, &conf, NULL, NULL));
  {
    g_autofree char *more = g_strdup_printf ("%s[state]\nkeep_finished=%d\n", conf, KEEP);
    g_assert_true (g_file_set_contents (f->config_path, more, -1, NULL));
  }

  /* The start purges one slice; the rest waits for the loop. */
  daemon_up (f);
  g_assert_cmpuint (job_count (f), ==, JOBS - SLICE);
  g_timeout_add (0, between_cb, &b);
  run_until (f, count_is, GUINT_TO_POINTER (KEEP), "the purge to end");
  /* A source of the calls' priority ran before the next slice. */
  g_assert_cmpuint (b.seen, ==, JOBS - SLICE);

  for (guint i = 0; i < JOBS; i++)
    {
      gboolean kept = i >= JOBS - KEEP;
      g_autoptr(GError) error = NULL;
      g_autofree char *log = log_file (f, ids->pdata[i], ".log");
      OrchJob *job = orch_manager_lookup (orch_daemon_get_manager (f->daemon), ids->pdata[i],
                                          &error);

      g_assert_cmpint (job != NULL, ==, kept);
      g_assert_cmpint (g_file_test (log, G_FILE_TEST_EXISTS), ==, kept);
    }
  for (guint g = 1; g <= 2; g++)
    {
      g_autofree char *suffix = g_strdup_printf (".log.%u", g);
      g_autofree char *path = log_file (f, ids->pdata[0], suffix);
      g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
    }
  /* Durable: a fresh daemon holds the same. */
  g_clear_pointer (&f->daemon, orch_daemon_free);
  daemon_up (f);
  g_assert_cmpuint (job_count (f), ==, KEEP);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  sigset_t chld;
  int ret;

  /* As orchestratord does: the manager then takes SIGCHLD on a signalfd. */
  sigemptyset (&chld);
  sigaddset (&chld, SIGCHLD);
  pthread_sigmask (SIG_BLOCK, &chld, NULL);

  g_test_init (&argc, &argv, NULL);
  /* The one just built, not an installed one. */
  g_setenv ("ORCHESTRATOR_MONITOR", ORCH_TEST_MONITOR, FALSE);
  scratch = g_dir_make_tmp ("orch-manager-test-XXXXXX", &error);
  g_assert_no_error (error);
  start_watcher ();

  g_test_add ("/manager/exit-code", Fixture, NULL, setup, test_exit_code, teardown);
  g_test_add ("/manager/stop", Fixture, NULL, setup, test_stop, teardown);
  g_test_add ("/manager/adopt", Fixture, NULL, setup, test_adopt, teardown);
  g_test_add ("/manager/restart-policy", Fixture, NULL, setup, test_restart_policy, teardown);
  g_test_add ("/manager/purge-slices", Fixture, NULL, setup, test_purge_slices, teardown);
  g_test_add ("/manager/purge-failed", Fixture, NULL, setup, test_purge_failed, teardown);
  g_test_add ("/manager/exit-files", Fixture, NULL, setup, test_exit_files, teardown);
  ret = g_test_run ();

  stop_watcher ();
  g_assert_false (g_file_test (scratch, G_FILE_TEST_EXISTS));
  g_free (scratch);
  return ret;
}
