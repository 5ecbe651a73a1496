/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-reconcile.h"
#include "basic/orch-cgroup.h"
#include "basic/orch-proc.h"

#include <glib/gi18n.h>

OrchAdoptVerdict
orch_reconcile_check (const OrchJob *job, char **why)
{
  guint64 start;

  if (job->monitor_pid <= 0)
    {
      *why = g_strdup (_("it had not been started"));
      return ORCH_ADOPT_GONE;
    }
  start = orch_process_start_time (job->monitor_pid);
  if (start == 0)
    {
      *why = g_strdup_printf (_("its monitor (pid %d) is gone"), (int) job->monitor_pid);
      return ORCH_ADOPT_GONE;
    }
  if (start != job->monitor_start)
    {
      *why = g_strdup_printf (_("pid %d now belongs to another process (start time differs)"),
                              (int) job->monitor_pid);
      return ORCH_ADOPT_STRANGER;
    }
  if (job->pid > 0)
    {
      start = orch_process_start_time (job->pid);
      if (start != 0 && start != job->pid_start)
        {
          *why = g_strdup_printf (_("pid %d now belongs to another process (start time differs)"),
                                  (int) job->pid);
          return ORCH_ADOPT_STRANGER;
        }
    }
  if (job->cgroup && *job->cgroup)
    {
      g_autofree char *cg = NULL;
      if (orch_cgroup_of_pid (job->monitor_pid, &cg) < 0 || g_strcmp0 (cg, job->cgroup) != 0)
        {
          *why = g_strdup_printf (_("pid %d is no longer in cgroup %s"), (int) job->monitor_pid,
                                  job->cgroup);
          return ORCH_ADOPT_STRANGER;
        }
    }
  return ORCH_ADOPT_YES;
}
