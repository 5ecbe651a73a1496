/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-reconcile.h"
#include "orch-cgroup.h"
#include "orch-proc.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "key=" then a decimal integer then "\n", at @p; advances @p. */
static gboolean
take_field (const char **p, const char *end, const char *key, gint64 *out)
{
  gsize klen = strlen (key);
  const char *s = *p;
  gint64 v = 0;
  gboolean neg = FALSE, digits = FALSE;

  if ((gsize) (end - s) < klen || memcmp (s, key, klen) != 0)
    return FALSE;
  s += klen;
  if (s < end && *s == '-')
    neg = TRUE, s++;
  for (; s < end && *s >= '0' && *s <= '9'; s++)
    {
      if (v > (G_MAXINT64 - 9) / 10)
        return FALSE;
      v = v * 10 + (*s - '0');
      digits = TRUE;
    }
  if (!digits || s >= end || *s != '\n')
    return FALSE;
  *out = neg ? -v : v;
  *p = s + 1;
  return TRUE;
}

int
orch_exit_record_parse (const char *text, gsize len, OrchExitRecord *out)
{
  const char *p = text, *end = text + len;
  gint64 pid, status, at;

  if (!take_field (&p, end, "pid=", &pid) || !take_field (&p, end, "status=", &status) ||
      !take_field (&p, end, "finished_at=", &at) || p != end ||
      pid <= 0 || pid > G_MAXINT32 || status < 0 || status > 0xffff || at < 0)
    return -EBADMSG;
  out->pid = (pid_t) pid;
  out->status = (int) status;
  out->finished_at = at;
  return 0;
}

int
orch_exit_record_read (int dir_fd, const char *id, OrchExitRecord *out)
{
  g_autofree char *name = g_strconcat (id, ".exit", NULL);
  char buf[256];
  ssize_t n;
  int fd;

  fd = openat (dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return -errno;
  n = read (fd, buf, sizeof buf);
  close (fd);
  if (n < 0)
    return -errno;
  return orch_exit_record_parse (buf, (gsize) n, out);
}

void
orch_exit_record_remove (int dir_fd, const char *id)
{
  /* With the file a monitor prepares for it (left by a killed one). */
  static const char *const suffixes[] = { ".exit", ".exit.tmp" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *name = g_strconcat (id, suffixes[i], NULL);
      if (unlinkat (dir_fd, name, 0) < 0 && errno != ENOENT)
        g_warning ("cannot remove exit record %s: %s", name, g_strerror (errno));
    }
}

guint64
orch_process_start_time (pid_t pid)
{
  OrchProcStat st;

  if (pid <= 0 || orch_proc_read_stat (NULL, pid, &st) < 0 || st.state == 'Z' || st.state == 'X')
    return 0;
  return st.starttime;
}

OrchAdoptVerdict
orch_reconcile_check (const OrchJob *job, char **why)
{
  guint64 start;

  if (job->monitor_pid <= 0)
    {
      *why = g_strdup (_("it had not been started"));
      return ORCH_ADOPT_GONE;
    }
  start = orch_process_start_time (job->monitor_pid);
  if (start == 0)
    {
      *why = g_strdup_printf (_("its monitor (pid %d) is gone"), (int) job->monitor_pid);
      return ORCH_ADOPT_GONE;
    }
  if (start != job->monitor_start)
    {
      *why = g_strdup_printf (_("pid %d now belongs to another process (start time differs)"),
                              (int) job->monitor_pid);
      return ORCH_ADOPT_STRANGER;
    }
  if (job->pid > 0)
    {
      start = orch_process_start_time (job->pid);
      if (start != 0 && start != job->pid_start)
        {
          *why = g_strdup_printf (_("pid %d now belongs to another process (start time differs)"),
                                  (int) job->pid);
          return ORCH_ADOPT_STRANGER;
        }
    }
  if (job->cgroup && *job->cgroup)
    {
      g_autofree char *cg = NULL;
      if (orch_cgroup_of_pid (job->monitor_pid, &cg) < 0 || g_strcmp0 (cg, job->cgroup) != 0)
        {
          *why = g_strdup_printf (_("pid %d is no longer in cgroup %s"), (int) job->monitor_pid,
                                  job->cgroup);
          return ORCH_ADOPT_STRANGER;
        }
    }
  return ORCH_ADOPT_YES;
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
