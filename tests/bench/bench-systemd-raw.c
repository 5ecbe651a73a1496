/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-systemd-raw: the floor PID 1 sets for a launch into a scope (issue
 * 15), measured the way orchestratord's systemd backend launches, with
 * nothing else: one C client on one system-bus connection forks a child
 * that waits on a pipe, asks StartTransientUnit for a scope holding it
 * (the same properties the backend sends), waits for the job's JobRemoved,
 * then lets the child exec `sleep 600`.
 *
 *   round trip   fork -> JobRemoved(result=done), per launch
 *
 * N sequential launches per run, R runs; p50/p95/mean per run, the median
 * over runs; one JSON object on stdout.  Every child is killed at the end
 * of its run (the scopes go with them: CollectMode=inactive-or-failed).
 *
 *   bench-systemd-raw [--jobs=200] [--runs=3]
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sd_bus_message, sd_bus_message_unref)

#define TIMEOUT_US (30ULL * 1000000ULL)

static int opt_jobs = 200;
static int opt_runs = 3;

typedef struct {
  char *job_path; /* the systemd job being waited for */
  gboolean done;
  char *result;
} Wait;

static uint64_t
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
percentile (double *v, int n, double p)
{
  qsort (v, (size_t) n, sizeof *v, cmp_double);
  return v[(int) ((p / 100.0) * (n - 1) + 0.5)];
}

static double
median (double *v, int n)
{
  return percentile (v, n, 50);
}

static int
on_job_removed (sd_bus_message *m, void *data, sd_bus_error *ret_error)
{
  Wait *w = data;
  const char *path, *unit, *result;
  uint32_t id;

  (void) ret_error;
  if (sd_bus_message_read (m, "uoss", &id, &path, &unit, &result) < 0)
    return 0;
  if (w->job_path && strcmp (path, w->job_path) == 0)
    {
      w->done = TRUE;
      g_free (w->result);
      w->result = g_strdup (result);
    }
  return 0;
}

/* One launch: a held child, its scope, JobRemoved; the child then execs.
 * Returns the child's pid (> 0) and the round trip in @ret_ms. */
