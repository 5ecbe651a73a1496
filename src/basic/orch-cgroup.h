/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-fileio.h"

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* cgroup helpers, systemd style: negative errno, out-params set on success
 * only, paths passed in so tests can point them at fixtures. */

/* From the text of /proc/self/mountinfo, the mount point of the cgroup2
 * hierarchy (pure v2 or the unified mount of a hybrid host). */
int orch_cgroup_parse_mountinfo (const char *text, char **ret_cgroup2, char **ret_named_systemd);

/* From the text of /proc/PID/cgroup, the v2 path ("0::/a/b"), or with
 * @controller the path of that v1 hierarchy ("name=systemd"). */
int orch_cgroup_parse_proc_cgroup (const char *text, const char *controller, char **ret_path);

/* From the text of cgroup.events, the "populated" value. */
int orch_cgroup_parse_populated (const char *text, gboolean *ret_populated);

/* Where this host's cgroup2 hierarchy is mounted (cached). */
int orch_cgroup_v2_mount (const char **ret);

int orch_cgroup_is_empty (const char *dir);
int orch_cgroup_attach (const char *dir, pid_t pid);
/* Sends @sig to every process in @dir; SIGKILL through cgroup.kill where the
 * kernel has it. */
int orch_cgroup_kill (const char *dir, int sig);
/* The pids of cgroup.procs' text (NUL-terminated) into @pids, replacing
 * what it held. */
void orch_cgroup_parse_pids (const char *text, GArray *pids);
/* Pids in cgroup.procs. */
int orch_cgroup_pids (const char *dir, GArray **ret_pids);
/* The cgroup (relative to the hierarchy root) that @pid is in. */
int orch_cgroup_of_pid (pid_t pid, char **ret_path);

/* From the text of /proc/self/mountinfo, the mount point of the cgroup v1
 * hierarchy that has @controller ("memory"). */
int orch_cgroup_parse_mountinfo_v1 (const char *text, const char *controller, char **ret_mount);
/* This process's own group in the v1 hierarchy of @controller, as an
 * absolute directory (a hybrid host's memory controller). */
int orch_cgroup_v1_own_dir (const char *controller, char **ret_dir);

/* The OOM kills and memory.high breaches a group has seen, from the text
 * of cgroup v2 memory.events or v1 memory.oom_control (which has no
 * "high": 0).  "oom_kill" is required. */
int orch_cgroup_parse_oom_counts (const char *text, guint64 *ret_oom_kill, guint64 *ret_high);
int orch_cgroup_read_oom_counts (const char *path, guint64 *ret_oom_kill, guint64 *ret_high);

G_END_DECLS
