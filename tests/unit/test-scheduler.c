/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The scheduler with a fake clock and fake jobs: time only moves when a
 * test says so, and orch_scheduler_run_due() is what the timer calls. */
#include "basic/orch-error.h"
#include "basic/orch-id.h"
#include "core/orch-scheduler.h"

#include <glib/gstdio.h>

#define S G_GINT64_CONSTANT (1000000)
/* 2026-03-02 10:00:00 UTC, a Monday */
#define T0 (G_GINT64_CONSTANT (1772445600) * S)

typedef struct {
  gint64 now;
  GPtrArray *created; /* job ids, in order */
  GHashTable *active; /* job id -> schedule id */
  GPtrArray *stopped; /* job ids asked to stop */
  gboolean refuse;    /* create fails (max_concurrent) */
  guint changed;
  OrchScheduler *sched;
} Fake;

/* The scheduler of the running test, for the record helpers. */
static OrchScheduler *current_sched;

static gint64
fake_clock (gpointer data)
{
  return ((Fake *) data)->now;
}

static gboolean
fake_check (GVariant *spec, gpointer data, GError **error)
{
  const char *const *argv = NULL;
  g_autoptr(GVariant) cmd = g_variant_lookup_value (spec, "command", G_VARIANT_TYPE_STRING_ARRAY);

  argv = cmd ? g_variant_get_strv (cmd, NULL) : NULL;
  if (argv == NULL || argv[0] == NULL)
    {
      g_free ((gpointer) argv);
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT, "spec field “command”: missing");
      return FALSE;
    }
  if (g_strcmp0 (argv[0], "rm") == 0)
    {
      g_free ((gpointer) argv);
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_PERMISSION_DENIED, "denied by deny list");
      return FALSE;
    }
  g_free ((gpointer) argv);
  return TRUE;
}

static char *
fake_create (GVariant *spec, const char *schedule_id, gpointer data, GError **error)
{
  Fake *f = data;
  char *id;

  if (f->refuse)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_LIMIT_REACHED, "1 jobs are running, the maximum");
      return NULL;
    }
  id = orch_job_id_new (f->now, NULL);
  g_ptr_array_add (f->created, g_strdup (id));
  g_hash_table_insert (f->active, g_strdup (id), g_strdup (schedule_id));
  return id;
}

static gboolean
fake_is_active (const char *job_id, gpointer data)
{
  return g_hash_table_contains (((Fake *) data)->active, job_id);
}

static void
fake_stop (const char *job_id, gpointer data)
{
  g_ptr_array_add (((Fake *) data)->stopped, g_strdup (job_id));
}

static void
fake_changed (OrchSchedule *s, gpointer data)
{
  ((Fake *) data)->changed++;
}

static const OrchSchedulerOps fake_ops = {
  .check = fake_check,
  .create = fake_create,
  .is_active = fake_is_active,
  .stop = fake_stop,
  .changed = fake_changed,
};

static void
fake_init (Fake *f, OrchState *state)
{
  g_autoptr(GError) error = NULL;

  memset (f, 0, sizeof *f);
  f->now = T0;
  f->created = g_ptr_array_new_with_free_func (g_free);
  f->stopped = g_ptr_array_new_with_free_func (g_free);
  f->active = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  f->sched = orch_scheduler_new (state, &fake_ops, f, &error);
  current_sched = f->sched;
  g_assert_no_error (error);
  orch_scheduler_set_clock (f->sched, fake_clock, f);
  orch_scheduler_set_rand (f->sched, g_rand_new_with_seed (42));
}

static void
fake_clear (Fake *f)
{
  g_clear_pointer (&f->sched, orch_scheduler_free);
  g_ptr_array_unref (f->created);
  g_ptr_array_unref (f->stopped);
  g_hash_table_unref (f->active);
}

/* The job ended: what the daemon's job_changed callback does. */
static void
fake_end (Fake *f, const char *job_id, const char *result)
{
  g_autofree char *sid = NULL;
  g_autofree char *key = NULL;

  g_assert_true (
      g_hash_table_steal_extended (f->active, job_id, (gpointer *) &key, (gpointer *) &sid));
  orch_scheduler_job_ended (f->sched, sid, job_id, result);
}

