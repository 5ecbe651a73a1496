/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-fd-watch-private.h"
#include "basic/orch-fd-budget.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/epoll.h>
#include <unistd.h>

OrchFdSet *orch_fd_set;

guint32
orch_fd_watch_to_epoll (GIOCondition c)
{
  return (c & G_IO_IN ? EPOLLIN : 0) | (c & G_IO_PRI ? EPOLLPRI : 0) |
         (c & G_IO_OUT ? EPOLLOUT : 0) | (c & G_IO_ERR ? EPOLLERR : 0) |
         (c & G_IO_HUP ? EPOLLHUP : 0);
}

GIOCondition
orch_fd_watch_from_epoll (guint32 e)
{
  return (e & EPOLLIN ? G_IO_IN : 0) | (e & EPOLLPRI ? G_IO_PRI : 0) |
         (e & EPOLLOUT ? G_IO_OUT : 0) | (e & EPOLLERR ? G_IO_ERR : 0) |
         (e & EPOLLHUP ? G_IO_HUP : 0);
}

/* Nested mode: the epoll fd polled readable, so some watch is ready. */
static void
harvest (OrchFdSet *s)
{
  struct epoll_event ev[64];
  int n = epoll_wait (s->epfd, ev, G_N_ELEMENTS (ev), 0);

  for (int i = 0; i < n; i++)
    if (ev[i].data.u64 & ORCH_FD_WATCH_TAG)
      {
        OrchFdReady rd = { (guint) (ev[i].data.u64 & ~ORCH_FD_WATCH_TAG),
                           orch_fd_watch_from_epoll (ev[i].events) };
        g_array_append_val (s->ready, rd);
      }
}

static gboolean
set_prepare (GSource *source, gint *timeout)
{
  *timeout = -1;
  return ((OrchFdSet *) source)->ready->len > 0;
}

static gboolean
set_check (GSource *source)
{
  OrchFdSet *s = (OrchFdSet *) source;

  if (s->epfd_tag && g_source_query_unix_fd (source, s->epfd_tag))
    harvest (s);
  return s->ready->len > 0;
}

static gboolean
set_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  OrchFdSet *s = (OrchFdSet *) source;
  g_autoptr(GArray) batch = s->ready;

  s->ready = g_array_new (FALSE, FALSE, sizeof (OrchFdReady));
  for (guint i = 0; i < batch->len; i++)
    {
      const OrchFdReady *rd = &g_array_index (batch, OrchFdReady, i);
      /* By id: an earlier callback of this batch may have removed it. */
      OrchFdWatch *w = g_hash_table_lookup (s->watches, GUINT_TO_POINTER (rd->id));
      if (w && !w->func (w->fd, rd->cond, w->data))
        orch_fd_watch_remove (rd->id);
    }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs set_funcs = {
  .prepare = set_prepare,
  .check = set_check,
  .dispatch = set_dispatch,
};

static OrchFdSet *
get_set (void)
{
  OrchFdSet *s = orch_fd_set;
  int epfd;

  if (s)
    return s;
  epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (epfd < 0)
    return NULL;
  s = (OrchFdSet *) g_source_new (&set_funcs, sizeof (OrchFdSet));
  s->epfd = epfd;
  s->watches = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  s->ready = g_array_new (FALSE, FALSE, sizeof (OrchFdReady));
  s->mirror = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  s->scratch = g_array_new (FALSE, FALSE, sizeof (GPollFD));
  g_source_set_name (&s->source, "orch-fd-watch");
  /* Not taken out of the poll set while it dispatches: that would wake
   * the loop for one more poll() of every fd (orch-sd-bus.c). */
  g_source_set_can_recurse (&s->source, TRUE);
  s->epfd_tag = g_source_add_unix_fd (&s->source, epfd, G_IO_IN);
  g_source_attach (&s->source, NULL);
  return orch_fd_set = s;
}

