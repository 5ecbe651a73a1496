/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-proc.h"
#include "orch-cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The next blank-delimited decimal of [*p, end): optional '-' when
 * @is_signed, then digits, then a ' ' or '\n' that must lie inside the
 * buffer — a number cut off by the end of the buffer may be short.
 * Hand-rolled: this runs for every process of every job on every tick. */
static gboolean
next_field (const char **p, const char *end, gboolean is_signed, guint64 *ret_v, gint64 *ret_sv)
{
  const char *s = *p;
  gboolean neg = FALSE;
  guint64 v = 0;

  while (s < end && *s == ' ')
    s++;
  if (s < end && *s == '-')
    {
      if (!is_signed)
        return FALSE;
      neg = TRUE;
      s++;
    }
  if (s >= end || *s < '0' || *s > '9')
    return FALSE;
  for (; s < end && *s >= '0' && *s <= '9'; s++)
    {
      guint d = (guint) (*s - '0');
      if (v > (G_MAXUINT64 - d) / 10)
        return FALSE;
      v = v * 10 + d;
    }
  if (s >= end || (*s != ' ' && *s != '\n'))
    return FALSE;
  if (is_signed)
    {
      if (v > (guint64) G_MAXINT64 + (neg ? 1 : 0))
        return FALSE;
      *ret_sv = neg ? (gint64) (0 - v) : (gint64) v;
    }
  else
    *ret_v = v;
  *p = s;
  return TRUE;
}

int
orch_proc_parse_stat (const char *text, gsize len, OrchProcStat *ret)
{
  /* Fields 4..24 (1-based, as in proc(5)) that are signed. */
  static const guint32 signed_fields = (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) |
                                       (1u << 8) | (1u << 16) | (1u << 17) | (1u << 18) |
                                       (1u << 19) | (1u << 20) | (1u << 21) | (1u << 24);
  const char *end = text + len, *open, *close, *p;
  OrchProcStat st = { 0 };
  gint64 sv = 0;
  guint64 v = 0;
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

  p = text;
  if (!next_field (&p, open, TRUE, NULL, &sv) || sv <= 0 || sv > G_MAXINT32)
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

  for (int field = 4; field <= 24; field++)
    {
      if (!next_field (&p, end, (signed_fields >> field) & 1, &v, &sv))
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
orch_proc_read_stat_at (int proc_fd, pid_t pid, char *buf, gsize size, OrchProcStat *ret)
{
  char name[32];
  gsize len = 0;
  int fd;

  g_return_val_if_fail (size > 1, -EINVAL);
  g_snprintf (name, sizeof name, "%d/stat", (int) pid);
  fd = openat (proc_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return errno == ENOENT ? -ESRCH : -errno;
  while (len < size - 1)
    {
      ssize_t n = read (fd, buf + len, size - 1 - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      len += (gsize) n;
    }
  close (fd);
  return orch_proc_parse_stat (buf, len, ret);
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

guint64
orch_process_start_time (pid_t pid)
{
  OrchProcStat st;

  if (pid <= 0 || orch_proc_read_stat (NULL, pid, &st) < 0 || st.state == 'Z' || st.state == 'X')
    return 0;
  return st.starttime;
}

pid_t
orch_process_first_child (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/task/%d/children", (int) pid, (int) pid);
  g_autofree char *text = NULL;
  gint64 child;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  child = g_ascii_strtoll (text, NULL, 10);
  return child > 0 && child <= G_MAXINT32 ? (pid_t) child : 0;
}
