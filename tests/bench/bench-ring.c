/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-ring: what the metrics history costs, the compressed ring
 * (orch-ring.c) against the plain one it replaced (tests/unit/ring-plain.c)
 * in the same run.  Not a test.
 *
 *   bench-ring [--jobs=200] [--runs=3] [--real-seconds=30]
 *
 * 1. Real figures: every --real-seconds, --jobs live processes of this
 *    machine are sampled at 1 s the way the sampler samples a job (CPU %
 *    from utime+stime, RSS bytes, /proc/PID/io read/write bytes or NaN,
 *    threads), timestamps from g_get_real_time() after a 1 s sleep; bytes
 *    a sample of the compressed fine tier.
 * 2. Full history, prefilled: --jobs job rings at the daemon's defaults
 *    (5 series, 300 fine, 288 coarse buckets of 300 s) and the system ring
 *    (13 series, 3600 fine, 1440 buckets of 60 s), pushed 24 h of samples
 *    at 1 s on a simulated clock (no waiting), so both tiers are full and
 *    wrapped.  A sleeping job: CPU 0 but a rare blip, constant memory and
 *    IO, one task; times with the jitter measured in 1.  Each run in a
 *    fresh child: heap growth (mallinfo2) and RSS growth.
 * 3. CPU of reading a job's whole history (orch_ring_query, step 0: what
 *    GetJobHistory does before marshalling), per query.
 *
 * Median of --runs for 2 and 3.  One JSON object on stdout.
 */
#include "basic/orch-ring.h"
#include "../unit/ring-plain.h"

#include <glib.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define JOB_N 5
#define SYS_N 13

