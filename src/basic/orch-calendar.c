/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-calendar.h"
#include "orch-error.h"
#include "orch-tz.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

/* The grammar, the normalization and the search below follow systemd's
 * calendarspec.c (systemd 252) rule for rule, because the contract is
 * "what systemd-analyze calendar says"; tests/unit/test-calendar-oracle.py
 * holds us to it. */

#define USEC_PER_SEC G_GINT64_CONSTANT (1000000)
#define ALL_WEEKDAYS 127
#define MIN_YEAR 1970
#define MAX_YEAR 2199
#define MAX_COMPONENTS 240
#define MAX_ITERATIONS 1000
/* systemd refuses base times it could not format (past 9999-12-30). */
#define USEC_FORMATTABLE_MAX G_GINT64_CONSTANT (253402214399999999)

typedef struct {
  int start, stop, repeat; /* stop -1: none; repeat 0: none */
  guint pos;               /* in the text, for error messages */
} Comp;

typedef struct {
  Comp *v;
  guint n; /* 0: "*" (anything) */
} Chain;

typedef enum { F_YEAR, F_MONTH, F_DAY, F_HOUR, F_MINUTE, F_USEC, N_FIELDS } Field;
/* Not chains: names for error messages on a chain whose role is not known
 * yet ("10" before a '-' is a year or a month, before a ':' an hour). */
#define F_DATE_OR_TIME ((Field) (N_FIELDS + 1))
#define F_DATE ((Field) (N_FIELDS + 2))

struct _OrchCalendar {
  int weekdays; /* bit 0 = Monday; -1 any */
  gboolean end_of_month;
  gboolean utc;
  int dst; /* -1, or the local zone's standard (0) / daylight (1) name was given */
  char *timezone;
  OrchTz *tz; /* for timezone */
  Chain f[N_FIELDS];
};

typedef struct {
  const char *orig; /* what the caller gave, for messages */
  const char *text; /* orig without its time zone: positions count here */
  const char *p;
  OrchCalendar *c;
  GError **error;
} Parser;

static const char *
field_name (Field f)
{
  switch (f)
    {
    case F_YEAR:
      return _("year");
    case F_MONTH:
      return _("month");
    case F_DAY:
      return _("day");
    case F_HOUR:
      return _("hour");
    case F_MINUTE:
      return _("minute");
    case F_USEC:
      return _("second");
    default:
      return (int) f == (int) F_DATE ? _("date") : _("date or time");
    }
}

static gboolean
fail_at (Parser *ps, const char *at, const char *field, const char *what)
{
  g_set_error (ps->error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
               _("calendar expression “%s”: %s at character %u: %s"), ps->orig, field,
               (guint) (at - ps->text) + 1, what);
  return FALSE;
}

static void
chain_clear (Chain *ch)
{
  g_clear_pointer (&ch->v, g_free);
  ch->n = 0;
}

void
orch_calendar_free (OrchCalendar *c)
{
  if (c == NULL)
    return;
  for (int i = 0; i < N_FIELDS; i++)
    chain_clear (&c->f[i]);
  g_free (c->timezone);
  g_clear_pointer (&c->tz, orch_tz_unref);
  g_free (c);
}

static void
chain_set_const (Chain *ch, int v)
{
  chain_clear (ch);
  ch->v = g_new (Comp, 1);
  ch->v[0] = (Comp){ v, -1, 0, 0 };
  ch->n = 1;
}

static void
chain_add (Chain *ch, Comp comp)
{
  ch->v = g_renew (Comp, ch->v, ch->n + 1);
  ch->v[ch->n++] = comp;
}

/* --- parsing --------------------------------------------------------- */

static gboolean
starts_with_ci (const char *s, const char *prefix, gsize n)
{
  return g_ascii_strncasecmp (s, prefix, n) == 0;
}

static gboolean
ends_with_ci (const char *s, gsize len, const char *suffix, gsize *ret_at)
{
  gsize n = strlen (suffix);

  if (len < n || g_ascii_strcasecmp (s + len - n, suffix) != 0)
    return FALSE;
  *ret_at = len - n;
  return TRUE;
}

