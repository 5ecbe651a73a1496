/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Finding jobs again after the daemon restarted: the records read at
 * start, runs that ended meanwhile (their monitors' exit records), live
 * monitors supervised again, and what the system holds that no record
 * knows. */
#include "config.h"

#include "orch-manager-private.h"
#include "basic/orch-proc.h"
#include "orch-policy.h"
#include "orch-reconcile.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static gboolean
pidfd_cb (int fd, GIOCondition cond, gpointer data)
{
  Entry *e = data;

  int status;

  manager_unwatch_pidfd (e);
  if (!manager_take_exit_record (e, &status))
    {
      /* Not ours to wait for, and no record: it was killed with its
       * monitor, the only way a monitor leaves none. */
      status = SIGKILL;
      g_free (e->job->error);
      e->job->error = g_strdup (_("the exit status was lost: orchestrator-monitor was killed"));
    }
  manager_run_ended (e, status);
  return G_SOURCE_CONTINUE; /* removed above */
}

/* Watches an adopted monitor, which is not our child, through a pidfd. */
static gboolean
watch_monitor (Entry *e)
{
  int fd = (int) syscall (SYS_pidfd_open, e->job->monitor_pid, 0);

  if (fd < 0)
    return FALSE;
  /* The pid may have been reused between the check and the open. */
  if (orch_process_start_time (e->job->monitor_pid) != e->job->monitor_start)
    {
      close (fd);
      return FALSE;
    }
  return manager_watch_pidfd (e, fd, pidfd_cb);
}

/* A run recorded as active: ended meanwhile (the monitor's record says
 * how), still going (supervise it again), or lost. */
static void
reconcile_run (Entry *e)
{
  OrchManager *m = e->m;
  OrchJob *job = e->job;
  g_autofree char *why = NULL;
  OrchAdoptVerdict v;
  int status;

  e->run.stop_requested = job->state == ORCH_JOB_STOPPING;
  e->run.released = job->monitor_pid > 0;
  if (manager_take_exit_record (e, &status))
    {
      g_message (_("job %s ended while the daemon was down"), job->id);
      manager_run_ended (e, status);
      (void) manager_persist (e, NULL);
      return;
    }

  if (g_strcmp0 (job->backend, orch_backend_name (m->backend)) != 0)
    {
      why = g_strdup_printf (_("it was started by the %s backend"), job->backend);
      v = ORCH_ADOPT_STRANGER;
    }
  else
    v = orch_reconcile_check (job, &why);
  if (v == ORCH_ADOPT_YES && watch_monitor (e))
    {
      if (job->pid == 0)
        {
          job->pid = orch_process_first_child (job->monitor_pid);
          job->pid_start = orch_process_start_time (job->pid);
        }
      if (job->state == ORCH_JOB_STARTING)
        {
          manager_set_state (e, ORCH_JOB_RUNNING);
          if (job->started_at == 0)
            job->started_at = now_us ();
        }
      else if (e->run.stop_requested)
        manager_signal_group (e, SIGTERM, 0); /* the stop that was under way */
      manager_reapply_limits (e);
      g_message (_("job %s: supervised again (pid %d)"), job->id, (int) job->pid);
      (void) manager_persist (e, NULL);
      return;
    }

  g_warning (_("job %s cannot be supervised again: %s"), job->id, why ? why : g_strerror (errno));
  if (v == ORCH_ADOPT_GONE)
    m->backend->ops->forget (m->backend, job);
  e->run.main_exited = TRUE;
  g_free (job->error);
  job->error = g_strdup_printf (_("lost while the daemon was down: %s"),
                                why ? why : g_strerror (errno));
  manager_set_state (e, e->run.stop_requested ? ORCH_JOB_STOPPED : ORCH_JOB_FAILED);
  job->finished_at = now_us ();
  manager_maybe_schedule_restart (e);
  (void) manager_persist (e, NULL);
}

static void
units_listed (char **units, gpointer data)
{
  OrchManager *m = data;
  g_autoptr(GPtrArray) unknown = g_ptr_array_new ();
  g_autoptr(GHashTable) known = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < m->order->len; i++)
    {
      OrchJob *job = ((Entry *) g_ptr_array_index (m->order, i))->job;
      g_hash_table_add (known, job->unit);
      g_hash_table_add (known, job->cgroup);
    }
  for (char **u = units; u && *u; u++)
    {
      if (g_hash_table_contains (known, *u))
        continue;
      /* Empty: what a Create cut short by the daemon's death left (its
       * held child died with the daemon).  Nothing to lose; it goes. */
      if (m->backend->ops->remove_unit && m->backend->ops->remove_unit (m->backend, *u) == 0)
        {
          g_message (
              _("removed %s: no record knows it and no process is in it (a Create cut short)"), *u);
          continue;
        }
      /* Not ours to kill: it may be a job of a lost database, or someone
       * else's; an administrator decides. */
      g_warning (_("%s looks like a job of this daemon but no record knows it; left as it is"), *u);
      g_ptr_array_add (unknown, g_strdup (*u));
    }
  g_strfreev (units);
  g_ptr_array_add (unknown, NULL);
  g_strfreev (m->unknown_units);
  m->unknown_units = (char **) g_ptr_array_free (g_steal_pointer (&unknown), FALSE);
}

