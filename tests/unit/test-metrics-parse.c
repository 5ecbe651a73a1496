/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/orch-metrics-parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

/* A literal and its length, without the NUL. */
#define LIT(s) (s), strlen (s)

static char *
fixture (const char *name, gsize *ret_len)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "fixtures", name, NULL);
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, ret_len, &error));
  g_assert_no_error (error);
  return text;
}

/* How much of the fixture a prefix holds. */
typedef enum {
  PREFIX_PARTIAL,  /* cut inside a line: every figure <= the full one */
  PREFIX_BOUNDARY, /* cut after a '\n': every figure equal to the full one or not reached (0) */
  PREFIX_COMPLETE, /* all of it, maybe without the final '\n': everything equal */
} PrefixMode;

typedef struct {
  gsize size;                                           /* of the result struct */
  int (*parse) (const char *text, gsize len, gpointer ret);
  void (*check) (gconstpointer got, gconstpointer full, PrefixMode mode);
  void (*clear) (gpointer res);
} Parser;

static void
chk_u64 (guint64 got, guint64 full, PrefixMode mode)
{
  if (mode == PREFIX_COMPLETE)
    g_assert_cmpuint (got, ==, full);
  else if (mode == PREFIX_BOUNDARY && got != 0)
    g_assert_cmpuint (got, ==, full);
  else
    g_assert_cmpuint (got, <=, full);
}

/* Figures summed over lines: a prefix only holds fewer terms. */
static void
chk_sum (guint64 got, guint64 full, PrefixMode mode)
{
  if (mode == PREFIX_COMPLETE)
    g_assert_cmpuint (got, ==, full);
  else
    g_assert_cmpuint (got, <=, full);
}

static void
chk_dbl (double got, double full, PrefixMode mode)
{
  if (mode == PREFIX_COMPLETE)
    g_assert_cmpfloat (got, ==, full);
  else if (mode == PREFIX_BOUNDARY && got != 0)
    g_assert_cmpfloat (got, ==, full);
  else
    g_assert_cmpfloat (got, <=, full);
}

/* Parses every prefix of @text from a heap buffer of exactly that size (so
 * ASan catches a read past len): the result is -EBADMSG or consistent with
 * the full parse; prefixes shorter than @min_ok (they cut a required field)
 * must fail, the complete text (with or without its final newline) must
 * succeed. */
static void
check_prefixes (const Parser *ps, const char *text, gsize len, gsize min_ok)
{
  g_autofree gpointer full = g_malloc0 (ps->size);

  g_assert_cmpint (ps->parse (text, len, full), ==, 0);
  for (gsize l = 0; l <= len; l++)
    {
      char *buf = malloc (l);
      g_autofree gpointer got = g_malloc0 (ps->size);
      gboolean complete = l == len || (l + 1 == len && text[len - 1] == '\n');
      PrefixMode mode = complete ? PREFIX_COMPLETE
                        : (l > 0 && text[l - 1] == '\n') ? PREFIX_BOUNDARY : PREFIX_PARTIAL;
      int r;

      g_assert_true (buf != NULL || l == 0);
      if (l > 0)
        memcpy (buf, text, l);
      r = ps->parse (buf, l, got);
      if (r != 0 && r != -EBADMSG)
        g_error ("prefix %" G_GSIZE_FORMAT ": unexpected %d", l, r);
      if (complete && r != 0)
        g_error ("complete prefix %" G_GSIZE_FORMAT " failed: %d", l, r);
      if (l < min_ok && r != -EBADMSG)
        g_error ("prefix %" G_GSIZE_FORMAT " < %" G_GSIZE_FORMAT " (cuts a required field) parsed",
                 l, min_ok);
      if (r == 0)
        {
          ps->check (got, full, mode);
          if (ps->clear)
            ps->clear (got);
        }
      free (buf);
    }
  if (ps->clear)
    ps->clear (full);
}

/* Offset of the first digit after @key in @text: a prefix shorter than it
 * lacks that field's value. */
static gsize
value_offset (const char *text, gsize len, const char *key)
{
  const char *k = g_strstr_len (text, len, key), *s;

  g_assert_nonnull (k);
  for (s = k + strlen (key); s < text + len && !g_ascii_isdigit (*s); s++)
    ;
  return s - text;
}

static gsize
last_value_offset (const char *text, gsize len, const char *key)
{
  const char *k = NULL, *s = text;

  while ((s = g_strstr_len (s, text + len - s, key)))
    k = s++;
  g_assert_nonnull (k);
  return value_offset (k, text + len - k, key) + (k - text);
}

/* ---- /proc/stat ---- */

static int
wrap_sys_stat (const char *t, gsize l, gpointer r)
{
  return orch_parse_sys_stat (t, l, r);
}

static void
chk_times (const OrchCpuTimes *g, const OrchCpuTimes *f, PrefixMode m)
{
  chk_u64 (g->user, f->user, m);
  chk_u64 (g->nice, f->nice, m);
  chk_u64 (g->system, f->system, m);
  chk_u64 (g->idle, f->idle, m);
  chk_u64 (g->iowait, f->iowait, m);
  chk_u64 (g->irq, f->irq, m);
  chk_u64 (g->softirq, f->softirq, m);
  chk_u64 (g->steal, f->steal, m);
}

static void
check_sys_stat (gconstpointer got, gconstpointer full, PrefixMode m)
{
  const OrchSysStat *g = got, *f = full;

  chk_times (&g->total, &f->total, m);
  g_assert_cmpuint (g->cpus->len, <=, f->cpus->len);
  if (m == PREFIX_COMPLETE)
    g_assert_cmpuint (g->cpus->len, ==, f->cpus->len);
  for (guint i = 0; i < g->cpus->len; i++)
    chk_times (&g_array_index (g->cpus, OrchCpuTimes, i), &g_array_index (f->cpus, OrchCpuTimes, i),
               i + 1 < g->cpus->len ? PREFIX_COMPLETE : m);
  chk_u64 (g->processes, f->processes, m);
  chk_u64 (g->procs_running, f->procs_running, m);
  chk_u64 (g->procs_blocked, f->procs_blocked, m);
  chk_u64 (g->boot_time, f->boot_time, m);
}

static void
clear_sys_stat (gpointer p)
{
  orch_sys_stat_clear (p);
}

static const Parser sys_stat_parser = { sizeof (OrchSysStat), wrap_sys_stat, check_sys_stat, clear_sys_stat };

static void
test_sys_stat (void)
{
  gsize len;
  g_autofree char *text = fixture ("metrics-hybrid-stat", &len);
  g_auto(OrchSysStat) st = { 0 };
  const OrchCpuTimes *c1;

  g_assert_cmpint (orch_parse_sys_stat (text, len, &st), ==, 0);
  /* cpu  89756 0 24560 422756 690 0 243 222 0 0 */
  g_assert_cmpuint (st.total.user, ==, 89756);
  g_assert_cmpuint (st.total.nice, ==, 0);
  g_assert_cmpuint (st.total.system, ==, 24560);
  g_assert_cmpuint (st.total.idle, ==, 422756);
  g_assert_cmpuint (st.total.iowait, ==, 690);
  g_assert_cmpuint (st.total.irq, ==, 0);
  g_assert_cmpuint (st.total.softirq, ==, 243);
  g_assert_cmpuint (st.total.steal, ==, 222);
  g_assert_cmpuint (st.cpus->len, ==, 2);
  /* cpu1 45297 0 11805 211554 213 0 136 111 0 0 */
  c1 = &g_array_index (st.cpus, OrchCpuTimes, 1);
  g_assert_cmpuint (c1->user, ==, 45297);
  g_assert_cmpuint (c1->system, ==, 11805);
  g_assert_cmpuint (c1->idle, ==, 211554);
  g_assert_cmpuint (c1->iowait, ==, 213);
  g_assert_cmpuint (c1->softirq, ==, 136);
  g_assert_cmpuint (c1->steal, ==, 111);
  g_assert_cmpuint (g_array_index (st.cpus, OrchCpuTimes, 0).user, ==, 44459);
  g_assert_cmpuint (st.boot_time, ==, 1795818833);
  g_assert_cmpuint (st.processes, ==, 76618);
  g_assert_cmpuint (st.procs_running, ==, 1);
  g_assert_cmpuint (st.procs_blocked, ==, 0);

  check_prefixes (&sys_stat_parser, text, len, value_offset (text, len, "\nbtime"));

  /* The ret struct is untouched on failure. */
  orch_sys_stat_clear (&st);
  st.boot_time = 7;
  g_assert_cmpint (orch_parse_sys_stat (text, value_offset (text, len, "\nbtime") - 1, &st), ==, -EBADMSG);
  g_assert_cmpuint (st.boot_time, ==, 7);
  g_assert_null (st.cpus);
  orch_sys_stat_clear (&st);
  orch_sys_stat_clear (&st);
}