static gboolean
parse_weekdays (Parser *ps)
{
  static const struct {
    const char *name;
    int nr;
  } days[] = {
    { "Monday", 0 },   { "Mon", 0 },      { "Tuesday", 1 }, { "Tue", 1 },    { "Wednesday", 2 },
    { "Wed", 2 },      { "Thursday", 3 }, { "Thu", 3 },     { "Friday", 4 }, { "Fri", 4 },
    { "Saturday", 5 }, { "Sat", 5 },      { "Sunday", 6 },  { "Sun", 6 },
  };
  const char *field = _("weekday");
  int l = -1;
  gboolean first = TRUE;

  for (;;)
    {
      guint i;

      for (i = 0; i < G_N_ELEMENTS (days); i++)
        {
          gsize n = strlen (days[i].name);
          if (!starts_with_ci (ps->p, days[i].name, n))
            continue;
          if (!strchr ("-., ", ps->p[n]) && ps->p[n] != '\0')
            return fail_at (ps, ps->p + n, field, _("unexpected character after the weekday name"));
          ps->c->weekdays |= 1 << days[i].nr;
          if (l >= 0)
            {
              if (l > days[i].nr)
                return fail_at (ps, ps->p, field, _("the range goes backwards"));
              for (int j = l + 1; j < days[i].nr; j++)
                ps->c->weekdays |= 1 << j;
            }
          ps->p += n;
          break;
        }
      /* No weekday: the expression starts with the date. */
      if (i >= G_N_ELEMENTS (days))
        return first ? TRUE : fail_at (ps, ps->p, field, _("expected a weekday name"));

      if (*ps->p == '\0')
        return TRUE;
      if (*ps->p == ' ')
        {
          ps->p += strspn (ps->p, " ");
          return TRUE;
        }
      if (*ps->p == '.')
        {
          if (l >= 0)
            return fail_at (ps, ps->p, field, _("a range cannot start at the end of another"));
          if (ps->p[1] != '.')
            return fail_at (ps, ps->p, field, _("expected “..”"));
          l = days[i].nr;
          ps->p += 2;
        }
      else if (*ps->p == '-')
        {
          if (l >= 0)
            return fail_at (ps, ps->p, field, _("a range cannot start at the end of another"));
          l = days[i].nr;
          ps->p += 1;
        }
      else if (*ps->p == ',')
        {
          l = -1;
          ps->p += 1;
        }
      /* A trailing comma is fine, an open range is not. */
      if (*ps->p == '\0' || *ps->p == ' ')
        {
          if (l >= 0)
            return fail_at (ps, ps->p, field, _("the range has no end"));
          ps->p += strspn (ps->p, " ");
          return TRUE;
        }
      first = FALSE;
    }
}

/* strtoul() on what follows a digit: digits only; FALSE past G_MAXUINT64. */
static gboolean
parse_ulong (const char **p, guint64 *ret)
{
  const char *s = *p;
  guint64 v = 0;

  for (; g_ascii_isdigit (*s); s++)
    {
      guint d = (guint) (*s - '0');
      if (v > (G_MAXUINT64 - d) / 10)
        return FALSE;
      v = v * 10 + d;
    }
  *p = s;
  *ret = v;
  return TRUE;
}

static gboolean
parse_decimal (Parser *ps, const char **p, Field f, int *ret)
{
  const char *s = *p;
  guint64 v;

  if (!g_ascii_isdigit (*s))
    return fail_at (ps, s, field_name (f), _("expected a number"));
  if (!parse_ulong (&s, &v))
    return fail_at (ps, *p, field_name (f), _("the number is too large"));
  if (f == F_USEC)
    {
      if (v > G_MAXUINT64 / USEC_PER_SEC)
        return fail_at (ps, *p, field_name (f), _("the number is too large"));
      v *= USEC_PER_SEC;
      /* One "." is a decimal point, ".." a range. */
      if (s[0] == '.' && s[1] != '.')
        {
          guint64 frac = 0;
          guint i;

          s++;
          for (i = 0; i < 6 && g_ascii_isdigit (s[i]); i++)
            frac = frac * 10 + (guint64) (s[i] - '0');
          if (i == 0)
            return fail_at (ps, s, field_name (f), _("expected digits after the decimal point"));
          for (guint k = i; k < 6; k++)
            frac *= 10;
          s += i;
          /* Rounded to the microsecond. */
          if (i == 6 && *s >= '5' && *s <= '9')
            frac++;
          s += strspn (s, "0123456789");
          v += frac;
        }
    }
  if (v > G_MAXINT)
    return fail_at (ps, *p, field_name (f), _("the number is too large"));
  *p = s;
  *ret = (int) v;
  return TRUE;
}

static gboolean parse_chain_items (Parser *ps, Field f, Chain *ch);

/* A comma-separated list of N, N..M, N/R, N..M/R; or "*".  Nothing is
 * left in @ch on failure. */
static gboolean
parse_chain (Parser *ps, Field f, Chain *ch)
{
  if (parse_chain_items (ps, f, ch))
    return TRUE;
  chain_clear (ch);
  return FALSE;
}

