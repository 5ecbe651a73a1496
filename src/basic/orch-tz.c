/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-tz.h"

#include <stdio.h>
#include <string.h>

#define ZONEINFO_DIR "/usr/share/zoneinfo"
/* Rules of a tzfile's footer are expanded into transitions up to this year,
 * past systemd's last calendar year (2199). */
#define EXPAND_UNTIL_YEAR 2201
#define MAX_TYPES 256

typedef struct {
  int off;
  gboolean isdst;
  const char *abbr; /* into OrchTz.names */
} TzType;

struct _OrchTz {
  gint ref;
  TzType types[MAX_TYPES];
  guint n_types;
  gint64 *trans; /* ascending */
  guint8 *trans_type;
  guint n_trans;
  guint before_first; /* the type before the first transition */
  GStringChunk *names;
  const char *std_name, *dst_name;
  guint last_hit; /* the interval found last: most lookups hit it again */
};

static GHashTable *zones; /* name -> OrchTz */
static OrchTz *local_zone;

gint64
orch_days_from_civil (gint64 y, int m, int d)
{
  /* Howard Hinnant's days_from_civil. */
  gint64 era, yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void
orch_civil_from_days (gint64 z, int *ret_y, int *ret_m, int *ret_d)
{
  gint64 era, doe, yoe, y, doy, mp;

  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = yoe + era * 400;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *ret_d = (int) (doy - (153 * mp + 2) / 5 + 1);
  *ret_m = (int) (mp < 10 ? mp + 3 : mp - 9);
  *ret_y = (int) (y + (*ret_m <= 2));
}

static gboolean
is_leap (gint64 y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month (gint64 y, int m /* 1..12 */)
{
  static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  return m == 2 && is_leap (y) ? 29 : d[m - 1];
}

static guint
add_type (OrchTz *tz, int off, gboolean isdst, const char *abbr)
{
  for (guint i = 0; i < tz->n_types; i++)
    if (tz->types[i].off == off && tz->types[i].isdst == isdst &&
        strcmp (tz->types[i].abbr, abbr) == 0)
      return i;
  if (tz->n_types == MAX_TYPES)
    return tz->n_types - 1;
  tz->types[tz->n_types] = (TzType){ off, isdst, g_string_chunk_insert_const (tz->names, abbr) };
  return tz->n_types++;
}

/* --- POSIX TZ strings (a tzfile's footer, or $TZ itself) ------------- */

typedef struct {
  char kind; /* 'J', 'N' (plain day of year) or 'M' */
  int a, b, c;
  int secs; /* local time of the change */
} TzRule;

typedef struct {
  char std[32], dst[32];
  int std_off, dst_off; /* seconds east */
  gboolean has_dst;
  TzRule start, end;
} TzSpec;

static gboolean
posix_name (const char **p, char *buf, gsize size)
{
  const char *s = *p;
  gsize n = 0;

  if (*s == '<')
    {
      s++;
      while (*s && *s != '>' && n + 1 < size)
        buf[n++] = *s++;
      if (*s != '>')
        return FALSE;
      s++;
    }
  else
    while (g_ascii_isalpha (*s) && n + 1 < size)
      buf[n++] = *s++;
  buf[n] = '\0';
  *p = s;
  return n >= 1;
}

static gboolean
posix_num (const char **p, int *ret)
{
  const char *s = *p;
  int v = 0;

  if (!g_ascii_isdigit (*s))
    return FALSE;
  while (g_ascii_isdigit (*s) && v < 100000)
    v = v * 10 + (*s++ - '0');
  *p = s;
  *ret = v;
  return TRUE;
}

/* [+-]hh[:mm[:ss]] */
static gboolean
posix_time (const char **p, int *ret)
{
  int sign = 1, h, m = 0, sec = 0;

  if (**p == '+' || **p == '-')
    sign = *(*p)++ == '-' ? -1 : 1;
  if (!posix_num (p, &h))
    return FALSE;
  if (**p == ':')
    {
      (*p)++;
      if (!posix_num (p, &m))
        return FALSE;
      if (**p == ':')
        {
          (*p)++;
          if (!posix_num (p, &sec))
            return FALSE;
        }
    }
  *ret = sign * (h * 3600 + m * 60 + sec);
  return TRUE;
}

static gboolean
posix_rule (const char **p, TzRule *r)
{
  r->secs = 7200;
  if (**p == 'J')
    {
      (*p)++;
      r->kind = 'J';
      if (!posix_num (p, &r->a))
        return FALSE;
    }
  else if (**p == 'M')
    {
      (*p)++;
      r->kind = 'M';
      if (!posix_num (p, &r->a) || *(*p)++ != '.' || !posix_num (p, &r->b) || *(*p)++ != '.' ||
          !posix_num (p, &r->c))
        return FALSE;
      if (r->a < 1 || r->a > 12 || r->b < 1 || r->b > 5 || r->c > 6)
        return FALSE;
    }
  else
    {
      r->kind = 'N';
      if (!posix_num (p, &r->a))
        return FALSE;
    }
  if (**p == '/')
    {
      (*p)++;
      return posix_time (p, &r->secs);
    }
  return TRUE;
}

static gboolean
posix_parse (const char *s, TzSpec *spec)
{
  memset (spec, 0, sizeof *spec);
  if (!posix_name (&s, spec->std, sizeof spec->std) || !posix_time (&s, &spec->std_off))
    return FALSE;
  spec->std_off = -spec->std_off;
  if (*s == '\0')
    return TRUE;
  if (!posix_name (&s, spec->dst, sizeof spec->dst))
    return FALSE;
  spec->has_dst = TRUE;
  spec->dst_off = spec->std_off + 3600;
  if (*s && *s != ',')
    {
      if (!posix_time (&s, &spec->dst_off))
        return FALSE;
      spec->dst_off = -spec->dst_off;
    }
  if (*s == '\0')
    {
      /* POSIX leaves the rule open; glibc uses the US one. */
      spec->start = (TzRule){ 'M', 3, 2, 0, 7200 };
      spec->end = (TzRule){ 'M', 11, 1, 0, 7200 };
      return TRUE;
    }
  if (*s++ != ',' || !posix_rule (&s, &spec->start) || *s++ != ',' || !posix_rule (&s, &spec->end))
    return FALSE;
  return *s == '\0';
}

/* Seconds since the epoch, in "local seconds", of a rule's day in @year. */
static gint64
rule_local (const TzRule *r, int year)
{
  gint64 day;

  switch (r->kind)
    {
    case 'J': /* 1..365, February 29 never counted */
      day = orch_days_from_civil (year, 1, 1) + r->a - 1;
      if (is_leap (year) && r->a >= 60)
        day++;
      break;
    case 'N':
      day = orch_days_from_civil (year, 1, 1) + r->a;
      break;
    default:
      {
        /* The b-th (5 = last) weekday c of month a. */
        gint64 first = orch_days_from_civil (year, r->a, 1);
        int wday_first = (int) (((first + 4) % 7 + 7) % 7);
        int mday = 1 + (r->c - wday_first + 7) % 7 + 7 * (r->b - 1);
        while (mday > days_in_month (year, r->a))
          mday -= 7;
        day = first + mday - 1;
      }
    }
  return day * 86400 + r->secs;
}

static void
append_transition (OrchTz *tz, GArray *times, GArray *types, gint64 t, guint type)
{
  guint n = times->len;

  if (n > 0 && t <= g_array_index (times, gint64, n - 1))
    return;
  g_array_append_val (times, t);
  guint8 ty = (guint8) type;
  g_array_append_val (types, ty);
}

/* Extends the zone with @spec from @after on (exclusive). */
static void
apply_spec (OrchTz *tz, const TzSpec *spec, gint64 after, GArray *times, GArray *types)
{
  guint std = add_type (tz, spec->std_off, FALSE, spec->std);
  guint dst;
  int y0, m, d;

  if (!spec->has_dst)
    {
      if (times->len == 0)
        tz->before_first = std;
      else if (g_array_index (types, guint8, types->len - 1) != std)
        append_transition (tz, times, types, after + 1, std);
      return;
    }
  dst = add_type (tz, spec->dst_off, TRUE, spec->dst);
  orch_civil_from_days ((after >= 0 ? after : after - 86399) / 86400, &y0, &m, &d);
  if (times->len == 0)
    {
      y0 = 1900;
      tz->before_first = std;
    }
  for (int y = y0; y <= EXPAND_UNTIL_YEAR; y++)
    {
      gint64 start = rule_local (&spec->start, y) - spec->std_off;
      gint64 end = rule_local (&spec->end, y) - spec->dst_off;
      if (start < end)
        {
          if (start > after)
            append_transition (tz, times, types, start, dst);
          if (end > after)
            append_transition (tz, times, types, end, std);
        }
      else
        {
          if (end > after)
            append_transition (tz, times, types, end, std);
          if (start > after)
            append_transition (tz, times, types, start, dst);
        }
    }
}

static OrchTz *
tz_new (void)
{
  OrchTz *tz = g_new0 (OrchTz, 1);

  tz->ref = 1;
  tz->names = g_string_chunk_new (64);
  return tz;
}

static void
tz_finish (OrchTz *tz, GArray *times, GArray *types)
{
  tz->n_trans = times->len;
  tz->trans = (gint64 *) (gpointer) g_array_free (times, FALSE);
  tz->trans_type = (guint8 *) (gpointer) g_array_free (types, FALSE);

  /* glibc's tzname: the abbreviations of the latest transitions of each kind. */
  for (guint i = tz->n_trans; i > 0 && (!tz->std_name || !tz->dst_name); i--)
    {
      const TzType *t = &tz->types[tz->trans_type[i - 1]];
      if (t->isdst && !tz->dst_name)
        tz->dst_name = t->abbr;
      else if (!t->isdst && !tz->std_name)
        tz->std_name = t->abbr;
    }
  if (!tz->std_name)
    tz->std_name = tz->types[tz->before_first].abbr;
  if (!tz->dst_name)
    tz->dst_name = tz->std_name;
}

static OrchTz *
tz_from_posix (const char *s)
{
  TzSpec spec;
  OrchTz *tz;
  GArray *times, *types;

  if (!posix_parse (s, &spec))
    return NULL;
  tz = tz_new ();
  times = g_array_new (FALSE, FALSE, sizeof (gint64));
  types = g_array_new (FALSE, FALSE, sizeof (guint8));
  apply_spec (tz, &spec, G_MININT64 / 4, times, types);
  tz_finish (tz, times, types);
  return tz;
}

static guint32
be32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static gint64
be64 (const guint8 *p)
{
  return (gint64) ((guint64) be32 (p) << 32 | be32 (p + 4));
}

/* RFC 8536; the 64-bit block when there is one, then the footer. */
static OrchTz *
tz_from_tzif (const guint8 *data, gsize len)
{
  const guint8 *p = data, *end = data + len;
  guint32 isut, isstd, leap, timecnt, typecnt, charcnt;
  gsize tsize = 4;
  OrchTz *tz;
  GArray *times, *types;
  const char *chars;
  guint typemap[MAX_TYPES];
  TzSpec spec;

  if (len < 44 || memcmp (p, "TZif", 4) != 0)
    return NULL;
  for (;;)
    {
      if ((gsize) (end - p) < 44)
        return NULL;
      isut = be32 (p + 20), isstd = be32 (p + 24), leap = be32 (p + 28);
      timecnt = be32 (p + 32), typecnt = be32 (p + 36), charcnt = be32 (p + 40);
      gsize block = timecnt * (tsize + 1) + typecnt * 6 + charcnt + leap * (tsize + 4) + isstd +
                    isut;
      if (typecnt == 0 || typecnt > MAX_TYPES / 2 || timecnt > 100000 || charcnt > 10000 ||
          leap > 10000 || (gsize) (end - p - 44) < block)
        return NULL;
      if (tsize == 4 && p[4] >= '2')
        {
          p += 44 + block;
          tsize = 8;
          continue;
        }
      p += 44;
      break;
    }

  tz = tz_new ();
  times = g_array_new (FALSE, FALSE, sizeof (gint64));
  types = g_array_new (FALSE, FALSE, sizeof (guint8));
  chars = (const char *) p + timecnt * (tsize + 1) + typecnt * 6;
  for (guint i = 0; i < typecnt; i++)
    {
      const guint8 *t = p + timecnt * (tsize + 1) + i * 6;
      guint idx = t[5];
      g_autofree char *abbr = g_strndup (idx < charcnt ? chars + idx : "",
                                         idx < charcnt ? charcnt - idx : 0);
      typemap[i] = add_type (tz, (gint32) be32 (t), t[4] != 0, abbr);
    }
  for (guint i = 0; i < timecnt; i++)
    {
      gint64 t = tsize == 8 ? be64 (p + i * 8) : (gint32) be32 (p + i * 4);
      guint ty = p[timecnt * tsize + i];
      append_transition (tz, times, types, t, ty < typecnt ? typemap[ty] : 0);
    }
  /* Before the first transition glibc uses the first standard type. */
  tz->before_first = typemap[0];
  for (guint i = 0; i < typecnt; i++)
    if (!tz->types[typemap[i]].isdst)
      {
        tz->before_first = typemap[i];
        break;
      }

  p += timecnt * (tsize + 1) + typecnt * 6 + charcnt + leap * (tsize + 4) + isstd + isut;
  if (tsize == 8 && p < end && *p == '\n')
    {
      const guint8 *nl = memchr (p + 1, '\n', end - p - 1);
      if (nl)
        {
          g_autofree char *footer = g_strndup ((const char *) p + 1, nl - p - 1);
          if (*footer && posix_parse (footer, &spec))
            apply_spec (tz, &spec,
                        times->len ? g_array_index (times, gint64, times->len - 1) : G_MININT64 / 4,
                        times, types);
        }
    }
  tz_finish (tz, times, types);
  return tz;
}

static OrchTz *
tz_load_file (const char *path)
{
  g_autofree char *data = NULL;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, NULL) || len > 1024 * 1024)
    return NULL;
  return tz_from_tzif ((const guint8 *) data, len);
}

