/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-fd-watch.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/epoll.h>
#include <unistd.h>

typedef struct {
  int fd;
  OrchFdWatchFunc func;
  gpointer data;
  guint fallback; /* a GSource of its own when epoll refused the fd */
} Watch;

typedef struct {
  GSource source;
  int epfd;
  GHashTable *watches; /* id -> Watch */
  guint next_id;
} Set;

static Set *the_set;

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

static gboolean
set_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  Set *s = (Set *) source;
  struct epoll_event ev[64];
  int n = epoll_wait (s->epfd, ev, G_N_ELEMENTS (ev), 0);

  for (int i = 0; i < n; i++)
    {
      /* By id: an earlier callback of this batch may have removed it. */
      guint id = (guint) ev[i].data.u64;
      Watch *w = g_hash_table_lookup (s->watches, GUINT_TO_POINTER (id));
      if (w && !w->func (w->fd, orch_fd_watch_from_epoll (ev[i].events), w->data))
        orch_fd_watch_remove (id);
    }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs set_funcs = { .dispatch = set_dispatch };

static Set *
get_set (void)
{
  int epfd;

  if (the_set)
    return the_set;
  epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (epfd < 0)
    return NULL;
  the_set = (Set *) g_source_new (&set_funcs, sizeof (Set));
  the_set->epfd = epfd;
  the_set->watches = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_source_set_name (&the_set->source, "orch-fd-watch");
  /* Not taken out of the poll set while it dispatches: that would wake
   * the loop for one more poll() of every fd (orch-sd-bus.c). */
  g_source_set_can_recurse (&the_set->source, TRUE);
  g_source_add_unix_fd (&the_set->source, epfd, G_IO_IN);
  g_source_attach (&the_set->source, NULL);
  return the_set;
}

static gboolean
fallback_cb (int fd, GIOCondition cond, gpointer data)
{
  guint id = GPOINTER_TO_UINT (data);
  Watch *w = the_set ? g_hash_table_lookup (the_set->watches, data) : NULL;

  if (w == NULL)
    return G_SOURCE_REMOVE;
  if (w->func (fd, cond, w->data))
    return G_SOURCE_CONTINUE;
  w->fallback = 0; /* ends with this return */
  orch_fd_watch_remove (id);
  return G_SOURCE_REMOVE;
}

guint
orch_fd_watch_add (int fd, GIOCondition cond, OrchFdWatchFunc func, gpointer user_data)
{
  Set *s = get_set ();
  struct epoll_event ev = { 0 };
  Watch *w;
  guint id;

  if (s == NULL)
    return 0; /* no fd left for the epoll set */
  if ((id = ++s->next_id) == 0)
    id = ++s->next_id;
  w = g_new0 (Watch, 1);
  w->fd = fd;
  w->func = func;
  w->data = user_data;
  ev.events = orch_fd_watch_to_epoll (cond);
  ev.data.u64 = id;
  /* epoll refuses what poll() takes (a regular file): a source of its own. */
  if (epoll_ctl (s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    w->fallback = g_unix_fd_add (fd, cond, fallback_cb, GUINT_TO_POINTER (id));
  g_hash_table_insert (s->watches, GUINT_TO_POINTER (id), w);
  return id;
}

void
orch_fd_watch_remove (guint id)
{
  Watch *w;

  if (id == 0 || the_set == NULL)
    return;
  w = g_hash_table_lookup (the_set->watches, GUINT_TO_POINTER (id));
  if (w == NULL)
    return;
  if (w->fallback)
    g_source_remove (w->fallback);
  else
    (void) epoll_ctl (the_set->epfd, EPOLL_CTL_DEL, w->fd, NULL);
  g_hash_table_remove (the_set->watches, GUINT_TO_POINTER (id));
}

guint
orch_fd_watch_count (void)
{
  return the_set ? g_hash_table_size (the_set->watches) : 0;
}

guint
orch_fd_source_add (int fd, GIOCondition cond, GUnixFDSourceFunc func, gpointer user_data)
{
  g_autoptr(GSource) source = g_unix_fd_source_new (fd, cond);

  g_source_set_callback (source, G_SOURCE_FUNC (func), user_data, NULL);
  g_source_set_can_recurse (source, TRUE);
  return g_source_attach (source, NULL);
}