static gboolean
parse_chain_items (Parser *ps, Field f, Chain *ch)
{
  const char *e = ps->p;
  int repeat_one = f == F_USEC ? (int) USEC_PER_SEC : 1;

  chain_clear (ch);
  if (*e == '*')
    {
      if (f == F_USEC)
        chain_add (ch, (Comp){ 0, -1, (int) USEC_PER_SEC, (guint) (e - ps->text) });
      ps->p = e + 1;
      return TRUE;
    }
  for (guint n = 0;; n++)
    {
      Comp comp = { 0, -1, 0, (guint) (e - ps->text) };
      const char *at = e;

      if (n > MAX_COMPONENTS)
        return fail_at (ps, e, field_name (f), _("too many list elements"));
      if (!parse_decimal (ps, &e, f, &comp.start))
        return FALSE;
      if (e[0] == '.' && e[1] == '.')
        {
          e += 2;
          if (!parse_decimal (ps, &e, f, &comp.stop))
            return FALSE;
          comp.repeat = repeat_one;
        }
      if (*e == '/')
        {
          const char *r = ++e;
          if (!parse_decimal (ps, &e, f, &comp.repeat))
            return FALSE;
          if (comp.repeat == 0)
            return fail_at (ps, r, field_name (f), _("the repetition must not be 0"));
        }
      else
        {
          if (comp.start > G_MAXINT - comp.repeat)
            return fail_at (ps, at, field_name (f), _("the number is too large"));
          /* Without "/", a range of seconds steps by 1 s: it must hold one. */
          if (f == F_USEC && comp.stop >= 0 && comp.start + comp.repeat > comp.stop)
            return fail_at (ps, at, field_name (f), _("the range is shorter than its 1 s step"));
        }
      if (!strchr (" ,-~:", *e))
        return fail_at (ps, e, field_name (f), _("unexpected character"));
      chain_add (ch, comp);
      if (*e != ',')
        break;
      e++;
    }
  ps->p = e;
  return TRUE;
}

static gboolean
set_from_timestamp (Parser *ps, const char *at)
{
  const char *s = at + 1;
  gboolean neg = FALSE;
  guint64 v;
  gint64 t;
  OrchTm tm;

  /* strtoul(): leading blanks and a sign are taken. */
  while (g_ascii_isspace (*s))
    s++;
  if (*s == '+' || *s == '-')
    neg = *s++ == '-';
  if (!g_ascii_isdigit (*s) || !parse_ulong (&s, &v))
    return fail_at (ps, at, _("timestamp"), _("expected seconds since the epoch after “@”"));
  t = (gint64) (neg ? -v : v);
  if (t < 0 || t > G_GINT64_CONSTANT (67767976233316800))
    return fail_at (ps, at, _("timestamp"), _("out of range"));
  orch_tz_localtime (NULL, t, &tm);
  chain_set_const (&ps->c->f[F_YEAR], tm.year);
  chain_set_const (&ps->c->f[F_MONTH], tm.mon + 1);
  chain_set_const (&ps->c->f[F_DAY], tm.mday);
  chain_set_const (&ps->c->f[F_HOUR], tm.hour);
  chain_set_const (&ps->c->f[F_MINUTE], tm.min);
  chain_set_const (&ps->c->f[F_USEC], tm.sec * (int) USEC_PER_SEC);
  for (int i = 0; i < N_FIELDS; i++)
    ps->c->f[i].v[0].pos = (guint) (at - ps->text);
  ps->c->utc = TRUE;
  ps->p = s;
  return TRUE;
}

/* Returns TRUE with *done set when "@TIMESTAMP" ended the expression. */
static gboolean
parse_date (Parser *ps, gboolean *done)
{
  Chain first = { 0 }, second = { 0 }, third = { 0 };
  OrchCalendar *c = ps->c;
  const char *start = ps->p, *t;

  *done = FALSE;
  if (*ps->p == '\0')
    return TRUE;
  if (*ps->p == '@')
    {
      *done = TRUE;
      return set_from_timestamp (ps, ps->p);
    }
  if (!parse_chain (ps, F_DATE_OR_TIME, &first))
    return FALSE;
  t = ps->p;
  /* A ':' next: that was the hour, there is no date. */
  if (*t == '\0' || *t == ':')
    {
      chain_clear (&first);
      ps->p = start;
      return TRUE;
    }
  if (*t == '~')
    c->end_of_month = TRUE;
  else if (*t != '-')
    {
      chain_clear (&first);
      return fail_at (ps, t, _("date"), _("expected “-” or “~”"));
    }
  ps->p = t + 1;
  if (!parse_chain (ps, F_DATE, &second))
    {
      chain_clear (&first);
      return FALSE;
    }
  t = ps->p;
  if (*t == '\0' || *t == ' ')
    {
      c->f[F_MONTH] = first;
      c->f[F_DAY] = second;
      ps->p = t + strspn (t, " ");
      return TRUE;
    }
  if (c->end_of_month || (*t != '~' && *t != '-'))
    {
      chain_clear (&first);
      chain_clear (&second);
      return fail_at (ps, t, _("date"),
                      c->end_of_month ? _("“~” must separate the month and the day")
                                      : _("expected “-”, “~” or a space"));
    }
  if (*t == '~')
    c->end_of_month = TRUE;
  ps->p = t + 1;
  if (!parse_chain (ps, F_DAY, &third))
    {
      chain_clear (&first);
      chain_clear (&second);
      return FALSE;
    }
  t = ps->p;
  if (*t != '\0' && *t != ' ')
    {
      chain_clear (&first);
      chain_clear (&second);
      chain_clear (&third);
      return fail_at (ps, t, _("date"), _("expected a space after the day"));
    }
  c->f[F_YEAR] = first;
  c->f[F_MONTH] = second;
  c->f[F_DAY] = third;
  ps->p = t + strspn (t, " ");
  return TRUE;
}

