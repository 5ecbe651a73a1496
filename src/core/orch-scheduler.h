/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-state.h"

#include <glib.h>

G_BEGIN_DECLS

/* Schedules: a job spec plus one trigger (a systemd calendar expression,
 * a cron expression or an interval), run as ordinary jobs.  One timerfd
 * (CLOCK_REALTIME, absolute, cancelled when the clock is set) is armed
 * for the nearest elapse of all schedules, kept in a min-heap: between
 * elapses the daemon does not wake up, however many schedules there are. */
typedef struct _OrchScheduler OrchScheduler;
typedef struct _OrchSchedule OrchSchedule;

typedef enum {
  ORCH_OVERLAP_SKIP,     /* a run still going: this elapse is skipped (counted) */
  ORCH_OVERLAP_QUEUE,    /* one run waits for the running one to end */
  ORCH_OVERLAP_PARALLEL, /* runs side by side */
  ORCH_OVERLAP_REPLACE,  /* the running one is stopped, then the new one starts */
} OrchOverlap;

/* What the scheduler needs from the rest of the daemon: the manager in
 * orchestratord, fakes in the unit tests. */
typedef struct {
  /* Validates a job spec exactly as Jobs.Create would, making nothing. */
  gboolean (*check) (GVariant *spec, gpointer data, GError **error);
  /* Creates and starts a job carrying @schedule_id; its id, or NULL. */
  char *(*create) (GVariant *spec, const char *schedule_id, gpointer data, GError **error);
  gboolean (*is_active) (const char *job_id, gpointer data);
  /* Asks the job to stop; orch_scheduler_job_ended() follows. */
  void (*stop) (const char *job_id, gpointer data);
  /* A schedule's record changed (created, updated, ran, ...). */
  void (*changed) (OrchSchedule *sched, gpointer data);
  void (*removed) (const char *id, gpointer data);
} OrchSchedulerOps;

/* The wall clock in µs since the epoch; tests and the daemon's test hook
 * replace g_get_real_time(). */
typedef gint64 (*OrchClockFunc) (gpointer data);

/* @state may be NULL (nothing survives the daemon). */
OrchScheduler *
orch_scheduler_new (OrchState *state, const OrchSchedulerOps *ops, gpointer data, GError **error);
void orch_scheduler_free (OrchScheduler *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchScheduler, orch_scheduler_free)

void orch_scheduler_set_clock (OrchScheduler *self, OrchClockFunc clock, gpointer data);
void orch_scheduler_set_rand (OrchScheduler *self, GRand *rand /* owned */);

/* Loads the stored schedules and arms them: the next time they had, or,
 * for one whose time passed while the daemon was down, one run now if
 * it is persistent and the next time after now either way. */
gboolean orch_scheduler_restore (OrchScheduler *self, GError **error);

/* @params: Create's a{sv} (docs/API.md, org.orchestrator.Schedules).
 * Saved before it returns; NULL and nothing changed on failure. */
OrchSchedule *orch_scheduler_create (OrchScheduler *self, GVariant *params, GError **error);
OrchSchedule *orch_scheduler_lookup (OrchScheduler *self, const char *id, GError **error);
/* Schedules by creation; @name filters when not NULL/"". */
GPtrArray *orch_scheduler_list (OrchScheduler *self, const char *name);
gboolean
orch_scheduler_update (OrchScheduler *self, const char *id, GVariant *params, GError **error);
gboolean orch_scheduler_remove (OrchScheduler *self, const char *id, GError **error);
gboolean
orch_scheduler_set_paused (OrchScheduler *self, const char *id, gboolean paused, GError **error);
/* Runs it now, whatever its overlap policy says (the caller asked);
 * the new job's id, or NULL when it could not be created. */
char *orch_scheduler_trigger (OrchScheduler *self, const char *id, GError **error);

/* A job of @schedule_id ended in @result ("exited", "failed", "stopped"). */
void orch_scheduler_job_ended (OrchScheduler *self, const char *schedule_id, const char *job_id,
                               const char *result);
/* A pass of run_due starts at most this many runs: each is a fork,
 * several ms on a busy host, and 20 due at once blocked the main loop
 * while the first one's unit waited for its reply. */
#define ORCH_SCHEDULER_RUNS_PER_PASS 4
/* Runs what is due at the clock's now (at most RUNS_PER_PASS) and re-arms:
 * the timer's callback, called directly by tests.  TRUE when more is due
 * (the timer, armed in the past, fires again at once). */
gboolean orch_scheduler_run_due (OrchScheduler *self);
/* The wall clock was set: every next time is computed again. */
void orch_scheduler_clock_changed (OrchScheduler *self);
/* The earliest next_run_at of the active schedules, G_MAXINT64 if none. */
gint64 orch_scheduler_next_wakeup (OrchScheduler *self);
guint orch_scheduler_count (OrchScheduler *self);

/* The schedule record (docs/API.md "Schedule record"). */
GVariant *orch_scheduler_record (OrchScheduler *self, const OrchSchedule *sched);
const char *orch_schedule_id (const OrchSchedule *sched);

const char *orch_overlap_to_string (OrchOverlap o);
gboolean orch_overlap_from_string (const char *s, OrchOverlap *out);

G_END_DECLS
