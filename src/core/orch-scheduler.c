/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-scheduler.h"
#include "basic/orch-calendar.h"
#include "basic/orch-cron.h"
#include "basic/orch-error.h"
#include "basic/orch-id.h"
#include "basic/orch-vardict.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define MAX_INTERVAL_S (10ull * 366 * 24 * 3600)
#define MAX_DELAY_S (366u * 24 * 3600)

/* A job of the schedule's still going. */
typedef struct {
  char *job_id;
  gint64 deadline;    /* wall clock, µs: its start + timeout_s; 0: none */
  guint source;       /* the timeout armed for the deadline, 0: none */
  gboolean timed_out; /* stopped for its timeout_s */
} Run;

/* Kept small (issue 16: < 2 MiB per 10 000 schedules): what the timer
 * and the counters need.  The definition (the params: job spec, name,
 * expression) lives in the state database and is read when needed (a
 * run, a record, an update); the calendar or cron expression is parsed
 * then too.  Without a database the params are held in the scheduler's
 * params table.  120 bytes: malloc's 128-byte chunk. */
struct _OrchSchedule {
  /* First: a schedule is its own key in the scheduler's id table, a set
   * (GHashTable keeps no separate values array when key == value). */
  char id[ORCH_SCHEDULE_ID_LEN + 1];
  guint8 overlap; /* OrchOverlap */
  guint8 persistent : 1;
  guint8 paused : 1;
  guint8 queued : 1;  /* a run waits for the running ones to end */
  guint8 last_result; /* index in the scheduler's results */
  guint32 interval_s; /* 0: the trigger is a calendar or cron expression */
  guint32 randomized_delay_s;
  guint32 timeout_s;
  guint32 runs;
  guint32 skipped;
  guint heap_pos; /* index + 1 in the heap, 0 when not in it */
  gint64 created_at;
  gint64 next_elapse; /* the trigger's time */
  gint64 next_run_at; /* plus the random delay: when it runs */
  gint64 last_elapse; /* the last elapse handled, run or skipped */
  gint64 last_run_at;
  char *last_job_id;
  char *last_skip_reason;
  GArray *active; /* Run: its jobs still going; NULL when none */
};
G_STATIC_ASSERT (sizeof (OrchSchedule) <= 120);

/* A parsed trigger, held only while a next time is computed. */
typedef struct {
  OrchCalendar *cal;
  OrchCron *cr;
  guint32 interval_s;
} Trigger;

static void
trigger_clear (Trigger *t)
{
  g_clear_pointer (&t->cal, orch_calendar_free);
  g_clear_pointer (&t->cr, orch_cron_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Trigger, trigger_clear)

struct _OrchScheduler {
  OrchState *state;
  OrchSchedulerOps ops;
  gpointer data;
  OrchClockFunc clock;
  gpointer clock_data;
  GRand *rand;
  GHashTable *by_id;  /* the schedules (owned), a set keyed by their id */
  GHashTable *params; /* id -> params, without a state database only */
  GPtrArray *results; /* interned results: "", running, exited, failed, ... */
  GPtrArray *heap;    /* min-heap on next_run_at of the active ones */
  int tfd;
  guint tfd_source;
  gint64 armed; /* what the timer is set to (clock's time), 0: disarmed */
};

static const char *const overlap_names[] = {
  [ORCH_OVERLAP_SKIP] = "skip",
  [ORCH_OVERLAP_QUEUE] = "queue",
  [ORCH_OVERLAP_PARALLEL] = "parallel",
  [ORCH_OVERLAP_REPLACE] = "replace",
};

const char *
orch_overlap_to_string (OrchOverlap o)
{
  g_return_val_if_fail ((guint) o < G_N_ELEMENTS (overlap_names), "skip");
  return overlap_names[o];
}

gboolean
orch_overlap_from_string (const char *s, OrchOverlap *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (overlap_names); i++)
    if (g_strcmp0 (s, overlap_names[i]) == 0)
      {
        *out = (OrchOverlap) i;
        return TRUE;
      }
  return FALSE;
}

static gint64
now_of (OrchScheduler *self)
{
  return self->clock ? self->clock (self->clock_data) : g_get_real_time ();
}

/* ---- the heap ---- */

static gboolean
earlier (const OrchSchedule *a, const OrchSchedule *b)
{
  if (a->next_run_at != b->next_run_at)
    return a->next_run_at < b->next_run_at;
  return g_strcmp0 (a->id, b->id) < 0;
}

static void
heap_set (OrchScheduler *self, guint i, OrchSchedule *s)
{
  self->heap->pdata[i] = s;
  s->heap_pos = i + 1;
}

static void
heap_up (OrchScheduler *self, guint i)
{
  OrchSchedule *s = self->heap->pdata[i];

  while (i > 0)
    {
      guint parent = (i - 1) / 2;
      OrchSchedule *p = self->heap->pdata[parent];
      if (!earlier (s, p))
        break;
      heap_set (self, i, p);
      i = parent;
    }
  heap_set (self, i, s);
}

static void
heap_down (OrchScheduler *self, guint i)
{
  OrchSchedule *s = self->heap->pdata[i];
  guint n = self->heap->len;

  for (;;)
    {
      guint c = 2 * i + 1;
      if (c >= n)
        break;
      if (c + 1 < n && earlier (self->heap->pdata[c + 1], self->heap->pdata[c]))
        c++;
      if (!earlier (self->heap->pdata[c], s))
        break;
      heap_set (self, i, self->heap->pdata[c]);
      i = c;
    }
  heap_set (self, i, s);
}

static void
heap_remove (OrchScheduler *self, OrchSchedule *s)
{
  guint i, last;

  if (s->heap_pos == 0)
    return;
  i = s->heap_pos - 1;
  last = self->heap->len - 1;
  s->heap_pos = 0;
  if (i != last)
    {
      heap_set (self, i, self->heap->pdata[last]);
      g_ptr_array_set_size (self->heap, last);
      heap_down (self, i);
      heap_up (self, ((OrchSchedule *) self->heap->pdata[i])->heap_pos - 1);
    }
  else
    g_ptr_array_set_size (self->heap, last);
}

static void
heap_push (OrchScheduler *self, OrchSchedule *s)
{
  heap_remove (self, s);
  g_ptr_array_add (self->heap, s);
  heap_up (self, self->heap->len - 1);
}

