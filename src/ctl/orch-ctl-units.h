/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Human units in and out, as systemd and top write them.  Pure functions:
 * tests/unit/test-ctl-units.c covers them. */

/* "512M", "1.5G", "4096", "2KiB", "1GB": powers of 1024 (as systemd's
 * MemoryMax=), an optional "B"/"iB"; a bare number is bytes.  FALSE for
 * anything else, a negative number or an overflow. */
gboolean orch_ctl_parse_size (const char *text, guint64 *ret_bytes);

/* "30s", "7d", "1h30min", "1.5h", "250ms", "2w"; a bare number is
 * seconds.  Units: us, ms, s, m/min, h, d, w (and their long names). */
gboolean orch_ctl_parse_duration (const char *text, guint64 *ret_usec);

/* "0.5", "1", "150%": CPU cores (100% = one core). */
gboolean orch_ctl_parse_cores (const char *text, double *ret_cores);

/* "TERM", "SIGKILL", "kill", "9". */
gboolean orch_ctl_parse_signal (const char *text, int *ret_signal);

/* "512B", "1.5K", "12M", "1G": three significant figures at most. */
char *orch_ctl_format_size (guint64 bytes);

/* "250ms", "42s", "5min 3s", "2h 5min", "3d 4h": the two largest units. */
char *orch_ctl_format_duration (guint64 usec);

G_END_DECLS
