/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A number a group's replicas publish as Prometheus text on a loopback
 * HTTP URL, fetched without blocking the main loop: one HTTP/1.0 GET at
 * a time, bounded in time and size, the newest good value kept. */
typedef struct _OrchScrape OrchScrape;

/* @url: http://127.0.0.1, [::1] or localhost, any port and path; anything
 * else is refused (InvalidArgument naming it).  @series: the metric name,
 * summed over its label sets (orch_prom_text_sum). */
OrchScrape *orch_scrape_new (const char *url, const char *series, GError **error);
/* Cancels a fetch under way. */
void orch_scrape_free (OrchScrape *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchScrape, orch_scrape_free)

/* Starts a fetch unless one is under way; it gives up after @timeout_ms. */
void orch_scrape_start (OrchScrape *s, guint timeout_ms);

/* The newest value fetched within @max_age_us (monotonic), or FALSE. */
gboolean orch_scrape_latest (OrchScrape *s, gint64 max_age_us, double *ret);

/* Why the last fetch failed, or NULL after a good one. */
const char *orch_scrape_error (OrchScrape *s);

/* The largest answer read; a longer one is an error. */
#define ORCH_SCRAPE_MAX_BYTES (256 * 1024)

G_END_DECLS