/* ---- the timer ---- */

static void
arm (OrchScheduler *self)
{
  struct itimerspec its = { 0 };
  gint64 next = 0;

  if (self->heap->len > 0)
    next = ((OrchSchedule *) self->heap->pdata[0])->next_run_at;
  if (next == self->armed || self->tfd < 0)
    return;
  self->armed = next;
  if (next != 0)
    {
      /* The clock may be a test's: the timer runs on the real one. */
      gint64 real = next - (now_of (self) - g_get_real_time ());
      real = MAX (real, 1);
      its.it_value.tv_sec = real / G_USEC_PER_SEC;
      its.it_value.tv_nsec = (real % G_USEC_PER_SEC) * 1000;
    }
  if (timerfd_settime (self->tfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) < 0)
    g_warning ("scheduler: cannot arm the timer: %s", g_strerror (errno));
}

static gboolean
timer_cb (int fd, GIOCondition cond, gpointer data)
{
  OrchScheduler *self = data;
  guint64 expirations;

  self->armed = 0;
  if (read (fd, &expirations, sizeof expirations) < 0)
    {
      if (errno == ECANCELED)
        {
          g_message ("%s",
                     _("the system clock was set: computing every schedule's next run again"));
          orch_scheduler_clock_changed (self);
          return G_SOURCE_CONTINUE;
        }
      if (errno == EAGAIN || errno == EINTR)
        {
          arm (self);
          return G_SOURCE_CONTINUE;
        }
      g_warning ("scheduler: cannot read the timer: %s", g_strerror (errno));
    }
  (void) orch_scheduler_run_due (self);
  return G_SOURCE_CONTINUE;
}

/* ---- records ---- */

static void
run_clear (Run *r)
{
  if (r->source)
    g_source_remove (r->source);
  g_free (r->job_id);
}

static void
schedule_free (OrchSchedule *s)
{
  if (s == NULL)
    return;
  g_clear_pointer (&s->active, g_array_unref);
  g_free (s->last_job_id);
  g_free (s->last_skip_reason);
  g_free (s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchSchedule, schedule_free)

static OrchSchedule *
schedule_new (void)
{
  return g_new0 (OrchSchedule, 1); /* last_result 0: "" */
}

/* Results are few (a job's end states, running, timeout, skipped): a
 * schedule keeps a byte, not a pointer. */
static void
set_result (OrchScheduler *self, OrchSchedule *s, const char *result)
{
  const char *interned = g_intern_string (result);
  guint i;

  for (i = 0; i < self->results->len; i++)
    if (self->results->pdata[i] == interned)
      break;
  if (i == self->results->len)
    {
      if (i > G_MAXUINT8)
        {
          g_warning ("scheduler: too many different results, “%s” not kept", result);
          i = 0;
        }
      else
        g_ptr_array_add (self->results, (gpointer) interned);
    }
  s->last_result = (guint8) i;
}

static const char *
last_result (OrchScheduler *self, const OrchSchedule *s)
{
  return self->results->pdata[s->last_result];
}

static guint
n_active (const OrchSchedule *s)
{
  return s->active ? s->active->len : 0;
}

static Run *
active_run (const OrchSchedule *s, guint i)
{
  return &g_array_index (s->active, Run, i);
}

static Run *
add_run (OrchSchedule *s, const char *job_id)
{
  Run r = { .job_id = g_strdup (job_id) };

  if (s->active == NULL)
    {
      s->active = g_array_sized_new (FALSE, TRUE, sizeof (Run), 1);
      g_array_set_clear_func (s->active, (GDestroyNotify) run_clear);
    }
  g_array_append_val (s->active, r);
  return active_run (s, s->active->len - 1);
}

static void
remove_run (OrchSchedule *s, guint i)
{
  g_array_remove_index (s->active, i);
  if (s->active->len == 0)
    g_clear_pointer (&s->active, g_array_unref);
}

const char *
orch_schedule_id (const OrchSchedule *s)
{
  return s->id;
}

static const char *const param_types[] = {
  "name",      "s", "job",        "a{sv}", "calendar",           "s",
  "cron",      "s", "timezone",   "s",     "interval_s",         "t",
  "overlap",   "s", "persistent", "b",     "randomized_delay_s", "u",
  "timeout_s", "u", NULL
};

static gboolean
field_error (GError **error, const char *field, const char *what)
{
  g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT, _("schedule field “%s”: %s"), field,
               what);
  return FALSE;
}

/* The trigger @params name, parsed (their keys already type-checked). */
static gboolean
trigger_parse (GVariant *params, Trigger *t, GError **error)
{
  const char *calendar = NULL, *cron = NULL, *tz = NULL;
  guint64 interval = 0;
  gboolean has_interval;
  guint n_triggers;

  g_variant_lookup (params, "calendar", "&s", &calendar);
  g_variant_lookup (params, "cron", "&s", &cron);
  g_variant_lookup (params, "timezone", "&s", &tz);
  has_interval = g_variant_lookup (params, "interval_s", "t", &interval);
  n_triggers = (calendar != NULL) + (cron != NULL) + has_interval;
  if (n_triggers != 1)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("a schedule needs exactly one of “calendar”, “cron”, “interval_s” (%u given)"),
                   n_triggers);
      return FALSE;
    }
  if (tz && cron == NULL)
    return field_error (
        error, "timezone",
        _("only applies to “cron” (a calendar expression names its zone at its end)"));
  if (calendar)
    {
      t->cal = orch_calendar_parse (calendar, error);
      if (t->cal == NULL)
        {
          g_prefix_error (error, _("schedule field “%s”: "), "calendar");
          return FALSE;
        }
    }
  else if (cron)
    {
      t->cr = orch_cron_parse (cron, tz, error);
      if (t->cr == NULL)
        {
          g_prefix_error (error, _("schedule field “%s”: "),
                          tz && !strstr ((*error)->message, "cron") ? "timezone" : "cron");
          return FALSE;
        }
    }
  else
    {
      if (interval == 0 || interval > MAX_INTERVAL_S)
        return field_error (error, "interval_s", _("must be between 1 and 316224000 seconds"));
      t->interval_s = (guint32) interval;
    }
  return TRUE;
}

