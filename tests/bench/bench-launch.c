/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-launch: launch, list and stop benchmark for orchestratord.
 *
 * Not a test: it measures, against a running daemon, for N sequential jobs
 * of `sleep 600` (R runs, each figure reported as the median over the runs):
 *
 *   create_to_exec   Create() sent -> JobChanged(state=running) seen, per job
 *   launch_rate      N / wall time from the first Create to the N-th running
 *   daemon_cpu       utime+stime of the daemon over the N launches, per launch
 *   monitor_cpu      CPU (schedstat) of each job's orchestrator-monitor by then, mean
 *   daemon_rss       VmRSS of the daemon with N jobs running
 *   list             List({}) round trip with N jobs, median of --list-calls
 *   stop             Stop(id, {}) round trip (deferred until the job is gone)
 *
 * and, in the same run, the floor no launch through the bus can go below:
 *   bus_ping         org.freedesktop.DBus.Peer.Ping to the daemon and back
 *                    (the Create's and the JobChanged's trips through the bus
 *                    broker, with no work in the daemon)
 *   spawn            posix_spawnp of the same `sleep 600` from this small
 *                    process, until its exec (each left running until the
 *                    last, as the launched jobs are: their start-up competes
 *                    for the CPUs as theirs do)
 *
 * Then Remove() for each job.  Prints one JSON object on stdout.  Every pid
 * the daemon reported is appended to --pids-file (if given), so the driver
 * can check that none of them survived.
 *
 *   bench-launch --address=ADDR --daemon-pid=PID [--jobs=200] [--runs=3]
 *                [--list-calls=20] [--pids-file=FILE]
 *   bench-launch --system ...        (the system bus)
 *   bench-launch --systemd-run ...   (peer: `systemd-run --scope -- true`, timed)
 */
#include "bench-proc.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#define BUS_NAME "org.orchestrator"
#define OBJ_PATH "/org/orchestrator"
#define JOBS_IFACE "org.orchestrator.Jobs"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sd_bus_message, sd_bus_message_unref)

#define CALL_TIMEOUT_US (30ULL * 1000000ULL)
#define RUNNING_TIMEOUT_US (30ULL * 1000000ULL)

typedef struct {
  char *id;
  uint64_t sent_ns;    /* just before Create was sent */
  uint64_t running_ns; /* JobChanged(state=running) dispatched; 0 = not yet */
  uint32_t pid;
} Job;

typedef struct {
  GHashTable *by_id;   /* id -> Job* (borrowed from jobs) */
  GHashTable *early;   /* id -> running time (uint64_t *) seen before Create returned */
  GHashTable *early_pid;
  unsigned signals;
  unsigned failed_signals; /* JobChanged with state failed/exited while launching */
  char *last_error;
} Watch;

typedef struct {
  double c2e_p50, c2e_p95, c2e_mean, c2e_max;
  double ping_p50, spawn_p50; /* the floor, p50 ms */
  double launch_total_s, launch_rate;
  double cpu_per_launch_ms;     /* utime+stime (clock ticks) */
  double cpu_per_launch_ms_ns;  /* schedstat, all threads, ns resolution */
  double monitor_cpu_ms;        /* each job's orchestrator-monitor so far, mean */
  double idle_cpu_percent;      /* before the run, 1 s, nobody calling */
  double rss_mb;
  double list_ms;
  double list_cpu_ms; /* daemon CPU per List (schedstat), the tick's included */
  unsigned list_count;
  double stop_p50, stop_p95, stop_max, stop_total_s;
  unsigned alive_after_stop;
  double remove_total_s;
  unsigned errors;
} RunResult;

static const char *opt_address;
static gboolean opt_system;
static gboolean opt_systemd_run;
static int opt_jobs = 200;
static int opt_runs = 3;
static int opt_list_calls = 20;
static int opt_daemon_pid;
static const char *opt_pids_file;
static const char *opt_latencies_file;
static FILE *pids_out;
static FILE *lat_out;

/* SIGINT/SIGTERM: stop creating, then Stop and Remove what was created. */
static volatile sig_atomic_t interrupted;

static void
on_signal (int sig)
{
  (void) sig;
  interrupted = 1;
}

static double
ns_to_ms (uint64_t ns)
{
  return (double) ns / 1e6;
}

