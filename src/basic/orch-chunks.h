/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A bounded FIFO of records (a time in microseconds and `width` doubles),
 * held compressed the way Gorilla and the Prometheus TSDB chunks do it:
 * delta-of-delta times and XOR-encoded values, in chunks of
 * ORCH_CHUNK_RECORDS records appended bit by bit.  Regular times and
 * unchanged values cost a bit each.  Reads give back the exact bits that
 * were pushed (NaN payloads, infinities, -0.0 included).
 *
 * At most `capacity` records are held: a push to a full FIFO drops the
 * oldest first.  A chunk is freed once all its records are dropped, so up
 * to one chunk of dropped records may still take memory.  Not
 * thread-safe: reads use scratch space in the FIFO. */
typedef struct _OrchChunks OrchChunks;

#define ORCH_CHUNK_RECORDS 120

OrchChunks *orch_chunks_new (guint width, guint capacity);
void orch_chunks_free (OrchChunks *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrchChunks, orch_chunks_free)

guint orch_chunks_len (OrchChunks *c);

/* Appends; drops the oldest record first when full.  Times may go in any
 * order (they are encoded, not checked).  A no-op with capacity 0. */
void orch_chunks_push (OrchChunks *c, gint64 time_us, const double *values);

/* The oldest record (FALSE when empty); values may be NULL.  O(width). */
gboolean orch_chunks_oldest (OrchChunks *c, gint64 *time_us, double *values);

/* Drops the oldest record, if any.  O(width). */
void orch_chunks_drop_oldest (OrchChunks *c);

/* Bytes held on the heap: the FIFO, its chunks and their slack. */
gsize orch_chunks_bytes (OrchChunks *c);

/* Hints the CPU at what the next push writes. */
void orch_chunks_prefetch (OrchChunks *c);

/* Reads the records oldest first.  One iteration at a time per FIFO, with
 * no push in between. */
typedef struct {
  OrchChunks *c;
  guint chunk;     /* index from the oldest chunk */
  guint idx;       /* records of that chunk decoded */
  guint32 pos;     /* bit position in that chunk */
  guint remaining; /* records still to return */
  gboolean fresh;  /* the scratch state holds the next record already */
} OrchChunksIter;

void orch_chunks_iter_init (OrchChunks *c, OrchChunksIter *it);
gboolean orch_chunks_iter_next (OrchChunksIter *it, gint64 *time_us, double *values);

G_END_DECLS
