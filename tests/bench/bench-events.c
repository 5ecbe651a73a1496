/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Event latency: from a job's exit (a kernel event: the process ends) to
 * the JobEvent "exited" signal in a client.  Each job is `date +%s%N`,
 * which prints the real time and exits; the client notes the real time
 * when the signal arrives.  Not a test: prints JSON (median and p95 per
 * run, BENCH_RUNS runs of BENCH_EVENTS jobs each).
 *
 *   ORCHESTRATORD=build/src/orchestratord build/tests/bench/bench-events [none|cgroupfs] | grep -v
 * '^#'
 *
 * (GTest, which the test daemon helpers need, writes lines starting with
 * "#" to stdout too.)
 */
#include "bench-event-wait.h"
#include "orch-test-daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main (int argc, char **argv)
{
  const char *backend = argc > 1 ? argv[1] : "none";
  guint runs = (guint) g_ascii_strtoull (g_getenv ("BENCH_RUNS") ? g_getenv ("BENCH_RUNS") : "3",
                                         NULL, 10);
  guint n = (guint) g_ascii_strtoull (g_getenv ("BENCH_EVENTS") ? g_getenv ("BENCH_EVENTS") : "40",
                                      NULL, 10);
  g_autofree char *skip = NULL;
  OrchTestDaemon *d;
  Wait w = { .kind = "exited" };
  guint sub;
  GString *out = g_string_new (NULL);

  /* The test daemon helpers want GTest; quiet, so stdout is the JSON. */
  {
    char *targv[] = { argv[0], (char *) "--quiet", NULL };
    char **tp = targv;
    int targc = 2;
    g_test_init (&targc, &tp, NULL);
  }
  d = orch_test_daemon_new (backend, NULL, &skip);
  if (d == NULL)
    {
      fprintf (stderr, "bench-events: cannot run here: %s\n", skip);
      return 77;
    }
  sub = g_dbus_connection_signal_subscribe (d->conn, NULL, "org.orchestrator.Jobs", "JobEvent",
                                            "/org/orchestrator", NULL, 0, on_event, &w, NULL);
  g_string_append_printf (
      out,
      "{\"bench\":\"events\",\"backend\":\"%s\",\"what\":\"job exit -> JobEvent exited, ms\",\"runs\":[",
      backend);
  for (guint r = 0; r < runs; r++)
    {
      g_autofree double *lat = g_new0 (double, n);
      for (guint i = 0; i < n; i++)
        {
          g_autofree char *id = orch_test_create (d, "{'command': <['date', '+%s%N']>}", NULL);
          g_autofree char *log = NULL;
          gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
          guint64 printed_ns;

          g_assert_nonnull (id);
          w.want = id;
          w.heard_us = 0;
          while (w.heard_us == 0 && g_get_monotonic_time () < deadline)
            g_main_context_iteration (NULL, TRUE);
          g_assert_cmpint (w.heard_us, >, 0);
          log = orch_test_log_text (d, id);
          printed_ns = g_ascii_strtoull (log, NULL, 10);
          lat[i] = ((double) w.heard_us * 1000.0 - (double) printed_ns) / 1e6;
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
