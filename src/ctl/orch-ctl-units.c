/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-ctl-units.h"

#include <math.h>
#include <signal.h>
#include <string.h>

/* Digits with an optional fraction, as a double; @end after them.  No
 * sign, exponent, hex or "inf": strtod would take all of those. */
static gboolean
parse_number (const char *p, const char **end, double *ret)
{
  double v = 0, scale = 1;
  gboolean digits = FALSE;

  for (; g_ascii_isdigit (*p); p++, digits = TRUE)
    v = v * 10 + (*p - '0');
  if (*p == '.')
    for (p++; g_ascii_isdigit (*p); p++, digits = TRUE)
      v += (*p - '0') * (scale /= 10);
  *end = p;
  *ret = v;
  return digits;
}

static gboolean
in_range (double v, guint64 *ret)
{
  /* 2^64 is not representable as guint64; stay clear of it. */
  if (!(v >= 0) || v >= 18446744073709549568.0)
    return FALSE;
  *ret = (guint64) llround (v);
  return TRUE;
}

gboolean
orch_ctl_parse_size (const char *text, guint64 *ret_bytes)
{
  static const char prefixes[] = "KMGTPE";
  const char *p;
  const char *at;
  double v, mult = 1;

  if (text == NULL || !parse_number (text, &p, &v))
    return FALSE;
  if (*p && (at = strchr (prefixes, g_ascii_toupper (*p))))
    {
      mult = pow (1024, (double) (at - prefixes + 1));
      p++;
      if (p[0] == 'i' && p[1] == 'B')
        p++;
    }
  if (*p == 'B' || (*p == 'b' && mult > 1))
    p++;
  if (*p != '\0')
    return FALSE;
  return in_range (v * mult, ret_bytes);
}

typedef struct {
  const char *name;
  double usec;
} Unit;

static const Unit duration_units[] = {
  { "us", 1 }, { "usec", 1 },
  { "ms", 1e3 }, { "msec", 1e3 },
  { "s", 1e6 }, { "sec", 1e6 }, { "second", 1e6 }, { "seconds", 1e6 },
  { "m", 60e6 }, { "min", 60e6 }, { "minute", 60e6 }, { "minutes", 60e6 },
  { "h", 3600e6 }, { "hr", 3600e6 }, { "hour", 3600e6 }, { "hours", 3600e6 },
  { "d", 86400e6 }, { "day", 86400e6 }, { "days", 86400e6 },
  { "w", 604800e6 }, { "week", 604800e6 }, { "weeks", 604800e6 },
};

gboolean
orch_ctl_parse_duration (const char *text, guint64 *ret_usec)
{
  const char *p = text;
  double total = 0;
  gboolean any = FALSE;

  if (text == NULL)
    return FALSE;
  while (*p)
    {
      const char *word;
      double v;
      gsize len;
      gboolean known = FALSE;

      while (*p == ' ')
        p++;
      if (*p == '\0')
        break;
      if (!parse_number (p, &p, &v))
        return FALSE;
      while (*p == ' ')
        p++;
      for (word = p; g_ascii_isalpha (*p); p++)
        ;
      len = (gsize) (p - word);
      if (len == 0)
        {
          /* A bare number means seconds, and only on its own. */
          if (any || *p != '\0')
            return FALSE;
          total = v * 1e6;
          any = TRUE;
          break;
        }
      for (gsize i = 0; i < G_N_ELEMENTS (duration_units); i++)
        if (strlen (duration_units[i].name) == len && strncmp (word, duration_units[i].name, len) == 0)
          {
            total += v * duration_units[i].usec;
            known = TRUE;
            break;
          }
      if (!known)
        return FALSE;
      any = TRUE;
    }
  return any && in_range (total, ret_usec);
}

gboolean
orch_ctl_parse_cores (const char *text, double *ret_cores)
{
  const char *p;
  double v;

  if (text == NULL || !parse_number (text, &p, &v))
    return FALSE;
  if (*p == '%')
    {
      v /= 100;
      p++;
    }
  if (*p != '\0' || v <= 0)
    return FALSE;
  *ret_cores = v;
  return TRUE;
}

static const struct {
  const char *name;
  int number;
} signals[] = {
  { "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "KILL", SIGKILL },
  { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "TERM", SIGTERM }, { "CONT", SIGCONT },
  { "STOP", SIGSTOP }, { "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "WINCH", SIGWINCH },
};

gboolean
orch_ctl_parse_signal (const char *text, int *ret_signal)
{
  const char *name = text;
  guint64 n;

  if (text == NULL || *text == '\0')
    return FALSE;
  if (g_ascii_isdigit (*text))
    {
      if (!g_ascii_string_to_unsigned (text, 10, 1, 64, &n, NULL))
        return FALSE;
      *ret_signal = (int) n;
      return TRUE;
    }
  if (g_ascii_strncasecmp (name, "SIG", 3) == 0)
    name += 3;
  for (gsize i = 0; i < G_N_ELEMENTS (signals); i++)
    if (g_ascii_strcasecmp (name, signals[i].name) == 0)
      {
        *ret_signal = signals[i].number;
        return TRUE;
      }
  return FALSE;
}

char *
orch_ctl_format_size (guint64 bytes)
{
  static const char prefixes[] = "KMGTPE";
  double v = (double) bytes;
  int i = -1;

  if (bytes < 1024)
    return g_strdup_printf ("%" G_GUINT64_FORMAT "B", bytes);
  while (v >= 1024 && i < 5)
    {
      v /= 1024;
      i++;
    }
  /* 1023.7K would print as "1024K": that is 1.0M. */
  if (v >= 9.95 && round (v) >= 1024 && i < 5)
    {
      v /= 1024;
      i++;
    }
  if (v < 9.95)
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      g_ascii_formatd (buf, sizeof buf, "%.1f", v);
      if (g_str_has_suffix (buf, ".0"))
        buf[strlen (buf) - 2] = '\0';
      return g_strdup_printf ("%s%c", buf, prefixes[i]);
    }
  return g_strdup_printf ("%.0f%c", v, prefixes[i]);
}

char *
orch_ctl_format_duration (guint64 usec)
{
  static const struct {
    const char *name;
    guint64 usec;
  } units[] = {
    { "d", G_GUINT64_CONSTANT (86400000000) },
    { "h", G_GUINT64_CONSTANT (3600000000) },
    { "min", 60000000 },
    { "s", 1000000 },
  };

  if (usec < 1000000)
    return g_strdup_printf ("%" G_GUINT64_FORMAT "ms", usec / 1000);
  for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
    if (usec >= units[i].usec)
      {
        guint64 big = usec / units[i].usec;
        guint64 small = i + 1 < G_N_ELEMENTS (units) ? (usec % units[i].usec) / units[i + 1].usec : 0;
        if (small == 0)
          return g_strdup_printf ("%" G_GUINT64_FORMAT "%s", big, units[i].name);
        return g_strdup_printf ("%" G_GUINT64_FORMAT "%s %" G_GUINT64_FORMAT "%s", big, units[i].name,
                                small, units[i + 1].name);
      }
  g_assert_not_reached ();
  return NULL;
}
