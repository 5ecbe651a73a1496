/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-job.h"
#include "basic/orch-error.h"

#include <glib/gi18n.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

static const char *const state_names[] = {
  [ORCH_JOB_STARTING] = "starting",
  [ORCH_JOB_RUNNING] = "running",
  [ORCH_JOB_STOPPING] = "stopping",
  [ORCH_JOB_EXITED] = "exited",
  [ORCH_JOB_FAILED] = "failed",
  [ORCH_JOB_STOPPED] = "stopped",
};

const char *
orch_job_state_to_string (OrchJobState state)
{
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (state_names), "failed");
  return state_names[state];
}

gboolean
orch_job_state_from_string (const char *s, OrchJobState *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (state_names); i++)
    if (g_strcmp0 (state_names[i], s) == 0)
      {
        *out = (OrchJobState) i;
        return TRUE;
      }
  return FALSE;
}

gboolean
orch_job_state_is_active (OrchJobState state)
{
  return state == ORCH_JOB_STARTING || state == ORCH_JOB_RUNNING ||
         state == ORCH_JOB_STOPPING;
}

gboolean
orch_job_state_can_transition (OrchJobState from, OrchJobState to)
{
  switch (from)
    {
    case ORCH_JOB_STARTING:
      /* running once exec happened; stopping when stopped before that;
       * failed when the launch failed; exited/failed when it ended at once */
      return to == ORCH_JOB_RUNNING || to == ORCH_JOB_STOPPING ||
             to == ORCH_JOB_FAILED || to == ORCH_JOB_EXITED;
    case ORCH_JOB_RUNNING:
      return to == ORCH_JOB_STOPPING || to == ORCH_JOB_EXITED || to == ORCH_JOB_FAILED;
    case ORCH_JOB_STOPPING:
      /* stopped on request; exited/failed when only leftovers of a main
       * process that ended by itself were being cleaned up */
      return to == ORCH_JOB_STOPPED || to == ORCH_JOB_EXITED || to == ORCH_JOB_FAILED;
    case ORCH_JOB_EXITED:
    case ORCH_JOB_FAILED:
    case ORCH_JOB_STOPPED:
      return to == ORCH_JOB_STARTING;
    default:
      return FALSE;
    }
}

OrchJobState
orch_job_final_state (int wait_status, gboolean stop_requested)
{
  if (stop_requested)
    return ORCH_JOB_STOPPED;
  if (WIFEXITED (wait_status) && WEXITSTATUS (wait_status) == 0)
    return ORCH_JOB_EXITED;
  return ORCH_JOB_FAILED;
}

gboolean
orch_restart_wanted (const OrchSpec *spec, OrchJobState final_state, guint restarts)
{
  if (spec->restart_max != 0 && restarts >= spec->restart_max)
    return FALSE;
  switch (spec->restart)
    {
    case ORCH_RESTART_ALWAYS:
      return final_state == ORCH_JOB_EXITED || final_state == ORCH_JOB_FAILED;
    case ORCH_RESTART_ON_FAILURE:
      return final_state == ORCH_JOB_FAILED;
    case ORCH_RESTART_NO:
    default:
      return FALSE;
    }
}

guint
orch_restart_delay_ms (guint base_ms, guint restarts)
{
  guint64 d = base_ms;

  for (guint i = 0; i < restarts && d < ORCH_RESTART_DELAY_CAP_MS; i++)
    d *= 2;
  if (d > ORCH_RESTART_DELAY_CAP_MS)
    d = MAX ((guint64) base_ms, (guint64) ORCH_RESTART_DELAY_CAP_MS);
  return (guint) d;
}

OrchJob *
orch_job_new (const char *id, OrchSpec *spec)
{
  OrchJob *job = g_new0 (OrchJob, 1);

  job->id = g_strdup (id);
  job->spec = spec;
  job->state = ORCH_JOB_STARTING;
  job->unit = g_strdup ("");
  job->cgroup = g_strdup ("");
  job->exit_code = -1;
  job->backend = "none";
  return job;
}

void
orch_job_free (OrchJob *job)
{
  if (job == NULL)
    return;
  g_free (job->id);
  orch_spec_free (job->spec);
  g_free (job->unit);
  g_free (job->cgroup);
  g_free (job->log_path);
  g_free (job->stderr_log_path);
  g_free (job->error);
  g_free (job->schedule_id);
  g_free (job);
}

/* One table describes the record: the GVariant writer below and the D-Bus
 * layer's sd-bus writer both walk it, so the two cannot drift apart, and a
 * single field (a D-Bus property) costs only that field. */

