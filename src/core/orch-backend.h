/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "basic/orch-config.h"
#include "basic/orch-limits.h"
#include "orch-job.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OrchBackend OrchBackend;

/* The job units that exist in the system, as a strv (owned), NULL if they
 * could not be listed. */
typedef void (*OrchBackendUnitsFunc) (char **units, gpointer user_data);

/* Called once the held child is in its group (or could not be put there). */
typedef void (*OrchBackendAttachFunc) (OrchJob *job, const GError *error, gpointer user_data);

/* Called once a change of limits is in force (or was not made at all). */
typedef void (*OrchBackendLimitsFunc) (const GError *error, gpointer user_data);

typedef struct {
  const char *name;
  /* Refuses specs this backend cannot honour (e.g. limits without the
   * controller).  Optional. */
  gboolean (*check_spec) (OrchBackend *b, const OrchSpec *spec, GError **error);
  /* Puts the held child @pid into the job's own group; sets job->unit and
   * job->cgroup; calls @done exactly once, possibly later.  Cancelled by
   * forget(). */
  void (*attach) (OrchBackend *b, OrchJob *job, pid_t pid, OrchBackendAttachFunc done,
                  gpointer user_data);
  /* Sends @sig to every process of the job. */
  int (*kill) (OrchBackend *b, OrchJob *job, int sig);
  /* 1 when no process of the job is left, 0 when some are, <0 on error. */
  int (*is_empty) (OrchBackend *b, OrchJob *job);
  /* A file that changes when the group empties (cgroup.events), for
   * inotify; NULL when the caller must poll. */
  char *(*events_path) (OrchBackend *b, OrchJob *job);
  /* Lists every job unit of this backend's kind in the system (systemd:
   * orchestrator-*.scope; cgroupfs: the job cgroups under its root, as
   * job->cgroup names them), to find those no record knows.  Optional;
   * @done runs later (or at once), never after free(). */
  void (*list_units) (OrchBackend *b, OrchBackendUnitsFunc done, gpointer user_data);
  /* Removes a unit list_units() named if no process is in it: 0, -EBUSY
   * if some are, or another -errno.  Optional (systemd removes empty
   * scopes itself). */
  int (*remove_unit) (OrchBackend *b, const char *unit);
  /* The job has finished: drop its group and any pending call. */
  void (*forget) (OrchBackend *b, OrchJob *job);
  void (*free) (OrchBackend *b);
  /* The cgroup controllers limits can use (NULL-terminated, the
   * backend's), or NULL when the service manager knows.  Optional. */
  const char *const *(*controllers) (OrchBackend *b);
  /* Changes the limits of @job's group: every one of @limits or none;
   * @done runs once, possibly later.  NULL: this backend has no limits. */
  void (*set_limits) (OrchBackend *b, OrchJob *job, const OrchLimits *limits,
                      OrchBackendLimitsFunc done, gpointer user_data);
  /* What limit @l needs that this backend lacks though the controller is
   * there (a hybrid host's v1 memory has no memory.high), or NULL.
   * Optional. */
  const char *(*limit_missing) (OrchBackend *b, OrchLimit l);
  /* The file that counts the job's OOM kills: cgroup v2 memory.events, or
   * v1 memory.oom_control on a hybrid host; NULL when there is none. */
  char *(*memory_events_path) (OrchBackend *b, OrchJob *job);
  /* Makes @job's group before its process exists, so the process can be
   * started in it (CLONE_INTO_CGROUP): an O_DIRECTORY fd of its cgroup2
   * directory (the caller closes it), or -errno, and then attach() does
   * the usual and reports what failed.  Optional. */
  int (*prepare) (OrchBackend *b, OrchJob *job);
  /* Like attach(), for a held child that was started in the group
   * prepare() made: does what is left (a hybrid host's v1 memory group),
   * not the move.  Required with prepare(). */
  void (*adopt) (OrchBackend *b, OrchJob *job, pid_t pid, OrchBackendAttachFunc done,
                 gpointer user_data);
} OrchBackendOps;

struct _OrchBackend {
  const OrchBackendOps *ops;
};

/* Picks and sets up the backend @config asks for ("auto": systemd if its
 * manager answers, else cgroupfs if a cgroup2 tree is writable, else none).
 * @systemd_user: use the user's manager rather than the system's.
 * @why receives one line for the log. */
OrchBackend *orch_backend_new (const OrchConfig *config, gboolean systemd_user,
                               char **why, GError **error);
void orch_backend_free (OrchBackend *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchBackend, orch_backend_free)

const char *orch_backend_name (OrchBackend *b);

/* Whether this backend can set every limit of @l: ORCH_ERROR_INVALID_STATE
 * naming the first limit whose controller is missing. */
gboolean orch_backend_check_limits (OrchBackend *b, const OrchLimits *l, GError **error);
/* The first limit of @l the backend lacks something for (limit_missing),
 * with what it lacks, or -1. */
int orch_backend_limit_missing (OrchBackend *b, const OrchLimits *l, const char **ret_what);
/* The job's OOM-kill counter file (see memory_events_path), or NULL. */
char *orch_backend_memory_events_path (OrchBackend *b, OrchJob *job);

OrchBackend *orch_backend_none_new (void);
OrchBackend *orch_backend_cgroupfs_new (const char *root, GError **error);
OrchBackend *orch_backend_systemd_new (gboolean user, GError **error);

G_END_DECLS
