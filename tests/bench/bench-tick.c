/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-tick: CPU time of the sampler's system figures, one tick with no
 * jobs, in process (no bus, no main loop): what docs/ARCHITECTURE.md's "system
 * figures per sample" row budgets.  Not a test.
 *
 *   bench-tick [--ticks=2000] [--windows=5] [--interval-ms=100]
 *
 * Runs orch_sampler_tick() back to back, --windows windows of --ticks
 * each; CPU from getrusage (user + system) per tick, median of the
 * windows.  --interval-ms sets [metrics] sample_interval_ms, which decides
 * how often the slower parts (process count, per-disk figures) are read.
 * Prints one JSON object on stdout.
 */
#include "basic/orch-config.h"
#include "core/orch-sampler.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static double
cpu_us (void)
{
  struct rusage r;

  getrusage (RUSAGE_SELF, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
}

static void
sampled (OrchSampler *s, gpointer user_data)
{
  /* What the daemon does, but for the bus message. */
  OrchSampleField fields[ORCH_SAMPLE_MAX_FIELDS];
  volatile guint n = orch_sampler_system_fields (s, fields);
  (void) n;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

int
main (int argc, char **argv)
{
  gint ticks = 2000, windows = 5, interval_ms = 100;
  GOptionEntry entries[] = {
    { "ticks", 0, 0, G_OPTION_ARG_INT, &ticks, "ticks per window", "N" },
    { "windows", 0, 0, G_OPTION_ARG_INT, &windows, "windows", "N" },
    { "interval-ms", 0, 0, G_OPTION_ARG_INT, &interval_ms, "sample_interval_ms", "MS" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- sampler tick CPU, no jobs");
  g_autoptr(GError) error = NULL;
  g_autoptr(OrchConfig) config = orch_config_new ();
  g_autoptr(OrchSampler) s = NULL;
  g_autofree double *per_tick = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || ticks < 1 || windows < 1 ||
      windows > 100 || interval_ms < 10)
    {
      fprintf (stderr, "bench-tick: %s\n", error ? error->message : "bad arguments");
      return 2;
    }
  config->sample_interval_ms = (guint) interval_ms;
  s = orch_sampler_new (config, NULL, NULL, sampled, NULL, &error);
  if (s == NULL)
    {
      fprintf (stderr, "bench-tick: %s\n", error->message);
      return 1;
    }
  per_tick = g_new (double, windows);
  for (gint w = 0; w < windows; w++)
    {
      double t0 = cpu_us ();
      for (gint i = 0; i < ticks; i++)
        orch_sampler_tick (s);
      per_tick[w] = (cpu_us () - t0) / ticks;
    }
  printf ("{\"ticks_per_window\":%d,\"interval_ms\":%d,\"us_per_tick_windows\":[", ticks, interval_ms);
  for (gint w = 0; w < windows; w++)
    printf ("%s%.1f", w ? "," : "", per_tick[w]);
  qsort (per_tick, (size_t) windows, sizeof (double), cmp_double);
  printf ("],\"us_per_tick\":%.1f}\n", per_tick[windows / 2]);
  return 0;
}
