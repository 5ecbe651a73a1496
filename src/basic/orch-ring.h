/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Metrics history of one subject (the system, a job, a pid): a fine tier
 * keeping every sample and a coarse tier of per-bucket sums, both
 * fixed-size rings, so memory depends on configuration, never on uptime.
 *
 * Every accepted sample goes to both tiers.  The newest coarse bucket is
 * the one still filling; it counts against coarse_capacity and queries see
 * it averaged so far.  A fine sample pushed out of the fine ring is kept,
 * summed, while its bucket is the one the oldest fine sample lies in, so
 * queries can show the dropped part of that bucket without counting the
 * fine samples twice.  Not thread-safe: even queries use scratch space in
 * the ring.
 *
 * Both tiers are held compressed (orch-chunks.h: delta-of-delta times,
 * XOR-encoded values, chunks of 120 records dropped whole), so what a
 * ring takes depends on how much its figures move: a sleeping job's
 * history costs ~2-4 bytes a sample instead of 8 a value. */
typedef struct _OrchRing OrchRing;

/* n_values doubles per sample.  fine_capacity samples kept at full rate;
 * coarse_capacity averaged buckets of coarse_step_s seconds each (aligned
 * to multiples of coarse_step_s since the epoch).  Memory grows with the
 * history held, up to orch_ring_memory_bytes().  fine_capacity 0 = coarse only; coarse_capacity 0 =
 * fine only (coarse_step_s is then ignored, otherwise it must be > 0). */
OrchRing *orch_ring_new (guint n_values,
                         guint fine_capacity,
                         guint coarse_capacity,
                         guint coarse_step_s);
void orch_ring_free (OrchRing *ring);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchRing, orch_ring_free)

/* The most bytes a full ring of these sizes can take on the heap (not
 * counting malloc's own overhead), with figures that do not compress at
 * all; G_MAXSIZE when that does not fit in a gsize. */
gsize orch_ring_memory_bytes (guint n_values, guint fine_capacity, guint coarse_capacity);

/* The bytes @ring takes on the heap now, the same way. */
gsize orch_ring_bytes (OrchRing *ring);

/* Appends a sample; time_us is microseconds since the epoch and must not
 * go backwards (a sample older than the newest is dropped, returns FALSE;
 * one as old as the newest is kept).  NaN values mean "unknown" and are
 * left out of averages (a bucket whose values were all NaN stays NaN).
 * O(n_values); allocates only when a chunk grows or starts. */
gboolean orch_ring_push (OrchRing *ring, gint64 time_us, const double *values);

/* Asks the CPU to fetch what the next push will write, for a caller that
 * has other work to do before it pushes: pushing to many rings in turn
 * is mostly cache misses. */
void orch_ring_prefetch (OrchRing *ring);

guint orch_ring_n_values (OrchRing *ring);
guint orch_ring_len (OrchRing *ring);   /* fine samples held */

/* Query: rows with time >= since_us (0 = from the oldest held).
 *
 * step_s = 0: the fine samples if they reach back to since_us, else the
 * coarse buckets older than the oldest fine sample followed by the fine
 * samples (seamless: no overlap, no gap beyond what was dropped).  The
 * bucket holding the oldest fine sample shows up, at its start, averaged
 * over its dropped samples only, when it had any.
 *
 * step_s > 0: rows averaged into step_s windows aligned like the coarse
 * tier, built from the fine tier where it covers the window and the
 * coarse tier before; every held sample counts once, so a window is the
 * plain mean of its samples.  A coarse bucket goes to the window its start
 * falls in.  step_s smaller than coarse_step_s over coarse-only history
 * returns the coarse buckets as they are; at the seam the first fine
 * windows merge into the row of that bucket rather than repeat its time.
 *
 * since_us compares with the row's time, the window or bucket start for
 * averaged rows: a window starting before since_us is left out whole.
 * limit > 0 keeps only the newest `limit` rows.  Rows are oldest first,
 * times strictly increasing except for samples pushed with equal times.
 * Rows are appended: out_times gets gint64 (bucket start for averaged
 * rows), out_values gets n_values doubles per row; either may be NULL.
 * Returns rows. */
guint orch_ring_query (OrchRing *ring,
                       gint64 since_us,
                       guint limit,
                       guint step_s,
                       GArray *out_times,
                       GArray *out_values);

G_END_DECLS
