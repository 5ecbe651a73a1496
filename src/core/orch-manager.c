/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-manager-private.h"
#include "basic/orch-error.h"
#include "basic/orch-exit-record.h"
#include "basic/orch-fd-budget.h"
#include "basic/orch-id.h"
#include "basic/orch-proc.h"
#include "orch-fd-watch.h"
#include "orch-job-page.h"
#include "orch-launch.h"
#include "orch-policy.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <pthread.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* How often a group without an events file (none backend) is polled for
 * emptiness, and only while a job is winding down. */
#define EMPTY_POLL_MS 5

typedef enum { WAIT_FINISHED, WAIT_RESTARTED } WaitKind;

typedef struct {
  WaitKind kind;
  guint generation;     /* WAIT_RESTARTED: the run that must have begun */
  OrchManagerDoneFunc done;
  gpointer user_data;
} Waiter;

static void launch_run (Entry *e, GError **error);
static gboolean maybe_finish (Entry *e);

static gboolean retry_cb (gpointer data);

/* The record is on disk: a failure told before is over, and the run's
 * exit record can go. */
static void
persisted (Entry *e)
{
  e->never_saved = FALSE;
  if (e->dirty)
    g_message (_("job %s: its record is saved again"), e->job->id);
  e->dirty = FALSE;
  if (e->exit_record_pending)
    {
      /* The monitor wrote it by renaming its prepared file: none is left. */
      orch_exit_record_remove (e->m->exit_dir_fd, e->job->id, FALSE);
      e->exit_record_pending = FALSE;
      e->exit_files = FALSE;
    }
}

/* A save failed (a full disk): the entry is dirty, and a timer saves it
 * again every second, and announces it then. */
static void
persist_failed (Entry *e, const GError *error)
{
  OrchManager *m = e->m;

  if (!e->dirty)
    g_warning (_("job %s: %s; saving it again every second"), e->job->id, error->message);
  e->dirty = TRUE;
  if (m->retry_source == 0)
    m->retry_source = g_timeout_add_seconds (1, retry_cb, m);
}

/* Writes the record; before any announcement, so what clients heard of
 * survives the daemon.  The run's exit record is removed only once its
 * end is in the database, so a daemon that dies meanwhile still finds how
 * the run ended.  A group open in this pass is committed (and told)
 * first: a write outside it must not be committed with it. */