static void
advance (Fake *f, gint64 to)
{
  f->now = to;
  while (orch_scheduler_run_due (f->sched))
    ;
}

static GVariant *
params (const char *extra)
{
  g_autofree char *text = g_strdup_printf (
      "{'name': <'t'>, 'job': <{'command': <['/bin/true']>}>%s%s}", extra ? ", " : "",
      extra ? extra : "");
  return g_variant_ref_sink (g_variant_new_parsed (text));
}

static OrchSchedule *
create (Fake *f, const char *extra)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) p = params (extra);
  OrchSchedule *s = orch_scheduler_create (f->sched, p, &error);

  g_assert_no_error (error);
  g_assert_nonnull (s);
  return s;
}

static guint32
rec_u (OrchSchedule *s, const char *key)
{
  g_autoptr(GVariant) v = orch_scheduler_record (current_sched, s);
  guint32 u = 0;

  g_assert_true (g_variant_lookup (v, key, "u", &u));
  return u;
}

static guint64
rec_t (OrchSchedule *s, const char *key)
{
  g_autoptr(GVariant) v = orch_scheduler_record (current_sched, s);
  guint64 t = 0;

  g_assert_true (g_variant_lookup (v, key, "t", &t));
  return t;
}

static char *
rec_s (OrchSchedule *s, const char *key)
{
  g_autoptr(GVariant) v = orch_scheduler_record (current_sched, s);
  char *str = NULL;

  g_assert_true (g_variant_lookup (v, key, "s", &str));
  return str;
}

static void
test_calendar_runs (void)
{
  Fake f;
  OrchSchedule *s;
  g_autofree char *result = NULL;

  fake_init (&f, NULL);
  s = create (&f, "'calendar': <'*:0/15 UTC'>");
  g_assert_true (orch_schedule_id_is_valid (orch_schedule_id (s)));
  g_assert_cmpint (rec_t (s, "next_run_at"), ==, T0 + 15 * 60 * S);
  g_assert_cmpint (orch_scheduler_next_wakeup (f.sched), ==, T0 + 15 * 60 * S);

  advance (&f, T0 + 14 * 60 * S); /* early: nothing */
  g_assert_cmpuint (f.created->len, ==, 0);
  advance (&f, T0 + 15 * 60 * S);
  g_assert_cmpuint (f.created->len, ==, 1);
  g_assert_cmpuint (rec_u (s, "runs"), ==, 1);
  g_assert_cmpint (rec_t (s, "last_run_at"), ==, T0 + 15 * 60 * S);
  g_assert_cmpint (rec_t (s, "next_run_at"), ==, T0 + 30 * 60 * S);
  fake_end (&f, f.created->pdata[0], "exited");
  result = rec_s (s, "last_result");
  g_assert_cmpstr (result, ==, "exited");
  fake_clear (&f);
}

static void
test_overlap_skip (void)
{
  Fake f;
  OrchSchedule *s;
  g_autofree char *reason = NULL;

  fake_init (&f, NULL);
  s = create (&f, "'interval_s': <uint64 10>");
  advance (&f, T0 + 10 * S);
  g_assert_cmpuint (f.created->len, ==, 1);
  advance (&f, T0 + 20 * S); /* the first still runs */
  advance (&f, T0 + 30 * S);
  g_assert_cmpuint (f.created->len, ==, 1);
  g_assert_cmpuint (rec_u (s, "skipped"), ==, 2);
  reason = rec_s (s, "last_skip_reason");
  g_assert_nonnull (strstr (reason, "still running"));
  fake_end (&f, f.created->pdata[0], "exited");
  advance (&f, T0 + 40 * S);
  g_assert_cmpuint (f.created->len, ==, 2);
  g_assert_cmpuint (rec_u (s, "runs"), ==, 2);
  fake_clear (&f);
}

