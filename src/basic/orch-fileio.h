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

G_END_DECLS
