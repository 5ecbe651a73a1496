/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The daemon's open files against its soft RLIMIT_NOFILE, process-wide.
 *
 * Running short of fds must never cost a job's stop or its exit record.
 * So the daemon keeps ORCH_FD_HEADROOM fds free: new jobs are refused
 * (LimitReached) and caches of open files (the sampler's) give theirs back
 * before that headroom is touched; and it holds ORCH_FD_RESERVE spare fds
 * (dups of /dev/null) that the stop and exit paths release when even the
 * headroom is gone, e.g. after the limit was lowered under a running
 * daemon (prlimit).  Near the limit, free fds are counted by trying to
 * take them (dup and close: 80 system calls for a launch's 40, about
 * 0.1 ms here); far from it an estimate is trusted (what the daemon held
 * at start, what the caches report, the watched fds, one per running
 * job), so a launch or a tick pays one getrlimit().  The fds open are
 * counted at start and every 10 s while jobs run
 * (orch_fd_budget_calibrate()).  Not thread-safe: the main loop's. */

/* Free fds that neither caches nor new jobs may take. */
#define ORCH_FD_HEADROOM 32
/* Spare fds held for the stop and exit paths. */
#define ORCH_FD_RESERVE 8
/* The most one launch holds at once: two log files, /dev/null, two
 * pipes, a pidfd. */
#define ORCH_FD_LAUNCH 8
/* What stopping a job or taking its exit record opens at once. */
#define ORCH_FD_STOP 4

/* Asked to give back at least @want fds; returns how many it closed. */
typedef guint (*OrchFdGiveBackFunc) (guint want, gpointer user_data);

/* A cache of open files that can give them back under pressure. */
void orch_fd_budget_add_cache (OrchFdGiveBackFunc give_back, gpointer user_data);
void orch_fd_budget_remove_cache (OrchFdGiveBackFunc give_back, gpointer user_data);
/* What the cache holds now, for the estimate. */
void orch_fd_budget_cache_held (OrchFdGiveBackFunc give_back, gpointer user_data, guint64 held);

/* Estimates past which the fds are counted by trying, not trusted: room
 * for what the estimate does not see (clients' calls, a launch under way). */
#define ORCH_FD_SLACK 64
/* What a running job may hold in the daemon beyond its watched fds (its
 * monitor's pidfd is watched): the least the estimate counts, a margin;
 * orch_fd_budget_calibrate() learns more where jobs hold more. */
#define ORCH_FD_PER_JOB 1

/* Fds held open outside the caches for running jobs that their owners
 * count as they come and go: every fd the main loop watches (a job's
 * status pipe, its OOM counter, its pressure triggers) and what is kept
 * open beside one (a v1 group's memory.oom_control).  The estimate adds
 * them as they are, so it needs no listing to see them. */
void orch_fd_budget_watched_add (gint delta);
guint64 orch_fd_budget_watched (void);

/* What a running job holds outside the caches and the watched fds, from
 * @open fds counted with @jobs running, @fixed held whatever runs or
 * counted as watched, and @cached by caches: at least ORCH_FD_PER_JOB,
 * rounded up. */
guint orch_fd_budget_per_job_from (guint64 open, guint64 fixed, guint64 cached, guint jobs);
/* Counts the fds open now and learns from it what each of @jobs running
 * holds beyond the watched fds, for the estimate: without it the estimate
 * could say "far from the limit" while fds it does not know of are gone,
 * and a launch fail with EMFILE instead of LimitReached.  Call it now and
 * then (the sampler: every 10 s); on Linux ≥ 6.2 it is one stat(). */
void orch_fd_budget_calibrate (guint jobs);
/* What the estimate counts a running job now. */
guint orch_fd_budget_per_job (void);

/* Whether @held fds (an estimate) and @n more are far enough under @limit
 * to be trusted without trying. */
gboolean orch_fd_budget_far_from_limit (guint64 limit, guint64 held, guint64 n);

/* The soft RLIMIT_NOFILE now (prlimit can change it at any time). */
guint64 orch_fd_budget_limit (void);

/* Whether @n more fds can be opened right now. */
gboolean orch_fd_budget_has_free (guint n);

/* Whether @n more fds are free with @jobs running: estimated far from the
 * limit, tried near it (or always, with @exact). */
gboolean orch_fd_budget_room_for (guint n, guint jobs, gboolean exact);
/* The same under @limit, read by the caller just now (a tick reads it
 * once for all its checks). */
gboolean orch_fd_budget_room_under (guint64 limit, guint n, guint jobs, gboolean exact);

/* Makes room for @n fds: from the caches first, then from the reserve.
 * For the paths that must not fail (stop, exit); FALSE if even that did
 * not free enough. */
gboolean orch_fd_budget_make_room (guint n);

/* Whether a new job may start with @jobs running: ORCH_FD_LAUNCH fds for
 * it with the headroom still free after, caches shrunk if that is what it
 * takes.  LimitReached otherwise, with what is free and what the limit is. */
gboolean orch_fd_budget_check_launch (guint jobs, GError **error);

/* Retakes the reserve fds that were released, when the headroom allows.
 * Cheap when nothing is missing; call it now and then (every tick). */
void orch_fd_budget_maintain (void);

/* How many reserve fds are held now (for tests). */
guint orch_fd_budget_reserve_held (void);

/* About what the daemon holds for itself whatever it runs: the bus,
 * signalfd, inotify, the database, the sampler's system files... */
#define ORCH_FD_BASE 32

/* How many fds caches may keep open under a soft limit of @limit: half of
 * what the headroom, the reserve and the daemon's own leave, the other
 * half for jobs (each holds a few while it launches, a pidfd, exit
 * records...). */
guint64 orch_fd_budget_cache_cap (guint64 limit);
/* The same with @jobs running, each holding what the estimate counts it
 * (orch_fd_budget_calibrate()): never more than half of what they leave,
 * so that the cache shrinks as jobs come (at once, not the headroom's 32
 * a tick) and new jobs still find fds free. */
guint64 orch_fd_budget_cache_cap_jobs (guint64 limit, guint jobs);

G_END_DECLS