static gboolean
parse_time (Parser *ps)
{
  OrchCalendar *c = ps->c;

  /* No time at all means 00:00:00. */
  if (*ps->p == '\0')
    {
      chain_set_const (&c->f[F_HOUR], 0);
      chain_set_const (&c->f[F_MINUTE], 0);
      chain_set_const (&c->f[F_USEC], 0);
      return TRUE;
    }
  if (!parse_chain (ps, F_HOUR, &c->f[F_HOUR]))
    return FALSE;
  if (*ps->p != ':')
    return fail_at (ps, ps->p, field_name (F_HOUR), _("expected “:” after the hour"));
  ps->p++;
  if (!parse_chain (ps, F_MINUTE, &c->f[F_MINUTE]))
    return FALSE;
  if (*ps->p == '\0')
    {
      chain_set_const (&c->f[F_USEC], 0);
      return TRUE;
    }
  if (*ps->p != ':')
    return fail_at (ps, ps->p, field_name (F_MINUTE), _("expected “:” after the minute"));
  ps->p++;
  if (!parse_chain (ps, F_USEC, &c->f[F_USEC]))
    return FALSE;
  if (*ps->p != '\0')
    return fail_at (ps, ps->p, field_name (F_USEC), _("unexpected text after the seconds"));
  return TRUE;
}

static int
comp_cmp (gconstpointer a, gconstpointer b)
{
  const Comp *x = a, *y = b;

  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  if (x->stop != y->stop)
    return x->stop < y->stop ? -1 : 1;
  return (x->repeat > y->repeat) - (x->repeat < y->repeat);
}

static void
normalize_chain (Chain *ch)
{
  guint k = 0;

  for (guint i = 0; i < ch->n; i++)
    {
      Comp *x = &ch->v[i];
      /* The range becomes a multiple of the step; a step that never
       * fires, or a range of one value, is a plain value. */
      if (x->stop > x->start && x->repeat > 0)
        x->stop -= (x->stop - x->start) % x->repeat;
      if ((x->stop > x->start && x->repeat > 0 && x->start + x->repeat > x->stop) ||
          x->start == x->stop)
        {
          x->repeat = 0;
          x->stop = -1;
        }
    }
  if (ch->n <= 1)
    return;
  qsort (ch->v, ch->n, sizeof (Comp), comp_cmp);
  for (guint i = 0; i < ch->n; i++)
    if (k == 0 || comp_cmp (&ch->v[k - 1], &ch->v[i]) != 0)
      ch->v[k++] = ch->v[i];
  ch->n = k;
}

static void
normalize (OrchCalendar *c)
{
  if (g_strcmp0 (c->timezone, "UTC") == 0)
    {
      c->utc = TRUE;
      g_clear_pointer (&c->timezone, g_free);
      g_clear_pointer (&c->tz, orch_tz_unref);
    }
  if (c->weekdays <= 0 || c->weekdays >= ALL_WEEKDAYS)
    c->weekdays = -1;
  if (c->end_of_month && c->f[F_DAY].n == 0)
    c->end_of_month = FALSE;
  /* Two-digit years: 12 is 2012, 89 is 1989. */
  for (guint i = 0; i < c->f[F_YEAR].n; i++)
    {
      Comp *x = &c->f[F_YEAR].v[i];
      if (x->start >= 0 && x->start < 70)
        x->start += 2000;
      else if (x->start >= 70 && x->start < 100)
        x->start += 1900;
      if (x->stop >= 0 && x->stop < 70)
        x->stop += 2000;
      else if (x->stop >= 70 && x->stop < 100)
        x->stop += 1900;
    }
  for (int i = 0; i < N_FIELDS; i++)
    normalize_chain (&c->f[i]);
}

