/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state database and the monitor's exit records, without a daemon. */
#include "basic/orch-error.h"
#include "core/orch-reconcile.h"
#include "core/orch-state.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *
scratch_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("orch-state-test-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
rm_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

static OrchJob *
sample_job (const char *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) spec_v = g_variant_ref_sink (g_variant_new_parsed (
      "{'command': <['sleep', '600']>, 'name': <'nap'>, 'restart': <'always'>, 'env': <{'A': 'b c'}>}"));
  OrchSpec *spec = orch_spec_from_variant (spec_v, &error);
  OrchJob *job;

  g_assert_no_error (error);
  job = orch_job_new (id, spec);
  job->state = ORCH_JOB_RUNNING;
  job->pid = 4242;
  job->pid_start = 123456789012ULL;
  job->monitor_pid = 4241;
  job->monitor_start = 123456789000ULL;
  g_free (job->cgroup);
  job->cgroup = g_strdup ("/orchestrator/job");
  job->restarts = 3;
  job->created_at = 1700000000000000;
  job->started_at = 1700000000000100;
  job->log_path = g_strdup ("/var/log/orchestrator/x.log");
  job->error = g_strdup ("ünïcode “quotes”");
  return job;
}

static void
test_roundtrip (void)
{
  g_autofree char *dir = scratch_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) recs = NULL;
  g_autoptr(OrchJob) a = sample_job ("job_20261128_010203_aaaaaa");
  g_autoptr(OrchJob) b = sample_job ("job_20261128_010204_bbbbbb");

  {
    g_autoptr(OrchState) s = orch_state_open (dir, &error);
    g_assert_no_error (error);
    g_assert_null (orch_state_moved_aside (s));
    b->created_at++;
    g_assert_true (orch_state_save (s, b, 0, &error));
    g_assert_true (orch_state_save (s, a, 2, &error));
    a->state = ORCH_JOB_EXITED;
    a->exit_code = 7;
    a->oom_kills = 3;
    a->run_oom_kills = 1;
    g_assert_true (orch_state_save (s, a, 2, &error)); /* replaces */
    g_assert_no_error (error);
  }
  {
    g_autoptr(OrchState) s = orch_state_open (dir, &error);
    OrchStateRecord *r;
    g_assert_no_error (error);
    recs = orch_state_load (s, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (recs->len, ==, 2);
    r = g_ptr_array_index (recs, 0); /* oldest first */
    g_assert_cmpstr (r->job->id, ==, a->id);
    g_assert_cmpint (r->job->state, ==, ORCH_JOB_EXITED);
    g_assert_cmpint (r->job->exit_code, ==, 7);
    g_assert_cmpuint (r->job->oom_kills, ==, 3);
    g_assert_cmpuint (r->job->run_oom_kills, ==, 1);
    g_assert_cmpint (r->job->pid, ==, 4242);
    g_assert_cmpuint (r->job->pid_start, ==, a->pid_start);
    g_assert_cmpuint (r->job->monitor_start, ==, a->monitor_start);
    g_assert_cmpstr (r->job->cgroup, ==, "/orchestrator/job");
    g_assert_cmpstr (r->job->error, ==, a->error);
    g_assert_cmpstr (r->job->spec->name, ==, "nap");
    g_assert_cmpstr (r->job->spec->argv[1], ==, "600");
    g_assert_cmpint (r->job->spec->restart, ==, ORCH_RESTART_ALWAYS);
    g_assert_cmpstr (g_hash_table_lookup (r->job->spec->env, "A"), ==, "b c");
    g_assert_cmpuint (r->auto_restarts, ==, 2);
    g_assert_null (r->job->stderr_log_path);
    g_assert_true (orch_state_delete (s, a->id, &error));
    g_clear_pointer (&recs, g_ptr_array_unref);
    recs = orch_state_load (s, &error);
    g_assert_cmpuint (recs->len, ==, 1);
  }
  rm_dir (dir);
}

