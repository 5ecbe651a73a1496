/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a job's reading skips: a process that has not run since its last
 * reading (its schedstat run time unchanged) keeps that reading's CPU and
 * threads, its RSS comes from statm on refresh ticks, its io is kept, and
 * its cgroup's cpu.stat is not read.  A /proc and a cgroup of fixture files
 * stand in for the kernel's, rewritten in place between readings (the
 * reader keeps them open). */
#include "core/orch-job-stats.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PID 4242

typedef struct {
  char *root;       /* the fake /proc */
  char *cgroup;     /* a fake cgroup with only cpu.stat, as on a hybrid host */
  guint64 tick_us;  /* one clock tick */
  guint64 page;
} Fixture;

static void
put (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  FILE *f = fopen (path, "w"); /* truncates in place: fds kept open see it */

  g_assert_nonnull (f);
  g_assert_cmpint (fputs (text, f), >=, 0);
  g_assert_cmpint (fclose (f), ==, 0);
}

static void
put_proc (Fixture *fx, const char *name, const char *text)
{
  g_autofree char *dir = g_strdup_printf ("%s/%d", fx->root, PID);
  put (dir, name, text);
}

static void
put_stat (Fixture *fx, guint utime, guint threads, guint rss_pages)
{
  g_autofree char *text = g_strdup_printf (
      "%d (sleep) S 1 %d %d 0 -1 4194304 0 0 0 0 %u 0 0 0 20 0 %u 0 12345 1000000 %u "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
      PID, PID, PID, utime, threads, rss_pages);
  put_proc (fx, "stat", text);
}

static void
put_run_ns (Fixture *fx, guint64 ns)
{
  g_autofree char *text = g_strdup_printf ("%" G_GUINT64_FORMAT " 0 1\n", ns);
  put_proc (fx, "schedstat", text);
}

static void
put_io (Fixture *fx, guint64 read_bytes)
{
  g_autofree char *text = g_strdup_printf ("rchar: 0\nwchar: 0\nsyscr: 0\nsyscw: 0\n"
                                           "read_bytes: %" G_GUINT64_FORMAT "\nwrite_bytes: 0\n"
                                           "cancelled_write_bytes: 0\n", read_bytes);
  put_proc (fx, "io", text);
}

static void
put_statm (Fixture *fx, guint rss_pages)
{
  g_autofree char *text = g_strdup_printf ("250 %u 10 1 0 100 0\n", rss_pages);
  put_proc (fx, "statm", text);
}

static void
put_cpu_stat (Fixture *fx, guint64 usage_usec)
{
  g_autofree char *text = g_strdup_printf ("usage_usec %" G_GUINT64_FORMAT "\nuser_usec 0\n"
                                           "system_usec 0\n", usage_usec);
  put (fx->cgroup, "cpu.stat", text);
}

static void
fixture_set_up (Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;

  fx->root = g_dir_make_tmp ("orch-test-job-stats-XXXXXX", &error);
  g_assert_no_error (error);
  dir = g_strdup_printf ("%s/%d", fx->root, PID);
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  fx->cgroup = g_build_filename (fx->root, "cgroup", NULL);
  g_assert_cmpint (g_mkdir (fx->cgroup, 0700), ==, 0);
  fx->tick_us = G_USEC_PER_SEC / (guint64) sysconf (_SC_CLK_TCK);
  fx->page = (guint64) sysconf (_SC_PAGESIZE);

  put_stat (fx, 10, 1, 50);
  put_run_ns (fx, 1000);
  put_io (fx, 4096);
  put_statm (fx, 50);
  put_cpu_stat (fx, 5000);
}

static void
fixture_tear_down (Fixture *fx, gconstpointer data)
{
  static const char *const files[] = { "stat", "schedstat", "io", "statm" };
  g_autofree char *dir = g_strdup_printf ("%s/%d", fx->root, PID);
  g_autofree char *cpu_stat = g_build_filename (fx->cgroup, "cpu.stat", NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i], NULL);
      g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_assert_cmpint (g_unlink (cpu_stat), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  g_assert_cmpint (g_rmdir (fx->cgroup), ==, 0);
  g_assert_cmpint (g_rmdir (fx->root), ==, 0);
  g_free (fx->cgroup);
  g_free (fx->root);
}

