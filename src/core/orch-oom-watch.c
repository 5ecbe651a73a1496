/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-oom-watch.h"
#include "orch-fd-watch.h"
#include "basic/orch-cgroup.h"
#include "basic/orch-fd-budget.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* v1 tells of the OOM before the kill: the counter is read again then. */
static const guint v1_rereads_ms[] = { 2, 10, 50, 250, 1000 };

typedef struct {
  OrchOomWatch *w;
  char *id;
  char *path;
  int fd;  /* v2: the file; v1: the eventfd */
  int cfd; /* v1: memory.oom_control, kept open while registered */
  guint source;
  guint reread;       /* v1: the next read again */
  guint reread_stage; /* into v1_rereads_ms */
  guint64 oom_kill;
  guint64 high;        /* the counter at the last report */
  guint64 high_seen;   /* the counter now */
  gint64 high_last_us; /* the last report */
  guint high_timer;
} Watch;

struct _OrchOomWatch {
  guint64 high_period_us;
  OrchOomFunc oom_func;
  OrchHighFunc high_func;
  gpointer data;
  GHashTable *watches; /* id -> Watch */
};

gint64
orch_oom_high_due (gint64 now_us, gint64 last_us, guint64 period_us)
{
  if (last_us == 0 || now_us - last_us >= (gint64) period_us)
    return now_us;
  return last_us + (gint64) period_us;
}

static void
watch_free (Watch *wa)
{
  orch_fd_watch_remove (wa->source);
  if (wa->reread)
    g_source_remove (wa->reread);
  if (wa->high_timer)
    g_source_remove (wa->high_timer);
  if (wa->fd >= 0)
    close (wa->fd);
  if (wa->cfd >= 0)
    {
      close (wa->cfd);
      orch_fd_budget_watched_add (-1);
    }
  g_free (wa->id);
  g_free (wa->path);
  g_free (wa);
}

OrchOomWatch *
orch_oom_watch_new (guint64 high_period_us, OrchOomFunc oom_func, OrchHighFunc high_func,
                    gpointer data)
{
  OrchOomWatch *w = g_new0 (OrchOomWatch, 1);

  w->high_period_us = high_period_us;
  w->oom_func = oom_func;
  w->high_func = high_func;
  w->data = data;
  w->watches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) watch_free);
  return w;
}

void
orch_oom_watch_free (OrchOomWatch *w)
{
  if (w == NULL)
    return;
  g_hash_table_unref (w->watches);
  g_free (w);
}

static void
report_high (Watch *wa)
{
  guint64 delta = wa->high_seen - wa->high;

  wa->high = wa->high_seen;
  wa->high_last_us = g_get_monotonic_time ();
  wa->w->high_func (wa->id, wa->high, delta, wa->w->data);
}

static gboolean
high_timer_cb (gpointer data)
{
  Watch *wa = data;

  wa->high_timer = 0;
  if (wa->high_seen > wa->high)
    report_high (wa);
  return G_SOURCE_REMOVE;
}

/* Reads the counters and tells what moved; FALSE once the file is gone. */
static gboolean
check (Watch *wa)
{
  guint64 oom_kill, high;
  gint64 now, due;

  if (orch_cgroup_read_oom_counts (wa->path, &oom_kill, &high) < 0)
    return FALSE;
  if (oom_kill != wa->oom_kill)
    {
      wa->oom_kill = oom_kill;
      wa->w->oom_func (wa->id, oom_kill, wa->w->data);
    }
  if (high > wa->high_seen)
    {
      wa->high_seen = high;
      now = g_get_monotonic_time ();
      due = orch_oom_high_due (now, wa->high_last_us, wa->w->high_period_us);
      if (due <= now)
        report_high (wa);
      else if (wa->high_timer == 0)
        wa->high_timer = g_timeout_add ((guint) ((due - now + 999) / 1000), high_timer_cb, wa);
    }
  return TRUE;
}

