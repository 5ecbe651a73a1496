/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whole-file I/O for the small files of /proc and cgroupfs: one open,
 * reads until EOF, negative errno; out-params set on success only. */

/* Reads the whole file at @path (at most 16 MiB, else -EFBIG). */
int orch_read_small_file (const char *path, char **ret_text);
/* Writes @text to the existing file at @path in one write(). */
int orch_write_file (const char *path, const char *text);

/* A /proc or cgroup file of many records (net/dev, diskstats,
 * cgroup.procs) comes from seq_file, which hands out whole records until
 * its buffer (a page at least) has no room for the next one.  So a first
 * read from offset 0 of @n bytes, into a buffer larger than a page, that
 * left room for any record of such files (all well under 512 bytes) met
 * the end: no second read just to see 0.  A regular file (tests' fixtures)
 * ends a short read too. */
#define ORCH_SEQ_RECORD_MAX 512
static inline gboolean
orch_seq_first_read_is_whole (gsize n)
{
  return n + ORCH_SEQ_RECORD_MAX <= 4096;
}

G_END_DECLS
