/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-cron.h"
#include "orch-error.h"
#include "orch-tz.h"

#include <glib/gi18n.h>
#include <string.h>

/* Vixie cron (entry.c, cron.c) is the reference for what an expression
 * means; tests/unit/test-cron-oracle.py checks us against python3-croniter
 * and lists where croniter and Vixie part ways. */

#define USEC_PER_MINUTE G_GINT64_CONSTANT (60000000)
/* Vixie runs fixed-time jobs skipped by a forward jump of less than 3 h. */
#define MAX_DST_JUMP (3 * 3600)

typedef enum { C_MINUTE, C_HOUR, C_DOM, C_MONTH, C_DOW, N_CFIELDS } CField;

struct _OrchCron {
  guint64 bits[N_CFIELDS];     /* bit n: value n is allowed (dow: 0 = Sunday) */
  gboolean dom_star, dow_star; /* the field starts with "*" */
  gboolean fixed_time;         /* neither minute nor hour starts with "*" */
  char *fields[N_CFIELDS];     /* as written, for the normalized form */
  char *timezone;
  OrchTz *tz;
};

typedef struct {
  const char *text;
  GError **error;
} CronParser;

static const struct {
  int low, high;
  const char *const *names;
} ranges[N_CFIELDS] = {
  { 0, 59, NULL },
  { 0, 23, NULL },
  { 1, 31, NULL },
  { 1, 12,
    (const char *const[]){ "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                           "nov", "dec", NULL } },
  { 0, 7, (const char *const[]){ "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL } },
};

static const char *
cfield_name (CField f)
{
  switch (f)
    {
    case C_MINUTE:
      return _("minute");
    case C_HOUR:
      return _("hour");
    case C_DOM:
      return _("day of month");
    case C_MONTH:
      return _("month");
    case C_DOW:
    default:
      return _("day of week");
    }
}

static gboolean
cfail (CronParser *ps, const char *at, CField f, const char *what)
{
  g_set_error (ps->error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
               _("cron expression “%s”: %s at character %u: %s"), ps->text, cfield_name (f),
               (guint) (at - ps->text) + 1, what);
  return FALSE;
}

void
orch_cron_free (OrchCron *c)
{
  if (c == NULL)
    return;
  for (int i = 0; i < N_CFIELDS; i++)
    g_free (c->fields[i]);
  g_free (c->timezone);
  g_clear_pointer (&c->tz, orch_tz_unref);
  g_free (c);
}

static gboolean
is_blank (char ch)
{
  return ch == ' ' || ch == '\t';
}

static gboolean
at_field_end (char ch)
{
  return ch == '\0' || is_blank (ch) || ch == ',';
}

/* A number or, where the field has them, a three-letter name (as Vixie's
 * get_number: letters and digits up to a separator, then a whole match). */
static gboolean
get_number (CronParser *ps, const char **p, CField f, gboolean names, int *ret)
{
  const char *s = *p, *e = s;
  gsize n;

  while (g_ascii_isalnum (*e))
    e++;
  n = e - s;
  if (n == 0)
    return cfail (ps, s, f, _("expected a number"));
  if (strspn (s, "0123456789") >= n)
    {
      int v = 0;
      for (const char *d = s; d < e; d++)
        {
          if (v > 100000)
            return cfail (ps, s, f, _("the number is too large"));
          v = v * 10 + (*d - '0');
        }
      *ret = v;
      *p = e;
      return TRUE;
    }
  if (names && ranges[f].names && n == 3)
    for (int i = 0; ranges[f].names[i]; i++)
      if (g_ascii_strncasecmp (s, ranges[f].names[i], 3) == 0)
        {
          *ret = i + ranges[f].low;
          *p = e;
          return TRUE;
        }
  return cfail (ps, s, f,
                ranges[f].names ? _("not a number nor a name of this field")
                                : _("expected a number"));
}

static gboolean
check_value (CronParser *ps, const char *at, CField f, int v)
{
  if (v < ranges[f].low || v > ranges[f].high)
    {
      g_autofree char *what = g_strdup_printf (_("values must be within %d..%d"), ranges[f].low,
                                               ranges[f].high);
      return cfail (ps, at, f, what);
    }
  return TRUE;
}

/* One field: a comma-separated list of "*", N, N-M, with "/STEP" after "*"
 * or a range. */
static gboolean
parse_field (CronParser *ps, const char **p, CField f, OrchCron *c)
{
  const char *s = *p;
  guint64 bits = 0;

  if (*s == '*')
    {
      if (f == C_DOM)
        c->dom_star = TRUE;
      else if (f == C_DOW)
        c->dow_star = TRUE;
      else if (f == C_MINUTE || f == C_HOUR)
        c->fixed_time = FALSE;
    }
  for (;;)
    {
      const char *at = s;
      int lo, hi, step = 1;
      gboolean range;

      if (*s == '*')
        {
          lo = ranges[f].low, hi = ranges[f].high;
          s++;
          range = TRUE;
        }
      else
        {
          if (!get_number (ps, &s, f, TRUE, &lo) || !check_value (ps, at, f, lo))
            return FALSE;
          hi = lo;
          range = *s == '-';
          if (range)
            {
              const char *h = ++s;
              if (!get_number (ps, &s, f, TRUE, &hi) || !check_value (ps, h, f, hi))
                return FALSE;
              /* Vixie silently never runs "5-3"; that is a mistake to report. */
              if (hi < lo)
                return cfail (ps, at, f, _("the range goes backwards"));
            }
        }
      if (*s == '/')
        {
          const char *st = ++s;
          /* Vixie takes a step only after "*" or a range; "5/10" is an error there. */
          if (!range)
            return cfail (ps, st - 1, f, _("a step needs “*” or a range before it"));
          if (!g_ascii_isdigit (*s))
            return cfail (ps, st, f, _("expected a number"));
          if (!get_number (ps, &s, f, FALSE, &step))
            return FALSE;
          if (step == 0)
            return cfail (ps, st, f, _("the step must not be 0"));
        }
      if (!at_field_end (*s))
        return cfail (ps, s, f, _("unexpected character"));
      for (int v = lo; v <= hi; v += step)
        bits |= G_GUINT64_CONSTANT (1) << v;
      if (*s != ',')
        break;
      s++;
    }
  if (f == C_DOW && (bits & (1 << 7)))
    bits = (bits | 1) & 0x7f; /* 7 is Sunday too */
  c->bits[f] = bits;
  c->fields[f] = g_strndup (*p, s - *p);
  *p = s;
  return TRUE;
}

OrchCron *
orch_cron_parse (const char *text, const char *zone, GError **error)
{
  static const struct {
    const char *name, *fields;
  } macros[] = {
    { "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
    { "@weekly", "0 0 * * 0" }, { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
    { "@hourly", "0 * * * *" },
  };
  g_autoptr(OrchCron) c = g_new0 (OrchCron, 1);
  CronParser ps = { text, error };
  const char *p;
  g_autofree char *stripped = g_strstrip (g_strdup (text));

  /* Messages quote the expression: it must be text (a CLI argument may not be). */
  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error_literal (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                           _("cron expression: not valid UTF-8"));
      return NULL;
    }
  c->fixed_time = TRUE;
  if (zone)
    {
      if (g_ascii_strcasecmp (zone, "UTC") == 0)
        zone = "UTC";
      if (!(c->tz = orch_tz_lookup (zone)))
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT, _("unknown time zone “%s”"),
                       zone);
          return NULL;
        }
      orch_tz_ref (c->tz);
      c->timezone = g_strdup (zone);
    }

  if (stripped[0] == '@')
    {
      for (guint i = 0; i < G_N_ELEMENTS (macros); i++)
        if (strcmp (stripped, macros[i].name) == 0)
          {
            g_autoptr(OrchCron) m = orch_cron_parse (macros[i].fields, NULL, error);
            memcpy (c->bits, m->bits, sizeof c->bits);
            c->dom_star = m->dom_star, c->dow_star = m->dow_star, c->fixed_time = m->fixed_time;
            for (int f = 0; f < N_CFIELDS; f++)
              c->fields[f] = g_steal_pointer (&m->fields[f]);
            return g_steal_pointer (&c);
          }
      g_set_error (
          error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
          strcmp (stripped, "@reboot") == 0
              ? _("cron expression “%s”: @reboot is not a time; start the job at boot instead")
              : _ ("cron expression “%s”: unknown macro (use @yearly, @annually, @monthly, @weekly, "
                   "@daily, @midnight or @hourly)"),
          text);
      return NULL;
    }

  p = text;
  for (int f = 0; f < N_CFIELDS; f++)
    {
      while (is_blank (*p))
        p++;
      if (*p == '\0')
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                       _ ("cron expression “%s”: the %s field is missing (five fields: minute hour "
                          "day-of-month month day-of-week)"),
                       text, cfield_name ((CField) f));
          return NULL;
        }
      if (!parse_field (&ps, &p, (CField) f, c))
        return NULL;
    }
  while (is_blank (*p))
    p++;
  if (*p != '\0')
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("cron expression “%s”: unexpected text at character %u after the five fields"),
                   text, (guint) (p - text) + 1);
      return NULL;
    }
  return g_steal_pointer (&c);
}