/* Fills @s's definition from @params and parses its trigger into @t.
 * @check_job: validate the job spec now (Create, Update); not at restore,
 * where a user deleted since is the run's business (it is recorded as
 * skipped with the reason). */
static gboolean
schedule_parse (OrchScheduler *self, OrchSchedule *s, GVariant *params, gboolean check_job,
                Trigger *t, GError **error)
{
  const char *name = "", *overlap = "skip";
  OrchOverlap ov;
  gboolean persistent = FALSE;
  g_autoptr(GVariant) job = NULL;

  if (!orch_vardict_check (params, _("schedule field"), param_types, error))
    return FALSE;
  g_variant_lookup (params, "name", "&s", &name);
  g_variant_lookup (params, "overlap", "&s", &overlap);
  g_variant_lookup (params, "persistent", "b", &persistent);
  s->persistent = persistent != FALSE;
  s->randomized_delay_s = 0;
  g_variant_lookup (params, "randomized_delay_s", "u", &s->randomized_delay_s);
  s->timeout_s = 0;
  g_variant_lookup (params, "timeout_s", "u", &s->timeout_s);
  job = g_variant_lookup_value (params, "job", G_VARIANT_TYPE_VARDICT);

  if (!trigger_parse (params, t, error))
    return FALSE;
  s->interval_s = t->interval_s;
  /* Characters, as a job's name is counted (the D-Bus layer has made
   * sure it is UTF-8). */
  if (g_utf8_strlen (name, -1) > 256)
    return field_error (error, "name", _("longer than 256 characters"));
  if (!orch_overlap_from_string (overlap, &ov))
    {
      g_autofree char *what = g_strdup_printf (
          _("“%s” is not one of skip, queue, parallel, replace"), overlap);
      return field_error (error, "overlap", what);
    }
  s->overlap = (guint8) ov;
  if (s->randomized_delay_s > MAX_DELAY_S)
    return field_error (error, "randomized_delay_s", _("more than a year"));
  if (job == NULL)
    return field_error (error, "job", _("missing: the job spec to run (as for Jobs.Create)"));
  if (g_variant_lookup (job, "request_id", "*", NULL))
    return field_error (
        error, "job", _("“request_id” makes no sense in a schedule's job: every run is a new job"));
  if (check_job && self->ops.check && !self->ops.check (job, self->data, error))
    {
      g_prefix_error (error, _("schedule field “%s”: "), "job");
      return FALSE;
    }
  return TRUE;
}

/* @s's params: held, or read from the database; NULL (and a warning)
 * when they cannot be read. */
static GVariant *
schedule_params (OrchScheduler *self, const OrchSchedule *s, GError **error)
{
  g_autoptr(GVariant) record = NULL;
  GVariant *params;

  if (self->state == NULL)
    {
      params = g_hash_table_lookup (self->params, s->id);
      if (params)
        return g_variant_ref (params);
      g_set_error_literal (error, ORCH_ERROR, ORCH_ERROR_FAILED, "no params");
      return NULL;
    }
  record = orch_state_load_schedule (self->state, s->id, error);
  if (record == NULL)
    return NULL;
  params = g_variant_lookup_value (record, "params", G_VARIANT_TYPE_VARDICT);
  if (params == NULL)
    g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("schedule %s: no definition stored"),
                 s->id);
  return params;
}

/* @s's trigger, parsed again from its params. */
static gboolean
schedule_trigger (OrchScheduler *self, const OrchSchedule *s, Trigger *t, GError **error)
{
  g_autoptr(GVariant) params = NULL;

  if (s->interval_s)
    {
      t->interval_s = s->interval_s;
      return TRUE;
    }
  params = schedule_params (self, s, error);
  return params && trigger_parse (params, t, error);
}

/* The trigger's first time strictly after @after, FALSE if none. */
static gboolean
trigger_next (const OrchSchedule *s, const Trigger *t, gint64 after, gint64 *ret)
{
  if (t->cal)
    return orch_calendar_next (t->cal, after, ret);
  if (t->cr)
    return orch_cron_next (t->cr, after, ret);
  *ret = after + (gint64) s->interval_s * G_USEC_PER_SEC;
  return TRUE;
}

static gint64
random_delay (OrchScheduler *self, const OrchSchedule *s)
{
  if (s->randomized_delay_s == 0)
    return 0;
  /* Uniform over [0, delay], as RandomizedDelaySec=. */
  return (gint64) g_rand_double_range (self->rand, 0,
                                       (double) s->randomized_delay_s * G_USEC_PER_SEC);
}

/* Sets the next elapse after @now and puts @s in the heap; an expression
 * that never elapses again (or whose definition cannot be read) leaves
 * it out (next_run_at 0).  @t: the trigger when the caller has it. */
static void
plan_with (OrchScheduler *self, OrchSchedule *s, const Trigger *t, gint64 now)
{
  g_auto (Trigger) own = { 0 };
  g_autoptr(GError) error = NULL;
  gint64 e = 0;
  gboolean ok;

  heap_remove (self, s);
  if (s->interval_s)
    {
      /* Every N seconds from the last run's start, or the last elapse
       * handled (a skipped one), or the creation. */
      gint64 iv = (gint64) s->interval_s * G_USEC_PER_SEC;
      gint64 anchor = MAX (MAX (s->last_run_at, s->last_elapse), s->created_at);
      e = anchor + iv;
      if (e <= now)
        e += ((now - e) / iv + 1) * iv;
      ok = TRUE;
    }
  else
    {
      if (t == NULL && !schedule_trigger (self, s, &own, &error))
        {
          g_warning (_("schedule %s: %s"), s->id, error->message);
          s->next_elapse = s->next_run_at = 0;
          return;
        }
      if (t == NULL)
        t = &own;
      /* From the elapse just handled (a run late by its random delay must
       * not lose the next one), but never into the past: no catch-up
       * bursts after the daemon was stopped or suspended. */
      ok = trigger_next (s, t, MAX (s->last_elapse, s->created_at), &e);
      if (ok && e <= now)
        ok = trigger_next (s, t, now, &e);
    }
  if (!ok)
    {
      s->next_elapse = s->next_run_at = 0;
      return;
    }
  s->next_elapse = e;
  s->next_run_at = e + random_delay (self, s);
  if (!s->paused)
    heap_push (self, s);
}

static void
plan (OrchScheduler *self, OrchSchedule *s, gint64 now)
{
  plan_with (self, s, NULL, now);
}

