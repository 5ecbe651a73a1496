/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-scale: how the daemon's costs grow with the number of jobs it
 * holds (issue 15: 200 -> 1 000 -> 10 000).  Not a test: the driver is
 * tests/bench/bench-scale.sh, which starts the bus, the daemon and the
 * REST shim and cleans up.
 *
 * For each level of --levels (jobs running, `sleep --sleep-s` (3600: a
 * run to 10 000 jobs takes longer than 10 min here), added to reach the
 * level):
 *   launch      Creates pipelined (--window in flight) until the level,
 *               then every job out of "starting": jobs/s, daemon CPU per
 *               launch (schedstat of all its threads)
 *   rss         daemon VmRSS, settled 2 s
 *   list        List({}) of everything: round trip and daemon CPU, median
 *               of 5
 *   page        List({limit: 100, after}) walked to the end: per page
 *               (daemon CPU: the mean, which a sampler tick landing in
 *               the walk inflates, and the median)
 *   tick        daemon CPU per SystemSampled tick, nobody calling: median
 *               of 3 windows of 3 ticks
 *   rest_jobs   GET /jobs/ on the shim (--rest=HOST:PORT): round trip, CPU
 *               of shim + daemon per request, median of 5
 *   rest_metrics GET /metrics (Prometheus text; --prom-path): the same
 * Then the mass stop: Stop of every job but one, --window in flight,
 * while a second connection calls Get on the one left every 10 ms: the
 * worst and p99 Get round trip during the stop, the stop's wall time, the
 * daemon's CPU per stopped job.  BENCH_STOP_TRACE, if set, is a shell
 * command started just before the mass stop with DAEMON_PID in its
 * environment (e.g. `perf record -g -p $DAEMON_PID -o F` or `strace -c -f
 * -p $DAEMON_PID -o F`; its stdout is /dev/null) and sent SIGINT when
 * the stop is done, SIGTERM 20 s later if it is still there (sh ignores
 * SIGINT in what it runs with &: keep the tracer in the foreground).
 * Then Remove of every job.  One JSON object on stdout; each job pid with
 * its start time to --pids-file.
 */
#include "bench-proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#define BUS_NAME "org.orchestrator"
#define OBJ_PATH "/org/orchestrator"
#define JOBS_IFACE "org.orchestrator.Jobs"
#define TIMEOUT_US (600ULL * 1000000ULL)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sd_bus_message, sd_bus_message_unref)

static const char *opt_address, *opt_levels = "200,1000", *opt_pids_file, *opt_rest,
                                *opt_prom_path = "/metrics";
static int opt_daemon_pid, opt_rest_pid, opt_window = 32, opt_sleep_s = 3600;

static sd_bus *bus, *probe_bus;
static GPtrArray *ids; /* char *, in creation order */
static FILE *pids_out;
static unsigned in_flight, failures;
static char *first_error;

static void
note_error (const sd_bus_error *e, const char *what)
{
  failures++;
  if (first_error == NULL)
    first_error = g_strdup_printf ("%s: %s", what, e && e->message ? e->message : "?");
}

static void
pump (sd_bus *b)
{
  int r;

  while ((r = sd_bus_process (b, NULL)) > 0)
    ;
  if (r < 0)
    {
      fprintf (stderr, "bench-scale: bus: %s\n", strerror (-r));
      exit (1);
    }
}

/* Waits until at most @max calls of ours are in flight on @b. */
static void
drain_to (sd_bus *b, unsigned max)
{
  while (in_flight > max)
    {
      pump (b);
      if (in_flight > max)
        sd_bus_wait (b, 1000000);
    }
}

static double
daemon_ms (void)
{
  return proc_cpu_ns (opt_daemon_pid) / 1e6;
}

/* ------------------------------------------------------------ launch */

static int
create_cb (sd_bus_message *m, void *data, sd_bus_error *ret)
{
  const char *id;

  in_flight -= in_flight > 0;
  if (sd_bus_message_is_method_error (m, NULL))
    note_error (sd_bus_message_get_error (m), "Create");
  else if (sd_bus_message_read (m, "s", &id) >= 0)
    g_ptr_array_add (ids, g_strdup (id));
  return 0;
}

