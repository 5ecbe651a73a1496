/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-rest-token.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <grp.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIN_TOKEN 16

static char *
read_token (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  g_autoptr(GIOChannel) ch = NULL;
  gsize len;

  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e), "%s: %s", path, g_strerror (e));
      return NULL;
    }
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_size > 4096)
    {
      close (fd);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   _("%s: not a token file (a regular file of at most 4 KiB)"), path);
      return NULL;
    }
  if (st.st_mode & S_IRWXO)
    {
      close (fd);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                   _("%s: other users can read or write the token; chmod o= it"), path);
      return NULL;
    }
  ch = g_io_channel_unix_new (fd);
  g_io_channel_set_close_on_unref (ch, TRUE);
  g_io_channel_set_encoding (ch, NULL, NULL);
  if (g_io_channel_read_to_end (ch, &text, &len, error) != G_IO_STATUS_NORMAL)
    return NULL;
  if (memchr (text, '\0', len))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, _("%s: the token holds a NUL byte"), path);
      return NULL;
    }
  g_strstrip (text);
  if (strlen (text) < MIN_TOKEN)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   _("%s: a token must be at least 16 characters"), path);
      return NULL;
    }
  return g_steal_pointer (&text);
}

static char *
create_token (const char *path, const char *group, GError **error)
{
  guint8 raw[32];
  g_autoptr(GString) hex = g_string_new (NULL);
  struct group gr, *res = NULL;
  char buf[4096];
  int fd;
  ssize_t n;

  if (getrandom (raw, sizeof raw, 0) != (ssize_t) sizeof raw)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, _("cannot get random bytes for a token"));
      return NULL;
    }
  for (gsize i = 0; i < sizeof raw; i++)
    g_string_append_printf (hex, "%02x", raw[i]);
  memset (raw, 0, sizeof raw);
  g_string_append_c (hex, '\n');

  /* O_EXCL: two shims starting at once cannot each write their own. */
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
                   _("cannot create the token file %s: %s"), path, g_strerror (e));
      return NULL;
    }
  /* Root gives the file to the group; as the group's member (the shim's
   * unit) it already has it. */
  if (group && *group && getgrnam_r (group, &gr, buf, sizeof buf, &res) == 0 && res &&
      fchown (fd, (uid_t) -1, gr.gr_gid) < 0)
    g_debug ("cannot give %s to group %s: %s", path, group, g_strerror (errno));
  (void) fchmod (fd, 0640);
  n = write (fd, hex->str, hex->len);
  if (n != (ssize_t) hex->len || fsync (fd) < 0)
    {
      int e = n < 0 ? errno : EIO;
      close (fd);
      g_unlink (path);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
                   _("cannot write the token file %s: %s"), path, g_strerror (e));
      return NULL;
    }
  close (fd);
  g_strstrip (hex->str);
  return g_string_free (g_steal_pointer (&hex), FALSE);
}

char *
orch_rest_token_load_or_create (const char *path, const char *group, gboolean *ret_created,
                                GError **error)
{
  g_autoptr(GError) local = NULL;
  char *token = read_token (path, &local);

  *ret_created = FALSE;
  if (token || !g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      if (token == NULL)
        g_propagate_error (error, g_steal_pointer (&local));
      return token;
    }
  token = create_token (path, group, error);
  *ret_created = token != NULL;
  return token;
}
