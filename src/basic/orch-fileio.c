/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int
orch_read_small_file (const char *path, char **ret_text)
{
  g_autoptr(GString) s = g_string_sized_new (256);
  char buf[4096];
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  ssize_t n;

  if (fd < 0)
    return -errno;
  while ((n = read (fd, buf, sizeof buf)) != 0)
    {
      if (n < 0)
        {
          int r = -errno;
          if (errno == EINTR)
            continue;
          close (fd);
          return r;
        }
      g_string_append_len (s, buf, n);
      if (s->len > 16 * 1024 * 1024)
        {
          close (fd);
          return -EFBIG;
        }
    }
  close (fd);
  *ret_text = g_string_free (g_steal_pointer (&s), FALSE);
  return 0;
}

int
orch_write_file (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  size_t len = strlen (text);
  ssize_t n;
  int r = 0;

  if (fd < 0)
    return -errno;
  n = write (fd, text, len);
  if (n < 0)
    r = -errno;
  else if ((size_t) n != len)
    r = -EIO;
  close (fd);
  return r;
}