static gboolean
v2_cb (int fd, GIOCondition cond, gpointer data)
{
  Watch *wa = data;

  /* A kernfs file polls POLLPRI|POLLERR after a change until it is read
   * again (check() does); a file of a removed group stays so: stop. */
  if (!check (wa))
    {
      wa->source = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
reread_cb (gpointer data)
{
  Watch *wa = data;

  wa->reread = 0;
  if (!check (wa))
    return G_SOURCE_REMOVE;
  if (++wa->reread_stage < G_N_ELEMENTS (v1_rereads_ms))
    wa->reread = g_timeout_add (
        v1_rereads_ms[wa->reread_stage] - v1_rereads_ms[wa->reread_stage - 1], reread_cb, wa);
  return G_SOURCE_REMOVE;
}

static gboolean
v1_cb (int fd, GIOCondition cond, gpointer data)
{
  Watch *wa = data;
  guint64 n;

  if (read (fd, &n, sizeof n) < 0 && errno != EAGAIN)
    {
      wa->source = 0;
      return G_SOURCE_REMOVE;
    }
  /* The group's removal signals it too: then the file is gone. */
  if (!check (wa))
    {
      wa->source = 0;
      return G_SOURCE_REMOVE;
    }
  if (wa->reread)
    g_source_remove (wa->reread);
  wa->reread_stage = 0;
  wa->reread = g_timeout_add (v1_rereads_ms[0], reread_cb, wa);
  return G_SOURCE_CONTINUE;
}

/* v1: an eventfd the kernel signals on the group's OOM. */
static int
register_v1 (Watch *wa)
{
  g_autofree char *dir = g_path_get_dirname (wa->path);
  g_autofree char *control = g_build_filename (dir, "cgroup.event_control", NULL);
  g_autofree char *line = NULL;
  int r;

  wa->cfd = open (wa->path, O_RDONLY | O_CLOEXEC);
  if (wa->cfd < 0)
    return -errno;
  orch_fd_budget_watched_add (1); /* beside the watched eventfd */
  wa->fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wa->fd < 0)
    return -errno;
  line = g_strdup_printf ("%d %d", wa->fd, wa->cfd);
  r = orch_write_file (control, line);
  if (r < 0)
    return r;
  wa->source = orch_fd_watch_add (wa->fd, G_IO_IN, v1_cb, wa);
  return 0;
}

static int
register_v2 (Watch *wa)
{
  wa->fd = open (wa->path, O_RDONLY | O_CLOEXEC);
  if (wa->fd < 0)
    return -errno;
  wa->source = orch_fd_watch_add (wa->fd, G_IO_PRI | G_IO_ERR, v2_cb, wa);
  return 0;
}

void
orch_oom_watch_add (OrchOomWatch *w, const char *id, const char *path)
{
  Watch *wa;
  g_autofree char *name = NULL;
  int r;

  if (g_hash_table_contains (w->watches, id))
    return;
  wa = g_new0 (Watch, 1);
  wa->w = w;
  wa->id = g_strdup (id);
  wa->path = g_strdup (path);
  wa->fd = wa->cfd = -1;
  name = g_path_get_basename (path);
  r = strcmp (name, "memory.oom_control") == 0 ? register_v1 (wa) : register_v2 (wa);
  if (r < 0)
    {
      g_debug ("no memory events for %s from %s: %s", id, path, g_strerror (-r));
      watch_free (wa);
      return;
    }
  g_hash_table_replace (w->watches, g_strdup (id), wa);
  /* What happened before the watch (a daemon restarted meanwhile). */
  (void) check (wa);
}

void
orch_oom_watch_remove (OrchOomWatch *w, const char *id)
{
  g_hash_table_remove (w->watches, id);
}

gboolean
orch_oom_watch_has (OrchOomWatch *w, const char *id)
{
  return g_hash_table_contains (w->watches, id);
}
