/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The log of a job with log_timestamps: orchestrator-monitor reads the
 * job's output from a pipe and writes it as records, one line each:
 *
 *   2026-12-03T04:06:40.123456Z line
 *   2026-12-03T04:06:40.123456Z+fragment
 *
 * the time the line's first byte reached the monitor (RFC 3339, UTC,
 * microseconds, never earlier than the record before it), then ' ' for a
 * line the job ended with a newline, or '+' for a fragment: the job's line
 * goes on in the next record without a newline in between (a line longer
 * than ORCH_LOG_RECORD_MAX_PAYLOAD, or the job's last bytes without a
 * newline at exit).  A payload never holds '\n', so the file is the job's
 * bytes exactly, plus the stamps.  Plain C: the monitor has no GLib. */
#define ORCH_LOG_STAMP_LEN 27 /* YYYY-MM-DDTHH:MM:SS.uuuuuuZ */
#define ORCH_LOG_RECORD_HEAD_LEN (ORCH_LOG_STAMP_LEN + 1)
#define ORCH_LOG_RECORD_LINE '\x20'
#define ORCH_LOG_RECORD_FRAGMENT '+'
#define ORCH_LOG_RECORD_MAX_PAYLOAD 8192