/* How many jobs List({state: @state, limit: @limit}) gives. */
static unsigned
count_state (const char *state, unsigned limit)
{
  g_autoptr(sd_bus_message) reply = NULL;
  sd_bus_error e = SD_BUS_ERROR_NULL;
  unsigned n = 0;
  int r = sd_bus_call_method (bus, BUS_NAME, OBJ_PATH, JOBS_IFACE, "List", &e, &reply, "a{sv}", 2,
                              "state", "s", state, "limit", "u", limit);

  if (r < 0)
    {
      fprintf (stderr, "bench-scale: List: %s\n", e.message ? e.message : strerror (-r));
      exit (1);
    }
  sd_bus_error_free (&e);
  if (sd_bus_message_enter_container (reply, 'a', "a{sv}") < 0)
    return 0;
  while (sd_bus_message_skip (reply, "a{sv}") > 0)
    n++;
  return n;
}

static void
write_pids (unsigned from)
{
  for (unsigned i = from; pids_out && i < ids->len; i++)
    {
      g_autoptr(sd_bus_message) reply = NULL;
      sd_bus_error e = SD_BUS_ERROR_NULL;
      uint32_t pid = 0;

      if (sd_bus_call_method (bus, BUS_NAME, OBJ_PATH, JOBS_IFACE, "Get", &e, &reply, "s",
                              ids->pdata[i]) >= 0 &&
          sd_bus_message_enter_container (reply, 'a', "{sv}") >= 0)
        {
          const char *key;
          while (sd_bus_message_enter_container (reply, 'e', "sv") > 0)
            {
              if (sd_bus_message_read (reply, "s", &key) < 0)
                break;
              if (strcmp (key, "pid") == 0)
                (void) sd_bus_message_read (reply, "v", "u", &pid);
              else
                (void) sd_bus_message_skip (reply, "v");
              (void) sd_bus_message_exit_container (reply);
            }
        }
      sd_bus_error_free (&e);
      if (pid)
        write_job_pid (pids_out, pid);
    }
}

static void
launch_to (unsigned level, GString *out)
{
  unsigned before = ids->len, want = level - MIN (level, ids->len), failed;
  g_autofree char *sleep_arg = g_strdup_printf ("%d", opt_sleep_s);
  double c0 = daemon_ms (), c1;
  uint64_t t0 = now_ns (), t1;

  for (unsigned i = 0; i < want; i++)
    {
      int r;
      drain_to (bus, (unsigned) opt_window - 1);
      r = sd_bus_call_method_async (bus, NULL, BUS_NAME, OBJ_PATH, JOBS_IFACE, "Create", create_cb,
                                    NULL, "a{sv}", 1, "command", "as", 2, "sleep", sleep_arg);
      if (r < 0)
        {
          fprintf (stderr, "bench-scale: Create: %s\n", strerror (-r));
          exit (1);
        }
      in_flight++;
    }
  drain_to (bus, 0);
  while (count_state ("starting", 1) > 0)
    g_usleep (20000);
  t1 = now_ns ();
  c1 = daemon_ms ();
  failed = count_state ("failed", 0);
  write_pids (before);
  g_string_append_printf (out,
                          "\"created\":%u,\"failed\":%u,\"launch_s\":%.3f,\"jobs_per_s\":%.1f,"
                          "\"daemon_cpu_per_launch_ms\":%.3f,",
                          ids->len - before, failed, (t1 - t0) / 1e9,
                          (ids->len - before) / ((t1 - t0) / 1e9), (c1 - c0) / MAX (1u, want));
}

/* ------------------------------------------------------------ list */

