/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target for the pure /proc, cgroup and log parsers.
 *
 * Input layout: byte 0 selects the parser (modulo N_TARGETS, see the enum);
 * the rest is the text.  The sanitizer target takes one more parameter byte
 * (byte 1) before its text.  See tests/fuzz/README and run-fuzz.sh. */
#include "basic/orch-cgroup.h"
#include "basic/orch-log-read.h"
#include "basic/orch-metrics-parse.h"
#include "basic/orch-proc.h"

#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keep in sync with the selector table in run-fuzz.sh. */
enum {
  T_SYS_STAT = 0,
  T_MEMINFO,
  T_LOADAVG,
  T_UPTIME,
  T_NET_DEV,
  T_DISKSTATS,
  T_PRESSURE,
  T_CGROUP_CPU_STAT,
  T_CGROUP_U64,
  T_CGROUP_MEMORY_EVENTS,
  T_CGROUP_IO_STAT,
  T_PROC_STATUS,
  T_PROC_IO,
  T_PROC_PARSE_STAT,
  T_MOUNTINFO,       /* NUL-terminated */
  T_PROC_CGROUP,     /* NUL-terminated */
  T_POPULATED,       /* NUL-terminated */
  T_UTF8_SANITIZE,   /* byte 1: parameters */
  N_TARGETS
};

#define FAIL(...)                                                              \
  do {                                                                         \
    fprintf (stderr, "fuzz-parsers: invariant violated: " __VA_ARGS__);        \
    fputc ('\n', stderr);                                                      \
    abort ();                                                                  \
  } while (0)

/* Parsers documented to return 0 or -EBADMSG (orch-metrics-parse.h). */
static void
check_rc (const char *what, int r)
{
  if (r != 0 && r != -EBADMSG)
    FAIL ("%s returned %d (expected 0 or -EBADMSG)", what, r);
}

/* "the ret out-param is written only on success": fill it with a pattern
 * first and check it is untouched on error. */
#define POISON 0xa5
static gboolean
untouched (const void *p, gsize n)
{
  const guint8 *b = p;
  for (gsize i = 0; i < n; i++)
    if (b[i] != POISON)
      return FALSE;
  return TRUE;
}

