/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basic/orch-spec.h"

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef enum {
  ORCH_JOB_STARTING,
  ORCH_JOB_RUNNING,
  ORCH_JOB_STOPPING,
  ORCH_JOB_EXITED,
  ORCH_JOB_FAILED,
  ORCH_JOB_STOPPED,
} OrchJobState;

typedef struct _OrchJob OrchJob;

/* Plain data of one job: what the record says.  Runtime handles (sources,
 * fds, pending calls) live in the manager's private part. */
struct _OrchJob {
  char *id;
  OrchSpec *spec;
  OrchJobState state;
  pid_t pid;             /* main process, 0 when none */
  guint64 pid_start;     /* its start time (clock ticks after boot) */
  pid_t monitor_pid;     /* its parent, orchestrator-monitor, 0 when none */
  guint64 monitor_start;
  char *unit;            /* systemd scope name, or "" */
  char *cgroup;          /* cgroup path relative to the hierarchy root, or "" */
  int exit_code;         /* -1 until the main process exited normally */
  int signal;            /* 0 unless the main process was killed by one */
  guint restarts;
  gint64 created_at;     /* microseconds since the epoch, 0 = not yet */
  gint64 started_at;
  gint64 finished_at;
  const char *backend;   /* static string */
  char *log_path;
  char *stderr_log_path; /* NULL when stderr is merged */
  char *error;           /* why the last launch failed, NULL otherwise */
  double cpu_percent;    /* latest sample, percent of one core */
  guint64 memory_bytes;  /* latest sample */
  char *schedule_id;     /* the schedule that ran it, NULL otherwise */
  guint oom_kills;       /* processes of the job the OOM killer ended, all runs */
  guint run_oom_kills;   /* of those, in the current (or last) run */
  guint64 io_read_bytes; /* latest sample, bytes since the run started */
  guint64 io_write_bytes;
  gboolean io_known; /* the sampler could read the job's IO */
};

const char *orch_job_state_to_string (OrchJobState state);
gboolean orch_job_state_from_string (const char *s, OrchJobState *out);
gboolean orch_job_state_is_active (OrchJobState state);
/* Whether the state machine allows @from -> @to. */
gboolean orch_job_state_can_transition (OrchJobState from, OrchJobState to);

/* The final state for a main process that ended with @wait_status
 * (waitpid's), given whether a stop had been asked for. */
OrchJobState orch_job_final_state (int wait_status, gboolean stop_requested);

/* Restart policy: should a job that ended in @final_state be started again,
 * after @restarts restarts so far? */
gboolean orch_restart_wanted (const OrchSpec *spec, OrchJobState final_state, guint restarts);
/* Delay before restart number @restarts+1: restart_delay_ms doubled per
 * restart already made, capped at ORCH_RESTART_DELAY_CAP_MS (but never below
 * the configured delay). */
guint orch_restart_delay_ms (guint base_ms, guint restarts);
#define ORCH_RESTART_DELAY_CAP_MS (5 * 60 * 1000)

/* How the last run ended, systemd's words: "success", "exit-code",
 * "signal", "oom-kill" (killed by SIGKILL after the OOM killer struck in
 * the run), "launch-failed"; NULL while the job is active or never ran. */
const char *orch_job_result (const OrchJob *job);

OrchJob *orch_job_new (const char *id, OrchSpec *spec /* owned */);
void orch_job_free (OrchJob *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchJob, orch_job_free)

/* The job record, a{sv} with the keys in docs/API.md ("Job record"). */
GVariant *orch_job_to_variant (const OrchJob *job);

/* The record's fields, for writers other than GVariant (the D-Bus layer
 * appends them straight to sd-bus messages). */
typedef enum {
  ORCH_FIELD_STRING,
  ORCH_FIELD_STRV,
  ORCH_FIELD_UINT32,
  ORCH_FIELD_INT32,
  ORCH_FIELD_UINT64,
  ORCH_FIELD_DOUBLE,
  ORCH_FIELD_BOOLEAN, /* in .u */
} OrchFieldType;

typedef union {
  const char *s;
  const char *const *strv;
  guint32 u;
  gint32 i;
  guint64 t;
  double d;
} OrchFieldValue;

typedef struct {
  const char *key;        /* record key */
  const char *property;   /* org.orchestrator.Job property, NULL if none */
  OrchFieldType type;
  /* FALSE when the job has no such field (it is left out of the record) */
  gboolean (*get) (const OrchJob *job, OrchFieldValue *out);
} OrchJobField;

const OrchJobField *orch_job_fields (gsize *n_fields);

/* Every record field, as orch_job_fields_mask() gives them. */
#define ORCH_JOB_FIELDS_ALL G_MAXUINT64

/* The record fields named in @keys (NULL: all of them) as a bit per
 * orch_job_fields() index, for a List that sends only those; an unknown
 * key is ORCH_ERROR_INVALID_ARGUMENT naming it. */
gboolean orch_job_fields_mask (const char *const *keys, guint64 *ret_mask, GError **error);
/* The record fields named in @keys, in that order, as orch_job_fields()
 * indexes (a GArray of gsize), and the D-Bus signature of a row of them
 * (the struct's members, without parentheses) into @ret_signature; an
 * unknown key or none is ORCH_ERROR_INVALID_ARGUMENT. */
GArray *orch_job_fields_columns (const char *const *keys, GString *ret_signature, GError **error);
const char *orch_field_type_signature (OrchFieldType type);

G_END_DECLS