/* The schedule record from its state and @params (its definition). */
static GVariant *
record_with (OrchScheduler *self, const OrchSchedule *s, GVariant *params)
{
  static const char *const defined[] = { "name", "calendar", "cron", "timezone", "job", NULL };
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "id", g_variant_new_string (s->id));
  for (guint i = 0; defined[i]; i++)
    {
      g_autoptr(GVariant) v = params ? g_variant_lookup_value (params, defined[i], NULL) : NULL;
      if (v)
        g_variant_builder_add (&b, "{sv}", defined[i], v);
      else if (i == 0)
        g_variant_builder_add (&b, "{sv}", "name", g_variant_new_string (""));
    }
  if (s->interval_s)
    g_variant_builder_add (&b, "{sv}", "interval_s", g_variant_new_uint64 (s->interval_s));
  g_variant_builder_add (&b, "{sv}", "state",
                         g_variant_new_string (s->paused ? "paused" : "active"));
  g_variant_builder_add (&b, "{sv}", "next_run_at",
                         g_variant_new_uint64 (s->paused ? 0 : (guint64) s->next_run_at));
  g_variant_builder_add (&b, "{sv}", "next_elapse_at",
                         g_variant_new_uint64 (s->paused ? 0 : (guint64) s->next_elapse));
  g_variant_builder_add (&b, "{sv}", "last_run_at",
                         g_variant_new_uint64 ((guint64) s->last_run_at));
  g_variant_builder_add (&b, "{sv}", "last_job_id",
                         g_variant_new_string (s->last_job_id ? s->last_job_id : ""));
  g_variant_builder_add (&b, "{sv}", "last_result", g_variant_new_string (last_result (self, s)));
  g_variant_builder_add (&b, "{sv}", "last_skip_reason",
                         g_variant_new_string (s->last_skip_reason ? s->last_skip_reason : ""));
  g_variant_builder_add (&b, "{sv}", "runs", g_variant_new_uint32 (s->runs));
  g_variant_builder_add (&b, "{sv}", "skipped", g_variant_new_uint32 (s->skipped));
  g_variant_builder_add (&b, "{sv}", "running", g_variant_new_uint32 (n_active (s)));
  g_variant_builder_add (&b, "{sv}", "overlap",
                         g_variant_new_string (orch_overlap_to_string (s->overlap)));
  g_variant_builder_add (&b, "{sv}", "persistent", g_variant_new_boolean (s->persistent));
  g_variant_builder_add (&b, "{sv}", "randomized_delay_s",
                         g_variant_new_uint32 (s->randomized_delay_s));
  g_variant_builder_add (&b, "{sv}", "timeout_s", g_variant_new_uint32 (s->timeout_s));
  g_variant_builder_add (&b, "{sv}", "created_at", g_variant_new_uint64 ((guint64) s->created_at));
  return g_variant_builder_end (&b);
}

GVariant *
orch_scheduler_record (OrchScheduler *self, const OrchSchedule *s)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) params = schedule_params (self, s, &error);

  /* The state is still worth showing when the definition cannot be read. */
  if (params == NULL)
    g_warning (_("schedule %s: %s"), s->id, error->message);
  return record_with (self, s, params);
}

/* What the database keeps: the definition as given, and the state. */
static GVariant *
storage_variant (OrchScheduler *self, const OrchSchedule *s, GVariant *params)
{
  g_autoptr(GPtrArray) running = g_ptr_array_new ();
  GVariantBuilder deadlines;

  g_variant_builder_init (&deadlines, G_VARIANT_TYPE ("ax"));
  for (guint i = 0; i < n_active (s); i++)
    {
      g_ptr_array_add (running, active_run (s, i)->job_id);
      g_variant_builder_add (&deadlines, "x", active_run (s, i)->deadline);
    }
  g_ptr_array_add (running, NULL);
  return g_variant_new_parsed (
      "{'id': <%s>, 'params': <%@a{sv}>, 'paused': <%b>, 'created_at': <%x>, 'next_elapse': <%x>,"
      " 'next_run_at': <%x>, 'last_elapse': <%x>, 'last_run_at': <%x>, 'last_job_id': <%s>,"
      " 'last_result': <%s>, 'last_skip_reason': <%s>, 'runs': <%u>, 'skipped': <%u>,"
      " 'queued': <%b>, 'running': <%^as>, 'deadlines': <%@ax>}",
      s->id, params, (gboolean) s->paused, s->created_at, s->next_elapse, s->next_run_at,
      s->last_elapse, s->last_run_at, s->last_job_id ? s->last_job_id : "", last_result (self, s),
      s->last_skip_reason ? s->last_skip_reason : "", s->runs, s->skipped, (gboolean) s->queued,
      (char **) running->pdata, g_variant_builder_end (&deadlines));
}

/* @params: the definition to store, NULL: the one stored. */
static gboolean
save_with (OrchScheduler *self, OrchSchedule *s, GVariant *params, GError **error)
{
  g_autoptr(GVariant) stored = NULL;
  g_autoptr(GVariant) v = NULL;

  if (self->state == NULL)
    return TRUE;
  if (params == NULL && (params = stored = schedule_params (self, s, error)) == NULL)
    return FALSE;
  v = g_variant_ref_sink (storage_variant (self, s, params));
  return orch_state_save_schedule (self->state, s->id, v, error);
}

static gboolean
save (OrchScheduler *self, OrchSchedule *s, GError **error)
{
  return save_with (self, s, NULL, error);
}

/* After a change that no caller waits for (a run, its end): a failure
 * is logged; the next change saves everything again. */
static void
save_and_tell (OrchScheduler *self, OrchSchedule *s)
{
  g_autoptr(GError) error = NULL;

  if (!save (self, s, &error))
    g_warning (_("schedule %s: %s"), s->id, error->message);
  if (self->ops.changed)
    self->ops.changed (s, self->data);
}

/* ---- runs ---- */

