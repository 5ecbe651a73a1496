/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* orch-fd-watch: many fds in one epoll set behind one main-loop source,
 * with g_unix_fd_add()'s contract: the callback sees the condition, a
 * FALSE return ends the watch, a watch removed by an earlier callback of
 * the same batch is not called, and what epoll refuses still works. */
#include "core/orch-fd-watch.h"

#include <fcntl.h>
#include <unistd.h>

#define N 8

typedef struct {
  int pipes[N][2];
  guint ids[N];
  int calls[N];
  GIOCondition last[N];
  gboolean keep;    /* what the callbacks return */
  int remove_other; /* -1, or the index the first callback removes */
} Fixture;

static Fixture *fx;

static gboolean
cb (int fd, GIOCondition cond, gpointer data)
{
  int i = GPOINTER_TO_INT (data);
  char c;

  fx->calls[i]++;
  fx->last[i] = cond;
  if (cond & G_IO_IN)
    (void) read (fd, &c, 1);
  if (fx->remove_other >= 0 && fx->remove_other != i)
    {
      orch_fd_watch_remove (fx->ids[fx->remove_other]);
      fx->ids[fx->remove_other] = 0;
      fx->remove_other = -1;
    }
  return fx->keep;
}

static void
iterate (void)
{
  /* Nonblocking: what is ready now is dispatched now. */
  for (int k = 0; k < 5; k++)
    g_main_context_iteration (NULL, FALSE);
}

static void
setup (Fixture *f)
{
  guint before = orch_fd_watch_count ();

  fx = f;
  f->remove_other = -1;
  f->keep = TRUE;
  for (int i = 0; i < N; i++)
    {
      g_assert_cmpint (pipe2 (f->pipes[i], O_CLOEXEC | O_NONBLOCK), ==, 0);
      f->ids[i] = orch_fd_watch_add (f->pipes[i][0], G_IO_IN | G_IO_HUP, cb, GINT_TO_POINTER (i));
      g_assert_cmpuint (f->ids[i], !=, 0);
    }
  g_assert_cmpuint (orch_fd_watch_count (), ==, before + N);
}

static void
teardown (Fixture *f)
{
  for (int i = 0; i < N; i++)
    {
      orch_fd_watch_remove (f->ids[i]);
      close (f->pipes[i][0]);
      if (f->pipes[i][1] >= 0)
        close (f->pipes[i][1]);
    }
  g_assert_cmpuint (orch_fd_watch_count (), ==, 0);
}

static void
test_only_ready (void)
{
  Fixture f = { 0 };

  setup (&f);
  iterate ();
  for (int i = 0; i < N; i++)
    g_assert_cmpint (f.calls[i], ==, 0);
  g_assert_cmpint (write (f.pipes[3][1], "x", 1), ==, 1);
  g_assert_cmpint (write (f.pipes[5][1], "x", 1), ==, 1);
  iterate ();
  for (int i = 0; i < N; i++)
    g_assert_cmpint (f.calls[i], ==, i == 3 || i == 5 ? 1 : 0);
  g_assert_true (f.last[3] & G_IO_IN);
  /* Level-triggered, like poll(): read, so nothing more. */
  iterate ();
  g_assert_cmpint (f.calls[3], ==, 1);
  /* A closed writer is a hang-up. */
  close (f.pipes[6][1]);
  f.pipes[6][1] = -1;
  iterate ();
  g_assert_true (f.last[6] & G_IO_HUP);
  teardown (&f);
}

static void
test_false_ends (void)
{
  Fixture f = { 0 };

  setup (&f);
  f.keep = FALSE;
  g_assert_cmpint (write (f.pipes[2][1], "xx", 2), ==, 2);
  iterate ();
  g_assert_cmpint (f.calls[2], ==, 1);
  g_assert_cmpuint (orch_fd_watch_count (), ==, N - 1);
  /* Still readable, but no longer watched. */
  iterate ();
  g_assert_cmpint (f.calls[2], ==, 1);
  f.ids[2] = 0;
  teardown (&f);
}