/* Nearest-rank percentile of @n sorted values. */
static double
percentile (const double *sorted, size_t n, double p)
{
  size_t rank;

  if (n == 0)
    return 0;
  rank = (size_t) (p / 100.0 * (double) n + 0.999999);
  if (rank < 1)
    rank = 1;
  if (rank > n)
    rank = n;
  return sorted[rank - 1];
}

static double
median_of (double *v, size_t n)
{
  if (n == 0)
    return 0;
  qsort (v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
mean_of (const double *v, size_t n)
{
  double s = 0;

  for (size_t i = 0; i < n; i++)
    s += v[i];
  return n ? s / (double) n : 0;
}

/* The daemon's CPU use while nobody talks to it, in percent of one CPU. */
static double
idle_cpu_percent (int pid, unsigned ms)
{
  long long a = proc_cpu_ns (pid), b;
  uint64_t t0 = now_ns ();

  g_usleep ((gulong) ms * 1000);
  b = proc_cpu_ns (pid);
  if (a < 0 || b < 0)
    return -1;
  return (double) (b - a) * 100.0 / (double) (now_ns () - t0);
}

/* VmRSS of @pid in kB, or -1. */
static long
proc_rss_kb (int pid)
{
  char path[64], line[256];
  long kb = -1;
  FILE *f;

  snprintf (path, sizeof path, "/proc/%d/status", pid);
  f = fopen (path, "re");
  if (f == NULL)
    return -1;
  while (fgets (line, sizeof line, f))
    if (sscanf (line, "VmRSS: %ld kB", &kb) == 1)
      break;
  fclose (f);
  return kb;
}

/* The parent of @pid (its orchestrator-monitor), or -1. */
static int
proc_ppid (uint32_t pid)
{
  char path[64], buf[512];
  FILE *f;
  size_t n;
  char *p;
  int ppid;

  snprintf (path, sizeof path, "/proc/%u/stat", pid);
  f = fopen (path, "re");
  if (f == NULL)
    return -1;
  n = fread (buf, 1, sizeof buf - 1, f);
  fclose (f);
  buf[n] = '\0';
  p = strrchr (buf, ')');
  return p && sscanf (p + 2, "%*c %d", &ppid) == 1 ? ppid : -1;
}

/* The CPU the monitors of @jobs have used so far (their start, the fork and
 * exec of the command, and the daemon's child before its exec: same pid),
 * per job, in ms; -1 if none could be read. */
static double
monitors_cpu_ms (const Job *jobs, int n)
{
  long long sum = 0;
  int seen = 0;

  for (int i = 0; i < n; i++)
    {
      int ppid = proc_ppid (jobs[i].pid);
      long long ns = ppid > 1 ? proc_cpu_ns (ppid) : -1;
      if (ns >= 0)
        {
          sum += ns;
          seen++;
        }
    }
  return seen ? (double) sum / 1e6 / seen : -1;
}

/* Whether @pid exists and is not a zombie. */
static gboolean
pid_alive (uint32_t pid)
{
  char path[64], buf[512];
  FILE *f;
  size_t n;
  char *p;

  if (pid == 0)
    return FALSE;
  snprintf (path, sizeof path, "/proc/%u/stat", pid);
  f = fopen (path, "re");
  if (f == NULL)
    return FALSE;
  n = fread (buf, 1, sizeof buf - 1, f);
  fclose (f);
  buf[n] = '\0';
  p = strrchr (buf, ')');
  return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static void
set_error (Watch *w, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
set_error (Watch *w, const char *fmt, ...)
{
  va_list ap;

  g_free (w->last_error);
  va_start (ap, fmt);
  w->last_error = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  fprintf (stderr, "bench-launch: %s\n", w->last_error);
}

/* Reads a job record a{sv}, picking state and pid. */
static int
read_record (sd_bus_message *m, char **state, uint32_t *pid)
{
  int r;

  r = sd_bus_message_enter_container (m, 'a', "{sv}");
  if (r < 0)
    return r;
  while ((r = sd_bus_message_enter_container (m, 'e', "sv")) > 0)
    {
      const char *key;

      r = sd_bus_message_read (m, "s", &key);
      if (r < 0)
        return r;
      if (strcmp (key, "state") == 0 && sd_bus_message_verify_type (m, 'v', "s") > 0)
        {
          const char *s;
          r = sd_bus_message_read (m, "v", "s", &s);
          if (r >= 0)
            *state = g_strdup (s);
        }
      else if (strcmp (key, "pid") == 0 && sd_bus_message_verify_type (m, 'v', "u") > 0)
        r = sd_bus_message_read (m, "v", "u", pid);
      else
        r = sd_bus_message_skip (m, "v");
      if (r < 0)
        return r;
      r = sd_bus_message_exit_container (m);
      if (r < 0)
        return r;
    }
  if (r < 0)
    return r;
  return sd_bus_message_exit_container (m);
}

static int
on_job_changed (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  uint64_t t = now_ns ();
  Watch *w = userdata;
  g_autofree char *state = NULL;
  const char *id;
  uint32_t pid = 0;
  Job *job;
  int r;

  (void) ret_error;
  w->signals++;
  r = sd_bus_message_read (m, "s", &id);
  if (r >= 0)
    r = read_record (m, &state, &pid);
  if (r < 0)
    {
      set_error (w, "cannot parse JobChanged: %s", strerror (-r));
      return 0;
    }
  if (state == NULL)
    return 0;
  job = g_hash_table_lookup (w->by_id, id);
  if (strcmp (state, "running") == 0)
    {
      if (job == NULL)
        {
          /* Create's reply not read yet (only possible if the signal overtook it). */
          uint64_t *tp = g_new (uint64_t, 1);
          *tp = t;
          g_hash_table_insert (w->early, g_strdup (id), tp);
          g_hash_table_insert (w->early_pid, g_strdup (id), GUINT_TO_POINTER (pid));
        }
      else if (job->running_ns == 0)
        {
          job->running_ns = t;
          if (pid)
            job->pid = pid;
        }
    }
  else if (job && job->running_ns == 0 &&
           (strcmp (state, "failed") == 0 || strcmp (state, "exited") == 0 ||
            strcmp (state, "stopped") == 0))
    {
      w->failed_signals++;
      set_error (w, "job %s went %s before running", id, state);
    }
  return 0;
}

static int
call_create (sd_bus *bus, Job *job, Watch *w)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  g_autoptr(sd_bus_message) m = NULL;
  g_autoptr(sd_bus_message) reply = NULL;
  const char *id, *path;
  int r;

  r = sd_bus_message_new_method_call (bus, &m, BUS_NAME, OBJ_PATH, JOBS_IFACE, "Create");
  if (r >= 0)
    r = sd_bus_message_append (m, "a{sv}", 1, "command", "as", 2, "sleep", "600");
  if (r < 0)
    return r;
  job->sent_ns = now_ns ();
  r = sd_bus_call (bus, m, CALL_TIMEOUT_US, &error, &reply);
  if (r < 0)
    {
      set_error (w, "Create: %s: %s", error.name ? error.name : "", error.message ? error.message : strerror (-r));
      sd_bus_error_free (&error);
      return r;
    }
  r = sd_bus_message_read (reply, "so", &id, &path);
  if (r < 0)
    return r;
  job->id = g_strdup (id);
  g_hash_table_insert (w->by_id, job->id, job);
  {
    uint64_t *tp = g_hash_table_lookup (w->early, id);
    if (tp)
      {
        job->running_ns = *tp;
        job->pid = GPOINTER_TO_UINT (g_hash_table_lookup (w->early_pid, id));
      }
  }
  return 0;
}

/* Dispatches bus messages until @job is seen running (or failed). */
static int
wait_running (sd_bus *bus, Job *job, Watch *w)
{
  uint64_t deadline = now_ns () + RUNNING_TIMEOUT_US * 1000ULL;
  unsigned failed = w->failed_signals;
  int r;

  while (job->running_ns == 0)
    {
      r = sd_bus_process (bus, NULL);
      if (r < 0)
        return r;
      if (r > 0)
        continue;
      if (w->failed_signals != failed)
        return -ECHILD;
      if (interrupted)
        return -EINTR;
      if (now_ns () > deadline)
        {
          set_error (w, "job %s not running after %llu s", job->id,
                     (unsigned long long) (RUNNING_TIMEOUT_US / 1000000ULL));
          return -ETIMEDOUT;
        }
      r = sd_bus_wait (bus, 1000000);
      if (r < 0 && r != -EINTR)
        return r;
    }
  return 0;
}

static int
call_simple (sd_bus *bus, Watch *w, const char *method, const char *types, const char *id,
             sd_bus_message **ret_reply)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  g_autoptr(sd_bus_message) m = NULL;
  int r;

  r = sd_bus_message_new_method_call (bus, &m, BUS_NAME, OBJ_PATH, JOBS_IFACE, method);
  if (r >= 0 && strcmp (types, "s") == 0)
    r = sd_bus_message_append (m, "s", id);
  else if (r >= 0 && strcmp (types, "sa{sv}") == 0)
    r = sd_bus_message_append (m, "sa{sv}", id, 0);
  else if (r >= 0 && strcmp (types, "a{sv}") == 0)
    r = sd_bus_message_append (m, "a{sv}", 0);
  if (r < 0)
    return r;
  r = sd_bus_call (bus, m, CALL_TIMEOUT_US, &error, ret_reply);
  if (r < 0)
    {
      set_error (w, "%s(%s): %s: %s", method, id ? id : "", error.name ? error.name : "",
                 error.message ? error.message : strerror (-r));
      sd_bus_error_free (&error);
    }
  return r;
}

#define FLOOR_SAMPLES 50

/* Peer.Ping round trips to the daemon: p50 ms, or -1. */
static double
ping_p50 (sd_bus *bus)
{
  double v[FLOOR_SAMPLES];

  for (int i = 0; i < FLOOR_SAMPLES; i++)
    {
      sd_bus_error error = SD_BUS_ERROR_NULL;
      uint64_t t0 = now_ns ();
      int r = sd_bus_call_method (bus, BUS_NAME, OBJ_PATH, "org.freedesktop.DBus.Peer", "Ping",
                                  &error, NULL, "");
      sd_bus_error_free (&error);
      if (r < 0)
        return -1;
      v[i] = ns_to_ms (now_ns () - t0);
    }
  return median_of (v, FLOOR_SAMPLES);
}

/* posix_spawnp("sleep 600") until its exec, the children kept until all
 * are started, then killed and reaped: p50 ms, or -1. */
static double
spawn_p50 (void)
{
  extern char **environ;
  char *argv[] = { (char *) "sleep", (char *) "600", NULL };
  pid_t pids[FLOOR_SAMPLES];
  double v[FLOOR_SAMPLES];
  int n = 0, ok = 1;

  for (; n < FLOOR_SAMPLES; n++)
    {
      uint64_t t0 = now_ns ();
      if (posix_spawnp (&pids[n], argv[0], NULL, NULL, argv, environ) != 0)
        {
          ok = 0;
          break;
        }
      v[n] = ns_to_ms (now_ns () - t0);
    }
  for (int i = 0; i < n; i++)
    {
      kill (pids[i], SIGKILL);
      while (waitpid (pids[i], NULL, 0) < 0 && errno == EINTR)
        ;
    }
  return ok ? median_of (v, FLOOR_SAMPLES) : -1;
}

static unsigned
count_list (sd_bus_message *reply)
{
  unsigned n = 0;

  if (sd_bus_message_enter_container (reply, 'a', "a{sv}") < 0)
    return 0;
  while (sd_bus_message_skip (reply, "a{sv}") > 0)
    n++;
  return n;
}

static int
run_once (sd_bus *bus, Watch *w, int run_no, RunResult *res)
{
  Job *jobs = g_new0 (Job, opt_jobs);
  double *lat = g_new0 (double, opt_jobs);
  double *stop = g_new0 (double, opt_jobs);
  double *list = g_new0 (double, opt_list_calls);
  long long cpu0, cpu1, ns0, ns1;
  long tck = sysconf (_SC_CLK_TCK);
  uint64_t t_start, t_end, t0;
  int created = 0, ret = 0, r;
  int nstop = 0;

  memset (res, 0, sizeof *res);

  res->idle_cpu_percent = idle_cpu_percent (opt_daemon_pid, 1000);
  if (res->idle_cpu_percent > 5)
    fprintf (stderr, "bench-launch: the idle daemon uses %.0f%% of a CPU: "
             "CPU and latency figures include that\n", res->idle_cpu_percent);

  /* ---- the floor ---- */
  res->ping_p50 = ping_p50 (bus);
  res->spawn_p50 = spawn_p50 ();

  /* ---- launch ---- */
  ns0 = proc_cpu_ns (opt_daemon_pid);
  cpu0 = proc_cpu_ticks (opt_daemon_pid);
  t_start = now_ns ();
  for (int i = 0; i < opt_jobs; i++)
    {
      if (interrupted)
        {
          ret = -EINTR;
          break;
        }
      r = call_create (bus, &jobs[i], w);
      if (r < 0)
        {
          ret = r;
          break;
        }
      created++;
      r = jobs[i].running_ns ? 0 : wait_running (bus, &jobs[i], w);
      if (jobs[i].pid && pids_out)
        {
          write_job_pid (pids_out, jobs[i].pid);
        }
      if (r < 0)
        {
          ret = r;
          break;
        }
      lat[i] = ns_to_ms (jobs[i].running_ns - jobs[i].sent_ns);
    }
  t_end = now_ns ();
  cpu1 = proc_cpu_ticks (opt_daemon_pid);
  ns1 = proc_cpu_ns (opt_daemon_pid);

  if (ret == 0)
    {
      double mean = mean_of (lat, opt_jobs);

      if (lat_out)
        for (int i = 0; i < opt_jobs; i++)
          fprintf (lat_out, "%d %d c2e %.3f\n", run_no, i, lat[i]);
      qsort (lat, opt_jobs, sizeof *lat, cmp_double);
      res->c2e_p50 = percentile (lat, opt_jobs, 50);
      res->c2e_p95 = percentile (lat, opt_jobs, 95);
      res->c2e_max = lat[opt_jobs - 1];
      res->c2e_mean = mean;
      res->launch_total_s = (double) (t_end - t_start) / 1e9;
      res->launch_rate = opt_jobs / res->launch_total_s;
      if (cpu0 >= 0 && cpu1 >= 0)
        res->cpu_per_launch_ms = (double) (cpu1 - cpu0) * 1000.0 / (double) tck / opt_jobs;
      if (ns0 >= 0 && ns1 >= 0)
        res->cpu_per_launch_ms_ns = (double) (ns1 - ns0) / 1e6 / opt_jobs;
      res->monitor_cpu_ms = monitors_cpu_ms (jobs, opt_jobs);
      res->rss_mb = (double) proc_rss_kb (opt_daemon_pid) / 1024.0;

      /* ---- List with N jobs ---- */
      ns0 = proc_cpu_ns (opt_daemon_pid);
      for (int i = 0; i < opt_list_calls; i++)
        {
          g_autoptr(sd_bus_message) reply = NULL;

          t0 = now_ns ();
          r = call_simple (bus, w, "List", "a{sv}", NULL, &reply);
          list[i] = ns_to_ms (now_ns () - t0);
          if (r < 0)
            {
              ret = r;
              break;
            }
          if (i == 0)
            res->list_count = count_list (reply);
        }
      ns1 = proc_cpu_ns (opt_daemon_pid);
      if (ret == 0 && ns0 >= 0 && ns1 >= 0)
        res->list_cpu_ms = (double) (ns1 - ns0) / 1e6 / opt_list_calls;
      if (ret == 0)
        res->list_ms = median_of (list, opt_list_calls);
      if (res->list_count != (unsigned) opt_jobs && ret == 0)
        set_error (w, "List returned %u jobs, expected %d", res->list_count, opt_jobs);
    }

  /* ---- Stop every job we created, even after a failure ---- */
  t_start = now_ns ();
  for (int i = 0; i < created; i++)
    {
      g_autoptr(sd_bus_message) reply = NULL;

      t0 = now_ns ();
      r = call_simple (bus, w, "Stop", "sa{sv}", jobs[i].id, &reply);
      stop[nstop++] = ns_to_ms (now_ns () - t0);
      if (lat_out)
        fprintf (lat_out, "%d %d stop %.3f\n", run_no, i, stop[nstop - 1]);
      if (r < 0)
        {
          res->errors++;
          continue;
        }
      if (jobs[i].pid == 0)
        {
          char *state = NULL;
          (void) read_record (reply, &state, &jobs[i].pid);
          g_free (state);
          if (jobs[i].pid && pids_out)
            {
              write_job_pid (pids_out, jobs[i].pid);
            }
        }
      if (pid_alive (jobs[i].pid))
        res->alive_after_stop++;
    }
  t_end = now_ns ();
  res->stop_total_s = (double) (t_end - t_start) / 1e9;
  if (nstop > 0)
    {
      qsort (stop, nstop, sizeof *stop, cmp_double);
      res->stop_p50 = percentile (stop, nstop, 50);
      res->stop_p95 = percentile (stop, nstop, 95);
      res->stop_max = stop[nstop - 1];
    }

  t_start = now_ns ();
  for (int i = 0; i < created; i++)
    {
      g_autoptr(sd_bus_message) reply = NULL;

      if (call_simple (bus, w, "Remove", "s", jobs[i].id, &reply) < 0)
        res->errors++;
    }
  res->remove_total_s = (double) (now_ns () - t_start) / 1e9;

  /* Drain the signals of this run so the next one starts clean. */
  while (sd_bus_process (bus, NULL) > 0)
    ;
  for (int i = 0; i < created; i++)
    g_hash_table_remove (w->by_id, jobs[i].id);
  g_hash_table_remove_all (w->early);
  g_hash_table_remove_all (w->early_pid);

  fprintf (stderr, "bench-launch: run %d: %d jobs, c2e p50 %.3f ms, launch %.3f s, stop %.3f s%s\n",
           run_no, created, res->c2e_p50, res->launch_total_s, res->stop_total_s,
           ret < 0 ? " (FAILED)" : "");

  for (int i = 0; i < opt_jobs; i++)
    g_free (jobs[i].id);
  g_free (jobs);
  g_free (lat);
  g_free (stop);
  g_free (list);
  return ret;
}

/* ---- JSON output ---- */

#define FIELD(name) \
  static double get_##name (const RunResult *r) { return (double) r->name; }
FIELD (c2e_p50)
FIELD (c2e_p95)
FIELD (c2e_mean)
FIELD (c2e_max)
FIELD (ping_p50)
FIELD (spawn_p50)
FIELD (launch_total_s)
FIELD (launch_rate)
FIELD (cpu_per_launch_ms)
FIELD (cpu_per_launch_ms_ns)
FIELD (monitor_cpu_ms)
FIELD (idle_cpu_percent)
FIELD (rss_mb)
FIELD (list_ms)
FIELD (list_cpu_ms)
FIELD (stop_p50)
FIELD (stop_p95)
FIELD (stop_max)
FIELD (stop_total_s)
FIELD (remove_total_s)
FIELD (alive_after_stop)
FIELD (errors)
#undef FIELD

static double
median_field (const RunResult *rs, int n, double (*get) (const RunResult *))
{
  double v[n > 0 ? n : 1];

  for (int i = 0; i < n; i++)
    v[i] = get (&rs[i]);
  return median_of (v, n);
}

static void
print_json (const RunResult *rs, int n, const char *backend, const char *error)
{
  static const struct {
    const char *name;
    double (*get) (const RunResult *);
    int decimals;
  } fields[] = {
    { "create_to_exec_p50_ms", get_c2e_p50, 3 },
    { "create_to_exec_p95_ms", get_c2e_p95, 3 },
    { "create_to_exec_mean_ms", get_c2e_mean, 3 },
    { "create_to_exec_max_ms", get_c2e_max, 3 },
    { "floor_bus_ping_p50_ms", get_ping_p50, 3 },
    { "floor_spawn_p50_ms", get_spawn_p50, 3 },
    { "launch_total_s", get_launch_total_s, 4 },
    { "jobs_per_s", get_launch_rate, 1 },
    { "daemon_cpu_per_launch_ms", get_cpu_per_launch_ms, 3 },
    { "daemon_cpu_per_launch_ms_schedstat", get_cpu_per_launch_ms_ns, 3 },
    { "monitor_cpu_per_launch_ms", get_monitor_cpu_ms, 3 },
    { "daemon_idle_cpu_percent", get_idle_cpu_percent, 1 },
    { "daemon_rss_mb", get_rss_mb, 2 },
    { "list_ms", get_list_ms, 3 },
    { "daemon_cpu_per_list_ms", get_list_cpu_ms, 3 },
    { "stop_p50_ms", get_stop_p50, 3 },
    { "stop_p95_ms", get_stop_p95, 3 },
    { "stop_max_ms", get_stop_max, 3 },
    { "stop_total_s", get_stop_total_s, 4 },
    { "remove_total_s", get_remove_total_s, 4 },
    { "alive_after_stop", get_alive_after_stop, 0 },
    { "errors", get_errors, 0 },
  };

  printf ("{\"backend\":\"%s\",\"jobs\":%d,\"runs\":%d,\"list_calls\":%d,"
          "\"aggregate\":\"median of runs\"",
          backend, opt_jobs, n, opt_list_calls);
  for (size_t f = 0; f < G_N_ELEMENTS (fields); f++)
    printf (",\"%s\":%.*f", fields[f].name, fields[f].decimals, median_field (rs, n, fields[f].get));
  printf (",\"per_run\":[");
  for (int i = 0; i < n; i++)
    {
      printf ("%s{", i ? "," : "");
      for (size_t f = 0; f < G_N_ELEMENTS (fields); f++)
        printf ("%s\"%s\":%.*f", f ? "," : "", fields[f].name, fields[f].decimals,
                fields[f].get (&rs[i]));
      printf (",\"list_count\":%u}", rs[i].list_count);
    }
  printf ("]");
  if (error)
    {
      g_autofree char *esc = g_strescape (error, NULL);
      printf (",\"error\":\"%s\"", esc);
    }
  printf ("}\n");
}

/* ---- peer: systemd-run --scope -- true, timed end to end ---- */

static int
bench_systemd_run (void)
{
  double *lat = g_new0 (double, opt_jobs);
  double *sorted = g_new0 (double, opt_jobs);
  double p50[opt_runs], p95[opt_runs], mean[opt_runs], total[opt_runs];
  int failures = 0;

  for (int run = 0; run < opt_runs; run++)
    {
      uint64_t start = now_ns ();

      for (int i = 0; i < opt_jobs; i++)
        {
          uint64_t t0 = now_ns ();
          int status = 0;
          pid_t pid = fork ();

          if (pid < 0)
            {
              perror ("fork");
              return 1;
            }
          if (pid == 0)
            {
              if (freopen ("/dev/null", "w", stdout) == NULL || freopen ("/dev/null", "w", stderr) == NULL)
                _exit (126);
              execlp ("systemd-run", "systemd-run", "--quiet", "--scope", "--", "true", (char *) NULL);
              _exit (127);
            }
          while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
            ;
          lat[i] = ns_to_ms (now_ns () - t0);
          if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
            failures++;
        }
      total[run] = (double) (now_ns () - start) / 1e9;
      memcpy (sorted, lat, sizeof (double) * opt_jobs);
      qsort (sorted, opt_jobs, sizeof *sorted, cmp_double);
      p50[run] = percentile (sorted, opt_jobs, 50);
      p95[run] = percentile (sorted, opt_jobs, 95);
      mean[run] = mean_of (lat, opt_jobs);
      fprintf (stderr, "bench-launch: systemd-run run %d: p50 %.3f ms\n", run, p50[run]);
    }
  printf ("{\"peer\":\"systemd-run --scope -- true\",\"jobs\":%d,\"runs\":%d,"
          "\"aggregate\":\"median of runs\",\"p50_ms\":%.3f,\"p95_ms\":%.3f,\"mean_ms\":%.3f,"
          "\"total_s\":%.4f,\"failures\":%d}\n",
          opt_jobs, opt_runs, median_of (p50, opt_runs), median_of (p95, opt_runs),
          median_of (mean, opt_runs), median_of (total, opt_runs), failures);
  g_free (lat);
  g_free (sorted);
  return failures ? 1 : 0;
}

int
main (int argc, char **argv)
{
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(GError) gerror = NULL;
  g_autofree char *backend = NULL;
  sd_bus *bus = NULL;
  sd_bus_slot *slot = NULL;
  Watch w = { 0 };
  RunResult *rs;
  int r, done = 0, ret = 0;
  const GOptionEntry entries[] = {
    { "address", 0, 0, G_OPTION_ARG_STRING, &opt_address, "Bus address of the daemon", "ADDR" },
    { "system", 0, 0, G_OPTION_ARG_NONE, &opt_system, "Use the system bus", NULL },
    { "daemon-pid", 0, 0, G_OPTION_ARG_INT, &opt_daemon_pid, "Pid of orchestratord (CPU, RSS)", "PID" },
    { "jobs", 'n', 0, G_OPTION_ARG_INT, &opt_jobs, "Jobs per run (200)", "N" },
    { "runs", 'r', 0, G_OPTION_ARG_INT, &opt_runs, "Runs (3)", "R" },
    { "list-calls", 0, 0, G_OPTION_ARG_INT, &opt_list_calls, "List calls per run (20)", "N" },
    { "pids-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_pids_file, "Append job pids here", "FILE" },
    { "latencies", 0, 0, G_OPTION_ARG_FILENAME, &opt_latencies_file,
      "Write per-job lines `run index create_to_exec_ms stop_ms` here", "FILE" },
    { "systemd-run", 0, 0, G_OPTION_ARG_NONE, &opt_systemd_run, "Time `systemd-run --scope -- true` instead", NULL },
    { NULL }
  };

  ctx = g_option_context_new (NULL);
  g_option_context_set_summary (ctx, "Launch/list/stop benchmark for orchestratord; prints JSON.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &gerror))
    {
      fprintf (stderr, "bench-launch: %s\n", gerror->message);
      return 2;
    }
  if (opt_jobs < 1 || opt_runs < 1 || opt_list_calls < 1)
    {
      fprintf (stderr, "bench-launch: --jobs, --runs and --list-calls must be positive\n");
      return 2;
    }
  if (opt_latencies_file)
    {
      lat_out = fopen (opt_latencies_file, "we");
      if (lat_out == NULL)
        {
          fprintf (stderr, "bench-launch: %s: %s\n", opt_latencies_file, strerror (errno));
          return 2;
        }
    }
  if (opt_systemd_run)
    return bench_systemd_run ();
  if (!opt_address == !opt_system || opt_daemon_pid <= 0)
    {
      fprintf (stderr, "bench-launch: need one of --address/--system, and --daemon-pid\n");
      return 2;
    }
  if (opt_pids_file)
    {
      pids_out = fopen (opt_pids_file, "ae");
      if (pids_out == NULL)
        {
          fprintf (stderr, "bench-launch: %s: %s\n", opt_pids_file, strerror (errno));
          return 2;
        }
    }

  if (opt_system)
    r = sd_bus_open_system (&bus);
  else
    {
      r = sd_bus_new (&bus);
      if (r >= 0)
        r = sd_bus_set_address (bus, opt_address);
      if (r >= 0)
        r = sd_bus_set_bus_client (bus, 1);
      if (r >= 0)
        r = sd_bus_start (bus);
    }
  if (r < 0)
    {
      fprintf (stderr, "bench-launch: cannot connect to the bus: %s\n", strerror (-r));
      return 1;
    }

  {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    char *b = NULL;
    r = sd_bus_get_property_string (bus, BUS_NAME, OBJ_PATH, JOBS_IFACE, "Backend", &error, &b);
    if (r < 0)
      {
        fprintf (stderr, "bench-launch: cannot read Backend: %s\n", error.message ? error.message : strerror (-r));
        sd_bus_error_free (&error);
        sd_bus_unref (bus);
        return 1;
      }
    backend = g_strdup (b);
    free (b);
  }

  {
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
  }
  w.by_id = g_hash_table_new (g_str_hash, g_str_equal);
  w.early = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  w.early_pid = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  r = sd_bus_match_signal (bus, &slot, BUS_NAME, OBJ_PATH, JOBS_IFACE, "JobChanged", on_job_changed, &w);
  if (r < 0)
    {
      fprintf (stderr, "bench-launch: cannot add a match: %s\n", strerror (-r));
      return 1;
    }

  rs = g_new0 (RunResult, opt_runs);
  for (int i = 0; i < opt_runs; i++)
    {
      r = run_once (bus, &w, i, &rs[i]);
      if (r == 0 && interrupted)
        r = -EINTR;
      if (r < 0)
        {
          ret = 1;
          break;
        }
      done++;
    }
  print_json (rs, done, backend,
              ret ? (interrupted ? "interrupted" : w.last_error ? w.last_error : "failed") : NULL);

  g_free (rs);
  g_free (w.last_error);
  g_hash_table_unref (w.by_id);
  g_hash_table_unref (w.early);
  g_hash_table_unref (w.early_pid);
  sd_bus_slot_unref (slot);
  sd_bus_flush_close_unref (bus);
  if (pids_out)
    fclose (pids_out);
  if (lat_out)
    fclose (lat_out);
  return ret;
}
