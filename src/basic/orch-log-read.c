/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-log-read.h"
#include "orch-error.h"
#include "orch-vardict.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads happen in blocks of at most this, so memory stays at about
 * max_bytes (the text) plus one block whatever the file size. */
#define BLOCK_SIZE (64 * 1024)

/* A file that keeps shrinking under a tail read is given up on after this
 * many fresh starts. */
#define TAIL_ATTEMPTS 8

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */
#define REPLACEMENT_LEN 3

typedef enum {
  UNIT_VALID,
  UNIT_INVALID,
  UNIT_INCOMPLETE,
} UnitKind;

/* Classifies the unit at the start of @p (@len > 0) after Unicode table 3-7
 * and sets *ret_len to its length: a character, a maximal subpart of an
 * ill-formed sequence, or a valid prefix that @len cuts short.  Every byte
 * that is not a continuation byte (80..bf) starts a unit, which is what lets
 * a reader start anywhere after one. */
static UnitKind
utf8_unit (const guint8 *p, gsize len, gsize *ret_len)
{
  guint8 c = p[0], lo = 0x80, hi = 0xbf;
  gsize need;

  if (c >= 0x01 && c <= 0x7f)
    {
      *ret_len = 1;
      return UNIT_VALID;
    }
  else if (c >= 0xc2 && c <= 0xdf)
    need = 1;
  else if (c == 0xe0)
    {
      need = 2;
      lo = 0xa0; /* no overlongs */
    }
  else if (c == 0xed)
    {
      need = 2;
      hi = 0x9f; /* no surrogates */
    }
  else if (c >= 0xe1 && c <= 0xef)
    need = 2;
  else if (c == 0xf0)
    {
      need = 3;
      lo = 0x90; /* no overlongs */
    }
  else if (c >= 0xf1 && c <= 0xf3)
    need = 3;
  else if (c == 0xf4)
    {
      need = 3;
      hi = 0x8f; /* nothing above U+10FFFF */
    }
  else
    {
      /* NUL, stray continuation bytes, c0/c1 (always overlong), f5..ff */
      *ret_len = 1;
      return UNIT_INVALID;
    }

  for (gsize i = 1; i <= need; i++)
    {
      if (i == len)
        {
          *ret_len = i;
          return UNIT_INCOMPLETE;
        }
      if (p[i] < lo || p[i] > hi)
        {
          *ret_len = i;
          return UNIT_INVALID;
        }
      lo = 0x80;
      hi = 0xbf;
    }
  *ret_len = need + 1;
  return UNIT_VALID;
}

static inline gboolean
is_continuation (guint8 c)
{
  return (c & 0xc0) == 0x80;
}

typedef enum {
  STOP_END,        /* consumed everything */
  STOP_FULL,       /* the next unit does not fit */
  STOP_INCOMPLETE, /* the input ends inside a character */
} StopReason;

typedef struct {
  char *out;     /* NULL: only count */
  guint64 room;  /* bytes out may still take */
  guint64 skip;  /* output bytes to drop first, in whole units (tail) */
  guint64 len;   /* bytes written (or counted) */
} Sink;

static gsize
sanitize (const guint8 *buf, gsize len, gboolean final, Sink *sink, StopReason *ret_reason)
{
  StopReason reason = STOP_END;
  gsize i = 0;

  while (i < len)
    {
      UnitKind kind;
      gsize ulen, olen;

      if (sink->skip == 0)
        {
          /* Logs are mostly ASCII: copy runs of it in one go. */
          gsize n = 0, max = (gsize) MIN ((guint64) (len - i), sink->room);

          while (n < max && buf[i + n] >= 0x01 && buf[i + n] <= 0x7f)
            n++;
          if (n > 0)
            {
              if (sink->out)
                memcpy (sink->out + sink->len, buf + i, n);
              sink->room -= n;
              sink->len += n;
              i += n;
              continue;
            }
        }

      kind = utf8_unit (buf + i, len - i, &ulen);
      if (kind == UNIT_INCOMPLETE)
        {
          if (!final)
            {
              reason = STOP_INCOMPLETE;
              break;
            }
          kind = UNIT_INVALID;
        }
      olen = kind == UNIT_VALID ? ulen : REPLACEMENT_LEN;

      if (sink->skip > 0)
        {
          sink->skip -= MIN (sink->skip, olen);
          i += ulen;
          continue;
        }
      if (olen > sink->room)
        {
          reason = STOP_FULL;
          break;
        }
      if (sink->out)
        memcpy (sink->out + sink->len, kind == UNIT_VALID ? (const char *) buf + i : REPLACEMENT, olen);
      sink->room -= olen;
      sink->len += olen;
      i += ulen;
    }

  *ret_reason = reason;
  return i;
}

