/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/orch-error.h"
#include "basic/orch-fd-budget.h"

#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* The lowest free fd: every fd below it is taken (the tests fill up to the
 * limit from there). */
static int
lowest_free (void)
{
  int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  close (fd);
  return fd;
}

/* Sets the soft limit so that exactly @n fds are free above the ones held
 * now (which sit below the lowest free one, as the tests take none out of
 * order); returns the old limit. */
static struct rlimit
limit_free_to (guint n)
{
  struct rlimit old, rl;

  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &old), ==, 0);
  rl = old;
  rl.rlim_cur = (rlim_t) lowest_free () + n;
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &rl), ==, 0);
  return old;
}

/* A cache of open /dev/null fds that gives them back when asked. */
typedef struct {
  GArray *fds;
  guint asked;
} FakeCache;

static guint
fake_give_back (guint want, gpointer data)
{
  FakeCache *c = data;
  guint given = 0;

  c->asked++;
  while (given < want && c->fds->len > 0)
    {
      close (g_array_index (c->fds, int, c->fds->len - 1));
      g_array_set_size (c->fds, c->fds->len - 1);
      given++;
    }
  return given;
}

/* Takes every free fd; returns them, to be closed. */
static GArray *
take_all (void)
{
  GArray *taken = g_array_new (FALSE, FALSE, sizeof (int));
  int fd;

  while ((fd = open ("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
    g_array_append_val (taken, fd);
  return taken;
}

static void
close_all (GArray *fds)
{
  for (guint i = 0; i < fds->len; i++)
    close (g_array_index (fds, int, i));
  g_array_unref (fds);
}

static void
test_cache_cap (void)
{
  guint64 fixed = ORCH_FD_HEADROOM + ORCH_FD_RESERVE + 1 + ORCH_FD_BASE;

  g_assert_cmpuint (orch_fd_budget_cache_cap (0), ==, 0);
  g_assert_cmpuint (orch_fd_budget_cache_cap (fixed), ==, 0);
  g_assert_cmpuint (orch_fd_budget_cache_cap (128), ==, (128 - fixed) / 2);
  g_assert_cmpuint (orch_fd_budget_cache_cap (1024), ==, (1024 - fixed) / 2);
  g_assert_cmpuint (orch_fd_budget_cache_cap (G_MAXUINT64), >, G_MAXUINT32);
}

/* Far from the limit the estimate is trusted; near it, fds are tried. */
static void
test_far_from_limit (void)
{
  g_assert_true (orch_fd_budget_far_from_limit (524288, 2000, 40));
  g_assert_true (orch_fd_budget_far_from_limit (1024, 1024 - 40 - ORCH_FD_SLACK, 40));
  g_assert_false (orch_fd_budget_far_from_limit (1024, 1024 - 40 - ORCH_FD_SLACK + 1, 40));
  g_assert_false (orch_fd_budget_far_from_limit (128, 30, 40));
  /* Holding more than the limit (lowered under the daemon). */
  g_assert_false (orch_fd_budget_far_from_limit (64, 100, 1));
  /* A huge limit: the estimate alone, never a probe. */
  g_assert_true (orch_fd_budget_room_for (40, 100, FALSE));
}

static void
test_has_free (void)
{
  struct rlimit old;

  g_assert_cmpuint (orch_fd_budget_reserve_held (), ==, ORCH_FD_RESERVE);
  old = limit_free_to (10);
  g_assert_cmpuint (orch_fd_budget_limit (), ==, (guint64) lowest_free () + 10);
  g_assert_true (orch_fd_budget_has_free (10));
  g_assert_false (orch_fd_budget_has_free (11));
  /* The probe gave back what it took. */
  g_assert_true (orch_fd_budget_has_free (10));
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &old), ==, 0);
}

static void
test_launch_refused (void)
{
  g_autoptr(GError) error = NULL;
  struct rlimit old = limit_free_to (ORCH_FD_LAUNCH + ORCH_FD_HEADROOM - 1);

  g_assert_false (orch_fd_budget_check_launch (0, &error));
  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_LIMIT_REACHED);
  g_assert_nonnull (strstr (error->message, "too few file descriptors left"));
  g_assert_nonnull (strstr (error->message, "RLIMIT_NOFILE"));
  g_clear_error (&error);

  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &old), ==, 0);
  old = limit_free_to (ORCH_FD_LAUNCH + ORCH_FD_HEADROOM);
  g_assert_true (orch_fd_budget_check_launch (0, &error));
  g_assert_no_error (error);
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &old), ==, 0);
}

/* What a job holds is learned from the fds counted: with jobs that hold
 * 25 each, an estimate of one a job says "far from the limit" while only
 * 10 fds are free, and a launch would fail on EMFILE; calibrated, the
 * estimate is near, the fds are counted, and the answer is no. */