gboolean
manager_persist (Entry *e, GError **error)
{
  OrchManager *m = e->m;
  g_autoptr(GError) local = NULL;
  gboolean saved;

  orch_manager_flush (m);
  saved = m->state == NULL ||
          (e->never_saved ? orch_state_save_new (m->state, e->job, e->auto_restarts, &local)
                          : orch_state_save (m->state, e->job, e->auto_restarts, &local));
  if (!saved)
    {
      persist_failed (e, local);
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  persisted (e);
  return TRUE;
}

static void
notify_now (Entry *e)
{
  if (e->m->cb.job_changed)
    e->m->cb.job_changed (e->job, e->m->cb_data);
}

/* Tells clients, without writing: only where the record on disk is
 * already the current one (what the open group holds is told first). */
static void
notify (Entry *e)
{
  orch_manager_flush (e->m);
  notify_now (e);
}

/* ---- group commit ----
 * A job's record changes twice when it is stopped (stopping, then its
 * end); a thousand stops were two thousand commits, each on the main
 * loop.  The changes of one pass go into one transaction instead: the
 * record is written at once, and the entry queued; the commit and the
 * announcements (signals, the callers waiting) follow at the end of the
 * pass (batch_prepare) or when the group is full, before anything that
 * depends on them.  A write of another kind ends the group first
 * (orch_state_flush).  If the commit fails, nothing of it was told: each
 * entry is dirty and its waiters hear why, as with a save that fails
 * alone. */

enum { BATCH_NOTIFY = 1 << 0, BATCH_WAITERS = 1 << 1 };

/* Records per transaction at most, so that a pass's announcements are
 * not held back behind a long batch. */
#define BATCH_MAX 64

static void run_waiters (Entry *e, const GError *error);
static void changed_error (Entry *e, GError *error);

/* TRUE if the write is in the open group (opened here if need be), FALSE
 * if it is not for a group: no state, or a transaction of someone else's
 * (the restore's) is open. */
static gboolean
batch_write (Entry *e, guint what)
{
  OrchManager *m = e->m;
  g_autoptr(GError) local = NULL;

  if (m->state == NULL || m->batch_source == NULL)
    return FALSE;
  if (m->batch == NULL)
    {
      if (!orch_state_group_begin (m->state))
        return FALSE;
      m->batch = g_ptr_array_new ();
    }
  /* After a failure the transaction may be gone already: the rest of the
   * group is not written, and fails with it. */
  if (m->batch_error == NULL && !orch_state_group_save (m->state, e->job, e->auto_restarts, &local))
    m->batch_error = g_steal_pointer (&local);
  if (e->batch == 0)
    g_ptr_array_add (m->batch, e);
  e->batch |= what;
  if (m->batch->len >= BATCH_MAX)
    orch_manager_flush (m);
  return TRUE;
}

void
orch_manager_flush (OrchManager *m)
{
  g_autoptr(GPtrArray) batch = g_steal_pointer (&m->batch);
  g_autoptr(GError) error = g_steal_pointer (&m->batch_error);
  g_autoptr(GPtrArray) staged = NULL;
  gboolean ok;

  if (batch == NULL)
    return;
  /* The events the records imply (a stopped job's "exited") go into the
   * same commit, and are told after the records' announcements. */
  if (m->events && error == NULL)
    {
      staged = g_ptr_array_new_with_free_func ((GDestroyNotify) orch_event_free);
      for (guint i = 0; i < batch->len; i++)
        if (batch->pdata[i])
          orch_events_stage (m->events, ((Entry *) batch->pdata[i])->job, staged);
    }
  ok = orch_state_group_end (m->state, error == NULL, error ? NULL : &error);
  if (staged)
    orch_events_stage_end (m->events, ok);
  /* Callbacks may remove jobs of the batch (entry_free clears its slot),
   * and begin and flush groups of their own meanwhile. */
  for (guint i = 0; i < batch->len; i++)
    {
      Entry *e = batch->pdata[i];
      e->told = e->batch;
      e->batch = 0;
    }
  m->flushing = g_slist_prepend (m->flushing, batch);
  for (guint i = 0; i < batch->len; i++)
    {
      Entry *e = batch->pdata[i];
      guint what;

      if (e == NULL)
        continue;
      what = e->told;
      e->told = 0;
      if (!ok)
        {
          persist_failed (e, error);
          if (what & BATCH_WAITERS)
            changed_error (e, g_error_copy (error));
          continue;
        }
      persisted (e);
      if (e->batch)
        {
          /* Changed again by a callback, in a group not committed yet:
           * told with it. */
          e->batch |= what;
          continue;
        }
      if (what & BATCH_NOTIFY)
        notify_now (e);
      if (what & BATCH_WAITERS)
        {
          g_autoptr(GError) not_started = g_steal_pointer (&e->persist_error);
          run_waiters (e, not_started);
        }
    }
  m->flushing = g_slist_remove (m->flushing, batch);
  for (guint i = 0; ok && staged && i < staged->len; i++)
    orch_events_emit (m->events, staged->pdata[i]);
}

/* Before the loop sleeps again: the pass is over, its group commits. */
static gboolean
batch_prepare (GSource *source, gint *timeout)
{
  orch_manager_flush (((BatchSource *) source)->m);
  *timeout = -1;
  return FALSE;
}

static gboolean
batch_never (GSource *source)
{
  return FALSE;
}

static GSourceFuncs batch_funcs = { .prepare = batch_prepare, .check = batch_never };

/* Saves, then tells clients; a change that could not be saved is told
 * once it is (retry_cb). */
static gboolean
announce_now (Entry *e, GError **error)
{
  if (!manager_persist (e, error))
    return FALSE;
  notify_now (e);
  return TRUE;
}

/* The same, grouped with the pass's other changes where it can be:
 * nothing to report then, a failure is the group's (see above). */
static void
announce (Entry *e)
{
  if (!batch_write (e, BATCH_NOTIFY))
    (void) announce_now (e, NULL);
}

gboolean
manager_announce (Entry *e, GError **error)
{
  return announce_now (e, error);
}

void
manager_set_state (Entry *e, OrchJobState state)
{
  OrchJobState old = e->job->state;

  if (old == state)
    return;
  if (!orch_job_state_can_transition (old, state))
    g_warning ("job %s: unexpected transition %s -> %s", e->job->id,
               orch_job_state_to_string (old), orch_job_state_to_string (state));
  e->job->state = state;
  if (orch_job_state_is_active (old) != orch_job_state_is_active (state))
    {
      if (orch_job_state_is_active (state))
        e->m->active++;
      else
        e->m->active--;
    }
}

static void
run_waiters (Entry *e, const GError *error)
{
  /* Callbacks may add waiters; take the array first. */
  g_autoptr(GArray) waiters = e->waiters;
  g_autoptr(GArray) keep = g_array_new (FALSE, FALSE, sizeof (Waiter));

  e->waiters = NULL;
  for (guint i = 0; waiters && i < waiters->len; i++)
    {
      Waiter *w = &g_array_index (waiters, Waiter, i);
      gboolean ready = error != NULL;

      if (!ready && w->kind == WAIT_FINISHED)
        ready = !orch_job_state_is_active (e->job->state);
      else if (!ready && w->kind == WAIT_RESTARTED)
        /* The run it asked for has begun, or has already ended (an
         * automatic restart the policy arms after it is another run). */
        ready = e->generation >= w->generation &&
                (e->job->state == ORCH_JOB_RUNNING || !orch_job_state_is_active (e->job->state)) &&
                !e->run.restart_requested;
      if (ready)
        w->done (e->job, error, w->user_data);
      else
        g_array_append_val (keep, *w);
    }
  if (e->waiters)
    {
      g_array_append_vals (keep, e->waiters->data, e->waiters->len);
      g_array_unref (e->waiters);
    }
  e->waiters = keep->len ? g_steal_pointer (&keep) : NULL;
}

static void
add_waiter (Entry *e, WaitKind kind, guint generation, OrchManagerDoneFunc done, gpointer data)
{
  Waiter w = { kind, generation, done, data };

  if (e->waiters == NULL)
    e->waiters = g_array_new (FALSE, FALSE, sizeof (Waiter));
  g_array_append_val (e->waiters, w);
}

/* The job changed: saved, announced, and callers waiting for it answered
 * - with an error if the change could not be saved, since a call never
 * reports what a restarted daemon would not know. */
static void
changed_error (Entry *e, GError *error /* owned */)
{
  g_prefix_error (
      &error,
      _("job %s is %s, but that is not saved yet (orchestratord saves it again every second): "),
      e->job->id, orch_job_state_to_string (e->job->state));
  run_waiters (e, error);
  g_error_free (error);
}

static void
changed (Entry *e)
{
  GError *error = NULL;

  if (batch_write (e, BATCH_NOTIFY | BATCH_WAITERS))
    return;
  if (announce_now (e, &error))
    {
      /* A run that was not started because it could not be saved. */
      g_autoptr(GError) not_started = g_steal_pointer (&e->persist_error);
      run_waiters (e, not_started);
      return;
    }
  changed_error (e, error);
}

static gboolean
retry_cb (gpointer data)
{
  OrchManager *m = data;
  gboolean left = FALSE;

  for (guint i = 0; i < m->order->len; i++)
    {
      Entry *e = g_ptr_array_index (m->order, i);
      if (!e->dirty)
        continue;
      if (manager_persist (e, NULL))
        notify (e);
      else
        left = TRUE;
    }
  if (left)
    return G_SOURCE_CONTINUE;
  m->retry_source = 0;
  return G_SOURCE_REMOVE;
}

static void
clear_source (guint *id)
{
  if (*id)
    {
      g_source_remove (*id);
      *id = 0;
    }
}

static void
unwatch_group (Entry *e)
{
  if (e->run.inotify_wd >= 0)
    {
      g_hash_table_remove (e->m->watches, GINT_TO_POINTER (e->run.inotify_wd));
      inotify_rm_watch (e->m->inotify_fd, e->run.inotify_wd);
      e->run.inotify_wd = -1;
    }
  clear_source (&e->run.poll_timer);
}

static void
entry_clear_run (Entry *e)
{
  unwatch_group (e);
  manager_unwatch_pidfd (e);
  orch_fd_watch_remove (e->run.status_source);
  e->run.status_source = 0;
  clear_source (&e->run.child_source);
  clear_source (&e->run.kill_timer);
  orch_launch_clear (&e->run.launch);
}

/* @why: what callers still waiting on the job are told (it was removed,
 * or the daemon is shutting down). */
static void
batch_forget (GPtrArray *batch, Entry *e)
{
  for (guint i = 0; batch && i < batch->len; i++)
    if (batch->pdata[i] == e)
      batch->pdata[i] = NULL;
}

static void
entry_free (Entry *e, const GError *why)
{
  if (e->batch)
    batch_forget (e->m->batch, e);
  if (e->told)
    for (GSList *l = e->m->flushing; l; l = l->next)
      batch_forget (l->data, e);
  if (e->job->monitor_pid > 0)
    g_hash_table_remove (e->m->children, GINT_TO_POINTER (e->job->monitor_pid));
  entry_clear_run (e);
  clear_source (&e->restart_timer);
  if (e->waiters)
    {
      run_waiters (e, why);
      g_clear_pointer (&e->waiters, g_array_unref);
    }
  g_clear_error (&e->persist_error);
  orch_job_free (e->job);
  g_free (e);
}

Entry *
manager_entry_new (OrchManager *m, OrchJob *job /* owned */)
{
  Entry *e = g_new0 (Entry, 1);

  e->m = m;
  e->run = RUN_INIT;
  e->job = job;
  e->exit_files = TRUE; /* a record loaded from state: not known */
  return e;
}

/* The tables that find a job: by id, in creation order, by request id. */
void
manager_index_entry (OrchManager *m, Entry *e)
{
  g_hash_table_insert (m->entries, e->job->id, e);
  e->seq = ++m->next_seq;
  g_ptr_array_add (m->order, e);
  if (e->job->spec->request_id)
    g_hash_table_insert (m->requests, e->job->spec->request_id, e);
}

static guint64
entry_seq (gconstpointer e)
{
  return ((const Entry *) e)->seq;
}

static void
unindex_entry (OrchManager *m, Entry *e)
{
  /* Found by its seq, not by a walk: removing every job stays linear. */
  guint i = orch_job_page_start (m->order, entry_seq, e->seq - 1);

  g_hash_table_remove (m->entries, e->job->id);
  if (i < m->order->len && m->order->pdata[i] == e)
    g_ptr_array_remove_index (m->order, i);
  if (e->job->spec->request_id && g_hash_table_lookup (m->requests, e->job->spec->request_id) == e)
    g_hash_table_remove (m->requests, e->job->spec->request_id);
}

static guint
active_count (OrchManager *m)
{
  return m->active;
}

/* ---- restart ---- */

static void relaunch (Entry *e);

static gboolean
restart_timer_cb (gpointer data)
{
  Entry *e = data;

  /* The last run's end is not saved yet (a full disk): a new run would
   * bury it.  Wait for the save. */
  if (e->dirty)
    return G_SOURCE_CONTINUE;
  e->restart_timer = 0;
  e->auto_restarts++;
  e->job->restarts++;
  relaunch (e);
  return G_SOURCE_REMOVE;
}

/* Arms the restart timer if the job's policy wants another run. */
void
manager_maybe_schedule_restart (Entry *e)
{
  OrchJob *job = e->job;

  if (job->state != ORCH_JOB_STOPPED && e->restart_timer == 0 &&
      orch_restart_wanted (job->spec, job->state, e->auto_restarts))
    {
      guint delay = orch_restart_delay_ms (job->spec->restart_delay_ms, e->auto_restarts);
      e->restart_timer = g_timeout_add (delay, restart_timer_cb, e);
    }
}

/* ---- file descriptors (orch-fd-budget.h) ----
 * Stopping a job and reading its exit record must not fail for want of
 * an fd; a new run is refused before it would leave too few for that. */

static void
fd_room_for_stop (void)
{
  if (!orch_fd_budget_make_room (ORCH_FD_STOP))
    g_warning ("no file descriptor is free, even from the reserve");
}

static gboolean
fd_room_for_launch (OrchManager *m, GError **error)
{
  return orch_fd_budget_check_launch (active_count (m), error);
}

/* ---- the end of a run ---- */

static void
finish (Entry *e)
{
  OrchJob *job = e->job;
  OrchJobState final;

  entry_clear_run (e);
  /* The last OOM kills, before the group goes: they decide the result. */
  (void) manager_oom_update (e);
  e->m->backend->ops->forget (e->m->backend, job);

  if (e->run.launch_failed && !e->run.stop_requested)
    final = ORCH_JOB_FAILED;
  else
    final = orch_job_final_state (e->run.wait_status, e->run.stop_requested);
  manager_set_state (e, final);
  if (job->finished_at == 0)
    job->finished_at = now_us (); /* else the monitor's record said when */

  if (e->run.restart_requested)
    {
      e->run.restart_requested = FALSE;
      e->auto_restarts = 0;
      job->restarts++;
      announce (e); /* stopped, before the new run */
      relaunch (e);
      return;
    }

  if (!e->run.stop_requested)
    manager_maybe_schedule_restart (e);
  changed (e);
}

static gboolean
poll_cb (gpointer data)
{
  Entry *e = data;

  maybe_finish (e);
  return G_SOURCE_CONTINUE;
}

static void
watch_group (Entry *e)
{
  OrchManager *m = e->m;
  g_autofree char *path = NULL;

  if (e->run.inotify_wd >= 0 || e->run.poll_timer)
    return;
  path = m->inotify_fd >= 0 ? m->backend->ops->events_path (m->backend, e->job) : NULL;
  if (path)
    {
      e->run.inotify_wd = inotify_add_watch (m->inotify_fd, path, IN_MODIFY | IN_DELETE_SELF);
      if (e->run.inotify_wd >= 0)
        {
          g_hash_table_insert (m->watches, GINT_TO_POINTER (e->run.inotify_wd), e);
          return;
        }
    }
  e->run.poll_timer = g_timeout_add (EMPTY_POLL_MS, poll_cb, e);
}

/* Finishes the run once the main process is gone and no process of the job
 * is left (TRUE); until then, watches the group. */
static gboolean
maybe_finish (Entry *e)
{
  OrchBackend *b = e->m->backend;
  int r;

  if (!e->run.main_exited || e->run.attaching)
    return FALSE;
  /* The watch is set before the check, so an emptying in between is seen. */
  watch_group (e);
  r = e->run.launch_failed && !e->run.released ? 1 : b->ops->is_empty (b, e->job);
  if (r < 0)
    g_warning ("job %s: cannot tell whether processes are left: %s", e->job->id, g_strerror (-r));
  if (r == 0)
    return FALSE;
  finish (e);
  return TRUE;
}

static gboolean
inotify_cb (int fd, GIOCondition cond, gpointer data)
{
  OrchManager *m = data;
  char buf[4096] __attribute__ ((aligned (__alignof__ (struct inotify_event))));
  ssize_t n;

  while ((n = read (fd, buf, sizeof buf)) > 0)
    for (char *p = buf; p < buf + n;)
      {
        struct inotify_event *ev = (struct inotify_event *) p;
        Entry *e = g_hash_table_lookup (m->watches, GINT_TO_POINTER (ev->wd));
        p += sizeof *ev + ev->len;
        if (e == NULL)
          continue;
        if (ev->mask & IN_IGNORED)
          {
            /* The cgroup went away: the kernel dropped the watch. */
            g_hash_table_remove (m->watches, GINT_TO_POINTER (ev->wd));
            e->run.inotify_wd = -1;
          }
        maybe_finish (e);
      }
  return G_SOURCE_CONTINUE;
}

static gboolean
kill_timer_cb (gpointer data)
{
  Entry *e = data;
  OrchBackend *b = e->m->backend;

  e->run.kill_timer = 0;
  fd_room_for_stop ();
  g_message ("job %s: still running after the stop timeout, sending SIGKILL", e->job->id);
  if (!e->run.main_exited && e->job->pid > 0)
    kill (e->job->pid, SIGKILL);
  b->ops->kill (b, e->job, SIGKILL);
  return G_SOURCE_REMOVE;
}

static guint
stop_timeout (Entry *e, guint timeout_ms)
{
  if (timeout_ms)
    return timeout_ms;
  if (e->job->spec->stop_timeout_ms)
    return e->job->spec->stop_timeout_ms;
  return e->m->config->stop_timeout_ms;
}

/* Signals every process of the job and arms the SIGKILL timer. */
void
manager_signal_group (Entry *e, int sig, guint timeout_ms)
{
  OrchBackend *b = e->m->backend;
  int r;

  fd_room_for_stop ();
  if (!e->run.released)
    {
      /* Still held before exec: nothing to stop gracefully. */
      if (!e->run.main_exited && e->job->monitor_pid > 0)
        kill (e->job->monitor_pid, SIGKILL);
      return;
    }
  if (e->job->pid == 0)
    e->run.pending_sig = sig; /* sent again once the monitor says which pid */
  r = b->ops->kill (b, e->job, sig);
  if (r < 0 && r != -ESRCH)
    g_warning ("job %s: cannot send signal %d: %s", e->job->id, sig, g_strerror (-r));
  if (sig != SIGKILL && e->run.kill_timer == 0)
    e->run.kill_timer = g_timeout_add (stop_timeout (e, timeout_ms), kill_timer_cb, e);
}

/* Reads what the status pipe has: the command's pid, or the stage that
 * failed.  TRUE once it is done (EOF, or a failure): the source goes. */
static gboolean
read_launch_status (Entry *e)
{
  OrchJob *job = e->job;
  OrchLaunchMsg msg;
  gboolean done;
  ssize_t n;

  if (e->run.launch.status_fd < 0)
    return TRUE;
  while ((n = read (e->run.launch.status_fd, &msg, sizeof msg)) == (ssize_t) sizeof msg)
    {
      if (msg.kind == ORCH_LAUNCH_MSG_PID && msg.value > 0 && job->pid == 0)
        {
          job->pid = msg.value;
          job->pid_start = orch_process_start_time (job->pid);
          if (e->run.pending_sig)
            {
              OrchBackend *b = e->m->backend;
              (void) b->ops->kill (b, job, e->run.pending_sig);
              e->run.pending_sig = 0;
            }
        }
      else if (msg.kind != ORCH_LAUNCH_MSG_PID)
        {
          e->run.launch_failed = TRUE;
          g_free (job->error);
          job->error = g_strdup_printf (_("failed while %s: %s"),
                                        _(orch_launch_stage_to_string (msg.kind)),
                                        g_strerror (msg.value));
        }
    }
  /* Only "nothing yet" leaves it open: EOF, an error or a torn message
   * all end it. */
  done = !(n < 0 && (errno == EAGAIN || errno == EINTR));
  if (done)
    {
      orch_fd_watch_remove (e->run.status_source);
      e->run.status_source = 0;
      close (e->run.launch.status_fd);
      e->run.launch.status_fd = -1;
    }
  return done;
}

/* How the command ended, as its monitor recorded it (the record goes once
 * the end is saved): into @status and the job's finished_at.  FALSE if there is no
 * record: the monitor was killed, or the run never got that far. */
gboolean
manager_take_exit_record (Entry *e, int *status)
{
  OrchJob *job = e->job;
  OrchExitRecord rec;
  int r;

  fd_room_for_stop ();
  r = orch_exit_record_read (e->m->exit_dir_fd, job->id, &rec);
  if (r < 0)
    {
      if (r != -ENOENT)
        g_warning ("job %s: unreadable exit record: %s", job->id, g_strerror (-r));
      return FALSE;
    }
  *status = rec.status;
  job->finished_at = rec.finished_at;
  /* started_at is when the daemon heard of the exec, finished_at when the
   * monitor saw the end: a short command can end before the daemon hears
   * it started.  started_at has been told (and keys the run's events), so
   * the end, told for the first time here, is the one that gives way. */
  if (job->finished_at < job->started_at)
    job->finished_at = job->started_at;
  /* Removed by manager_persist() once the run's end is saved. */
  e->exit_record_pending = TRUE;
  return TRUE;
}

/* The monitor is gone and the run ended with @status (waitpid's). */
void
manager_run_ended (Entry *e, int status)
{
  OrchJob *job = e->job;

  e->run.main_exited = TRUE;
  e->run.wait_status = status;
  if (WIFEXITED (status))
    {
      job->exit_code = WEXITSTATUS (status);
      job->signal = 0;
    }
  else if (WIFSIGNALED (status))
    {
      job->exit_code = -1;
      job->signal = WTERMSIG (status);
    }
  read_launch_status (e);
  /* Exec happened but the run was too short to be seen running. */
  if (e->run.released && !e->run.launch_failed && job->started_at == 0)
    job->started_at = job->finished_at ? job->finished_at : now_us ();

  if (maybe_finish (e) || e->run.attaching || e->run.stop_requested ||
      job->state == ORCH_JOB_STOPPING)
    return;

  /* The main process is gone but others of the job remain: they go too, as
   * a service's would (KillMode=control-group). */
  manager_set_state (e, ORCH_JOB_STOPPING);
  manager_signal_group (e, SIGTERM, 0);
  changed (e);
}

static void abandoned_reaped (Entry *e);

static void
child_exited (GPid pid, int status, gpointer data)
{
  Entry *e = data;

  e->run.child_source = 0;
  if (e->abandoned)
    {
      abandoned_reaped (e);
      return;
    }
  /* The record says how the command ended.  Without one, the monitor's
   * own status is the command's: it exits with the command's code or dies
   * of its signal when it cannot write the record (a full disk); killed
   * with SIGKILL, it was killed with the job's whole group. */
  if (!manager_take_exit_record (e, &status) && e->run.released && !e->run.launch_failed &&
      !(WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL))
    {
      g_free (e->job->error);
      e->job->error = g_strdup (_("orchestrator-monitor could not save the exit status to disk (is the state directory's file system full?); the status is the one it exited with"));
    }
  manager_run_ended (e, status);
}

/* ---- waiting for monitors through pidfds ----
 * waitpid(-1) after each SIGCHLD walks every child the daemon has (the
 * kernel's wait_consider_task): with 10 000 jobs, 9 % of a mass stop's
 * CPU.  A pidfd per monitor, in the loop's epoll set, says which one
 * ended, and waitid(P_PIDFD) reaps just that one. */

gboolean
manager_watch_pidfd (Entry *e, int fd, OrchFdWatchFunc func)
{
  e->run.pidfd_watch = orch_fd_watch_add (fd, G_IO_IN, func, e);
  if (e->run.pidfd_watch == 0)
    {
      close (fd);
      return FALSE;
    }
  e->run.pidfd = fd;
  return TRUE;
}

void
manager_unwatch_pidfd (Entry *e)
{
  orch_fd_watch_remove (e->run.pidfd_watch);
  e->run.pidfd_watch = 0;
  if (e->run.pidfd >= 0)
    close (e->run.pidfd);
  e->run.pidfd = -1;
}

/* waitid()'s account of an end as waitpid()'s status. */
static int
wait_status (const siginfo_t *si)
{
  switch (si->si_code)
    {
    case CLD_EXITED:
      return (si->si_status & 0xff) << 8;
    case CLD_DUMPED:
      return (si->si_status & 0x7f) | 0x80;
    default:
      return si->si_status & 0x7f;
    }
}

static gboolean
child_pidfd_cb (int fd, GIOCondition cond, gpointer data)
{
  Entry *e = data;
  siginfo_t si = { 0 };

  if (waitid (P_PIDFD, (id_t) fd, &si, WEXITED | WNOHANG) < 0)
    {
      g_warning ("job %s: cannot wait for its monitor: %s", e->job->id, g_strerror (errno));
      return G_SOURCE_CONTINUE;
    }
  if (si.si_pid == 0)
    return G_SOURCE_CONTINUE; /* not ended yet */
  manager_unwatch_pidfd (e);
  child_exited (si.si_pid, wait_status (&si), e);
  return G_SOURCE_CONTINUE; /* removed above */
}

/* Whether this kernel has pidfds a parent can wait on (Linux >= 5.4). */
static gboolean
pidfds_work (void)
{
  int fd = (int) syscall (SYS_pidfd_open, getpid (), 0);
  siginfo_t si;
  gboolean ok;

  if (fd < 0)
    return FALSE;
  /* Ourselves are no child of ours: ECHILD; an older kernel: EINVAL. */
  ok = waitid (P_PIDFD, (id_t) fd, &si, WEXITED | WNOHANG) < 0 && errno == ECHILD;
  close (fd);
  return ok;
}

static gboolean
status_cb (int fd, GIOCondition cond, gpointer data)
{
  Entry *e = data;

  /* Done: read_launch_status() has removed the watch. */
  if (!read_launch_status (e))
    return G_SOURCE_CONTINUE;
  if (!e->run.launch_failed && e->job->state == ORCH_JOB_STARTING)
    {
      e->job->started_at = now_us ();
      manager_set_state (e, ORCH_JOB_RUNNING);
      changed (e);
    }
  return G_SOURCE_REMOVE;
}

static void
attached_cb (OrchJob *job, const GError *error, gpointer data)
{
  Entry *e = data;
  g_autoptr(GError) error_local = NULL;

  e->run.attaching = FALSE;
  if (error)
    {
      g_warning ("job %s: %s", job->id, error->message);
      e->run.launch_failed = TRUE;
      g_free (job->error);
      job->error = g_strdup (error->message);
      if (!e->run.main_exited)
        kill (job->monitor_pid, SIGKILL);
      maybe_finish (e);
      return;
    }
  if (e->run.stop_requested || e->run.main_exited)
    {
      /* Stopped (or gone) before it could exec. */
      if (!e->run.main_exited)
        kill (job->monitor_pid, SIGKILL);
      maybe_finish (e);
      return;
    }
  /* Before the command can run, so none of its OOM kills is missed. */
  manager_oom_baseline (e);
  /* On disk before the process can run: a daemon that dies from here on
   * finds the job again (before this, the held child dies with it).  What
   * cannot be saved does not run. */
  if (!manager_persist (e, &error_local))
    {
      g_warning ("job %s: not started: %s", job->id, error_local->message);
      e->run.launch_failed = TRUE;
      g_free (job->error);
      job->error = g_strdup_printf (_("not started: %s"), error_local->message);
      e->persist_error = g_error_new (ORCH_ERROR, ORCH_ERROR_FAILED, _("job %s was not started: %s"),
                                      job->id, error_local->message);
      kill (job->monitor_pid, SIGKILL);
      return; /* child_exited() ends the run, or Create undoes it */
    }
  /* In the epoll set: a GSource of its own would change the loop's poll
   * set twice per launch, and each change costs a wasted poll() of every
   * fd (GLib wakes the loop on any change). */
  e->run.status_source = orch_fd_watch_add (e->run.launch.status_fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                            status_cb, e);
  if (e->run.status_source == 0)
    {
      /* No fd left for the epoll set: it would never be seen running. */
      g_warning ("job %s: not started: %s", job->id, g_strerror (EMFILE));
      e->run.launch_failed = TRUE;
      g_free (job->error);
      job->error = g_strdup_printf (_("not started: %s"), g_strerror (EMFILE));
      kill (job->monitor_pid, SIGKILL);
      return; /* child_exited() ends the run */
    }
  if (!orch_launch_release (&e->run.launch))
    {
      g_warning ("job %s: cannot release the child: %s", job->id, g_strerror (errno));
      return; /* the child is gone; child_exited() handles it */
    }
  e->run.released = TRUE;
  /* No announcement here: unit and cgroup reach clients with "running" a
   * moment later, one signal fewer on every launch's critical path. */
}

static int
open_log (const char *path, const OrchSpec *spec, GError **error)
{
  int fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);

  if (fd < 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot open log file %s: %s"),
                   path, g_strerror (errno));
      return -1;
    }
  if (spec->has_user && fchown (fd, spec->uid, spec->gid) < 0)
    g_warning ("cannot hand log file %s to uid %u: %s", path, (guint) spec->uid, g_strerror (errno));
  return fd;
}