static void
set_str (char **field, const char *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

static void
skip (OrchScheduler *self, OrchSchedule *s, const char *reason)
{
  s->skipped++;
  set_result (self, s, "skipped");
  set_str (&s->last_skip_reason, reason);
  g_message (_("schedule %s: run skipped: %s"), s->id, reason);
}

typedef struct {
  OrchScheduler *self;
  char schedule_id[ORCH_SCHEDULE_ID_LEN + 1];
  char *job_id;
} Timeout;

static void
timeout_free (gpointer data)
{
  Timeout *t = data;

  g_free (t->job_id);
  g_free (t);
}

static Run *
find_run (const OrchSchedule *s, const char *job_id, guint *ret_index)
{
  for (guint i = 0; i < n_active (s); i++)
    if (g_strcmp0 (active_run (s, i)->job_id, job_id) == 0)
      {
        if (ret_index)
          *ret_index = i;
        return active_run (s, i);
      }
  return NULL;
}

/* The run went past its deadline: stopped; its end says "timeout". */
static void
time_out (OrchScheduler *self, OrchSchedule *s, Run *r)
{
  r->timed_out = TRUE;
  g_message (_("schedule %s: job %s ran longer than %u s: stopping it"), s->id, r->job_id,
             s->timeout_s);
  if (self->ops.stop)
    self->ops.stop (r->job_id, self->data);
}

static gboolean
timeout_cb (gpointer data)
{
  Timeout *t = data;
  OrchSchedule *s = g_hash_table_lookup (t->self->by_id, t->schedule_id);
  Run *r = s ? find_run (s, t->job_id, NULL) : NULL;

  if (r == NULL)
    return G_SOURCE_REMOVE;
  r->source = 0;
  time_out (t->self, s, r);
  return G_SOURCE_REMOVE;
}

/* Arms @r's timeout for its deadline, which is after @now. */
static void
arm_timeout (OrchScheduler *self, OrchSchedule *s, Run *r, gint64 now)
{
  Timeout *t = g_new0 (Timeout, 1);
  gint64 ms = (r->deadline - now + 999) / 1000;

  t->self = self;
  g_strlcpy (t->schedule_id, s->id, sizeof t->schedule_id);
  t->job_id = g_strdup (r->job_id);
  r->source = g_timeout_add_full (G_PRIORITY_DEFAULT, (guint) CLAMP (ms, 1, G_MAXUINT), timeout_cb,
                                  t, timeout_free);
}

static char *
start_run (OrchScheduler *self, OrchSchedule *s, gint64 now, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GVariant) params = schedule_params (self, s, &local);
  g_autoptr(GVariant) job = params ? g_variant_lookup_value (params, "job", G_VARIANT_TYPE_VARDICT)
                                   : NULL;
  char *job_id = job ? self->ops.create (job, s->id, self->data, &local) : NULL;
  Run *r;

  if (job_id == NULL)
    {
      /* max_concurrent, a deny rule added since, a user deleted: a skipped
       * run, with the reason, never a silent one. */
      if (local == NULL)
        g_set_error (&local, ORCH_ERROR, ORCH_ERROR_FAILED, _("schedule %s: no job spec stored"),
                     s->id);
      skip (self, s, local->message);
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  s->runs++;
  s->last_run_at = now;
  set_str (&s->last_job_id, job_id);
  set_result (self, s, "running");
  r = add_run (s, job_id);
  if (s->timeout_s)
    {
      r->deadline = now + (gint64) s->timeout_s * G_USEC_PER_SEC;
      arm_timeout (self, s, r, now);
    }
  return job_id;
}

/* Lets go of the jobs that ended without our hearing of it (removed, or
 * ended while the daemon was down). */
static void
prune_running (OrchScheduler *self, OrchSchedule *s)
{
  for (guint i = n_active (s); i-- > 0;)
    if (self->ops.is_active && !self->ops.is_active (active_run (s, i)->job_id, self->data))
      remove_run (s, i);
}

/* One elapse of @s, by its overlap policy. */
static void
elapse (OrchScheduler *self, OrchSchedule *s, gint64 now)
{
  g_autofree char *job_id = NULL;

  s->last_elapse = s->next_elapse;
  prune_running (self, s);
  if (n_active (s) > 0)
    switch ((OrchOverlap) s->overlap)
      {
      case ORCH_OVERLAP_SKIP:
        skip (self, s, _("the previous run is still running (overlap=skip)"));
        return;
      case ORCH_OVERLAP_QUEUE:
        if (s->queued)
          skip (self, s, _("a run is already waiting for the running one (overlap=queue)"));
        s->queued = TRUE;
        return;
      case ORCH_OVERLAP_REPLACE:
        s->queued = TRUE;
        for (guint i = 0; i < n_active (s); i++)
          if (self->ops.stop)
            self->ops.stop (active_run (s, i)->job_id, self->data);
        return;
      case ORCH_OVERLAP_PARALLEL:
      default:
        break;
      }
  job_id = start_run (self, s, now, NULL);
}

gboolean
orch_scheduler_run_due (OrchScheduler *self)
{
  gint64 now = now_of (self);
  guint n = 0;

  while (self->heap->len > 0)
    {
      OrchSchedule *s = self->heap->pdata[0];
      if (s->next_run_at > now)
        break;
      if (n++ == ORCH_SCHEDULER_RUNS_PER_PASS)
        {
          /* The timer, armed in the past, fires again at once: what the
           * runs just started wait for (their units, the bus) goes first. */
          arm (self);
          return TRUE;
        }
      heap_remove (self, s);
      elapse (self, s, now);
      plan (self, s, now);
      save_and_tell (self, s);
    }
  arm (self);
  return FALSE;
}

void
orch_scheduler_job_ended (OrchScheduler *self, const char *schedule_id, const char *job_id,
                          const char *result)
{
  OrchSchedule *s = g_hash_table_lookup (self->by_id, schedule_id);
  guint i;
  Run *r = s ? find_run (s, job_id, &i) : NULL;
  gboolean timed_out;

  if (r == NULL)
    return;
  timed_out = r->timed_out;
  remove_run (s, i);
  if (g_strcmp0 (s->last_job_id, job_id) == 0)
    set_result (self, s, timed_out ? "timeout" : result);
  if (s->queued && n_active (s) == 0)
    {
      g_autofree char *next = NULL;
      s->queued = FALSE;
      next = start_run (self, s, now_of (self), NULL);
      if (next && s->interval_s)
        plan (self, s, now_of (self));
    }
  save_and_tell (self, s);
  arm (self);
}

/* ---- the API ---- */

static GVariant *
merge_params (GVariant *base, GVariant *changes)
{
  static const char *const triggers[] = { "calendar", "cron", "interval_s", "timezone", NULL };
  gboolean new_trigger = FALSE;
  GVariantBuilder b;
  GVariantIter it;
  const char *key;
  GVariant *value;

  for (guint i = 0; triggers[i]; i++)
    {
      g_autoptr(GVariant) v = g_variant_lookup_value (changes, triggers[i], NULL);
      new_trigger |= v != NULL;
    }
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  /* A new trigger replaces the old one whole. */
  g_variant_iter_init (&it, base);
  while (g_variant_iter_next (&it, "{&sv}", &key, &value))
    {
      g_autoptr(GVariant) owned = value;
      g_autoptr(GVariant) changed = g_variant_lookup_value (changes, key, NULL);
      if (changed || (new_trigger && g_strv_contains (triggers, key)))
        continue;
      g_variant_builder_add (&b, "{sv}", key, owned);
    }
  g_variant_iter_init (&it, changes);
  while (g_variant_iter_next (&it, "{&sv}", &key, &value))
    {
      g_autoptr(GVariant) owned = value;
      g_variant_builder_add (&b, "{sv}", key, owned);
    }
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

static const char *
never_field (GVariant *params, const char **ret_expr)
{
  *ret_expr = "";
  if (g_variant_lookup (params, "calendar", "&s", ret_expr))
    return "calendar";
  g_variant_lookup (params, "cron", "&s", ret_expr);
  return "cron";
}

static gboolean
never_elapses (GVariant *params, GError **error)
{
  const char *expr;
  const char *field = never_field (params, &expr);

  g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
               _("schedule field “%s”: “%s” never elapses after now"), field, expr);
  return FALSE;
}

OrchSchedule *
orch_scheduler_create (OrchScheduler *self, GVariant *params, GError **error)
{
  g_autoptr(OrchSchedule) s = schedule_new ();
  g_auto (Trigger) t = { 0 };
  gint64 now = now_of (self);

  if (!schedule_parse (self, s, params, TRUE, &t, error))
    return NULL;
  do
    {
      g_autofree char *id = orch_schedule_id_new (now, self->rand);
      g_strlcpy (s->id, id, sizeof s->id);
    }
  while (g_hash_table_contains (self->by_id, s->id));
  s->created_at = now;
  plan_with (self, s, &t, now);
  if (s->next_run_at == 0)
    {
      heap_remove (self, s);
      never_elapses (params, error);
      return NULL;
    }
  if (!save_with (self, s, params, error))
    {
      heap_remove (self, s);
      return NULL;
    }
  if (self->params)
    g_hash_table_insert (self->params, g_strdup (s->id), g_variant_get_normal_form (params));
  g_hash_table_add (self->by_id, s);
  arm (self);
  if (self->ops.changed)
    self->ops.changed (s, self->data);
  return g_steal_pointer (&s);
}

OrchSchedule *
orch_scheduler_lookup (OrchScheduler *self, const char *id, GError **error)
{
  OrchSchedule *s;

  /* As for jobs: a malformed id is the caller's mistake, not a miss. */
  if (!orch_schedule_id_is_valid (id))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a schedule id (sched_YYYYMMDD_HHMMSS_xxxxxx)"), id);
      return NULL;
    }
  s = g_hash_table_lookup (self->by_id, id);
  if (s == NULL)
    g_set_error (error, ORCH_ERROR, ORCH_ERROR_NOT_FOUND, _("no schedule “%s”"), id);
  return s;
}

