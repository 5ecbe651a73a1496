/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * calendar-next: drives the calendar engine for the oracle test, not
 * installed.  For each expression, one line:
 *
 *   EXPR<TAB>ok<TAB>NORMALIZED<TAB>SECONDS...      (the next --iterations)
 *   EXPR<TAB>error<TAB>MESSAGE
 *
 * the elapse times as µs since the epoch, each computed from the previous
 * one as systemd-analyze calendar --iterations does.  With --cron, the
 * expressions are crontab(5) ones, in --tz (default: the local zone).
 */
#include "basic/orch-calendar.h"
#include "basic/orch-cron.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main (int argc, char **argv)
{
  gint iterations = 10;
  gint64 base = 0;
  gboolean from_stdin = FALSE, cron = FALSE;
  g_autofree char *tz = NULL;
  GOptionEntry entries[] = {
    { "iterations", 0, 0, G_OPTION_ARG_INT, &iterations, "elapse times per expression", "N" },
    { "base", 0, 0, G_OPTION_ARG_INT64, &base, "base time, µs since the epoch", "USEC" },
    { "stdin", 0, 0, G_OPTION_ARG_NONE, &from_stdin, "read expressions from stdin, one a line",
      NULL },
    { "cron", 0, 0, G_OPTION_ARG_NONE, &cron, "crontab expressions", NULL },
    { "tz", 0, 0, G_OPTION_ARG_STRING, &tz, "the cron expressions' time zone", "ZONE" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("EXPR...");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) exprs = g_ptr_array_new_with_free_func (g_free);

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "calendar-next: %s\n", error->message);
      return 2;
    }
  for (int i = 1; i < argc; i++)
    g_ptr_array_add (exprs, g_strdup (argv[i]));
  if (from_stdin)
    {
      char line[4096];
      while (fgets (line, sizeof line, stdin))
        {
          line[strcspn (line, "\n")] = '\0';
          g_ptr_array_add (exprs, g_strdup (line));
        }
    }
  for (guint i = 0; i < exprs->len; i++)
    {
      const char *e = exprs->pdata[i];
      g_autoptr(GError) err = NULL;
      g_autoptr(OrchCalendar) c = cron ? NULL : orch_calendar_parse (e, &err);
      g_autoptr(OrchCron) cr = cron ? orch_cron_parse (e, tz, &err) : NULL;
      g_autofree char *norm = NULL;
      gint64 t = base;

      if (!c && !cr)
        {
          printf ("%s\terror\t%s\n", e, err->message);
          continue;
        }
      norm = c ? orch_calendar_normalize (c) : orch_cron_normalize (cr);
      printf ("%s\tok\t%s\t", e, norm);
      for (gint k = 0; k < iterations; k++)
        {
          if (c ? !orch_calendar_next (c, t, &t) : !orch_cron_next (cr, t, &t))
            break;
          printf ("%s%" G_GINT64_FORMAT, k ? " " : "", t);
        }
      printf ("\n");
    }
  return 0;
}