static gboolean
chain_check (Parser *ps, Field f, int from, int to)
{
  const Chain *ch = &ps->c->f[f];
  gboolean eom = f == F_DAY && ps->c->end_of_month;
  const char *name = field_name (f);

  for (guint i = 0; i < ch->n; i++)
    {
      const Comp *x = &ch->v[i];
      const char *at = ps->text + x->pos;
      g_autofree char *range = NULL;

      /* "~" counts back at most 28 days.  systemd takes those 3 days off
       * again for each further element of the (sorted) list, so
       * "*-*~11/8,28/5" is refused though each half is fine: same here. */
      if (eom)
        to -= 3;

      if (f == F_USEC)
        range = g_strdup_printf (_("values must be within %d..%d"), from, to / (int) USEC_PER_SEC);
      else if (eom && i > 0)
        range = g_strdup_printf (_ ("values must be within %d..%d (each further day after “~” "
                                    "may count 3 days less far back)"),
                                 from, to);
      else
        range = g_strdup_printf (_("values must be within %d..%d"), from, to);
      if (x->start < from || x->start > to)
        return fail_at (ps, at, name, range);
      if (x->repeat > to - from)
        return fail_at (ps, at, name, _("the repetition is larger than the field’s range"));
      if (x->stop >= 0)
        {
          if (x->stop < from || x->stop > to)
            return fail_at (ps, at, name, range);
          if (x->start + x->repeat > x->stop)
            return fail_at (ps, at, name, _("the range goes backwards"));
        }
      else if (eom ? x->start - x->repeat < from : x->start + x->repeat > to)
        return fail_at (ps, at, name, _("the repetition never fires"));
    }
  return TRUE;
}

static gboolean
parse_body (Parser *ps)
{
  static const struct {
    const char *name;
    int month[4], day, hour, minute, weekly;
  } shorthands[] = {
    /* month 0: any; day/hour/minute -1: any */
    { "minutely", { 0 }, -1, -1, -1, 0 },
    { "hourly", { 0 }, -1, -1, 0, 0 },
    { "daily", { 0 }, -1, 0, 0, 0 },
    { "monthly", { 0 }, 1, 0, 0, 0 },
    { "annually", { 1 }, 1, 0, 0, 0 },
    { "yearly", { 1 }, 1, 0, 0, 0 },
    { "anually", { 1 }, 1, 0, 0, 0 },
    { "weekly", { 0 }, -1, 0, 0, 1 },
    { "quarterly", { 1, 4, 7, 10 }, 1, 0, 0, 0 },
    { "biannually", { 1, 7 }, 1, 0, 0, 0 },
    { "bi-annually", { 1, 7 }, 1, 0, 0, 0 },
    { "semiannually", { 1, 7 }, 1, 0, 0, 0 },
    { "semi-annually", { 1, 7 }, 1, 0, 0, 0 },
  };
  OrchCalendar *c = ps->c;
  gboolean done;

  for (guint i = 0; i < G_N_ELEMENTS (shorthands); i++)
    {
      if (g_ascii_strcasecmp (ps->p, shorthands[i].name) != 0)
        continue;
      for (guint m = 0; m < 4 && shorthands[i].month[m]; m++)
        chain_add (&c->f[F_MONTH], (Comp){ shorthands[i].month[m], -1, 0, 0 });
      if (shorthands[i].day >= 0)
        chain_set_const (&c->f[F_DAY], shorthands[i].day);
      if (shorthands[i].hour >= 0)
        chain_set_const (&c->f[F_HOUR], shorthands[i].hour);
      if (shorthands[i].minute >= 0)
        chain_set_const (&c->f[F_MINUTE], shorthands[i].minute);
      chain_set_const (&c->f[F_USEC], 0);
      if (shorthands[i].weekly)
        c->weekdays = 1;
      return TRUE;
    }
  if (!parse_weekdays (ps) || !parse_date (ps, &done))
    return FALSE;
  if (!done && !parse_time (ps))
    return FALSE;
  if (*ps->p != '\0')
    return fail_at (ps, ps->p, _("expression"), _("unexpected text at the end"));
  return TRUE;
}

