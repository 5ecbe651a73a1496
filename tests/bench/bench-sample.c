/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-sample: cost of orchestratord's sampling tick, and its RSS with
 * history, for 0 / 200 / 1000 live jobs of `sleep 600`.  Not a test.
 *
 * Against a running daemon (on its own private bus, see bench-sample.sh):
 *
 *   For each level N (--levels, ascending): Create jobs up to N (pipelined,
 *   at most 32 calls in flight), List until all run, let --settle-ticks
 *   ticks pass (every job has had its first sample, so its rings exist),
 *   then --windows windows of --window-ticks ticks each.  A tick is one
 *   org.orchestrator.Metrics.SystemSampled signal; the daemon's CPU
 *   (schedstat of every thread, ns) is read when the first and the last
 *   signal of the window arrive, so a window holds exactly W ticks of work
 *   (and W runs of the log rotation check, which runs on the same period).
 *   CPU ms per tick = delta / W; the figure is the median of the windows.
 *
 *   Then the peer (--peer: a python3-psutil script) samples the same pids
 *   the same way, and prints its own CPU per tick; its JSON is embedded.
 *
 *   At the top level, RSS is read right after the creates, after the first
 *   samples, then every 50 ticks until --fill-ticks ticks have passed since
 *   the last job's creation (the fine ring is full), with the untouched
 *   part of [heap] from /proc/PID/smaps as the bound on what the still
 *   unwritten (coarse) ring slots can add.
 *
 *   Every job is then stopped (Stop, pipelined) and removed.  Each job pid
 *   is appended to --pids-file as soon as it is known.  SIGINT/SIGTERM:
 *   stop creating and measuring, then Stop and Remove what was created.
 *
 *   bench-sample --address=ADDR --daemon-pid=PID [--levels=0,200,1000]
 *       [--windows=3] [--window-ticks=20] [--settle-ticks=5] [--fill-ticks=310]
 *       [--interval-ms=100] [--pids-file=F] [--peer=SCRIPT --peer-python=PY
 *       --peer-pids=F --peer-out=F] [--budget-cpu-ms=10 --budget-ratio=10
 *       --budget-rss-mb=40]
 *
 * Prints one JSON object on stdout; progress on stderr.
 */
#include "bench-proc.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
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
#define METRICS_IFACE "org.orchestrator.Metrics"

#define CALL_TIMEOUT_US (30ULL * 1000000ULL)
#define MAX_INFLIGHT 32
#define MAX_LEVELS 8
#define MAX_WINDOWS 32
#define MAX_RSS_POINTS 64

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sd_bus_message, sd_bus_message_unref)

typedef struct {
  char *id;
  uint32_t pid;
  char *state;
  gboolean create_done;   /* reply (or error) seen */
  gboolean stop_done;
  gboolean remove_done;
  gboolean pid_written;
} Job;

typedef struct {
  int jobs;
  int running;
  double cpu_ms[MAX_WINDOWS];      /* schedstat ns -> ms per tick, per window */
  double cpu_ms_clk[MAX_WINDOWS];  /* utime+stime clock ticks -> ms per tick */
  double wall_ms[MAX_WINDOWS];     /* wall time per tick */
  int n_windows;
  double rss_mb;                   /* after settle */
  char *peer_json;                 /* raw object from the peer, or NULL */
  double peer_cpu_ms;              /* its median, NAN if none */
} Level;

typedef struct {
  unsigned tick;
  double rss_mb;
} RssPoint;

static const char *opt_address;
static int opt_daemon_pid;
static const char *opt_levels = "0,200,1000";
static int opt_windows = 3;
static int opt_window_ticks = 20;
static int opt_settle_ticks = 5;
static int opt_fill_ticks = 310;
static int opt_interval_ms = 100;
static const char *opt_pids_file;
static const char *opt_peer;
static const char *opt_peer_python = "/usr/bin/python3";
static const char *opt_peer_pids;
static const char *opt_peer_out;
static double opt_budget_cpu_ms = 10;
static double opt_budget_ratio = 10;
static double opt_budget_rss_mb = 40;

static volatile sig_atomic_t interrupted;
static GPtrArray *jobs;        /* Job* in creation order */
static GHashTable *by_id;      /* id -> Job* (borrowed) */
static unsigned ticks;         /* SystemSampled signals seen */
static unsigned inflight;
static unsigned call_errors;
static char *last_error;
static FILE *pids_out;

