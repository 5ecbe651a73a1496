/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The direct mode of orch-fd-watch: the default context's poll function
 * waits in epoll_wait() on the watches' set, with GLib's own few fds
 * registered there too (brought in line with GLib's list on each call),
 * so every fd is polled by epoll_wait() alone, once per event. */
#include "config.h"

#include "orch-fd-watch-private.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

typedef struct {
  guint32 events; /* registered in the set */
  guint64 call;   /* the last poll call that found it in GLib's list */
} Mirror;

/* GLib's fds leave the set: the direct mode ended, or too many to mirror. */
void
orch_main_poll_clear (OrchFdSet *s)
{
  GHashTableIter it;
  gpointer key;

  g_hash_table_iter_init (&it, s->mirror);
  while (g_hash_table_iter_next (&it, &key, NULL))
    (void) epoll_ctl (s->epfd, EPOLL_CTL_DEL, GPOINTER_TO_INT (key), NULL);
  g_hash_table_remove_all (s->mirror);
}

/* poll() over GLib's fds and the watches, as GLib would with a GSource
 * each: when GLib has too many fds to mirror. */
static gint
fallback_poll (OrchFdSet *s, GPollFD *ufds, guint nfds, gint timeout)
{
  GHashTableIter it;
  gpointer key, value;
  guint n0 = nfds;
  gint r;

  orch_main_poll_clear (s);
  g_array_set_size (s->scratch, 0);
  g_array_append_vals (s->scratch, ufds, nfds);
  g_hash_table_iter_init (&it, s->watches);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      const OrchFdWatch *w = value;
      /* A watch with a source of its own is in GLib's list already. */
      GPollFD p = { .fd = w->fallback ? -1 : w->fd, .events = (gushort) w->cond };
      g_array_append_val (s->scratch, p);
    }
  r = g_poll ((GPollFD *) s->scratch->data, s->scratch->len, timeout);
  if (r < 0)
    return r;
  memcpy (ufds, s->scratch->data, sizeof (GPollFD) * n0);
  r = 0;
  for (guint i = 0; i < n0; i++)
    r += ufds[i].revents != 0;
  g_hash_table_iter_init (&it, s->watches);
  for (guint i = n0; i < s->scratch->len && g_hash_table_iter_next (&it, &key, &value); i++)
    {
      const GPollFD *p = &g_array_index (s->scratch, GPollFD, i);
      if (p->revents)
        g_array_append_vals (s->ready, &(OrchFdReady){ GPOINTER_TO_UINT (key), p->revents }, 1);
    }
  return r;
}

/* Registers GLib's fd @fd for @events; FALSE with errno when epoll
 * refuses it. */
static gboolean
mirror_fd (OrchFdSet *s, int fd, guint32 events)
{
  struct epoll_event ev = { .events = events, .data.u64 = (guint64) fd };
  Mirror *m = g_hash_table_lookup (s->mirror, GINT_TO_POINTER (fd));
  int r;

  /* MOD even when nothing changed: an fd closed and opened again under the
   * same number between two calls has left the set (ENOENT then). */
  r = epoll_ctl (s->epfd, m ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
  if (r < 0 && errno == ENOENT)
    r = epoll_ctl (s->epfd, EPOLL_CTL_ADD, fd, &ev);
  else if (r < 0 && errno == EEXIST)
    r = epoll_ctl (s->epfd, EPOLL_CTL_MOD, fd, &ev);
  if (r < 0)
    {
      int e = errno;
      g_hash_table_remove (s->mirror, GINT_TO_POINTER (fd));
      errno = e;
      return FALSE;
    }
  if (m == NULL)
    {
      m = g_new (Mirror, 1);
      g_hash_table_insert (s->mirror, GINT_TO_POINTER (fd), m);
    }
  m->events = events;
  m->call = s->calls;
  return TRUE;
}

gint
orch_main_poll (GPollFD *ufds, guint nfds, gint timeout)
{
  OrchFdSet *s = orch_fd_set;
  struct epoll_event ev[256];
  GHashTableIter it;
  gpointer key, value;
  gboolean now = FALSE;
  gint n, r = 0;

  if (s == NULL)
    return g_poll (ufds, nfds, timeout);
  if (nfds > ORCH_FD_WATCH_MAX_MIRRORED)
    return fallback_poll (s, ufds, nfds, timeout);

  s->calls++;
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
      if (!mirror_fd (s, ufds[i].fd, want))
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
  g_hash_table_iter_init (&it, s->mirror);
  while (g_hash_table_iter_next (&it, &key, &value))
    if (((Mirror *) value)->call != s->calls)
      {
        (void) epoll_ctl (s->epfd, EPOLL_CTL_DEL, GPOINTER_TO_INT (key), NULL);
        g_hash_table_iter_remove (&it);
      }

  n = epoll_wait (s->epfd, ev, G_N_ELEMENTS (ev), now || s->ready->len > 0 ? 0 : timeout);
  if (n < 0)
    return -1; /* errno as epoll_wait left it, EINTR mostly */
  for (gint k = 0; k < n; k++)
    {
      if (ev[k].data.u64 & ORCH_FD_WATCH_TAG)
        {
          OrchFdReady rd = { (guint) (ev[k].data.u64 & ~ORCH_FD_WATCH_TAG),
                             orch_fd_watch_from_epoll (ev[k].events) };
          g_array_append_val (s->ready, rd);
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