static void
test_overlap_queue (void)
{
  Fake f;
  OrchSchedule *s;

  fake_init (&f, NULL);
  s = create (&f, "'interval_s': <uint64 10>, 'overlap': <'queue'>");
  advance (&f, T0 + 10 * S);
  advance (&f, T0 + 20 * S); /* queued */
  advance (&f, T0 + 30 * S); /* one is queued already: skipped */
  g_assert_cmpuint (f.created->len, ==, 1);
  g_assert_cmpuint (rec_u (s, "skipped"), ==, 1);
  f.now = T0 + 35 * S;
  fake_end (&f, f.created->pdata[0], "failed");
  g_assert_cmpuint (f.created->len, ==, 2); /* the queued one started at once */
  g_assert_cmpint (rec_t (s, "last_run_at"), ==, T0 + 35 * S);
  /* interval from the last start */
  g_assert_cmpint (rec_t (s, "next_run_at"), ==, T0 + 45 * S);
  fake_clear (&f);
}

static void
test_overlap_parallel_replace (void)
{
  Fake f;
  OrchSchedule *p, *r;

  fake_init (&f, NULL);
  p = create (&f, "'interval_s': <uint64 10>, 'overlap': <'parallel'>");
  advance (&f, T0 + 10 * S);
  advance (&f, T0 + 20 * S);
  g_assert_cmpuint (rec_u (p, "runs"), ==, 2);
  g_assert_cmpuint (rec_u (p, "running"), ==, 2);
  orch_scheduler_remove (f.sched, orch_schedule_id (p), NULL);

  r = create (&f, "'interval_s': <uint64 10>, 'overlap': <'replace'>");
  advance (&f, T0 + 30 * S);
  g_assert_cmpuint (rec_u (r, "runs"), ==, 1);
  advance (&f, T0 + 40 * S);
  /* the running one is asked to stop; the new one waits for its end */
  g_assert_cmpuint (f.stopped->len, ==, 1);
  g_assert_cmpstr (f.stopped->pdata[0], ==, f.created->pdata[2]);
  g_assert_cmpuint (rec_u (r, "runs"), ==, 1);
  fake_end (&f, f.created->pdata[2], "stopped");
  g_assert_cmpuint (rec_u (r, "runs"), ==, 2);
  fake_clear (&f);
}

static void
test_refused_run_is_skipped (void)
{
  Fake f;
  OrchSchedule *s;
  g_autofree char *result = NULL, *reason = NULL;

  fake_init (&f, NULL);
  s = create (&f, "'interval_s': <uint64 5>");
  f.refuse = TRUE;
  advance (&f, T0 + 5 * S);
  g_assert_cmpuint (rec_u (s, "runs"), ==, 0);
  g_assert_cmpuint (rec_u (s, "skipped"), ==, 1);
  result = rec_s (s, "last_result");
  reason = rec_s (s, "last_skip_reason");
  g_assert_cmpstr (result, ==, "skipped");
  g_assert_nonnull (strstr (reason, "maximum"));
  /* and the schedule goes on */
  g_assert_cmpint (rec_t (s, "next_run_at"), ==, T0 + 10 * S);
  fake_clear (&f);
}

static void
test_randomized_delay (void)
{
  Fake f;
  gint64 min = G_MAXINT64, max = 0;

  fake_init (&f, NULL);
  for (guint i = 0; i < 200; i++)
    {
      OrchSchedule *s = create (&f, "'calendar': <'hourly'>, 'randomized_delay_s': <uint32 600>");
      gint64 elapse = (gint64) rec_t (s, "next_elapse_at");
      gint64 d = (gint64) rec_t (s, "next_run_at") - elapse;
      g_assert_cmpint (elapse, ==, T0 + 3600 * S);
      g_assert_cmpint (d, >=, 0);
      g_assert_cmpint (d, <=, 600 * S);
      min = MIN (min, d);
      max = MAX (max, d);
    }
  /* spread over the window, not a constant */
  g_assert_cmpint (min, <, 60 * S);
  g_assert_cmpint (max, >, 540 * S);
  fake_clear (&f);
}