gboolean
orch_tz_name_is_valid (const char *name)
{
  g_autofree char *path = NULL;
  char magic[4];
  FILE *f;
  gboolean ok;

  /* As systemd's timezone_is_valid(): no leading or doubled slash, no
   * "." or ".." component, sane characters, a regular TZif file. */
  if (name == NULL || *name == '\0' || *name == '/' || strlen (name) > 255)
    return FALSE;
  for (const char *s = name; *s; s++)
    if (!g_ascii_isalnum (*s) && !strchr ("/-_+", *s))
      return FALSE;
  {
    g_auto(GStrv) parts = g_strsplit (name, "/", -1);
    for (guint i = 0; parts[i]; i++)
      if (*parts[i] == '\0' || strcmp (parts[i], ".") == 0 || strcmp (parts[i], "..") == 0)
        return FALSE;
  }
  path = g_build_filename (ZONEINFO_DIR, name, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return FALSE;
  f = fopen (path, "re");
  if (!f)
    return FALSE;
  ok = fread (magic, 1, 4, f) == 4 && memcmp (magic, "TZif", 4) == 0;
  fclose (f);
  return ok;
}

OrchTz *
orch_tz_lookup (const char *name)
{
  OrchTz *tz;
  g_autofree char *path = NULL;

  if (!zones)
    zones = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) orch_tz_unref);
  tz = g_hash_table_lookup (zones, name);
  if (tz)
    return tz;
  if (!orch_tz_name_is_valid (name))
    return NULL;
  path = g_build_filename (ZONEINFO_DIR, name, NULL);
  tz = tz_load_file (path);
  if (tz)
    g_hash_table_insert (zones, g_strdup (name), tz);
  return tz;
}

