/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Room for the longest UTF-8 character (4 bytes) several times over, so a
 * page always makes progress. */
#define ORCH_LOG_READ_MIN_BYTES 16
/* What one Logs.Read returns when the caller does not say. */
#define ORCH_LOG_DEFAULT_READ_BYTES (64 * 1024)

/* How a log_timestamps log (orch-log-record.h) is shown. */
typedef enum {
  ORCH_LOG_SHOW_PLAIN,      /* the job's bytes as it wrote them */
  ORCH_LOG_SHOW_TIMESTAMPS, /* each line after its time */
  ORCH_LOG_SHOW_JSON,       /* JSON lines: time, stream, line */
} OrchLogShow;

typedef struct {
  guint64 offset;      /* byte offset to start at; ignored when tail_lines > 0 */
  guint32 tail_lines;  /* > 0: the last N lines instead */
  guint32 max_bytes;   /* upper bound on the returned text in bytes, >= ORCH_LOG_READ_MIN_BYTES */
  OrchLogShow show;    /* timestamps b, format s ("text" or "json") */
} OrchLogReadOptions;

/* Like pread(2): bytes read, 0 at end of file, -1 with errno set. */
typedef gssize (*OrchLogPreadFunc) (void *buf, gsize count, guint64 offset, gpointer user_data);

/* Writes @buf to @out as valid UTF-8, at most @max_out bytes (no NUL
 * terminator), sets *@ret_out_len to how many it wrote and returns how many
 * input bytes it consumed.  It never splits a character: it stops before a
 * unit that does not fit.
 *
 * Replacement rule: each maximal subpart of an ill-formed sequence (the
 * Unicode "best practice", as in Python and the WHATWG decoder) becomes one
 * U+FFFD (3 bytes): "\xe2\x82A" gives "\uFFFDA", "\xc0\xaf" gives two
 * U+FFFD, a lone "\xff" one.  NUL is replaced too, because the text ends up
 * in a C string and a D-Bus 's'.  Output is never shorter than the input it
 * consumed.
 *
 * A sequence cut short by the end of @buf that could still become a valid
 * character is left unconsumed unless @at_eof_final; one that can no longer
 * become valid (e.g. "\xe0\x80") is replaced at once, so a reader is never
 * stuck on it. */
gsize orch_log_utf8_sanitize (const char *buf, gsize len, gboolean at_eof_final,
                              char *out, gsize max_out, gsize *ret_out_len);

/* Reads a log through @fd with pread() only (the fd may be shared, its file
 * offset is left alone).
 *
 * By offset: the text from @opts->offset; *@ret_next_offset is the offset
 * just after the last byte consumed, so paging with it returns every byte
 * exactly once.  A page ends before a character it cannot hold whole, and
 * before a valid but incomplete character at the end of the file (the
 * writer may be half-way through it); it is returned once completed.  An
 * offset at or beyond the end of the file (which may have shrunk) gives ""
 * and returns the same offset.
 *
 * By tail (@opts->tail_lines > 0): the last N lines, found by reading
 * backwards from the end; a trailing newline does not start an extra empty
 * line and an unterminated last line counts as one.  When they do not fit
 * in max_bytes, the last max_bytes of them (from a character boundary).
 * *@ret_next_offset is the end of the data consumed: the end of the file,
 * or the start of an incomplete trailing character.
 *
 * Either way the text is valid UTF-8 (see orch_log_utf8_sanitize()) and
 * never longer than max_bytes.  Whatever the size of the file, memory used
 * is about max_bytes plus one 64 KiB block, and bytes read at most about
 * max_bytes (by offset) or 3 * max_bytes (by tail).
 *
 * Errors: ORCH_ERROR_INVALID_ARGUMENT for max_bytes below
 * ORCH_LOG_READ_MIN_BYTES, ORCH_ERROR_FAILED when reading fails or @fd is
 * not a regular file. */
gboolean orch_log_read_fd (int fd, const OrchLogReadOptions *opts,
                           char **ret_text, guint64 *ret_next_offset, GError **error);

/* The same over a file of @size bytes read through @pread_func, which
 * lets tests count what is read.  If the file turns out shorter than @size
 * (truncated meanwhile), what is there counts. */
gboolean orch_log_read_with (OrchLogPreadFunc pread_func, gpointer user_data, guint64 size,
                             const OrchLogReadOptions *opts,
                             char **ret_text, guint64 *ret_next_offset, GError **error);

/* Logs.Read's options (a{sv}: stream s, offset t, tail_lines u, max_bytes
 * u, timestamps b, format s) into @ret_opts, max_bytes capped at @cap; *@ret_stream points into
 * @options.  Unknown keys, wrong types, max_bytes below the minimum:
 * ORCH_ERROR_INVALID_ARGUMENT. */
gboolean orch_log_read_options_parse (GVariant *options, guint32 cap, OrchLogReadOptions *ret_opts,
                                      const char **ret_stream, GError **error);

G_END_DECLS
