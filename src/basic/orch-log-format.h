/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "orch-log-read.h"

#include <glib.h>

G_BEGIN_DECLS

/* Showing a log_timestamps log (orch-log-record.h): as the job wrote it,
 * each line after its time, or JSON lines
 * {"time":"…","stream":"…","line":"…"} (with "partial":true on a fragment:
 * the line goes on in the next object; "time":null on a line the monitor
 * did not stamp, such as the daemon's restart marker).  Text is valid
 * UTF-8 (orch_log_utf8_sanitize()). */
typedef struct {
  OrchLogShow show;
  const char *stream; /* the JSON "stream": all (stdout and stderr merged), stdout, stderr */
  gboolean mid_line;  /* the last record shown was a fragment */
} OrchLogFormatter;

/* Renders the whole records at the start of @buf into @out while @out
 * stays within @max_out bytes, and returns how many input bytes they were
 * (a record without its newline yet is left).  *@ret_full: a record was
 * left because it did not fit. */
gsize orch_log_format (OrchLogFormatter *f, const char *buf, gsize len, GString *out, gsize max_out,
                       gboolean *ret_full);

/* For a follower reading the file as it grows: @buf (@len bytes, just
 * read) after @pending (what was left of the last read), the whole
 * records rendered onto @out; the rest stays in @pending. */
void orch_log_format_feed (OrchLogFormatter *f, GString *pending, const char *buf, gsize len,
                           GString *out);

/* Logs.Read over a log_timestamps log through @fd (pread() only): by
 * offset, or the last tail_lines records, rendered as @opts->show says,
 * at most max_bytes; *@ret_next_offset is where the next page starts (a
 * file offset, after the last whole record shown).  ORCH_ERROR_INVALID_ARGUMENT
 * when max_bytes cannot hold even the next record. */
gboolean orch_log_read_records_fd (int fd, const OrchLogReadOptions *opts, const char *stream,
                                   char **ret_text, guint64 *ret_next_offset, GError **error);

G_END_DECLS