static void
test_bad_input (void)
{
  Fake f;
  g_autoptr(GError) error = NULL;
  static const struct {
    const char *extra;
    const char *needle;
  } cases[] = {
    { NULL, "exactly one" },
    { "'calendar': <'daily'>, 'cron': <'* * * * *'>", "exactly one" },
    { "'calendar': <'Mon *-*-* 25:00'>", "calendar" },
    { "'calendar': <'Mon *-*-* 25:00'>", "character" },
    { "'cron': <'61 * * * *'>", "character 1" },
    { "'interval_s': <uint64 0>", "interval_s" },
    { "'interval_s': <uint64 5>, 'overlap': <'sometimes'>", "overlap" },
    { "'calendar': <'2001-01-01'>", "never elapses" },
    { "'interval_s': <uint64 5>, 'timezone': <'UTC'>", "timezone" },
    { "'interval_s': <'5'>", "interval_s" },
  };

  fake_init (&f, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GVariant) p = params (cases[i].extra);
      g_assert_null (orch_scheduler_create (f.sched, p, &error));
      g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
      if (!strstr (error->message, cases[i].needle))
        g_error ("case %u: “%s” lacks “%s”", i, error->message, cases[i].needle);
      g_clear_error (&error);
    }
  /* the job spec is checked as Jobs.Create would */
  {
    g_autoptr(GVariant) p = g_variant_ref_sink (g_variant_new_parsed (
        "{'job': <{'command': <['rm', '-rf', '/']>}>, 'interval_s': <uint64 5>}"));
    g_assert_null (orch_scheduler_create (f.sched, p, &error));
    g_assert_error (error, ORCH_ERROR, ORCH_ERROR_PERMISSION_DENIED);
    g_assert_nonnull (strstr (error->message, "job"));
    g_clear_error (&error);
  }
  g_assert_cmpuint (orch_scheduler_count (f.sched), ==, 0);
  fake_clear (&f);
}

static void
test_pause_resume_trigger_update (void)
{
  Fake f;
  OrchSchedule *s;
  g_autoptr(GError) error = NULL;
  g_autofree char *job = NULL;
  g_autofree char *cal = NULL;
  g_autofree char *id = NULL;

  fake_init (&f, NULL);
  s = create (&f, "'interval_s': <uint64 10>");
  id = g_strdup (orch_schedule_id (s)); /* an Update replaces the object */
  g_assert_true (orch_scheduler_set_paused (f.sched, id, TRUE, &error));
  g_assert_cmpint (orch_scheduler_next_wakeup (f.sched), ==, G_MAXINT64);
  advance (&f, T0 + 100 * S);
  g_assert_cmpuint (f.created->len, ==, 0);
  g_assert_true (orch_scheduler_set_paused (f.sched, id, FALSE, &error));
  g_assert_cmpint (rec_t (s, "next_run_at"), ==, T0 + 110 * S);

  f.now = T0 + 105 * S;
  job = orch_scheduler_trigger (f.sched, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (job, ==, f.created->pdata[0]);
  g_assert_cmpint (rec_t (s, "next_run_at"), ==, T0 + 115 * S);

  {
    g_autoptr(GVariant) p = g_variant_ref_sink (
        g_variant_new_parsed ("{'calendar': <'*-*-* 12:00 UTC'>}"));
    g_assert_true (orch_scheduler_update (f.sched, id, p, &error));
    g_assert_no_error (error);
  }
  s = orch_scheduler_lookup (f.sched, id, NULL);
  cal = rec_s (s, "calendar");
  g_assert_cmpstr (cal, ==, "*-*-* 12:00 UTC");
  g_assert_cmpint (rec_t (s, "next_run_at"), ==, T0 + 2 * 3600 * S);
  g_assert_cmpuint (rec_u (s, "runs"), ==, 1);
  /* a bad update changes nothing */
  {
    g_autoptr(GVariant) p = g_variant_ref_sink (g_variant_new_parsed ("{'cron': <'* * * *'>}"));
    g_assert_false (orch_scheduler_update (f.sched, id, p, &error));
    g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }
  g_assert_cmpint (rec_t (orch_scheduler_lookup (f.sched, id, NULL), "next_run_at"), ==,
                   T0 + 2 * 3600 * S);
  g_assert_true (orch_scheduler_remove (f.sched, id, &error));
  g_assert_null (orch_scheduler_lookup (f.sched, id, &error));
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_NOT_FOUND);
  fake_clear (&f);
}