static void
test_sys_stat_old (void)
{
  gsize len;
  g_autofree char *text = fixture ("metrics-old-stat", &len);
  g_auto(OrchSysStat) st = { 0 };

  g_assert_cmpint (orch_parse_sys_stat (text, len, &st), ==, 0);
  g_assert_cmpuint (st.total.user, ==, 2255);
  g_assert_cmpuint (st.total.idle, ==, 22625563);
  g_assert_cmpuint (st.total.steal, ==, 0);
  /* cpu1 is offline: the kernel skips it, it reads as zero. */
  g_assert_cmpuint (st.cpus->len, ==, 3);
  g_assert_cmpuint (g_array_index (st.cpus, OrchCpuTimes, 0).system, ==, 1441);
  g_assert_cmpuint (g_array_index (st.cpus, OrchCpuTimes, 1).idle, ==, 0);
  g_assert_cmpuint (g_array_index (st.cpus, OrchCpuTimes, 2).idle, ==, 11313845);
  g_assert_cmpuint (st.boot_time, ==, 1062191376);
  g_assert_cmpuint (st.processes, ==, 2915);
  check_prefixes (&sys_stat_parser, text, len, value_offset (text, len, "\nbtime"));
}

static void
expect_sys_stat_bad (const char *s)
{
  OrchSysStat st = { 0 };
  g_assert_cmpint (orch_parse_sys_stat (s, strlen (s), &st), ==, -EBADMSG);
  g_assert_null (st.cpus);
}

static void
test_sys_stat_bad (void)
{
  g_auto(OrchSysStat) st = { 0 };

  g_assert_cmpint (orch_parse_sys_stat (NULL, 0, &st), ==, -EBADMSG);
  expect_sys_stat_bad ("");
  expect_sys_stat_bad ("garbage\n\x01\x02\n");
  expect_sys_stat_bad ("btime 1\n");                                  /* no cpu line */
  expect_sys_stat_bad ("cpu  1 2 3 4 5 6 7 8\n");                     /* no btime */
  expect_sys_stat_bad ("cpu  1 2 3\nbtime 1\n");                      /* too few */
  expect_sys_stat_bad ("cpu  1 2 3 -4\nbtime 1\n");
  expect_sys_stat_bad ("cpu  1 2 3 4x\nbtime 1\n");
  expect_sys_stat_bad ("cpu  1 2 3 18446744073709551616\nbtime 1\n"); /* 2^64 */
  expect_sys_stat_bad ("cpu  1 2 3 4\nbtime -1\n");
  expect_sys_stat_bad ("cpu  1 2 3 4\nbtime\n");
  expect_sys_stat_bad ("cpu  1 2 3 4\nbtime 1 2\n");
  expect_sys_stat_bad ("cpu  1 2 3 4\nbtime 1\nprocs_running 4294967296\n");
  expect_sys_stat_bad ("cpu  1 2 3 4\ncpu1 1 2 3 4\ncpu0 1 2 3 4\nbtime 1\n");  /* order */
  expect_sys_stat_bad ("cpu  1 2 3 4\ncpu0 1 2 3 4\ncpu0 1 2 3 4\nbtime 1\n");  /* twice */
  expect_sys_stat_bad ("cpu  1 2 3 4\ncpu99999999 1 2 3 4\nbtime 1\n");
  expect_sys_stat_bad ("cpu  1 2 3 4\ncpu0\nbtime 1\n");

  /* Largest u64, no final newline, unknown lines and "cpufreq"-like keys ignored. */
  {
    const char *s = "cpu  18446744073709551615 0 0 0 0 0 0 0 0 0 0 0\ncpux 1\nweird\n\nbtime 5";
    g_assert_cmpint (orch_parse_sys_stat (s, strlen (s), &st), ==, 0);
    g_assert_cmpuint (st.total.user, ==, G_MAXUINT64);
    g_assert_cmpuint (st.boot_time, ==, 5);
    g_assert_cmpuint (st.cpus->len, ==, 0);
  }
  /* len is honoured: the byte after it is not part of the number. */
  {
    const char *s = "cpu  1 2 3 4\nbtime 12345";
    g_auto(OrchSysStat) st2 = { 0 };
    g_assert_cmpint (orch_parse_sys_stat (s, strlen (s) - 2, &st2), ==, 0);
    g_assert_cmpuint (st2.boot_time, ==, 123);
  }
}

static void
test_busy_percent (void)
{
  OrchCpuTimes a = { .user = 100, .system = 50, .idle = 800, .iowait = 50 };
  OrchCpuTimes b = { .user = 150, .system = 100, .idle = 850, .iowait = 50, .steal = 0 };
  OrchCpuTimes c = b;
  gsize len;
  g_autofree char *text = fixture ("metrics-hybrid-stat", &len);
  g_auto(OrchSysStat) st = { 0 };

  g_assert_cmpfloat_with_epsilon (orch_cpu_busy_percent (&a, &b), 100.0 * 100 / 150, 1e-9);
  g_assert_cmpfloat (orch_cpu_busy_percent (&b, &b), ==, 0.0);
  /* iowait counts as idle, steal as busy */
  c.iowait += 100;
  g_assert_cmpfloat (orch_cpu_busy_percent (&b, &c), ==, 0.0);
  c = b;
  c.steal += 10;
  c.idle += 10;
  g_assert_cmpfloat_with_epsilon (orch_cpu_busy_percent (&b, &c), 50.0, 1e-9);
  /* a counter going backwards is not negative time */
  c = b;
  c.iowait = 0;
  c.user += 10;
  g_assert_cmpfloat_with_epsilon (orch_cpu_busy_percent (&b, &c), 100.0, 1e-9);
  /* all busy / all idle */
  c = b;
  c.irq += 3;
  g_assert_cmpfloat (orch_cpu_busy_percent (&b, &c), ==, 100.0);
  /* from boot to the fixture */
  g_assert_cmpint (orch_parse_sys_stat (text, len, &st), ==, 0);
  {
    OrchCpuTimes zero = { 0 };
    double p = orch_cpu_busy_percent (&zero, &st.total);
    double busy = 89756 + 24560 + 243 + 222, all = busy + 422756 + 690;
    g_assert_cmpfloat_with_epsilon (p, busy * 100 / all, 1e-9);
  }
}

/* ---- /proc/meminfo ---- */

static int
wrap_meminfo (const char *t, gsize l, gpointer r)
{
  return orch_parse_meminfo (t, l, r);
}

static void
check_meminfo (gconstpointer got, gconstpointer full, PrefixMode m)
{
  const OrchMeminfo *g = got, *f = full;

  chk_u64 (g->total, f->total, m);
  chk_u64 (g->free, f->free, m);
  if (m == PREFIX_COMPLETE) /* otherwise maybe estimated */
    g_assert_cmpuint (g->available, ==, f->available);
  chk_u64 (g->buffers, f->buffers, m);
  chk_u64 (g->cached, f->cached, m);
  chk_u64 (g->shmem, f->shmem, m);
  chk_u64 (g->sreclaimable, f->sreclaimable, m);
  chk_u64 (g->swap_total, f->swap_total, m);
  chk_u64 (g->swap_free, f->swap_free, m);
}