OrchCalendar *
orch_calendar_parse (const char *text, GError **error)
{
  g_autoptr(OrchCalendar) c = g_new0 (OrchCalendar, 1);
  g_autofree char *body = NULL;
  Parser ps = { text, text, NULL, c, error };
  gsize len = strlen (text), at;
  OrchTz *local;

  /* Messages quote the expression: it must be text (a CLI argument may not be). */
  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error_literal (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                           _("calendar expression: not valid UTF-8"));
      return NULL;
    }
  c->dst = -1;
  /* The time zone comes off the end first: " UTC", the local zone's own
   * abbreviations (as tzname[]), or any zone name after the last space. */
  local = orch_tz_local ();
  if (ends_with_ci (text, len, " UTC", &at))
    {
      c->utc = TRUE;
      body = g_strndup (text, at);
    }
  else
    {
      for (int j = 0; j <= 1 && !body; j++)
        {
          const char *name = j ? orch_tz_dst_name (local) : orch_tz_std_name (local);
          if (*name && ends_with_ci (text, len, name, &at) && at > 0 && text[at - 1] == ' ')
            {
              c->dst = j;
              body = g_strndup (text, at - 1);
            }
        }
      if (!body)
        {
          const char *space = strrchr (text, ' ');
          if (space && orch_tz_name_is_valid (space + 1) && (c->tz = orch_tz_lookup (space + 1)))
            {
              orch_tz_ref (c->tz);
              c->timezone = g_strdup (space + 1);
              body = g_strndup (text, space - text);
            }
        }
    }
  if (!body)
    body = g_strdup (text);
  if (*body == '\0')
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("calendar expression “%s”: there is no date or time"), text);
      return NULL;
    }
  /* Positions in the body are positions in the text: only its end went. */
  ps.p = body;
  ps.text = body;
  if (!parse_body (&ps))
    return NULL;
  ps.text = text;
  normalize (c);
  if (c->weekdays > ALL_WEEKDAYS || !chain_check (&ps, F_YEAR, MIN_YEAR, MAX_YEAR) ||
      !chain_check (&ps, F_MONTH, 1, 12) || !chain_check (&ps, F_DAY, 1, 31) ||
      !chain_check (&ps, F_HOUR, 0, 23) || !chain_check (&ps, F_MINUTE, 0, 59) ||
      !chain_check (&ps, F_USEC, 0, 60 * (int) USEC_PER_SEC - 1))
    return NULL;
  return g_steal_pointer (&c);
}

gboolean
orch_calendar_uses_local_zone (const OrchCalendar *c)
{
  return !c->utc && c->timezone == NULL;
}

/* --- the normalized form -------------------------------------------- */

static void
format_weekdays (GString *s, int bits)
{
  static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  gboolean comma = FALSE;
  int l = -1, x;

  for (x = 0; x < 7; x++)
    {
      if (bits & (1 << x))
        {
          if (l < 0)
            {
              if (comma)
                g_string_append_c (s, ',');
              comma = TRUE;
              g_string_append (s, days[x]);
              l = x;
            }
        }
      else if (l >= 0)
        {
          if (x > l + 1)
            {
              g_string_append (s, x > l + 2 ? ".." : ",");
              g_string_append (s, days[x - 1]);
            }
          l = -1;
        }
    }
  if (l >= 0 && x > l + 1)
    {
      g_string_append (s, x > l + 2 ? ".." : ",");
      g_string_append (s, days[x - 1]);
    }
}

static void
format_chain (GString *s, int width, const Chain *ch, gboolean usec)
{
  int d = usec ? (int) USEC_PER_SEC : 1;

  if (ch->n == 0)
    {
      g_string_append_c (s, '*');
      return;
    }
  /* One element covering every second makes the whole chain "*". */
  if (usec)
    for (guint i = 0; i < ch->n; i++)
      if (ch->v[i].start == 0 && ch->v[i].stop < 0 && ch->v[i].repeat == d)
        {
          g_string_append_c (s, '*');
          return;
        }
  for (guint i = 0; i < ch->n; i++)
    {
      const Comp *x = &ch->v[i];
      if (i > 0)
        g_string_append_c (s, ',');
      g_string_append_printf (s, "%0*d", width, x->start / d);
      if (x->start % d > 0)
        g_string_append_printf (s, ".%06d", x->start % d);
      if (x->stop > 0)
        g_string_append_printf (s, "..%0*d", width, x->stop / d);
      if (x->stop % d > 0)
        g_string_append_printf (s, ".%06d", x->stop % d);
      if (x->repeat > 0 && !(x->stop > 0 && x->repeat == d))
        g_string_append_printf (s, "/%d", x->repeat / d);
      if (x->repeat % d > 0)
        g_string_append_printf (s, ".%06d", x->repeat % d);
    }
}