static gboolean f_id (const OrchJob *j, OrchFieldValue *v) { v->s = j->id; return TRUE; }
static gboolean f_name (const OrchJob *j, OrchFieldValue *v) { v->s = j->spec->name; return TRUE; }
static gboolean f_command (const OrchJob *j, OrchFieldValue *v) { v->strv = (const char *const *) j->spec->argv; return TRUE; }
static gboolean f_state (const OrchJob *j, OrchFieldValue *v) { v->s = orch_job_state_to_string (j->state); return TRUE; }
static gboolean f_pid (const OrchJob *j, OrchFieldValue *v) { v->u = (guint32) j->pid; return TRUE; }
static gboolean f_unit (const OrchJob *j, OrchFieldValue *v) { v->s = j->unit; return TRUE; }
static gboolean f_cgroup (const OrchJob *j, OrchFieldValue *v) { v->s = j->cgroup; return TRUE; }
static gboolean f_exit_code (const OrchJob *j, OrchFieldValue *v) { v->i = j->exit_code; return TRUE; }
static gboolean f_signal (const OrchJob *j, OrchFieldValue *v) { v->i = j->signal; return TRUE; }
static gboolean f_restarts (const OrchJob *j, OrchFieldValue *v) { v->u = j->restarts; return TRUE; }
static gboolean f_created_at (const OrchJob *j, OrchFieldValue *v) { v->t = (guint64) j->created_at; return TRUE; }
static gboolean f_started_at (const OrchJob *j, OrchFieldValue *v) { v->t = (guint64) j->started_at; return TRUE; }
static gboolean f_finished_at (const OrchJob *j, OrchFieldValue *v) { v->t = (guint64) j->finished_at; return TRUE; }
static gboolean f_backend (const OrchJob *j, OrchFieldValue *v) { v->s = j->backend; return TRUE; }
static gboolean f_log_path (const OrchJob *j, OrchFieldValue *v) { v->s = j->log_path ? j->log_path : ""; return TRUE; }
static gboolean f_stderr_log_path (const OrchJob *j, OrchFieldValue *v) { v->s = j->stderr_log_path; return j->stderr_log_path != NULL; }
static gboolean f_restart (const OrchJob *j, OrchFieldValue *v) { v->s = orch_restart_policy_to_string (j->spec->restart); return TRUE; }
static gboolean f_error (const OrchJob *j, OrchFieldValue *v) { v->s = j->error ? j->error : ""; return TRUE; }
static gboolean f_cpu_percent (const OrchJob *j, OrchFieldValue *v) { v->d = j->cpu_percent; return TRUE; }
static gboolean f_memory_bytes (const OrchJob *j, OrchFieldValue *v) { v->t = j->memory_bytes; return TRUE; }
static gboolean
f_schedule_id (const OrchJob *j, OrchFieldValue *v)
{
  v->s = j->schedule_id;
  return j->schedule_id != NULL;
}

/* The limits in force, each only when set (SetLimits changes them). */
static gboolean
f_memory_max (const OrchJob *j, OrchFieldValue *v)
{
  v->t = j->spec->memory_max;
  return v->t != 0;
}
static gboolean
f_memory_high (const OrchJob *j, OrchFieldValue *v)
{
  v->t = j->spec->memory_high;
  return v->t != 0;
}
static gboolean
f_cpu_quota (const OrchJob *j, OrchFieldValue *v)
{
  v->d = j->spec->cpu_quota;
  return v->d > 0;
}
static gboolean
f_cpu_weight (const OrchJob *j, OrchFieldValue *v)
{
  v->u = j->spec->cpu_weight;
  return v->u != 0;
}
static gboolean
f_tasks_max (const OrchJob *j, OrchFieldValue *v)
{
  v->u = j->spec->tasks_max;
  return v->u != 0;
}
static gboolean
f_stop_timeout_ms (const OrchJob *j, OrchFieldValue *v)
{
  v->u = j->spec->stop_timeout_ms;
  return v->u != 0;
}
static gboolean
f_restart_max (const OrchJob *j, OrchFieldValue *v)
{
  v->u = j->spec->restart_max;
  return v->u != 0;
}
static gboolean
f_io_weight (const OrchJob *j, OrchFieldValue *v)
{
  v->u = j->spec->io_weight;
  return v->u != 0;
}

static gboolean
f_log_timestamps (const OrchJob *j, OrchFieldValue *v)
{
  v->u = j->spec->log_timestamps;
  return j->spec->log_timestamps;
}

