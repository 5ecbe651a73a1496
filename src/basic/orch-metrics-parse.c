/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-metrics-parse.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* Everything here works on [p, end) ranges; nothing is read at or past end
 * and the text is never assumed to be NUL-terminated. */

#define MAX_CPUS 65536

static inline gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t';
}

/* The next line of [*p, end) without its '\n'; FALSE at the end. */
static gboolean
next_line (const char **p, const char *end, const char **ret_line, const char **ret_end)
{
  const char *s = *p, *nl;

  if (s >= end)
    return FALSE;
  nl = memchr (s, '\n', end - s);
  *ret_line = s;
  *ret_end = nl ? nl : end;
  *p = nl ? nl + 1 : end;
  return TRUE;
}

static const char *
skip_blanks (const char *s, const char *end)
{
  while (s < end && is_blank (*s))
    s++;
  return s;
}

static gboolean
only_blanks (const char *s, const char *end)
{
  return skip_blanks (s, end) == end;
}

/* The next run of non-blanks in [*p, end); FALSE if there is none. */
static gboolean
next_token (const char **p, const char *end, const char **ret_tok, const char **ret_end)
{
  const char *s = skip_blanks (*p, end), *e = s;

  if (s >= end)
    return FALSE;
  while (e < end && !is_blank (*e))
    e++;
  *ret_tok = s;
  *ret_end = e;
  *p = e;
  return TRUE;
}

/* If [s, end) starts with @word, the position after it, else NULL. */
static const char *
match_prefix (const char *s, const char *end, const char *word)
{
  gsize n = strlen (word);

  if ((gsize) (end - s) < n || memcmp (s, word, n) != 0)
    return NULL;
  return s + n;
}

static gboolean
token_is (const char *s, const char *e, const char *word)
{
  gsize n = strlen (word);
  return (gsize) (e - s) == n && memcmp (s, word, n) == 0;
}

/* Decimal digits at *p (at least one, no sign); stops at the first
 * non-digit.  FALSE on no digits or u64 overflow. */