static double
median (double *v, unsigned n)
{
  qsort (v, n, sizeof *v, cmp_double);
  return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
measure_list (unsigned level, GString *out)
{
  double ms[5], cpu[5];
  unsigned n = 0, pages = 0, total = 0;
  double page_ms[4096], page_cpus[4096], page_cpu = 0;
  char *after = g_strdup ("");

  for (int k = 0; k < 5; k++)
    {
      g_autoptr(sd_bus_message) reply = NULL;
      sd_bus_error e = SD_BUS_ERROR_NULL;
      double c0 = daemon_ms ();
      uint64_t t0 = now_ns ();
      int r = sd_bus_call_method (bus, BUS_NAME, OBJ_PATH, JOBS_IFACE, "List", &e, &reply, "a{sv}",
                                  0);

      ms[k] = (now_ns () - t0) / 1e6;
      cpu[k] = daemon_ms () - c0;
      if (r < 0)
        note_error (&e, "List");
      sd_bus_error_free (&e);
      if (k == 0 && r >= 0 && sd_bus_message_enter_container (reply, 'a', "a{sv}") >= 0)
        while (sd_bus_message_skip (reply, "a{sv}") > 0)
          n++;
    }
  /* Paged: 100 a page to the end. */
  for (;;)
    {
      g_autoptr(sd_bus_message) reply = NULL;
      sd_bus_error e = SD_BUS_ERROR_NULL;
      double c0 = daemon_ms ();
      uint64_t t0 = now_ns ();
      unsigned got = 0;
      int r = sd_bus_call_method (bus, BUS_NAME, OBJ_PATH, JOBS_IFACE, "List", &e, &reply, "a{sv}",
                                  2, "limit", "u", 100, "after", "s", after);

      if (pages < G_N_ELEMENTS (page_ms))
        {
          page_ms[pages] = (now_ns () - t0) / 1e6;
          page_cpus[pages] = daemon_ms () - c0;
        }
      page_cpu += daemon_ms () - c0;
      pages++;
      if (r < 0)
        {
          note_error (&e, "List page");
          sd_bus_error_free (&e);
          break;
        }
      if (sd_bus_message_enter_container (reply, 'a', "a{sv}") < 0)
        break;
      while (sd_bus_message_enter_container (reply, 'a', "{sv}") > 0)
        {
          const char *key;
          got++;
          while (sd_bus_message_enter_container (reply, 'e', "sv") > 0)
            {
              (void) sd_bus_message_read (reply, "s", &key);
              if (strcmp (key, "id") == 0)
                {
                  const char *id;
                  (void) sd_bus_message_read (reply, "v", "s", &id);
                  g_free (after);
                  after = g_strdup (id);
                }
              else
                (void) sd_bus_message_skip (reply, "v");
              (void) sd_bus_message_exit_container (reply);
            }
          (void) sd_bus_message_exit_container (reply);
        }
      total += got;
      if (got < 100)
        break;
    }
  g_free (after);
  g_string_append_printf (out,
                          "\"list_count\":%u,\"list_ms\":%.3f,\"daemon_cpu_per_list_ms\":%.3f,"
                          "\"page_size\":100,\"pages\":%u,\"paged_count\":%u,\"page_ms_p50\":%.3f,"
                          "\"daemon_cpu_per_page_ms\":%.3f,\"daemon_cpu_per_page_p50_ms\":%.3f,",
                          n, median (ms, 5), median (cpu, 5), pages, total,
                          median (page_ms, MIN (pages, G_N_ELEMENTS (page_ms))),
                          page_cpu / MAX (1u, pages),
                          median (page_cpus, MIN (pages, G_N_ELEMENTS (page_cpus))));
}

/* ------------------------------------------------------------ tick */

static unsigned ticks;

static int
sampled_cb (sd_bus_message *m, void *data, sd_bus_error *ret)
{
  ticks++;
  return 0;
}

static void
wait_ticks (unsigned n)
{
  unsigned until = ticks + n;

  while (ticks < until)
    {
      pump (probe_bus);
      if (ticks < until)
        sd_bus_wait (probe_bus, 5000000);
    }
}

static void
measure_tick (GString *out)
{
  double per[3];

  wait_ticks (1);
  for (int w = 0; w < 3; w++)
    {
      double c0 = daemon_ms ();
      wait_ticks (3);
      per[w] = (daemon_ms () - c0) / 3;
    }
  g_string_append_printf (out, "\"daemon_cpu_per_tick_ms\":%.3f,", median (per, 3));
}

/* ------------------------------------------------------------ REST */

/* GET @path on opt_rest (HOST:PORT), HTTP/1.0: the body's bytes, or -1. */
static long
http_get (const char *path)
{
  g_autofree char *host = g_strdup (opt_rest);
  char *colon = strrchr (host, ':');
  struct sockaddr_in sa = { .sin_family = AF_INET };
  char req[512], buf[65536];
  long total = 0, header = -1;
  ssize_t n;
  int fd;

  if (colon == NULL)
    return -1;
  *colon = '\0';
  sa.sin_port = htons ((uint16_t) atoi (colon + 1));
  if (inet_pton (AF_INET, host, &sa.sin_addr) != 1)
    return -1;
  fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      if (fd >= 0)
        close (fd);
      return -1;
    }
  snprintf (req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n", path,
            opt_rest);
  if (write (fd, req, strlen (req)) != (ssize_t) strlen (req))
    {
      close (fd);
      return -1;
    }
  while ((n = read (fd, buf, sizeof buf)) > 0)
    {
      if (header < 0)
        {
          char *end = g_strstr_len (buf, n, "\r\n\r\n");
          if (end)
            header = total + (end + 4 - buf);
        }
      total += n;
    }
  close (fd);
  return header < 0 ? -1 : total - header;
}

