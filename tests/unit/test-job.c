/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/orch-job.h"

#include <signal.h>
#include <sys/wait.h>

#define S(x) ORCH_JOB_##x

static void
test_transitions (void)
{
  /* Every allowed edge; all others must be refused. */
  const struct {
    OrchJobState from, to;
  } allowed[] = {
    { S (STARTING), S (RUNNING) }, { S (STARTING), S (STOPPING) }, { S (STARTING), S (FAILED) },
    { S (STARTING), S (EXITED) },  { S (RUNNING), S (STOPPING) },  { S (RUNNING), S (EXITED) },
    { S (RUNNING), S (FAILED) },   { S (STOPPING), S (STOPPED) },  { S (STOPPING), S (EXITED) },
    { S (STOPPING), S (FAILED) },  { S (EXITED), S (STARTING) },   { S (FAILED), S (STARTING) },
    { S (STOPPED), S (STARTING) },
  };

  for (int from = S (STARTING); from <= S (STOPPED); from++)
    for (int to = S (STARTING); to <= S (STOPPED); to++)
      {
        gboolean expect = FALSE;
        for (gsize i = 0; i < G_N_ELEMENTS (allowed); i++)
          if ((int) allowed[i].from == from && (int) allowed[i].to == to)
            expect = TRUE;
        if (orch_job_state_can_transition (from, to) != expect)
          g_error ("%s -> %s: expected %d", orch_job_state_to_string (from),
                   orch_job_state_to_string (to), expect);
      }
}

static void
test_state_strings (void)
{
  for (int s = S (STARTING); s <= S (STOPPED); s++)
    {
      OrchJobState back;
      g_assert_true (orch_job_state_from_string (orch_job_state_to_string (s), &back));
      g_assert_cmpint (back, ==, s);
    }
  g_assert_false (orch_job_state_from_string ("dead", &(OrchJobState){ 0 }));
  g_assert_true (orch_job_state_is_active (S (STOPPING)));
  g_assert_false (orch_job_state_is_active (S (EXITED)));
}

static void
test_final_state (void)
{
  /* waitpid statuses, as the kernel encodes them */
  int exited0 = 0, exited3 = 3 << 8, killed9 = SIGKILL;

  g_assert_true (WIFEXITED (exited3) && WEXITSTATUS (exited3) == 3);
  g_assert_true (WIFSIGNALED (killed9));
  g_assert_cmpint (orch_job_final_state (exited0, FALSE), ==, S (EXITED));
  g_assert_cmpint (orch_job_final_state (exited3, FALSE), ==, S (FAILED));
  g_assert_cmpint (orch_job_final_state (killed9, FALSE), ==, S (FAILED));
  g_assert_cmpint (orch_job_final_state (exited0, TRUE), ==, S (STOPPED));
  g_assert_cmpint (orch_job_final_state (killed9, TRUE), ==, S (STOPPED));
}

static void
test_restart_wanted (void)
{
  g_autoptr(OrchSpec) s = orch_spec_new ();

  s->restart = ORCH_RESTART_NO;
  g_assert_false (orch_restart_wanted (s, S (FAILED), 0));

  s->restart = ORCH_RESTART_ON_FAILURE;
  s->restart_max = 3;
  g_assert_true (orch_restart_wanted (s, S (FAILED), 0));
  g_assert_true (orch_restart_wanted (s, S (FAILED), 2));
  g_assert_false (orch_restart_wanted (s, S (FAILED), 3));
  g_assert_false (orch_restart_wanted (s, S (EXITED), 0));
  g_assert_false (orch_restart_wanted (s, S (STOPPED), 0));

  s->restart = ORCH_RESTART_ALWAYS;
  g_assert_true (orch_restart_wanted (s, S (EXITED), 0));
  g_assert_true (orch_restart_wanted (s, S (FAILED), 1));
  g_assert_false (orch_restart_wanted (s, S (STOPPED), 0));
  s->restart_max = 0; /* no limit */
  g_assert_true (orch_restart_wanted (s, S (EXITED), 100000));
}

static void
test_backoff (void)
{
  g_assert_cmpuint (orch_restart_delay_ms (100, 0), ==, 100);
  g_assert_cmpuint (orch_restart_delay_ms (100, 1), ==, 200);
  g_assert_cmpuint (orch_restart_delay_ms (100, 4), ==, 1600);
  g_assert_cmpuint (orch_restart_delay_ms (100, 30), ==, ORCH_RESTART_DELAY_CAP_MS);
  g_assert_cmpuint (orch_restart_delay_ms (100, G_MAXUINT), ==, ORCH_RESTART_DELAY_CAP_MS);
  g_assert_cmpuint (orch_restart_delay_ms (0, 10), ==, 0);
  /* A configured delay above the cap is kept, not shortened. */
  g_assert_cmpuint (orch_restart_delay_ms (600000, 3), ==, 600000);
}