static OrchJobStats
read_stats (Fixture *fx, OrchJobFiles *f, gboolean refresh, gboolean with_pids)
{
  static const pid_t pids[] = { PID };
  char buf[4096];
  OrchJobStats st;

  orch_job_stats_read (f, with_pids ? pids : NULL, with_pids ? 1 : 0, refresh, fx->root, buf,
                       sizeof buf, &st);
  return st;
}

static void
test_quiet_process (Fixture *fx, gconstpointer data)
{
  OrchJobFiles f = { 0 };
  OrchJobStats st;

  orch_job_files_open (&f, NULL);
  st = read_stats (fx, &f, TRUE, TRUE);
  g_assert_cmpint (st.cpu_source, ==, ORCH_SOURCE_PROCFS);
  g_assert_cmpuint (st.cpu_usage_usec, ==, 10 * fx->tick_us);
  g_assert_cmpuint (st.memory_bytes, ==, 50 * fx->page);
  g_assert_cmpuint (st.io_read_bytes, ==, 4096);
  g_assert_cmpuint (st.tasks, ==, 1);

  /* Not run since (schedstat unchanged): stat and io are not read again. */
  put_stat (fx, 20, 1, 60);
  put_io (fx, 8192);
  put_statm (fx, 70);
  st = read_stats (fx, &f, FALSE, TRUE);
  g_assert_cmpuint (st.cpu_usage_usec, ==, 10 * fx->tick_us);
  g_assert_cmpuint (st.memory_bytes, ==, 50 * fx->page);
  /* A refresh reads its RSS, from statm; its io is still the same. */
  st = read_stats (fx, &f, TRUE, TRUE);
  g_assert_cmpuint (st.cpu_usage_usec, ==, 10 * fx->tick_us);
  g_assert_cmpuint (st.memory_bytes, ==, 70 * fx->page);
  g_assert_cmpuint (st.io_read_bytes, ==, 4096);

  /* It ran: everything is read. */
  put_run_ns (fx, 2000);
  st = read_stats (fx, &f, FALSE, TRUE);
  g_assert_cmpuint (st.cpu_usage_usec, ==, 20 * fx->tick_us);
  g_assert_cmpuint (st.memory_bytes, ==, 60 * fx->page);
  st = read_stats (fx, &f, TRUE, TRUE);
  g_assert_cmpuint (st.io_read_bytes, ==, 8192);

  /* schedstat counts one thread: with more, stat is read every tick. */
  put_stat (fx, 30, 2, 60);
  put_run_ns (fx, 3000);
  st = read_stats (fx, &f, FALSE, TRUE);
  g_assert_cmpuint (st.tasks, ==, 2);
  put_stat (fx, 40, 2, 60);
  st = read_stats (fx, &f, FALSE, TRUE);
  g_assert_cmpuint (st.cpu_usage_usec, ==, 40 * fx->tick_us);
  orch_job_files_close (&f);
}

static void
test_quiet_cgroup (Fixture *fx, gconstpointer data)
{
  OrchJobFiles f = { 0 };
  OrchJobStats st;

  orch_job_files_open (&f, fx->cgroup);
  /* Only cpu.stat: the pids are wanted, for memory, io and tasks. */
  g_assert_true (orch_job_files_want_pids (&f));
  st = read_stats (fx, &f, TRUE, TRUE);
  g_assert_cmpint (st.cpu_source, ==, ORCH_SOURCE_CGROUP);
  g_assert_cmpuint (st.cpu_usage_usec, ==, 5000);
  g_assert_cmpint (st.memory_source, ==, ORCH_SOURCE_PROCFS);
  /* The process was new: the set is read again on the next refresh. */
  g_assert_true (orch_job_files_want_pids (&f));
  st = read_stats (fx, &f, TRUE, TRUE);

  /* Nothing in the job ran: cpu.stat cannot have moved, nor the set. */
  put_cpu_stat (fx, 9000);
  st = read_stats (fx, &f, FALSE, FALSE);
  g_assert_cmpuint (st.cpu_usage_usec, ==, 5000);
  g_assert_false (orch_job_files_want_pids (&f));
  st = read_stats (fx, &f, TRUE, FALSE);
  g_assert_cmpuint (st.cpu_usage_usec, ==, 5000);
  /* With the set (read now and then, for a process moved in), it is read. */
  st = read_stats (fx, &f, TRUE, TRUE);
  g_assert_cmpuint (st.cpu_usage_usec, ==, 9000);

  /* It ran (it may have forked): cpu.stat on every tick until the set is
   * read again. */
  put_cpu_stat (fx, 12000);
  put_run_ns (fx, 2000);
  st = read_stats (fx, &f, FALSE, FALSE);
  g_assert_cmpuint (st.cpu_usage_usec, ==, 12000);
  put_cpu_stat (fx, 13000);
  st = read_stats (fx, &f, FALSE, FALSE);
  g_assert_cmpuint (st.cpu_usage_usec, ==, 13000);
  g_assert_true (orch_job_files_want_pids (&f));
  orch_job_files_close (&f);
}