#define RUN_STRUCT(fn, type, text, len)                                        \
  do {                                                                         \
    type v;                                                                    \
    int r_;                                                                    \
    memset (&v, POISON, sizeof v);                                             \
    r_ = fn (text, len, &v);                                                   \
    check_rc (#fn, r_);                                                        \
    if (r_ != 0 && !untouched (&v, sizeof v))                                  \
      FAIL ("%s wrote its out-param on error", #fn);                           \
  } while (0)

static void
check_name (const char *what, const char *name, gsize size)
{
  if (memchr (name, '\0', size) == NULL)
    FAIL ("%s: name not NUL-terminated", what);
}

static void
fuzz_metrics (int sel, const char *text, gsize len)
{
  switch (sel)
    {
    case T_SYS_STAT:
      {
        OrchSysStat s;
        int r;
        memset (&s, POISON, sizeof s);
        r = orch_parse_sys_stat (text, len, &s);
        check_rc ("orch_parse_sys_stat", r);
        if (r == 0)
          {
            if (s.cpus == NULL || s.cpus->len > 65536)
              FAIL ("orch_parse_sys_stat: bad cpus array");
            /* Parsed readings as the two samples: the share is 0..100 and
             * never NaN, whichever fields went backwards. */
            for (guint i = 0; i < s.cpus->len; i++)
              {
                const OrchCpuTimes *c = &g_array_index (s.cpus, OrchCpuTimes, i);
                double a = orch_cpu_busy_percent (&s.total, c);
                double b = orch_cpu_busy_percent (c, &s.total);
                if (!(a >= 0.0 && a <= 100.0) || !(b >= 0.0 && b <= 100.0))
                  FAIL ("orch_cpu_busy_percent out of 0..100: %g %g", a, b);
              }
            if (orch_cpu_busy_percent (&s.total, &s.total) != 0.0)
              FAIL ("orch_cpu_busy_percent: no time passed but not 0");
            orch_sys_stat_clear (&s);
            if (s.cpus != NULL)
              FAIL ("orch_sys_stat_clear left cpus set");
            orch_sys_stat_clear (&s); /* documented safe twice */
          }
        else if (!untouched (&s, sizeof s))
          FAIL ("orch_parse_sys_stat wrote its out-param on error");
        break;
      }
    case T_MEMINFO:
      RUN_STRUCT (orch_parse_meminfo, OrchMeminfo, text, len);
      break;
    case T_LOADAVG:
      RUN_STRUCT (orch_parse_loadavg, OrchLoadavg, text, len);
      break;
    case T_UPTIME:
      RUN_STRUCT (orch_parse_uptime, double, text, len);
      break;
    case T_NET_DEV:
    case T_DISKSTATS:
      {
        GArray *a = (GArray *) (uintptr_t) 0x1; /* must stay as is on error */
        const char *what = sel == T_NET_DEV ? "orch_parse_net_dev" : "orch_parse_diskstats";
        int r = sel == T_NET_DEV ? orch_parse_net_dev (text, len, &a)
                                 : orch_parse_diskstats (text, len, &a);
        check_rc (what, r);
        if (r == 0)
          {
            if (a == NULL || a == (GArray *) (uintptr_t) 0x1)
              FAIL ("%s: success without an array", what);
            for (guint i = 0; i < a->len; i++)
              {
                if (sel == T_NET_DEV)
                  check_name (what, g_array_index (a, OrchNetDev, i).name, 32);
                else
                  check_name (what, g_array_index (a, OrchDiskStat, i).name, 32);
              }
            g_array_unref (a);
          }
        else if (a != (GArray *) (uintptr_t) 0x1)
          FAIL ("%s wrote its out-param on error", what);
        break;
      }
    case T_PRESSURE:
      RUN_STRUCT (orch_parse_pressure, OrchPressure, text, len);
      break;
    case T_CGROUP_CPU_STAT:
      RUN_STRUCT (orch_parse_cgroup_cpu_stat, OrchCgroupCpuStat, text, len);
      break;
    case T_CGROUP_U64:
      RUN_STRUCT (orch_parse_cgroup_u64, guint64, text, len);
      break;
    case T_CGROUP_MEMORY_EVENTS:
      RUN_STRUCT (orch_parse_cgroup_memory_events, OrchCgroupMemoryEvents, text, len);
      break;
    case T_CGROUP_IO_STAT:
      RUN_STRUCT (orch_parse_cgroup_io_stat, OrchCgroupIoStat, text, len);
      break;
    case T_PROC_STATUS:
      {
        OrchProcStatus st;
        int r;
        memset (&st, POISON, sizeof st);
        r = orch_parse_proc_status (text, len, &st);
        check_rc ("orch_parse_proc_status", r);
        if (r == 0)
          check_name ("orch_parse_proc_status", st.name, sizeof st.name);
        else if (!untouched (&st, sizeof st))
          FAIL ("orch_parse_proc_status wrote its out-param on error");
        break;
      }
    case T_PROC_IO:
      RUN_STRUCT (orch_parse_proc_io, OrchProcIo, text, len);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
fuzz_proc_stat (const char *text, gsize len)
{
  OrchProcStat st;
  int r;

  memset (&st, POISON, sizeof st);
  r = orch_proc_parse_stat (text, len, &st);
  if (r != 0 && r != -EBADMSG)
    FAIL ("orch_proc_parse_stat returned %d", r);
  if (r == 0)
    check_name ("orch_proc_parse_stat", st.comm, sizeof st.comm);
}

static void
fuzz_cstring (int sel, const char *text)
{
  switch (sel)
    {
    case T_MOUNTINFO:
      {
        char *v2 = NULL, *named = NULL;
        (void) orch_cgroup_parse_mountinfo (text, &v2, &named);
        g_free (v2);
        g_free (named);
        (void) orch_cgroup_parse_mountinfo (text, NULL, NULL);
        break;
      }
    case T_PROC_CGROUP:
      {
        static const char *const controllers[] = { NULL, "name=systemd", "memory", "" };
        for (gsize i = 0; i < G_N_ELEMENTS (controllers); i++)
          {
            char *path = NULL;
            if (orch_cgroup_parse_proc_cgroup (text, controllers[i], &path) == 0)
              {
                if (path == NULL)
                  FAIL ("orch_cgroup_parse_proc_cgroup: success without a path");
                g_free (path);
              }
          }
        break;
      }
    case T_POPULATED:
      {
        gboolean populated = 42;
        int r = orch_cgroup_parse_populated (text, &populated);
        if (r == 0 && populated != TRUE && populated != FALSE)
          FAIL ("orch_cgroup_parse_populated: bad value %d", populated);
        break;
      }
    default:
      g_assert_not_reached ();
    }
}

/* One call with the invariants of orch_log_utf8_sanitize(). */
static gsize
sanitize_checked (const char *buf, gsize len, gboolean final, gsize max_out, GString *acc)
{
  /* Exactly max_out bytes (at least 1 for malloc) so ASan sees overruns. */
  char *out = malloc (max_out ? max_out : 1);
  gsize out_len = (gsize) -1, consumed;

  if (out == NULL)
    abort ();
  consumed = orch_log_utf8_sanitize (buf, len, final, max_out ? out : NULL, max_out, &out_len);

  if (consumed > len)
    FAIL ("sanitize: consumed %zu > len %zu", consumed, len);
  if (out_len > max_out)
    FAIL ("sanitize: out_len %zu > max_out %zu", out_len, max_out);
  if (out_len > 0 && !g_utf8_validate (out, (gssize) out_len, NULL))
    FAIL ("sanitize: output is not valid UTF-8 (len %zu)", out_len);
  /* "Output is never shorter than the input it consumed." */
  if (out_len < consumed)
    FAIL ("sanitize: out_len %zu < consumed %zu", out_len, consumed);
  /* Every output byte comes from consumed input; each input byte expands to
   * at most 3 (a lone invalid byte becomes U+FFFD). */
  if (out_len > 3 * consumed)
    FAIL ("sanitize: out_len %zu > 3 * consumed %zu", out_len, consumed);
  if (acc)
    g_string_append_len (acc, out, (gssize) out_len);
  free (out);
  return consumed;
}

static void
fuzz_sanitize (const guint8 *data, gsize size)
{
  guint8 param;
  const char *text;
  char *buf;
  gsize len, max_out, pos;
  gboolean final;
  GString *whole, *paged;

  if (size < 1)
    return;
  param = data[0];
  len = size - 1;
  final = (param & 0x80) != 0;
  max_out = param & 0x1f;           /* 0..31: small pages */

  /* Exactly len bytes, not NUL-terminated; NULL when empty (allowed). */
  buf = len ? malloc (len) : NULL;
  if (len && buf == NULL)
    abort ();
  if (len)
    memcpy (buf, data + 1, len);
  text = buf;

  /* 1. One call with a small page. */
  (void) sanitize_checked (text, len, final, max_out, NULL);

  /* 2. One call with room for everything: consumes all of it when final;
   * otherwise leaves at most an incomplete character (<= 3 bytes). */
  whole = g_string_new (NULL);
  {
    gsize c = sanitize_checked (text, len, final, 3 * len, whole);
    if (final && c != len)
      FAIL ("sanitize: final with room consumed %zu of %zu", c, len);
    if (!final && len - c > 3)
      FAIL ("sanitize: not final, with room, left %zu bytes", len - c);
  }

  /* 3. Paging like orch_log_read does, with pages of at least 4 bytes (one
   * whole character always fits): must make progress and, concatenated,
   * give the same text as one call. */
  paged = g_string_new (NULL);
  {
    gsize page = MAX (max_out, 4);
    pos = 0;
    while (pos < len)
      {
        gsize c = sanitize_checked (text + pos, len - pos, final, page, paged);
        if (c == 0)
          break;
        pos += c;
      }
    if (final && pos != len)
      FAIL ("sanitize: paging with %zu-byte pages stuck at %zu of %zu", page, pos, len);
    if (!final && len - pos > 3)
      FAIL ("sanitize: paging stuck at %zu of %zu (not final)", pos, len);
    if (paged->len != whole->len || memcmp (paged->str, whole->str, whole->len) != 0)
      FAIL ("sanitize: paged output (%zu bytes) differs from one-call output (%zu bytes)",
            paged->len, whole->len);
  }

  g_string_free (whole, TRUE);
  g_string_free (paged, TRUE);
  free (buf);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int sel;
  gsize len;

  if (size < 1)
    return 0;
  sel = data[0] % N_TARGETS;
  data++;
  len = size - 1;

  if (sel == T_UTF8_SANITIZE)
    {
      fuzz_sanitize (data, len);
    }
  else if (sel == T_MOUNTINFO || sel == T_POPULATED || sel == T_PROC_CGROUP)
    {
      /* These take C strings: copy with a terminating NUL.  An embedded NUL
       * just ends the text early, as it would for the real callers. */
      char *s = malloc (len + 1);
      if (s == NULL)
        abort ();
      memcpy (s, data, len);
      s[len] = '\0';
      fuzz_cstring (sel, s);
      free (s);
    }
  else
    {
      /* Exactly len bytes, no NUL: ASan flags any read past len.  The
       * metrics parsers document text == NULL as fine for len == 0;
       * orch_proc_parse_stat does not, so it gets malloc(0)'s pointer. */
      char *buf = (len || sel == T_PROC_PARSE_STAT) ? malloc (len) : NULL;
      if (len && buf == NULL)
        abort ();
      if (len)
        memcpy (buf, data, len);
      if (sel == T_PROC_PARSE_STAT)
        fuzz_proc_stat (buf, len);
      else
        fuzz_metrics (sel, buf, len);
      free (buf);
    }
  return 0;
}