static void
on_signal (int sig)
{
  (void) sig;
  interrupted = 1;
}

static void
set_error (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static void
set_error (const char *fmt, ...)
{
  va_list ap;

  g_free (last_error);
  va_start (ap, fmt);
  last_error = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  fprintf (stderr, "bench-sample: %s\n", last_error);
}

static double
median_of (const double *in, int n)
{
  double v[MAX_WINDOWS];

  if (n <= 0)
    return NAN;
  memcpy (v, in, sizeof (double) * (size_t) n);
  qsort (v, (size_t) n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- the daemon's CPU and memory ---- */

/* VmRSS of @pid in MiB, or -1. */
static double
proc_rss_mb (int pid)
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
  return kb < 0 ? -1 : (double) kb / 1024.0;
}

/* [heap] of @pid from smaps: its size and resident part, in MiB. */
static gboolean
proc_heap_mb (int pid, double *size_mb, double *rss_mb)
{
  char path[64], line[512];
  gboolean in_heap = FALSE, found = FALSE;
  long kb;
  FILE *f;

  *size_mb = *rss_mb = 0;
  snprintf (path, sizeof path, "/proc/%d/smaps", pid);
  f = fopen (path, "re");
  if (f == NULL)
    return FALSE;
  while (fgets (line, sizeof line, f))
    {
      unsigned long lo, hi;
      char c;

      /* A mapping header: "start-end perms offset dev inode [path]". */
      if (sscanf (line, "%lx-%lx %c", &lo, &hi, &c) == 3)
        {
          in_heap = strstr (line, "[heap]") != NULL;
          found |= in_heap;
          continue;
        }
      if (!in_heap)
        continue;
      if (sscanf (line, "Size: %ld kB", &kb) == 1)
        *size_mb += (double) kb / 1024.0;
      else if (sscanf (line, "Rss: %ld kB", &kb) == 1)
        *rss_mb += (double) kb / 1024.0;
    }
  fclose (f);
  return found;
}

/* ---- bus plumbing ---- */

static int
on_sampled (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  (void) m;
  (void) userdata;
  (void) ret_error;
  ticks++;
  return 0;
}

/* Dispatches everything pending, then waits up to @timeout_us for more. */
static int
pump (sd_bus *bus, uint64_t timeout_us)
{
  int r;

  while ((r = sd_bus_process (bus, NULL)) > 0)
    ;
  if (r < 0)
    return r;
  r = sd_bus_wait (bus, timeout_us);
  if (r < 0 && r != -EINTR)
    return r;
  while ((r = sd_bus_process (bus, NULL)) > 0)
    ;
  return r < 0 ? r : 0;
}

/* Waits until @k more ticks have been seen.  The daemon may be late (a
 * tick longer than the interval): allow 5x the interval, plus 5 s. */
static int
wait_ticks (sd_bus *bus, unsigned k)
{
  unsigned target = ticks + k;
  uint64_t deadline = now_ns () + ((uint64_t) k * (uint64_t) opt_interval_ms * 5 + 5000) * 1000000ULL;
  int r;

  while (ticks < target)
    {
      if (interrupted)
        return -EINTR;
      if (now_ns () > deadline)
        {
          set_error ("only %u of %u SystemSampled signals in time", k - (target - ticks), k);
          return -ETIMEDOUT;
        }
      r = pump (bus, 200000);
      if (r < 0)
        {
          set_error ("bus: %s", strerror (-r));
          return r;
        }
    }
  return 0;
}

static void
write_pid (Job *j)
{
  if (j->pid == 0 || j->pid_written || pids_out == NULL)
    return;
  write_job_pid (pids_out, j->pid);
  j->pid_written = TRUE;
}

/* Reads one job record a{sv}: id, state, pid. */
static int
read_record (sd_bus_message *m, char **id, char **state, uint32_t *pid)
{
  int r;

  r = sd_bus_message_enter_container (m, 'a', "{sv}");
  if (r <= 0)
    return r;
  while ((r = sd_bus_message_enter_container (m, 'e', "sv")) > 0)
    {
      const char *key, *s;

      r = sd_bus_message_read (m, "s", &key);
      if (r < 0)
        return r;
      if (strcmp (key, "state") == 0 && sd_bus_message_verify_type (m, 'v', "s") > 0)
        {
          r = sd_bus_message_read (m, "v", "s", &s);
          if (r >= 0 && state)
            *state = g_strdup (s);
        }
      else if (strcmp (key, "id") == 0 && sd_bus_message_verify_type (m, 'v', "s") > 0)
        {
          r = sd_bus_message_read (m, "v", "s", &s);
          if (r >= 0 && id)
            *id = g_strdup (s);
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
  r = sd_bus_message_exit_container (m);
  return r < 0 ? r : 1;
}

static int
on_create_reply (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  Job *j = userdata;
  const sd_bus_error *e = sd_bus_message_get_error (m);
  const char *id, *path;

  (void) ret_error;
  inflight--;
  j->create_done = TRUE;
  if (e)
    {
      call_errors++;
      set_error ("Create: %s: %s", e->name, e->message ? e->message : "");
      return 0;
    }
  if (sd_bus_message_read (m, "so", &id, &path) < 0)
    {
      call_errors++;
      set_error ("Create: bad reply");
      return 0;
    }
  j->id = g_strdup (id);
  g_hash_table_insert (by_id, j->id, j);
  return 0;
}

static int
on_stop_reply (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  Job *j = userdata;
  const sd_bus_error *e = sd_bus_message_get_error (m);

  (void) ret_error;
  inflight--;
  j->stop_done = TRUE;
  if (e)
    {
      call_errors++;
      set_error ("Stop(%s): %s: %s", j->id, e->name, e->message ? e->message : "");
      return 0;
    }
  if (j->pid == 0)
    {
      (void) read_record (m, NULL, NULL, &j->pid);
      write_pid (j);
    }
  return 0;
}

static int
on_remove_reply (sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
  Job *j = userdata;
  const sd_bus_error *e = sd_bus_message_get_error (m);

  (void) ret_error;
  inflight--;
  j->remove_done = TRUE;
  if (e)
    {
      call_errors++;
      set_error ("Remove(%s): %s: %s", j->id, e->name, e->message ? e->message : "");
    }
  return 0;
}

/* Waits until fewer than @max calls are in flight. */
static int
drain_inflight (sd_bus *bus, unsigned max, gboolean ignore_interrupt)
{
  uint64_t deadline = now_ns () + CALL_TIMEOUT_US * 2000ULL;
  int r;

  while (inflight >= max && inflight > 0)
    {
      if (interrupted && !ignore_interrupt)
        return -EINTR;
      if (now_ns () > deadline)
        {
          set_error ("%u calls still unanswered", inflight);
          return -ETIMEDOUT;
        }
      r = pump (bus, 200000);
      if (r < 0)
        return r;
    }
  return 0;
}

static int
create_up_to (sd_bus *bus, int target)
{
  int r;

  while ((int) jobs->len < target)
    {
      g_autoptr(sd_bus_message) m = NULL;
      Job *j;

      if (interrupted)
        return -EINTR;
      r = drain_inflight (bus, MAX_INFLIGHT, FALSE);
      if (r < 0)
        return r;
      if (call_errors)
        return -EIO;
      r = sd_bus_message_new_method_call (bus, &m, BUS_NAME, OBJ_PATH, JOBS_IFACE, "Create");
      if (r >= 0)
        r = sd_bus_message_append (m, "a{sv}", 1, "command", "as", 2, "sleep", "600");
      if (r < 0)
        return r;
      j = g_new0 (Job, 1);
      g_ptr_array_add (jobs, j);
      r = sd_bus_call_async (bus, NULL, m, on_create_reply, j, CALL_TIMEOUT_US);
      if (r < 0)
        {
          j->create_done = TRUE;
          set_error ("Create: %s", strerror (-r));
          return r;
        }
      inflight++;
    }
  r = drain_inflight (bus, 1, FALSE);
  if (r < 0)
    return r;
  return call_errors ? -EIO : 0;
}

/* List({}): updates state and pid of our jobs; the number running. */
static int
refresh (sd_bus *bus, int *ret_running, int *ret_dead)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  g_autoptr(sd_bus_message) reply = NULL;
  int r, running = 0, dead = 0;

  r = sd_bus_call_method (bus, BUS_NAME, OBJ_PATH, JOBS_IFACE, "List", &error, &reply, "a{sv}", 0);
  if (r < 0)
    {
      set_error ("List: %s", error.message ? error.message : strerror (-r));
      sd_bus_error_free (&error);
      return r;
    }
  r = sd_bus_message_enter_container (reply, 'a', "a{sv}");
  if (r < 0)
    return r;
  for (;;)
    {
      g_autofree char *id = NULL, *state = NULL;
      uint32_t pid = 0;
      Job *j;

      r = read_record (reply, &id, &state, &pid);
      if (r < 0)
        return r;
      if (r == 0)
        break;
      j = id ? g_hash_table_lookup (by_id, id) : NULL;
      if (j == NULL)
        continue;
      if (pid)
        j->pid = pid;
      write_pid (j);
      g_free (j->state);
      j->state = g_steal_pointer (&state);
      if (j->state && strcmp (j->state, "running") == 0)
        running++;
      else if (j->state && strcmp (j->state, "starting") != 0)
        dead++;
    }
  *ret_running = running;
  *ret_dead = dead;
  return 0;
}

static int
wait_all_running (sd_bus *bus, int *ret_running)
{
  uint64_t deadline = now_ns () + 60ULL * 1000000000ULL;
  int r, running = 0, dead = 0;

  for (;;)
    {
      r = refresh (bus, &running, &dead);
      if (r < 0)
        return r;
      *ret_running = running;
      if (running == (int) jobs->len)
        return 0;
      if (dead)
        {
          set_error ("%d job(s) ended before the measurement", dead);
          return -ECHILD;
        }
      if (interrupted)
        return -EINTR;
      if (now_ns () > deadline)
        {
          set_error ("%d of %u jobs running after 60 s", running, jobs->len);
          return -ETIMEDOUT;
        }
      r = pump (bus, 100000);
      if (r < 0)
        return r;
    }
}

static int
measure_windows (sd_bus *bus, Level *lv)
{
  long tck = sysconf (_SC_CLK_TCK);
  int r;

  for (int w = 0; w < opt_windows && w < MAX_WINDOWS; w++)
    {
      long long ns0, ns1, c0, c1;
      uint64_t t0;

      r = wait_ticks (bus, 1);
      if (r < 0)
        return r;
      ns0 = proc_cpu_ns (opt_daemon_pid);
      c0 = proc_cpu_ticks (opt_daemon_pid);
      t0 = now_ns ();
      r = wait_ticks (bus, (unsigned) opt_window_ticks);
      if (r < 0)
        return r;
      ns1 = proc_cpu_ns (opt_daemon_pid);
      c1 = proc_cpu_ticks (opt_daemon_pid);
      if (ns0 < 0 || ns1 < 0 || c0 < 0 || c1 < 0)
        {
          set_error ("cannot read the daemon's CPU time");
          return -ESRCH;
        }
      lv->cpu_ms[w] = (double) (ns1 - ns0) / 1e6 / opt_window_ticks;
      lv->cpu_ms_clk[w] = (double) (c1 - c0) * 1000.0 / (double) tck / opt_window_ticks;
      lv->wall_ms[w] = (double) (now_ns () - t0) / 1e6 / opt_window_ticks;
      lv->n_windows = w + 1;
    }
  return 0;
}

/* Runs the psutil peer over the current pids, keeping the bus drained. */
static int
run_peer (sd_bus *bus, Level *lv)
{
  g_autofree char *win = g_strdup_printf ("%d", opt_windows);
  g_autofree char *tk = g_strdup_printf ("%d", opt_window_ticks);
  g_autofree char *iv = g_strdup_printf ("%d", opt_interval_ms);
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  FILE *f;
  pid_t child;
  int status = 0;

  lv->peer_cpu_ms = NAN;
  if (opt_peer == NULL)
    return 0;
  f = fopen (opt_peer_pids, "we");
  if (f == NULL)
    {
      set_error ("%s: %s", opt_peer_pids, strerror (errno));
      return -errno;
    }
  for (guint i = 0; i < jobs->len; i++)
    {
      Job *j = jobs->pdata[i];
      if (j->pid)
        fprintf (f, "%u\n", j->pid);
    }
  fclose (f);

  fflush (stdout);
  child = fork ();
  if (child < 0)
    return -errno;
  if (child == 0)
    {
      if (freopen (opt_peer_out, "w", stdout) == NULL)
        _exit (126);
      execl (opt_peer_python, opt_peer_python, opt_peer, opt_peer_pids, win, tk, iv, (char *) NULL);
      _exit (127);
    }
  for (;;)
    {
      pid_t w = waitpid (child, &status, WNOHANG);
      if (w == child)
        break;
      if (w < 0 && errno != EINTR)
        return -errno;
      if (interrupted)
        {
          kill (child, SIGKILL);
          waitpid (child, &status, 0);
          return -EINTR;
        }
      (void) pump (bus, 50000);
    }
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      set_error ("psutil peer failed (status %d)", status);
      return 0; /* the daemon's figures still stand */
    }
  if (!g_file_get_contents (opt_peer_out, &out, NULL, &error))
    {
      set_error ("%s", error->message);
      return 0;
    }
  g_strstrip (out);
  if (out[0] != '{')
    {
      set_error ("psutil peer printed no JSON");
      return 0;
    }
  lv->peer_json = g_steal_pointer (&out);
  {
    /* Its median, for the ratio: the one number we read out of it. */
    const char *p = strstr (lv->peer_json, "\"cpu_ms_per_tick\":");
    if (p)
      lv->peer_cpu_ms = g_ascii_strtod (p + strlen ("\"cpu_ms_per_tick\":"), NULL);
  }
  return 0;
}

/* Stops (pipelined) and removes every job we created.  Returns the number
 * of pids still alive afterwards. */
static unsigned
stop_all (sd_bus *bus, double *stop_s)
{
  uint64_t t0 = now_ns ();
  unsigned alive = 0;

  for (guint i = 0; i < jobs->len; i++)
    {
      Job *j = jobs->pdata[i];
      g_autoptr(sd_bus_message) m = NULL;

      if (j->id == NULL)
        continue;
      if (drain_inflight (bus, MAX_INFLIGHT, TRUE) < 0)
        break;
      if (sd_bus_message_new_method_call (bus, &m, BUS_NAME, OBJ_PATH, JOBS_IFACE, "Stop") < 0 ||
          sd_bus_message_append (m, "sa{sv}", j->id, 0) < 0 ||
          sd_bus_call_async (bus, NULL, m, on_stop_reply, j, CALL_TIMEOUT_US) < 0)
        {
          call_errors++;
          continue;
        }
      inflight++;
    }
  (void) drain_inflight (bus, 1, TRUE);
  *stop_s = (double) (now_ns () - t0) / 1e9;

  for (guint i = 0; i < jobs->len; i++)
    {
      Job *j = jobs->pdata[i];
      g_autoptr(sd_bus_message) m = NULL;

      if (j->id == NULL)
        continue;
      if (drain_inflight (bus, MAX_INFLIGHT, TRUE) < 0)
        break;
      if (sd_bus_message_new_method_call (bus, &m, BUS_NAME, OBJ_PATH, JOBS_IFACE, "Remove") < 0 ||
          sd_bus_message_append (m, "s", j->id) < 0 ||
          sd_bus_call_async (bus, NULL, m, on_remove_reply, j, CALL_TIMEOUT_US) < 0)
        {
          call_errors++;
          continue;
        }
      inflight++;
    }
  (void) drain_inflight (bus, 1, TRUE);

  for (guint i = 0; i < jobs->len; i++)
    {
      Job *j = jobs->pdata[i];
      char path[64], buf[512];
      FILE *f;

      if (j->pid == 0)
        continue;
      snprintf (path, sizeof path, "/proc/%u/stat", j->pid);
      f = fopen (path, "re");
      if (f == NULL)
        continue;
      buf[fread (buf, 1, sizeof buf - 1, f)] = '\0';
      fclose (f);
      {
        char *p = strrchr (buf, ')');
        if (p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X')
          alive++;
      }
    }
  return alive;
}

/* ---- JSON ---- */

static void
print_num (const char *key, double v, int decimals, gboolean comma)
{
  if (isnan (v) || isinf (v))
    printf ("%s\"%s\":null", comma ? "," : "", key);
  else
    printf ("%s\"%s\":%.*f", comma ? "," : "", key, decimals, v);
}

static void
print_array (const char *key, const double *v, int n, int decimals)
{
  printf (",\"%s\":[", key);
  for (int i = 0; i < n; i++)
    printf ("%s%.*f", i ? "," : "", decimals, v[i]);
  printf ("]");
}

static int
parse_levels (const char *s, int *out)
{
  g_auto (GStrv) parts = g_strsplit (s, ",", -1);
  int n = 0, prev = -1;

  for (int i = 0; parts[i]; i++)
    {
      char *end;
      long v = strtol (parts[i], &end, 10);
      if (*end || end == parts[i] || v < 0 || v > 100000 || v <= prev || n >= MAX_LEVELS)
        return -1;
      out[n++] = prev = (int) v;
    }
  return n;
}

int
main (int argc, char **argv)
{
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(GError) gerror = NULL;
  sd_bus *bus = NULL;
  sd_bus_slot *slot = NULL;
  int levels[MAX_LEVELS], n_levels, done = 0, ret = 0, r;
  Level lv[MAX_LEVELS] = { 0 };
  RssPoint rss_pts[MAX_RSS_POINTS];
  int n_rss = 0;
  double rss_before = -1, rss_after_create = -1, rss_after_first = -1, rss_after_fill = -1;
  double heap_size = 0, heap_rss = 0, stop_s = 0;
  unsigned fill_ticks_done = 0, alive;
  char *backend = NULL;
  const GOptionEntry entries[] = {
    { "address", 0, 0, G_OPTION_ARG_STRING, &opt_address, "Bus address of the daemon", "ADDR" },
    { "daemon-pid", 0, 0, G_OPTION_ARG_INT, &opt_daemon_pid, "Pid of orchestratord", "PID" },
    { "levels", 0, 0, G_OPTION_ARG_STRING, &opt_levels, "Job counts, ascending (0,200,1000)", "N,N.." },
    { "windows", 0, 0, G_OPTION_ARG_INT, &opt_windows, "Windows per level (3)", "W" },
    { "window-ticks", 0, 0, G_OPTION_ARG_INT, &opt_window_ticks, "Ticks per window (20)", "T" },
    { "settle-ticks", 0, 0, G_OPTION_ARG_INT, &opt_settle_ticks, "Ticks after creating (5)", "T" },
    { "fill-ticks", 0, 0, G_OPTION_ARG_INT, &opt_fill_ticks,
      "Ticks after the last create before the final RSS (310)", "T" },
    { "interval-ms", 0, 0, G_OPTION_ARG_INT, &opt_interval_ms, "The daemon's sample_interval_ms (100)", "MS" },
    { "pids-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_pids_file, "Append job pids here", "FILE" },
    { "peer", 0, 0, G_OPTION_ARG_FILENAME, &opt_peer, "psutil peer script", "FILE" },
    { "peer-python", 0, 0, G_OPTION_ARG_FILENAME, &opt_peer_python, "Python for it", "FILE" },
    { "peer-pids", 0, 0, G_OPTION_ARG_FILENAME, &opt_peer_pids, "Pids file for the peer", "FILE" },
    { "peer-out", 0, 0, G_OPTION_ARG_FILENAME, &opt_peer_out, "Output file of the peer", "FILE" },
    { "budget-cpu-ms", 0, 0, G_OPTION_ARG_DOUBLE, &opt_budget_cpu_ms, "CPU ms per tick at the top level (10)", "MS" },
    { "budget-ratio", 0, 0, G_OPTION_ARG_DOUBLE, &opt_budget_ratio, "psutil / daemon at least (10)", "X" },
    { "budget-rss-mb", 0, 0, G_OPTION_ARG_DOUBLE, &opt_budget_rss_mb, "RSS growth at the top level (40)", "MB" },
    { NULL }
  };

  ctx = g_option_context_new (NULL);
  g_option_context_set_summary (ctx, "Sampling-tick CPU and history RSS benchmark for orchestratord; prints JSON.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &gerror))
    {
      fprintf (stderr, "bench-sample: %s\n", gerror->message);
      return 2;
    }
  n_levels = parse_levels (opt_levels, levels);
  if (opt_address == NULL || opt_daemon_pid <= 0 || n_levels < 1 || opt_windows < 1 ||
      opt_windows > MAX_WINDOWS || opt_window_ticks < 1 || opt_interval_ms < 1 ||
      (opt_peer && (opt_peer_pids == NULL || opt_peer_out == NULL)))
    {
      fprintf (stderr, "bench-sample: need --address, --daemon-pid, sane --levels/--windows/"
               "--window-ticks, and --peer-pids/--peer-out with --peer\n");
      return 2;
    }
  if (opt_pids_file && (pids_out = fopen (opt_pids_file, "ae")) == NULL)
    {
      fprintf (stderr, "bench-sample: %s: %s\n", opt_pids_file, strerror (errno));
      return 2;
    }

  r = sd_bus_new (&bus);
  if (r >= 0)
    r = sd_bus_set_address (bus, opt_address);
  if (r >= 0)
    r = sd_bus_set_bus_client (bus, 1);
  if (r >= 0)
    r = sd_bus_start (bus);
  if (r < 0)
    {
      fprintf (stderr, "bench-sample: cannot connect to the bus: %s\n", strerror (-r));
      return 1;
    }
  {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    r = sd_bus_get_property_string (bus, BUS_NAME, OBJ_PATH, JOBS_IFACE, "Backend", &error, &backend);
    if (r < 0)
      {
        fprintf (stderr, "bench-sample: cannot read Backend: %s\n", error.message ? error.message : strerror (-r));
        sd_bus_error_free (&error);
        return 1;
      }
  }
  {
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
  }
  r = sd_bus_match_signal (bus, &slot, BUS_NAME, OBJ_PATH, METRICS_IFACE, "SystemSampled", on_sampled, NULL);
  if (r < 0)
    {
      fprintf (stderr, "bench-sample: cannot add a match: %s\n", strerror (-r));
      return 1;
    }
  jobs = g_ptr_array_new ();
  by_id = g_hash_table_new (g_str_hash, g_str_equal);

  /* A few ticks with no jobs: the baseline RSS. */
  r = wait_ticks (bus, (unsigned) opt_settle_ticks);
  rss_before = proc_rss_mb (opt_daemon_pid);

  for (int l = 0; l < n_levels && r >= 0; l++)
    {
      gboolean top = l == n_levels - 1;
      unsigned tick_created;
      uint64_t t0 = now_ns ();

      lv[l].jobs = levels[l];
      r = create_up_to (bus, levels[l]);
      if (r >= 0)
        r = wait_all_running (bus, &lv[l].running);
      if (r < 0)
        break;
      tick_created = ticks;
      fprintf (stderr, "bench-sample: %s: %d jobs running (%.2f s to create)\n", backend,
               lv[l].running, (double) (now_ns () - t0) / 1e9);
      if (top)
        rss_after_create = proc_rss_mb (opt_daemon_pid);
      r = wait_ticks (bus, (unsigned) opt_settle_ticks);
      if (r < 0)
        break;
      lv[l].rss_mb = proc_rss_mb (opt_daemon_pid);
      if (top)
        rss_after_first = lv[l].rss_mb;
      r = measure_windows (bus, &lv[l]);
      if (r < 0)
        break;
      r = run_peer (bus, &lv[l]);
      if (r < 0)
        break;
      fprintf (stderr, "bench-sample: %s: %d jobs: daemon %.3f ms/tick, psutil %.3f ms/tick\n",
               backend, levels[l], median_of (lv[l].cpu_ms, lv[l].n_windows), lv[l].peer_cpu_ms);
      done = l + 1;

      if (top && levels[l] > 0)
        {
          /* Until the fine ring of every job is full. */
          while (r >= 0 && ticks - tick_created < (unsigned) opt_fill_ticks)
            {
              unsigned k = MIN (50u, (unsigned) opt_fill_ticks - (ticks - tick_created));
              r = wait_ticks (bus, k);
              if (r >= 0 && n_rss < MAX_RSS_POINTS)
                rss_pts[n_rss++] = (RssPoint){ ticks - tick_created, proc_rss_mb (opt_daemon_pid) };
            }
          fill_ticks_done = ticks - tick_created;
          rss_after_fill = proc_rss_mb (opt_daemon_pid);
          (void) proc_heap_mb (opt_daemon_pid, &heap_size, &heap_rss);
        }
    }
  if (r < 0)
    ret = 1;

  alive = stop_all (bus, &stop_s);
  fprintf (stderr, "bench-sample: %s: stopped and removed %u jobs in %.2f s, %u still alive\n",
           backend, jobs->len, stop_s, alive);
  if (alive)
    ret = 1;

  /* ---- JSON ---- */
  {
    int top = n_levels - 1;
    double top_cpu = done == n_levels ? median_of (lv[top].cpu_ms, lv[top].n_windows) : NAN;
    double top_ratio = done == n_levels ? lv[top].peer_cpu_ms / top_cpu : NAN;
    double growth = rss_after_fill >= 0 ? rss_after_fill - rss_before : NAN;
    double untouched = heap_size - heap_rss;
    double growth_bound = isnan (growth) ? NAN : growth + untouched;

    printf ("{\"backend\":\"%s\",\"interval_ms\":%d,\"windows\":%d,\"window_ticks\":%d,"
            "\"aggregate\":\"cpu figures are the median of the windows; a window is exactly window_ticks "
            "SystemSampled ticks, daemon CPU from schedstat of all its threads\"",
            backend, opt_interval_ms, opt_windows, opt_window_ticks);
    printf (",\"levels\":[");
    for (int l = 0; l < done; l++)
      {
        double d = median_of (lv[l].cpu_ms, lv[l].n_windows);
        printf ("%s{\"jobs\":%d,\"running\":%d", l ? "," : "", lv[l].jobs, lv[l].running);
        print_num ("daemon_cpu_ms_per_tick", d, 3, TRUE);
        print_num ("psutil_cpu_ms_per_tick", lv[l].peer_cpu_ms, 3, TRUE);
        print_num ("ratio", lv[l].jobs > 0 ? lv[l].peer_cpu_ms / d : NAN, 1, TRUE);
        print_num ("daemon_cpu_percent_at_1s", d / 10.0, 3, TRUE);
        print_num ("daemon_cpu_ms_per_tick_clk", median_of (lv[l].cpu_ms_clk, lv[l].n_windows), 2, TRUE);
        print_num ("wall_ms_per_tick", median_of (lv[l].wall_ms, lv[l].n_windows), 1, TRUE);
        print_array ("daemon_cpu_ms_per_tick_windows", lv[l].cpu_ms, lv[l].n_windows, 3);
        print_num ("daemon_rss_mb", lv[l].rss_mb, 2, TRUE);
        printf (",\"psutil\":%s}", lv[l].peer_json ? lv[l].peer_json : "null");
      }
    printf ("]");
    printf (",\"rss\":{\"jobs\":%d", levels[n_levels - 1]);
    print_num ("before_jobs_mb", rss_before, 2, TRUE);
    print_num ("after_create_mb", rss_after_create, 2, TRUE);
    print_num ("after_first_samples_mb", rss_after_first, 2, TRUE);
    print_num ("after_fill_mb", rss_after_fill, 2, TRUE);
    printf (",\"fill_ticks\":%u,\"series\":[", fill_ticks_done);
    for (int i = 0; i < n_rss; i++)
      printf ("%s[%u,%.2f]", i ? "," : "", rss_pts[i].tick, rss_pts[i].rss_mb);
    printf ("]");
    print_num ("heap_size_mb", heap_size, 2, TRUE);
    print_num ("heap_untouched_mb", untouched, 2, TRUE);
    print_num ("growth_mb", growth, 2, TRUE);
    print_num ("growth_bound_mb", growth_bound, 2, TRUE);
    printf (",\"note\":\"growth = after_fill - before_jobs, with every fine ring full; the coarse rings "
            "(one slot per job_history_coarse_step_s) are mostly unwritten, so growth_bound adds every "
            "untouched [heap] page\"}");
    printf (",\"check\":{");
    print_num ("cpu_ms_per_tick", top_cpu, 3, FALSE);
    printf (",\"cpu_ok\":%s", !isnan (top_cpu) && top_cpu <= opt_budget_cpu_ms ? "true" : "false");
    print_num ("ratio_vs_psutil", top_ratio, 1, TRUE);
    printf (",\"ratio_ok\":%s", !isnan (top_ratio) && top_ratio >= opt_budget_ratio ? "true" : "false");
    print_num ("rss_growth_mb", growth, 2, TRUE);
    print_num ("rss_growth_bound_mb", growth_bound, 2, TRUE);
    printf (",\"rss_ok\":%s", !isnan (growth_bound) && growth_bound <= opt_budget_rss_mb ? "true" : "false");
    printf ("}");
    print_num ("stop_total_s", stop_s, 3, TRUE);
    printf (",\"alive_after_stop\":%u,\"call_errors\":%u", alive, call_errors);
    if (ret)
      {
        g_autofree char *esc = g_strescape (interrupted ? "interrupted" : last_error ? last_error : "failed", NULL);
        printf (",\"error\":\"%s\"", esc);
      }
    printf ("}\n");
  }

  for (guint i = 0; i < jobs->len; i++)
    {
      Job *j = jobs->pdata[i];
      g_free (j->id);
      g_free (j->state);
      g_free (j);
    }
  for (int l = 0; l < n_levels; l++)
    g_free (lv[l].peer_json);
  g_ptr_array_unref (jobs);
  g_hash_table_unref (by_id);
  free (backend);
  g_free (last_error);
  sd_bus_slot_unref (slot);
  sd_bus_flush_close_unref (bus);
  if (pids_out)
    fclose (pids_out);
  return ret;
}