static void
test_removed_in_batch (void)
{
  Fixture f = { 0 };
  int called;

  setup (&f);
  /* All ready in one batch; the first called removes another one. */
  for (int i = 0; i < N; i++)
    g_assert_cmpint (write (f.pipes[i][1], "x", 1), ==, 1);
  f.remove_other = 0;
  iterate ();
  called = 0;
  for (int i = 0; i < N; i++)
    called += f.calls[i];
  /* Whichever came first removed one that was not called yet, or one
   * called already: either way nobody is called after its removal. */
  g_assert_cmpint (called, >=, N - 1);
  g_assert_cmpint (called, <=, N);
  g_assert_cmpuint (orch_fd_watch_count (), ==, N - 1);
  teardown (&f);
}

static void
test_regular_file (void)
{
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp ("orch-fd-watch-XXXXXX", &path, NULL);
  Fixture f = { 0 };
  guint id;

  g_assert_cmpint (fd, >=, 0);
  fx = &f;
  f.keep = FALSE;
  f.remove_other = -1;
  /* epoll refuses a regular file; poll() says it is always ready. */
  id = orch_fd_watch_add (fd, G_IO_IN, cb, GINT_TO_POINTER (0));
  g_assert_cmpuint (id, !=, 0);
  iterate ();
  g_assert_cmpint (f.calls[0], ==, 1);
  g_assert_cmpuint (orch_fd_watch_count (), ==, 0);
  orch_fd_watch_remove (id); /* gone already: nothing happens */
  close (fd);
  unlink (path);
}

/* How many fds the last poll() found ready. */
static int last_ready;

static gint
counting_poll (GPollFD *fds, guint n, gint timeout)
{
  last_ready = g_poll (fds, n, timeout);
  return last_ready;
}

/* A dispatch leaves the loop asleep.  GLib wakes the loop whenever fds
 * leave or join its poll set, and a non-recursive source's leave and join
 * around each of its dispatches: one more poll() of every fd each time
 * (with a few hundred PSI triggers in the set, most of the daemon's CPU
 * per launch).  Both the epoll set and orch_fd_source_add()'s sources. */
static void
test_no_wakeup (void)
{
  Fixture f = { 0 };
  int p[2][2];
  guint ids[2];
  char c = 'x';

  fx = &f;
  f.keep = TRUE;
  f.remove_other = -1;
  for (int i = 0; i < 2; i++)
    g_assert_cmpint (pipe2 (p[i], O_CLOEXEC | O_NONBLOCK), ==, 0);
  ids[0] = orch_fd_watch_add (p[0][0], G_IO_IN, cb, GINT_TO_POINTER (0));
  ids[1] = orch_fd_source_add (p[1][0], G_IO_IN, cb, GINT_TO_POINTER (1));
  iterate (); /* adding them woke the loop: settled now */
  g_main_context_set_poll_func (NULL, counting_poll);
  for (int i = 0; i < 2; i++)
    {
      g_assert_cmpint (write (p[i][1], &c, 1), ==, 1);
      g_main_context_iteration (NULL, FALSE);
      g_assert_cmpint (f.calls[i], ==, 1);
      /* Nothing ready, not even the loop's own wake-up fd. */
      g_main_context_iteration (NULL, FALSE);
      g_assert_cmpint (last_ready, ==, 0);
    }
  g_main_context_set_poll_func (NULL, NULL);
  orch_fd_watch_remove (ids[0]);
  g_source_remove (ids[1]);
  for (int i = 0; i < 2; i++)
    {
      close (p[i][0]);
      close (p[i][1]);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fd-watch/only-ready", test_only_ready);
  g_test_add_func ("/fd-watch/false-ends", test_false_ends);
  g_test_add_func ("/fd-watch/removed-in-batch", test_removed_in_batch);
  g_test_add_func ("/fd-watch/regular-file", test_regular_file);
  g_test_add_func ("/fd-watch/no-wakeup", test_no_wakeup);
  return g_test_run ();
}