static gint
by_created (gconstpointer a, gconstpointer b)
{
  const OrchSchedule *x = *(OrchSchedule *const *) a, *y = *(OrchSchedule *const *) b;

  if (x->created_at != y->created_at)
    return x->created_at < y->created_at ? -1 : 1;
  return strcmp (x->id, y->id);
}

static gboolean
named (OrchScheduler *self, const OrchSchedule *s, const char *name)
{
  g_autoptr(GVariant) params = schedule_params (self, s, NULL);
  const char *n = "";

  if (params)
    g_variant_lookup (params, "name", "&s", &n);
  return strcmp (n, name) == 0;
}

GPtrArray *
orch_scheduler_list (OrchScheduler *self, const char *name)
{
  GPtrArray *out = g_ptr_array_sized_new (g_hash_table_size (self->by_id));
  GHashTableIter it;
  gpointer s;

  g_hash_table_iter_init (&it, self->by_id);
  while (g_hash_table_iter_next (&it, &s, NULL))
    if (name == NULL || *name == '\0' || named (self, s, name))
      g_ptr_array_add (out, s);
  g_ptr_array_sort (out, by_created);
  return out;
}

guint
orch_scheduler_count (OrchScheduler *self)
{
  return g_hash_table_size (self->by_id);
}

gint64
orch_scheduler_next_wakeup (OrchScheduler *self)
{
  if (self->heap->len == 0)
    return G_MAXINT64;
  return ((OrchSchedule *) self->heap->pdata[0])->next_run_at;
}