static void
test_calibrate (void)
{
  int fds[200];
  struct rlimit old;

  g_assert_cmpuint (orch_fd_budget_per_job_from (100, 40, 10, 0), ==, ORCH_FD_PER_JOB);
  g_assert_cmpuint (orch_fd_budget_per_job_from (40, 40, 10, 5), ==, ORCH_FD_PER_JOB);
  g_assert_cmpuint (orch_fd_budget_per_job_from (100, 40, 10, 10), ==, 5);
  g_assert_cmpuint (orch_fd_budget_per_job_from (101, 40, 10, 10), ==, 6); /* rounded up */

  orch_fd_budget_calibrate (8);
  g_assert_cmpuint (orch_fd_budget_per_job (), ==, ORCH_FD_PER_JOB);
  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    g_assert_cmpint ((fds[i] = open ("/dev/null", O_RDONLY | O_CLOEXEC)), >=, 0);
  old = limit_free_to (10);
  g_assert_true (orch_fd_budget_room_for (20, 8, FALSE)); /* the estimate, wrong */
  orch_fd_budget_calibrate (8);
  g_assert_cmpuint (orch_fd_budget_per_job (), >=, G_N_ELEMENTS (fds) / 8);
  g_assert_false (orch_fd_budget_room_for (20, 8, FALSE));
  g_assert_true (orch_fd_budget_room_for (10, 8, FALSE));
  /* The cache gets half of what the jobs leave, not half of the limit. */
  g_assert_cmpuint (orch_fd_budget_cache_cap_jobs (10000, 0), ==, orch_fd_budget_cache_cap (10000));
  g_assert_cmpuint (orch_fd_budget_cache_cap_jobs (10000, 8), <,
                    orch_fd_budget_cache_cap (10000) - 8 * orch_fd_budget_per_job () / 2 + 1);
  g_assert_cmpuint (orch_fd_budget_cache_cap_jobs (10000, 10000), ==, 0);
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &old), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    close (fds[i]);
  orch_fd_budget_calibrate (0);
  g_assert_cmpuint (orch_fd_budget_per_job (), ==, ORCH_FD_PER_JOB);
}

/* Fds their owners report as watched are in the estimate at once, with
 * no count of the open fds: 200 of them leave 10 free, and the estimate
 * says so. */
static void
test_watched (void)
{
  int fds[200];
  struct rlimit old;

  orch_fd_budget_calibrate (0);
  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    g_assert_cmpint ((fds[i] = open ("/dev/null", O_RDONLY | O_CLOEXEC)), >=, 0);
  orch_fd_budget_watched_add (G_N_ELEMENTS (fds));
  g_assert_cmpuint (orch_fd_budget_watched (), ==, G_N_ELEMENTS (fds));
  old = limit_free_to (10);
  g_assert_false (orch_fd_budget_room_for (20, 8, FALSE));
  g_assert_true (orch_fd_budget_room_for (10, 8, FALSE));
  /* The cache's share shrinks by them too. */
  g_assert_cmpuint (orch_fd_budget_cache_cap_jobs (10000, 8), ==,
                    orch_fd_budget_cache_cap (10000) -
                        (8 * ORCH_FD_PER_JOB + G_N_ELEMENTS (fds)) / 2);
  /* Calibrated, a job is not counted their share again. */
  orch_fd_budget_calibrate (8);
  g_assert_cmpuint (orch_fd_budget_per_job (), <, 4);
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &old), ==, 0);
  orch_fd_budget_watched_add (-(gint) G_N_ELEMENTS (fds));
  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    close (fds[i]);
  orch_fd_budget_calibrate (0);
  g_assert_cmpuint (orch_fd_budget_watched (), ==, 0);
}

/* Short of fds, a launch check and make_room take them from the caches. */
static void
test_caches_give_back (void)
{
  FakeCache c = { g_array_new (FALSE, FALSE, sizeof (int)), 0 };
  g_autoptr(GError) error = NULL;
  struct rlimit old;

  orch_fd_budget_add_cache (fake_give_back, &c);
  old = limit_free_to (ORCH_FD_LAUNCH + ORCH_FD_HEADROOM + 5);
  for (int i = 0; i < 20; i++)
    {
      int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      g_assert_cmpint (fd, >=, 0);
      g_array_append_val (c.fds, fd);
    }
  /* 25 free: short of 40, until the cache gives back. */
  g_assert_true (orch_fd_budget_check_launch (0, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (c.asked, ==, 1);
  g_assert_cmpuint (c.fds->len, <, 20);
  /* Plenty: the cache is not asked. */
  g_assert_true (orch_fd_budget_make_room (ORCH_FD_STOP));
  g_assert_cmpuint (c.asked, ==, 1);
  g_assert_cmpuint (orch_fd_budget_reserve_held (), ==, ORCH_FD_RESERVE);

  orch_fd_budget_remove_cache (fake_give_back, &c);
  for (guint i = 0; i < c.fds->len; i++)
    close (g_array_index (c.fds, int, i));
  g_array_unref (c.fds);
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &old), ==, 0);
}

/* Not one fd free and nothing to give back: the reserve is released for
 * the stop and exit paths, then retaken once there is room. */
static void
test_reserve (void)
{
  struct rlimit old = limit_free_to (ORCH_FD_HEADROOM + ORCH_FD_RESERVE + 4);
  GArray *taken = take_all ();

  g_assert_false (orch_fd_budget_has_free (1));
  g_assert_true (orch_fd_budget_make_room (ORCH_FD_STOP));
  g_assert_cmpuint (orch_fd_budget_reserve_held (), ==, 0);
  /* No room for it yet: maintain leaves it out, never the headroom. */
  orch_fd_budget_maintain ();
  g_assert_cmpuint (orch_fd_budget_reserve_held (), ==, 0);

  close_all (taken);
  orch_fd_budget_maintain ();
  g_assert_cmpuint (orch_fd_budget_reserve_held (), ==, ORCH_FD_RESERVE);
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &old), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/fd-budget/cache-cap", test_cache_cap);
  g_test_add_func ("/fd-budget/calibrate", test_calibrate);
  g_test_add_func ("/fd-budget/watched", test_watched);
  g_test_add_func ("/fd-budget/far-from-limit", test_far_from_limit);
  g_test_add_func ("/fd-budget/has-free", test_has_free);
  g_test_add_func ("/fd-budget/launch-refused", test_launch_refused);
  g_test_add_func ("/fd-budget/caches-give-back", test_caches_give_back);
  g_test_add_func ("/fd-budget/reserve", test_reserve);
  return g_test_run ();
}
