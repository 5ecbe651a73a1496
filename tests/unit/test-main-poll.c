/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* orch-fd-watch's direct mode (orch-main-poll.c): with a watch whose
 * poll consumes the event, the default main loop waits on the watches'
 * epoll set, beside GLib's own fds, which its poll function mirrors
 * there.  Both
 * kinds wake a blocking iteration; a GLib fd closed and opened again
 * under the same number between two iterations is still heard; what
 * epoll refuses (a regular file) reads as poll() says; a FALSE return
 * ends a watch; with more GLib fds than it mirrors, poll() still hears
 * both kinds. */
#include "core/orch-fd-watch.h"

#include <fcntl.h>
#include <glib-unix.h>
#include <unistd.h>

typedef struct {
  int direct[2], glib[2];
  guint direct_id, glib_id;
  int direct_calls, glib_calls;
  gboolean keep;
} Fixture;

static gboolean
on_fd (int fd, GIOCondition cond, gpointer data)
{
  int *calls = data;
  char c;

  (*calls)++;
  if (cond & G_IO_IN)
    (void) read (fd, &c, 1);
  return TRUE;
}

static gboolean
on_direct (int fd, GIOCondition cond, gpointer data)
{
  Fixture *f = data;

  on_fd (fd, cond, &f->direct_calls);
  return f->keep;
}

static gboolean
fail_timeout (gpointer data)
{
  g_error ("the main loop did not wake for a ready fd in 10 s");
  return G_SOURCE_REMOVE;
}

/* Blocks until @calls moves (a ready fd must wake the loop). */
static void
wait_for (int *calls)
{
  int before = *calls;
  guint guard = g_timeout_add_seconds (10, fail_timeout, NULL);

  while (*calls == before)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (guard);
}

static void
iterate (void)
{
  for (int k = 0; k < 5; k++)
    g_main_context_iteration (NULL, FALSE);
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (pipe2 (f->direct, O_CLOEXEC | O_NONBLOCK), ==, 0);
  g_assert_cmpint (pipe2 (f->glib, O_CLOEXEC | O_NONBLOCK), ==, 0);
  f->keep = TRUE;
  f->direct_id = orch_fd_watch_add_full (f->direct[0], G_IO_IN | G_IO_ERR,
                                         ORCH_FD_WATCH_POLL_CONSUMES, on_direct, f);
  g_assert_cmpuint (f->direct_id, !=, 0);
  g_assert_cmpuint (orch_fd_watch_count (), ==, 1);
  g_assert_true (orch_fd_watch_is_direct ());
  f->glib_id = g_unix_fd_add (f->glib[0], G_IO_IN, on_fd, &f->glib_calls);
  iterate ();
}

static void
teardown (Fixture *f, gconstpointer data)
{
  orch_fd_watch_remove (f->direct_id);
  if (f->glib_id)
    g_source_remove (f->glib_id);
  for (int i = 0; i < 2; i++)
    {
      close (f->direct[i]);
      close (f->glib[i]);
    }
  g_assert_cmpuint (orch_fd_watch_count (), ==, 0);
  g_assert_false (orch_fd_watch_is_direct ());
  iterate ();
}

static gboolean
write_later (gpointer data)
{
  g_assert_cmpint (write (GPOINTER_TO_INT (data), "x", 1), ==, 1);
  return G_SOURCE_REMOVE;
}

/* Each kind wakes a blocking iteration, and only its own callback runs. */
static void
test_both_wake (Fixture *f, gconstpointer data)
{
  g_timeout_add (50, write_later, GINT_TO_POINTER (f->direct[1]));
  wait_for (&f->direct_calls);
  g_assert_cmpint (f->direct_calls, ==, 1);
  g_assert_cmpint (f->glib_calls, ==, 0);

  g_timeout_add (50, write_later, GINT_TO_POINTER (f->glib[1]));
  wait_for (&f->glib_calls);
  g_assert_cmpint (f->glib_calls, ==, 1);
  g_assert_cmpint (f->direct_calls, ==, 1);

  /* Level-triggered: read, nothing more comes. */
  iterate ();
  g_assert_cmpint (f->direct_calls, ==, 1);
  g_assert_cmpint (f->glib_calls, ==, 1);
}

/* The GLib fd is closed and a new pipe takes its number between two
 * iterations: the set's old entry left with the file, the new one must
 * be registered, not taken for the old. */
static void
test_fd_reused (Fixture *f, gconstpointer data)
{
  int fresh[2];
  int number = f->glib[0];

  g_source_remove (f->glib_id);
  close (f->glib[0]);
  close (f->glib[1]);
  g_assert_cmpint (pipe2 (fresh, O_CLOEXEC | O_NONBLOCK), ==, 0);
  if (fresh[0] != number)
    {
      g_assert_cmpint (dup3 (fresh[0], number, O_CLOEXEC), ==, number);
      close (fresh[0]);
      fresh[0] = number;
    }
  f->glib[0] = fresh[0];
  f->glib[1] = fresh[1];
  f->glib_id = g_unix_fd_add (f->glib[0], G_IO_IN, on_fd, &f->glib_calls);
  g_timeout_add (50, write_later, GINT_TO_POINTER (f->glib[1]));
  wait_for (&f->glib_calls);
  g_assert_cmpint (f->glib_calls, ==, 1);
}