/* Nothing under the job's parent ran (orch_job_stats_read_idle): the last
 * figures stand, but for memory on a refresh tick, from statm only. */
static void
test_idle_tree (Fixture *fx, gconstpointer data)
{
  OrchJobFiles f = { 0 };
  OrchJobStats last, st;
  char buf[4096];

  orch_job_files_open (&f, NULL);
  last = read_stats (fx, &f, TRUE, TRUE);
  g_assert_cmpuint (last.memory_bytes, ==, 50 * fx->page);
  /* What the files say now is not read on a tick that is not a refresh. */
  put_stat (fx, 20, 3, 60);
  put_io (fx, 8192);
  put_statm (fx, 70);
  orch_job_stats_read_idle (&f, &last, FALSE, buf, sizeof buf, &st);
  g_assert_cmpuint (st.cpu_usage_usec, ==, 10 * fx->tick_us);
  g_assert_cmpuint (st.memory_bytes, ==, 50 * fx->page);
  g_assert_cmpuint (st.io_read_bytes, ==, 4096);
  g_assert_cmpuint (st.tasks, ==, 1);
  /* A refresh reads the memory (reclaim moves it without the job running),
   * and nothing else; in place, as the sampler calls it. */
  orch_job_stats_read_idle (&f, &last, TRUE, buf, sizeof buf, &last);
  g_assert_cmpint (last.memory_source, ==, ORCH_SOURCE_PROCFS);
  g_assert_cmpuint (last.memory_bytes, ==, 70 * fx->page);
  g_assert_cmpuint (last.cpu_usage_usec, ==, 10 * fx->tick_us);
  g_assert_cmpuint (last.io_read_bytes, ==, 4096);
  g_assert_cmpuint (last.tasks, ==, 1);
  /* A full reading afterwards sees what changed. */
  put_run_ns (fx, 5000);
  st = read_stats (fx, &f, TRUE, TRUE);
  g_assert_cmpuint (st.cpu_usage_usec, ==, 20 * fx->tick_us);
  g_assert_cmpuint (st.tasks, ==, 3);
  g_assert_cmpuint (st.io_read_bytes, ==, 8192);
  orch_job_files_close (&f);
}

static guint
open_fds (void)
{
  g_autoptr(GDir) d = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (d);
  while (g_dir_read_name (d))
    n++;
  return n;
}

/* Released (fds short): no fd stays open between readings, yet what was
 * read is kept: a process that has not run costs its schedstat alone,
 * opened and closed, and the tick count goes on (no full read each time). */
