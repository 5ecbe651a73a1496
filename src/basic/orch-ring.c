/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "orch-ring.h"

#include "orch-chunks.h"

#include <math.h>
#include <string.h>

struct _OrchRing {
  guint n_values;
  guint fine_capacity;
  guint coarse_capacity;
  guint coarse_step_s;
  gint64 coarse_step_us;
  gint64 newest_us;
  gboolean have_newest;

  /* Both tiers are compressed FIFOs (orch-chunks.h): a sampler's figures
   * mostly repeat or move a little, so history costs ~1-3 bytes a sample
   * rather than 8 a value.  Fine records are { time; values[n_values] }. */
  OrchChunks *fine;

  /* Coarse tier: sums rather than averages, so buckets can be merged into
   * wider windows weighted by their samples.  The closed buckets are
   * records { start; nsamples; sums[n_values]; counts[n_values] (non-NaN
   * values) } in a FIFO of coarse_capacity - 1; the bucket still filling
   * is kept as it is here, and counts against coarse_capacity. */
  OrchChunks *coarse;
  gboolean open_used;
  gint64 open_start;
  double *open; /* nsamples, sums, counts: a coarse record */

  /* fine samples pushed out while in bucket evict_bucket */
  gint64 evict_bucket;
  guint32 evict_nsamples;
  double *evict_sums;
  double *evict_counts; /* like a coarse record's */

  /* the row being built by a query, and records read back: queries need
   * no allocation either, but a ring is thus for one thread at a time */
  double *agg_sums;
  guint32 *agg_counts;
  double *row; /* a fine or coarse record's values */
};

/* The values of a coarse record: nsamples, then n sums, then n counts. */
#define COARSE_WIDTH(n) (1 + 2 * (gsize) (n))

gsize
orch_ring_memory_bytes (guint n_values, guint fine_capacity, guint coarse_capacity)
{
  /* Incompressible data: a record costs its bits in full plus the codec's
   * tags (68 bits of time, 78 a value at most), chunk slack and the three
   * codec states of each FIFO.  A bound, not what a ring takes. */
  gsize n = n_values, fine_rec, coarse_rec, bytes;

  if (n_values > 4096)
    return G_MAXSIZE;
  fine_rec = (68 + 78 * n + 7) / 8;
  coarse_rec = (68 + 78 * COARSE_WIDTH (n) + 7) / 8;
  if (fine_capacity > G_MAXSIZE / 4 / fine_rec || coarse_capacity > G_MAXSIZE / 4 / coarse_rec)
    return G_MAXSIZE;
  bytes = sizeof (OrchRing) + (3 * COARSE_WIDTH (n) + n) * 8 + n * 8;
  bytes += ((gsize) fine_capacity + ORCH_CHUNK_RECORDS + 1) * fine_rec + 4096 + 30 * n +
           ((gsize) fine_capacity / ORCH_CHUNK_RECORDS + 2) * 64;
  bytes += ((gsize) coarse_capacity + ORCH_CHUNK_RECORDS + 1) * coarse_rec + 4096 +
           30 * COARSE_WIDTH (n) + ((gsize) coarse_capacity / ORCH_CHUNK_RECORDS + 2) * 64;
  return bytes;
}

OrchRing *
orch_ring_new (guint n_values, guint fine_capacity, guint coarse_capacity, guint coarse_step_s)
{
  gsize n = n_values;
  OrchRing *ring;
  char *p;

  g_return_val_if_fail (coarse_capacity == 0 || coarse_step_s > 0, NULL);
  g_return_val_if_fail (n_values <= 2000, NULL);

  /* doubles: open, evict sums and counts, agg_sums, row; then guint32s */
  p = g_malloc0 (sizeof (OrchRing) + (COARSE_WIDTH (n) + 4 * n + COARSE_WIDTH (n)) * 8 +
                 n * sizeof (guint32));
  ring = (OrchRing *) (void *) p;
  p += sizeof (OrchRing);
  ring->n_values = n_values;
  ring->fine_capacity = fine_capacity;
  ring->coarse_capacity = coarse_capacity;
  ring->coarse_step_s = coarse_step_s;
  ring->coarse_step_us = (gint64) coarse_step_s * G_USEC_PER_SEC;
  ring->open = (double *) (void *) p;
  p += COARSE_WIDTH (n) * 8;
  ring->evict_sums = (double *) (void *) p;
  p += n * 8;
  ring->agg_sums = (double *) (void *) p;
  p += n * 8;
  ring->row = (double *) (void *) p;
  p += (COARSE_WIDTH (n) + n) * 8;
  ring->evict_counts = (double *) (void *) p;
  p += n * 8;
  ring->agg_counts = (guint32 *) (void *) p;
  ring->fine = orch_chunks_new (n_values, fine_capacity);
  ring->coarse = orch_chunks_new (COARSE_WIDTH (n), coarse_capacity > 0 ? coarse_capacity - 1 : 0);
  return ring;
}

