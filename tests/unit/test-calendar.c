/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The schedulers' expression parsers: errors name the field and the
 * position, bad input never crashes.  What the expressions mean is the
 * oracle tests' job (test-calendar-oracle.py, test-cron-oracle.py). */
#include "basic/orch-calendar.h"
#include "basic/orch-cron.h"
#include "basic/orch-error.h"

#include <glib.h>
#include <string.h>

#define USEC(s) ((gint64) (s) *G_USEC_PER_SEC)

typedef struct {
  const char *text, *field;
  guint pos;
} BadCase;

static void
check_error (const GError *error, const BadCase *b)
{
  g_autofree char *at = g_strdup_printf ("%s at character %u:", b->field, b->pos);

  g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
  if (!strstr (error->message, at))
    g_error ("“%s”: “%s” lacks “%s”", b->text, error->message, at);
}

static void
test_calendar_errors (void)
{
  static const BadCase cases[] = {
    { "bad", "date or time", 1 },
    { "*-13-01", "month", 3 },
    { "*-*-32", "day", 5 },
    { "*-*-0", "day", 5 },
    { "1969-01-01", "year", 1 },
    { "2200-01-01", "year", 1 },
    { "24:00", "hour", 1 },
    { "12:60", "minute", 4 },
    { "12:00:60", "second", 7 },
    { "Mon..Tue..Wed", "weekday", 9 },
    { "Fri..Mon", "weekday", 6 },
    { "Mon..", "weekday", 6 },
    { "Mo 10:00", "date or time", 1 },
    { "*:*:1.", "second", 7 },
    { "*:0/0", "minute", 5 },
    { "*-*~29", "day", 5 },
    { "*-*~11/8,28/5", "day", 10 },
    { "*-*-* 10:00 Europe/Nowhere", "second", 1 },
    { "12:00x Europe/Madrid", "minute", 6 },
    { "1-2-3-4", "date", 6 },
    { "*:*:99999999999999", "second", 5 },
    { "Mon @x", "timestamp", 5 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(OrchCalendar) c = orch_calendar_parse (cases[i].text, &error);

      g_assert_null (c);
      /* "Europe/Nowhere" is no zone, so it is read as the seconds field. */
      if (strcmp (cases[i].text, "*-*-* 10:00 Europe/Nowhere") == 0)
        {
          g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
          continue;
        }
      check_error (error, &cases[i]);
      g_assert_nonnull (strstr (error->message, cases[i].text));
    }
}

static void
test_calendar_empty (void)
{
  const char *empty[] = { "", " UTC", "UTC" };

  for (guint i = 0; i < G_N_ELEMENTS (empty); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(OrchCalendar) c = orch_calendar_parse (empty[i], &error);
      g_assert_null (c);
      g_assert_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
    }
}

static void
test_calendar_normalize (void)
{
  static const char *const cases[][2] = {
    { "daily", "*-*-* 00:00:00" },
    { "weekly", "Mon *-*-* 00:00:00" },
    { "quarterly UTC", "*-01,04,07,10-01 00:00:00 UTC" },
    { "mon-wed,fri 1:2:3.5", "Mon..Wed,Fri *-*-* 01:02:03.500000" },
    { "*:01..07/5", "*-*-* *:01..06/5:00" },
    { "2~1", "*-02~01 00:00:00" },
    { "69-1-1", "2069-01-01 00:00:00" },
    { "*-*-* 10:00 Europe/Madrid", "*-*-* 10:00:00 Europe/Madrid" },
    { "@1700000000", "2023-11-14 22:13:20 UTC" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(OrchCalendar) c = orch_calendar_parse (cases[i][0], &error);
      g_autofree char *n = NULL;

      g_assert_no_error (error);
      n = orch_calendar_normalize (c);
      g_assert_cmpstr (n, ==, cases[i][1]);
    }
}

static void
test_calendar_next (void)
{
  g_autoptr(OrchCalendar) daily = orch_calendar_parse ("daily UTC", NULL);
  g_autoptr(OrchCalendar) madrid = orch_calendar_parse ("*-*-* 02:30 Europe/Madrid", NULL);
  g_autoptr(OrchCalendar) past = orch_calendar_parse ("2020-01-01", NULL);
  g_autoptr(OrchCalendar) frac = orch_calendar_parse ("*:*:0/0.25 UTC", NULL);
  gint64 t;

  /* Strictly after: an elapse time is not its own successor. */
  g_assert_true (orch_calendar_next (daily, USEC (1767225600) - 1, &t));
  g_assert_cmpint (t, ==, USEC (1767225600));
  g_assert_true (orch_calendar_next (daily, t, &t));
  g_assert_cmpint (t, ==, USEC (1767225600 + 86400));
  /* 2026-03-29 02:30 does not exist in Madrid: the next is the 30th. */
  g_assert_true (orch_calendar_next (madrid, USEC (1774742400), &t));
  g_assert_cmpint (t, ==, USEC (1774830600));
  g_assert_false (orch_calendar_next (past, USEC (1767225600), &t));
  g_assert_true (orch_calendar_uses_local_zone (past));
  g_assert_false (orch_calendar_uses_local_zone (daily));
  g_assert_false (orch_calendar_uses_local_zone (madrid));
  g_assert_false (orch_calendar_next (daily, G_MAXINT64, &t));
  g_assert_true (orch_calendar_next (frac, USEC (1767225600), &t));
  g_assert_cmpint (t, ==, USEC (1767225600) + 250000);
}

static void
test_cron_errors (void)
{
  static const BadCase cases[] = {
    { "60 * * * *", "minute", 1 },          { "* 24 * * *", "hour", 3 },
    { "* * 0 * *", "day of month", 5 },     { "* * * 13 *", "month", 7 },
    { "* * * * 8", "day of week", 9 },      { "5/10 * * * *", "minute", 2 },
    { "*/0 * * * *", "minute", 3 },         { "5-3 * * * *", "minute", 1 },
    { "0 0 * * monday", "day of week", 9 }, { "0 0 * foo *", "month", 7 },
    { "0 0 L * *", "day of month", 5 },     { "0 0 * * 1#2", "day of week", 10 },
    { "*-5 * * * *", "minute", 2 },         { "0,,1 * * * *", "minute", 3 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(OrchCron) c = orch_cron_parse (cases[i].text, NULL, &error);

      g_assert_null (c);
      check_error (error, &cases[i]);
    }
}

static void
test_cron_whole (void)
{
  const char *bad[] = { "", "* * * *", "* * * * * *", "@reboot", "@Daily", "@every 5m" };
  g_autoptr(GError) error = NULL;
  g_autoptr(OrchCron) c = NULL;
  g_autofree char *n = NULL;
  gint64 t;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) e = NULL;
      g_autoptr(OrchCron) x = orch_cron_parse (bad[i], NULL, &e);
      g_assert_null (x);
      g_assert_error (e, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
    }
  {
    g_autoptr(GError) e = NULL;
    g_autoptr(OrchCron) x = orch_cron_parse ("@reboot", NULL, &e);
    g_assert_nonnull (strstr (e->message, "@reboot is not a time"));
  }
  {
    g_autoptr(GError) e = NULL;
    g_autoptr(OrchCron) x = orch_cron_parse ("@daily", "Mars/Olympus", &e);
    g_assert_error (e, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT);
  }

  c = orch_cron_parse ("@weekly", "UTC", &error);
  g_assert_no_error (error);
  g_assert_false (orch_cron_uses_local_zone (c));
  n = orch_cron_normalize (c);
  g_assert_cmpstr (n, ==, "0 0 * * 0 UTC");
  /* Thursday 2026-01-01 -> Sunday 2026-01-04. */
  g_assert_true (orch_cron_next (c, USEC (1767225600), &t));
  g_assert_cmpint (t, ==, USEC (1767484800));
  g_clear_pointer (&c, orch_cron_free);

  /* Both day fields restricted: either matches (the 13th, or a Friday). */
  c = orch_cron_parse ("0 0 13 * 5", "UTC", &error);
  g_assert_no_error (error);
  g_assert_true (orch_cron_next (c, USEC (1767225600), &t));
  g_assert_cmpint (t, ==, USEC (1767225600 + 86400)); /* Friday the 2nd */
  g_clear_pointer (&c, orch_cron_free);

  /* A date that never comes: parsed, never runs. */
  c = orch_cron_parse ("0 0 31 2 *", "UTC", &error);
  g_assert_no_error (error);
  g_assert_false (orch_cron_next (c, USEC (1767225600), &t));
}

/* Mutations of valid expressions and plain garbage: every parse either
 * fails with a message or gives something whose next elapses come. */
static void
test_garbage (void)
{
  static const char *const seeds[] = {
    "Mon..Fri *-*-* 10:00:00",
    "*-*~1..7/2 02:30:15.5 Europe/Madrid",
    "quarterly",
    "@1700000000",
    "0 9-17/2 * jan-mar mon-fri",
    "*/15 * 1,15 * *",
    "2024..2030/2-02-29 *:0/7:0/0.125 UTC",
  };
  static const char alphabet[] = "0123456789*-~:.,/@ MonTueFriSatSunJanFebUTC\t";
  GRand *rand = g_rand_new_with_seed (16);
  guint parsed = 0;

  for (guint i = 0; i < 50000; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *text = NULL;
      gint64 t = USEC (1767225600);

      if (i % 4 == 0)
        {
          gsize n = g_rand_int_range (rand, 0, 40);
          text = g_malloc (n + 1);
          for (gsize k = 0; k < n; k++)
            text[k] = (char) (i % 8 == 0
                                  ? g_rand_int_range (rand, 1, 256)
                                  : alphabet[g_rand_int_range (rand, 0, sizeof alphabet - 1)]);
          text[n] = '\0';
        }
      else
        {
          GString *s = g_string_new (seeds[g_rand_int_range (rand, 0, G_N_ELEMENTS (seeds))]);
          for (gint m = g_rand_int_range (rand, 1, 4); m > 0 && s->len > 0; m--)
            {
              gsize at = g_rand_int_range (rand, 0, (gint32) s->len);
              char ch = alphabet[g_rand_int_range (rand, 0, sizeof alphabet - 1)];
              switch (g_rand_int_range (rand, 0, 3))
                {
                case 0:
                  s->str[at] = ch;
                  break;
                case 1:
                  g_string_insert_c (s, at, ch);
                  break;
                default:
                  g_string_erase (s, at, 1);
                }
            }
          text = g_string_free (s, FALSE);
        }

      if (i % 2 == 0)
        {
          g_autoptr(OrchCalendar) c = orch_calendar_parse (text, &error);
          if (c)
            {
              g_autofree char *n = orch_calendar_normalize (c);
              parsed++;
              for (int k = 0; k < 3 && orch_calendar_next (c, t, &t); k++)
                ;
            }
          else
            g_assert_nonnull (error->message);
        }
      else
        {
          g_autoptr(OrchCron) c = orch_cron_parse (text, NULL, &error);
          if (c)
            {
              g_autofree char *n = orch_cron_normalize (c);
              parsed++;
              for (int k = 0; k < 3 && orch_cron_next (c, t, &t); k++)
                ;
            }
          else
            g_assert_nonnull (error->message);
        }
    }
  g_assert_cmpuint (parsed, >, 100);
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  /* Expressions without a zone follow the local one: fix it. */
  g_setenv ("TZ", "UTC", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/calendar/errors", test_calendar_errors);
  g_test_add_func ("/calendar/empty", test_calendar_empty);
  g_test_add_func ("/calendar/normalize", test_calendar_normalize);
  g_test_add_func ("/calendar/next", test_calendar_next);
  g_test_add_func ("/cron/errors", test_cron_errors);
  g_test_add_func ("/cron/whole", test_cron_whole);
  g_test_add_func ("/schedule-expr/garbage", test_garbage);
  return g_test_run ();
}
