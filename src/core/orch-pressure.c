/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-pressure.h"
#include "orch-fd-watch.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <unistd.h>

static const char *const resources[] = { "cpu", "memory", "io" };

typedef struct {
  OrchPressure *p;
  char *id;
  guint index; /* into resources */
  int fd;
  guint watch; /* its orch-fd-watch id */
} Trigger;

typedef struct {
  Trigger triggers[G_N_ELEMENTS (resources)];
} Watch;

struct _OrchPressure {
  guint64 threshold_us;
  guint64 window_us;
  OrchPressureFunc func;
  gpointer data;
  GHashTable *watches; /* id -> Watch */
  gboolean wide;       /* the kernel refused the window: the 2 s one from the start */
};

static void
watch_free (Watch *w)
{
  for (guint i = 0; i < G_N_ELEMENTS (resources); i++)
    {
      orch_fd_watch_remove (w->triggers[i].watch);
      if (w->triggers[i].fd >= 0)
        close (w->triggers[i].fd);
      g_free (w->triggers[i].id);
    }
  g_free (w);
}

char *
orch_pressure_trigger_text (guint64 threshold_us, guint64 window_us)
{
  return g_strdup_printf ("some %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, threshold_us, window_us);
}

OrchPressure *
orch_pressure_new (guint64 threshold_us, guint64 window_us, OrchPressureFunc func, gpointer data)
{
  OrchPressure *p = g_new0 (OrchPressure, 1);

  p->threshold_us = threshold_us;
  p->window_us = window_us;
  p->func = func;
  p->data = data;
  p->watches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) watch_free);
  return p;
}

void
orch_pressure_free (OrchPressure *p)
{
  if (p == NULL)
    return;
  g_hash_table_unref (p->watches);
  g_free (p);
}

static gboolean
fired (int fd, GIOCondition cond, gpointer data)
{
  Trigger *t = data;

  if (cond & (G_IO_ERR | G_IO_HUP | G_IO_NVAL))
    {
      /* The group is gone: nothing more will come. */
      t->watch = 0;
      return G_SOURCE_REMOVE;
    }
  t->p->func (t->id, resources[t->index], t->p->threshold_us, t->p->window_us, t->p->data);
  return G_SOURCE_CONTINUE;
}

static int
arm (const char *path, const char *text)
{
  int fd = open (path, O_RDWR | O_NONBLOCK | O_CLOEXEC);

  if (fd < 0)
    return -errno;
  /* The kernel takes the text with its NUL. */
  if (write (fd, text, strlen (text) + 1) < 0)
    {
      int r = -errno;
      close (fd);
      return r;
    }
  return fd;
}

void
orch_pressure_watch (OrchPressure *p, const char *id, const char *dir)
{
  Watch *w;

  if (p->threshold_us == 0 || g_hash_table_contains (p->watches, id))
    return;
  w = g_new0 (Watch, 1);
  for (guint i = 0; i < G_N_ELEMENTS (resources); i++)
    {
      g_autofree char *name = g_strconcat (resources[i], ".pressure", NULL);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *text = orch_pressure_trigger_text (p->threshold_us, p->window_us);
      /* Without CAP_SYS_RESOURCE the kernel wants a window that is a
       * multiple of 2 s; once refused, asked for at once (a refused
       * trigger is three system calls on every launch). */
      g_autofree char *wider = orch_pressure_trigger_text (
          p->threshold_us * 2000000 / MAX (p->window_us, 1),
          2000000 * ((p->window_us + 1999999) / 2000000));
      Trigger *t = &w->triggers[i];
      int fd = arm (path, p->wide ? wider : text);

      t->fd = -1;
      if (fd == -EINVAL && !p->wide && p->window_us % 2000000 != 0)
        {
          fd = arm (path, wider);
          p->wide = fd >= 0;
        }
      if (fd < 0)
        {
          g_debug ("no %s pressure trigger for %s: %s", resources[i], id, g_strerror (-fd));
          continue;
        }
      t->p = p;
      t->id = g_strdup (id);
      t->index = i;
      t->fd = fd;
      /* Not polled on every wakeup of the loop: 3 fds a job.  Its poll
       * clears the event: the set waits directly then. */
      t->watch = orch_fd_watch_add_full (fd, G_IO_PRI | G_IO_ERR, ORCH_FD_WATCH_POLL_CONSUMES,
                                         fired, t);
      if (t->watch == 0)
        g_debug ("no watch for the %s pressure trigger of %s", resources[i], id);
    }
  g_hash_table_replace (p->watches, g_strdup (id), w);
}

void
orch_pressure_unwatch (OrchPressure *p, const char *id)
{
  g_hash_table_remove (p->watches, id);
}