gsize
orch_log_utf8_sanitize (const char *buf, gsize len, gboolean at_eof_final,
                        char *out, gsize max_out, gsize *ret_out_len)
{
  Sink sink = { .out = out, .room = max_out };
  StopReason reason;
  gsize consumed;

  g_return_val_if_fail (buf != NULL || len == 0, 0);
  g_return_val_if_fail (out != NULL || max_out == 0, 0);

  consumed = sanitize ((const guint8 *) buf, len, at_eof_final, &sink, &reason);
  if (ret_out_len)
    *ret_out_len = (gsize) sink.len;
  return consumed;
}

typedef struct {
  OrchLogPreadFunc pread_func;
  gpointer user_data;
  guint8 *buf;
  gsize buf_size;
} Reader;

/* Fills @buf from @offset; *ret_got < @count only at the end of the file. */
static gboolean
read_at (Reader *r, guint8 *buf, gsize count, guint64 offset, gsize *ret_got, GError **error)
{
  gsize got = 0;

  while (got < count)
    {
      gssize n = r->pread_func (buf + got, count - got, offset + got, r->user_data);

      if (n < 0)
        {
          int errsv = errno;

          if (errsv == EINTR)
            continue;
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

/* Decodes [start, *io_end) into @sink block by block.  @final means *io_end
 * is a unit boundary, so a character cut short there is ill-formed rather
 * than still being written.  Stops when the sink is full or before an
 * incomplete character at the end; *ret_pos is the first byte not consumed.
 * If the file turns out shorter, *io_end is lowered to its end. */
static gboolean
decode_range (Reader *r, guint64 start, guint64 *io_end, gboolean final, Sink *sink,
              guint64 *ret_pos, GError **error)
{
  guint64 pos = start, end = *io_end;

  while (pos < end)
    {
      gsize want = (gsize) MIN ((guint64) r->buf_size, end - pos);
      gsize got, used;
      gboolean last;
      StopReason reason;

      /* Output is never shorter than its input, so the room left plus one
       * character of lookahead bounds what this call can use. */
      if (sink->out)
        want = (gsize) MIN ((guint64) want, sink->skip + sink->room + 4);

      if (!read_at (r, r->buf, want, pos, &got, error))
        return FALSE;
      if (got < want)
        {
          end = *io_end = pos + got;
          final = FALSE;
        }
      last = pos + got == end;

      used = sanitize (r->buf, got, final && last, sink, &reason);
      pos += used;
      if (reason == STOP_FULL || (reason == STOP_INCOMPLETE && last))
        break;
    }
  *ret_pos = pos;
  return TRUE;
}

static gboolean
read_from_offset (Reader *r, guint64 size, guint64 offset, guint32 max_bytes,
                  char **ret_text, guint64 *ret_next_offset, GError **error)
{
  guint64 avail = offset < size ? size - offset : 0;
  /* Each input byte becomes at most 3 output bytes. */
  guint64 cap = avail >= max_bytes ? max_bytes : MIN ((guint64) max_bytes, avail * 3);
  g_autofree char *text = g_malloc ((gsize) cap + 1);
  Sink sink = { .out = text, .room = cap };
  guint64 pos = offset;

  /* A running job may be half-way through a character at the end: never
   * final, only ill-formed bytes are replaced there. */
  if (avail > 0 && !decode_range (r, offset, &size, FALSE, &sink, &pos, error))
    return FALSE;

  text[sink.len] = '\0';
  *ret_text = g_steal_pointer (&text);
  *ret_next_offset = pos;
  return TRUE;
}

/* Where the last @n_lines lines before @end start, looking no further back
 * than @lower (*ret_start = @lower when they begin before it).  A newline
 * at end - 1 ends the last line rather than starting an empty one. */
static gboolean
find_tail_start (Reader *r, guint64 lower, guint64 *io_end, guint32 n_lines,
                 guint64 *ret_start, GError **error)
{
  guint64 pos = *io_end;
  gboolean first = TRUE;

  while (pos > lower)
    {
      gsize want = (gsize) MIN ((guint64) r->buf_size, pos - lower);
      gsize got, len;
      const guint8 *nl;

      if (!read_at (r, r->buf, want, pos - want, &got, error))
        return FALSE;
      if (got < want)
        {
          *io_end = pos - want + got;
          return TRUE;
        }

      len = got;
      if (first && r->buf[len - 1] == '\n')
        len--;
      first = FALSE;

      while (len > 0 && (nl = memrchr (r->buf, '\n', len)) != NULL)
        {
          if (--n_lines == 0)
            {
              *ret_start = pos - want + (guint64) (nl - r->buf) + 1;
              return TRUE;
            }
          len = (gsize) (nl - r->buf);
        }
      pos -= want;
    }
  *ret_start = lower;
  return TRUE;
}

/* Moves @start (0 < start < end) forward to the nearest unit boundary, as
 * a reader from offset 0 would see it, so the text starts on a character. */
static gboolean
align_start (Reader *r, guint64 *io_start, guint64 *io_end, GError **error)
{
  guint64 start = *io_start;
  guint64 from = start >= 3 ? start - 3 : 0;
  gsize want = (gsize) (MIN (start + 4, *io_end) - from);
  gsize at = (gsize) (start - from), got;
  guint8 small[7];

  if (!read_at (r, small, want, from, &got, error))
    return FALSE;
  if (got < want)
    {
      *io_end = from + got;
      return TRUE;
    }
  if (!is_continuation (small[at]))
    return TRUE;

  /* Bytes 80..bf belong to the lead byte at most 3 before them, if any;
   * past its unit they are stray, one unit each.  Being cut at *io_end
   * (a boundary) counts as ending the unit. */
  for (gsize j = at; j-- > 0;)
    if (!is_continuation (small[j]))
      {
        gsize ulen;

        (void) utf8_unit (small + j, want - j, &ulen);
        if (j + ulen > at)
          *io_start = from + j + ulen;
        break;
      }
  return TRUE;
}

/* The file's size, knowing it is at most @upper: a short read only says
 * the file ends at or before where it stopped.  Searches with 1-byte reads
 * down from @upper, so a stale size costs a few reads, not a restart per
 * byte. */
static gboolean
probe_size (Reader *r, guint64 upper, guint64 *ret_size, GError **error)
{
  guint64 lo = 0, hi = upper, step = 1; /* lo <= size <= hi */
  guint8 byte;
  gsize got;

  while (hi > lo)
    {
      guint64 probe = hi - MIN (step, hi - lo); /* does byte probe exist? */

      if (!read_at (r, &byte, 1, probe, &got, error))
        return FALSE;
      if (got == 1)
        {
          lo = probe + 1;
          break;
        }
      hi = probe;
      step *= 2;
    }
  while (hi > lo)
    {
      guint64 mid = lo + (hi - lo + 1) / 2;

      if (!read_at (r, &byte, 1, mid - 1, &got, error))
        return FALSE;
      if (got == 1)
        lo = mid;
      else
        hi = mid - 1;
    }
  *ret_size = lo;
  return TRUE;
}

/* One attempt at the tail of a file of @size bytes.  If the file turns out
 * to be shorter, returns TRUE with *ret_shrunk_to set (< @size) and nothing
 * else: the caller starts over. */
static gboolean
read_tail_once (Reader *r, guint64 size, guint32 n_lines, guint32 max_bytes,
                char **ret_text, guint64 *ret_next_offset, guint64 *ret_shrunk_to,
                GError **error)
{
  guint64 end = size, start, lower, pos, total;
  g_autofree char *text = NULL;
  Sink count = { .out = NULL, .room = G_MAXUINT64 };
  Sink sink = { 0 };

  *ret_shrunk_to = size;

  /* A valid but incomplete character at the end may still be being
   * written: leave it for the next read, and count lines before it. */
  if (size > 0)
    {
      gsize k = (gsize) MIN (size, 4), got;
      guint8 last[4];

      if (!read_at (r, last, k, size - k, &got, error))
        return FALSE;
      if (got < k)
        {
          *ret_shrunk_to = size - k + got;
          return TRUE;
        }
      for (gsize j = k; j-- > 0;)
        if (!is_continuation (last[j]))
          {
            gsize ulen;

            if (utf8_unit (last + j, k - j, &ulen) == UNIT_INCOMPLETE)
              end = size - k + j;
            break;
          }
    }

  /* Output is never shorter than input, so nothing before this can fit. */
  lower = end > max_bytes ? end - max_bytes : 0;
  start = end;
  if (end > 0)
    {
      guint64 scan_end = end;

      if (!find_tail_start (r, lower, &scan_end, n_lines, &start, error))
        return FALSE;
      if (scan_end < end)
        {
          *ret_shrunk_to = scan_end;
          return TRUE;
        }
    }
  if (start > 0 && start < end)
    {
      guint64 align_end = end;

      if (!align_start (r, &start, &align_end, error))
        return FALSE;
      if (align_end < end)
        {
          *ret_shrunk_to = align_end;
          return TRUE;
        }
    }

  /* First count the text, then write only its last max_bytes: replacement
   * characters make it longer than the input, by an unknown amount. */
  if (start < end)
    {
      guint64 count_end = end;

      if (!decode_range (r, start, &count_end, TRUE, &count, &pos, error))
        return FALSE;
      if (count_end < end)
        {
          *ret_shrunk_to = count_end;
          return TRUE;
        }
    }
  total = count.len;

  sink.room = MIN (total, (guint64) max_bytes);
  sink.skip = total - sink.room;
  text = g_malloc ((gsize) sink.room + 1);
  sink.out = text;
  pos = end;
  if (start < end)
    {
      guint64 write_end = end;

      if (!decode_range (r, start, &write_end, TRUE, &sink, &pos, error))
        return FALSE;
      if (write_end < end)
        {
          *ret_shrunk_to = write_end;
          return TRUE;
        }
    }

  text[sink.len] = '\0';
  *ret_text = g_steal_pointer (&text);
  *ret_next_offset = pos;
  return TRUE;
}

gboolean
orch_log_read_with (OrchLogPreadFunc pread_func, gpointer user_data, guint64 size,
                    const OrchLogReadOptions *opts,
                    char **ret_text, guint64 *ret_next_offset, GError **error)
{
  g_autofree guint8 *buf = NULL;
  Reader r = { .pread_func = pread_func, .user_data = user_data };
  guint64 next_offset = 0;
  char *text = NULL;

  g_return_val_if_fail (pread_func != NULL, FALSE);
  g_return_val_if_fail (opts != NULL, FALSE);
  g_return_val_if_fail (ret_text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (opts->max_bytes < ORCH_LOG_READ_MIN_BYTES)
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("max_bytes must be at least %u"), (guint) ORCH_LOG_READ_MIN_BYTES);
      return FALSE;
    }

  /* Offsets go to pread() as off_t. */
  size = MIN (size, (guint64) G_MAXINT64);
  r.buf_size = (gsize) MIN ((guint64) BLOCK_SIZE, (guint64) opts->max_bytes + 4);
  r.buf = buf = g_malloc (r.buf_size);

  if (opts->tail_lines > 0)
    {
      int attempt;

      for (attempt = 0; attempt < TAIL_ATTEMPTS; attempt++)
        {
          guint64 shrunk_to;

          if (!read_tail_once (&r, size, opts->tail_lines, opts->max_bytes,
                               &text, &next_offset, &shrunk_to, error))
            return FALSE;
          if (shrunk_to == size)
            break;
          if (!probe_size (&r, shrunk_to, &size, error))
            return FALSE;
        }
      if (attempt == TAIL_ATTEMPTS)
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED,
                       _("cannot read the log: it keeps being truncated"));
          return FALSE;
        }
    }
  else if (!read_from_offset (&r, size, opts->offset, opts->max_bytes, &text, &next_offset, error))
    return FALSE;

  *ret_text = text;
  if (ret_next_offset)
    *ret_next_offset = next_offset;
  return TRUE;
}

