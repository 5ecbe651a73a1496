/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OOM kills of a job's processes: counted from the kernel's counter of
 * the job's group (memory.events, or a hybrid host's v1 memory.oom_control)
 * against its value when the run began, into the record (oom_kills, and
 * the run's, which makes a SIGKILLed main process's result "oom-kill"). */
#include "config.h"

#include "orch-manager-private.h"

/* The group's counter now; FALSE when it has none or it is gone. */
static gboolean
read_count (Entry *e, guint64 *ret)
{
  OrchManager *m = e->m;
  g_autofree char *path = orch_backend_memory_events_path (m->backend, e->job);

  return path && orch_cgroup_read_oom_counts (path, ret, NULL) == 0;
}

void
manager_oom_baseline (Entry *e)
{
  guint64 count = 0;

  e->run.oom_base = read_count (e, &count) ? count : 0;
}

gboolean
manager_oom_update (Entry *e)
{
  OrchJob *job = e->job;
  guint64 count, run;

  if (!read_count (e, &count) || count < e->run.oom_base)
    return FALSE;
  run = MIN (count - e->run.oom_base, (guint64) G_MAXUINT);
  if (run <= job->run_oom_kills)
    return FALSE;
  job->oom_kills += (guint) run - job->run_oom_kills;
  job->run_oom_kills = (guint) run;
  return TRUE;
}

void
orch_manager_oom_changed (OrchManager *m, const char *id)
{
  Entry *e = g_hash_table_lookup (m->entries, id);
  g_autoptr(GError) error = NULL;

  if (e == NULL || !orch_job_state_is_active (e->job->state) || e->run.attaching)
    return;
  if (manager_oom_update (e) && !manager_announce (e, &error))
    g_warning ("job %s: %s", id, error->message);
}

char *
orch_manager_memory_events_path (OrchManager *m, OrchJob *job)
{
  return orch_backend_memory_events_path (m->backend, job);
}