void
orch_ring_free (OrchRing *ring)
{
  if (ring == NULL)
    return;
  orch_chunks_free (ring->fine);
  orch_chunks_free (ring->coarse);
  g_free (ring);
}

gsize
orch_ring_bytes (OrchRing *ring)
{
  gsize n = ring->n_values;

  return sizeof (OrchRing) + (COARSE_WIDTH (n) + 4 * n + COARSE_WIDTH (n)) * 8 +
         n * sizeof (guint32) + orch_chunks_bytes (ring->fine) + orch_chunks_bytes (ring->coarse);
}

guint
orch_ring_n_values (OrchRing *ring)
{
  g_return_val_if_fail (ring != NULL, 0);
  return ring->n_values;
}

guint
orch_ring_len (OrchRing *ring)
{
  g_return_val_if_fail (ring != NULL, 0);
  return orch_chunks_len (ring->fine);
}

/* Floor, not truncation, so times before the epoch align too. */
static gint64
align_down (gint64 t, gint64 step)
{
  gint64 r = t % step;

  return r < 0 ? t - r - step : t - r;
}

static void
accumulate (double *sums, guint32 *counts, const double *values, guint n)
{
  for (guint j = 0; j < n; j++)
    if (!isnan (values[j]))
      {
        sums[j] += values[j];
        counts[j]++;
      }
}

static void
evict_oldest_fine (OrchRing *ring)
{
  gint64 t, bucket;

  /* Without a coarse tier nothing can show the dropped part anyway. */
  if (ring->coarse_capacity == 0 || !orch_chunks_oldest (ring->fine, &t, ring->row))
    return;
  bucket = align_down (t, ring->coarse_step_us);
  if (ring->evict_nsamples == 0 || ring->evict_bucket != bucket)
    {
      ring->evict_bucket = bucket;
      ring->evict_nsamples = 0;
      memset (ring->evict_sums, 0, ring->n_values * sizeof (double));
      memset (ring->evict_counts, 0, ring->n_values * sizeof (double));
    }
  ring->evict_nsamples++;
  for (guint j = 0; j < ring->n_values; j++)
    if (!isnan (ring->row[j]))
      {
        ring->evict_sums[j] += ring->row[j];
        ring->evict_counts[j] += 1;
      }
}

static void
push_fine (OrchRing *ring, gint64 time_us, const double *values)
{
  if (orch_chunks_len (ring->fine) == ring->fine_capacity)
    {
      evict_oldest_fine (ring);
      orch_chunks_drop_oldest (ring->fine);
    }
  orch_chunks_push (ring->fine, time_us, values);
}

static void
push_coarse (OrchRing *ring, gint64 time_us, const double *values)
{
  gint64 bucket = align_down (time_us, ring->coarse_step_us);
  guint n = ring->n_values;
  double *sums = ring->open + 1, *counts = ring->open + 1 + n;

  if (!ring->open_used || ring->open_start != bucket)
    {
      /* Closed buckets go to the FIFO, which drops its oldest when full
       * (with coarse_capacity 1 it holds none). */
      if (ring->open_used)
        orch_chunks_push (ring->coarse, ring->open_start, ring->open);
      ring->open_used = TRUE;
      ring->open_start = bucket;
      memset (ring->open, 0, COARSE_WIDTH (n) * sizeof (double));
    }
  ring->open[0] += 1;
  for (guint j = 0; j < n; j++)
    if (!isnan (values[j]))
      {
        sums[j] += values[j];
        counts[j] += 1;
      }
}

gboolean
orch_ring_push (OrchRing *ring, gint64 time_us, const double *values)
{
  g_return_val_if_fail (ring != NULL, FALSE);
  g_return_val_if_fail (values != NULL || ring->n_values == 0, FALSE);

  if (ring->have_newest && time_us < ring->newest_us)
    return FALSE;
  ring->have_newest = TRUE;
  ring->newest_us = time_us;
  if (ring->fine_capacity > 0)
    push_fine (ring, time_us, values);
  if (ring->coarse_capacity > 0)
    push_coarse (ring, time_us, values);
  return TRUE;
}

void
orch_ring_prefetch (OrchRing *ring)
{
  orch_chunks_prefetch (ring->fine);
  __builtin_prefetch (ring->open, 1);
}

/* A query walks the held history once, oldest first, as a stream of
 * pieces (a coarse bucket, the dropped part of the seam bucket, a fine
 * sample), each with the time of the row it belongs to; consecutive
 * pieces with the same row time are summed into one row. */
