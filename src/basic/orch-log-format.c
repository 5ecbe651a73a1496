/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-log-format.h"
#include "orch-error.h"
#include "orch-log-record.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Read in blocks of this: several of the monitor's longest records. */
#define BLOCK_SIZE (128 * 1024)

static gboolean
is_stamped (const char *p, gsize len)
{
  static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";

  if (len < ORCH_LOG_RECORD_HEAD_LEN)
    return FALSE;
  for (gsize i = 0; i < ORCH_LOG_STAMP_LEN; i++)
    if (shape[i] == 'd' ? !g_ascii_isdigit (p[i]) : p[i] != shape[i])
      return FALSE;
  return p[ORCH_LOG_STAMP_LEN] == ORCH_LOG_RECORD_LINE ||
         p[ORCH_LOG_STAMP_LEN] == ORCH_LOG_RECORD_FRAGMENT;
}

static void
append_json_string (GString *out, const char *s, gsize len)
{
  g_string_append_c (out, '"');
  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) s[i];
      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c == '\r')
        g_string_append (out, "\\r");
      else if (c < 0x20 || c == 0x7f)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, (char) c);
    }
  g_string_append_c (out, '"');
}

/* One record (without its newline) onto @out. */
static void
render (OrchLogFormatter *f, const char *rec, gsize len, GString *out)
{
  gboolean stamped = is_stamped (rec, len);
  gboolean fragment = stamped && rec[ORCH_LOG_STAMP_LEN] == ORCH_LOG_RECORD_FRAGMENT;
  const char *payload = stamped ? rec + ORCH_LOG_RECORD_HEAD_LEN : rec;
  gsize plen = stamped ? len - ORCH_LOG_RECORD_HEAD_LEN : len;
  g_autofree char *clean = g_malloc (plen * 3 + 1);
  gsize clen = 0;

  orch_log_utf8_sanitize (payload, plen, TRUE, clean, plen * 3, &clen);
  switch (f->show)
    {
    case ORCH_LOG_SHOW_JSON:
      g_string_append (out, "{\"time\":");
      if (stamped)
        {
          g_string_append_c (out, '"');
          g_string_append_len (out, rec, ORCH_LOG_STAMP_LEN);
          g_string_append_c (out, '"');
        }
      else
        g_string_append (out, "null");
      g_string_append (out, ",\"stream\":");
      append_json_string (out, f->stream, strlen (f->stream));
      g_string_append (out, ",\"line\":");
      append_json_string (out, clean, clen);
      if (fragment)
        g_string_append (out, ",\"partial\":true");
      g_string_append (out, "}\n");
      break;
    case ORCH_LOG_SHOW_TIMESTAMPS:
      /* A line that goes on from a fragment keeps the time of its start. */
      if (stamped && !f->mid_line)
        {
          g_string_append_len (out, rec, ORCH_LOG_STAMP_LEN);
          g_string_append_c (out, ' ');
        }
      G_GNUC_FALLTHROUGH;
    case ORCH_LOG_SHOW_PLAIN:
    default:
      g_string_append_len (out, clean, (gssize) clen);
      if (!fragment)
        g_string_append_c (out, '\n');
      break;
    }
  f->mid_line = fragment;
}

gsize
orch_log_format (OrchLogFormatter *f, const char *buf, gsize len, GString *out, gsize max_out,
                 gboolean *ret_full)
{
  g_autoptr(GString) one = g_string_new (NULL);
  gsize pos = 0;

  if (ret_full)
    *ret_full = FALSE;
  while (pos < len)
    {
      const char *nl = memchr (buf + pos, '\n', len - pos);
      gboolean mid = f->mid_line;

      if (nl == NULL)
        break;
      g_string_truncate (one, 0);
      render (f, buf + pos, (gsize) (nl - (buf + pos)), one);
      if (out->len + one->len > max_out)
        {
          f->mid_line = mid;
          if (ret_full)
            *ret_full = TRUE;
          break;
        }
      g_string_append_len (out, one->str, (gssize) one->len);
      pos = (gsize) (nl - buf) + 1;
    }
  return pos;
}

void
orch_log_format_feed (OrchLogFormatter *f, GString *pending, const char *buf, gsize len,
                      GString *out)
{
  gsize used;

  g_string_append_len (pending, buf, (gssize) len);
  used = orch_log_format (f, pending->str, pending->len, out, G_MAXSIZE, NULL);
  g_string_erase (pending, 0, (gssize) used);
}