char *
orch_calendar_normalize (const OrchCalendar *c)
{
  GString *s = g_string_new (NULL);

  if (c->weekdays > 0 && c->weekdays <= ALL_WEEKDAYS)
    {
      format_weekdays (s, c->weekdays);
      g_string_append_c (s, ' ');
    }
  format_chain (s, 4, &c->f[F_YEAR], FALSE);
  g_string_append_c (s, '-');
  format_chain (s, 2, &c->f[F_MONTH], FALSE);
  g_string_append_c (s, c->end_of_month ? '~' : '-');
  format_chain (s, 2, &c->f[F_DAY], FALSE);
  g_string_append_c (s, ' ');
  format_chain (s, 2, &c->f[F_HOUR], FALSE);
  g_string_append_c (s, ':');
  format_chain (s, 2, &c->f[F_MINUTE], FALSE);
  g_string_append_c (s, ':');
  format_chain (s, 2, &c->f[F_USEC], TRUE);
  if (c->utc)
    g_string_append (s, " UTC");
  else if (c->timezone)
    g_string_append_printf (s, " %s", c->timezone);
  else if (c->dst == 0 || c->dst == 1)
    {
      OrchTz *local = orch_tz_local ();
      const char *name = c->dst ? orch_tz_dst_name (local) : orch_tz_std_name (local);
      if (*name)
        g_string_append_printf (s, " %s", name);
    }
  return g_string_free (s, FALSE);
}

/* --- the search ------------------------------------------------------ */

/* systemd searches with mktime() on a struct tm: each step sets a field,
 * normalizes, and starts over when the normalization moved the time (a
 * day 31 in a short month, a local time in a DST gap).  The same steps
 * here, with orch_tz_mktime() standing in for mktime(): it keeps glibc's
 * memory of the last offset, which decides ambiguous local times. */
typedef struct {
  const OrchCalendar *c;
  const OrchTz *tz; /* NULL: UTC */
  int guess;
} Search;

static gint64
mk (Search *s, OrchTm *tm)
{
  return orch_tz_mktime (s->tz, tm, &s->guess);
}

/* The day of the month that is @day days before the end of tm's month
 * (1 = the last day), or -1. */
static int
end_of_month (Search *s, const OrchTm *tm, int day)
{
  OrchTm t = *tm;

  t.mon++;
  t.mday = 1 - day;
  mk (s, &t);
  if (t.mon != tm->mon)
    return -1;
  return t.mday;
}

/* The earliest value >= *val that the chain allows; -1 if none, 1 if *val
 * moved, 0 if it already matched. */
static int
find_matching (Search *s, Field f, const OrchTm *tm, int *val)
{
  const Chain *ch = &s->c->f[f];
  gboolean eom = s->c->end_of_month && f == F_DAY;
  gboolean found = FALSE;
  int d = -1, r;

  if (ch->n == 0)
    return 0;
  for (guint i = 0; i < ch->n; i++)
    {
      const Comp *x = &ch->v[i];
      int start, stop;

      if (eom)
        {
          start = end_of_month (s, tm, x->start);
          stop = end_of_month (s, tm, x->stop);
          if (stop > 0)
            {
              int tmp = start;
              start = stop;
              stop = tmp;
            }
        }
      else
        start = x->start, stop = x->stop;

      if (start >= *val)
        {
          if (!found || start < d)
            d = start, found = TRUE;
        }
      else if (x->repeat > 0)
        {
          gint64 k = start +
                     (gint64) x->repeat * (((gint64) *val - start + x->repeat - 1) / x->repeat);
          if ((!found || k < d) && (stop < 0 || k <= stop))
            d = (int) k, found = TRUE;
        }
    }
  if (!found)
    return -1;
  r = *val != d;
  *val = d;
  return r;
}

/* Normalizes *tm; 1 if nothing moved, 0 if it moved forward (the fields
 * below the one that moved are reset), -1 if it cannot be used. */
static int
within_bounds (Search *s, OrchTm *tm)
{
  OrchTm t;
  int cmp;

  /* The year cap keeps "*-02-30" from searching forever. */
  if (tm->year > MAX_YEAR)
    return -1;
  t = *tm;
  mk (s, &t);
  if ((cmp = (t.year > tm->year) - (t.year < tm->year)) != 0)
    t.mon = 0;
  else if ((cmp = (t.mon > tm->mon) - (t.mon < tm->mon)) != 0)
    t.mday = 1;
  else if ((cmp = (t.mday > tm->mday) - (t.mday < tm->mday)) != 0)
    t.hour = 0;
  else if ((cmp = (t.hour > tm->hour) - (t.hour < tm->hour)) != 0)
    t.min = 0;
  else if ((cmp = (t.min > tm->min) - (t.min < tm->min)) != 0)
    t.sec = 0;
  else
    cmp = (t.sec > tm->sec) - (t.sec < tm->sec);
  if (cmp < 0)
    return -1;
  if (cmp > 0)
    *tm = t;
  return cmp == 0;
}