static void
test_clock_changed (void)
{
  Fake f;
  OrchSchedule *cal, *iv;

  fake_init (&f, NULL);
  cal = create (&f, "'calendar': <'*-*-* 12:00 UTC'>");
  iv = create (&f, "'interval_s': <uint64 60>");
  g_assert_cmpint (rec_t (cal, "next_run_at"), ==, T0 + 2 * 3600 * S);
  /* set back a day: the calendar's next is today's noon again, from the
   * new now; the interval's is at most one interval away */
  f.now = T0 - 24 * 3600 * S;
  orch_scheduler_clock_changed (f.sched);
  g_assert_cmpint (rec_t (cal, "next_run_at"), ==, T0 + 2 * 3600 * S - 24 * 3600 * S);
  g_assert_cmpint (rec_t (iv, "next_run_at"), ==, f.now + 60 * S);
  g_assert_cmpuint (f.created->len, ==, 0);
  /* set forward past both: they run once, not once per missed elapse */
  f.now = T0 + 3 * 3600 * S;
  orch_scheduler_clock_changed (f.sched);
  g_assert_cmpuint (f.created->len, ==, 1); /* the interval's, now overdue */
  g_assert_cmpint (rec_t (cal, "next_run_at"), ==, T0 + 26 * 3600 * S);
  fake_clear (&f);
}