static double
cpu_us (void)
{
  struct rusage r;

  getrusage (RUSAGE_SELF, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
}

static long
rss_kb (void)
{
  g_autofree char *s = NULL;
  const char *p;

  if (!g_file_get_contents ("/proc/self/status", &s, NULL, NULL) ||
      (p = strstr (s, "VmRSS:")) == NULL)
    return -1;
  return strtol (p + 6, NULL, 10);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *v, guint n)
{
  qsort (v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---------------------------------------------------------- 1. real data */

typedef struct {
  int pid;
  guint64 cpu_ticks;
  gint64 t;
} Proc;

static gboolean
read_proc (int pid, guint64 *ticks, double *v)
{
  g_autofree char *stat = NULL, *io = NULL, *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *io_path = g_strdup_printf ("/proc/%d/io", pid);
  const char *p;
  unsigned long ut, st;
  long threads, rss;

  if (!g_file_get_contents (path, &stat, NULL, NULL) || (p = strrchr (stat, ')')) == NULL)
    return FALSE;
  /* after ") ": state(3) ... utime(14) stime(15) ... num_threads(20) ... rss(24) */
  if (sscanf (
          p + 2,
          "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %ld %*d %*u %*u %ld",
          &ut, &st, &threads, &rss) != 4)
    return FALSE;
  *ticks = ut + st;
  v[1] = (double) rss * (double) sysconf (_SC_PAGESIZE);
  v[2] = v[3] = NAN;
  if (g_file_get_contents (io_path, &io, NULL, NULL))
    {
      const char *r = strstr (io, "read_bytes:"), *w = strstr (io, "\nwrite_bytes:");

      if (r != NULL && w != NULL)
        {
          v[2] = g_ascii_strtod (r + 11, NULL);
          v[3] = g_ascii_strtod (w + 13, NULL);
        }
    }
  v[4] = (double) threads;
  return TRUE;
}

static void
real_data (guint jobs, guint seconds, GArray *jitter, double *bytes_per_sample, guint *n_procs)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc", 0, NULL);
  g_autoptr(GArray) procs = g_array_new (FALSE, TRUE, sizeof (Proc));
  g_autofree OrchRing **rings = NULL;
  const char *name;
  double hz = (double) sysconf (_SC_CLK_TCK);
  gint64 last = 0;
  gsize before = 0, after = 0;
  guint64 samples = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL && procs->len < jobs)
    if (g_ascii_isdigit (name[0]))
      {
        Proc p = { atoi (name), 0, 0 };
        g_array_append_val (procs, p);
      }
  rings = g_new0 (OrchRing *, procs->len);
  for (guint i = 0; i < procs->len; i++)
    {
      rings[i] = orch_ring_new (JOB_N, 300, 0, 0);
      before += orch_ring_bytes (rings[i]);
    }
  for (guint s = 0; s <= seconds; s++)
    {
      gint64 now;

      g_usleep (G_USEC_PER_SEC);
      now = g_get_real_time ();
      if (last > 0)
        {
          double d = (double) (now - last) - 1e6;
          g_array_append_val (jitter, d);
        }
      last = now;
      for (guint i = 0; i < procs->len; i++)
        {
          Proc *p = &g_array_index (procs, Proc, i);
          double v[JOB_N];
          guint64 ticks;
          gint64 t = g_get_real_time ();

          if (!read_proc (p->pid, &ticks, v))
            continue;
          v[0] = p->t > 0 && t > p->t
                     ? 100.0 * (double) (ticks - p->cpu_ticks) / hz * 1e6 / (double) (t - p->t)
                     : 0;
          p->cpu_ticks = ticks;
          p->t = t;
          orch_ring_push (rings[i], t, v);
          samples++;
        }
    }
  for (guint i = 0; i < procs->len; i++)
    {
      after += orch_ring_bytes (rings[i]);
      orch_ring_free (rings[i]);
    }
  *bytes_per_sample = samples > 0 ? (double) (after - before) / (double) samples : NAN;
  *n_procs = procs->len;
}

/* ------------------------------------------------------ 2. full history */

typedef struct {
  gboolean plain;
  guint jobs;
  const double *jitter;
  guint n_jitter;
} Fill;

static gpointer
ring_new (gboolean plain, guint n, guint fine, guint coarse, guint step)
{
  return plain ? (gpointer) orch_ring_plain_new (n, fine, coarse, step)
               : (gpointer) orch_ring_new (n, fine, coarse, step);
}

static void
ring_push (gboolean plain, gpointer r, gint64 t, const double *v)
{
  if (plain)
    orch_ring_plain_push (r, t, v);
  else
    orch_ring_push (r, t, v);
}

static guint
ring_query (gboolean plain, gpointer r, GArray *times, GArray *values)
{
  g_array_set_size (times, 0);
  g_array_set_size (values, 0);
  return plain ? orch_ring_plain_query (r, 0, 0, 0, times, values)
               : orch_ring_query (r, 0, 0, 0, times, values);
}

/* In a child: fills, then writes heap bytes, RSS bytes, query CPU µs and
 * rows per query to @fd. */
static void
fill_child (const Fill *f, int fd)
{
  struct mallinfo2 m0, m1;
  long rss0, rss1;
  gpointer *jobs = g_new0 (gpointer, f->jobs);
  gpointer sys;
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  g_autoptr(GArray) times = g_array_sized_new (FALSE, FALSE, sizeof (gint64), 4096);
  g_autoptr(GArray) values = g_array_sized_new (FALSE, FALSE, sizeof (double), 4096 * JOB_N);
  gint64 t0 = 1795816800LL * G_USEC_PER_SEC;
  double out[4], c0;
  guint rows = 0, queries = 0;

  malloc_trim (0);
  m0 = mallinfo2 ();
  rss0 = rss_kb ();
  for (guint i = 0; i < f->jobs; i++)
    jobs[i] = ring_new (f->plain, JOB_N, 300, 288, 300);
  sys = ring_new (f->plain, SYS_N, 3600, 1440, 60);

  /* 24 h and a bit: both tiers full and wrapped */
  for (guint s = 0; s < 90000; s++)
    {
      double sv[SYS_N];

      for (guint i = 0; i < f->jobs; i++)
        {
          gint64 t = t0 + (gint64) s * G_USEC_PER_SEC + (gint64) i * 15 +
                     (gint64) f->jitter[g_rand_int_range (rand, 0, f->n_jitter)];
          double v[JOB_N] = { g_rand_int_range (rand, 0, 600) == 0 ? 0.01 : 0.0,
                              (double) (405504 + 4096 * (i % 7)), 0.0, 0.0, 1.0 };

          ring_push (f->plain, jobs[i], t, v);
        }
      /* the system figures move every sample, randomly: the worst case */
      for (guint j = 0; j < SYS_N; j++)
        sv[j] = j < 4 ? g_rand_double_range (rand, 0, 100)
                      : (double) (guint64) g_rand_double_range (rand, 1e6, 1e10);
      ring_push (f->plain, sys, t0 + (gint64) s * G_USEC_PER_SEC, sv);
    }
  m1 = mallinfo2 ();
  rss1 = rss_kb ();

  c0 = cpu_us ();
  for (guint k = 0; k < 5; k++)
    for (guint i = 0; i < f->jobs; i++, queries++)
      rows = ring_query (f->plain, jobs[i], times, values);
  out[2] = (cpu_us () - c0) / queries;
  /* mmapped blocks too: the plain system ring is one */
  out[0] = (double) (m1.uordblks + m1.hblkhd) - (double) (m0.uordblks + m0.hblkhd);
  out[1] = (double) (rss1 - rss0) * 1024;
  out[3] = rows;
  if (write (fd, out, sizeof out) != sizeof out)
    _exit (1);
  _exit (0);
}

static gboolean
fill_run (const Fill *f, double out[4])
{
  int fds[2], status;
  pid_t pid;
  gboolean ok;

  if (pipe (fds) < 0)
    return FALSE;
  pid = fork ();
  if (pid == 0)
    {
      close (fds[0]);
      fill_child (f, fds[1]);
    }
  close (fds[1]);
  ok = pid > 0 && read (fds[0], out, 4 * sizeof (double)) == 4 * sizeof (double);
  close (fds[0]);
  if (pid > 0)
    waitpid (pid, &status, 0);
  return ok;
}

int
main (int argc, char **argv)
{
  gint jobs = 200, runs = 3, real_seconds = 30;
  GOptionEntry entries[] = { { "jobs", 0, 0, G_OPTION_ARG_INT, &jobs, "jobs", "N" },
                             { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "runs", "N" },
                             { "real-seconds", 0, 0, G_OPTION_ARG_INT, &real_seconds,
                               "seconds of real sampling", "S" },
                             G_OPTION_ENTRY_NULL };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- history ring memory");
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) jitter = g_array_new (FALSE, FALSE, sizeof (double));
  double real_bps = NAN, m[2][4][16];
  guint n_procs = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || jobs < 1 || runs < 1 || runs > 16 ||
      real_seconds < 2)
    {
      fprintf (stderr, "bench-ring: %s\n", error ? error->message : "bad arguments");
      return 2;
    }
  real_data (jobs, real_seconds, jitter, &real_bps, &n_procs);

  /* plain and compressed alternate run by run, so both see the same load */
  for (gint r = 0; r < runs; r++)
    for (int plain = 1; plain >= 0; plain--)
      {
        Fill f = { plain, jobs, (const double *) (void *) jitter->data, jitter->len };
        double out[4];

        if (!fill_run (&f, out))
          {
            fprintf (stderr, "bench-ring: a run failed\n");
            return 1;
          }
        for (int k = 0; k < 4; k++)
          m[plain][k][r] = out[k];
      }

  printf ("{\"bench\":\"ring\",\"jobs\":%d,\"runs\":%d,\n", jobs, runs);
  printf (" \"real\":{\"procs\":%u,\"seconds\":%d,\"fine_bytes_per_sample\":%.2f,"
          "\"plain_bytes_per_sample\":%d,\"tick_jitter_us_median\":%.0f},\n",
          n_procs, real_seconds, real_bps, (1 + JOB_N) * 8,
          median ((double *) (void *) jitter->data, jitter->len));
  for (int plain = 1; plain >= 0; plain--)
    printf (" \"%s\":{\"heap_bytes\":%.0f,\"rss_bytes\":%.0f,\"history_read_cpu_us\":%.1f,"
            "\"rows_per_read\":%.0f}%s\n",
            plain ? "plain" : "compressed", median (m[plain][0], runs), median (m[plain][1], runs),
            median (m[plain][2], runs), median (m[plain][3], runs), plain ? "," : "");
  printf ("}\n");
  return 0;
}