static void
write_separator (int fd, OrchJob *job)
{
  g_autoptr(GDateTime) dt = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format_iso8601 (dt);
  g_autofree char *line = NULL;

  /* A stamped log gets a stamped record (orch-log-record.h): the daemon
   * writes it at that moment, so that is its time. */
  if (job->spec->log_timestamps)
    {
      g_autofree char *t = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S.%fZ");
      line = g_strdup_printf ("%s --- orchestrator: restart %u ---\n", t, job->restarts);
    }
  else
    line = g_strdup_printf ("--- orchestrator: %s restart %u ---\n", stamp, job->restarts);
  ssize_t n G_GNUC_UNUSED = write (fd, line, strlen (line));
}

/* Starts one run of @e's job: fork held, attach, then release. */
static void
launch_run (Entry *e, GError **error)
{
  OrchManager *m = e->m;
  OrchJob *job = e->job;
  OrchLaunchParams params = { .spec = job->spec,
                              .job_id = job->id,
                              .exit_dir_fd = m->exit_dir_fd,
                              .monitor = m->monitor,
                              .cgroup_fd = -1 };
  int out_fd, err_fd;
  gboolean ok;

  entry_clear_run (e);
  e->run = RUN_INIT;
  e->generation++;
  job->pid = job->monitor_pid = 0;
  job->pid_start = job->monitor_start = 0;
  job->exit_code = -1;
  job->signal = 0;
  job->started_at = job->finished_at = 0;
  job->run_oom_kills = 0;
  g_clear_pointer (&job->error, g_free);
  g_clear_error (&e->persist_error);
  manager_set_state (e, ORCH_JOB_STARTING);
  /* A record a previous run left must not end this one (a new job's id
   * is new: no run of it left one). */
  if (e->exit_files)
    orch_exit_record_remove (m->exit_dir_fd, job->id, TRUE);
  e->exit_files = FALSE;
  if (job->spec->resolved_exec == NULL && !orch_policy_check (m->config, job->spec, error))
    goto failed; /* a record loaded from state, and the system changed */

  out_fd = open_log (job->log_path, job->spec, error);
  if (out_fd < 0)
    goto failed;
  err_fd = out_fd;
  if (job->stderr_log_path)
    {
      err_fd = open_log (job->stderr_log_path, job->spec, error);
      if (err_fd < 0)
        {
          close (out_fd);
          goto failed;
        }
    }
  if (job->restarts > 0)
    write_separator (out_fd, job);

  params.stdout_fd = out_fd;
  params.stderr_fd = err_fd;
  /* Born in its group where the backend and kernel can: no attach. */
  if (m->backend->ops->prepare)
    params.cgroup_fd = m->backend->ops->prepare (m->backend, job);
  ok = orch_launch_fork (&params, &e->run.launch, error);
  e->exit_files |= ok;
  if (err_fd != out_fd)
    close (err_fd);
  close (out_fd);
  if (params.cgroup_fd >= 0)
    close (params.cgroup_fd);
  if (!ok)
    {
      if (params.cgroup_fd >= 0)
        m->backend->ops->forget (m->backend, job);
      goto failed;
    }

  job->monitor_pid = e->run.launch.pid;
  job->monitor_start = orch_process_start_time (e->run.launch.pid);
  if (m->pidfds)
    {
      /* Our child, not reaped by anyone else: its pidfd is its, even
       * if it has ended already. */
      int fd = (int) syscall (SYS_pidfd_open, e->run.launch.pid, 0);
      if (fd < 0 || !manager_watch_pidfd (e, fd, child_pidfd_cb))
        {
          int saved = fd < 0 ? errno : EMFILE;
          int status;
          /* Still held before exec: nothing of the command ran. */
          kill (e->run.launch.pid, SIGKILL);
          while (waitpid (e->run.launch.pid, &status, 0) < 0 && errno == EINTR)
            ;
          job->monitor_pid = 0;
          if (params.cgroup_fd >= 0)
            m->backend->ops->forget (m->backend, job);
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED,
                       _("cannot watch orchestrator-monitor: %s"), g_strerror (saved));
          goto failed;
        }
    }
  else if (m->sigchld_fd >= 0)
    g_hash_table_insert (m->children, GINT_TO_POINTER (e->run.launch.pid), e);
  else
    e->run.child_source = g_child_watch_add (e->run.launch.pid, child_exited, e);
  e->run.attaching = TRUE;
  /* systemd gets to work before anything else is done for this launch. */
  if (e->run.launch.in_cgroup)
    m->backend->ops->adopt (m->backend, job, e->run.launch.pid, attached_cb, e);
  else
    m->backend->ops->attach (m->backend, job, e->run.launch.pid, attached_cb, e);
  return;

