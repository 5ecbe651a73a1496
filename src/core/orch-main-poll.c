/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-main-poll.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* epoll data of a watch made here; GLib's fds carry the fd itself. */
#define DIRECT_TAG (G_GUINT64_CONSTANT (1) << 63)

typedef struct {
  int fd;
  GIOCondition cond;
  OrchFdWatchFunc func;
  gpointer data;
} Watch;

typedef struct {
  guint32 events; /* registered in the set */
  guint64 call;   /* the last poll call that found it in GLib's list */
} Mirror;

typedef struct {
  guint id;
  GIOCondition cond;
} Ready;

typedef struct {
  GSource source; /* dispatches what the poll function found */
  int epfd;
  GHashTable *watches; /* id -> Watch */
  guint next_id;
  GHashTable *mirror; /* GLib fd -> Mirror, those registered in epfd */
  guint64 calls;      /* of main_poll() */
  GArray *ready;      /* Ready, found by the last poll */
  GArray *scratch;    /* GPollFD, for the fallback */
} Loop;

static Loop *the_loop;

static void
mirror_clear (Loop *l)
{
  GHashTableIter it;
  gpointer key;

  g_hash_table_iter_init (&it, l->mirror);
  while (g_hash_table_iter_next (&it, &key, NULL))
    (void) epoll_ctl (l->epfd, EPOLL_CTL_DEL, GPOINTER_TO_INT (key), NULL);
  g_hash_table_remove_all (l->mirror);
}

/* poll() over GLib's fds and ours, as GLib would with a GSource each:
 * when GLib has too many fds to mirror. */
static gint
fallback_poll (Loop *l, GPollFD *ufds, guint nfds, gint timeout)
{
  GHashTableIter it;
  gpointer key, value;
  guint n0 = nfds;
  gint r;

  mirror_clear (l);
  g_array_set_size (l->scratch, 0);
  g_array_append_vals (l->scratch, ufds, nfds);
  g_hash_table_iter_init (&it, l->watches);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      const Watch *w = value;
      GPollFD p = { .fd = w->fd, .events = (gushort) w->cond };
      g_array_append_val (l->scratch, p);
    }
  r = g_poll ((GPollFD *) l->scratch->data, l->scratch->len, timeout);
  if (r < 0)
    return r;
  memcpy (ufds, l->scratch->data, sizeof (GPollFD) * n0);
  r = 0;
  for (guint i = 0; i < n0; i++)
    r += ufds[i].revents != 0;
  g_hash_table_iter_init (&it, l->watches);
  for (guint i = n0; i < l->scratch->len && g_hash_table_iter_next (&it, &key, &value); i++)
    {
      const GPollFD *p = &g_array_index (l->scratch, GPollFD, i);
      if (p->revents)
        g_array_append_vals (l->ready, &(Ready){ GPOINTER_TO_UINT (key), p->revents }, 1);
    }
  return r;
}

/* Registers GLib's fd @fd for @events; FALSE with errno when epoll
 * refuses it. */