OrchTz *
orch_tz_local (void)
{
  const char *env;

  if (local_zone)
    return local_zone;
  env = g_getenv ("TZ");
  if (env == NULL)
    local_zone = tz_load_file ("/etc/localtime");
  else if (*env != '\0')
    {
      const char *name = env[0] == ':' ? env + 1 : env;
      g_autofree char *path = name[0] == '/' ? g_strdup (name)
                                             : g_build_filename (ZONEINFO_DIR, name, NULL);
      if (!strstr (name, ".."))
        local_zone = tz_load_file (path);
      if (!local_zone)
        local_zone = tz_from_posix (name);
    }
  if (!local_zone)
    local_zone = tz_from_posix ("UTC0");
  return local_zone;
}

void
orch_tz_reset_local (void)
{
  g_clear_pointer (&local_zone, orch_tz_unref);
}

OrchTz *
orch_tz_ref (OrchTz *tz)
{
  tz->ref++;
  return tz;
}

void
orch_tz_unref (OrchTz *tz)
{
  if (tz == NULL || --tz->ref > 0)
    return;
  g_free (tz->trans);
  g_free (tz->trans_type);
  g_string_chunk_free (tz->names);
  g_free (tz);
}

const char *
orch_tz_std_name (const OrchTz *tz)
{
  return tz->std_name;
}