failed:
  e->run.launch_failed = TRUE;
  job->error = g_strdup ((*error)->message);
  manager_set_state (e, ORCH_JOB_FAILED);
  job->finished_at = now_us ();
}

/* A new run of an existing job, announced. */
static void
relaunch (Entry *e)
{
  g_autoptr(GError) error = NULL;

  launch_run (e, &error);
  /* attached_cb() has saved the new run unless the backend is still at
   * it; a run it could not save is being undone (child_exited()). */
  if (e->run.attaching || error)
    announce (e);
  else if (e->persist_error == NULL)
    notify (e);
  if (error)
    run_waiters (e, NULL);
}

/* Children reaped in one pass at most: a mass stop ends hundreds of runs
 * at once, and each end is a save and announcements; the rest waits for
 * the next pass, so other calls are answered in between. */
#define REAP_MAX 32

/* TRUE if there may be more to reap. */
static gboolean
reap (OrchManager *m)
{
  int status;
  pid_t pid;

  for (guint n = 0; n < REAP_MAX; n++)
    {
      Entry *e;

      if ((pid = waitpid (-1, &status, WNOHANG)) <= 0)
        {
          orch_manager_flush (m);
          return FALSE;
        }
      e = g_hash_table_lookup (m->children, GINT_TO_POINTER (pid));
      if (e == NULL)
        continue;
      g_hash_table_remove (m->children, GINT_TO_POINTER (pid));
      child_exited (pid, status, e);
    }
  orch_manager_flush (m);
  return TRUE;
}