gboolean
orch_scheduler_update (OrchScheduler *self, const char *id, GVariant *params, GError **error)
{
  OrchSchedule *old = orch_scheduler_lookup (self, id, error);
  g_autoptr(OrchSchedule) s = NULL;
  g_autoptr(GVariant) base = NULL;
  g_autoptr(GVariant) merged = NULL;
  g_auto (Trigger) t = { 0 };
  gboolean replan;

  if (old == NULL)
    return FALSE;
  if (!orch_vardict_check (params, _("schedule field"), param_types, error))
    return FALSE;
  base = schedule_params (self, old, error);
  if (base == NULL)
    return FALSE;
  merged = merge_params (base, params);
  s = schedule_new ();
  if (!schedule_parse (self, s, merged, TRUE, &t, error))
    return FALSE;
  /* The history goes on; the jobs running stay this schedule's. */
  memcpy (s->id, old->id, sizeof s->id);
  s->paused = old->paused;
  s->created_at = old->created_at;
  s->next_elapse = old->next_elapse;
  s->next_run_at = old->next_run_at;
  s->last_elapse = old->last_elapse;
  s->last_run_at = old->last_run_at;
  s->last_result = old->last_result;
  s->runs = old->runs;
  s->skipped = old->skipped;
  s->queued = old->queued;
  replan = s->interval_s != old->interval_s || s->randomized_delay_s != old->randomized_delay_s ||
           !g_variant_equal (base, merged);
  if (replan)
    {
      gint64 now = now_of (self);
      /* From now: the old trigger's history says nothing of the new one. */
      s->last_elapse = MAX (s->last_elapse, now);
      plan_with (self, s, &t, now);
      heap_remove (self, s);
      if (s->next_run_at == 0)
        return never_elapses (merged, error);
    }
  /* The running jobs (their timeouts find them by the schedule's id) and
   * the last results move over; saved with them. */
  s->active = g_steal_pointer (&old->active);
  s->last_job_id = g_steal_pointer (&old->last_job_id);
  s->last_skip_reason = g_steal_pointer (&old->last_skip_reason);
  if (!save_with (self, s, merged, error))
    {
      old->active = g_steal_pointer (&s->active);
      old->last_job_id = g_steal_pointer (&s->last_job_id);
      old->last_skip_reason = g_steal_pointer (&s->last_skip_reason);
      return FALSE;
    }
  heap_remove (self, old);
  g_hash_table_remove (self->by_id, old->id); /* frees old */
  if (!s->paused)
    heap_push (self, s);
  g_hash_table_add (self->by_id, s);
  if (self->params)
    g_hash_table_insert (self->params, g_strdup (s->id), g_variant_get_normal_form (merged));
  arm (self);
  if (self->ops.changed)
    self->ops.changed (s, self->data);
  s = NULL; /* owned by the table now */
  return TRUE;
}

gboolean
orch_scheduler_remove (OrchScheduler *self, const char *id, GError **error)
{
  OrchSchedule *s = orch_scheduler_lookup (self, id, error);
  char sid[ORCH_SCHEDULE_ID_LEN + 1];

  if (s == NULL)
    return FALSE;
  if (self->state && !orch_state_delete_schedule (self->state, id, error))
    return FALSE;
  g_strlcpy (sid, s->id, sizeof sid);
  heap_remove (self, s);
  g_hash_table_remove (self->by_id, sid);
  if (self->params)
    g_hash_table_remove (self->params, sid);
  arm (self);
  if (self->ops.removed)
    self->ops.removed (sid, self->data);
  return TRUE;
}

gboolean
orch_scheduler_set_paused (OrchScheduler *self, const char *id, gboolean paused, GError **error)
{
  OrchSchedule *s = orch_scheduler_lookup (self, id, error);
  gboolean was_queued;
  gint64 next_elapse, next_run_at, last_elapse;

  if (s == NULL)
    return FALSE;
  if (s->paused == (paused != FALSE))
    return TRUE;
  was_queued = s->queued;
  next_elapse = s->next_elapse;
  next_run_at = s->next_run_at;
  last_elapse = s->last_elapse;
  s->paused = paused != FALSE;
  if (paused)
    {
      heap_remove (self, s);
      s->queued = FALSE;
    }
  else
    {
      /* Elapses while paused are not caught up. */
      gint64 now = now_of (self);
      s->last_elapse = MAX (s->last_elapse, now);
      plan (self, s, now);
    }
  if (!save (self, s, error))
    {
      s->paused = !paused;
      s->queued = was_queued;
      s->next_elapse = next_elapse;
      s->next_run_at = next_run_at;
      s->last_elapse = last_elapse;
      if (s->paused)
        heap_remove (self, s);
      else if (s->next_run_at)
        heap_push (self, s);
      arm (self);
      return FALSE;
    }
  arm (self);
  if (self->ops.changed)
    self->ops.changed (s, self->data);
  return TRUE;
}

char *
orch_scheduler_trigger (OrchScheduler *self, const char *id, GError **error)
{
  OrchSchedule *s = orch_scheduler_lookup (self, id, error);
  gint64 now = now_of (self);
  char *job_id;

  if (s == NULL)
    return NULL;
  job_id = start_run (self, s, now, error);
  if (job_id && s->interval_s && !s->paused)
    plan (self, s, now); /* every N seconds from the last start */
  save_and_tell (self, s);
  arm (self);
  return job_id;
}

void
orch_scheduler_clock_changed (OrchScheduler *self)
{
  gint64 now = now_of (self);
  g_autoptr(GPtrArray) active = g_ptr_array_new ();

  for (guint i = 0; i < self->heap->len; i++)
    g_ptr_array_add (active, self->heap->pdata[i]);
  if (self->state)
    (void) orch_state_begin (self->state, NULL);
  for (guint i = 0; i < active->len; i++)
    {
      OrchSchedule *s = active->pdata[i];
      g_auto (Trigger) t = { 0 };
      g_autoptr(GError) error = NULL;
      gint64 e, before = s->next_run_at;
      gint64 delay = s->next_run_at - s->next_elapse;

      if (s->interval_s)
        {
          /* An interval is a duration: a clock set back must not stretch it. */
          gint64 iv = (gint64) s->interval_s * G_USEC_PER_SEC;
          if (s->next_elapse <= now + iv)
            continue;
          e = now + iv;
        }
      else if (!schedule_trigger (self, s, &t, &error) || !trigger_next (s, &t, now, &e))
        {
          if (error)
            g_warning (_("schedule %s: %s"), s->id, error->message);
          heap_remove (self, s);
          s->next_elapse = s->next_run_at = 0;
          save_and_tell (self, s);
          continue;
        }
      if (e == s->next_elapse)
        continue;
      s->next_elapse = e;
      s->next_run_at = e + delay;
      heap_push (self, s);
      if (s->next_run_at != before)
        save_and_tell (self, s);
    }
  if (self->state)
    (void) orch_state_commit (self->state, NULL);
  self->armed = 0;
  (void) orch_scheduler_run_due (self);
}

/* ---- restore ---- */

static gint64
lookup_x (GVariant *v, const char *key)
{
  gint64 x = 0;

  g_variant_lookup (v, key, "x", &x);
  return x;
}