static gboolean
parse_digits (const char **p, const char *end, guint64 *ret)
{
  const char *s = *p;
  guint64 v = 0;

  if (s >= end || !g_ascii_isdigit (*s))
    return FALSE;
  for (; s < end && g_ascii_isdigit (*s); s++)
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

/* A blank-delimited unsigned number: blanks, digits, then the end or a blank. */
static gboolean
field_u64 (const char **p, const char *end, guint64 *ret)
{
  const char *s = skip_blanks (*p, end);
  guint64 v;

  if (!parse_digits (&s, end, &v) || (s < end && !is_blank (*s)))
    return FALSE;
  *p = s;
  *ret = v;
  return TRUE;
}

static gboolean
field_u32 (const char **p, const char *end, guint32 *ret)
{
  guint64 v;

  if (!field_u64 (p, end, &v) || v > G_MAXUINT32)
    return FALSE;
  *ret = (guint32) v;
  return TRUE;
}

/* Exactly the token [s, e) as an unsigned number. */
static gboolean
token_u64 (const char *s, const char *e, guint64 *ret)
{
  return parse_digits (&s, e, ret) && s == e;
}

/* A non-negative decimal such as "12.34" at *p; stops at the first
 * character that is neither a digit nor '.'. */
static gboolean
parse_decimal (const char **p, const char *end, double *ret)
{
  const char *s = *p;
  char buf[64], *e;
  gsize n = 0;
  double v;
  guint64 m = 0; /* the digits, as long as there are at most 15 significant ones */
  guint digits = 0, dots = 0, frac = 0;

  while (s + n < end && (g_ascii_isdigit (s[n]) || s[n] == '.'))
    {
      if (s[n] == '.')
        dots++;
      else
        {
          m = m * 10 + (guint64) (s[n] - '0');
          digits += digits > 0 || s[n] != '0';
          frac += dots > 0;
        }
      n++;
    }
  if (n == 0 || n >= sizeof buf || !g_ascii_isdigit (s[0]))
    return FALSE;
  /* What the kernel prints ("12.34"): an integer below 2^53 over a power
   * of ten that a double holds exactly, one correctly rounded division,
   * is the double strtod gives, at a tenth of its cost. */
  if (dots <= 1 && digits <= 15 && frac <= 22)
    {
      static const double pow10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
      *p = s + n;
      *ret = (double) m / pow10[frac];
      return TRUE;
    }
  memcpy (buf, s, n);
  buf[n] = '\0';
  v = g_ascii_strtod (buf, &e);
  if (e != buf + n || !isfinite (v))
    return FALSE;
  *p = s + n;
  *ret = v;
  return TRUE;
}

static gboolean
field_decimal (const char **p, const char *end, double *ret)
{
  const char *s = skip_blanks (*p, end);
  double v;

  if (!parse_decimal (&s, end, &v) || (s < end && !is_blank (*s)))
    return FALSE;
  *p = s;
  *ret = v;
  return TRUE;
}

/* " kB" after a number: multiplies by 1024. */
static gboolean
parse_kb (const char **p, const char *end, guint64 *v)
{
  const char *s = skip_blanks (*p, end);

  if (!(s = match_prefix (s, end, "kB")) || *v > G_MAXUINT64 / 1024)
    return FALSE;
  *v *= 1024;
  *p = s;
  return TRUE;
}

static gboolean
add_u64 (guint64 *acc, guint64 v)
{
  if (*acc > G_MAXUINT64 - v)
    return FALSE;
  *acc += v;
  return TRUE;
}

/* A name token [s, e) copied into buf; FALSE if empty or too long. */
static gboolean
copy_name (char *buf, gsize size, const char *s, const char *e)
{
  gsize n = e - s;

  if (n == 0 || n >= size)
    return FALSE;
  memcpy (buf, s, n);
  buf[n] = '\0';
  return TRUE;
}

/* Lines "KEY<sep>VALUE[ kB]".  Unknown keys are skipped unparsed; a known
 * key's value must be a number followed by nothing but blanks. */
typedef struct {
  const char *key;
  gsize offset;
  gboolean required;
} KeyedField;

static int
parse_keyed (const char *text, gsize len, char sep, gboolean kb, const KeyedField *fields,
             guint n_fields, void *out, guint32 *ret_seen)
{
  const char *p = text, *end = text + len, *l, *le;
  guint32 seen = 0, all = n_fields == 32 ? G_MAXUINT32 : (1u << n_fields) - 1;

  g_assert (n_fields <= 32);
  /* The files print each key once: with every field found the rest of
   * the file (most of /proc/meminfo) has nothing to give. */
  while (seen != all && next_line (&p, end, &l, &le))
    {
      const char *ke = memchr (l, sep, le - l);

      if (ke == NULL)
        ke = le; /* a known key without its value is malformed */
      for (guint i = 0; i < n_fields; i++)
        {
          const char *s = ke;
          guint64 v;

          if (!token_is (l, ke, fields[i].key))
            continue;
          if (s == le || (s++, !field_u64 (&s, le, &v)) || (kb && !parse_kb (&s, le, &v)) || !only_blanks (s, le))
            return -EBADMSG;
          *(guint64 *) (void *) ((char *) out + fields[i].offset) = v;
          seen |= 1u << i;
          break;
        }
    }
  for (guint i = 0; i < n_fields; i++)
    if (fields[i].required && !(seen & (1u << i)))
      return -EBADMSG;
  if (ret_seen)
    *ret_seen = seen;
  return 0;
}

/* ---- /proc/stat ---- */

static gboolean
parse_cpu_times (const char *s, const char *end, OrchCpuTimes *ret)
{
  guint64 v[8] = { 0 }, x;
  guint n = 0;

  while (!only_blanks (s, end))
    {
      if (!field_u64 (&s, end, &x))
        return FALSE;
      if (n < G_N_ELEMENTS (v))
        v[n] = x;
      n++;
    }
  if (n < 4)
    return FALSE;
  *ret = (OrchCpuTimes) { v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7] };
  return TRUE;
}