static gboolean
reap_idle_cb (gpointer data)
{
  OrchManager *m = data;

  if (reap (m))
    return G_SOURCE_CONTINUE;
  m->reap_idle = 0;
  return G_SOURCE_REMOVE;
}

/* Kernels without pidfds to wait on (< 5.4): one SIGCHLD handler for all
 * jobs.  A GLib child watch per job would put
 * one pidfd per job into every poll of the main loop (seen with 1000
 * jobs: a tenth of the daemon's CPU in poll bookkeeping). */
static gboolean
sigchld_cb (int fd, GIOCondition cond, gpointer data)
{
  OrchManager *m = data;
  struct signalfd_siginfo si;

  while (read (fd, &si, sizeof si) == sizeof si)
    ;
  /* At the priority of the bus: a pass takes both. */
  if (m->reap_idle == 0 && reap (m))
    m->reap_idle = g_idle_add_full (G_PRIORITY_DEFAULT, reap_idle_cb, m, NULL);
  return G_SOURCE_CONTINUE;
}

static void
state_flush_cb (gpointer data)
{
  orch_manager_flush (data);
}

static void
setup_sigchld (OrchManager *m)
{
  sigset_t blocked, chld;

  m->sigchld_fd = -1;
  /* Only where the caller blocked SIGCHLD in every thread (the daemon does,
   * first thing in main()); otherwise another thread may take the signal
   * and the fd would never see it. */
  if (pthread_sigmask (SIG_BLOCK, NULL, &blocked) != 0 || !sigismember (&blocked, SIGCHLD))
    return;
  sigemptyset (&chld);
  sigaddset (&chld, SIGCHLD);
  m->sigchld_fd = signalfd (-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (m->sigchld_fd >= 0)
    m->sigchld_source = orch_fd_source_add (m->sigchld_fd, G_IO_IN, sigchld_cb, m);
}

/* ---- public ---- */

OrchManager *
orch_manager_new (const OrchConfig *config, OrchBackend *backend, OrchState *state,
                  const OrchManagerCallbacks *callbacks, gpointer user_data, GError **error)
{
  g_autoptr(OrchBackend) b = backend;
  g_autofree char *exit_dir = g_build_filename (config->state_dir, "exits", NULL);
  g_autofree char *monitor = orch_launch_find_monitor ();
  OrchManager *m;
  int exit_dir_fd;

  if (g_mkdir_with_parents (config->log_dir, 0750) < 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot create log directory %s: %s"),
                   config->log_dir, g_strerror (errno));
      return NULL;
    }
  if (access (monitor, X_OK) < 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot run %s: %s"), monitor,
                   g_strerror (errno));
      return NULL;
    }
  if (g_mkdir_with_parents (exit_dir, 0700) < 0 ||
      (exit_dir_fd = open (exit_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot create state directory %s: %s"),
                   exit_dir, g_strerror (errno));
      return NULL;
    }

  m = g_new0 (OrchManager, 1);
  m->state = state;
  m->exit_dir_fd = exit_dir_fd;
  m->monitor = g_steal_pointer (&monitor);
  m->config = config;
  m->backend = g_steal_pointer (&b);
  if (callbacks)
    m->cb = *callbacks;
  m->cb_data = user_data;
  m->entries = g_hash_table_new (g_str_hash, g_str_equal);
  m->order = g_ptr_array_new ();
  m->watches = g_hash_table_new (NULL, NULL);
  m->rand = g_rand_new ();
  m->children = g_hash_table_new (NULL, NULL);
  m->abandoned = g_ptr_array_new ();
  m->requests = g_hash_table_new (g_str_hash, g_str_equal);
  m->sigchld_fd = -1;
  m->pidfds = pidfds_work ();
  if (!m->pidfds)
    setup_sigchld (m);
  m->inotify_fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  if (m->inotify_fd >= 0)
    m->inotify_source = orch_fd_source_add (m->inotify_fd, G_IO_IN, inotify_cb, m);
  if (state)
    {
      /* Prepared before the other sources (by priority): the group of
       * the last pass commits before this one's. */
      m->batch_source = g_source_new (&batch_funcs, sizeof (BatchSource));
      ((BatchSource *) m->batch_source)->m = m;
      g_source_set_priority (m->batch_source, G_PRIORITY_HIGH);
      g_source_set_name (m->batch_source, "state group commit");
      g_source_attach (m->batch_source, NULL);
      orch_state_set_flush_func (state, state_flush_cb, m);
    }
  return m;
}

