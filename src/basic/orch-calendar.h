/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* systemd's OnCalendar= expressions (systemd.time(7)), as systemd 252
 * accepts, normalizes and evaluates them: the same expressions refused,
 * the same "Normalized form", the same elapse times, DST included (a local
 * time that does not exist is skipped, one that exists twice runs once). */
typedef struct _OrchCalendar OrchCalendar;

/* ORCH_ERROR_INVALID_ARGUMENT naming the field and the character position
 * of the problem.  A spec without a time zone follows the process's local
 * zone (orch_tz_local()) at each orch_calendar_next(). */
OrchCalendar *orch_calendar_parse (const char *text, GError **error);
void orch_calendar_free (OrchCalendar *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchCalendar, orch_calendar_free)

/* The first elapse strictly after @after_usec (µs since the epoch); FALSE
 * when there is none (a past date, a date that never comes, or past the
 * year 2199). */
gboolean orch_calendar_next (const OrchCalendar *c, gint64 after_usec, gint64 *ret_usec);

/* Whether the expression follows the local zone (it names none): such a
 * schedule's next elapse must be computed again when the host's zone
 * changes (after orch_tz_reset_local()). */
gboolean orch_calendar_uses_local_zone (const OrchCalendar *c);

/* systemd's "Normalized form", e.g. "Mon..Fri *-*-* 10:00:00 Europe/Madrid". */
char *orch_calendar_normalize (const OrchCalendar *c);

G_END_DECLS