const char *
orch_tz_dst_name (const OrchTz *tz)
{
  return tz->dst_name;
}

static const TzType *
type_at (const OrchTz *tz, gint64 t)
{
  OrchTz *mut = (OrchTz *) tz;
  guint lo, hi, i = tz->last_hit;

  if (tz->n_trans == 0 || t < tz->trans[0])
    return &tz->types[tz->before_first];
  if (i < tz->n_trans && tz->trans[i] <= t && (i + 1 == tz->n_trans || t < tz->trans[i + 1]))
    return &tz->types[tz->trans_type[i]];
  /* The last transition at or before t. */
  lo = 0, hi = tz->n_trans;
  while (hi - lo > 1)
    {
      guint mid = (lo + hi) / 2;
      if (tz->trans[mid] <= t)
        lo = mid;
      else
        hi = mid;
    }
  mut->last_hit = lo;
  return &tz->types[tz->trans_type[lo]];
}

static void
breakdown (gint64 local, OrchTm *tm)
{
  gint64 days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
  gint64 secs = local - days * 86400;
  int y, m, d;

  orch_civil_from_days (days, &y, &m, &d);
  tm->year = y;
  tm->mon = m - 1;
  tm->mday = d;
  tm->hour = (int) (secs / 3600);
  tm->min = (int) (secs / 60 % 60);
  tm->sec = (int) (secs % 60);
  tm->wday = (int) (((days + 4) % 7 + 7) % 7);
}