static void
measure_rest (const char *name, const char *path, GString *out)
{
  double ms[5], cpu[5];
  long bytes = -1;

  if (opt_rest == NULL)
    return;
  for (int k = 0; k < 5; k++)
    {
      double c0 = daemon_ms () + proc_cpu_ns (opt_rest_pid) / 1e6;
      uint64_t t0 = now_ns ();
      bytes = http_get (path);
      ms[k] = (now_ns () - t0) / 1e6;
      cpu[k] = daemon_ms () + proc_cpu_ns (opt_rest_pid) / 1e6 - c0;
    }
  g_string_append_printf (out, "\"%s_ms\":%.3f,\"%s_cpu_ms\":%.3f,\"%s_bytes\":%ld,", name,
                          median (ms, 5), name, median (cpu, 5), name, bytes);
}

/* ------------------------------------------------------------ mass stop */

static GArray *probe_ms;
static gboolean probe_busy;
static uint64_t probe_sent;

static int
stop_cb (sd_bus_message *m, void *data, sd_bus_error *ret)
{
  in_flight -= in_flight > 0;
  if (sd_bus_message_is_method_error (m, NULL))
    note_error (sd_bus_message_get_error (m), "Stop");
  return 0;
}

static int
probe_cb (sd_bus_message *m, void *data, sd_bus_error *ret)
{
  double ms = (now_ns () - probe_sent) / 1e6;

  g_array_append_val (probe_ms, ms);
  probe_busy = FALSE;
  if (sd_bus_message_is_method_error (m, NULL))
    note_error (sd_bus_message_get_error (m), "Get (probe)");
  return 0;
}

/* BENCH_STOP_TRACE (see the top): its process group, or 0. */
static pid_t
trace_start (void)
{
  const char *cmd = g_getenv ("BENCH_STOP_TRACE");
  g_autofree char *pid = g_strdup_printf ("%d", opt_daemon_pid);
  pid_t p;

  if (cmd == NULL || *cmd == '\0')
    return 0;
  g_setenv ("DAEMON_PID", pid, TRUE);
  p = fork ();
  if (p == 0)
    {
      int null = open ("/dev/null", O_WRONLY);
      setpgid (0, 0);
      /* Not our stdout: the JSON's pipe, which a tracer left running
       * would hold open. */
      if (null >= 0)
        dup2 (null, STDOUT_FILENO);
      execl ("/bin/sh", "sh", "-c", cmd, (char *) NULL);
      _exit (127);
    }
  if (p > 0)
    {
      setpgid (p, p);
      g_usleep (1500000); /* the tracer attached */
    }
  return p > 0 ? p : 0;
}

static void
trace_stop (pid_t p)
{
  if (p <= 0)
    return;
  /* SIGINT lets perf and strace write what they have; a command that sh
   * ran in the background (&) ignores it, so SIGTERM after 20 s. */
  kill (-p, SIGINT);
  for (int i = 0; i < 200 && waitpid (p, NULL, WNOHANG) == 0; i++)
    g_usleep (100000);
  if (waitpid (p, NULL, WNOHANG) == 0)
    {
      kill (-p, SIGTERM);
      (void) waitpid (p, NULL, 0);
    }
}