static void
test_released (Fixture *fx, gconstpointer data)
{
  OrchJobFiles f = { 0 };
  OrchJobStats st;
  guint base = open_fds (), ticks;

  orch_job_files_open (&f, NULL);
  st = read_stats (fx, &f, TRUE, TRUE);
  g_assert_cmpuint (st.cpu_usage_usec, ==, 10 * fx->tick_us);
  g_assert_cmpuint (open_fds (), ==, base + 4);
  (void) orch_job_files_tick (&f);
  ticks = f.ticks;

  orch_job_files_release (&f);
  g_assert_cmpuint (open_fds (), ==, base);
  g_assert_true (f.released);
  g_assert_cmpuint (orch_job_files_count (&f), ==, 4); /* what it holds cached */

  /* Not run since: stat is not opened, only schedstat, and the figures
   * are the last ones. */
  put_stat (fx, 20, 1, 60);
  orch_job_files_open (&f, NULL);
  g_assert_cmpuint (f.ticks, ==, ticks);
  st = read_stats (fx, &f, FALSE, FALSE);
  g_assert_cmpuint (st.cpu_usage_usec, ==, 10 * fx->tick_us);
  g_assert_cmpuint (st.memory_bytes, ==, 50 * fx->page);
  g_assert_cmpuint (open_fds (), ==, base + 1);
  orch_job_files_release (&f);
  g_assert_cmpuint (open_fds (), ==, base);

  /* It ran: stat is opened and read, with the same pid set given. */
  put_run_ns (fx, 2000);
  orch_job_files_open (&f, NULL);
  st = read_stats (fx, &f, FALSE, TRUE);
  g_assert_cmpuint (st.cpu_usage_usec, ==, 20 * fx->tick_us);
  g_assert_cmpuint (st.memory_bytes, ==, 60 * fx->page);
  g_assert_cmpuint (open_fds (), ==, base + 2);
  orch_job_files_release (&f);

  /* A full close forgets it all: the next open is a new run's. */
  orch_job_files_close (&f);
  g_assert_false (f.released);
  orch_job_files_open (&f, NULL);
  g_assert_cmpuint (f.ticks, ==, 0);
  orch_job_files_close (&f);
  g_assert_cmpuint (open_fds (), ==, base);
}

/* orch_job_files_count() is kept, not counted on every call: it follows
 * each open and close all the same, a pid's file that fails to open
 * included, and says what released files would hold. */
static void
test_count (Fixture *fx, gconstpointer data)
{
  OrchJobFiles f = { 0 };
  g_autofree char *io = g_strdup_printf ("%s/%d/io", fx->root, PID);
  guint base = open_fds ();

  orch_job_files_open (&f, fx->cgroup);
  g_assert_cmpuint (orch_job_files_count (&f), ==, 2); /* the directory, cpu.stat */
  g_assert_cmpuint (open_fds (), ==, base + 2);
  (void) read_stats (fx, &f, TRUE, TRUE);
  g_assert_cmpuint (orch_job_files_count (&f), ==, 6);
  g_assert_cmpuint (open_fds (), ==, base + 6);
  g_assert_cmpuint (orch_job_files_count (&f), ==, 6);

  orch_job_files_release (&f);
  g_assert_cmpuint (open_fds (), ==, base);
  g_assert_cmpuint (orch_job_files_count (&f), ==, 6);

  /* It ran, and its io is no longer readable: reopened, that file is not
   * held any more; statm, not read (it ran: stat tells), is not open yet
   * but counts as held. */
  g_assert_cmpint (g_unlink (io), ==, 0);
  put_run_ns (fx, 3000);
  orch_job_files_open (&f, fx->cgroup);
  g_assert_cmpuint (orch_job_files_count (&f), ==, 6);
  (void) read_stats (fx, &f, TRUE, FALSE);
  g_assert_cmpuint (open_fds (), ==, base + 4);
  g_assert_cmpuint (orch_job_files_count (&f), ==, 5);

  /* The pid set emptied: its files closed. */
  orch_job_stats_read (&f, (const pid_t[]){ 0 }, 0, TRUE, fx->root, (char[4096]){ 0 }, 4096,
                       &(OrchJobStats){ 0 });
  g_assert_cmpuint (open_fds (), ==, base + 2);
  g_assert_cmpuint (orch_job_files_count (&f), ==, 2);

  orch_job_files_close (&f);
  g_assert_cmpuint (orch_job_files_count (&f), ==, 0);
  g_assert_cmpuint (open_fds (), ==, base);
  put_io (fx, 4096);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/job-stats/quiet-process", Fixture, NULL, fixture_set_up, test_quiet_process,
              fixture_tear_down);
  g_test_add ("/job-stats/quiet-cgroup", Fixture, NULL, fixture_set_up, test_quiet_cgroup,
              fixture_tear_down);
  g_test_add ("/job-stats/idle-tree", Fixture, NULL, fixture_set_up, test_idle_tree,
              fixture_tear_down);
  g_test_add ("/job-stats/count", Fixture, NULL, fixture_set_up, test_count, fixture_tear_down);
  g_test_add ("/job-stats/released", Fixture, NULL, fixture_set_up, test_released,
              fixture_tear_down);
  return g_test_run ();
}
