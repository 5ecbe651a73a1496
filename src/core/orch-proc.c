/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-proc.h"
#include "orch-cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static gboolean
next_field (const char **p, const char *end, guint64 *v, gboolean is_signed, gint64 *sv)
{
  const char *s = *p;
  char buf[32];
  gsize n;
  char *e;

  while (s < end && *s == ' ')
    s++;
  for (n = 0; s + n < end && s[n] != ' ' && s[n] != '\n'; n++)
    ;
  /* A number cut off by the end of the buffer may be short: refuse it. */
  if (n == 0 || n >= sizeof buf || s + n == end)
    return FALSE;
  memcpy (buf, s, n);
  buf[n] = '\0';
  errno = 0;
  if (is_signed)
    {
      long long x = strtoll (buf, &e, 10);
      if (sv)
        *sv = x;
    }
  else
    {
      if (buf[0] == '-')
        return FALSE;
      unsigned long long x = strtoull (buf, &e, 10);
      if (v)
        *v = x;
    }
  if (errno != 0 || *e != '\0')
    return FALSE;
  *p = s + n;
  return TRUE;
}

int
orch_proc_parse_stat (const char *text, gsize len, OrchProcStat *ret)
{
  const char *end = text + len, *open, *close, *p;
  OrchProcStat st = { 0 };
  gint64 sv;
  guint64 v;
  gsize comm_len;

  open = memchr (text, '(', len);
  close = NULL;
  for (const char *q = end; q > text; q--)
    if (q[-1] == ')')
      {
        close = q - 1;
        break;
      }
  if (open == NULL || close == NULL || close < open)
    return -EBADMSG;

  if (!next_field (&(const char *){ text }, open, NULL, TRUE, &sv) || sv <= 0)
    return -EBADMSG;
  st.pid = (pid_t) sv;
  comm_len = MIN ((gsize) (close - open - 1), sizeof st.comm - 1);
  memcpy (st.comm, open + 1, comm_len);

  p = close + 1;
  while (p < end && *p == ' ')
    p++;
  if (p >= end)
    return -EBADMSG;
  st.state = *p++;

  /* Fields 4.. (1-based, as in proc(5)). */
  for (int field = 4; field <= 24; field++)
    {
      gboolean is_signed = field == 4 || field == 5 || field == 6 || field == 7 || field == 8 ||
                           field == 16 || field == 17 || field == 18 || field == 19 ||
                           field == 20 || field == 21 || field == 24;
      if (!next_field (&p, end, &v, is_signed, &sv))
        return -EBADMSG;
      switch (field)
        {
        case 4: st.ppid = (pid_t) sv; break;
        case 5: st.pgrp = (pid_t) sv; break;
        case 6: st.session = (pid_t) sv; break;
        case 14: st.utime = v; break;
        case 15: st.stime = v; break;
        case 20: st.num_threads = sv; break;
        case 22: st.starttime = v; break;
        case 23: st.vsize = v; break;
        case 24: st.rss = sv; break;
        default: break;
        }
    }
  *ret = st;
  return 0;
}

int
orch_proc_read_stat (const char *proc_root, pid_t pid, OrchProcStat *ret)
{
  g_autofree char *path = g_strdup_printf ("%s/%d/stat", proc_root ? proc_root : "/proc", (int) pid);
  g_autofree char *text = NULL;
  int r = orch_read_small_file (path, &text);

  if (r < 0)
    return r == -ENOENT ? -ESRCH : r;
  return orch_proc_parse_stat (text, strlen (text), ret);
}

int
orch_proc_pgrp_has_live (const char *proc_root, pid_t pgrp)
{
  DIR *d = opendir (proc_root ? proc_root : "/proc");
  struct dirent *de;
  int found = 0;

  if (d == NULL)
    return -errno;
  while (!found && (de = readdir (d)))
    {
      OrchProcStat st;
      char *e;
      long pid = strtol (de->d_name, &e, 10);

      if (*e != '\0' || pid <= 0)
        continue;
      if (orch_proc_read_stat (proc_root, (pid_t) pid, &st) == 0 && st.pgrp == pgrp &&
          st.state != 'Z' && st.state != 'X')
        found = 1;
    }
  closedir (d);
  return found;
}