static void
mass_stop (GString *out)
{
  /* The newest job answers Get throughout; the others are stopped. */
  const char *target = ids->pdata[ids->len - 1];
  uint64_t t0, t1, next_probe = 0, deadline;
  unsigned sent = 0, n, unanswered;
  double worst = 0, *v, c0, cpu;
  pid_t trace = trace_start ();

  t0 = now_ns ();
  deadline = t0 + TIMEOUT_US * 1000;
  c0 = daemon_ms ();
  probe_ms = g_array_new (FALSE, FALSE, sizeof (double));
  while ((sent < ids->len - 1 || in_flight > 0) && now_ns () < deadline)
    {
      struct pollfd p[2] = { { sd_bus_get_fd (bus), POLLIN, 0 },
                             { sd_bus_get_fd (probe_bus), POLLIN, 0 } };
      uint64_t now = now_ns ();

      while (sent < ids->len - 1 && in_flight < (unsigned) opt_window)
        {
          if (sd_bus_call_method_async (bus, NULL, BUS_NAME, OBJ_PATH, JOBS_IFACE, "Stop", stop_cb,
                                        NULL, "sa{sv}", ids->pdata[sent], 0) < 0)
            exit (1);
          in_flight++;
          sent++;
        }
      if (!probe_busy && now >= next_probe)
        {
          if (sd_bus_call_method_async (probe_bus, NULL, BUS_NAME, OBJ_PATH, JOBS_IFACE, "Get",
                                        probe_cb, NULL, "s", target) < 0)
            exit (1);
          probe_busy = TRUE;
          probe_sent = now;
          next_probe = now + 10 * 1000000ULL;
        }
      pump (bus);
      pump (probe_bus);
      (void) sd_bus_flush (bus);
      (void) sd_bus_flush (probe_bus);
      (void) poll (p, 2, 5);
    }
  cpu = daemon_ms () - c0;
  t1 = now_ns ();
  trace_stop (trace);
  /* Stops the daemon never answered (each is a job it did not stop). */
  unanswered = in_flight;
  in_flight = 0;
  n = probe_ms->len;
  v = (double *) (void *) probe_ms->data;
  qsort (v, n, sizeof *v, cmp_double);
  if (n)
    worst = v[n - 1];
  g_string_append_printf (out,
                          "\"stopped\":%u,\"stop_unanswered\":%u,\"stop_s\":%.3f,"
                          "\"get_during_stop_n\":%u,"
                          "\"get_during_stop_p50_ms\":%.3f,\"get_during_stop_p99_ms\":%.3f,"
                          "\"get_during_stop_max_ms\":%.3f,\"stop_daemon_cpu_ms\":%.1f,"
                          "\"stop_daemon_cpu_us_per_job\":%.1f,",
                          ids->len - 1, unanswered, (t1 - t0) / 1e9, n, n ? v[n / 2] : 0,
                          n ? v[MIN (n - 1, (unsigned) (n * 0.99))] : 0, worst, cpu,
                          cpu * 1000 / (ids->len - 1));
  g_array_free (probe_ms, TRUE);
}

static int
plain_cb (sd_bus_message *m, void *data, sd_bus_error *ret)
{
  in_flight -= in_flight > 0;
  return 0;
}

/* Everything: the probe job too (Stop), then Remove. */
static void
cleanup_jobs (void)
{
  for (int k = 0; k < 2; k++)
    {
      for (unsigned i = 0; i < ids->len; i++)
        {
          int r;
          drain_to (bus, (unsigned) opt_window - 1);
          if (k == 0)
            r = sd_bus_call_method_async (bus, NULL, BUS_NAME, OBJ_PATH, JOBS_IFACE, "Stop",
                                          plain_cb, NULL, "sa{sv}", ids->pdata[i], 0);
          else
            r = sd_bus_call_method_async (bus, NULL, BUS_NAME, OBJ_PATH, JOBS_IFACE, "Remove",
                                          plain_cb, NULL, "s", ids->pdata[i]);
          if (r >= 0)
            in_flight++;
        }
      drain_to (bus, 0);
    }
}

