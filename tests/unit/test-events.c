/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The events store without a daemon: each key once, bounded, derived
 * from records the same way however often it is asked, in memory and in
 * the state database. */
#include "core/orch-events.h"
#include "core/orch-oom-watch.h"

#include <glib/gstdio.h>

static OrchJob *
finished_job (const char *id, gint64 started_at)
{
  g_autoptr(GVariant) spec_v = g_variant_ref_sink (
      g_variant_new_parsed ("{'command': <['false']>}"));
  OrchJob *job = orch_job_new (id, orch_spec_from_variant (spec_v, NULL));

  job->state = ORCH_JOB_FAILED;
  job->exit_code = 1;
  job->started_at = started_at;
  job->finished_at = started_at + 1000;
  return job;
}

static void
count_cb (const OrchEvent *ev, gpointer data)
{
  (*(guint *) data)++;
}

static void
check_store (OrchEvents *ev)
{
  g_autoptr(OrchJob) job = finished_job ("job_20261203_000000_aaaaaa", 1700000000000000);
  g_autoptr(GPtrArray) all = NULL, since = NULL, mine = NULL;
  g_autoptr(OrchEvent) e = NULL;
  g_autoptr(GError) error = NULL;
  guint told = 0;

  orch_events_set_func (ev, count_cb, &told);
  orch_events_observe (ev, job);
  orch_events_observe (ev, job); /* the same run's end: known */
  g_assert_cmpuint (told, ==, 1);

  /* The next run: its own exited, and a restarted. */
  job->restarts = 1;
  job->started_at += 5000;
  job->finished_at += 5000;
  orch_events_observe (ev, job);
  g_assert_cmpuint (told, ==, 3);

  g_assert_true (orch_events_add (ev, "k1", "job_20261203_000000_bbbbbb", "limits_changed", 42,
                                  g_variant_new_parsed ("{'memory_max': <uint64 0>}"), &e, &error));
  g_assert_nonnull (e);
  g_clear_pointer (&e, orch_event_free);
  g_assert_true (orch_events_add (ev, "k1", "job_20261203_000000_bbbbbb", "limits_changed", 43,
                                  g_variant_new_parsed ("@a{sv} {}"), &e, &error));
  g_assert_null (e);

  all = orch_events_list (ev, NULL, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, ==, 4);
  g_assert_cmpstr (((OrchEvent *) all->pdata[0])->kind, ==, "exited");
  g_assert_cmpstr (((OrchEvent *) all->pdata[3])->kind, ==, "limits_changed");
  since = orch_events_list (ev, "", ((OrchEvent *) all->pdata[1])->seq, 1, &error);
  g_assert_cmpuint (since->len, ==, 1);
  g_assert_true (since->pdata[0] != NULL &&
                 ((OrchEvent *) since->pdata[0])->seq == ((OrchEvent *) all->pdata[2])->seq);
  mine = orch_events_list (ev, "job_20261203_000000_bbbbbb", 0, 0, &error);
  g_assert_cmpuint (mine->len, ==, 1);
}

static void
test_memory (void)
{
  g_autoptr(OrchEvents) ev = orch_events_new (NULL, 100);

  check_store (ev);
}

static void
remove_state_dir (const char *dir)
{
  static const char *const files[] = { "orchestrator.db", "orchestrator.db-wal",
                                       "orchestrator.db-shm", "lock" };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i], NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