static gssize
fd_pread (void *buf, gsize count, guint64 offset, gpointer user_data)
{
  return pread (GPOINTER_TO_INT (user_data), buf, count, (off_t) offset);
}

gboolean
orch_log_read_fd (int fd, const OrchLogReadOptions *opts,
                  char **ret_text, guint64 *ret_next_offset, GError **error)
{
  struct stat st;

  g_return_val_if_fail (fd >= 0, FALSE);

  if (fstat (fd, &st) < 0)
    {
      int errsv = errno;

      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED, _("cannot read the log: %s"),
                   g_strerror (errsv));
      return FALSE;
    }
  /* A pipe or a device has no size to page or tail through. */
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_FAILED,
                   _("cannot read the log: not a regular file"));
      return FALSE;
    }
  return orch_log_read_with (fd_pread, GINT_TO_POINTER (fd), (guint64) st.st_size,
                             opts, ret_text, ret_next_offset, error);
}

/* timestamps b and format s; JSON lines always carry the time. */
static gboolean
orch_log_show_parse (GVariant *options, OrchLogShow *ret_show, GError **error)
{
  gboolean stamps = FALSE;
  const char *format = "text";

  g_variant_lookup (options, "timestamps", "b", &stamps);
  g_variant_lookup (options, "format", "&s", &format);
  if (strcmp (format, "json") == 0)
    *ret_show = ORCH_LOG_SHOW_JSON;
  else if (strcmp (format, "text") == 0)
    *ret_show = stamps ? ORCH_LOG_SHOW_TIMESTAMPS : ORCH_LOG_SHOW_PLAIN;
  else
    {
      g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                   _("option “format”: “%s” is not one of text, json"), format);
      return FALSE;
    }
  return TRUE;
}