/* Direct while a consuming watch is in the set, nested otherwise. */
static void
set_mode (OrchFdSet *s)
{
  gboolean direct = s->consuming > 0;

  if (direct == (s->epfd_tag == NULL))
    return;
  if (direct)
    {
      g_source_remove_unix_fd (&s->source, s->epfd_tag);
      s->epfd_tag = NULL;
      g_main_context_set_poll_func (NULL, orch_main_poll);
    }
  else
    {
      g_main_context_set_poll_func (NULL, NULL);
      orch_main_poll_clear (s);
      s->epfd_tag = g_source_add_unix_fd (&s->source, s->epfd, G_IO_IN);
    }
}

static gboolean
fallback_cb (int fd, GIOCondition cond, gpointer data)
{
  guint id = GPOINTER_TO_UINT (data);
  OrchFdWatch *w = orch_fd_set ? g_hash_table_lookup (orch_fd_set->watches, data) : NULL;

  if (w == NULL)
    return G_SOURCE_REMOVE;
  if (w->func (fd, cond, w->data))
    return G_SOURCE_CONTINUE;
  w->fallback = 0; /* ends with this return */
  orch_fd_watch_remove (id);
  return G_SOURCE_REMOVE;
}

guint
orch_fd_watch_add_full (int fd, GIOCondition cond, OrchFdWatchFlags flags, OrchFdWatchFunc func,
                        gpointer user_data)
{
  OrchFdSet *s = get_set ();
  struct epoll_event ev = { 0 };
  OrchFdWatch *w;
  guint id;

  if (s == NULL)
    return 0; /* no fd left for the epoll set */
  if ((id = ++s->next_id) == 0)
    id = ++s->next_id;
  w = g_new0 (OrchFdWatch, 1);
  w->fd = fd;
  w->cond = cond;
  w->flags = flags;
  w->func = func;
  w->data = user_data;
  ev.events = orch_fd_watch_to_epoll (cond);
  ev.data.u64 = ORCH_FD_WATCH_TAG | id;
  /* epoll refuses what poll() takes (a regular file): a source of its own. */
  if (epoll_ctl (s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    w->fallback = orch_fd_source_add (fd, cond, fallback_cb, GUINT_TO_POINTER (id));
  else if (flags & ORCH_FD_WATCH_POLL_CONSUMES)
    s->consuming++;
  g_hash_table_insert (s->watches, GUINT_TO_POINTER (id), w);
  orch_fd_budget_watched_add (1);
  set_mode (s);
  return id;
}

guint
orch_fd_watch_add (int fd, GIOCondition cond, OrchFdWatchFunc func, gpointer user_data)
{
  return orch_fd_watch_add_full (fd, cond, ORCH_FD_WATCH_DEFAULT, func, user_data);
}

void
orch_fd_watch_remove (guint id)
{
  OrchFdSet *s = orch_fd_set;
  OrchFdWatch *w;

  if (id == 0 || s == NULL)
    return;
  w = g_hash_table_lookup (s->watches, GUINT_TO_POINTER (id));
  if (w == NULL)
    return;
  if (w->fallback)
    g_source_remove (w->fallback);
  else
    {
      (void) epoll_ctl (s->epfd, EPOLL_CTL_DEL, w->fd, NULL);
      if (w->flags & ORCH_FD_WATCH_POLL_CONSUMES)
        s->consuming--;
    }
  /* A ready entry of it still queued finds no watch and is skipped. */
  g_hash_table_remove (s->watches, GUINT_TO_POINTER (id));
  orch_fd_budget_watched_add (-1);
  set_mode (s);
}

guint
orch_fd_watch_count (void)
{
  return orch_fd_set ? g_hash_table_size (orch_fd_set->watches) : 0;
}

gboolean
orch_fd_watch_is_direct (void)
{
  return orch_fd_set && orch_fd_set->epfd_tag == NULL;
}

guint
orch_fd_source_add (int fd, GIOCondition cond, GUnixFDSourceFunc func, gpointer user_data)
{
  g_autoptr(GSource) source = g_unix_fd_source_new (fd, cond);

  g_source_set_callback (source, G_SOURCE_FUNC (func), user_data, NULL);
  g_source_set_can_recurse (source, TRUE);
  return g_source_attach (source, NULL);
}
