/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-job.h"

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
  g_free (job);
}

GVariant *
orch_job_to_variant (const OrchJob *job)
{
  GVariantBuilder b;
  const OrchSpec *s = job->spec;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
#define ADD(k, v) g_variant_builder_add (&b, "{sv}", k, v)
  ADD ("id", g_variant_new_string (job->id));
  ADD ("name", g_variant_new_string (s->name));
  ADD ("command", g_variant_new_strv ((const char *const *) s->argv, -1));
  ADD ("state", g_variant_new_string (orch_job_state_to_string (job->state)));
  ADD ("pid", g_variant_new_uint32 ((guint32) job->pid));
  ADD ("unit", g_variant_new_string (job->unit));
  ADD ("cgroup", g_variant_new_string (job->cgroup));
  ADD ("exit_code", g_variant_new_int32 (job->exit_code));
  ADD ("signal", g_variant_new_int32 (job->signal));
  ADD ("restarts", g_variant_new_uint32 (job->restarts));
  ADD ("created_at", g_variant_new_uint64 ((guint64) job->created_at));
  ADD ("started_at", g_variant_new_uint64 ((guint64) job->started_at));
  ADD ("finished_at", g_variant_new_uint64 ((guint64) job->finished_at));
  ADD ("backend", g_variant_new_string (job->backend));
  ADD ("log_path", g_variant_new_string (job->log_path ? job->log_path : ""));
  if (job->stderr_log_path)
    ADD ("stderr_log_path", g_variant_new_string (job->stderr_log_path));
  ADD ("restart", g_variant_new_string (orch_restart_policy_to_string (s->restart)));
  ADD ("error", g_variant_new_string (job->error ? job->error : ""));
#undef ADD
  return g_variant_builder_end (&b);
}
