/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The answers of the reads that are asked most and change least often
 * (the job list, a job, the system's figures, the Prometheus text),
 * kept until orchestratord says something changed.  Nothing in them
 * changes but on a change the daemon announces (a job's state, its
 * limits: JobChanged and the rest) or on a sampling tick (SystemSampled,
 * sent once the whole tick is done), so an answer stays exact until the
 * next signal: the server drops everything on any signal of the daemon's
 * (a new generation), on any write of its own and when its connection
 * goes.  Each answer also has a bounded age, in case signals stop
 * arriving (a bus policy that withholds them).
 *
 * Concurrent misses of one key share one call: the first request asks,
 * the others wait for its answer (a tick would otherwise send every
 * client that was waiting to the daemon at once).
 *
 * Issue 15: with 200 jobs, building /jobs/ cost the shim 3.3 ms and the
 * daemon 1.7 ms of CPU per request. */
typedef struct _OrchRestCache OrchRestCache;

OrchRestCache *orch_rest_cache_new (guint max_entries, gsize max_bytes, gint64 max_age_us);
void orch_rest_cache_free (OrchRestCache *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchRestCache, orch_rest_cache_free)

/* Changes on every invalidation; an answer fetched under one generation
 * is stored only while it is still the current one. */
guint64 orch_rest_cache_generation (const OrchRestCache *self);

/* Something changed: every answer and every shared fetch is dropped
 * (waiters stay with their fetch, which still answers them). */
void orch_rest_cache_invalidate (OrchRestCache *self);

/* The body stored under @key (a new reference) and its content type
 * (valid while the entry is), or NULL. */
GBytes *orch_rest_cache_lookup (OrchRestCache *self, const char *key, gint64 now_us,
                                const char **ret_content_type);

/* Keeps @body for @key if @generation is still the current one and it
 * fits the bounds (the oldest answers make room).  FALSE when not kept. */
gboolean orch_rest_cache_store (OrchRestCache *self, const char *key, guint64 generation,
                                gint64 now_us, const char *content_type, GBytes *body);

/* A fetch of @key under way in this generation: @waiter is added to it
 * and TRUE returned.  Else @leader becomes that fetch (FALSE), and must
 * call orch_rest_cache_fetched() when it has its answer. */
gboolean orch_rest_cache_join (OrchRestCache *self, const char *key, gpointer leader_or_waiter);

/* @leader's fetch of @key is over: its waiters, in arrival order (a new
 * array, maybe empty), to be answered as @leader was. */
GPtrArray *orch_rest_cache_fetched (OrchRestCache *self, const char *key, gpointer leader);

G_END_DECLS
