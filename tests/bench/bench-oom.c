/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OOM latency: from the kernel's OOM kill in a job's group to the
 * JobEvent "oom_kill" signal in a client.  Each job's shell runs a Python
 * program that allocates 1 MiB at a time under memory_max 64 MiB and
 * writes the real time before each step, so the last time it wrote is at
 * most one step before the kill (the figure errs long); the shell lives
 * on, so only the kernel's notification can tell the daemon.  Not a
 * test: prints JSON (median, p95, max per run; BENCH_RUNS runs of
 * BENCH_EVENTS jobs).  Needs a backend with a memory counter for its
 * jobs (cgroupfs on a hybrid host with v1 memory, or on cgroup v2).
 *
 *   ORCHESTRATORD=build/src/orchestratord build/tests/bench/bench-oom cgroupfs | grep -v '^#'
 */
#include "bench-event-wait.h"
#include "orch-test-daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char hog_py[] = "import os, sys, time\n"
                             "fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)\n"
                             "b = []\n"
                             "while True:\n"
                             "    os.pwrite(fd, b'%020d' % time.time_ns(), 0)\n"
                             "    b.append(b'x' * (1 << 20))\n";

static guint
env_uint (const char *name, const char *fallback)
{
  return (guint) g_ascii_strtoull (g_getenv (name) ? g_getenv (name) : fallback, NULL, 10);
}

int
main (int argc, char **argv)
{
  const char *backend = argc > 1 ? argv[1] : "cgroupfs";
  guint runs = env_uint ("BENCH_RUNS", "3"), n = env_uint ("BENCH_EVENTS", "10");
  g_autofree char *skip = NULL, *hog = NULL, *stamp = NULL;
  OrchTestDaemon *d;
  Wait w = { .kind = "oom_kill" };
  guint sub;
  GString *out = g_string_new (NULL);

  {
    char *targv[] = { argv[0], (char *) "--quiet", NULL };
    char **tp = targv;
    int targc = 2;
    g_test_init (&targc, &tp, NULL);
  }
  d = orch_test_daemon_new (backend, NULL, &skip);
  if (d == NULL)
    {
      fprintf (stderr, "bench-oom: cannot run here: %s\n", skip);
      return 77;
    }
  hog = g_build_filename (d->scratch, "hog.py", NULL);
  stamp = g_build_filename (d->scratch, "stamp", NULL);
  g_assert_true (g_file_set_contents (hog, hog_py, -1, NULL));
  sub = g_dbus_connection_signal_subscribe (d->conn, NULL, "org.orchestrator.Jobs", "JobEvent",
                                            "/org/orchestrator", NULL, 0, on_event, &w, NULL);
  g_string_append_printf (out,
                          "{\"bench\":\"oom\",\"backend\":\"%s\",\"what\":\"OOM kill -> JobEvent "
                          "oom_kill, ms\",\"runs\":[",
                          backend);
  for (guint r = 0; r < runs; r++)
    {
      g_autofree double *lat = g_new0 (double, n);
      for (guint i = 0; i < n; i++)
        {
          g_autofree char *spec = g_strdup_printf (
              "{'command': <['sh', '-c', '/usr/bin/python3 %s %s; exec sleep 600']>,"
              " 'memory_max': <uint64 67108864>}",
              hog, stamp);
          g_autoptr(GError) error = NULL;
          g_autofree char *id = orch_test_create (d, spec, &error);
          g_autofree char *text = NULL;
          gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

          if (id == NULL)
            {
              fprintf (stderr, "bench-oom: cannot run here: %s\n", error->message);
              orch_test_daemon_free (d);
              return 77;
            }
          w.want = id;
          w.heard_us = 0;
          while (w.heard_us == 0 && g_get_monotonic_time () < deadline)
            g_main_context_iteration (NULL, TRUE);
          g_assert_cmpint (w.heard_us, >, 0);
          g_assert_true (g_file_get_contents (stamp, &text, NULL, NULL));
          lat[i] = ((double) w.heard_us * 1000.0 - (double) g_ascii_strtoull (text, NULL, 10)) /
                   1e6;
          w.want = NULL;
          orch_test_discard (d, id);
        }
      qsort (lat, n, sizeof (double), cmp_double);
      g_string_append_printf (
          out, "%s{\"n\":%u,\"median_ms\":%.3f,\"p95_ms\":%.3f,\"max_ms\":%.3f}", r ? "," : "", n,
          lat[n / 2], lat[(n * 95) / 100 < n ? (n * 95) / 100 : n - 1], lat[n - 1]);
    }
  g_string_append (out, "]}\n");
  fputs (out->str, stdout);
  g_dbus_connection_signal_unsubscribe (d->conn, sub);
  orch_test_daemon_free (d);
  g_string_free (out, TRUE);
  return 0;
}