const char *
orch_tz_localtime (const OrchTz *tz, gint64 t, OrchTm *ret)
{
  const TzType *ty;

  if (tz == NULL)
    {
      breakdown (t, ret);
      ret->isdst = 0;
      ret->gmtoff = 0;
      return "UTC";
    }
  ty = type_at (tz, t);
  breakdown (t + ty->off, ret);
  ret->isdst = ty->isdst;
  ret->gmtoff = ty->off;
  return ty->abbr;
}

/* The local fields as seconds, with out-of-range fields carried over. */
static gint64
tm_local_seconds (const OrchTm *tm)
{
  gint64 y = tm->year, m = tm->mon;

  y += m >= 0 ? m / 12 : (m - 11) / 12;
  m = ((m % 12) + 12) % 12;
  return (orch_days_from_civil (y, (int) m + 1, 1) + tm->mday - 1) * 86400 +
         (gint64) tm->hour * 3600 + (gint64) tm->min * 60 + tm->sec;
}

gint64
orch_tz_mktime (const OrchTz *tz, OrchTm *tm, int *guess)
{
  gint64 local = tm_local_seconds (tm), t, t1;
  const TzType *a, *b;
  int want = tm->isdst;

  if (tz == NULL)
    {
      breakdown (local, tm);
      tm->isdst = 0;
      tm->gmtoff = 0;
      return local;
    }

  /* glibc starts from the offset it found last; a time that exists once
   * comes out the same whatever the guess, an ambiguous one keeps the
   * guessed offset when that is one of its two readings. */
  t = local - *guess;
  a = type_at (tz, t);
  t1 = local - a->off;
  b = type_at (tz, t1);
  if (b->off == a->off)
    t = t1;
  else
    {
      /* t1 read with b's offset: a fixed point? */
      gint64 t2 = local - b->off;
      const TzType *c = type_at (tz, t2);
      if (c->off == b->off)
        t = t2;
      else
        {
          /* A gap: the two readings each land on the other side.  glibc
           * prefers the one whose tm_isdst is set. */
          gint64 x = local - a->off, y = local - b->off;
          const TzType *tx = type_at (tz, x), *ty = type_at (tz, y);
          if (ty->isdst && !tx->isdst)
            t = y;
          else
            t = x;
          *guess = (int) (local - t);
          orch_tz_localtime (tz, t, tm);
          return t;
        }
    }

  if (want >= 0 && (type_at (tz, t)->isdst != 0) != (want != 0))
    {
      /* Wrong tm_isdst: glibc looks for the nearest time (in steps of
       * about a week, earlier first) that has the wanted one and uses its
       * offset. */
      const int stride = 601200, bound = 536454000 / 2 + 601200;
      for (int delta = stride; delta < bound; delta += stride)
        for (int dir = -1; dir <= 1; dir += 2)
          {
            const TzType *o = type_at (tz, t + (gint64) delta * dir);
            if ((o->isdst != 0) == (want != 0))
              {
                t = local - o->off;
                goto found;
              }
          }
    }
found:
  *guess = (int) (local - t);
  orch_tz_localtime (tz, t, tm);
  return t;
}