int
orch_parse_sys_stat (const char *text, gsize len, OrchSysStat *ret)
{
  g_autoptr(GArray) cpus = NULL;
  const char *p, *end, *l, *le;
  OrchSysStat st = { 0 };
  gboolean have_total = FALSE, have_btime = FALSE;

  g_return_val_if_fail (text != NULL || len == 0, -EINVAL);
  g_return_val_if_fail (ret != NULL, -EINVAL);
  if (text == NULL)
    text = "";
  p = text;
  end = text + len;
  cpus = g_array_new (FALSE, TRUE, sizeof (OrchCpuTimes));

  while (next_line (&p, end, &l, &le))
    {
      const char *s, *ke;
      guint64 v;

      if ((s = match_prefix (l, le, "cpu")))
        {
          OrchCpuTimes t;

          if (s < le && is_blank (*s))
            {
              if (!parse_cpu_times (s, le, &t))
                return -EBADMSG;
              st.total = t;
              have_total = TRUE;
            }
          else if (s < le && g_ascii_isdigit (*s))
            {
              if (!parse_digits (&s, le, &v) || s >= le || !is_blank (*s) || v >= MAX_CPUS ||
                  v < cpus->len || !parse_cpu_times (s, le, &t))
                return -EBADMSG;
              g_array_set_size (cpus, (guint) v); /* offline CPUs are skipped: zero */
              g_array_append_val (cpus, t);
            }
          continue;
        }

      for (ke = l; ke < le && !is_blank (*ke); ke++)
        ;
      s = ke;
      if (token_is (l, ke, "btime"))
        {
          if (!field_u64 (&s, le, &st.boot_time) || !only_blanks (s, le))
            return -EBADMSG;
          have_btime = TRUE;
        }
      else if (token_is (l, ke, "processes"))
        {
          if (!field_u64 (&s, le, &st.processes) || !only_blanks (s, le))
            return -EBADMSG;
        }
      else if (token_is (l, ke, "procs_running"))
        {
          if (!field_u32 (&s, le, &st.procs_running) || !only_blanks (s, le))
            return -EBADMSG;
        }
      else if (token_is (l, ke, "procs_blocked"))
        {
          if (!field_u32 (&s, le, &st.procs_blocked) || !only_blanks (s, le))
            return -EBADMSG;
        }
    }
  if (!have_total || !have_btime)
    return -EBADMSG;
  st.cpus = g_steal_pointer (&cpus);
  *ret = st;
  return 0;
}

void
orch_sys_stat_clear (OrchSysStat *s)
{
  if (s == NULL)
    return;
  g_clear_pointer (&s->cpus, g_array_unref);
  *s = (OrchSysStat) { 0 };
}

double
orch_cpu_busy_percent (const OrchCpuTimes *prev, const OrchCpuTimes *cur)
{
  double total = 0, idle = 0, busy;

  g_return_val_if_fail (prev != NULL && cur != NULL, 0);

  const guint64 a[] = { prev->user, prev->nice, prev->system, prev->idle,
                        prev->iowait, prev->irq, prev->softirq, prev->steal };
  const guint64 b[] = { cur->user, cur->nice, cur->system, cur->idle,
                        cur->iowait, cur->irq, cur->softirq, cur->steal };
  for (guint i = 0; i < G_N_ELEMENTS (a); i++)
    {
      double d = b[i] > a[i] ? (double) (b[i] - a[i]) : 0.0;
      total += d;
      if (i == 3 || i == 4) /* idle, iowait */
        idle += d;
    }
  if (total <= 0)
    return 0;
  busy = (total - idle) * 100.0 / total;
  return CLAMP (busy, 0.0, 100.0);
}

/* ---- /proc/meminfo ---- */

int
orch_parse_meminfo (const char *text, gsize len, OrchMeminfo *ret)
{
  static const KeyedField fields[] = {
    { "MemTotal", G_STRUCT_OFFSET (OrchMeminfo, total), TRUE },
    { "MemFree", G_STRUCT_OFFSET (OrchMeminfo, free), FALSE },
    { "MemAvailable", G_STRUCT_OFFSET (OrchMeminfo, available), FALSE },
    { "Buffers", G_STRUCT_OFFSET (OrchMeminfo, buffers), FALSE },
    { "Cached", G_STRUCT_OFFSET (OrchMeminfo, cached), FALSE },
    { "Shmem", G_STRUCT_OFFSET (OrchMeminfo, shmem), FALSE },
    { "SReclaimable", G_STRUCT_OFFSET (OrchMeminfo, sreclaimable), FALSE },
    { "SwapTotal", G_STRUCT_OFFSET (OrchMeminfo, swap_total), FALSE },
    { "SwapFree", G_STRUCT_OFFSET (OrchMeminfo, swap_free), FALSE },
  };
  OrchMeminfo m = { 0 };
  guint32 seen = 0;
  int r;

  g_return_val_if_fail (text != NULL || len == 0, -EINVAL);
  g_return_val_if_fail (ret != NULL, -EINVAL);
  if (text == NULL)
    text = "";
  r = parse_keyed (text, len, ':', TRUE, fields, G_N_ELEMENTS (fields), &m, &seen);
  if (r < 0)
    return r;
  if (!(seen & (1u << 2)))
    {
      m.available = m.free;
      if (!add_u64 (&m.available, m.buffers) || !add_u64 (&m.available, m.cached))
        return -EBADMSG;
    }
  *ret = m;
  return 0;
}

