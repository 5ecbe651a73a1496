/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The history ring before compression (orch-ring.c at 2da20ca, names
 * prefixed orch_ring_plain_): the reference the compressed ring is fuzzed
 * against, and the "before" of tests/bench/bench-ring.c. */
#include "ring-plain.h"

#include <math.h>
#include <string.h>

struct _OrchRingPlain {
  guint n_values;
  guint fine_capacity;
  guint coarse_capacity;
  guint coarse_step_s;
  gint64 coarse_step_us;
  gint64 newest_us;
  gboolean have_newest;

  /* A slot's fields lie together, so that a push touches a few cache
   * lines of one ring rather than one per array: with a ring per job,
   * pushes were a tenth of a tick's CPU, most of it cache misses. */

  /* fine tier: slot (fine_head + i) % fine_capacity is the i-th oldest;
   * a slot is { gint64 time; double values[n_values]; }, fine_stride
   * bytes */
  guint fine_head;
  guint fine_len;
  char *fine;
  gsize fine_stride;

  /* coarse tier: sums rather than averages, so buckets can be merged into
   * wider windows weighted by their samples; the newest slot is the
   * bucket still filling.  A slot is { gint64 start; double
   * sums[n_values]; } in one array and { guint32 nsamples (32 bits: 4e9
   * samples in one bucket is not a use); guint32 counts[n_values] (non-NaN
   * values); } in another, so that neither needs padding. */
  guint coarse_head;
  guint coarse_len;
  char *coarse;
  char *coarse_tally;

  /* fine samples pushed out while in bucket evict_bucket */
  gint64 evict_bucket;
  guint32 evict_nsamples;
  double *evict_sums;
  guint32 *evict_counts;

  /* the row being built by a query: queries need no allocation either,
   * but a ring is thus for one thread at a time */
  double *agg_sums;
  guint32 *agg_counts;
};

/* Slot @slot of a tier (ring->fine or ring->coarse, which have the same
 * shape): its time (a coarse bucket's start), then its values (sums). */
static inline gint64 *
slot_time (OrchRingPlain *ring, char *tier, guint slot)
{
  return (gint64 *) (void *) (tier + (gsize) slot * ring->fine_stride);
}

static inline double *
slot_values (OrchRingPlain *ring, char *tier, guint slot)
{
  return (double *) (void *) (slot_time (ring, tier, slot) + 1);
}

static inline guint32 *
coarse_nsamples (OrchRingPlain *ring, guint slot)
{
  return (guint32 *) (void *) (ring->coarse_tally +
                               (gsize) slot * (1 + ring->n_values) * sizeof (guint32));
}

static inline guint32 *
coarse_counts (OrchRingPlain *ring, guint slot)
{
  return coarse_nsamples (ring, slot) + 1;
}

typedef struct {
  gsize fine;
  gsize coarse;
  gsize coarse_tally;
  gsize evict_sums;
  gsize agg_sums;
  gsize evict_counts;
  gsize agg_counts;
  gsize total;
} Layout;

/* Appends an array of a * b elements of size elem at *pos. */
static gboolean
layout_take (gsize *pos, gsize *out, gsize a, gsize b, gsize elem)
{
  gsize n, bytes;

  if (!g_size_checked_mul (&n, a, b) || !g_size_checked_mul (&bytes, n, elem))
    return FALSE;
  *out = *pos;
  return g_size_checked_add (pos, *pos, bytes);
}

/* The one place sizes are computed, for orch_ring_plain_new() and
 * orch_ring_plain_memory_bytes() alike.  8-byte arrays come first and 4-byte
 * ones last, so no padding is ever needed (sizeof (OrchRingPlain) is a multiple
 * of 8 as it holds gint64s). */
static gboolean
layout_compute (guint n_values, guint fine_capacity, guint coarse_capacity, Layout *l)
{
  gsize pos = sizeof (OrchRingPlain), slot = (gsize) n_values + 1;

  G_STATIC_ASSERT (sizeof (OrchRingPlain) % 8 == 0);
  G_STATIC_ASSERT (sizeof (double) == 8 && sizeof (gint64) == 8);

  if (slot == 0 || !layout_take (&pos, &l->fine, fine_capacity, slot, sizeof (double)) ||
      !layout_take (&pos, &l->coarse, coarse_capacity, slot, sizeof (double)) ||
      !layout_take (&pos, &l->evict_sums, n_values, 1, sizeof (double)) ||
      !layout_take (&pos, &l->agg_sums, n_values, 1, sizeof (double)) ||
      !layout_take (&pos, &l->coarse_tally, coarse_capacity, slot, sizeof (guint32)) ||
      !layout_take (&pos, &l->evict_counts, n_values, 1, sizeof (guint32)) ||
      !layout_take (&pos, &l->agg_counts, n_values, 1, sizeof (guint32)))
    return FALSE;
  l->total = pos;
  return TRUE;
}