static void
test_state_and_bound (void)
{
  g_autofree char *dir = g_dir_make_tmp ("orch-events-test-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;

  {
    g_autoptr(OrchState) s = orch_state_open (dir, &error);
    g_autoptr(OrchEvents) ev = orch_events_new (s, 100);
    g_assert_no_error (error);
    check_store (ev);
  }
  {
    /* Opened again: the same four, and only three kept past the bound. */
    g_autoptr(OrchState) s = orch_state_open (dir, &error);
    g_autoptr(OrchEvents) ev = orch_events_new (s, 3);
    g_autoptr(GPtrArray) all = orch_events_list (ev, NULL, 0, 0, &error);
    g_autoptr(GPtrArray) kept = NULL;
    g_autoptr(OrchEvent) e = NULL;
    g_assert_cmpuint (all->len, ==, 4);
    g_assert_true (orch_events_add (ev, "k2", "job_20261203_000000_cccccc", "limits_changed", 44,
                                    g_variant_new_parsed ("@a{sv} {}"), &e, &error));
    kept = orch_events_list (ev, NULL, 0, 0, &error);
    g_assert_cmpuint (kept->len, ==, 3);
    g_assert_cmpstr (((OrchEvent *) kept->pdata[2])->id, ==, "job_20261203_000000_cccccc");
    g_assert_cmpstr (((OrchEvent *) kept->pdata[0])->kind, ==, "restarted");
  }
  remove_state_dir (dir);
}

/* Staged in the job records' group: written in its transaction, told by
 * the caller after the commit; a group rolled back stores nothing and the
 * next observation tells it; after a commit, the observation that follows
 * the announcement tells nothing again. */
static void
test_stage (void)
{
  g_autofree char *dir = g_dir_make_tmp ("orch-events-test-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(OrchState) s = orch_state_open (dir, &error);
  g_autoptr(OrchEvents) ev = orch_events_new (s, 100);
  g_autoptr(OrchJob) job = finished_job ("job_20261203_000000_dddddd", 1700000000000000);
  g_autoptr(GPtrArray) listed = NULL;
  guint told = 0;

  g_assert_no_error (error);
  orch_events_set_func (ev, count_cb, &told);
  {
    g_autoptr(GPtrArray) staged = g_ptr_array_new_with_free_func ((GDestroyNotify) orch_event_free);
    g_assert_true (orch_state_group_begin (s));
    orch_events_stage (ev, job, staged);
    g_assert_cmpuint (staged->len, ==, 1);
    g_assert_false (orch_state_group_end (s, FALSE, NULL));
    orch_events_stage_end (ev, FALSE);
  }
  listed = orch_events_list (ev, NULL, 0, 0, &error);
  g_assert_cmpuint (listed->len, ==, 0);
  g_clear_pointer (&listed, g_ptr_array_unref);
  orch_events_observe (ev, job);
  g_assert_cmpuint (told, ==, 1);

  job->restarts = 1;
  job->started_at += 5000;
  job->finished_at += 5000;
  {
    g_autoptr(GPtrArray) staged = g_ptr_array_new_with_free_func ((GDestroyNotify) orch_event_free);
    g_assert_true (orch_state_group_begin (s));
    orch_events_stage (ev, job, staged);
    g_assert_cmpuint (staged->len, ==, 2); /* exited, restarted */
    g_assert_cmpuint (told, ==, 1);        /* the caller tells them */
    g_assert_true (orch_state_group_end (s, TRUE, &error));
    g_assert_no_error (error);
    orch_events_stage_end (ev, TRUE);
  }
  orch_events_observe (ev, job);
  g_assert_cmpuint (told, ==, 1);
  listed = orch_events_list (ev, NULL, 0, 0, &error);
  g_assert_cmpuint (listed->len, ==, 3);
  g_clear_pointer (&ev, orch_events_free);
  g_clear_pointer (&s, orch_state_free);
  remove_state_dir (dir);
}

/* A run's OOM kills: one event per kill the record counts, each once
 * however often the record is seen (a restarted daemon sees it again). */
static void
test_oom_kill (void)
{
  g_autoptr(OrchEvents) ev = orch_events_new (NULL, 100);
  g_autoptr(OrchJob) job = finished_job ("job_20261203_000000_dddddd", 1700000000000000);
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GError) error = NULL;
  guint told = 0;
  guint32 n = 0;

  orch_events_set_func (ev, count_cb, &told);
  job->state = ORCH_JOB_RUNNING;
  job->finished_at = 0;
  job->run_oom_kills = job->oom_kills = 1;
  orch_events_observe (ev, job);
  orch_events_observe (ev, job);
  g_assert_cmpuint (told, ==, 1);
  job->run_oom_kills = job->oom_kills = 2;
  orch_events_observe (ev, job);
  g_assert_cmpuint (told, ==, 2);
  /* The run ends, killed: its exited, no kill told again. */
  job->state = ORCH_JOB_FAILED;
  job->signal = 9;
  job->exit_code = -1;
  job->finished_at = job->started_at + 5;
  orch_events_observe (ev, job);
  orch_events_observe (ev, job);
  g_assert_cmpuint (told, ==, 3);
  all = orch_events_list (ev, NULL, 0, 0, &error);
  g_assert_cmpuint (all->len, ==, 3);
  g_assert_cmpstr (((OrchEvent *) all->pdata[1])->kind, ==, "oom_kill");
  g_assert_true (g_variant_lookup (((OrchEvent *) all->pdata[1])->data, "run_count", "u", &n));
  g_assert_cmpuint (n, ==, 2);
  {
    const char *result = NULL;
    g_assert_true (g_variant_lookup (((OrchEvent *) all->pdata[2])->data, "result", "&s", &result));
    g_assert_cmpstr (result, ==, "oom-kill");
  }
}

/* memory_high: the first rise told at once, later ones a period apart. */
static void
test_memory_high_rate (void)
{
  g_assert_cmpint (orch_oom_high_due (5000000, 0, 2000000), ==, 5000000);
  g_assert_cmpint (orch_oom_high_due (5000000, 4000000, 2000000), ==, 6000000);
  g_assert_cmpint (orch_oom_high_due (6000000, 4000000, 2000000), ==, 6000000);
  g_assert_cmpint (orch_oom_high_due (9000000, 4000000, 2000000), ==, 9000000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/events/memory", test_memory);
  g_test_add_func ("/events/state-and-bound", test_state_and_bound);
  g_test_add_func ("/events/stage", test_stage);
  g_test_add_func ("/events/oom-kill", test_oom_kill);
  g_test_add_func ("/events/memory-high-rate", test_memory_high_rate);
  return g_test_run ();
}
