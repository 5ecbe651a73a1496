/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <glib-unix.h>

G_BEGIN_DECLS

/* Watches of per-job fds (the OOM counters) in one epoll set that the
 * main loop polls as a single fd.  With a GSource per fd, every iteration
 * of the loop polls every job's files again: with 200 cgroupfs jobs (four
 * fds each) a third of the daemon's CPU while it launched went to poll()
 * walking them.  Same calling convention as g_unix_fd_add();
 * level-triggered, as poll() is.  Main loop only.
 *
 * Not for fds whose poll consumes the event: PSI triggers
 * (psi_trigger_poll() clears it) lose it here, since the main loop's
 * poll() of the epoll fd polls the ready fd once before epoll_wait() does
 * (the events-cgroupfs test saw no pressure event at all). */
typedef gboolean (*OrchFdWatchFunc) (int fd, GIOCondition cond, gpointer user_data);

/* The watch's id; 0 only when no fd was left for the epoll set. */
guint orch_fd_watch_add (int fd, GIOCondition cond, OrchFdWatchFunc func, gpointer user_data);
/* Before @fd is closed.  0 is ignored. */
void orch_fd_watch_remove (guint id);
/* How many watches are in the epoll set (tests). */
guint orch_fd_watch_count (void);

/* g_unix_fd_add() for fds that need a source of their own (PSI triggers,
 * the SIGCHLD signalfd), but recursive: GLib takes a non-recursive
 * source's fds out of the poll set while it dispatches and puts them back
 * after, which wakes the loop for one more poll() of every fd.  For
 * callbacks that run no nested main loop. */
guint orch_fd_source_add (int fd, GIOCondition cond, GUnixFDSourceFunc func, gpointer user_data);

/* GLib's conditions as epoll's events, and back. */
guint32 orch_fd_watch_to_epoll (GIOCondition c);
GIOCondition orch_fd_watch_from_epoll (guint32 e);

G_END_DECLS
