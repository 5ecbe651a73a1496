/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Time zones for the schedulers: IANA tzfiles (and POSIX TZ strings) read
 * once and kept, so that a next-elapse computation never touches the file
 * system nor the process-wide TZ.  Conversions follow glibc's localtime()
 * and mktime() exactly, because the calendar engine must agree with
 * systemd, which uses them. */

typedef struct _OrchTz OrchTz;

/* A broken-down local time, as struct tm but with the full year and
 * fields that may be out of range before normalization. */
typedef struct {
  int year; /* e.g. 2026 */
  int mon;  /* 0..11 */
  int mday; /* 1..31 */
  int hour, min, sec;
  int wday;   /* 0 = Sunday */
  int isdst;  /* -1 unknown, 0, 1 */
  int gmtoff; /* seconds east of UTC */
} OrchTm;

/* The zone named @name ("Europe/Madrid", "UTC"), loaded from
 * /usr/share/zoneinfo once per process; NULL if there is no such zone. */
OrchTz *orch_tz_lookup (const char *name);
/* The process's local zone ($TZ, else /etc/localtime, else UTC); reloaded
 * only after orch_tz_reset_local(). */
OrchTz *orch_tz_local (void);
/* Forgets the local zone (call when /etc/localtime or $TZ changed). */
void orch_tz_reset_local (void);
OrchTz *orch_tz_ref (OrchTz *tz);
void orch_tz_unref (OrchTz *tz);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchTz, orch_tz_unref)

/* systemd's rule for a time zone name in a calendar expression: sane
 * characters and an existing tzfile under /usr/share/zoneinfo. */
gboolean orch_tz_name_is_valid (const char *name);
/* The zone's abbreviations for standard and daylight time, as glibc's
 * tzname[0] and tzname[1] after tzset(). */
const char *orch_tz_std_name (const OrchTz *tz);
const char *orch_tz_dst_name (const OrchTz *tz);

/* localtime_r(): @t seconds since the epoch to local time; @tz NULL is UTC
 * (gmtime_r).  Returns the zone abbreviation in effect. */
const char *orch_tz_localtime (const OrchTz *tz, gint64 t, OrchTm *ret);
/* mktime() (timegm() for @tz NULL): normalizes @tm in place and returns
 * the time.  *guess carries glibc's memory of the last offset between
 * calls, which decides an ambiguous local time when tm->isdst is -1. */
gint64 orch_tz_mktime (const OrchTz *tz, OrchTm *tm, int *guess);

/* The instants whose local wall-clock time is @local (seconds, as if UTC):
 * returns 1 (ret[0]), 2 when the time exists twice (ascending), or 0 when
 * a forward jump skips it: then ret[0] is the instant of the jump and
 * ret[1] its length in seconds. */
int orch_tz_instants (const OrchTz *tz, gint64 local, gint64 ret[2]);

/* The first instant after @t where the offset or the DST flag changes;
 * FALSE if there is none. */
gboolean orch_tz_next_transition (const OrchTz *tz, gint64 t, gint64 *ret);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
gint64 orch_days_from_civil (gint64 y, int m, int d);
void orch_civil_from_days (gint64 z, int *y, int *m, int *d);

G_END_DECLS
