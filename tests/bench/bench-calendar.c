/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-calendar: the cost of one next-elapse computation, what issue 16
 * budgets at < 5 µs: orch_calendar_next() and orch_cron_next() over a
 * varied set of expressions, in process.  Not a test.
 *
 *   bench-calendar [--calls=2000] [--runs=5]
 *
 * Each run times every call on its own (CLOCK_MONOTONIC), each call
 * starting from the previous elapse as a scheduler would, from a base
 * that moves with the run; the run's figure is the median over all its
 * calls, the result the median of the runs.  Prints one JSON object.
 */
#include "basic/orch-calendar.h"
#include "basic/orch-cron.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const calendars[] = {
  "minutely",
  "hourly",
  "daily",
  "weekly",
  "monthly",
  "quarterly",
  "yearly",
  "Mon..Fri *-*-* 09:30",
  "Sat,Sun *-*-* 10,22:00",
  "*-*-* *:0/15",
  "*:*:0/7.25",
  "*-*~1 23:00",
  "Fri *-*-13 12:00",
  "*-02-29 00:00",
  "2024..2199/4-*-* 06:00",
  "*-*-* 02:30 Europe/Madrid",
  "Mon *-*~1..7 08:00 America/New_York",
  "*:0/20 Asia/Kolkata",
  "*-*-1,15 12:00 UTC",
  "*-1,4,7,10-1 00:00:00",
};

static const char *const crons[] = {
  "* * * * *",           "*/5 * * * *",  "0 * * * *",  "30 2 * * *",   "0 9-17 * * mon-fri",
  "*/10 8-18 * * 1,3,5", "0 0 1,15 * *", "0 0 13 * 5", "0 0 */2 * 1",  "0 0 29 2 *",
  "0 0 1 */3 *",         "@weekly",      "@yearly",    "15 4 * * sun",
};

static double
now_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *v, gsize n)
{
  qsort (v, n, sizeof (double), cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One run over all expressions of one kind; the median µs per call, and
 * in *worst the highest per-expression median (its index in *worst_i). */
static double
run_once (gboolean cron, guint calls, gint64 base, GPtrArray *parsed, double *worst, guint *worst_i)
{
  g_autofree double *t = g_new (double, (gsize) calls * parsed->len);
  g_autofree double *one = g_new (double, calls);
  gsize n = 0;

  *worst = 0;
  for (guint e = 0; e < parsed->len; e++)
    {
      gint64 at = base;
      gsize first = n;
      for (guint i = 0; i < calls; i++)
        {
          double t0 = now_us ();
          gboolean ok = cron ? orch_cron_next (parsed->pdata[e], at, &at)
                             : orch_calendar_next (parsed->pdata[e], at, &at);
          t[n++] = now_us () - t0;
          if (!ok)
            at = base;
        }
      memcpy (one, t + first, calls * sizeof (double));
      if (median (one, calls) > *worst)
        *worst = median (one, calls), *worst_i = e;
    }
  return median (t, n);
}

int
main (int argc, char **argv)
{
  gint calls = 2000, runs = 5;
  GOptionEntry entries[] = { { "calls", 0, 0, G_OPTION_ARG_INT, &calls,
                               "calls per expression and run", "N" },
                             { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "runs", "N" },
                             { NULL } };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- next-elapse cost");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) cal = g_ptr_array_new_with_free_func ((GDestroyNotify) orch_calendar_free);
  g_autoptr(GPtrArray) cr = g_ptr_array_new_with_free_func ((GDestroyNotify) orch_cron_free);
  g_autofree double *cal_runs = NULL, *cron_runs = NULL;
  double cal_worst = 0, cron_worst = 0;
  guint cal_worst_i = 0, cron_worst_i = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || calls < 1 || runs < 1 || runs > 100)
    {
      fprintf (stderr, "bench-calendar: %s\n", error ? error->message : "bad arguments");
      return 2;
    }
  /* Local-zone expressions in a zone with DST, as on most hosts. */
  g_setenv ("TZ", "Europe/Madrid", TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (calendars); i++)
    {
      OrchCalendar *c = orch_calendar_parse (calendars[i], &error);
      if (!c)
        {
          fprintf (stderr, "bench-calendar: %s\n", error->message);
          return 1;
        }
      g_ptr_array_add (cal, c);
    }
  for (guint i = 0; i < G_N_ELEMENTS (crons); i++)
    {
      OrchCron *c = orch_cron_parse (crons[i], NULL, &error);
      if (!c)
        {
          fprintf (stderr, "bench-calendar: %s\n", error->message);
          return 1;
        }
      g_ptr_array_add (cr, c);
    }

  cal_runs = g_new (double, runs);
  cron_runs = g_new (double, runs);
  for (gint r = 0; r < runs; r++)
    {
      /* 2026-01-01 plus r weeks and a bit: each run starts elsewhere. */
      gint64 base = (G_GINT64_CONSTANT (1767225600) + r * 7 * 86400 + r * 3607) * G_USEC_PER_SEC;
      double w;
      guint wi;
      cal_runs[r] = run_once (FALSE, (guint) calls, base, cal, &w, &wi);
      if (w > cal_worst)
        cal_worst = w, cal_worst_i = wi;
      cron_runs[r] = run_once (TRUE, (guint) calls, base, cr, &w, &wi);
      if (w > cron_worst)
        cron_worst = w, cron_worst_i = wi;
    }
  printf (
      "{\"calendar_expressions\":%u,\"cron_expressions\":%u,\"calls_per_expression\":%d,\"runs\":%d,",
      cal->len, cr->len, calls, runs);
  printf ("\"calendar_next_us_runs\":[");
  for (gint r = 0; r < runs; r++)
    printf ("%s%.3f", r ? "," : "", cal_runs[r]);
  printf ("],\"cron_next_us_runs\":[");
  for (gint r = 0; r < runs; r++)
    printf ("%s%.3f", r ? "," : "", cron_runs[r]);
  printf ("],\"calendar_next_us\":%.3f,", median (cal_runs, runs));
  printf ("\"cron_next_us\":%.3f,", median (cron_runs, runs));
  /* The slowest expression: its median per call, in its slowest run. */
  printf ("\"calendar_slowest\":{\"expression\":\"%s\",\"us\":%.3f},", calendars[cal_worst_i],
          cal_worst);
  printf ("\"cron_slowest\":{\"expression\":\"%s\",\"us\":%.3f}}\n", crons[cron_worst_i],
          cron_worst);
  return 0;
}