gboolean
orch_log_read_options_parse (GVariant *options, guint32 cap, OrchLogReadOptions *ret_opts,
                             const char **ret_stream, GError **error)
{
  OrchLogReadOptions o = { .max_bytes = ORCH_LOG_DEFAULT_READ_BYTES };
  guint32 max_bytes;

  if (!orch_vardict_check (options, _("option"),
                           (const char *const[]){ "stream", "s", "offset", "t", "tail_lines", "u",
                                                  "max_bytes", "u", "timestamps", "b", "format",
                                                  "s", NULL },
                           error))
    return FALSE;
  g_variant_lookup (options, "stream", "&s", ret_stream);
  g_variant_lookup (options, "offset", "t", &o.offset);
  g_variant_lookup (options, "tail_lines", "u", &o.tail_lines);
  if (!orch_log_show_parse (options, &o.show, error))
    return FALSE;
  if (g_variant_lookup (options, "max_bytes", "u", &max_bytes))
    {
      if (max_bytes < ORCH_LOG_READ_MIN_BYTES)
        {
          g_set_error (error, ORCH_ERROR, ORCH_ERROR_INVALID_ARGUMENT,
                       _("option “max_bytes”: must be at least %u"), ORCH_LOG_READ_MIN_BYTES);
          return FALSE;
        }
      o.max_bytes = max_bytes;
    }
  /* The configured cap wins over what a caller asks for. */
  o.max_bytes = MIN (o.max_bytes, MAX (cap, ORCH_LOG_READ_MIN_BYTES));
  *ret_opts = o;
  return TRUE;
}