void
orch_manager_free (OrchManager *m)
{
  g_autoptr(GError) shutdown = NULL;

  if (m == NULL)
    return;
  orch_manager_flush (m);
  if (m->batch_source)
    {
      orch_state_set_flush_func (m->state, NULL, NULL);
      g_source_destroy (m->batch_source);
      g_clear_pointer (&m->batch_source, g_source_unref);
    }
  clear_source (&m->reap_idle);
  for (guint i = 0; i < m->order->len; i++)
    {
      Entry *e = g_ptr_array_index (m->order, i);
      /* Held children would wait forever: they go, with their pending
       * backend calls.  Running jobs keep their groups. */
      if (!e->run.released && !e->run.main_exited && e->job->monitor_pid > 0)
        kill (e->job->monitor_pid, SIGKILL);
      if (e->run.attaching)
        e->m->backend->ops->forget (e->m->backend, e->job);
    }
  /* Free entries after the backend forgot them all (pending calls). */
  shutdown = g_error_new (ORCH_ERROR, ORCH_ERROR_FAILED, _("the daemon is shutting down"));
  for (guint i = 0; i < m->order->len; i++)
    entry_free (g_ptr_array_index (m->order, i), shutdown);
  /* Their held children were killed; what is left of them is found as
   * a group no record knows at the next start. */
  for (guint i = 0; i < m->abandoned->len; i++)
    entry_free (g_ptr_array_index (m->abandoned, i), NULL);
  g_ptr_array_unref (m->abandoned);
  g_hash_table_unref (m->requests);
  clear_source (&m->retry_source);
  g_ptr_array_unref (m->order);
  g_hash_table_unref (m->entries);
  g_hash_table_unref (m->watches);
  clear_source (&m->inotify_source);
  clear_source (&m->sigchld_source);
  if (m->sigchld_fd >= 0)
    close (m->sigchld_fd);
  g_hash_table_unref (m->children);
  if (m->inotify_fd >= 0)
    close (m->inotify_fd);
  g_rand_free (m->rand);
  orch_backend_free (m->backend);
  close (m->exit_dir_fd);
  g_free (m->monitor);
  g_strfreev (m->unknown_units);
  g_free (m);
}

const char *
orch_manager_backend_name (OrchManager *m)
{
  return orch_backend_name (m->backend);
}

guint
orch_manager_running_count (OrchManager *m)
{
  return active_count (m);
}

guint
orch_manager_max_concurrent (OrchManager *m)
{
  return m->config->max_concurrent;
}

static Entry *
lookup_entry (OrchManager *m, const char *id, GError **error)
{
  Entry *e;

  if (!orch_job_id_is_valid (id))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a job id (job_YYYYMMDD_HHMMSS_xxxxxx)"), id);
      return NULL;
    }
  e = g_hash_table_lookup (m->entries, id);
  if (e == NULL)
    g_set_error (error, ORCH_ERROR, ORCH_ERROR_NOT_FOUND, _("no job with id %s"), id);
  return e;
}

OrchJob *
orch_manager_lookup (OrchManager *m, const char *id, GError **error)
{
  Entry *e = lookup_entry (m, id, error);

  return e ? e->job : NULL;
}

gboolean
orch_manager_job_is_done (OrchManager *m, const char *id)
{
  Entry *e = g_hash_table_lookup (m->entries, id);

  return e == NULL || (!orch_job_state_is_active (e->job->state) && e->restart_timer == 0);
}

/* Removes the (empty) log file a job that never ran made. */
static void
unlink_if_empty (const char *path)
{
  struct stat st;

  if (path && stat (path, &st) == 0 && st.st_size == 0)
    (void) g_unlink (path);
}