static gboolean
matches_weekday (Search *s, const OrchTm *tm)
{
  OrchTm t = *tm;
  int k;

  if (s->c->weekdays < 0 || s->c->weekdays >= ALL_WEEKDAYS)
    return TRUE;
  mk (s, &t);
  k = t.wday == 0 ? 6 : t.wday - 1;
  return (s->c->weekdays & (1 << k)) != 0;
}

static void
reset_below_day (OrchTm *c, int *usec)
{
  c->hour = c->min = c->sec = *usec = 0;
}

static gboolean
find_next (Search *s, OrchTm *tm, int *ret_usec)
{
  OrchTm c = *tm;
  int usec = *ret_usec, r;

  for (guint it = 0; it < MAX_ITERATIONS; it++)
    {
      mk (s, &c);
      c.isdst = s->c->dst;

      r = find_matching (s, F_YEAR, &c, &c.year);
      if (r > 0)
        {
          c.mon = 0;
          c.mday = 1;
          reset_below_day (&c, &usec);
        }
      if (r < 0 || within_bounds (s, &c) <= 0)
        return FALSE;

      c.mon += 1;
      r = find_matching (s, F_MONTH, &c, &c.mon);
      c.mon -= 1;
      if (r > 0)
        {
          c.mday = 1;
          reset_below_day (&c, &usec);
        }
      if (r < 0 || (r = within_bounds (s, &c)) < 0)
        {
          c.year++;
          c.mon = 0;
          c.mday = 1;
          reset_below_day (&c, &usec);
          continue;
        }
      if (r == 0)
        continue;

      r = find_matching (s, F_DAY, &c, &c.mday);
      if (r > 0)
        reset_below_day (&c, &usec);
      if (r < 0 || (r = within_bounds (s, &c)) < 0)
        {
          c.mon++;
          c.mday = 1;
          reset_below_day (&c, &usec);
          continue;
        }
      if (r == 0)
        continue;

      if (!matches_weekday (s, &c))
        {
          c.mday++;
          reset_below_day (&c, &usec);
          continue;
        }

      r = find_matching (s, F_HOUR, &c, &c.hour);
      if (r > 0)
        c.min = c.sec = usec = 0;
      if (r < 0 || (r = within_bounds (s, &c)) < 0)
        {
          c.mday++;
          reset_below_day (&c, &usec);
          continue;
        }
      if (r == 0)
        continue;

      r = find_matching (s, F_MINUTE, &c, &c.min);
      if (r > 0)
        c.sec = usec = 0;
      if (r < 0 || (r = within_bounds (s, &c)) < 0)
        {
          c.hour++;
          c.min = c.sec = usec = 0;
          continue;
        }
      if (r == 0)
        continue;

      {
        int v = c.sec * (int) USEC_PER_SEC + usec;
        r = find_matching (s, F_USEC, &c, &v);
        usec = v % (int) USEC_PER_SEC;
        c.sec = v / (int) USEC_PER_SEC;
      }
      if (r < 0 || (r = within_bounds (s, &c)) < 0)
        {
          c.min++;
          c.sec = usec = 0;
          continue;
        }
      if (r == 0)
        continue;

      *tm = c;
      *ret_usec = usec;
      return TRUE;
    }
  /* systemd gives up the same way rather than loop forever. */
  return FALSE;
}

gboolean
orch_calendar_next (const OrchCalendar *c, gint64 after_usec, gint64 *ret_usec)
{
  Search s = { c, NULL, 0 };
  OrchTm tm;
  gint64 usec, t;
  int tm_usec;

  g_return_val_if_fail (c != NULL, FALSE);

  if (after_usec < 0 || after_usec > USEC_FORMATTABLE_MAX)
    return FALSE;
  if (!c->utc)
    s.tz = c->tz ? c->tz : orch_tz_local ();
  usec = after_usec + 1;
  orch_tz_localtime (s.tz, usec / USEC_PER_SEC, &tm);
  s.guess = tm.gmtoff;
  tm_usec = (int) (usec % USEC_PER_SEC);
  if (!find_next (&s, &tm, &tm_usec))
    return FALSE;
  t = mk (&s, &tm);
  if (t < 0)
    return FALSE;
  /* With a forced DST flag ("... CEST") around a DST change, systemd's
   * search can land on or before the base time; a scheduler must never
   * be handed that (it would fire in a loop), so that is "no elapse". */
  if (t * USEC_PER_SEC + tm_usec <= after_usec)
    return FALSE;
  *ret_usec = t * USEC_PER_SEC + tm_usec;
  return TRUE;
}