static OrchSchedule *
schedule_from_storage (OrchScheduler *self, GVariant *v, Trigger *t, GError **error)
{
  g_autoptr(OrchSchedule) s = schedule_new ();
  g_autoptr(GVariant) params = g_variant_lookup_value (v, "params", G_VARIANT_TYPE_VARDICT);
  g_autoptr(GVariant) deadlines = g_variant_lookup_value (v, "deadlines", G_VARIANT_TYPE ("ax"));
  g_autofree const char **running = NULL;
  const char *id = NULL, *str;
  gboolean paused = FALSE, queued = FALSE;

  if (!g_variant_lookup (v, "id", "&s", &id) || !orch_schedule_id_is_valid (id))
    {
      g_set_error_literal (error, ORCH_ERROR, ORCH_ERROR_FAILED, "no valid id");
      return NULL;
    }
  if (params == NULL || !schedule_parse (self, s, params, FALSE, t, error))
    {
      if (error && *error == NULL)
        g_set_error_literal (error, ORCH_ERROR, ORCH_ERROR_FAILED, "no params");
      return NULL;
    }
  g_strlcpy (s->id, id, sizeof s->id);
  g_variant_lookup (v, "paused", "b", &paused);
  s->paused = paused != FALSE;
  s->created_at = lookup_x (v, "created_at");
  s->next_elapse = lookup_x (v, "next_elapse");
  s->next_run_at = lookup_x (v, "next_run_at");
  s->last_elapse = lookup_x (v, "last_elapse");
  s->last_run_at = lookup_x (v, "last_run_at");
  if (g_variant_lookup (v, "last_job_id", "&s", &str) && *str)
    s->last_job_id = g_strdup (str);
  if (g_variant_lookup (v, "last_result", "&s", &str))
    set_result (self, s, str);
  if (g_variant_lookup (v, "last_skip_reason", "&s", &str) && *str)
    s->last_skip_reason = g_strdup (str);
  g_variant_lookup (v, "runs", "u", &s->runs);
  g_variant_lookup (v, "skipped", "u", &s->skipped);
  g_variant_lookup (v, "queued", "b", &queued);
  s->queued = queued != FALSE;
  if (g_variant_lookup (v, "running", "^a&s", &running))
    for (guint i = 0; running[i]; i++)
      {
        Run *r = add_run (s, running[i]);
        /* Stored since timeouts survive a restart; older records have none. */
        if (deadlines && i < g_variant_n_children (deadlines))
          g_variant_get_child (deadlines, i, "x", &r->deadline);
      }
  return g_steal_pointer (&s);
}

/* The deadlines of the runs still going: past ones stop now, the others
 * are armed for what is left. */
static void
restore_timeouts (OrchScheduler *self, OrchSchedule *s, gint64 now)
{
  for (guint i = 0; i < n_active (s); i++)
    {
      Run *r = active_run (s, i);
      if (r->deadline == 0)
        continue;
      if (r->deadline <= now)
        time_out (self, s, r);
      else
        arm_timeout (self, s, r, now);
    }
}

gboolean
orch_scheduler_restore (OrchScheduler *self, GError **error)
{
  g_autoptr(GPtrArray) records = NULL;
  gint64 now = now_of (self);

  if (self->state == NULL)
    return TRUE;
  records = orch_state_load_schedules (self->state, error);
  if (records == NULL)
    return FALSE;
  if (!orch_state_begin (self->state, error))
    return FALSE;
  for (guint i = 0; i < records->len; i++)
    {
      g_autoptr(GError) local = NULL;
      g_auto (Trigger) t = { 0 };
      OrchSchedule *s = schedule_from_storage (self, records->pdata[i], &t, &local);

      if (s == NULL)
        {
          g_warning (_("state database: skipping a schedule: %s"), local->message);
          continue;
        }
      g_hash_table_add (self->by_id, s);
      prune_running (self, s);
      restore_timeouts (self, s, now);
      if (s->paused)
        continue;
      if (s->next_run_at != 0 && s->next_run_at <= now && s->persistent)
        {
          /* Persistent=: what was missed while the daemon or the host was
           * down runs once, now. */
          g_message (_("schedule %s: a run was missed while the daemon was down: running it now"),
                     s->id);
          elapse (self, s, now);
          plan_with (self, s, &t, now);
        }
      else if (s->next_run_at == 0 || s->next_run_at <= now)
        {
          s->last_elapse = MAX (s->last_elapse, now);
          plan_with (self, s, &t, now);
        }
      else
        {
          heap_push (self, s); /* the same next time as before */
          continue;
        }
      save_and_tell (self, s);
    }
  g_clear_pointer (&records, g_ptr_array_unref);
  if (!orch_state_commit (self->state, error))
    return FALSE;
  arm (self);
  return TRUE;
}

/* ---- life ---- */

OrchScheduler *
orch_scheduler_new (OrchState *state, const OrchSchedulerOps *ops, gpointer data, GError **error)
{
  OrchScheduler *self = g_new0 (OrchScheduler, 1);

  self->state = state;
  self->ops = *ops;
  self->data = data;
  self->rand = g_rand_new ();
  /* The schedule's id is its first member: the schedule is the key. */
  self->by_id = g_hash_table_new_full (g_str_hash, g_str_equal, (GDestroyNotify) schedule_free,
                                       NULL);
  if (state == NULL)
    self->params = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) g_variant_unref);
  self->results = g_ptr_array_new ();
  g_ptr_array_add (self->results, (gpointer) g_intern_static_string (""));
  self->heap = g_ptr_array_new ();
  self->tfd = timerfd_create (CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
  if (self->tfd < 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot create a timer: %s"),
                   g_strerror (errno));
      orch_scheduler_free (self);
      return NULL;
    }
  self->tfd_source = g_unix_fd_add (self->tfd, G_IO_IN, timer_cb, self);
  return self;
}

void
orch_scheduler_free (OrchScheduler *self)
{
  if (self == NULL)
    return;
  if (self->tfd_source)
    g_source_remove (self->tfd_source);
  if (self->tfd >= 0)
    close (self->tfd);
  g_ptr_array_unref (self->heap);
  g_hash_table_unref (self->by_id);
  g_clear_pointer (&self->params, g_hash_table_unref);
  g_ptr_array_unref (self->results);
  g_rand_free (self->rand);
  g_free (self);
}

void
orch_scheduler_set_clock (OrchScheduler *self, OrchClockFunc clock, gpointer data)
{
  self->clock = clock;
  self->clock_data = data;
  self->armed = 0;
  arm (self);
}

void
orch_scheduler_set_rand (OrchScheduler *self, GRand *rand)
{
  g_rand_free (self->rand);
  self->rand = rand;
}