/* ---- /proc/loadavg, /proc/uptime ---- */

int
orch_parse_loadavg (const char *text, gsize len, OrchLoadavg *ret)
{
  const char *s, *end;
  OrchLoadavg la = { 0 };
  guint64 running, total, last_pid;

  g_return_val_if_fail (text != NULL || len == 0, -EINVAL);
  g_return_val_if_fail (ret != NULL, -EINVAL);
  if (text == NULL)
    text = "";
  s = text;
  end = text + len;
  if (len > 0 && end[-1] == '\n')
    end--;

  if (!field_decimal (&s, end, &la.load1) || !field_decimal (&s, end, &la.load5) ||
      !field_decimal (&s, end, &la.load15))
    return -EBADMSG;
  s = skip_blanks (s, end);
  if (!parse_digits (&s, end, &running) || s >= end || *s != '/')
    return -EBADMSG;
  s++;
  if (!parse_digits (&s, end, &total) || s >= end || !is_blank (*s) ||
      running > G_MAXUINT32 || total > G_MAXUINT32)
    return -EBADMSG;
  if (!field_u64 (&s, end, &last_pid) || !only_blanks (s, end))
    return -EBADMSG;
  la.running = (guint32) running;
  la.total = (guint32) total;
  *ret = la;
  return 0;
}

int
orch_parse_uptime (const char *text, gsize len, double *ret_seconds)
{
  const char *s, *end;
  double up, idle;

  g_return_val_if_fail (text != NULL || len == 0, -EINVAL);
  g_return_val_if_fail (ret_seconds != NULL, -EINVAL);
  if (text == NULL)
    text = "";
  s = text;
  end = text + len;
  if (len > 0 && end[-1] == '\n')
    end--;
  if (!field_decimal (&s, end, &up) || !field_decimal (&s, end, &idle) || !only_blanks (s, end))
    return -EBADMSG;
  *ret_seconds = up;
  return 0;
}

/* ---- /proc/net/dev ---- */

int
orch_parse_net_dev (const char *text, gsize len, GArray **ret)
{
  g_autoptr(GArray) devs = NULL;
  const char *p, *end, *l, *le;
  guint n_header = 0;

  g_return_val_if_fail (text != NULL || len == 0, -EINVAL);
  g_return_val_if_fail (ret != NULL, -EINVAL);
  if (text == NULL)
    text = "";
  p = text;
  end = text + len;
  devs = g_array_new (FALSE, TRUE, sizeof (OrchNetDev));

  while (next_line (&p, end, &l, &le))
    {
      OrchNetDev d = { 0 };
      guint64 v[16], x;
      const char *s, *colon;
      guint n = 0;

      if (n_header < 2)
        {
          if (memchr (l, '|', le - l) == NULL)
            return -EBADMSG;
          n_header++;
          continue;
        }
      if (only_blanks (l, le))
        continue;
      s = skip_blanks (l, le);
      colon = memchr (s, ':', le - s);
      if (colon == NULL || !copy_name (d.name, sizeof d.name, s, colon))
        return -EBADMSG;
      for (const char *c = s; c < colon; c++)
        if (is_blank (*c))
          return -EBADMSG;
      s = colon + 1;
      while (!only_blanks (s, le))
        {
          if (!field_u64 (&s, le, &x))
            return -EBADMSG;
          if (n < G_N_ELEMENTS (v))
            v[n] = x;
          n++;
        }
      if (n < 16)
        return -EBADMSG;
      d.rx_bytes = v[0];
      d.rx_packets = v[1];
      d.rx_errs = v[2];
      d.rx_drop = v[3];
      d.tx_bytes = v[8];
      d.tx_packets = v[9];
      d.tx_errs = v[10];
      d.tx_drop = v[11];
      g_array_append_val (devs, d);
    }
  if (n_header < 2)
    return -EBADMSG;
  *ret = g_steal_pointer (&devs);
  return 0;
}