/* Undoes a Create that failed after its child was forked: the job goes
 * from the tables at once (nobody heard of it), the held child is killed,
 * and its group and log file go once it is reaped (abandoned_reaped()). */
static void
abandon (Entry *e)
{
  OrchManager *m = e->m;

  unindex_entry (m, e);
  manager_set_state (e, ORCH_JOB_FAILED);
  e->abandoned = TRUE;
  e->dirty = FALSE;
  if (e->run.attaching)
    {
      m->backend->ops->forget (m->backend, e->job);
      e->run.attaching = FALSE;
    }
  if (!e->run.main_exited && e->job->monitor_pid > 0)
    {
      kill (e->job->monitor_pid, SIGKILL);
      g_ptr_array_add (m->abandoned, e);
      return;
    }
  abandoned_reaped (e);
}

static void
abandoned_reaped (Entry *e)
{
  OrchManager *m = e->m;

  m->backend->ops->forget (m->backend, e->job);
  unlink_if_empty (e->job->log_path);
  unlink_if_empty (e->job->stderr_log_path);
  g_ptr_array_remove (m->abandoned, e);
  entry_free (e, NULL);
}

/* A Create retried with the request_id of a job that exists: that job,
 * if the spec is the same (the first answer may have been lost with a
 * daemon or a connection); an error if it is not. */
/* @spec as a{sv} without the limits: SetLimits may have changed them
 * since the Create being retried. */
static GVariant *
spec_but_limits (const OrchSpec *spec)
{
  g_autoptr(GVariant) all = g_variant_ref_sink (orch_spec_to_variant (spec));
  GVariantBuilder b;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, all);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      gboolean limit = FALSE;
      for (guint i = 0; i < ORCH_LIMIT_N && !limit; i++)
        limit = strcmp (key, orch_limit_info (i)->key) == 0;
      if (!limit)
        g_variant_builder_add (&b, "{sv}", key, value);
      g_variant_unref (value);
    }
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

static OrchJob *
replay_create (Entry *e, const OrchSpec *spec, GError **error)
{
  g_autoptr(GVariant) asked = spec_but_limits (spec);
  g_autoptr(GVariant) had = spec_but_limits (e->job->spec);

  if (!g_variant_equal (asked, had))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("spec field “request_id”: “%s” was used by job %s, whose spec is different"),
                   spec->request_id, e->job->id);
      return NULL;
    }
  return e->job;
}

gboolean
orch_manager_check_spec (OrchManager *m, GVariant *spec_v, GError **error)
{
  g_autoptr(OrchSpec) spec = orch_spec_from_variant (spec_v, error);
  OrchBackend *b = m->backend;

  return spec != NULL && orch_policy_check (m->config, spec, error) &&
         (b->ops->check_spec == NULL || b->ops->check_spec (b, spec, error));
}

/* Takes @spec_owned (NULL: parsing failed, @error is set).  @schedule_id:
 * the schedule whose run this is, or NULL. */
static OrchJob *
create_from_spec (OrchManager *m, OrchSpec *spec_owned, const char *schedule_id, GError **error)
{
  g_autoptr(OrchSpec) spec = spec_owned;
  g_autofree char *id = NULL;
  OrchBackend *b = m->backend;
  Entry *e;

  if (spec == NULL)
    return NULL;
  if (spec->request_id && (e = g_hash_table_lookup (m->requests, spec->request_id)))
    return replay_create (e, spec, error);
  if (!orch_policy_check (m->config, spec, error))
    return NULL;
  if (b->ops->check_spec && !b->ops->check_spec (b, spec, error))
    return NULL;
  if (active_count (m) >= m->config->max_concurrent)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_LIMIT_REACHED,
                   _("%u jobs are running, the configured maximum ([jobs] max_concurrent)"),
                   m->config->max_concurrent);
      return NULL;
    }
  if (!fd_room_for_launch (m, error))
    return NULL;

  do
    {
      g_free (id);
      id = orch_job_id_new (now_us (), m->rand);
    }
  while (g_hash_table_contains (m->entries, id));

  e = manager_entry_new (m, orch_job_new (id, g_steal_pointer (&spec)));
  e->never_saved = TRUE;
  e->exit_files = FALSE; /* its id is new */
  e->job->schedule_id = g_strdup (schedule_id);
  m->active++; /* a new job is born starting */
  e->job->backend = orch_backend_name (b);
  e->job->created_at = now_us ();
  {
    g_autofree char *name = g_strconcat (id, ".log", NULL);
    e->job->log_path = g_build_filename (m->config->log_dir, name, NULL);
  }
  if (e->job->spec->stderr_mode == ORCH_STDERR_SEPARATE)
    {
      g_autofree char *name = g_strconcat (id, ".stderr.log", NULL);
      e->job->stderr_log_path = g_build_filename (m->config->log_dir, name, NULL);
    }

  manager_index_entry (m, e);

  {
    g_autoptr(GError) local = NULL;
    launch_run (e, &local);
    if (local)
      {
        /* Could not even fork: leave no trace of a job that never was. */
        g_propagate_error (error, g_steal_pointer (&local));
        unindex_entry (m, e);
        entry_free (e, NULL);
        return NULL;
      }
  }
  /* attached_cb() has written the record unless the backend is still at
   * it (systemd): then it goes to disk now, before clients hear of it.
   * A job that cannot be saved is not started: the call fails and the
   * held child goes, with its group and its log file. */
  if (e->run.attaching)
    {
      g_autoptr(GError) local = NULL;
      if (!manager_persist (e, &local))
        e->persist_error = g_error_copy (local);
    }
  if (e->persist_error)
    {
      g_propagate_error (error, g_steal_pointer (&e->persist_error));
      abandon (e);
      return NULL;
    }
  /* Announced once launched, so the StartTransientUnit call is already on
   * its way while clients hear of the job. */
  if (m->cb.job_created)
    m->cb.job_created (e->job, m->cb_data);
  else
    {
      if (m->cb.job_added)
        m->cb.job_added (e->job, m->cb_data);
      notify (e);
    }
  return e->job;
}

OrchJob *
orch_manager_create (OrchManager *m, GVariant *spec_v, GError **error)
{
  return create_from_spec (m, orch_spec_from_variant (spec_v, error), NULL, error);
}

OrchJob *
orch_manager_create_scheduled (OrchManager *m, GVariant *spec_v, const char *schedule_id,
                               GError **error)
{
  return create_from_spec (m, orch_spec_from_variant (spec_v, error), schedule_id, error);
}

OrchJob *
orch_manager_create_replica (OrchManager *m, GVariant *spec_v, const char *group_id, guint replica,
                             GError **error)
{
  OrchSpec *spec = orch_spec_from_variant (spec_v, error);

  if (spec)
    {
      spec->group_id = g_strdup (group_id);
      spec->replica = replica;
    }
  return create_from_spec (m, spec, NULL, error);
}

guint
orch_manager_n_jobs (OrchManager *m)
{
  return m->order->len;
}

OrchJob *
orch_manager_job_at (OrchManager *m, guint i)
{
  g_return_val_if_fail (i < m->order->len, NULL);
  return ((Entry *) g_ptr_array_index (m->order, i))->job;
}

GPtrArray *
orch_manager_list (OrchManager *m, const char *state, const char *name, GError **error)
{
  return orch_manager_list_page (m, state, name, NULL, 0, error);
}

