/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Five-field crontab(5) expressions with Vixie cron's meaning: names
 * (jan..dec, sun..sat), ranges, steps, lists, "*", the @yearly/@annually/
 * @monthly/@weekly/@daily/@midnight/@hourly macros, and the day rule: when
 * both day-of-month and day-of-week are restricted (neither starts with
 * "*"), a day matches if either does.
 *
 * DST as Vixie cron: a job at a fixed hour and minute whose time does not
 * exist that day runs when the clock jumps over it, and runs once when the
 * time exists twice; a job with "*" in its minute or hour field runs at the
 * times that exist, as often as they come. */
typedef struct _OrchCron OrchCron;

/* @zone: an IANA zone name, or NULL for the process's local zone
 * (followed at each orch_cron_next()).  ORCH_ERROR_INVALID_ARGUMENT names
 * the field and the character position of the problem. */
OrchCron *orch_cron_parse (const char *text, const char *zone, GError **error);
void orch_cron_free (OrchCron *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchCron, orch_cron_free)

/* The first run strictly after @after_usec (µs since the epoch), always on
 * a whole minute; FALSE if the expression can never match (31 February). */
gboolean orch_cron_next (const OrchCron *c, gint64 after_usec, gint64 *ret_usec);

/* Whether the expression was parsed without a zone and so follows the
 * local one (see orch_calendar_uses_local_zone()). */
gboolean orch_cron_uses_local_zone (const OrchCron *c);

/* The expression with macros expanded and blanks collapsed, e.g.
 * "0 0 * * 0" for "@weekly", with " ZONE" when one was given. */
char *orch_cron_normalize (const OrchCron *c);

G_END_DECLS