gboolean
orch_cron_uses_local_zone (const OrchCron *c)
{
  return c->tz == NULL;
}

char *
orch_cron_normalize (const OrchCron *c)
{
  GString *s = g_string_new (NULL);

  for (int f = 0; f < N_CFIELDS; f++)
    g_string_append_printf (s, "%s%s", f ? " " : "", c->fields[f]);
  if (c->timezone)
    g_string_append_printf (s, " %s", c->timezone);
  return g_string_free (s, FALSE);
}

/* --- the search ------------------------------------------------------ */

static int
month_days (int y, int m)
{
  static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  gboolean leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : d[m - 1];
}

/* The lowest allowed value >= v in bits, or -1. */
static int
next_bit (guint64 bits, int v)
{
  guint64 rest;

  if (v > 63)
    return -1;
  rest = bits & (~G_GUINT64_CONSTANT (0) << v);
  return rest ? __builtin_ctzll (rest) : -1;
}

static gboolean
day_matches (const OrchCron *c, int y, int m, int d)
{
  int dow = (int) ((orch_days_from_civil (y, m, d) + 4) % 7 + 7) % 7;
  gboolean dom_ok = (c->bits[C_DOM] >> d) & 1, dow_ok = (c->bits[C_DOW] >> dow) & 1;

  /* Vixie: a field that starts with "*" makes it AND, else OR. */
  if (c->dom_star || c->dow_star)
    return dom_ok && dow_ok;
  return dom_ok || dow_ok;
}