static pid_t
launch (sd_bus *bus, Wait *w, int n, double *ret_ms)
{
  g_autoptr(sd_bus_message) m = NULL;
  g_autoptr(sd_bus_message) reply = NULL;
  sd_bus_error error = SD_BUS_ERROR_NULL;
  g_autofree char *unit = g_strdup_printf ("bench-raw-%d-%d.scope", getpid (), n);
  const char *job;
  int gate[2];
  uint64_t t0 = now_ns (), deadline;
  pid_t pid;
  int r;

  if (pipe2 (gate, O_CLOEXEC) < 0)
    return -errno;
  pid = fork ();
  if (pid < 0)
    return -errno;
  if (pid == 0)
    {
      char c;
      close (gate[1]);
      if (read (gate[0], &c, 1) != 1)
        _exit (1);
      execlp ("sleep", "sleep", "600", (char *) NULL);
      _exit (127);
    }
  close (gate[0]);
  r = sd_bus_message_new_method_call (bus, &m, "org.freedesktop.systemd1",
                                      "/org/freedesktop/systemd1",
                                      "org.freedesktop.systemd1.Manager", "StartTransientUnit");
  if (r >= 0)
    r = sd_bus_message_append (m, "ss", unit, "fail");
  if (r >= 0)
    r = sd_bus_message_append (m, "a(sv)", 8, "PIDs", "au", 1, (uint32_t) pid, "Description", "s",
                               "bench-systemd-raw", "Slice", "s", "orchestrator.slice",
                               "CollectMode", "s", "inactive-or-failed", "CPUAccounting", "b", 1,
                               "MemoryAccounting", "b", 1, "IOAccounting", "b", 1,
                               "TasksAccounting", "b", 1);
  if (r >= 0)
    r = sd_bus_message_append (m, "a(sa(sv))", 0);
  if (r >= 0)
    r = sd_bus_call (bus, m, TIMEOUT_US, &error, &reply);
  if (r >= 0)
    r = sd_bus_message_read (reply, "o", &job);
  if (r < 0)
    {
      fprintf (stderr, "bench-systemd-raw: StartTransientUnit: %s\n",
               error.message ? error.message : strerror (-r));
      sd_bus_error_free (&error);
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      close (gate[1]);
      return r;
    }
  /* JobRemoved may already be queued behind the reply: the match was in
   * place before the call. */
  g_free (w->job_path);
  w->job_path = g_strdup (job);
  w->done = FALSE;
  deadline = now_ns () + TIMEOUT_US * 1000;
  while (!w->done && now_ns () < deadline)
    {
      r = sd_bus_process (bus, NULL);
      if (r < 0)
        break;
      if (r == 0)
        sd_bus_wait (bus, 100000);
    }
  *ret_ms = (double) (now_ns () - t0) / 1e6;
  if (write (gate[1], "x", 1) != 1)
    r = -EIO;
  close (gate[1]);
  if (!w->done || r < 0 || g_strcmp0 (w->result, "done") != 0)
    {
      fprintf (stderr, "bench-systemd-raw: %s: job %s\n", unit,
               w->done ? w->result : "never finished");
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      return -EIO;
    }
  return pid;
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "jobs", 0, 0, G_OPTION_ARG_INT, &opt_jobs, "Launches per run (200)", "N" },
    { "runs", 0, 0, G_OPTION_ARG_INT, &opt_runs, "Runs (3)", "R" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr(GError) gerror = NULL;
  sd_bus *bus = NULL;
  Wait w = { 0 };
  double p50[64], p95[64], mean[64];
  int failures = 0, r;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &gerror))
    {
      fprintf (stderr, "bench-systemd-raw: %s\n", gerror->message);
      return 2;
    }
  opt_runs = CLAMP (opt_runs, 1, 64);
  opt_jobs = MAX (opt_jobs, 1);
  if ((r = sd_bus_open_system (&bus)) < 0)
    {
      fprintf (stderr, "bench-systemd-raw: system bus: %s\n", strerror (-r));
      return 77;
    }
  r = sd_bus_match_signal (bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                           "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, &w);
  if (r >= 0)
    r = sd_bus_call_method (bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                            "org.freedesktop.systemd1.Manager", "Subscribe", NULL, NULL, "");
  if (r < 0)
    {
      fprintf (stderr, "bench-systemd-raw: cannot watch systemd's jobs: %s\n", strerror (-r));
      return 1;
    }
  for (int run = 0; run < opt_runs; run++)
    {
      g_autofree double *ms = g_new0 (double, opt_jobs);
      g_autofree pid_t *pids = g_new0 (pid_t, opt_jobs);
      double sum = 0;
      int n = 0;

      for (int i = 0; i < opt_jobs; i++)
        {
          pid_t pid = launch (bus, &w, run * opt_jobs + i, &ms[n]);
          if (pid < 0)
            {
              failures++;
              continue;
            }
          pids[n] = pid;
          sum += ms[n++];
        }
      for (int i = 0; i < n; i++)
        kill (pids[i], SIGKILL);
      for (int i = 0; i < n; i++)
        while (waitpid (pids[i], NULL, 0) < 0 && errno == EINTR)
          ;
      if (n == 0)
        {
          fprintf (stderr, "bench-systemd-raw: no launch succeeded\n");
          return 1;
        }
      mean[run] = sum / n;
      p95[run] = percentile (ms, n, 95);
      p50[run] = percentile (ms, n, 50);
      fprintf (stderr, "bench-systemd-raw: run %d: p50 %.3f ms\n", run, p50[run]);
    }
  printf ("{\"peer\":\"raw StartTransientUnit -> JobRemoved, one connection\",\"jobs\":%d,"
          "\"runs\":%d,\"aggregate\":\"median of runs\",\"p50_ms\":%.3f,\"p95_ms\":%.3f,"
          "\"mean_ms\":%.3f,\"failures\":%d}\n",
          opt_jobs, opt_runs, median (p50, opt_runs), median (p95, opt_runs),
          median (mean, opt_runs), failures);
  sd_bus_flush_close_unref (bus);
  g_free (w.job_path);
  g_free (w.result);
  return failures ? 1 : 0;
}