static void
test_persistent_restore (void)
{
  g_autofree char *dir = g_dir_make_tmp ("orch-sched-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *p_id = NULL, *n_id = NULL, *k_id = NULL;
  gint64 keep_next;
  Fake f;

  {
    g_autoptr(OrchState) state = orch_state_open (dir, &error);
    g_assert_no_error (error);
    fake_init (&f, state);
    p_id = g_strdup (
        orch_schedule_id (create (&f, "'calendar': <'*-*-* 11:00 UTC'>, 'persistent': <true>")));
    n_id = g_strdup (orch_schedule_id (create (&f, "'calendar': <'*-*-* 11:00 UTC'>")));
    k_id = g_strdup (orch_schedule_id (create (&f, "'calendar': <'*-*-* 18:00 UTC'>")));
    keep_next = (gint64) rec_t (orch_scheduler_lookup (f.sched, k_id, NULL), "next_run_at");
    fake_clear (&f);
  }
  {
    /* the daemon comes back at 12:00, past 11:00 */
    g_autoptr(OrchState) state = orch_state_open (dir, &error);
    g_assert_no_error (error);
    fake_init (&f, state);
    f.now = T0 + 2 * 3600 * S;
    g_assert_true (orch_scheduler_restore (f.sched, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (orch_scheduler_count (f.sched), ==, 3);
    g_assert_cmpuint (f.created->len, ==, 1); /* the persistent one, once */
    g_assert_cmpuint (rec_u (orch_scheduler_lookup (f.sched, p_id, NULL), "runs"), ==, 1);
    g_assert_cmpuint (rec_u (orch_scheduler_lookup (f.sched, n_id, NULL), "runs"), ==, 0);
    g_assert_cmpint (rec_t (orch_scheduler_lookup (f.sched, n_id, NULL), "next_run_at"), ==,
                     T0 + 25 * 3600 * S);
    g_assert_cmpint (rec_t (orch_scheduler_lookup (f.sched, k_id, NULL), "next_run_at"), ==,
                     keep_next);
    g_assert_true (orch_scheduler_set_paused (f.sched, k_id, TRUE, &error));
    fake_clear (&f);
  }
  {
    g_autoptr(OrchState) state = orch_state_open (dir, &error);
    g_autofree char *st = NULL;
    fake_init (&f, state);
    f.now = T0 + 2 * 3600 * S + 1;
    g_assert_true (orch_scheduler_restore (f.sched, &error));
    /* no second catch-up; the pause held */
    g_assert_cmpuint (f.created->len, ==, 0);
    g_assert_cmpuint (rec_u (orch_scheduler_lookup (f.sched, p_id, NULL), "runs"), ==, 1);
    st = rec_s (orch_scheduler_lookup (f.sched, k_id, NULL), "state");
    g_assert_cmpstr (st, ==, "paused");
    g_assert_true (orch_scheduler_remove (f.sched, k_id, &error));
    fake_clear (&f);
  }
  {
    g_autoptr(OrchState) state = orch_state_open (dir, &error);
    fake_init (&f, state);
    g_assert_true (orch_scheduler_restore (f.sched, &error));
    g_assert_cmpuint (orch_scheduler_count (f.sched), ==, 2);
    fake_clear (&f);
  }
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
    g_assert_cmpint (system (cmd), ==, 0);
  }
}

static void
test_heap_many (void)
{
  Fake f;
  GRand *r = g_rand_new_with_seed (7);
  gint64 last = 0;

  fake_init (&f, NULL);
  for (guint i = 0; i < 2000; i++)
    {
      g_autofree char *extra = g_strdup_printf (
          "'interval_s': <uint64 %u>, 'overlap': <'parallel'>", g_rand_int_range (r, 1, 5000));
      create (&f, extra);
    }
  /* remove some to exercise the heap's removal */
  {
    g_autoptr(GPtrArray) all = orch_scheduler_list (f.sched, NULL);
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
    for (guint i = 0; i < all->len; i += 3)
      g_ptr_array_add (ids, g_strdup (orch_schedule_id (all->pdata[i])));
    for (guint i = 0; i < ids->len; i++)
      g_assert_true (orch_scheduler_remove (f.sched, ids->pdata[i], NULL));
  }
  /* the wake-ups come in order and each is due */
  for (guint i = 0; i < 500; i++)
    {
      gint64 next = orch_scheduler_next_wakeup (f.sched);
      g_assert_cmpint (next, >=, last);
      last = next;
      advance (&f, next);
      g_assert_cmpint (orch_scheduler_next_wakeup (f.sched), >, next);
    }
  g_rand_free (r);
  fake_clear (&f);
}

/* Twenty schedules due at the same second: a pass starts a few, says
 * more is due, and the next passes start the rest, each exactly once. */
static void
test_many_due_at_once (void)
{
  Fake f;
  guint passes = 0;

  fake_init (&f, NULL);
  for (guint i = 0; i < 20; i++)
    create (&f, "'calendar': <'*:*:00'>, 'overlap': <'parallel'>");
  f.now = T0 + 60 * S;
  while (orch_scheduler_run_due (f.sched))
    {
      passes++;
      g_assert_cmpuint (f.created->len, ==, passes * ORCH_SCHEDULER_RUNS_PER_PASS);
      g_assert_cmpint (orch_scheduler_next_wakeup (f.sched), <=, f.now);
    }
  g_assert_cmpuint (f.created->len, ==, 20);
  g_assert_cmpuint (passes, ==, (20 - 1) / ORCH_SCHEDULER_RUNS_PER_PASS);
  g_assert_cmpint (orch_scheduler_next_wakeup (f.sched), ==, T0 + 120 * S);
  fake_clear (&f);
}

int
main (int argc, char **argv)
{
  g_setenv ("TZ", "UTC", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scheduler/calendar-runs", test_calendar_runs);
  g_test_add_func ("/scheduler/overlap-skip", test_overlap_skip);
  g_test_add_func ("/scheduler/overlap-queue", test_overlap_queue);
  g_test_add_func ("/scheduler/overlap-parallel-replace", test_overlap_parallel_replace);
  g_test_add_func ("/scheduler/refused-run-is-skipped", test_refused_run_is_skipped);
  g_test_add_func ("/scheduler/randomized-delay", test_randomized_delay);
  g_test_add_func ("/scheduler/bad-input", test_bad_input);
  g_test_add_func ("/scheduler/pause-resume-trigger-update", test_pause_resume_trigger_update);
  g_test_add_func ("/scheduler/clock-changed", test_clock_changed);
  g_test_add_func ("/scheduler/persistent-restore", test_persistent_restore);
  g_test_add_func ("/scheduler/heap-many", test_heap_many);
  g_test_add_func ("/scheduler/many-due-at-once", test_many_due_at_once);
  return g_test_run ();
}