/* ---- /proc/diskstats ---- */

int
orch_parse_diskstats (const char *text, gsize len, GArray **ret)
{
  g_autoptr(GArray) disks = NULL;
  const char *p, *end, *l, *le;

  g_return_val_if_fail (text != NULL || len == 0, -EINVAL);
  g_return_val_if_fail (ret != NULL, -EINVAL);
  if (text == NULL)
    text = "";
  p = text;
  end = text + len;
  disks = g_array_new (FALSE, TRUE, sizeof (OrchDiskStat));

  while (next_line (&p, end, &l, &le))
    {
      OrchDiskStat d = { 0 };
      const char *s = l, *name, *name_end;
      guint64 v[11], x;
      guint n = 0;

      if (only_blanks (l, le))
        continue;
      if (!field_u32 (&s, le, &d.major) || !field_u32 (&s, le, &d.minor) ||
          !next_token (&s, le, &name, &name_end) || !copy_name (d.name, sizeof d.name, name, name_end))
        return -EBADMSG;
      /* Fields 4..: reads, reads merged, sectors read, ms reading, writes,
       * writes merged, sectors written, ms writing, in flight, io ms,
       * weighted io ms, then discard (4.18) and flush (5.5) columns. */
      while (!only_blanks (s, le))
        {
          if (!field_u64 (&s, le, &x))
            return -EBADMSG;
          if (n < G_N_ELEMENTS (v))
            v[n] = x;
          n++;
        }
      if (n < 11)
        return -EBADMSG;
      d.reads = v[0];
      d.read_sectors = v[2];
      d.writes = v[4];
      d.write_sectors = v[6];
      d.io_ms = v[9];
      g_array_append_val (disks, d);
    }
  *ret = g_steal_pointer (&disks);
  return 0;
}

/* ---- pressure ---- */

static gboolean
parse_pressure_line (const char *s, const char *end, double *avg10, double *avg60,
                     double *avg300, guint64 *total)
{
  const char *tok, *tok_end;
  guint seen = 0;

  while (next_token (&s, end, &tok, &tok_end))
    {
      const char *eq = memchr (tok, '=', tok_end - tok), *v;
      double *avg = NULL;

      if (eq == NULL)
        continue;
      v = eq + 1;
      if (token_is (tok, eq, "total"))
        {
          if (!token_u64 (v, tok_end, total))
            return FALSE;
          seen |= 1u << 3;
          continue;
        }
      if (token_is (tok, eq, "avg10"))
        avg = avg10, seen |= 1u << 0;
      else if (token_is (tok, eq, "avg60"))
        avg = avg60, seen |= 1u << 1;
      else if (token_is (tok, eq, "avg300"))
        avg = avg300, seen |= 1u << 2;
      else
        continue;
      if (!parse_decimal (&v, tok_end, avg) || v != tok_end)
        return FALSE;
    }
  return seen == 0xf;
}

int
orch_parse_pressure (const char *text, gsize len, OrchPressure *ret)
{
  const char *p, *end, *l, *le;
  OrchPressure pr = { 0 };
  gboolean have_some = FALSE;

  g_return_val_if_fail (text != NULL || len == 0, -EINVAL);
  g_return_val_if_fail (ret != NULL, -EINVAL);
  if (text == NULL)
    text = "";
  p = text;
  end = text + len;

  while (next_line (&p, end, &l, &le))
    {
      const char *s;

      if ((s = match_prefix (l, le, "some")) && s < le && is_blank (*s))
        {
          if (!parse_pressure_line (s, le, &pr.some_avg10, &pr.some_avg60, &pr.some_avg300,
                                    &pr.some_total_us))
            return -EBADMSG;
          have_some = TRUE;
        }
      else if ((s = match_prefix (l, le, "full")) && s < le && is_blank (*s))
        {
          if (!parse_pressure_line (s, le, &pr.full_avg10, &pr.full_avg60, &pr.full_avg300,
                                    &pr.full_total_us))
            return -EBADMSG;
          pr.has_full = TRUE;
        }
    }
  if (!have_some)
    return -EBADMSG;
  *ret = pr;
  return 0;
}

/* ---- cgroup v2 ---- */