static const Parser meminfo_parser = { sizeof (OrchMeminfo), wrap_meminfo, check_meminfo, NULL };

static void
test_meminfo (void)
{
  gsize len, old_len;
  g_autofree char *text = fixture ("metrics-hybrid-meminfo", &len);
  g_autofree char *old = fixture ("metrics-old-meminfo", &old_len);
  OrchMeminfo m;

  g_assert_cmpint (orch_parse_meminfo (text, len, &m), ==, 0);
  g_assert_cmpuint (m.total, ==, 24684092ull * 1024);
  g_assert_cmpuint (m.free, ==, 24044792ull * 1024);
  g_assert_cmpuint (m.available, ==, 24321440ull * 1024);
  g_assert_cmpuint (m.buffers, ==, 7792ull * 1024);
  g_assert_cmpuint (m.cached, ==, 428692ull * 1024);
  g_assert_cmpuint (m.shmem, ==, 8856ull * 1024);
  g_assert_cmpuint (m.sreclaimable, ==, 118568ull * 1024);
  g_assert_cmpuint (m.swap_total, ==, 0);
  g_assert_cmpuint (m.swap_free, ==, 0);
  /* MemTotal's value must be there and carry its unit: "MemTotal: 24684092 kB" */
  check_prefixes (&meminfo_parser, text, len, strstr (text, " kB") + 3 - text);

  /* Before 3.14: no MemAvailable, estimated. */
  g_assert_cmpint (orch_parse_meminfo (old, old_len, &m), ==, 0);
  g_assert_cmpuint (m.total, ==, 2054196ull * 1024);
  g_assert_cmpuint (m.available, ==, (125432ull + 90112 + 812340) * 1024);
  g_assert_cmpuint (m.swap_total, ==, 4194300ull * 1024);
  g_assert_cmpuint (m.swap_free, ==, 4180000ull * 1024);
  check_prefixes (&meminfo_parser, old, old_len, strstr (old, " kB") + 3 - old);

  m.total = 1;
  g_assert_cmpint (orch_parse_meminfo ("", 0, &m), ==, -EBADMSG);
  g_assert_cmpuint (m.total, ==, 1);
  g_assert_cmpint (orch_parse_meminfo (NULL, 0, &m), ==, -EBADMSG);
#define BAD(s) g_assert_cmpint (orch_parse_meminfo (s, strlen (s), &m), ==, -EBADMSG)
  BAD ("garbage");
  BAD ("MemFree: 1 kB\n");
  BAD ("MemTotal: 1\n");
  BAD ("MemTotal: 1 MB\n");
  BAD ("MemTotal: -1 kB\n");
  BAD ("MemTotal: 1 kB x\n");
  BAD ("MemTotal: kB\n");
  BAD ("MemTotal: 18014398509481984 kB\n"); /* * 1024 overflows */
  BAD ("MemTotal: 99999999999999999999 kB\n");
  BAD ("MemTotal: 1 kB\nCached: 1 k\n");
#undef BAD
  g_assert_cmpint (orch_parse_meminfo (LIT ("MemTotal: 18014398509481983 kB"), &m), ==, 0);
  g_assert_cmpuint (m.total, ==, 18014398509481983ull * 1024);
  g_assert_cmpuint (m.available, ==, 0);
}

/* ---- loadavg, uptime ---- */

static int
wrap_loadavg (const char *t, gsize l, gpointer r)
{
  return orch_parse_loadavg (t, l, r);
}

static void
check_loadavg (gconstpointer got, gconstpointer full, PrefixMode m)
{
  const OrchLoadavg *g = got, *f = full;

  /* the last pid is the only thing a successful prefix may cut */
  (void) m;
  g_assert_cmpfloat (g->load1, ==, f->load1);
  g_assert_cmpfloat (g->load5, ==, f->load5);
  g_assert_cmpfloat (g->load15, ==, f->load15);
  g_assert_cmpuint (g->running, ==, f->running);
  g_assert_cmpuint (g->total, ==, f->total);
}

static const Parser loadavg_parser = { sizeof (OrchLoadavg), wrap_loadavg, check_loadavg, NULL };

static int
wrap_uptime (const char *t, gsize l, gpointer r)
{
  return orch_parse_uptime (t, l, r);
}

static void
check_uptime (gconstpointer got, gconstpointer full, PrefixMode m)
{
  (void) m;
  g_assert_cmpfloat (*(const double *) got, ==, *(const double *) full);
}

static const Parser uptime_parser = { sizeof (double), wrap_uptime, check_uptime, NULL };

static void
test_loadavg_uptime (void)
{
  gsize len, ulen;
  g_autofree char *text = fixture ("metrics-hybrid-loadavg", &len);
  g_autofree char *up = fixture ("metrics-hybrid-uptime", &ulen);
  OrchLoadavg la;
  double sec;

  /* 0.13 0.56 0.51 1/81 11697 */
  g_assert_cmpint (orch_parse_loadavg (text, len, &la), ==, 0);
  g_assert_cmpfloat_with_epsilon (la.load1, 0.13, 1e-12);
  g_assert_cmpfloat_with_epsilon (la.load5, 0.56, 1e-12);
  g_assert_cmpfloat_with_epsilon (la.load15, 0.51, 1e-12);
  g_assert_cmpuint (la.running, ==, 1);
  g_assert_cmpuint (la.total, ==, 81);
  check_prefixes (&loadavg_parser, text, len, strrchr (text, ' ') + 2 - text);

  /* 2699.00 4227.57 */
  g_assert_cmpint (orch_parse_uptime (up, ulen, &sec), ==, 0);
  g_assert_cmpfloat_with_epsilon (sec, 2699.00, 1e-9);
  check_prefixes (&uptime_parser, up, ulen, strchr (up, ' ') + 2 - up);

  la.running = 77;
#define BAD(s) g_assert_cmpint (orch_parse_loadavg (s, strlen (s), &la), ==, -EBADMSG)
  BAD ("");
  BAD ("garbage\n");
  BAD ("0.1 0.2 0.3 1/2\n");
  BAD ("0.1 0.2 0.3 1/2 3 4\n");
  BAD ("0.1 0.2 0.3 1 3\n");
  BAD ("-0.1 0.2 0.3 1/2 3\n");
  BAD ("0.1 0.2 0.3 -1/2 3\n");
  BAD ("0.1 0.2 nan 1/2 3\n");
  BAD ("0.1 0.2 inf 1/2 3\n");
  BAD ("0.1 0.2 0x3 1/2 3\n");
  BAD ("0.1 0.2 0.3.4 1/2 3\n");
  BAD ("0.1 0.2 0.3 1/4294967296 3\n");
  BAD ("0.1 0.2 0.3 1/2 18446744073709551616\n");
  BAD ("0.1 0.2 0.3 1/2 3\n\n");
#undef BAD
  g_assert_cmpuint (la.running, ==, 77);
  g_assert_cmpint (orch_parse_loadavg (LIT ("0.1 0.2 0.3 4294967295/4294967295 3"), &la), ==, 0);
  g_assert_cmpuint (la.total, ==, G_MAXUINT32);

  sec = 5;
#define BAD(s) g_assert_cmpint (orch_parse_uptime (s, strlen (s), &sec), ==, -EBADMSG)
  BAD ("");
  BAD ("12.5");
  BAD ("12.5 \n");
  BAD ("-12.5 3\n");
  BAD ("12.5 3 4\n");
  BAD ("1e5 3\n");
  BAD ("x 3\n");
#undef BAD
  g_assert_cmpfloat (sec, ==, 5);
  g_assert_cmpint (orch_parse_uptime (NULL, 0, &sec), ==, -EBADMSG);
  g_assert_cmpint (orch_parse_uptime (LIT ("12.5 3"), &sec), ==, 0);
  g_assert_cmpfloat (sec, ==, 12.5);
}

