/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by orch-fd-watch.c (the watches) and orch-main-poll.c (the poll
 * function of the direct mode). */
#include "orch-fd-watch.h"

/* epoll data of a watch; GLib's mirrored fds carry the fd itself. */
#define ORCH_FD_WATCH_TAG (G_GUINT64_CONSTANT (1) << 63)

typedef struct {
  int fd;
  GIOCondition cond;
  OrchFdWatchFlags flags;
  OrchFdWatchFunc func;
  gpointer data;
  guint fallback; /* a GSource of its own when epoll refused the fd */
} OrchFdWatch;

typedef struct {
  guint id;
  GIOCondition cond;
} OrchFdReady;

typedef struct {
  GSource source; /* dispatches the ready watches */
  int epfd;
  gpointer epfd_tag;   /* the epoll fd in the loop's poll set: nested mode */
  GHashTable *watches; /* id -> OrchFdWatch */
  guint next_id;
  guint consuming;    /* watches in the set with ORCH_FD_WATCH_POLL_CONSUMES */
  GArray *ready;      /* OrchFdReady, found and not yet dispatched */
  GHashTable *mirror; /* GLib fd -> Mirror, those registered in epfd (direct) */
  guint64 calls;      /* of the poll function */
  GArray *scratch;    /* GPollFD, for its fallback */
} OrchFdSet;

/* orch-main-poll.c: the direct mode's poll function, and what it leaves
 * in the set when the mode ends. */
gint orch_main_poll (GPollFD *ufds, guint nfds, gint timeout);
void orch_main_poll_clear (OrchFdSet *s);

extern OrchFdSet *orch_fd_set;