GPtrArray *
orch_manager_list_page (OrchManager *m, const char *state, const char *name, const char *after,
                        guint32 limit, GError **error)
{
  g_autoptr(GPtrArray) out = NULL;
  OrchJobState want;
  guint start = 0;

  if (state && *state && !orch_job_state_from_string (state, &want))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("filter “state”: “%s” is not one of starting, running, stopping, exited, failed, stopped"),
                   state);
      return NULL;
    }
  if (after && *after)
    {
      /* Any job still held places the page, whether the filter takes it
       * or not: one that changed state between two pages ends no walk. */
      Entry *e = g_hash_table_lookup (m->entries, after);
      if (e == NULL)
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_NOT_FOUND,
                       _("filter “after”: no job with id %s (removed, or never made)"), after);
          return NULL;
        }
      start = orch_job_page_start (m->order, entry_seq, e->seq);
    }
  out = g_ptr_array_sized_new (limit ? MIN (limit, m->order->len - start) : m->order->len - start);
  for (guint i = start; i < m->order->len && (limit == 0 || out->len < limit); i++)
    {
      Entry *e = g_ptr_array_index (m->order, i);
      if (state && *state && e->job->state != want)
        continue;
      if (name && *name && g_strcmp0 (e->job->spec->name, name) != 0)
        continue;
      g_ptr_array_add (out, e->job);
    }
  return g_steal_pointer (&out);
}

static void
stop_entry (Entry *e, int sig, guint timeout_ms)
{
  if (e->run.stop_requested)
    return; /* already on its way */
  e->run.stop_requested = TRUE;
  manager_set_state (e, ORCH_JOB_STOPPING);
  /* Stopped even if that cannot be saved: a full disk must not keep a job
   * from being stopped.  The caller hears of it when the job has ended. */
  announce (e);
  if (e->run.attaching)
    {
      kill (e->job->monitor_pid, SIGKILL);
      return; /* attached_cb() finishes it */
    }
  manager_signal_group (e, sig ? sig : SIGTERM, timeout_ms);
  maybe_finish (e);
}

static gboolean
signal_is_valid (int sig)
{
  return sig >= 1 && sig <= SIGRTMAX;
}

void
orch_manager_stop (OrchManager *m, const char *id, int sig, guint timeout_ms,
                   OrchManagerDoneFunc done, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  Entry *e = lookup_entry (m, id, &error);

  if (e && sig != 0 && !signal_is_valid (sig))
    g_set_error (&error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                 _("option “signal”: %d is not a signal number"), sig);
  if (e && timeout_ms > 3600 * 1000)
    g_set_error (&error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                 _("option “timeout_ms”: must be at most 3600000"));
  if (error)
    {
      done (NULL, error, user_data);
      return;
    }

  if (!orch_job_state_is_active (e->job->state))
    {
      if (e->restart_timer)
        {
          /* Waiting to be restarted: the stop cancels that. */
          clear_source (&e->restart_timer);
          done (e->job, NULL, user_data);
          changed (e);
          return;
        }
      g_set_error (&error, ORCH_ERROR, ORCH_ERROR_INVALID_STATE,
                   _("job %s is not running (it is %s)"), id,
                   orch_job_state_to_string (e->job->state));
      done (NULL, error, user_data);
      return;
    }

  add_waiter (e, WAIT_FINISHED, 0, done, user_data);
  e->run.restart_requested = FALSE;
  stop_entry (e, sig, timeout_ms);
}

void
orch_manager_restart (OrchManager *m, const char *id, OrchManagerDoneFunc done, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  Entry *e = lookup_entry (m, id, &error);

  if (e == NULL)
    {
      done (NULL, error, user_data);
      return;
    }

  if (orch_job_state_is_active (e->job->state))
    {
      add_waiter (e, WAIT_RESTARTED, e->generation + 1, done, user_data);
      e->run.restart_requested = TRUE;
      stop_entry (e, 0, 0);
      return;
    }

  if (active_count (m) >= m->config->max_concurrent)
    {
      g_set_error (&error, ORCH_ERROR, ORCH_ERROR_LIMIT_REACHED,
                   _("%u jobs are running, the configured maximum ([jobs] max_concurrent)"),
                   m->config->max_concurrent);
      done (NULL, error, user_data);
      return;
    }
  if (e->dirty)
    {
      g_set_error (&error, ORCH_ERROR, ORCH_ERROR_FAILED,
                   _("job %s: its last change is not saved yet (is the state directory's file system full?); not starting a new run"),
                   id);
      done (NULL, error, user_data);
      return;
    }
  if (!fd_room_for_launch (m, &error))
    {
      done (NULL, error, user_data);
      return;
    }
  clear_source (&e->restart_timer);
  add_waiter (e, WAIT_RESTARTED, e->generation + 1, done, user_data);
  e->auto_restarts = 0;
  e->job->restarts++;
  relaunch (e);
}

/* The record is gone from the database: the rest of the job goes. */
static void
removed (Entry *e)
{
  OrchManager *m = e->m;
  g_autofree char *id = g_strdup (e->job->id);
  /* A Restart still waiting for its run hears what became of the job. */
  g_autoptr(GError) gone = g_error_new (ORCH_ERROR, ORCH_ERROR_NOT_FOUND, _("job %s was removed"),
                                        id);

  if (e->exit_files)
    orch_exit_record_remove (m->exit_dir_fd, id, TRUE);
  /* Announced while the job can still be looked up, so the bus layer can
   * list the interfaces that go away. */
  if (m->cb.job_removed)
    m->cb.job_removed (id, m->cb_data);
  unindex_entry (m, e);
  entry_free (e, gone);
}

gboolean
orch_manager_remove (OrchManager *m, const char *id, GError **error)
{
  Entry *e = lookup_entry (m, id, error);

  if (e == NULL)
    return FALSE;
  if (orch_job_state_is_active (e->job->state))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_STATE,
                   _("job %s is %s; stop it before removing it"), id,
                   orch_job_state_to_string (e->job->state));
      return FALSE;
    }
  if (m->state && !orch_state_delete (m->state, e->job->id, error))
    return FALSE;
  removed (e);
  return TRUE;
}

/* Jobs purged in one call at most: after a mass stop of 10 000 jobs the
 * purge removed 9 000 in one dispatch, and no call was answered for 10 s. */
#define PURGE_SLICE 64

gboolean
orch_manager_purge (OrchManager *m, gint64 now, OrchManagerPurgeFunc purged, gpointer data,
                    guint *ret_removed)
{
  const OrchConfig *c = m->config;
  gint64 cutoff = c->keep_finished_days ? now - (gint64) c->keep_finished_days * 86400 * G_USEC_PER_SEC
                                        : G_MININT64;
  g_autoptr(GPtrArray) doomed = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  gboolean more = FALSE;
  guint finished = 0;

  *ret_removed = 0;
  /* Finished jobs that wait for no restart, newest first: the first
   * keep_finished stay unless too old. */
  for (guint i = m->order->len; i-- > 0;)
    {
      Entry *e = g_ptr_array_index (m->order, i);
      if (orch_job_state_is_active (e->job->state) || e->restart_timer)
        continue;
      finished++;
      if ((c->keep_finished && finished > c->keep_finished) || e->job->finished_at < cutoff)
        {
          if (doomed->len == PURGE_SLICE)
            {
              more = TRUE;
              break;
            }
          g_ptr_array_add (doomed, e);
        }
    }
  if (doomed->len == 0)
    return FALSE;
  /* One commit for the slice; nothing of it goes if that fails, and
   * nothing that goes with a job (its logs) goes before it. */
  if (m->state)
    {
      gboolean ok = orch_state_begin (m->state, &error);
      gboolean begun = ok;

      for (guint i = 0; ok && i < doomed->len; i++)
        ok = orch_state_delete (m->state, ((Entry *) doomed->pdata[i])->job->id, &error);
      if (!ok || !orch_state_commit (m->state, &error))
        {
          if (begun)
            orch_state_rollback (m->state);
          g_warning (_("cannot purge finished jobs: %s"), error->message);
          return FALSE;
        }
    }
  for (guint i = 0; purged && i < doomed->len; i++)
    purged (((Entry *) doomed->pdata[i])->job->id, data);
  for (guint i = 0; i < doomed->len; i++)
    removed (doomed->pdata[i]);
  *ret_removed = doomed->len;
  return more;
}