/* ---- /proc/net/dev ---- */

static int
wrap_net_dev (const char *t, gsize l, gpointer r)
{
  return orch_parse_net_dev (t, l, r);
}

static void
check_net_dev (gconstpointer got, gconstpointer full, PrefixMode m)
{
  GArray *g = *(GArray *const *) got, *f = *(GArray *const *) full;

  g_assert_cmpuint (g->len, <=, f->len);
  if (m == PREFIX_COMPLETE)
    g_assert_cmpuint (g->len, ==, f->len);
  for (guint i = 0; i < g->len; i++)
    {
      const OrchNetDev *a = &g_array_index (g, OrchNetDev, i), *b = &g_array_index (f, OrchNetDev, i);
      PrefixMode mm = i + 1 < g->len || m == PREFIX_BOUNDARY ? PREFIX_COMPLETE : m;

      g_assert_cmpstr (a->name, ==, b->name);
      chk_u64 (a->rx_bytes, b->rx_bytes, mm);
      chk_u64 (a->rx_packets, b->rx_packets, mm);
      chk_u64 (a->rx_errs, b->rx_errs, mm);
      chk_u64 (a->rx_drop, b->rx_drop, mm);
      chk_u64 (a->tx_bytes, b->tx_bytes, mm);
      chk_u64 (a->tx_packets, b->tx_packets, mm);
      chk_u64 (a->tx_errs, b->tx_errs, mm);
      chk_u64 (a->tx_drop, b->tx_drop, mm);
    }
}

static void
clear_array (gpointer p)
{
  g_clear_pointer ((GArray **) p, g_array_unref);
}

static const Parser net_dev_parser = { sizeof (GArray *), wrap_net_dev, check_net_dev, clear_array };