gsize
orch_ring_plain_memory_bytes (guint n_values, guint fine_capacity, guint coarse_capacity)
{
  Layout l;

  if (!layout_compute (n_values, fine_capacity, coarse_capacity, &l))
    return G_MAXSIZE;
  return l.total;
}

OrchRingPlain *
orch_ring_plain_new (guint n_values, guint fine_capacity, guint coarse_capacity,
                     guint coarse_step_s)
{
  Layout l;
  OrchRingPlain *ring;
  char *base;

  g_return_val_if_fail (coarse_capacity == 0 || coarse_step_s > 0, NULL);
  if (!layout_compute (n_values, fine_capacity, coarse_capacity, &l))
    g_return_val_if_reached (NULL);

  base = g_malloc0 (l.total);
  ring = (OrchRingPlain *) base;
  ring->n_values = n_values;
  ring->fine_capacity = fine_capacity;
  ring->coarse_capacity = coarse_capacity;
  ring->coarse_step_s = coarse_step_s;
  ring->coarse_step_us = (gint64) coarse_step_s * G_USEC_PER_SEC;
  ring->fine = base + l.fine;
  ring->fine_stride = ((gsize) n_values + 1) * sizeof (double);
  ring->coarse = base + l.coarse;
  ring->coarse_tally = base + l.coarse_tally;
  ring->evict_sums = (double *) (void *) (base + l.evict_sums);
  ring->agg_sums = (double *) (void *) (base + l.agg_sums);
  ring->evict_counts = (guint32 *) (void *) (base + l.evict_counts);
  ring->agg_counts = (guint32 *) (void *) (base + l.agg_counts);
  return ring;
}

void
orch_ring_plain_free (OrchRingPlain *ring)
{
  g_free (ring);
}

guint
orch_ring_plain_n_values (OrchRingPlain *ring)
{
  g_return_val_if_fail (ring != NULL, 0);
  return ring->n_values;
}