static gboolean
read_block (int fd, char *buf, gsize count, guint64 offset, gsize *ret_got, GError **error)
{
  gsize got = 0;

  while (got < count)
    {
      gssize n = pread (fd, buf + got, count - got, (off_t) (offset + got));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot read the log: %s"),
                       g_strerror (errsv));
          return FALSE;
        }
      if (n == 0)
        break;
      got += (gsize) n;
    }
  *ret_got = got;
  return TRUE;
}

/* Where the last @n records before @size start; a record still without
 * its newline at the end does not count. */
static gboolean
find_tail (int fd, guint64 size, guint32 n, char *buf, guint64 *ret_start, GError **error)
{
  guint64 pos = size;
  gboolean first = TRUE;

  *ret_start = 0;
  while (pos > 0)
    {
      gsize want = (gsize) MIN ((guint64) BLOCK_SIZE, pos), got;
      gsize len;

      if (!read_block (fd, buf, want, pos - want, &got, error))
        return FALSE;
      if (got < want)
        return TRUE; /* shrank meanwhile: from the start */
      len = got;
      if (first)
        {
          /* The newline that ends the last whole record ends it, it does
           * not start one. */
          const char *last = memrchr (buf, '\n', len);
          len = last ? (gsize) (last - buf) : 0;
          if (last == NULL && pos - want > 0)
            {
              pos -= want;
              continue;
            }
          first = FALSE;
        }
      for (const char *nl; len > 0 && (nl = memrchr (buf, '\n', len)) != NULL;
           len = (gsize) (nl - buf))
        if (--n == 0)
          {
            *ret_start = pos - want + (guint64) (nl - buf) + 1;
            return TRUE;
          }
      pos -= want;
    }
  return TRUE;
}

/* Whether the record that ends just before @offset is a fragment: then
 * the page starting at @offset goes on with its line (no new time). */
static gboolean
follows_fragment (int fd, guint64 offset, char *buf, GError **error)
{
  gsize want = (gsize) MIN ((guint64) (ORCH_LOG_RECORD_HEAD_LEN + ORCH_LOG_RECORD_MAX_PAYLOAD + 2),
                            offset);
  gsize got;
  const char *start;

  if (want < ORCH_LOG_RECORD_HEAD_LEN + 1 ||
      !read_block (fd, buf, want, offset - want, &got, error) || got != want ||
      buf[got - 1] != '\n')
    return FALSE;
  start = memrchr (buf, '\n', got - 1);
  start = start ? start + 1 : buf;
  if (start == buf && offset - want > 0)
    return FALSE; /* not a record the monitor wrote */
  return is_stamped (start, (gsize) (buf + got - 1 - start)) &&
         start[ORCH_LOG_STAMP_LEN] == ORCH_LOG_RECORD_FRAGMENT;
}

gboolean
orch_log_read_records_fd (int fd, const OrchLogReadOptions *opts, const char *stream,
                          char **ret_text, guint64 *ret_next_offset, GError **error)
{
  OrchLogFormatter f = { .show = opts->show, .stream = stream };
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree char *buf = g_malloc (BLOCK_SIZE);
  guint64 pos = opts->offset;
  struct stat st;

  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED,
                   _("cannot read the log: not a regular file"));
      return FALSE;
    }
  if (opts->tail_lines > 0 &&
      !find_tail (fd, (guint64) st.st_size, opts->tail_lines, buf, &pos, error))
    return FALSE;
  if (pos > 0 && pos < (guint64) st.st_size)
    {
      g_autoptr(GError) local = NULL;
      f.mid_line = follows_fragment (fd, pos, buf, &local);
      if (local)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }

  while (pos < (guint64) st.st_size)
    {
      gboolean full;
      gsize got, used;

      if (!read_block (fd, buf, BLOCK_SIZE, pos, &got, error))
        return FALSE;
      used = orch_log_format (&f, buf, got, out, opts->max_bytes, &full);
      if (used == 0 && out->len == 0 && (full || got == BLOCK_SIZE))
        {
          if (full)
            g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                         _("option “max_bytes”: %u cannot hold the next line; ask for more"),
                         opts->max_bytes);
          else
            g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED,
                         _ ("cannot read the log: a line at offset %llu is longer than any "
                            "orchestrator-monitor writes"),
                         (unsigned long long) pos);
          return FALSE;
        }
      pos += used;
      if (full || used == 0)
        break;
    }
  *ret_next_offset = pos;
  *ret_text = g_string_free (g_steal_pointer (&out), FALSE);
  return TRUE;
}