int
orch_parse_cgroup_cpu_stat (const char *text, gsize len, OrchCgroupCpuStat *ret)
{
  static const KeyedField fields[] = {
    { "usage_usec", G_STRUCT_OFFSET (OrchCgroupCpuStat, usage_usec), TRUE },
    { "user_usec", G_STRUCT_OFFSET (OrchCgroupCpuStat, user_usec), FALSE },
    { "system_usec", G_STRUCT_OFFSET (OrchCgroupCpuStat, system_usec), FALSE },
    { "nr_periods", G_STRUCT_OFFSET (OrchCgroupCpuStat, nr_periods), FALSE },
    { "nr_throttled", G_STRUCT_OFFSET (OrchCgroupCpuStat, nr_throttled), FALSE },
    { "throttled_usec", G_STRUCT_OFFSET (OrchCgroupCpuStat, throttled_usec), FALSE },
  };
  OrchCgroupCpuStat c = { 0 };
  int r;

  g_return_val_if_fail (text != NULL || len == 0, -EINVAL);
  g_return_val_if_fail (ret != NULL, -EINVAL);
  if (text == NULL)
    text = "";
  r = parse_keyed (text, len, ' ', FALSE, fields, G_N_ELEMENTS (fields), &c, NULL);
  if (r < 0)
    return r;
  *ret = c;
  return 0;
}

int
orch_parse_cgroup_u64 (const char *text, gsize len, guint64 *ret)
{
  const char *s, *end;
  guint64 v;

  g_return_val_if_fail (text != NULL || len == 0, -EINVAL);
  g_return_val_if_fail (ret != NULL, -EINVAL);
  if (text == NULL)
    text = "";
  s = text;
  end = text + len;
  if (len > 0 && end[-1] == '\n')
    end--;
  if (token_is (s, end, "max"))
    v = G_MAXUINT64;
  else if (!token_u64 (s, end, &v))
    return -EBADMSG;
  *ret = v;
  return 0;
}

int
orch_parse_cgroup_memory_events (const char *text, gsize len, OrchCgroupMemoryEvents *ret)
{
  static const KeyedField fields[] = {
    { "low", G_STRUCT_OFFSET (OrchCgroupMemoryEvents, low), TRUE },
    { "high", G_STRUCT_OFFSET (OrchCgroupMemoryEvents, high), TRUE },
    { "max", G_STRUCT_OFFSET (OrchCgroupMemoryEvents, max), TRUE },
    { "oom", G_STRUCT_OFFSET (OrchCgroupMemoryEvents, oom), TRUE },
    { "oom_kill", G_STRUCT_OFFSET (OrchCgroupMemoryEvents, oom_kill), FALSE },
  };
  OrchCgroupMemoryEvents e = { 0 };
  int r;

  g_return_val_if_fail (text != NULL || len == 0, -EINVAL);
  g_return_val_if_fail (ret != NULL, -EINVAL);
  if (text == NULL)
    text = "";
  r = parse_keyed (text, len, ' ', FALSE, fields, G_N_ELEMENTS (fields), &e, NULL);
  if (r < 0)
    return r;
  *ret = e;
  return 0;
}

int
orch_parse_cgroup_io_stat (const char *text, gsize len, OrchCgroupIoStat *ret)
{
  const char *p, *end, *l, *le;
  OrchCgroupIoStat io = { 0 };

  g_return_val_if_fail (text != NULL || len == 0, -EINVAL);
  g_return_val_if_fail (ret != NULL, -EINVAL);
  if (text == NULL)
    text = "";
  p = text;
  end = text + len;

  while (next_line (&p, end, &l, &le))
    {
      static const char *const keys[] = { "rbytes", "wbytes", "rios", "wios" };
      guint64 vals[G_N_ELEMENTS (keys)] = { 0 }, maj, min;
      const char *s = l, *tok, *tok_end, *t;
      guint seen = 0;

      if (only_blanks (l, le))
        continue;
      if (!next_token (&s, le, &tok, &tok_end))
        return -EBADMSG;
      t = tok;
      if (!parse_digits (&t, tok_end, &maj) || t >= tok_end || *t != ':')
        return -EBADMSG;
      t++;
      if (!token_u64 (t, tok_end, &min) || maj > G_MAXUINT32 || min > G_MAXUINT32)
        return -EBADMSG;
      while (next_token (&s, le, &tok, &tok_end))
        {
          const char *eq = memchr (tok, '=', tok_end - tok);

          if (eq == NULL)
            continue;
          for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
            if (token_is (tok, eq, keys[i]))
              {
                if (!token_u64 (eq + 1, tok_end, &vals[i]))
                  return -EBADMSG;
                seen |= 1u << i;
                break;
              }
        }
      if (seen != 0xf || !add_u64 (&io.rbytes, vals[0]) || !add_u64 (&io.wbytes, vals[1]) ||
          !add_u64 (&io.rios, vals[2]) || !add_u64 (&io.wios, vals[3]))
        return -EBADMSG;
    }
  *ret = io;
  return 0;
}