static void
test_corrupt_moved_aside (void)
{
  g_autofree char *dir = scratch_dir ();
  g_autofree char *path = g_build_filename (dir, "orchestrator.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(OrchState) s = NULL;
  g_autoptr(GPtrArray) recs = NULL;

  g_assert_true (g_file_set_contents (path, "SQLite format 3\0garbage garbage garbage", 40, NULL));
  g_test_expect_message (NULL, G_LOG_LEVEL_WARNING, "*unusable*");
  s = orch_state_open (dir, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_nonnull (orch_state_moved_aside (s));
  g_assert_true (g_str_has_prefix (orch_state_moved_aside (s), path));
  g_assert_true (g_file_test (orch_state_moved_aside (s), G_FILE_TEST_EXISTS));
  recs = orch_state_load (s, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (recs->len, ==, 0);
  g_clear_pointer (&s, orch_state_free);
  rm_dir (dir);
}

static void
test_newer_schema_refused (void)
{
  g_autofree char *dir = scratch_dir ();
  g_autofree char *path = g_build_filename (dir, "orchestrator.db", NULL);
  g_autoptr(GError) error = NULL;
  sqlite3 *db = NULL;
  OrchState *s;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA user_version = 99", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  /* A newer daemon's file is not ours to rewrite: moved aside, kept. */
  g_test_expect_message (NULL, G_LOG_LEVEL_WARNING, "*newer*");
  s = orch_state_open (dir, &error);
  g_test_assert_expected_messages ();
  g_assert_nonnull (s);
  g_assert_true (g_file_test (orch_state_moved_aside (s), G_FILE_TEST_EXISTS));
  orch_state_free (s);
  rm_dir (dir);
}

static void
test_exit_record_parse (void)
{
  OrchExitRecord r;
  const char *good = "pid=12\nstatus=768\nfinished_at=1700000000000000\n";
  const char *bad[] = {
    "", "pid=12\n", "pid=12\nstatus=768\nfinished_at=1\nextra=1\n", "pid=0\nstatus=0\nfinished_at=1\n",
    "pid=12\nstatus=70000\nfinished_at=1\n", "pid=12\nstatus=1\nfinished_at=-5\n",
    "pid=99999999999999999999\nstatus=0\nfinished_at=1\n", "pid=1x\nstatus=0\nfinished_at=1\n",
    "pid=12\nstatus=768\nfinished_at=1700000000000000",
  };

  g_assert_cmpint (orch_exit_record_parse (good, strlen (good), &r), ==, 0);
  g_assert_cmpint (r.pid, ==, 12);
  g_assert_true (WIFEXITED (r.status) && WEXITSTATUS (r.status) == 3);
  g_assert_cmpint (r.finished_at, ==, 1700000000000000);
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_cmpint (orch_exit_record_parse (bad[i], strlen (bad[i]), &r), ==, -EBADMSG);
  /* Every prefix of a good record is refused, none read past its end. */
  for (gsize n = 0; n < strlen (good); n++)
    {
      g_autofree char *cut = g_memdup2 (good, n);
      g_assert_cmpint (orch_exit_record_parse (cut, n, &r), ==, -EBADMSG);
    }
}

static void
test_process_identity (void)
{
  g_autoptr(OrchJob) job = sample_job ("job_20261128_010205_cccccc");
  g_autofree char *why = NULL;
  pid_t child;

  /* Ourselves, with the right start time: adoptable. */
  job->monitor_pid = getpid ();
  job->monitor_start = orch_process_start_time (getpid ());
  job->pid = 0;
  g_free (job->cgroup);
  job->cgroup = g_strdup ("");
  g_assert_cmpuint (job->monitor_start, >, 0);
  g_assert_cmpint (orch_reconcile_check (job, &why), ==, ORCH_ADOPT_YES);

  /* Same pid, other start time: a stranger. */
  job->monitor_start++;
  g_assert_cmpint (orch_reconcile_check (job, &why), ==, ORCH_ADOPT_STRANGER);
  g_clear_pointer (&why, g_free);

  /* A zombie counts as gone. */
  child = fork ();
  if (child == 0)
    _exit (0);
  g_usleep (50000);
  job->monitor_pid = child;
  g_assert_cmpuint (orch_process_start_time (child), ==, 0);
  g_assert_cmpint (orch_reconcile_check (job, &why), ==, ORCH_ADOPT_GONE);
  waitpid (child, NULL, 0);
}

/* SetLimits' write: the new limits come back at the next load, the rest
 * of the record untouched by it. */
static void
test_spec_saved (void)
{
  g_autofree char *dir = scratch_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(OrchJob) job = sample_job ("job_20261128_010205_dddddd");
  g_autoptr(GPtrArray) recs = NULL;
  OrchJob *back;

  {
    g_autoptr(OrchState) s = orch_state_open (dir, &error);
    g_assert_no_error (error);
    g_assert_true (orch_state_save (s, job, 0, &error));
    job->spec->memory_max = 64 << 20;
    job->spec->cpu_weight = 300;
    g_assert_true (orch_state_save_spec (s, job->id, job->spec, &error));
    g_assert_no_error (error);
    g_assert_true (orch_state_save (s, job, 0, &error)); /* a later UPDATE keeps the spec */
    g_assert_false (orch_state_save_spec (s, "job_20261128_010205_eeeeee", job->spec, &error));
    g_assert_error (error, ORCH_ERROR, ORCH_ERROR_FAILED);
  }
  {
    g_autoptr(OrchState) s = orch_state_open (dir, NULL);
    recs = orch_state_load (s, NULL);
  }
  g_assert_cmpuint (recs->len, ==, 1);
  back = ((OrchStateRecord *) recs->pdata[0])->job;
  g_assert_cmpuint (back->spec->memory_max, ==, 64 << 20);
  g_assert_cmpuint (back->spec->cpu_weight, ==, 300);
  g_assert_cmpstr (back->spec->name, ==, "nap");
  g_assert_cmpuint (back->restarts, ==, 3);
  rm_dir (dir);
}

/* A new job's first save inserts alone: its record and spec come back,
 * later saves update it, and an id that has a record already is refused
 * (the record unchanged) rather than duplicated. */
static void
test_save_new (void)
{
  g_autofree char *dir = scratch_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(OrchJob) job = sample_job ("job_20261128_010205_ffffff");
  g_autoptr(GPtrArray) recs = NULL;
  OrchJob *back;

  {
    g_autoptr(OrchState) s = orch_state_open (dir, &error);
    g_assert_no_error (error);
    job->state = ORCH_JOB_STARTING;
    g_assert_true (orch_state_save_new (s, job, 1, &error));
    g_assert_no_error (error);
    job->state = ORCH_JOB_RUNNING;
    g_assert_true (orch_state_save (s, job, 2, &error));
    job->restarts = 9;
    g_assert_false (orch_state_save_new (s, job, 5, &error));
    g_assert_error (error, ORCH_ERROR, ORCH_ERROR_FAILED);
    {
      /* The only user of the file (EXCLUSIVE): its WAL index is in
       * memory, no -shm file whose locks each transaction takes. */
      g_autofree char *shm = g_build_filename (dir, "orchestrator.db-shm", NULL);
      g_assert_false (g_file_test (shm, G_FILE_TEST_EXISTS));
    }
  }
  {
    g_autoptr(OrchState) s = orch_state_open (dir, NULL);
    recs = orch_state_load (s, NULL);
  }
  g_assert_cmpuint (recs->len, ==, 1);
  back = ((OrchStateRecord *) recs->pdata[0])->job;
  g_assert_cmpstr (back->spec->name, ==, "nap");
  g_assert_cmpint (back->state, ==, ORCH_JOB_RUNNING);
  g_assert_cmpuint (back->restarts, ==, 3);
  g_assert_cmpuint (((OrchStateRecord *) recs->pdata[0])->auto_restarts, ==, 2);
  rm_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/state/roundtrip", test_roundtrip);
  g_test_add_func ("/state/corrupt-moved-aside", test_corrupt_moved_aside);
  g_test_add_func ("/state/newer-schema", test_newer_schema_refused);
  g_test_add_func ("/state/exit-record-parse", test_exit_record_parse);
  g_test_add_func ("/state/process-identity", test_process_identity);
  g_test_add_func ("/state/spec-saved", test_spec_saved);
  g_test_add_func ("/state/save-new", test_save_new);
  return g_test_run ();
}