/* A regular file, which epoll refuses and poll() calls always readable. */
static void
test_regular_file (Fixture *f, gconstpointer data)
{
  g_autofree char *path = NULL;
  int calls = 0;
  int fd = g_file_open_tmp ("orch-main-poll-XXXXXX", &path, NULL);
  guint id;

  g_assert_cmpint (fd, >=, 0);
  id = g_unix_fd_add (fd, G_IO_IN, on_fd, &calls);
  wait_for (&calls);
  g_source_remove (id);
  close (fd);
  unlink (path);
  /* The direct watch still works after it. */
  g_timeout_add (50, write_later, GINT_TO_POINTER (f->direct[1]));
  wait_for (&f->direct_calls);
}

/* FALSE from the callback ends the watch. */
static void
test_false_ends (Fixture *f, gconstpointer data)
{
  f->keep = FALSE;
  g_assert_cmpint (write (f->direct[1], "x", 1), ==, 1);
  wait_for (&f->direct_calls);
  g_assert_cmpuint (orch_fd_watch_count (), ==, 0);
  g_assert_cmpint (write (f->direct[1], "x", 1), ==, 1);
  iterate ();
  g_assert_cmpint (f->direct_calls, ==, 1);
  f->direct_id = 0;
}

/* More GLib fds than are mirrored: poll() over all of them and ours,
 * and both kinds are still heard. */
static void
test_many_glib_fds (Fixture *f, gconstpointer data)
{
  enum { MANY = ORCH_FD_WATCH_MAX_MIRRORED + 6 };
  int pipes[MANY][2];
  guint ids[MANY];
  int calls = 0;

  for (int i = 0; i < MANY; i++)
    {
      g_assert_cmpint (pipe2 (pipes[i], O_CLOEXEC | O_NONBLOCK), ==, 0);
      ids[i] = g_unix_fd_add (pipes[i][0], G_IO_IN, on_fd, &calls);
    }
  g_timeout_add (50, write_later, GINT_TO_POINTER (f->direct[1]));
  wait_for (&f->direct_calls);
  g_timeout_add (50, write_later, GINT_TO_POINTER (pipes[MANY - 1][1]));
  wait_for (&calls);
  g_assert_cmpint (calls, ==, 1);
  g_assert_cmpint (f->direct_calls, ==, 1);
  for (int i = 0; i < MANY; i++)
    {
      g_source_remove (ids[i]);
      close (pipes[i][0]);
      close (pipes[i][1]);
    }
  /* Back under the limit: mirrored again. */
  g_timeout_add (50, write_later, GINT_TO_POINTER (f->direct[1]));
  wait_for (&f->direct_calls);
  g_assert_cmpint (f->direct_calls, ==, 2);
}

/* A plain watch is heard in both modes: nested before the consuming
 * watch comes and after it goes, direct while it is there; GLib's fds
 * are heard after the poll function is given back. */
static void
test_modes (Fixture *f, gconstpointer data)
{
  int plain[2], calls = 0;
  guint id;

  orch_fd_watch_remove (f->direct_id);
  f->direct_id = 0;
  g_assert_false (orch_fd_watch_is_direct ());
  g_assert_cmpint (pipe2 (plain, O_CLOEXEC | O_NONBLOCK), ==, 0);
  id = orch_fd_watch_add (plain[0], G_IO_IN, on_fd, &calls);
  g_assert_false (orch_fd_watch_is_direct ());
  g_timeout_add (50, write_later, GINT_TO_POINTER (plain[1]));
  wait_for (&calls);

  f->direct_id = orch_fd_watch_add_full (f->direct[0], G_IO_IN, ORCH_FD_WATCH_POLL_CONSUMES,
                                         on_direct, f);
  g_assert_true (orch_fd_watch_is_direct ());
  g_timeout_add (50, write_later, GINT_TO_POINTER (plain[1]));
  wait_for (&calls);
  g_timeout_add (50, write_later, GINT_TO_POINTER (f->direct[1]));
  wait_for (&f->direct_calls);

  orch_fd_watch_remove (f->direct_id);
  f->direct_id = 0;
  g_assert_false (orch_fd_watch_is_direct ());
  g_timeout_add (50, write_later, GINT_TO_POINTER (plain[1]));
  wait_for (&calls);
  g_timeout_add (50, write_later, GINT_TO_POINTER (f->glib[1]));
  wait_for (&f->glib_calls);
  g_assert_cmpint (calls, ==, 3);
  g_assert_cmpint (f->direct_calls, ==, 1);

  orch_fd_watch_remove (id);
  close (plain[0]);
  close (plain[1]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/main-poll/both-wake", Fixture, NULL, setup, test_both_wake, teardown);
  g_test_add ("/main-poll/fd-reused", Fixture, NULL, setup, test_fd_reused, teardown);
  g_test_add ("/main-poll/regular-file", Fixture, NULL, setup, test_regular_file, teardown);
  g_test_add ("/main-poll/false-ends", Fixture, NULL, setup, test_false_ends, teardown);
  g_test_add ("/main-poll/many-glib-fds", Fixture, NULL, setup, test_many_glib_fds, teardown);
  g_test_add ("/main-poll/modes", Fixture, NULL, setup, test_modes, teardown);
  return g_test_run ();
}