guint
orch_ring_plain_len (OrchRingPlain *ring)
{
  g_return_val_if_fail (ring != NULL, 0);
  return ring->fine_len;
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
evict_oldest_fine (OrchRingPlain *ring)
{
  guint slot = ring->fine_head;
  gint64 bucket;

  /* Without a coarse tier nothing can show the dropped part anyway. */
  if (ring->coarse_capacity == 0)
    return;
  bucket = align_down (*slot_time (ring, ring->fine, slot), ring->coarse_step_us);
  if (ring->evict_nsamples == 0 || ring->evict_bucket != bucket)
    {
      ring->evict_bucket = bucket;
      ring->evict_nsamples = 0;
      memset (ring->evict_sums, 0, ring->n_values * sizeof (double));
      memset (ring->evict_counts, 0, ring->n_values * sizeof (guint32));
    }
  ring->evict_nsamples++;
  accumulate (ring->evict_sums, ring->evict_counts, slot_values (ring, ring->fine, slot),
              ring->n_values);
}

static void
push_fine (OrchRingPlain *ring, gint64 time_us, const double *values)
{
  guint slot;

  if (ring->fine_len < ring->fine_capacity)
    slot = (ring->fine_head + ring->fine_len++) % ring->fine_capacity;
  else
    {
      evict_oldest_fine (ring);
      slot = ring->fine_head;
      ring->fine_head = (ring->fine_head + 1) % ring->fine_capacity;
    }
  *slot_time (ring, ring->fine, slot) = time_us;
  if (ring->n_values > 0)
    memcpy (slot_values (ring, ring->fine, slot), values, ring->n_values * sizeof (double));
}

static void
push_coarse (OrchRingPlain *ring, gint64 time_us, const double *values)
{
  gint64 bucket = align_down (time_us, ring->coarse_step_us);
  guint n = ring->n_values;
  guint slot = (ring->coarse_head + ring->coarse_len + ring->coarse_capacity - 1) %
               ring->coarse_capacity;

  if (ring->coarse_len == 0 || *slot_time (ring, ring->coarse, slot) != bucket)
    {
      if (ring->coarse_len < ring->coarse_capacity)
        slot = (ring->coarse_head + ring->coarse_len++) % ring->coarse_capacity;
      else
        {
          slot = ring->coarse_head;
          ring->coarse_head = (ring->coarse_head + 1) % ring->coarse_capacity;
        }
      *slot_time (ring, ring->coarse, slot) = bucket;
      *coarse_nsamples (ring, slot) = 0;
      memset (slot_values (ring, ring->coarse, slot), 0, n * sizeof (double));
      memset (coarse_counts (ring, slot), 0, n * sizeof (guint32));
    }
  (*coarse_nsamples (ring, slot))++;
  accumulate (slot_values (ring, ring->coarse, slot), coarse_counts (ring, slot), values, n);
}

gboolean
orch_ring_plain_push (OrchRingPlain *ring, gint64 time_us, const double *values)
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
orch_ring_plain_prefetch (OrchRingPlain *ring)
{
  if (ring->fine_capacity > 0)
    {
      guint slot = ring->fine_len < ring->fine_capacity
                       ? (ring->fine_head + ring->fine_len) % ring->fine_capacity
                       : ring->fine_head;
      __builtin_prefetch (slot_time (ring, ring->fine, slot), 1);
    }
  if (ring->coarse_capacity > 0 && ring->coarse_len > 0)
    {
      guint slot = (ring->coarse_head + ring->coarse_len - 1) % ring->coarse_capacity;
      __builtin_prefetch (slot_time (ring, ring->coarse, slot), 1);
      __builtin_prefetch (coarse_nsamples (ring, slot), 1);
    }
}

/* A query walks the held history once, oldest first, as a stream of
 * pieces (a coarse bucket, the dropped part of the seam bucket, a fine
 * sample), each with the time of the row it belongs to; consecutive
 * pieces with the same row time are summed into one row. */
typedef struct {
  OrchRingPlain *ring;
  gint64 since_us;
  gint64 step_us; /* 0 = every piece is its own row */
  gboolean open;
  gint64 row_us;
  guint n_rows; /* rows at or after since_us so far */
  guint skip;   /* leading rows not to output (limit) */
  GArray *out_times;
  GArray *out_values;
} Query;

static void
query_flush (Query *q)
{
  OrchRingPlain *ring = q->ring;
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
query_add (Query *q, gint64 row_us, const double *values, const guint32 *counts)
{
  OrchRingPlain *ring = q->ring;
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
        ring->agg_counts[j] += counts[j];
      }
}

static void
query_run (Query *q)
{
  OrchRingPlain *ring = q->ring;
  gint64 seam = G_MAXINT64;
  gboolean coarse_as_is = q->step_us == 0 || q->step_us < ring->coarse_step_us;

  if (ring->fine_len > 0 && ring->coarse_capacity > 0)
    seam = align_down (*slot_time (ring, ring->fine, ring->fine_head), ring->coarse_step_us);

  /* Buckets wholly older than the oldest fine sample, then the dropped
   * part of the one it lies in; newer buckets are all in the fine tier. */
  for (guint i = 0; i < ring->coarse_len; i++)
    {
      guint slot = (ring->coarse_head + i) % ring->coarse_capacity;
      gint64 start = *slot_time (ring, ring->coarse, slot);
      gint64 row_us = coarse_as_is ? start : align_down (start, q->step_us);

      if (start < seam)
        query_add (q, row_us, slot_values (ring, ring->coarse, slot), coarse_counts (ring, slot));
      else
        {
          if (start == seam && ring->evict_nsamples > 0 && ring->evict_bucket == seam)
            query_add (q, row_us, ring->evict_sums, ring->evict_counts);
          break;
        }
    }

  for (guint i = 0; i < ring->fine_len; i++)
    {
      guint slot = (ring->fine_head + i) % ring->fine_capacity;
      gint64 t = *slot_time (ring, ring->fine, slot);

      query_add (q, q->step_us == 0 ? t : align_down (t, q->step_us),
                 slot_values (ring, ring->fine, slot), NULL);
    }
  query_flush (q);
}

guint
orch_ring_plain_query (OrchRingPlain *ring, gint64 since_us, guint limit, guint step_s,
                       GArray *out_times, GArray *out_values)
{
  Query q = {
    0,
  };

  g_return_val_if_fail (ring != NULL, 0);
  g_return_val_if_fail (
      out_times == NULL || g_array_get_element_size (out_times) == sizeof (gint64), 0);
  g_return_val_if_fail (
      out_values == NULL || g_array_get_element_size (out_values) == sizeof (double), 0);

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