/* The first local wall-clock minute >= @local (seconds, naive) that the
 * expression allows: field by field, each jump to the next allowed value. */
static gboolean
next_local_match (const OrchCron *c, gint64 local, gint64 *ret)
{
  gint64 minutes = local >= 0 ? (local + 59) / 60 : local / 60; /* a partial minute rounds up */
  gint64 days = minutes >= 0 ? minutes / 1440 : (minutes - 1439) / 1440;
  int in_day = (int) (minutes - days * 1440);
  int y, m, d, h = in_day / 60, mi = in_day % 60, y0;

  orch_civil_from_days (days, &y, &m, &d);
  y0 = y;

  /* A 400-year Gregorian cycle holds every combination that can occur. */
  while (y <= y0 + 400)
    {
      int nm = next_bit (c->bits[C_MONTH], m), nh, nmi;

      if (nm < 0)
        {
          y++, m = 1, d = 1, h = 0, mi = 0;
          continue;
        }
      if (nm != m)
        m = nm, d = 1, h = 0, mi = 0;
      if (d > month_days (y, m))
        {
          m++, d = 1, h = 0, mi = 0;
          if (m > 12)
            y++, m = 1;
          continue;
        }
      if (!day_matches (c, y, m, d))
        {
          d++, h = 0, mi = 0;
          continue;
        }
      nh = next_bit (c->bits[C_HOUR], h);
      if (nh < 0)
        {
          d++, h = 0, mi = 0;
          continue;
        }
      if (nh != h)
        h = nh, mi = 0;
      nmi = next_bit (c->bits[C_MINUTE], mi);
      if (nmi < 0)
        {
          h++, mi = 0;
          if (h > 23)
            d++, h = 0;
          continue;
        }
      *ret = orch_days_from_civil (y, m, d) * 86400 + h * 3600 + nmi * 60;
      return TRUE;
    }
  return FALSE;
}

gboolean
orch_cron_next (const OrchCron *c, gint64 after_usec, gint64 *ret_usec)
{
  const OrchTz *tz;
  gint64 floor_min, u;

  g_return_val_if_fail (c != NULL, FALSE);

  tz = c->tz ? c->tz : orch_tz_local ();
  floor_min = after_usec >= 0 ? after_usec / USEC_PER_MINUTE
                              : (after_usec - USEC_PER_MINUTE + 1) / USEC_PER_MINUTE;
  u = (floor_min + 1) * 60; /* the first whole minute strictly after */

  /* Walk the stretches of constant UTC offset: inside one, wall-clock time
   * only moves forward, so the next match is a plain field-by-field
   * search; the DST rules apply where two stretches meet. */
  for (guint guard = 0; guard < 2000; guard++)
    {
      OrchTm tm;
      gint64 end, local, at[2];
      gboolean has_end;
      int off;

      orch_tz_localtime (tz, u, &tm);
      off = tm.gmtoff;
      has_end = orch_tz_next_transition (tz, u, &end);
      if (!next_local_match (c, u + off, &local))
        return FALSE;
      if (!has_end || local - off < end)
        {
          /* A wall-clock time seen before the clock went back: a
           * fixed-time job already ran at it. */
          if (c->fixed_time && orch_tz_instants (tz, local, at) == 2 && at[1] == local - off)
            {
              u = local - off + 60;
              continue;
            }
          *ret_usec = (local - off) * G_USEC_PER_SEC;
          return TRUE;
        }
      orch_tz_localtime (tz, end, &tm);
      if (tm.gmtoff > off && c->fixed_time && tm.gmtoff - off <= MAX_DST_JUMP &&
          next_local_match (c, end + off, &local) && local < end + tm.gmtoff)
        {
          /* Skipped by the jump forward: a fixed-time job runs right after. */
          *ret_usec = end * G_USEC_PER_SEC;
          return TRUE;
        }
      u = end;
    }
  return FALSE;
}
