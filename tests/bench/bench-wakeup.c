/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-wakeup: the floor under a sampling tick, measured the way
 * bench-sample measures the daemon (schedstat CPU time per tick).  Not a
 * test.
 *
 *   bench-wakeup [--interval-ms=1000] [--windows=3] [--window-ticks=8]
 *
 * Two children, side by side, each waking every --interval-ms from
 * poll() as a main loop does:
 *   "bare":   wakes and goes back to sleep;
 *   "system": wakes and reads what an idle tick must (the contract's
 *             system figures, DESIGN "Metrics sources"): /proc/stat,
 *             meminfo, loadavg, net/dev, diskstats, the three PSI files
 *             (fds kept open, one pread each) and fstatvfs of "/".
 * Their CPU per tick (schedstat run time delta / ticks, median of the
 * windows) is what no sampler on this machine can go below.  On a
 * paravirtualised VM a wakeup after a long sleep costs far more than
 * after a short one, so measure at the interval users run.
 *
 * Then one syscall's cost, hot (getppid, and a pread of /proc/loadavg,
 * 20 000 back to back): what each syscall a tick makes costs at least.
 *
 * Prints one JSON object on stdout.
 */
#include "bench-proc.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_WINDOWS 32

static const char *const system_files[] = {
  "/proc/stat",      "/proc/meminfo",      "/proc/loadavg",         "/proc/net/dev",
  "/proc/diskstats", "/proc/pressure/cpu", "/proc/pressure/memory", "/proc/pressure/io",
};

static uint64_t
self_run_ns (void)
{
  char buf[128];
  int fd = open ("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0)
    return 0;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  return strtoull (buf, NULL, 10);
}

/* One child's loop; writes its per-window figures (µs per tick) to @out. */
static void
run (gboolean system, int interval_ms, int windows, int ticks, int out)
{
  int fds[G_N_ELEMENTS (system_files)];
  int root = open ("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  static char buf[16384];
  double us[MAX_WINDOWS];
  struct pollfd none = { .fd = -1 };

  for (gsize i = 0; i < G_N_ELEMENTS (system_files); i++)
    fds[i] = open (system_files[i], O_RDONLY | O_CLOEXEC);
  /* A first tick, so the windows start just after a wakeup. */
  (void) poll (&none, 1, interval_ms);
  for (int w = 0; w < windows; w++)
    {
      uint64_t t0 = self_run_ns ();
      for (int t = 0; t < ticks; t++)
        {
          (void) poll (&none, 1, interval_ms);
          if (!system)
            continue;
          for (gsize i = 0; i < G_N_ELEMENTS (fds); i++)
            if (fds[i] >= 0)
              (void) pread (fds[i], buf, sizeof buf, 0);
          if (root >= 0)
            {
              struct statvfs v;
              (void) fstatvfs (root, &v);
            }
        }
      us[w] = (double) (self_run_ns () - t0) / 1e3 / ticks;
    }
  if (write (out, us, sizeof (double) * (size_t) windows) < 0)
    _exit (1);
  _exit (0);
}

/* One syscall, hot (back to back, N times), in µs of CPU: getppid, the
 * cheapest, and a pread of /proc/loadavg, the smallest system file. */
static void
syscall_costs (double *getppid_us, double *pread_us)
{
  enum { N = 20000 };
  char buf[256];
  int fd = open ("/proc/loadavg", O_RDONLY | O_CLOEXEC);
  uint64_t t0 = self_run_ns ();

  for (int i = 0; i < N; i++)
    (void) syscall (SYS_getppid);
  *getppid_us = (double) (self_run_ns () - t0) / 1e3 / N;
  t0 = self_run_ns ();
  for (int i = 0; fd >= 0 && i < N; i++)
    (void) pread (fd, buf, sizeof buf, 0);
  *pread_us = fd >= 0 ? (double) (self_run_ns () - t0) / 1e3 / N : -1;
  if (fd >= 0)
    close (fd);
}

static double
median (double *v, int n)
{
  qsort (v, (size_t) n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
main (int argc, char **argv)
{
  int interval_ms = 1000, windows = 3, ticks = 8;
  const char *names[2] = { "bare", "system" };
  int pipes[2][2];
  pid_t pids[2];

  for (int i = 1; i < argc; i++)
    {
      if (g_str_has_prefix (argv[i], "--interval-ms="))
        interval_ms = atoi (argv[i] + 14);
      else if (g_str_has_prefix (argv[i], "--windows="))
        windows = atoi (argv[i] + 10);
      else if (g_str_has_prefix (argv[i], "--window-ticks="))
        ticks = atoi (argv[i] + 15);
      else
        {
          fprintf (stderr, "usage: %s [--interval-ms=N] [--windows=N] [--window-ticks=N]\n",
                   argv[0]);
          return 2;
        }
    }
  if (interval_ms < 1 || windows < 1 || windows > MAX_WINDOWS || ticks < 1)
    {
      fprintf (stderr, "bench-wakeup: bad arguments\n");
      return 2;
    }
  for (int k = 0; k < 2; k++)
    {
      if (pipe (pipes[k]) < 0 || (pids[k] = fork ()) < 0)
        return 1;
      if (pids[k] == 0)
        {
          close (pipes[k][0]);
          run (k == 1, interval_ms, windows, ticks, pipes[k][1]);
        }
      close (pipes[k][1]);
    }
  printf ("{\"interval_ms\":%d,\"windows\":%d,\"window_ticks\":%d", interval_ms, windows, ticks);
  for (int k = 0; k < 2; k++)
    {
      double us[MAX_WINDOWS];
      ssize_t n = read (pipes[k][0], us, sizeof (double) * (size_t) windows);
      int status = 0;

      (void) waitpid (pids[k], &status, 0);
      if (n != (ssize_t) (sizeof (double) * (size_t) windows))
        {
          printf (",\"%s\":null", names[k]);
          continue;
        }
      printf (",\"%s_us_per_tick_windows\":[", names[k]);
      for (int w = 0; w < windows; w++)
        printf ("%s%.1f", w ? "," : "", us[w]);
      printf ("],\"%s_us_per_tick\":%.1f", names[k], median (us, windows));
    }
  {
    double g, r;
    syscall_costs (&g, &r);
    printf (",\"getppid_us\":%.2f,\"pread_loadavg_us\":%.2f", g, r);
  }
  printf (
      ",\"method\":\"two children waking from poll() every interval_ms (bare; and "
      "reading the 8 system /proc files with pread plus fstatvfs /), CPU = "
      "/proc/thread-self/schedstat run time per tick, median of windows; getppid_us and pread_loadavg_us: one syscall back to back, 20000 times, after the windows\"}\n");
  return 0;
}