static void
test_net_dev (void)
{
  gsize len, old_len;
  g_autofree char *text = fixture ("metrics-hybrid-net-dev", &len);
  g_autofree char *old = fixture ("metrics-old-net-dev", &old_len);
  g_autoptr(GArray) devs = NULL, olddevs = NULL;
  GArray *untouched = (GArray *) 0x1;
  const OrchNetDev *d;
  const char *second;

  g_assert_cmpint (orch_parse_net_dev (text, len, &devs), ==, 0);
  g_assert_cmpuint (devs->len, ==, 4);
  g_assert_cmpstr (g_array_index (devs, OrchNetDev, 0).name, ==, "lo");
  g_assert_cmpuint (g_array_index (devs, OrchNetDev, 0).rx_bytes, ==, 3267);
  g_assert_cmpuint (g_array_index (devs, OrchNetDev, 0).tx_packets, ==, 29);
  g_assert_cmpstr (g_array_index (devs, OrchNetDev, 1).name, ==, "ifb0");
  d = &g_array_index (devs, OrchNetDev, 3);
  g_assert_cmpstr (d->name, ==, "eth0");
  g_assert_cmpuint (d->rx_bytes, ==, 43524982);
  g_assert_cmpuint (d->rx_packets, ==, 1642);
  g_assert_cmpuint (d->rx_errs, ==, 0);
  g_assert_cmpuint (d->rx_drop, ==, 0);
  g_assert_cmpuint (d->tx_bytes, ==, 88471);
  g_assert_cmpuint (d->tx_packets, ==, 1088);
  /* Both header lines hold a '|'; cut before the second one's -> -EBADMSG. */
  second = strchr (text, '\n') + 1;
  check_prefixes (&net_dev_parser, text, len, (strchr (second, '|') - text) + 1);

  /* Old kernels: no space after the colon when the counter is wide. */
  g_assert_cmpint (orch_parse_net_dev (old, old_len, &olddevs), ==, 0);
  g_assert_cmpuint (olddevs->len, ==, 2);
  d = &g_array_index (olddevs, OrchNetDev, 1);
  g_assert_cmpstr (d->name, ==, "eth0");
  g_assert_cmpuint (d->rx_bytes, ==, 4294967295123ull);
  g_assert_cmpuint (d->rx_packets, ==, 9923871);
  g_assert_cmpuint (d->rx_errs, ==, 3);
  g_assert_cmpuint (d->rx_drop, ==, 17);
  g_assert_cmpuint (d->tx_bytes, ==, 812773232);
  g_assert_cmpuint (d->tx_packets, ==, 6102931);
  second = strchr (old, '\n') + 1;
  check_prefixes (&net_dev_parser, old, old_len, (strchr (second, '|') - old) + 1);

#define HDR "Inter-|   Receive  |  Transmit\n face |bytes packets|bytes\n"
#define BAD(s) g_assert_cmpint (orch_parse_net_dev (s, strlen (s), &untouched), ==, -EBADMSG)
  BAD ("");
  BAD ("garbage\n");
  BAD ("Inter-|\n");
  BAD (HDR "eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
  BAD (HDR "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n");
  BAD (HDR "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 -16\n");
  BAD (HDR "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 1x\n");
  BAD (HDR "eth0: 18446744073709551616 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
  BAD (HDR ": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
  BAD (HDR "et h0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
  BAD (HDR "abcdefghijklmnopqrstuvwxyz0123456: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
#undef BAD
  g_assert_true (untouched == (GArray *) 0x1);
  {
    const char *s = HDR "abcdefghijklmnopqrstuvwxyz01234: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17";
    g_autoptr(GArray) a = NULL, e = NULL;
    g_assert_cmpint (orch_parse_net_dev (s, strlen (s), &a), ==, 0);
    g_assert_cmpuint (a->len, ==, 1);
    g_assert_cmpstr (g_array_index (a, OrchNetDev, 0).name, ==, "abcdefghijklmnopqrstuvwxyz01234");
    g_assert_cmpuint (g_array_index (a, OrchNetDev, 0).tx_drop, ==, 12);
    g_assert_cmpint (orch_parse_net_dev (HDR, strlen (HDR), &e), ==, 0);
    g_assert_cmpuint (e->len, ==, 0);
  }
#undef HDR
}

/* ---- /proc/diskstats ---- */

static int
wrap_diskstats (const char *t, gsize l, gpointer r)
{
  return orch_parse_diskstats (t, l, r);
}

static void
check_diskstats (gconstpointer got, gconstpointer full, PrefixMode m)
{
  GArray *g = *(GArray *const *) got, *f = *(GArray *const *) full;

  g_assert_cmpuint (g->len, <=, f->len);
  if (m == PREFIX_COMPLETE)
    g_assert_cmpuint (g->len, ==, f->len);
  for (guint i = 0; i < g->len; i++)
    {
      const OrchDiskStat *a = &g_array_index (g, OrchDiskStat, i), *b = &g_array_index (f, OrchDiskStat, i);
      PrefixMode mm = i + 1 < g->len || m == PREFIX_BOUNDARY ? PREFIX_COMPLETE : m;

      g_assert_cmpstr (a->name, ==, b->name);
      g_assert_cmpuint (a->major, ==, b->major);
      g_assert_cmpuint (a->minor, ==, b->minor);
      chk_u64 (a->reads, b->reads, mm);
      chk_u64 (a->read_sectors, b->read_sectors, mm);
      chk_u64 (a->writes, b->writes, mm);
      chk_u64 (a->write_sectors, b->write_sectors, mm);
      chk_u64 (a->io_ms, b->io_ms, mm);
    }
}

static const Parser diskstats_parser = { sizeof (GArray *), wrap_diskstats, check_diskstats, clear_array };

static void
test_diskstats (void)
{
  gsize len, old_len;
  g_autofree char *text = fixture ("metrics-hybrid-diskstats", &len);
  g_autofree char *old = fixture ("metrics-old-diskstats", &old_len);
  g_autoptr(GArray) disks = NULL, olddisks = NULL;
  GArray *untouched = (GArray *) 0x1;
  const OrchDiskStat *d;

  /* 20 fields: 254 0 vda 65397 19993 3326514 13252 23355 23969 1674352 25581 0 9816 ... */
  g_assert_cmpint (orch_parse_diskstats (text, len, &disks), ==, 0);
  g_assert_cmpuint (disks->len, ==, 10);
  g_assert_cmpstr (g_array_index (disks, OrchDiskStat, 0).name, ==, "loop0");
  d = &g_array_index (disks, OrchDiskStat, 8);
  g_assert_cmpstr (d->name, ==, "vda");
  g_assert_cmpuint (d->major, ==, 254);
  g_assert_cmpuint (d->minor, ==, 0);
  g_assert_cmpuint (d->reads, ==, 65397);
  g_assert_cmpuint (d->read_sectors, ==, 3326514);
  g_assert_cmpuint (d->writes, ==, 23355);
  g_assert_cmpuint (d->write_sectors, ==, 1674352);
  g_assert_cmpuint (d->io_ms, ==, 9816);
  g_assert_cmpstr (g_array_index (disks, OrchDiskStat, 9).name, ==, "zram0");
  g_assert_cmpuint (g_array_index (disks, OrchDiskStat, 9).major, ==, 253);
  check_prefixes (&diskstats_parser, text, len, 0);

  /* 14 fields (before 4.18) */
  g_assert_cmpint (orch_parse_diskstats (old, old_len, &olddisks), ==, 0);
  g_assert_cmpuint (olddisks->len, ==, 3);
  d = &g_array_index (olddisks, OrchDiskStat, 1);
  g_assert_cmpstr (d->name, ==, "sda");
  g_assert_cmpuint (d->major, ==, 8);
  g_assert_cmpuint (d->reads, ==, 174522);
  g_assert_cmpuint (d->read_sectors, ==, 6241802);
  g_assert_cmpuint (d->writes, ==, 92831);
  g_assert_cmpuint (d->write_sectors, ==, 2664320);
  g_assert_cmpuint (d->io_ms, ==, 1288140);
  g_assert_cmpuint (g_array_index (olddisks, OrchDiskStat, 2).minor, ==, 1);
  check_prefixes (&diskstats_parser, old, old_len, 0);

  {
    g_autoptr(GArray) e = NULL;
    g_assert_cmpint (orch_parse_diskstats (NULL, 0, &e), ==, 0);
    g_assert_cmpuint (e->len, ==, 0);
  }
#define BAD(s) g_assert_cmpint (orch_parse_diskstats (s, strlen (s), &untouched), ==, -EBADMSG)
  BAD ("garbage\n");
  BAD ("8 0 sda 1 2 3 4 5 6 7 8 9 10\n");
  BAD ("8 0 sda 1 2 3 4 5 6 7 8 9 10 -11\n");
  BAD ("8 0 sda 1 2 3 4 5 6 7 8 9 10 11 x\n");
  BAD ("8 sda 1 2 3 4 5 6 7 8 9 10 11\n");
  BAD ("-8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n");
  BAD ("4294967296 0 sda 1 2 3 4 5 6 7 8 9 10 11\n");
  BAD ("8 0 sda 1 2 18446744073709551616 4 5 6 7 8 9 10 11\n");
  BAD ("8 0 abcdefghijklmnopqrstuvwxyz012345 1 2 3 4 5 6 7 8 9 10 11\n");
  BAD ("8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n8 1\n");
#undef BAD
  g_assert_true (untouched == (GArray *) 0x1);
}

/* ---- pressure ---- */

static int
wrap_pressure (const char *t, gsize l, gpointer r)
{
  return orch_parse_pressure (t, l, r);
}

static void
check_pressure (gconstpointer got, gconstpointer full, PrefixMode m)
{
  const OrchPressure *g = got, *f = full;

  chk_dbl (g->some_avg10, f->some_avg10, m);
  chk_dbl (g->some_avg60, f->some_avg60, m);
  chk_dbl (g->some_avg300, f->some_avg300, m);
  chk_u64 (g->some_total_us, f->some_total_us, m);
  if (m == PREFIX_COMPLETE)
    g_assert_cmpint (g->has_full, ==, f->has_full);
  else if (g->has_full)
    g_assert_true (f->has_full);
  chk_dbl (g->full_avg10, f->full_avg10, m);
  chk_dbl (g->full_avg60, f->full_avg60, m);
  chk_dbl (g->full_avg300, f->full_avg300, m);
  chk_u64 (g->full_total_us, f->full_total_us, m);
}

static const Parser pressure_parser = { sizeof (OrchPressure), wrap_pressure, check_pressure, NULL };

static void
pressure_fixture (const char *name, OrchPressure *ret)
{
  gsize len;
  g_autofree char *text = fixture (name, &len);

  g_assert_cmpint (orch_parse_pressure (text, len, ret), ==, 0);
  check_prefixes (&pressure_parser, text, len, value_offset (text, len, "total="));
}

static void
test_pressure (void)
{
  OrchPressure p;

  /* some avg10=0.00 avg60=0.15 avg300=1.41 total=125203831 / full ... total=0 */
  pressure_fixture ("metrics-hybrid-pressure-cpu", &p);
  g_assert_cmpfloat (p.some_avg10, ==, 0.0);
  g_assert_cmpfloat_with_epsilon (p.some_avg60, 0.15, 1e-12);
  g_assert_cmpfloat_with_epsilon (p.some_avg300, 1.41, 1e-12);
  g_assert_cmpuint (p.some_total_us, ==, 125203831);
  g_assert_true (p.has_full);
  g_assert_cmpuint (p.full_total_us, ==, 0);

  pressure_fixture ("metrics-hybrid-cpu.pressure", &p);
  g_assert_cmpuint (p.some_total_us, ==, 125203831);

  pressure_fixture ("metrics-hybrid-pressure-io", &p);
  g_assert_cmpuint (p.some_total_us, ==, 4954122);
  g_assert_true (p.has_full);
  g_assert_cmpuint (p.full_total_us, ==, 4294956);

  pressure_fixture ("metrics-hybrid-pressure-memory", &p);
  g_assert_cmpuint (p.some_total_us, ==, 0);
  g_assert_true (p.has_full);

  pressure_fixture ("metrics-hybrid-payload-memory.pressure", &p);
  g_assert_true (p.has_full);

  pressure_fixture ("metrics-v2-cpu.pressure", &p);
  g_assert_cmpfloat_with_epsilon (p.some_avg10, 1.53, 1e-12);
  g_assert_cmpfloat_with_epsilon (p.some_avg60, 0.87, 1e-12);
  g_assert_cmpfloat_with_epsilon (p.some_avg300, 0.34, 1e-12);
  g_assert_cmpuint (p.some_total_us, ==, 167206498);
  g_assert_true (p.has_full);
  g_assert_cmpfloat_with_epsilon (p.full_avg10, 1.21, 1e-12);
  g_assert_cmpfloat_with_epsilon (p.full_avg60, 0.62, 1e-12);
  g_assert_cmpfloat_with_epsilon (p.full_avg300, 0.25, 1e-12);
  g_assert_cmpuint (p.full_total_us, ==, 122719357);

  /* cpu before 5.13: no "full" line */
  pressure_fixture ("metrics-old-cpu.pressure", &p);
  g_assert_false (p.has_full);
  g_assert_cmpfloat_with_epsilon (p.some_avg10, 0.22, 1e-12);
  g_assert_cmpuint (p.some_total_us, ==, 3816042);
  g_assert_cmpfloat (p.full_avg10, ==, 0);

  p.some_total_us = 9;
#define BAD(s) g_assert_cmpint (orch_parse_pressure (s, strlen (s), &p), ==, -EBADMSG)
  BAD ("");
  BAD ("garbage\n");
  BAD ("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  BAD ("some avg10=0.00 avg60=0.00 avg300=0.00\n");
  BAD ("some avg10=0.00 avg60=0.00 avg300=0.00 total=\n");
  BAD ("some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n");
  BAD ("some avg10=-0.50 avg60=0.00 avg300=0.00 total=1\n");
  BAD ("some avg10=nan avg60=0.00 avg300=0.00 total=1\n");
  BAD ("some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551616\n");
  BAD ("some avg10=0.00 avg60=0.00 avg300=0.00 total=1x\n");
  BAD ("some avg10=0.00 avg60=0.00 avg300=0.00 total=1\nfull avg10=0.00 avg60=0.00\n");
#undef BAD
  g_assert_cmpuint (p.some_total_us, ==, 9);
  {
    const char *s = "some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551615 new=x\nother 1";
    g_assert_cmpint (orch_parse_pressure (s, strlen (s), &p), ==, 0);
    g_assert_cmpuint (p.some_total_us, ==, G_MAXUINT64);
    g_assert_false (p.has_full);
  }
}

/* ---- cgroup v2 ---- */

static int
wrap_cpu_stat (const char *t, gsize l, gpointer r)
{
  return orch_parse_cgroup_cpu_stat (t, l, r);
}

static void
check_cpu_stat (gconstpointer got, gconstpointer full, PrefixMode m)
{
  const OrchCgroupCpuStat *g = got, *f = full;

  chk_u64 (g->usage_usec, f->usage_usec, m);
  chk_u64 (g->user_usec, f->user_usec, m);
  chk_u64 (g->system_usec, f->system_usec, m);
  chk_u64 (g->nr_periods, f->nr_periods, m);
  chk_u64 (g->nr_throttled, f->nr_throttled, m);
  chk_u64 (g->throttled_usec, f->throttled_usec, m);
}

static const Parser cpu_stat_parser = { sizeof (OrchCgroupCpuStat), wrap_cpu_stat, check_cpu_stat, NULL };

static void
test_cgroup_cpu_stat (void)
{
  gsize len, hlen, plen;
  g_autofree char *v2 = fixture ("metrics-v2-cpu.stat", &len);
  g_autofree char *hy = fixture ("metrics-hybrid-cpu.stat", &hlen);
  g_autofree char *pl = fixture ("metrics-hybrid-payload-cpu.stat", &plen);
  OrchCgroupCpuStat c;

  g_assert_cmpint (orch_parse_cgroup_cpu_stat (v2, len, &c), ==, 0);
  g_assert_cmpuint (c.usage_usec, ==, 8815432117);
  g_assert_cmpuint (c.user_usec, ==, 6421093774);
  g_assert_cmpuint (c.system_usec, ==, 2394338343);
  g_assert_cmpuint (c.nr_periods, ==, 41237);
  g_assert_cmpuint (c.nr_throttled, ==, 1582);
  g_assert_cmpuint (c.throttled_usec, ==, 93416008);
  check_prefixes (&cpu_stat_parser, v2, len, value_offset (v2, len, "usage_usec"));

  /* hybrid: no cpu controller in the unified tree, only the basic keys */
  g_assert_cmpint (orch_parse_cgroup_cpu_stat (hy, hlen, &c), ==, 0);
  g_assert_cmpuint (c.usage_usec, ==, 1145628088);
  g_assert_cmpuint (c.user_usec, ==, 897569195);
  g_assert_cmpuint (c.system_usec, ==, 248058892);
  g_assert_cmpuint (c.nr_periods, ==, 0);
  g_assert_cmpuint (c.throttled_usec, ==, 0);
  check_prefixes (&cpu_stat_parser, hy, hlen, value_offset (hy, hlen, "usage_usec"));
  g_assert_cmpint (orch_parse_cgroup_cpu_stat (pl, plen, &c), ==, 0);
  g_assert_cmpuint (c.usage_usec, >, 0);
  check_prefixes (&cpu_stat_parser, pl, plen, value_offset (pl, plen, "usage_usec"));

  c.usage_usec = 3;
#define BAD(s) g_assert_cmpint (orch_parse_cgroup_cpu_stat (s, strlen (s), &c), ==, -EBADMSG)
  BAD ("");
  BAD ("garbage");
  BAD ("user_usec 5\n");
  BAD ("usage_usec\n");
  BAD ("usage_usec \n");
  BAD ("usage_usec -5\n");
  BAD ("usage_usec 5 6\n");
  BAD ("usage_usec 18446744073709551616\n");
  BAD ("usage_usec 5\nnr_periods x\n");
#undef BAD
  g_assert_cmpuint (c.usage_usec, ==, 3);
  g_assert_cmpint (orch_parse_cgroup_cpu_stat (LIT ("usage_usec 5\nnew_key x y\nusage_usecx 9"), &c), ==, 0);
  g_assert_cmpuint (c.usage_usec, ==, 5);
}

static int
wrap_u64 (const char *t, gsize l, gpointer r)
{
  return orch_parse_cgroup_u64 (t, l, r);
}

static void
check_u64_file (gconstpointer got, gconstpointer full, PrefixMode m)
{
  chk_u64 (*(const guint64 *) got, *(const guint64 *) full, m);
}

static const Parser u64_parser = { sizeof (guint64), wrap_u64, check_u64_file, NULL };

static void
u64_fixture (const char *name, guint64 expect)
{
  gsize len;
  g_autofree char *text = fixture (name, &len);
  guint64 v;

  g_assert_cmpint (orch_parse_cgroup_u64 (text, len, &v), ==, 0);
  g_assert_cmpuint (v, ==, expect);
  check_prefixes (&u64_parser, text, len, 1);
}

static void
test_cgroup_u64 (void)
{
  guint64 v = 11;

  u64_fixture ("metrics-v2-memory.current", 1287651328);
  u64_fixture ("metrics-v2-memory.peak", 2147483648);
  u64_fixture ("metrics-v2-pids.current", 42);
  u64_fixture ("metrics-v2-memory.max", G_MAXUINT64);

#define BAD(s) g_assert_cmpint (orch_parse_cgroup_u64 (s, strlen (s), &v), ==, -EBADMSG)
  BAD ("");
  BAD ("\n");
  BAD ("ma");
  BAD ("max2\n");
  BAD ("maxx");
  BAD ("-1\n");
  BAD ("+1\n");
  BAD (" 1\n");
  BAD ("1 \n");
  BAD ("1\n\n");
  BAD ("1\n2\n");
  BAD ("0x10\n");
  BAD ("18446744073709551616\n");
  BAD ("99999999999999999999999\n");
#undef BAD
  g_assert_cmpint (orch_parse_cgroup_u64 (NULL, 0, &v), ==, -EBADMSG);
  g_assert_cmpuint (v, ==, 11);
  g_assert_cmpint (orch_parse_cgroup_u64 (LIT ("18446744073709551615"), &v), ==, 0);
  g_assert_cmpuint (v, ==, G_MAXUINT64);
  g_assert_cmpint (orch_parse_cgroup_u64 ("0\n", 2, &v), ==, 0);
  g_assert_cmpuint (v, ==, 0);
  /* honours len: "123" of "1234" */
  g_assert_cmpint (orch_parse_cgroup_u64 ("1234", 3, &v), ==, 0);
  g_assert_cmpuint (v, ==, 123);
}

static int
wrap_events (const char *t, gsize l, gpointer r)
{
  return orch_parse_cgroup_memory_events (t, l, r);
}

static void
check_events (gconstpointer got, gconstpointer full, PrefixMode m)
{
  const OrchCgroupMemoryEvents *g = got, *f = full;

  chk_u64 (g->low, f->low, m);
  chk_u64 (g->high, f->high, m);
  chk_u64 (g->max, f->max, m);
  chk_u64 (g->oom, f->oom, m);
  chk_u64 (g->oom_kill, f->oom_kill, m);
}

static const Parser events_parser = { sizeof (OrchCgroupMemoryEvents), wrap_events, check_events, NULL };

static void
test_cgroup_memory_events (void)
{
  gsize len;
  g_autofree char *text = fixture ("metrics-v2-memory.events", &len);
  OrchCgroupMemoryEvents e;

  g_assert_cmpint (orch_parse_cgroup_memory_events (text, len, &e), ==, 0);
  g_assert_cmpuint (e.low, ==, 0);
  g_assert_cmpuint (e.high, ==, 1204);
  g_assert_cmpuint (e.max, ==, 37);
  g_assert_cmpuint (e.oom, ==, 2);
  g_assert_cmpuint (e.oom_kill, ==, 1);
  check_prefixes (&events_parser, text, len, value_offset (text, len, "\noom "));

  e.high = 4;
#define BAD(s) g_assert_cmpint (orch_parse_cgroup_memory_events (s, strlen (s), &e), ==, -EBADMSG)
  BAD ("");
  BAD ("garbage\n");
  BAD ("low 0\nhigh 0\nmax 0\n");
  BAD ("low 0\nhigh 0\nmax 0\noom -1\n");
  BAD ("low 0\nhigh 18446744073709551616\nmax 0\noom 0\n");
  BAD ("low 0\nhigh 0\nmax 0\noom 0\noom_kill\n");
  BAD ("low 0\nhigh 0\nmax 0\noom 0\noom_kill \n");
#undef BAD
  g_assert_cmpuint (e.high, ==, 4);
  /* before 4.13: no oom_kill */
  g_assert_cmpint (orch_parse_cgroup_memory_events (LIT ("low 1\nhigh 2\nmax 3\noom 4"), &e), ==, 0);
  g_assert_cmpuint (e.oom, ==, 4);
  g_assert_cmpuint (e.oom_kill, ==, 0);
}

static int
wrap_io_stat (const char *t, gsize l, gpointer r)
{
  return orch_parse_cgroup_io_stat (t, l, r);
}

static void
check_io_stat (gconstpointer got, gconstpointer full, PrefixMode m)
{
  const OrchCgroupIoStat *g = got, *f = full;

  chk_sum (g->rbytes, f->rbytes, m);
  chk_sum (g->wbytes, f->wbytes, m);
  chk_sum (g->rios, f->rios, m);
  chk_sum (g->wios, f->wios, m);
}

static const Parser io_stat_parser = { sizeof (OrchCgroupIoStat), wrap_io_stat, check_io_stat, NULL };

static void
test_cgroup_io_stat (void)
{
  gsize len;
  g_autofree char *text = fixture ("metrics-v2-io.stat", &len);
  OrchCgroupIoStat io = { 1, 1, 1, 1 };

  g_assert_cmpint (orch_parse_cgroup_io_stat (text, len, &io), ==, 0);
  g_assert_cmpuint (io.rbytes, ==, 1459200ull + 90430464);
  g_assert_cmpuint (io.wbytes, ==, 314773504ull + 299008000);
  g_assert_cmpuint (io.rios, ==, 192 + 8950);
  g_assert_cmpuint (io.wios, ==, 353 + 1252);
  check_prefixes (&io_stat_parser, text, len, 0);

  io = (OrchCgroupIoStat) { 1, 1, 1, 1 };
  g_assert_cmpint (orch_parse_cgroup_io_stat ("", 0, &io), ==, 0);
  g_assert_cmpuint (io.rbytes + io.wbytes + io.rios + io.wios, ==, 0);
  io.rios = 1;
  g_assert_cmpint (orch_parse_cgroup_io_stat (NULL, 0, &io), ==, 0);
  g_assert_cmpuint (io.rios, ==, 0);

  /* iocost adds non-integer keys; unknown keys are skipped */
  {
    const char *s = "259:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0 cost.vrate=100.00 cost.usage=7\n";
    g_assert_cmpint (orch_parse_cgroup_io_stat (s, strlen (s), &io), ==, 0);
    g_assert_cmpuint (io.wios, ==, 4);
  }

  io.rbytes = 8;
#define BAD(s) g_assert_cmpint (orch_parse_cgroup_io_stat (s, strlen (s), &io), ==, -EBADMSG)
  BAD ("garbage\n");
  BAD ("8:0\n");
  BAD ("8 rbytes=1 wbytes=2 rios=3 wios=4\n");
  BAD ("8:x rbytes=1 wbytes=2 rios=3 wios=4\n");
  BAD ("8:0 rbytes=1 wbytes=2 rios=3\n");
  BAD ("8:0 rbytes=1 wbytes=2 rios=3 wios=\n");
  BAD ("8:0 rbytes=-1 wbytes=2 rios=3 wios=4\n");
  BAD ("8:0 rbytes=1.5 wbytes=2 rios=3 wios=4\n");
  BAD ("8:0 rbytes=18446744073709551616 wbytes=2 rios=3 wios=4\n");
  BAD ("8:0 rbytes=18446744073709551615 wbytes=2 rios=3 wios=4\n8:1 rbytes=1 wbytes=2 rios=3 wios=4\n");
  BAD ("4294967296:0 rbytes=1 wbytes=2 rios=3 wios=4\n");
#undef BAD
  g_assert_cmpuint (io.rbytes, ==, 8);
}

/* ---- /proc/PID/status, /proc/PID/io ---- */

static int
wrap_status (const char *t, gsize l, gpointer r)
{
  return orch_parse_proc_status (t, l, r);
}

static void
check_status (gconstpointer got, gconstpointer full, PrefixMode m)
{
  const OrchProcStatus *g = got, *f = full;

  g_assert_cmpstr (g->name, ==, f->name);
  g_assert_cmpint (g->state, ==, f->state);
  g_assert_cmpuint (g->uid, ==, f->uid);
  chk_u64 (g->vm_size, f->vm_size, m);
  chk_u64 (g->vm_rss, f->vm_rss, m);
  chk_u64 (g->threads, f->threads, m);
}

static const Parser status_parser = { sizeof (OrchProcStatus), wrap_status, check_status, NULL };

static void
test_proc_status (void)
{
  gsize len, klen;
  g_autofree char *text = fixture ("metrics-hybrid-status", &len);
  g_autofree char *kt = fixture ("metrics-hybrid-kthread-status", &klen);
  OrchProcStatus st;

  g_assert_cmpint (orch_parse_proc_status (text, len, &st), ==, 0);
  g_assert_cmpstr (st.name, ==, "cat");
  g_assert_cmpint (st.state, ==, 'R');
  g_assert_cmpuint (st.uid, ==, 0);
  g_assert_cmpuint (st.threads, ==, 1);
  g_assert_cmpuint (st.vm_size, ==, 3060ull * 1024);
  g_assert_cmpuint (st.vm_rss, ==, 1744ull * 1024);
  check_prefixes (&status_parser, text, len, value_offset (text, len, "\nThreads:"));

  g_assert_cmpint (orch_parse_proc_status (kt, klen, &st), ==, 0);
  g_assert_cmpstr (st.name, ==, "kthreadd");
  g_assert_cmpint (st.state, ==, 'S');
  g_assert_cmpuint (st.threads, ==, 1);
  g_assert_cmpuint (st.vm_size, ==, 0);
  g_assert_cmpuint (st.vm_rss, ==, 0);
  check_prefixes (&status_parser, kt, klen, value_offset (kt, klen, "\nThreads:"));

#define OK_REST "State:\tS (sleeping)\nUid:\t1000\t1000\t1000\t1000\nThreads:\t3\n"
  {
    const char *s = "Name:\t my prog \n" OK_REST "VmRSS:\t 12 kB";
    g_assert_cmpint (orch_parse_proc_status (s, strlen (s), &st), ==, 0);
    g_assert_cmpstr (st.name, ==, " my prog ");
    g_assert_cmpuint (st.uid, ==, 1000);
    g_assert_cmpuint (st.threads, ==, 3);
    g_assert_cmpuint (st.vm_rss, ==, 12 * 1024);
  }
  {
    const char *s = "Name:\t" "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk\n" OK_REST;
    g_assert_cmpint (orch_parse_proc_status (s, strlen (s), &st), ==, 0);
    g_assert_cmpuint (strlen (st.name), ==, 63);
  }
  st.threads = 99;
#define BAD(s) g_assert_cmpint (orch_parse_proc_status (s, strlen (s), &st), ==, -EBADMSG)
  BAD ("");
  BAD ("garbage\n");
  BAD ("Name:\tx\nState:\tS\nUid:\t0\t0\t0\t0\n");
  BAD ("State:\tS (sleeping)\nUid:\t0\t0\t0\t0\nThreads:\t1\n");
  BAD ("Name:\t" "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl\n" OK_REST);
  BAD ("Name:\tx\nState:\t\nUid:\t0\t0\t0\t0\nThreads:\t1\n");
  BAD ("Name:\tx\nState:\tS\nUid:\t0\t0\t0\nThreads:\t1\n");
  BAD ("Name:\tx\nState:\tS\nUid:\t-1\t0\t0\t0\nThreads:\t1\n");
  BAD ("Name:\tx\nState:\tS\nUid:\t4294967296\t0\t0\t0\nThreads:\t1\n");
  BAD ("Name:\tx\nState:\tS\nUid:\t0\t0\t0\t0\nThreads:\t4294967296\n");
  BAD ("Name:\tx\n" OK_REST "VmRSS:\t12\n");
  BAD ("Name:\tx\n" OK_REST "VmRSS:\t-12 kB\n");
  BAD ("Name:\tx\n" OK_REST "VmSize:\t18446744073709551615 kB\n");
#undef BAD
#undef OK_REST
  g_assert_cmpuint (st.threads, ==, 99);
}

static int
wrap_io (const char *t, gsize l, gpointer r)
{
  return orch_parse_proc_io (t, l, r);
}

static void
check_io (gconstpointer got, gconstpointer full, PrefixMode m)
{
  const OrchProcIo *g = got, *f = full;

  chk_u64 (g->rchar, f->rchar, m);
  chk_u64 (g->wchar, f->wchar, m);
  chk_u64 (g->read_bytes, f->read_bytes, m);
  chk_u64 (g->write_bytes, f->write_bytes, m);
  chk_u64 (g->cancelled_write_bytes, f->cancelled_write_bytes, m);
}

static const Parser io_parser = { sizeof (OrchProcIo), wrap_io, check_io, NULL };

static void
test_proc_io (void)
{
  gsize len;
  g_autofree char *text = fixture ("metrics-hybrid-io", &len);
  OrchProcIo io;

  g_assert_cmpint (orch_parse_proc_io (text, len, &io), ==, 0);
  g_assert_cmpuint (io.rchar, ==, 1685851);
  g_assert_cmpuint (io.wchar, ==, 3009902);
  g_assert_cmpuint (io.read_bytes, ==, 0);
  g_assert_cmpuint (io.write_bytes, ==, 3010560);
  g_assert_cmpuint (io.cancelled_write_bytes, ==, 0);
  check_prefixes (&io_parser, text, len, last_value_offset (text, len, "cancelled_write_bytes:"));

  io.rchar = 6;
#define BAD(s) g_assert_cmpint (orch_parse_proc_io (s, strlen (s), &io), ==, -EBADMSG)
  BAD ("");
  BAD ("garbage\n");
  BAD ("rchar: 1\nwchar: 2\nread_bytes: 3\nwrite_bytes: 4\n");
  BAD ("rchar: -1\nwchar: 2\nread_bytes: 3\nwrite_bytes: 4\ncancelled_write_bytes: 5\n");
  BAD ("rchar: 18446744073709551616\nwchar: 2\nread_bytes: 3\nwrite_bytes: 4\ncancelled_write_bytes: 5\n");
  BAD ("rchar: 1\nwchar: 2\nread_bytes: 3\nwrite_bytes: 4\ncancelled_write_bytes:\n");
#undef BAD
  g_assert_cmpuint (io.rchar, ==, 6);
}

/* A buffer that is not NUL-terminated at len and is followed by more digits
 * in memory: none of them may be read. */
static void
test_not_nul_terminated (void)
{
  static const char mem[] = "42999";
  static const char kv[] = "usage_usec 17999";
  guint64 v;
  OrchCgroupCpuStat c;

  g_assert_cmpint (orch_parse_cgroup_u64 (mem, 2, &v), ==, 0);
  g_assert_cmpuint (v, ==, 42);
  g_assert_cmpint (orch_parse_cgroup_cpu_stat (kv, 13, &c), ==, 0);
  g_assert_cmpuint (c.usage_usec, ==, 17);
}

/* The averages (pressure, loadavg) come out as the very doubles strtod
 * gives for the same text, whether through the short way taken for what
 * the kernel prints or the general one. */
static void
check_decimal (const char *num)
{
  g_autofree char *text = g_strdup_printf ("some avg10=%s avg60=0.00 avg300=0.00 total=0\n", num);
  OrchPressure pr;
  double want = g_ascii_strtod (num, NULL);

  g_assert_cmpint (orch_parse_pressure (text, strlen (text), &pr), ==, 0);
  if (memcmp (&pr.some_avg10, &want, sizeof want) != 0)
    g_error ("%s: %.17g, strtod %.17g", num, pr.some_avg10, want);
}

static void
test_decimal_exact (void)
{
  static const char *const edge[] = {
    "0",
    "0.00",
    "100.00",
    "12.",
    "0000.5",
    "0.1",
    "0.3",
    "99.99",
    "2.675",
    "1.005",
    "123456789012345",
    "1234567890123456",
    "12345678901234567890",
    "0.000000000000000000000001",
    "0.1234567890123456789012",
    "9007199254740993",
    "999999999999999.9",
    "4.35",
    "1e5",
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (15);

  for (gsize i = 0; i < G_N_ELEMENTS (edge); i++)
    if (strchr (edge[i], 'e') == NULL)
      check_decimal (edge[i]);
  for (int i = 0; i < 200000; i++)
    {
      char num[64];
      guint ip = (guint) g_rand_int_range (rand, 0, 7), fp = (guint) g_rand_int_range (rand, 0, 12);
      guint n = 0;

      for (guint k = 0; k < 1 + ip; k++)
        num[n++] = (char) ('0' + g_rand_int_range (rand, 0, 10));
      if (fp > 0)
        {
          num[n++] = '.';
          for (guint k = 0; k < fp; k++)
            num[n++] = (char) ('0' + g_rand_int_range (rand, 0, 10));
        }
      num[n] = '\0';
      check_decimal (num);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/metrics-parse/sys-stat", test_sys_stat);
  g_test_add_func ("/metrics-parse/sys-stat-old", test_sys_stat_old);
  g_test_add_func ("/metrics-parse/sys-stat-bad", test_sys_stat_bad);
  g_test_add_func ("/metrics-parse/busy-percent", test_busy_percent);
  g_test_add_func ("/metrics-parse/meminfo", test_meminfo);
  g_test_add_func ("/metrics-parse/loadavg-uptime", test_loadavg_uptime);
  g_test_add_func ("/metrics-parse/net-dev", test_net_dev);
  g_test_add_func ("/metrics-parse/diskstats", test_diskstats);
  g_test_add_func ("/metrics-parse/pressure", test_pressure);
  g_test_add_func ("/metrics-parse/decimal-exact", test_decimal_exact);
  g_test_add_func ("/metrics-parse/cgroup-cpu-stat", test_cgroup_cpu_stat);
  g_test_add_func ("/metrics-parse/cgroup-u64", test_cgroup_u64);
  g_test_add_func ("/metrics-parse/cgroup-memory-events", test_cgroup_memory_events);
  g_test_add_func ("/metrics-parse/cgroup-io-stat", test_cgroup_io_stat);
  g_test_add_func ("/metrics-parse/proc-status", test_proc_status);
  g_test_add_func ("/metrics-parse/proc-io", test_proc_io);
  g_test_add_func ("/metrics-parse/not-nul-terminated", test_not_nul_terminated);

  return g_test_run ();
}