static void
test_record (void)
{
  OrchSpec *s = orch_spec_new ();
  g_autoptr(OrchJob) job = NULL;
  g_autoptr(GVariant) rec = NULL;
  const char *keys[] = { "id", "name", "command", "state", "pid", "unit", "cgroup", "exit_code",
                         "signal", "restarts", "created_at", "started_at", "finished_at",
                         "backend", "log_path" };
  const char *state;
  gint32 code;

  s->argv = g_strdupv ((char **) (const char *const[]){ "true", NULL });
  s->name = g_strdup ("t");
  job = orch_job_new ("job_20261127_223512_abcdef", s);
  rec = g_variant_ref_sink (orch_job_to_variant (job));
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autoptr(GVariant) v = g_variant_lookup_value (rec, keys[i], NULL);
      if (v == NULL)
        g_error ("the record has no “%s”", keys[i]);
    }
  g_assert_true (g_variant_lookup (rec, "state", "&s", &state));
  g_assert_cmpstr (state, ==, "starting");
  g_assert_true (g_variant_lookup (rec, "exit_code", "i", &code));
  g_assert_cmpint (code, ==, -1);
}

/* How a run ended, in the record: "oom-kill" only for a SIGKILL in a
 * run where the kernel OOM-killed. */
static void
test_result (void)
{
  g_autoptr(GVariant) spec_v = g_variant_ref_sink (
      g_variant_new_parsed ("{'command': <['true']>}"));
  g_autoptr(OrchJob) job = orch_job_new ("job_20261203_000000_aaaaaa",
                                         orch_spec_from_variant (spec_v, NULL));
  g_autoptr(GVariant) rec = NULL;
  const char *result = NULL;
  guint32 kills = 99;

  job->state = ORCH_JOB_RUNNING;
  job->started_at = 1;
  g_assert_null (orch_job_result (job));
  job->state = ORCH_JOB_FAILED;
  job->finished_at = 2;
  job->exit_code = -1;
  job->signal = SIGKILL;
  g_assert_cmpstr (orch_job_result (job), ==, "signal");
  job->run_oom_kills = 1;
  job->oom_kills = 3;
  g_assert_cmpstr (orch_job_result (job), ==, "oom-kill");
  job->signal = SIGTERM;
  g_assert_cmpstr (orch_job_result (job), ==, "signal");
  job->signal = 0;
  job->exit_code = 0;
  g_assert_cmpstr (orch_job_result (job), ==, "success");
  job->exit_code = 2;
  g_assert_cmpstr (orch_job_result (job), ==, "exit-code");
  job->exit_code = -1;
  g_assert_cmpstr (orch_job_result (job), ==, "launch-failed");

  job->exit_code = -1;
  job->signal = SIGKILL;
  rec = g_variant_ref_sink (orch_job_to_variant (job));
  g_assert_true (g_variant_lookup (rec, "result", "&s", &result));
  g_assert_cmpstr (result, ==, "oom-kill");
  g_assert_true (g_variant_lookup (rec, "oom_kills", "u", &kills));
  g_assert_cmpuint (kills, ==, 3);
}

/* The sampler's IO counters: absent until it could read them. */
static void
test_record_io (void)
{
  OrchSpec *s = orch_spec_new ();
  g_autoptr(OrchJob) job = NULL;
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;
  guint64 rd = 0, wr = 0;

  s->argv = g_strdupv ((char **) (const char *const[]){ "true", NULL });
  s->name = g_strdup ("t");
  job = orch_job_new ("job_20261203_000000_bbbbbb", s);
  before = g_variant_ref_sink (orch_job_to_variant (job));
  g_assert_false (g_variant_lookup (before, "io_read_bytes", "t", &rd));
  g_assert_false (g_variant_lookup (before, "io_write_bytes", "t", &wr));
  job->io_known = TRUE;
  job->io_read_bytes = 4096;
  job->io_write_bytes = G_MAXUINT64;
  after = g_variant_ref_sink (orch_job_to_variant (job));
  g_assert_true (g_variant_lookup (after, "io_read_bytes", "t", &rd));
  g_assert_true (g_variant_lookup (after, "io_write_bytes", "t", &wr));
  g_assert_cmpuint (rd, ==, 4096);
  g_assert_cmpuint (wr, ==, G_MAXUINT64);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/job/transitions", test_transitions);
  g_test_add_func ("/job/state-strings", test_state_strings);
  g_test_add_func ("/job/final-state", test_final_state);
  g_test_add_func ("/job/restart-wanted", test_restart_wanted);
  g_test_add_func ("/job/backoff", test_backoff);
  g_test_add_func ("/job/record", test_record);
  g_test_add_func ("/job/result", test_result);
  g_test_add_func ("/job/record-io", test_record_io);
  return g_test_run ();
}
