/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-exit-record.h"
#include "orch-launch-proto.h"

#include <errno.h>
#include <fcntl.h>
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
  g_autofree char *name = g_strconcat (id, ORCH_EXIT_RECORD_SUFFIX, NULL);
  char buf[ORCH_EXIT_RECORD_SPACE];
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
orch_exit_record_remove (int dir_fd, const char *id, gboolean prepared_too)
{
  static const char *const suffixes[] = { ORCH_EXIT_RECORD_SUFFIX, ORCH_EXIT_RECORD_TMP_SUFFIX };

  for (guint i = 0; i < (prepared_too ? 2u : 1u); i++)
    {
      g_autofree char *name = g_strconcat (id, suffixes[i], NULL);
      if (unlinkat (dir_fd, name, 0) < 0 && errno != ENOENT)
        g_warning ("cannot remove exit record %s: %s", name, g_strerror (errno));
    }
}