static gboolean
mirror_fd (Loop *l, int fd, guint32 events)
{
  struct epoll_event ev = { .events = events, .data.u64 = (guint64) fd };
  Mirror *m = g_hash_table_lookup (l->mirror, GINT_TO_POINTER (fd));
  int r;

  /* MOD even when nothing changed: an fd closed and opened again under the
   * same number between two calls has left the set (ENOENT then). */
  r = epoll_ctl (l->epfd, m ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
  if (r < 0 && errno == ENOENT)
    r = epoll_ctl (l->epfd, EPOLL_CTL_ADD, fd, &ev);
  else if (r < 0 && errno == EEXIST)
    r = epoll_ctl (l->epfd, EPOLL_CTL_MOD, fd, &ev);
  if (r < 0)
    {
      int e = errno;
      g_hash_table_remove (l->mirror, GINT_TO_POINTER (fd));
      errno = e;
      return FALSE;
    }
  if (m == NULL)
    {
      m = g_new (Mirror, 1);
      g_hash_table_insert (l->mirror, GINT_TO_POINTER (fd), m);
    }
  m->events = events;
  m->call = l->calls;
  return TRUE;
}

static gint
main_poll (GPollFD *ufds, guint nfds, gint timeout)
{
  Loop *l = the_loop;
  struct epoll_event ev[256];
  GHashTableIter it;
  gpointer key, value;
  gboolean now = FALSE;
  gint n, r = 0;

  if (g_hash_table_size (l->watches) == 0)
    {
      /* Nothing of ours: GLib's poll, as without us. */
      if (g_hash_table_size (l->mirror) > 0)
        mirror_clear (l);
      return g_poll (ufds, nfds, timeout);
    }
  if (nfds > ORCH_MAIN_POLL_MAX_MIRRORED)
    return fallback_poll (l, ufds, nfds, timeout);

  l->calls++;
  for (guint i = 0; i < nfds; i++)
    ufds[i].revents = 0;
  for (guint i = 0; i < nfds; i++)
    {
      guint32 want = 0;
      guint j;

      /* Two sources may watch one fd: the set holds it once. */
      for (j = 0; j < i && ufds[j].fd != ufds[i].fd; j++)
        ;
      if (ufds[i].fd < 0 || j < i)
        continue;
      for (j = i; j < nfds; j++)
        if (ufds[j].fd == ufds[i].fd)
          want |= orch_fd_watch_to_epoll (ufds[j].events);
      if (!mirror_fd (l, ufds[i].fd, want))
        {
          /* What poll() says of such fds: a regular file (EPERM) is
           * always ready, a closed one (EBADF) invalid. */
          gushort rev = errno == EPERM ? ufds[i].events & (G_IO_IN | G_IO_OUT) : G_IO_NVAL;
          for (j = i; j < nfds; j++)
            if (ufds[j].fd == ufds[i].fd)
              ufds[j].revents = rev;
          now = TRUE;
        }
    }
  /* Fds GLib no longer polls leave the set, or a ready one would wake
   * every call. */
  g_hash_table_iter_init (&it, l->mirror);
  while (g_hash_table_iter_next (&it, &key, &value))
    if (((Mirror *) value)->call != l->calls)
      {
        (void) epoll_ctl (l->epfd, EPOLL_CTL_DEL, GPOINTER_TO_INT (key), NULL);
        g_hash_table_iter_remove (&it);
      }

  n = epoll_wait (l->epfd, ev, G_N_ELEMENTS (ev), now || l->ready->len > 0 ? 0 : timeout);
  if (n < 0)
    return -1; /* errno as epoll_wait left it, EINTR mostly */
  for (gint k = 0; k < n; k++)
    {
      if (ev[k].data.u64 & DIRECT_TAG)
        {
          Ready rd = { (guint) (ev[k].data.u64 & ~DIRECT_TAG),
                       (gushort) orch_fd_watch_from_epoll (ev[k].events) };
          g_array_append_val (l->ready, rd);
          continue;
        }
      for (guint i = 0; i < nfds; i++)
        if (ufds[i].fd == (int) ev[k].data.u64)
          ufds[i].revents |= (gushort) orch_fd_watch_from_epoll (ev[k].events) &
                             (ufds[i].events | G_IO_ERR | G_IO_HUP | G_IO_NVAL);
    }
  for (guint i = 0; i < nfds; i++)
    r += ufds[i].revents != 0;
  return r;
}

static gboolean
loop_prepare (GSource *source, gint *timeout)
{
  *timeout = -1;
  return ((Loop *) source)->ready->len > 0;
}

static gboolean
loop_check (GSource *source)
{
  return ((Loop *) source)->ready->len > 0;
}

static gboolean
loop_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  Loop *l = (Loop *) source;
  g_autoptr(GArray) batch = l->ready;

  l->ready = g_array_new (FALSE, FALSE, sizeof (Ready));
  for (guint i = 0; i < batch->len; i++)
    {
      const Ready *rd = &g_array_index (batch, Ready, i);
      /* By id: an earlier callback of this batch may have removed it. */
      Watch *w = g_hash_table_lookup (l->watches, GUINT_TO_POINTER (rd->id));
      if (w && !w->func (w->fd, rd->cond, w->data))
        orch_main_poll_remove (rd->id);
    }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs loop_funcs = {
  .prepare = loop_prepare,
  .check = loop_check,
  .dispatch = loop_dispatch,
};

static Loop *
get_loop (void)
{
  int epfd;

  if (the_loop)
    return the_loop;
  epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (epfd < 0)
    return NULL;
  the_loop = (Loop *) g_source_new (&loop_funcs, sizeof (Loop));
  the_loop->epfd = epfd;
  the_loop->watches = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  the_loop->mirror = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  the_loop->ready = g_array_new (FALSE, FALSE, sizeof (Ready));
  the_loop->scratch = g_array_new (FALSE, FALSE, sizeof (GPollFD));
  g_source_set_name (&the_loop->source, "orch-main-poll");
  g_source_attach (&the_loop->source, NULL);
  g_main_context_set_poll_func (NULL, main_poll);
  return the_loop;
}

guint
orch_main_poll_add (int fd, GIOCondition cond, OrchFdWatchFunc func, gpointer user_data)
{
  Loop *l = get_loop ();
  struct epoll_event ev = { 0 };
  Watch *w;
  guint id;

  if (l == NULL)
    return 0;
  if ((id = ++l->next_id) == 0)
    id = ++l->next_id;
  ev.events = orch_fd_watch_to_epoll (cond);
  ev.data.u64 = DIRECT_TAG | id;
  if (epoll_ctl (l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    return 0;
  w = g_new0 (Watch, 1);
  w->fd = fd;
  w->cond = cond;
  w->func = func;
  w->data = user_data;
  g_hash_table_insert (l->watches, GUINT_TO_POINTER (id), w);
  return id;
}

void
orch_main_poll_remove (guint id)
{
  Watch *w;

  if (id == 0 || the_loop == NULL)
    return;
  w = g_hash_table_lookup (the_loop->watches, GUINT_TO_POINTER (id));
  if (w == NULL)
    return;
  (void) epoll_ctl (the_loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
  g_hash_table_remove (the_loop->watches, GUINT_TO_POINTER (id));
  /* A ready entry of it still queued finds no watch and is skipped. */
}

guint
orch_main_poll_count (void)
{
  return the_loop ? g_hash_table_size (the_loop->watches) : 0;
}