static gboolean
f_memory_warn_before_s (const OrchJob *j, OrchFieldValue *v)
{
  v->u = j->spec->memory_warn_before_s;
  return j->spec->memory_warn_before_set;
}

static gboolean
f_group_id (const OrchJob *j, OrchFieldValue *o)
{
  o->s = j->spec->group_id;
  return j->spec->group_id != NULL;
}

static gboolean
f_replica (const OrchJob *j, OrchFieldValue *o)
{
  o->u = j->spec->replica;
  return j->spec->group_id != NULL;
}

const char *
orch_job_result (const OrchJob *j)
{
  if (orch_job_state_is_active (j->state) || j->finished_at == 0)
    return NULL;
  if (j->signal == SIGKILL && j->run_oom_kills > 0)
    return "oom-kill";
  if (j->signal != 0)
    return "signal";
  if (j->exit_code == 0)
    return "success";
  return j->exit_code > 0 ? "exit-code" : "launch-failed";
}

static gboolean
f_result (const OrchJob *j, OrchFieldValue *o)
{
  o->s = orch_job_result (j);
  return o->s != NULL;
}

static gboolean
f_oom_kills (const OrchJob *j, OrchFieldValue *o)
{
  o->u = j->oom_kills;
  return TRUE;
}

/* From the sampler, only where the job's IO could be read: the counters
 * the job history's io series hold, so a live view can follow them. */
static gboolean
f_io_read_bytes (const OrchJob *j, OrchFieldValue *o)
{
  o->t = j->io_read_bytes;
  return j->io_known;
}

static gboolean
f_io_write_bytes (const OrchJob *j, OrchFieldValue *o)
{
  o->t = j->io_write_bytes;
  return j->io_known;
}

static const OrchJobField record_fields[] = {
  { "id", "Id", ORCH_FIELD_STRING, f_id },
  { "name", "Name", ORCH_FIELD_STRING, f_name },
  { "command", "Command", ORCH_FIELD_STRV, f_command },
  { "state", "State", ORCH_FIELD_STRING, f_state },
  { "pid", "Pid", ORCH_FIELD_UINT32, f_pid },
  { "unit", "Unit", ORCH_FIELD_STRING, f_unit },
  { "cgroup", "Cgroup", ORCH_FIELD_STRING, f_cgroup },
  { "exit_code", "ExitCode", ORCH_FIELD_INT32, f_exit_code },
  { "signal", "Signal", ORCH_FIELD_INT32, f_signal },
  { "restarts", "Restarts", ORCH_FIELD_UINT32, f_restarts },
  { "created_at", "CreatedAt", ORCH_FIELD_UINT64, f_created_at },
  { "started_at", "StartedAt", ORCH_FIELD_UINT64, f_started_at },
  { "finished_at", "FinishedAt", ORCH_FIELD_UINT64, f_finished_at },
  { "backend", "Backend", ORCH_FIELD_STRING, f_backend },
  { "log_path", "LogPath", ORCH_FIELD_STRING, f_log_path },
  { "stderr_log_path", NULL, ORCH_FIELD_STRING, f_stderr_log_path },
  { "restart", NULL, ORCH_FIELD_STRING, f_restart },
  { "error", "Error", ORCH_FIELD_STRING, f_error },
  /* From the sampler: current as of the last tick, no change signal. */
  { "cpu_percent", NULL, ORCH_FIELD_DOUBLE, f_cpu_percent },
  { "memory_bytes", NULL, ORCH_FIELD_UINT64, f_memory_bytes },
  { "memory_max", NULL, ORCH_FIELD_UINT64, f_memory_max },
  { "memory_high", NULL, ORCH_FIELD_UINT64, f_memory_high },
  { "cpu_quota", NULL, ORCH_FIELD_DOUBLE, f_cpu_quota },
  { "cpu_weight", NULL, ORCH_FIELD_UINT32, f_cpu_weight },
  { "tasks_max", NULL, ORCH_FIELD_UINT32, f_tasks_max },
  { "io_weight", NULL, ORCH_FIELD_UINT32, f_io_weight },
  { "stop_timeout_ms", NULL, ORCH_FIELD_UINT32, f_stop_timeout_ms },
  { "restart_max", NULL, ORCH_FIELD_UINT32, f_restart_max },
  /* Only in jobs a schedule ran (stored in the jobs table's own column). */
  { "schedule_id", NULL, ORCH_FIELD_STRING, f_schedule_id },
  /* A replica of a job group (issue 19) */
  { "group_id", NULL, ORCH_FIELD_STRING, f_group_id },
  { "replica", NULL, ORCH_FIELD_UINT32, f_replica },
  /* Only when true: the log holds each line's time (issue 18) */
  { "log_timestamps", NULL, ORCH_FIELD_BOOLEAN, f_log_timestamps },
  /* OOM kills (issue 18): the count, and how the last run ended */
  { "oom_kills", NULL, ORCH_FIELD_UINT32, f_oom_kills },
  { "result", NULL, ORCH_FIELD_STRING, f_result },
  { "io_read_bytes", NULL, ORCH_FIELD_UINT64, f_io_read_bytes },
  { "io_write_bytes", NULL, ORCH_FIELD_UINT64, f_io_write_bytes },
  /* Only when the spec set it (issue 20) */
  { "memory_warn_before_s", NULL, ORCH_FIELD_UINT32, f_memory_warn_before_s },
};

