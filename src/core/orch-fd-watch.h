/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <glib-unix.h>

G_BEGIN_DECLS

/* The daemon's per-job fds (OOM counters, launch status pipes, PSI
 * triggers) in one epoll set, so no wakeup of the main loop polls every
 * job's files: with a GSource per fd, 200 cgroupfs jobs made poll() the
 * top of the daemon's profile.  Same calling convention as
 * g_unix_fd_add(); level-triggered, as poll() is.  Main loop (default
 * context) only.
 *
 * The set waits one of two ways:
 * - nested: the main loop polls the epoll fd as one of its fds, and the
 *   ready watches are read with epoll_wait() when it is readable;
 * - direct, while a watch is added with ORCH_FD_WATCH_POLL_CONSUMES: the
 *   default context's poll function becomes epoll_wait() on the set,
 *   with GLib's own few fds registered there on each call
 *   (orch-main-poll.c).  For fds whose poll consumes the event: a PSI
 *   trigger's (psi_trigger_poll() clears it) is lost when the loop's
 *   poll() looks through a nested epoll fd. */
typedef gboolean (*OrchFdWatchFunc) (int fd, GIOCondition cond, gpointer user_data);

typedef enum {
  ORCH_FD_WATCH_DEFAULT = 0,
  ORCH_FD_WATCH_POLL_CONSUMES = 1 << 0,
} OrchFdWatchFlags;

/* More GLib fds than this and the direct poll function falls back to
 * poll() over all fds, its watches included. */
#define ORCH_FD_WATCH_MAX_MIRRORED 64

/* The watch's id; 0 only when no fd was left for the epoll set.  An fd
 * epoll refuses (a regular file) gets a GSource of its own. */
guint orch_fd_watch_add (int fd, GIOCondition cond, OrchFdWatchFunc func, gpointer user_data);
guint orch_fd_watch_add_full (int fd, GIOCondition cond, OrchFdWatchFlags flags,
                              OrchFdWatchFunc func, gpointer user_data);
/* Before @fd is closed.  0 is ignored. */
void orch_fd_watch_remove (guint id);
/* How many watches there are (tests). */
guint orch_fd_watch_count (void);
/* Whether the set waits directly, as the loop's poll function (tests). */
gboolean orch_fd_watch_is_direct (void);

/* g_unix_fd_add() for fds that need a source of their own (the SIGCHLD
 * signalfd, inotify), but recursive: GLib takes a non-recursive source's
 * fds out of the poll set while it dispatches and puts them back after,
 * which wakes the loop for one more poll() of every fd.  For callbacks
 * that run no nested main loop. */
guint orch_fd_source_add (int fd, GIOCondition cond, GUnixFDSourceFunc func, gpointer user_data);

/* GLib's conditions as epoll's events, and back. */
guint32 orch_fd_watch_to_epoll (GIOCondition c);
GIOCondition orch_fd_watch_from_epoll (guint32 e);

G_END_DECLS
