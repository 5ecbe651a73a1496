/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-backend.h"
#include "basic/orch-config.h"
#include "orch-events.h"
#include "orch-job.h"
#include "orch-state.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OrchManager OrchManager;

typedef struct {
  void (*job_added) (OrchJob *job, gpointer user_data);
  void (*job_changed) (OrchJob *job, gpointer user_data);
  void (*job_removed) (const char *id, gpointer user_data);
  /* A job a call created, told once with its first state: job_added and
   * job_changed in one, so clients need not hear the same values twice.
   * NULL: those two are called. */
  void (*job_created) (OrchJob *job, gpointer user_data);
} OrchManagerCallbacks;

/* Called when a Stop or Restart has completed: @job in its new state, or
 * @error.  @job may be freed after the call returns. */
typedef void (*OrchManagerDoneFunc) (OrchJob *job, const GError *error, gpointer user_data);

/* Takes ownership of @backend; @state (may be NULL: nothing outlives the
 * daemon) must outlive the manager. */
OrchManager *orch_manager_new (const OrchConfig *config, OrchBackend *backend, OrchState *state,
                               const OrchManagerCallbacks *callbacks, gpointer user_data,
                               GError **error);
/* Loads the jobs the state holds: finished ones as they were, running
 * ones supervised again if their processes are still theirs, the rest
 * with how they ended; restart policies resume. */
gboolean orch_manager_restore (OrchManager *m, GError **error);
/* Job units (systemd scopes) found in the system at start that no record
 * knows: reported, never touched. */
const char *const *orch_manager_unknown_units (OrchManager *m);
/* Leaves running jobs running (they outlive the daemon by design); only
 * children still held before exec are killed. */
void orch_manager_free (OrchManager *m);
/* Commits the job records written since the loop last polled, and tells
 * them (group commit, orch-manager.c): before anything they are told to
 * goes, at shutdown. */
void orch_manager_flush (OrchManager *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchManager, orch_manager_free)

const char *orch_manager_backend_name (OrchManager *m);
guint orch_manager_running_count (OrchManager *m);
guint orch_manager_max_concurrent (OrchManager *m);

/* Validates @spec (a{sv}) fully before anything is made. */
OrchJob *orch_manager_create (OrchManager *m, GVariant *spec, GError **error);
/* The same for a schedule's run: the job's record carries @schedule_id. */
OrchJob *orch_manager_create_scheduled (OrchManager *m, GVariant *spec, const char *schedule_id,
                                        GError **error);
/* What Create checks about @spec before making anything (fields, command
 * policy, executable, user, backend), without making anything: a
 * schedule's job, a job group's template. */
gboolean orch_manager_check_spec (OrchManager *m, GVariant *spec, GError **error);
/* The same for replica @replica of group @group_id: both go into the
 * job's record (and state), which a caller's spec cannot set. */
OrchJob *orch_manager_create_replica (OrchManager *m, GVariant *spec, const char *group_id,
                                      guint replica, GError **error);
OrchJob *orch_manager_lookup (OrchManager *m, const char *id, GError **error);
/* Whether @id's job is over: not running and waiting for no automatic
 * restart of its policy (or gone).  A failed run that will be restarted
 * is not. */
gboolean orch_manager_job_is_done (OrchManager *m, const char *id);
/* Jobs by creation time; @state and @name filter when not NULL/"". */
GPtrArray *orch_manager_list (OrchManager *m, const char *state, const char *name, GError **error);
/* orch_manager_list()'s jobs after the job @after (NULL or "": from the
 * first; any job held, whether the filter takes it or not), at most
 * @limit (0: all) of them.  NotFound when no job has the id @after.  A
 * page costs log n plus the jobs it walks, not the whole list. */
GPtrArray *orch_manager_list_page (OrchManager *m, const char *state, const char *name,
                                   const char *after, guint32 limit, GError **error);
/* The jobs in orch_manager_list()'s order without a copy: how many, and
 * the one at @i (below that).  For a walk that makes and removes no job
 * (the sampler's tick, every second: no array built each time). */
guint orch_manager_n_jobs (OrchManager *m);
OrchJob *orch_manager_job_at (OrchManager *m, guint i);

/* @signal 0 = SIGTERM, @timeout_ms 0 = the job's or configured default.
 * @done runs once no process of the job is left. */
void orch_manager_stop (OrchManager *m, const char *id, int signal, guint timeout_ms,
                        OrchManagerDoneFunc done, gpointer user_data);
/* Stops the job if it runs, then starts it again; @done runs once the new
 * run has exec'd (or failed to). */
void orch_manager_restart (OrchManager *m, const char *id, OrchManagerDoneFunc done,
                           gpointer user_data);
gboolean orch_manager_remove (OrchManager *m, const char *id, GError **error);
/* Changes the limits of job @id (a{sv}: memory_max, memory_high, cpu_quota,
 * cpu_weight, tasks_max, io_weight; 0 removes one): in its group if it
 * runs, and in its stored spec.  All or none; @done gets the record. */
void orch_manager_set_limits (OrchManager *m, const char *id, GVariant *limits,
                              OrchManagerDoneFunc done, gpointer user_data);
/* Where SetLimits records its limits_changed events (in the transaction
 * that stores the new spec); not owned. */
void orch_manager_set_events (OrchManager *m, OrchEvents *events);

/* Called for each purged job once its record is gone (committed), while
 * it can still be looked up (to delete its logs). */
typedef void (*OrchManagerPurgeFunc) (const char *id, gpointer user_data);
/* Removes finished jobs beyond [state] keep_finished (newest kept) or that
 * finished more than keep_finished_days before @now, a bounded slice of
 * them in one transaction: how many into @ret_removed; TRUE if more are
 * left for the next call. */
gboolean orch_manager_purge (OrchManager *m, gint64 now, OrchManagerPurgeFunc purged,
                             gpointer user_data, guint *ret_removed);

/* The kernel says job @id's group saw an OOM kill: the record catches up
 * (oom_kills), saved and told. */
void orch_manager_oom_changed (OrchManager *m, const char *id);
/* The file counting @job's OOM kills (for a watch), or NULL. */
char *orch_manager_memory_events_path (OrchManager *m, OrchJob *job);

G_END_DECLS