const OrchJobField *
orch_job_fields (gsize *n)
{
  *n = G_N_ELEMENTS (record_fields);
  return record_fields;
}

/* A bit each in a field mask. */
G_STATIC_ASSERT (G_N_ELEMENTS (record_fields) <= 64);

static gboolean
field_index (const char *key, gsize *ret_index, GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (record_fields); i++)
    if (strcmp (key, record_fields[i].key) == 0)
      {
        *ret_index = i;
        return TRUE;
      }
  g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
               _("“%s” is not a key of a job record"), key);
  return FALSE;
}

gboolean
orch_job_fields_mask (const char *const *keys, guint64 *ret_mask, GError **error)
{
  guint64 mask = 0;

  if (keys == NULL)
    {
      *ret_mask = ORCH_JOB_FIELDS_ALL;
      return TRUE;
    }
  for (gsize k = 0; keys[k]; k++)
    {
      gsize i;

      if (!field_index (keys[k], &i, error))
        return FALSE;
      mask |= G_GUINT64_CONSTANT (1) << i;
    }
  *ret_mask = mask;
  return TRUE;
}

GArray *
orch_job_fields_columns (const char *const *keys, GString *ret_signature, GError **error)
{
  g_autoptr(GArray) columns = g_array_new (FALSE, FALSE, sizeof (gsize));

  if (keys == NULL || keys[0] == NULL)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("“keys” names no key: a row needs at least one"));
      return NULL;
    }
  g_string_assign (ret_signature, "");
  for (gsize k = 0; keys[k]; k++)
    {
      gsize i;

      if (!field_index (keys[k], &i, error))
        return NULL;
      g_array_append_val (columns, i);
      g_string_append (ret_signature, orch_field_type_signature (record_fields[i].type));
    }
  return g_steal_pointer (&columns);
}

const char *
orch_field_type_signature (OrchFieldType type)
{
  switch (type)
    {
    case ORCH_FIELD_STRV: return "as";
    case ORCH_FIELD_UINT32: return "u";
    case ORCH_FIELD_INT32: return "i";
    case ORCH_FIELD_UINT64: return "t";
    case ORCH_FIELD_DOUBLE: return "d";
    case ORCH_FIELD_BOOLEAN:
      return "b";
    case ORCH_FIELD_STRING:
    default: return "s";
    }
}

static GVariant *
field_to_variant (OrchFieldType type, const OrchFieldValue *v)
{
  switch (type)
    {
    case ORCH_FIELD_STRV: return g_variant_new_strv (v->strv, -1);
    case ORCH_FIELD_UINT32: return g_variant_new_uint32 (v->u);
    case ORCH_FIELD_INT32: return g_variant_new_int32 (v->i);
    case ORCH_FIELD_UINT64: return g_variant_new_uint64 (v->t);
    case ORCH_FIELD_DOUBLE: return g_variant_new_double (v->d);
    case ORCH_FIELD_BOOLEAN:
      return g_variant_new_boolean (v->u != 0);
    case ORCH_FIELD_STRING:
    default: return g_variant_new_string (v->s);
    }
}

GVariant *
orch_job_to_variant (const OrchJob *job)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  for (gsize i = 0; i < G_N_ELEMENTS (record_fields); i++)
    {
      OrchFieldValue v;
      if (record_fields[i].get (job, &v))
        g_variant_builder_add (&b, "{sv}", record_fields[i].key,
                               field_to_variant (record_fields[i].type, &v));
    }
  return g_variant_builder_end (&b);
}