static sd_bus *
connect_bus (void)
{
  sd_bus *b = NULL;
  int r = sd_bus_new (&b);

  if (r >= 0)
    r = sd_bus_set_address (b, opt_address);
  if (r >= 0)
    r = sd_bus_set_bus_client (b, 1);
  if (r >= 0)
    r = sd_bus_start (b);
  if (r < 0)
    {
      fprintf (stderr, "bench-scale: %s: %s\n", opt_address, strerror (-r));
      exit (1);
    }
  (void) sd_bus_set_method_call_timeout (b, TIMEOUT_US);
  return b;
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    { "address", 0, 0, G_OPTION_ARG_STRING, &opt_address, "Bus address", "ADDR" },
    { "daemon-pid", 0, 0, G_OPTION_ARG_INT, &opt_daemon_pid, "orchestratord's pid", "PID" },
    { "levels", 0, 0, G_OPTION_ARG_STRING, &opt_levels, "Job counts, ascending", "N,N,..." },
    { "window", 0, 0, G_OPTION_ARG_INT, &opt_window, "Calls in flight", "N" },
    { "sleep-s", 0, 0, G_OPTION_ARG_INT, &opt_sleep_s, "The jobs' sleep (outlasting the run)",
      "S" },
    { "rest", 0, 0, G_OPTION_ARG_STRING, &opt_rest, "The shim's HOST:PORT", "HOST:PORT" },
    { "rest-pid", 0, 0, G_OPTION_ARG_INT, &opt_rest_pid, "The shim's pid", "PID" },
    { "prom-path", 0, 0, G_OPTION_ARG_STRING, &opt_prom_path, "Prometheus path", "PATH" },
    { "pids-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_pids_file, "Append job pids here", "FILE" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- orchestratord at scale");
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) levels = NULL;
  g_autoptr(GString) out = g_string_new ("{\"levels\":[");

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || opt_address == NULL ||
      opt_daemon_pid <= 0 || opt_window < 1)
    {
      fprintf (stderr, "bench-scale: %s\n", error ? error->message : "--address and --daemon-pid");
      return 2;
    }
  if (opt_pids_file && (pids_out = fopen (opt_pids_file, "ae")) == NULL)
    return 1;
  ids = g_ptr_array_new_with_free_func (g_free);
  bus = connect_bus ();
  probe_bus = connect_bus ();
  if (sd_bus_match_signal (probe_bus, NULL, BUS_NAME, OBJ_PATH, "org.orchestrator.Metrics",
                           "SystemSampled", sampled_cb, NULL) < 0)
    return 1;
  levels = g_strsplit (opt_levels, ",", -1);
  for (char **l = levels; *l; l++)
    {
      unsigned level = (unsigned) atoi (*l);
      g_string_append_printf (out, "%s{\"jobs\":%u,", l == levels ? "" : ",", level);
      launch_to (level, out);
      fprintf (stderr, "bench-scale: %u jobs running\n", ids->len);
      wait_ticks (2);
      g_string_append_printf (out, "\"daemon_rss_kb\":%ld,",
                              (long) proc_status_kb (opt_daemon_pid, "VmRSS"));
      measure_list (level, out);
      measure_tick (out);
      measure_rest ("rest_jobs", "/jobs/", out);
      measure_rest ("rest_metrics", opt_prom_path, out);
      if (out->str[out->len - 1] == ',')
        g_string_truncate (out, out->len - 1);
      g_string_append_c (out, '}');
      /* Each level as it is done: a run cut short still tells. */
      fprintf (stderr, "bench-scale: level %s\n", strrchr (out->str, '{'));
    }
  g_string_append (out, "],\"stop\":{");
  if (ids->len > 1)
    mass_stop (out);
  cleanup_jobs ();
  g_string_append_printf (out, "\"errors\":%u,\"first_error\":", failures);
  if (first_error)
    {
      g_autofree char *q = g_strescape (first_error, NULL);
      g_string_append_printf (out, "\"%s\"}}", q);
    }
  else
    g_string_append (out, "null}}");
  printf ("%s\n", out->str);
  if (pids_out)
    fclose (pids_out);
  return failures ? 1 : 0;
}