int
orch_tz_instants (const OrchTz *tz, gint64 local, gint64 ret[2])
{
  /* Real zones change offset at most once within a day and a half: the
   * offsets in force 18 h either side are the only candidates. */
  const int span = 18 * 3600;
  int before = type_at (tz, local - span)->off, after = type_at (tz, local + span)->off;
  int n = 0;
  gint64 lo, hi;

  if (type_at (tz, local - before)->off == before)
    ret[n++] = local - before;
  if (after != before && type_at (tz, local - after)->off == after)
    ret[n++] = local - after;
  if (n == 2 && ret[0] > ret[1])
    {
      gint64 x = ret[0];
      ret[0] = ret[1];
      ret[1] = x;
    }
  if (n > 0)
    return n;
  /* In the gap: find the jump between the instants the two readings give. */
  lo = local - after, hi = local - before;
  while (hi - lo > 1)
    {
      gint64 mid = lo + (hi - lo) / 2;
      if (type_at (tz, mid)->off == before)
        lo = mid;
      else
        hi = mid;
    }
  ret[0] = hi;
  ret[1] = after - before;
  return 0;
}

gboolean
orch_tz_next_transition (const OrchTz *tz, gint64 t, gint64 *ret)
{
  const TzType *cur = type_at (tz, t);
  guint lo = 0, hi = tz->n_trans;

  /* The first transition after t, then on to one that changes something. */
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (tz->trans[mid] <= t)
        lo = mid + 1;
      else
        hi = mid;
    }
  for (guint i = lo; i < tz->n_trans; i++)
    {
      const TzType *ty = &tz->types[tz->trans_type[i]];
      if (ty->off != cur->off || ty->isdst != cur->isdst)
        {
          *ret = tz->trans[i];
          return TRUE;
        }
    }
  return FALSE;
}