typedef struct {
  OrchRing *ring;
  gint64 since_us;
  gint64 step_us;           /* 0 = every piece is its own row */
  gboolean open;
  gint64 row_us;
  guint n_rows;             /* rows at or after since_us so far */
  guint skip;               /* leading rows not to output (limit) */
  GArray *out_times;
  GArray *out_values;
} Query;

static void
query_flush (Query *q)
{
  OrchRing *ring = q->ring;
  guint n = ring->n_values;

  if (!q->open)
    return;
  q->open = FALSE;
  if (q->row_us < q->since_us)
    return;
  if (q->n_rows++ < q->skip)
    return;
  if (q->out_times != NULL)
    g_array_append_val (q->out_times, q->row_us);
  if (q->out_values != NULL && n > 0)
    {
      guint at = q->out_values->len;
      double *dst;

      g_array_set_size (q->out_values, at + n);
      dst = &g_array_index (q->out_values, double, at);
      for (guint j = 0; j < n; j++)
        dst[j] = ring->agg_counts[j] > 0 ? ring->agg_sums[j] / ring->agg_counts[j] : NAN;
    }
}

/* @counts NULL: @values is one raw sample. */
static void
query_add (Query *q, gint64 row_us, const double *values, const double *counts)
{
  OrchRing *ring = q->ring;
  guint n = ring->n_values;

  /* Never step back: a fine window starting before the seam bucket it
   * overlaps joins that bucket's row. */
  if (q->open && row_us < q->row_us)
    row_us = q->row_us;
  if (!q->open || row_us != q->row_us || q->step_us == 0)
    {
      query_flush (q);
      q->open = TRUE;
      q->row_us = row_us;
      memset (ring->agg_sums, 0, n * sizeof (double));
      memset (ring->agg_counts, 0, n * sizeof (guint32));
    }
  if (counts == NULL)
    accumulate (ring->agg_sums, ring->agg_counts, values, n);
  else
    for (guint j = 0; j < n; j++)
      {
        ring->agg_sums[j] += values[j];
        ring->agg_counts[j] += (guint32) counts[j];
      }
}

static void
query_run (Query *q)
{
  OrchRing *ring = q->ring;
  gint64 seam = G_MAXINT64;
  gboolean coarse_as_is = q->step_us == 0 || q->step_us < ring->coarse_step_us;

  OrchChunksIter it;
  gint64 t;
  guint n = ring->n_values;

  if (ring->coarse_capacity > 0 && orch_chunks_oldest (ring->fine, &t, NULL))
    seam = align_down (t, ring->coarse_step_us);

  /* Buckets wholly older than the oldest fine sample, then the dropped
   * part of the one it lies in; newer buckets are all in the fine tier.
   * The closed buckets, then the one filling. */
  if (ring->coarse_capacity > 0)
    {
      gboolean done = FALSE;

      orch_chunks_iter_init (ring->coarse, &it);
      while (!done)
        {
          gint64 start;
          const double *rec = ring->row;

          if (!orch_chunks_iter_next (&it, &start, ring->row))
            {
              if (!ring->open_used)
                break;
              start = ring->open_start;
              rec = ring->open;
              done = TRUE;
            }
          if (start < seam)
            query_add (q, coarse_as_is ? start : align_down (start, q->step_us), rec + 1,
                       rec + 1 + n);
          else
            {
              if (start == seam && ring->evict_nsamples > 0 && ring->evict_bucket == seam)
                query_add (q, coarse_as_is ? start : align_down (start, q->step_us),
                           ring->evict_sums, ring->evict_counts);
              break;
            }
        }
    }

  orch_chunks_iter_init (ring->fine, &it);
  while (orch_chunks_iter_next (&it, &t, ring->row))
    query_add (q, q->step_us == 0 ? t : align_down (t, q->step_us), ring->row, NULL);
  query_flush (q);
}

guint
orch_ring_query (OrchRing *ring,
                 gint64 since_us,
                 guint limit,
                 guint step_s,
                 GArray *out_times,
                 GArray *out_values)
{
  Query q = { 0, };

  g_return_val_if_fail (ring != NULL, 0);
  g_return_val_if_fail (out_times == NULL ||
                        g_array_get_element_size (out_times) == sizeof (gint64), 0);
  g_return_val_if_fail (out_values == NULL ||
                        g_array_get_element_size (out_values) == sizeof (double), 0);

  q.ring = ring;
  q.since_us = since_us == 0 ? G_MININT64 : since_us;
  q.step_us = (gint64) step_s * G_USEC_PER_SEC;

  /* The newest rows are only known at the end: count first, then output
   * from the right row on, rather than building rows to throw away. */
  if (limit > 0)
    {
      query_run (&q);
      q.skip = q.n_rows > limit ? q.n_rows - limit : 0;
      q.n_rows = 0;
    }
  q.out_times = out_times;
  q.out_values = out_values;
  query_run (&q);
  return q.n_rows - q.skip;
}