/* ---- /proc/PID/status, /proc/PID/io ---- */

int
orch_parse_proc_status (const char *text, gsize len, OrchProcStatus *ret)
{
  const char *p, *end, *l, *le;
  OrchProcStatus st = { 0 };
  gboolean have_name = FALSE, have_state = FALSE, have_uid = FALSE, have_threads = FALSE;

  g_return_val_if_fail (text != NULL || len == 0, -EINVAL);
  g_return_val_if_fail (ret != NULL, -EINVAL);
  if (text == NULL)
    text = "";
  p = text;
  end = text + len;

  while (next_line (&p, end, &l, &le))
    {
      const char *s;

      if ((s = match_prefix (l, le, "Name:")))
        {
          gsize n;

          /* "Name:\t%s": the name itself may start or end with spaces. */
          if (s < le && *s == '\t')
            s++;
          n = le - s;
          if (n >= sizeof st.name)
            return -EBADMSG;
          memcpy (st.name, s, n);
          st.name[n] = '\0';
          have_name = TRUE;
        }
      else if ((s = match_prefix (l, le, "State:")))
        {
          s = skip_blanks (s, le);
          if (s >= le || !g_ascii_isgraph (*s))
            return -EBADMSG;
          st.state = *s;
          have_state = TRUE;
        }
      else if ((s = match_prefix (l, le, "Uid:")))
        {
          guint32 ids[4];

          for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
            if (!field_u32 (&s, le, &ids[i]))
              return -EBADMSG;
          if (!only_blanks (s, le))
            return -EBADMSG;
          st.uid = ids[0];
          have_uid = TRUE;
        }
      else if ((s = match_prefix (l, le, "Threads:")))
        {
          if (!field_u32 (&s, le, &st.threads) || !only_blanks (s, le))
            return -EBADMSG;
          have_threads = TRUE;
        }
      else if ((s = match_prefix (l, le, "VmSize:")))
        {
          if (!field_u64 (&s, le, &st.vm_size) || !parse_kb (&s, le, &st.vm_size) || !only_blanks (s, le))
            return -EBADMSG;
        }
      else if ((s = match_prefix (l, le, "VmRSS:")))
        {
          if (!field_u64 (&s, le, &st.vm_rss) || !parse_kb (&s, le, &st.vm_rss) || !only_blanks (s, le))
            return -EBADMSG;
        }
    }
  if (!have_name || !have_state || !have_uid || !have_threads)
    return -EBADMSG;
  *ret = st;
  return 0;
}

int
orch_parse_proc_io (const char *text, gsize len, OrchProcIo *ret)
{
  static const KeyedField fields[] = {
    { "rchar", G_STRUCT_OFFSET (OrchProcIo, rchar), TRUE },
    { "wchar", G_STRUCT_OFFSET (OrchProcIo, wchar), TRUE },
    { "read_bytes", G_STRUCT_OFFSET (OrchProcIo, read_bytes), TRUE },
    { "write_bytes", G_STRUCT_OFFSET (OrchProcIo, write_bytes), TRUE },
    { "cancelled_write_bytes", G_STRUCT_OFFSET (OrchProcIo, cancelled_write_bytes), TRUE },
  };
  OrchProcIo io = { 0 };
  int r;

  g_return_val_if_fail (text != NULL || len == 0, -EINVAL);
  g_return_val_if_fail (ret != NULL, -EINVAL);
  if (text == NULL)
    text = "";
  r = parse_keyed (text, len, ':', FALSE, fields, G_N_ELEMENTS (fields), &io, NULL);
  if (r < 0)
    return r;
  *ret = io;
  return 0;
}