const char *const *
orch_manager_unknown_units (OrchManager *m)
{
  static const char *const none[] = { NULL };

  return m->unknown_units ? (const char *const *) m->unknown_units : none;
}

/* Empty log files no record knows: made by a Create that the daemon's
 * death cut short, before the record was written.  A log with bytes in it
 * stays: it may be all that is left of a job of a lost database. */
static void
remove_orphan_logs (OrchManager *m)
{
  g_autoptr(GDir) dir = g_dir_open (m->config->log_dir, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *id = NULL;
      g_autofree char *path = NULL;
      const char *end;
      struct stat st;

      if (!g_str_has_prefix (name, "job_") || !(end = strchr (name, '.')) ||
          !(g_str_equal (end, ".log") || g_str_equal (end, ".stderr.log")))
        continue;
      id = g_strndup (name, (gsize) (end - name));
      if (g_hash_table_contains (m->entries, id))
        continue;
      path = g_build_filename (m->config->log_dir, name, NULL);
      if (lstat (path, &st) == 0 && S_ISREG (st.st_mode) && st.st_size == 0 && g_unlink (path) == 0)
        g_message (_("removed %s: no record knows it and it is empty (a Create cut short)"), path);
    }
}

gboolean
orch_manager_restore (OrchManager *m, GError **error)
{
  g_autoptr(GPtrArray) records = NULL;
  const char *backend = orch_backend_name (m->backend);
  gint64 t0 = g_get_monotonic_time ();

  if (m->state == NULL)
    return TRUE;
  records = orch_state_load (m->state, error);
  if (records == NULL || !orch_state_begin (m->state, error))
    return FALSE;
  for (guint i = 0; i < records->len; i++)
    {
      OrchStateRecord *rec = g_ptr_array_index (records, i);
      Entry *e = manager_entry_new (m, g_steal_pointer (&rec->job));
      OrchJob *job = e->job;

      job->backend = g_strcmp0 (rec->backend, backend) == 0 ? backend
                                                            : g_intern_string (rec->backend);
      e->auto_restarts = rec->auto_restarts;
      /* Resolves the executable and user for later runs; if the system
       * changed meanwhile, the next run says why it cannot start. */
      (void) orch_policy_check (m->config, job->spec, NULL);
      manager_index_entry (m, e);
      if (m->cb.job_added)
        m->cb.job_added (job, m->cb_data);

      if (orch_job_state_is_active (job->state))
        {
          m->active++;
          reconcile_run (e);
        }
      else
        manager_maybe_schedule_restart (e);
    }
  if (!orch_state_commit (m->state, error))
    return FALSE;
  remove_orphan_logs (m);
  if (m->backend->ops->list_units)
    m->backend->ops->list_units (m->backend, units_listed, m);
  g_message (ngettext ("%u job found in the state database, reconciled in %.1f ms",
                       "%u jobs found in the state database, reconciled in %.1f ms", records->len),
             records->len, (g_get_monotonic_time () - t0) / 1000.0);
  return TRUE;
}
