/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The manager's insides, shared by orch-manager.c (jobs, runs, their
 * ends) and orch-manager-restore.c (finding them again at start).  Only
 * those two include this. */
#pragma once

#include "orch-launch.h"
#include "orch-events.h"
#include "orch-manager.h"
#include "orch-fd-watch.h"
#include "basic/orch-cgroup.h"

#include <glib.h>

G_BEGIN_DECLS

/* What describes one run of a job, from the fork to the end of its last
 * process.  entry_clear_run() lets go of its sources and fds; one
 * assignment of RUN_INIT then begins the next run, so nothing of the
 * last one leaks into it. */
typedef struct {
  OrchLaunch launch;
  guint status_source; /* orch-fd-watch of the status pipe: the command's pid, or what failed */
  guint child_source;  /* a GLib child watch, where SIGCHLD is not ours */
  guint kill_timer;    /* SIGKILL once the stop timeout is over */
  guint poll_timer;    /* emptiness of the group, without an events file */
  int inotify_wd;      /* emptiness of the group, with one */
  int pidfd;           /* the monitor: our child (waited through it), or adopted */
  guint pidfd_watch;   /* orch-fd-watch of it */
  gboolean attaching;  /* backend attach outstanding */
  gboolean released;
  gboolean main_exited;
  int wait_status;
  gboolean launch_failed;
  gboolean stop_requested;
  gboolean restart_requested; /* another run follows this one's end */
  int pending_sig;            /* a stop signal for a command whose pid is not known yet */
  guint64 oom_base;           /* the group's OOM-kill counter when the run began */
} Run;

#define RUN_INIT \
  ((Run){ .launch = { .release_fd = -1, .status_fd = -1 }, .inotify_wd = -1, .pidfd = -1 })

typedef struct {
  OrchManager *m;
  OrchJob *job;
  Run run;                      /* the current or last run; its sources and fds are ours */
  guint generation;             /* one per run */
  guint restart_timer;          /* between runs: the policy's next one */
  guint auto_restarts;          /* since the last manual start, for the policy */
  GArray *waiters;              /* Waiter */
  gboolean dirty;               /* the record on disk is behind: a save failed */
  gboolean exit_record_pending; /* read, removed once the end is saved */
  gboolean exit_files;          /* a run's files may be in the exit directory */
  GError *persist_error;        /* the save before release failed: not started */
  gboolean abandoned;           /* a Create that failed: freed once reaped */
  gboolean never_saved;         /* created here, no record yet: the first save inserts */
  guint64 seq;                  /* its place in OrchManager.order, which is by ascending seq */
  guint batch;                  /* BATCH_*: in OrchManager.batch, told once that commits */
  guint told;                   /* BATCH_*: in a batch being told (OrchManager.flushing) */
} Entry;

struct _OrchManager {
  const OrchConfig *config;
  OrchBackend *backend;
  OrchManagerCallbacks cb;
  gpointer cb_data;
  GHashTable *entries; /* id -> Entry */
  GPtrArray *order;    /* Entry, by creation */
  int inotify_fd;
  guint inotify_source;
  GHashTable *watches; /* wd -> Entry */
  GRand *rand;
  guint active;    /* jobs starting, running or stopping */
  gboolean pidfds; /* each monitor waited through a pidfd (Linux >= 5.4) */
  int sigchld_fd;  /* else a signalfd for SIGCHLD; -1: GLib child watches */
  guint sigchld_source;
  GHashTable *children; /* monitor pid -> Entry */
  OrchState *state;     /* NULL: records in memory only */
  int exit_dir_fd;      /* where monitors write ID.exit */
  char *monitor;        /* orchestrator-monitor's path */
  char **unknown_units; /* job units in the system no record knows */
  guint retry_source;   /* saves records that could not be saved */
  GHashTable *requests; /* request_id -> Entry: Creates that may be retried */
  GPtrArray *abandoned; /* Entry: Creates undone, monitors not yet reaped */
  OrchEvents *events;   /* limits_changed goes there; NULL: none kept */
  guint64 next_seq;     /* Entry.seq of the next one indexed */
  /* Group commit: the records changed in this pass of the main loop, in
   * one transaction, announced once it commits (orch_manager_flush). */
  GPtrArray *batch;      /* Entry, NULL: no transaction open */
  GSList *flushing;      /* GPtrArray: batches being told, innermost first */
  GError *batch_error;   /* a write in it failed */
  GSource *batch_source; /* flushes before the loop polls again */
  guint reap_idle;       /* SIGCHLD: more children to reap than one pass takes */
};

typedef struct {
  GSource source;
  OrchManager *m;
} BatchSource;

static inline gint64
now_us (void)
{
  return g_get_real_time ();
}

/* A job's entry, not yet in the tables (manager_index_entry()). */
Entry *manager_entry_new (OrchManager *m, OrchJob *job /* owned */);
void manager_index_entry (OrchManager *m, Entry *e);
/* Counts the job in or out of the active ones as it moves. */
void manager_set_state (Entry *e, OrchJobState state);
/* Writes the record; a failed save is retried every second. */
gboolean manager_persist (Entry *e, GError **error);
/* How the run ended, if its monitor recorded it: into @status. */
/* Watches the monitor's pidfd @fd (owned) in the loop's epoll set;
 * FALSE (fd closed) if it cannot be. */
gboolean manager_watch_pidfd (Entry *e, int fd, OrchFdWatchFunc func);
/* Stops watching the run's pidfd and closes it. */
void manager_unwatch_pidfd (Entry *e);
gboolean manager_take_exit_record (Entry *e, int *status);
/* The monitor is gone and the run ended with @status (waitpid's). */
void manager_run_ended (Entry *e, int status);
/* Signals every process of the job and arms the SIGKILL timer. */
void manager_signal_group (Entry *e, int sig, guint timeout_ms);
void manager_maybe_schedule_restart (Entry *e);
/* Saves and tells (announce), at once. */
gboolean manager_announce (Entry *e, GError **error);
/* OOM kills (orch-manager-oom.c): the group's counter as the run begins;
 * the record brought up to it (TRUE if it changed). */
void manager_oom_baseline (Entry *e);
/* The stored limits into an adopted run's group again (SetLimits' crash
 * window, orch-manager-limits.c). */
void manager_reapply_limits (Entry *e);
gboolean manager_oom_update (Entry *e);

G_END_DECLS
