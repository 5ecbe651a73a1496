/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-fd-watch.h"

#include <glib.h>

G_BEGIN_DECLS

/* Fds the default main loop waits on without polling them on every
 * iteration: the PSI triggers, three per cgroupfs job.  Given to GLib as
 * GSources, 600 of them were polled on each wakeup (poll() registering
 * and removing a wait entry on each: half the daemon's CPU with 200
 * jobs); in the orch-fd-watch epoll set they lose their events, since
 * psi_trigger_poll() clears the event when the loop's poll() looks
 * through the epoll fd.  So the first watch here replaces the default
 * context's poll function with one that waits in epoll_wait() on a set
 * holding these fds themselves (registered once) and GLib's own few fds
 * (brought in line with GLib's list on each call): every fd is polled by
 * epoll_wait() alone, once per event.  With more GLib fds than
 * ORCH_MAIN_POLL_MAX_MIRRORED it falls back to poll() over all of them.
 *
 * Same calling convention as g_unix_fd_add(); level-triggered.  Main
 * loop (default context) only. */

#define ORCH_MAIN_POLL_MAX_MIRRORED 64

/* The watch's id; 0 when epoll refused @fd or no epoll set could be
 * made: then watch it with g_unix_fd_add(). */
guint orch_main_poll_add (int fd, GIOCondition cond, OrchFdWatchFunc func, gpointer user_data);
/* Before @fd is closed.  0 is ignored. */
void orch_main_poll_remove (guint id);
/* How many fds are watched here (tests). */
guint orch_main_poll_count (void);

G_END_DECLS
