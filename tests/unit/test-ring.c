/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/orch-ring.h"

#include <math.h>
#include <string.h>

/* the ring before compression, as the reference */
#include "ring-plain.c"

#define S G_USEC_PER_SEC
/* 2026-11-27 22:00:00 UTC: a multiple of every step used here */
#define BASE (1795816800LL * S)

typedef struct {
  GArray *times;
  GArray *values;
} Rows;

static void
rows_init (Rows *r)
{
  r->times = g_array_new (FALSE, FALSE, sizeof (gint64));
  r->values = g_array_new (FALSE, FALSE, sizeof (double));
}

static void
rows_clear (Rows *r)
{
  g_clear_pointer (&r->times, g_array_unref);
  g_clear_pointer (&r->values, g_array_unref);
}

static guint
query (OrchRing *ring, Rows *r, gint64 since_us, guint limit, guint step_s)
{
  guint n;

  g_array_set_size (r->times, 0);
  g_array_set_size (r->values, 0);
  n = orch_ring_query (ring, since_us, limit, step_s, r->times, r->values);
  g_assert_cmpuint (r->times->len, ==, n);
  g_assert_cmpuint (r->values->len, ==, n * orch_ring_n_values (ring));
  return n;
}

#define T(r, i) g_array_index ((r)->times, gint64, (i))
#define V(r, nv, i, j) g_array_index ((r)->values, double, (gsize) (i) * (nv) + (j))

static void
assert_strictly_increasing (Rows *r)
{
  for (guint i = 1; i < r->times->len; i++)
    g_assert_cmpint (T (r, i - 1), <, T (r, i));
}

static void
push1 (OrchRing *ring, gint64 t, double v)
{
  g_assert_true (orch_ring_push (ring, t, &v));
}

static void
test_ring_fine_wrap (void)
{
  g_autoptr(OrchRing) ring = orch_ring_new (2, 10, 0, 0);
  Rows r;

  rows_init (&r);
  for (int i = 0; i < 30; i++)
    {
      double v[2] = { i, -i };
      g_assert_true (orch_ring_push (ring, BASE + i * S, v));
      g_assert_cmpuint (orch_ring_len (ring), ==, MIN (i + 1, 10));
    }
  g_assert_cmpuint (orch_ring_n_values (ring), ==, 2);
  g_assert_cmpuint (query (ring, &r, 0, 0, 0), ==, 10);
  for (guint i = 0; i < 10; i++)
    {
      g_assert_cmpint (T (&r, i), ==, BASE + (20 + i) * S);
      g_assert_cmpfloat (V (&r, 2, i, 0), ==, 20 + i);
      g_assert_cmpfloat (V (&r, 2, i, 1), ==, -(20.0 + i));
    }
  rows_clear (&r);
}

/* 1 Hz samples of value i for 10 minutes: bucket k averages 60k + 29.5. */
static void
test_ring_coarse_average (void)
{
  g_autoptr(OrchRing) coarse_only = orch_ring_new (1, 0, 20, 60);
  g_autoptr(OrchRing) both = orch_ring_new (1, 100, 20, 60);
  Rows r;

  rows_init (&r);
  for (int i = 0; i < 600; i++)
    {
      push1 (coarse_only, BASE + i * S, i);
      push1 (both, BASE + i * S, i);
    }

  g_assert_cmpuint (orch_ring_len (coarse_only), ==, 0);
  g_assert_cmpuint (query (coarse_only, &r, 0, 0, 0), ==, 10);
  for (guint k = 0; k < 10; k++)
    {
      g_assert_cmpint (T (&r, k), ==, BASE + k * 60 * S);
      g_assert_cmpfloat (V (&r, 1, k, 0), ==, 60 * k + 29.5);
    }

  /* The fine tier holds 500..599: buckets 0-7 whole, then bucket 8 shown
   * over its dropped samples 480..499 only, then the fine samples. */
  g_assert_cmpuint (query (both, &r, 0, 0, 0), ==, 8 + 1 + 100);
  for (guint k = 0; k < 8; k++)
    {
      g_assert_cmpint (T (&r, k), ==, BASE + k * 60 * S);
      g_assert_cmpfloat (V (&r, 1, k, 0), ==, 60 * k + 29.5);
    }
  g_assert_cmpint (T (&r, 8), ==, BASE + 480 * S);
  g_assert_cmpfloat (V (&r, 1, 8, 0), ==, 489.5);
  for (guint i = 0; i < 100; i++)
    {
      g_assert_cmpint (T (&r, 9 + i), ==, BASE + (500 + i) * S);
      g_assert_cmpfloat (V (&r, 1, 9 + i, 0), ==, 500 + i);
    }
  assert_strictly_increasing (&r);

  /* Averaged over the seam, every bucket is exact again. */
  g_assert_cmpuint (query (both, &r, 0, 0, 60), ==, 10);
  for (guint k = 0; k < 10; k++)
    {
      g_assert_cmpint (T (&r, k), ==, BASE + k * 60 * S);
      g_assert_cmpfloat (V (&r, 1, k, 0), ==, 60 * k + 29.5);
    }
  g_assert_cmpuint (query (both, &r, 0, 0, 120), ==, 5);
  for (guint k = 0; k < 5; k++)
    g_assert_cmpfloat (V (&r, 1, k, 0), ==, 120 * k + 59.5);
  rows_clear (&r);
}

/* The bucket still filling is visible right after start. */
static void
test_ring_pending_bucket (void)
{
  g_autoptr(OrchRing) ring = orch_ring_new (1, 100, 10, 60);
  g_autoptr(OrchRing) coarse_only = orch_ring_new (1, 0, 10, 60);
  Rows r;

  rows_init (&r);
  for (int i = 0; i < 3; i++)
    {
      push1 (ring, BASE + (10 + i) * S, 2 * i);
      push1 (coarse_only, BASE + (10 + i) * S, 2 * i);
    }
  g_assert_cmpuint (query (ring, &r, 0, 0, 60), ==, 1);
  g_assert_cmpint (T (&r, 0), ==, BASE);
  g_assert_cmpfloat (V (&r, 1, 0, 0), ==, 2.0);
  g_assert_cmpuint (query (coarse_only, &r, 0, 0, 0), ==, 1);
  g_assert_cmpint (T (&r, 0), ==, BASE);
  g_assert_cmpfloat (V (&r, 1, 0, 0), ==, 2.0);
  g_assert_cmpuint (query (coarse_only, &r, 0, 0, 60), ==, 1);
  g_assert_cmpfloat (V (&r, 1, 0, 0), ==, 2.0);
  rows_clear (&r);
}

static void
test_ring_nan (void)
{
  g_autoptr(OrchRing) ring = orch_ring_new (2, 4, 10, 10);
  Rows r;

  rows_init (&r);
  /* bucket 0: value 0 is 1, NaN, 3; value 1 all NaN */
  for (int i = 0; i < 3; i++)
    {
      double v[2] = { i == 1 ? NAN : i + 1, NAN };
      g_assert_true (orch_ring_push (ring, BASE + i * S, v));
    }
  /* bucket 1: value 0 all NaN; value 1 is 4, 6 */
  for (int i = 0; i < 2; i++)
    {
      double v[2] = { NAN, 4 + 2 * i };
      g_assert_true (orch_ring_push (ring, BASE + (10 + i) * S, v));
    }

  /* Fine rows keep NaN as is. */
  g_assert_cmpuint (query (ring, &r, BASE + 2 * S, 0, 0), ==, 3);
  g_assert_cmpfloat (V (&r, 2, 0, 0), ==, 3);
  g_assert_true (isnan (V (&r, 2, 0, 1)));
  g_assert_true (isnan (V (&r, 2, 1, 0)));

  g_assert_cmpuint (query (ring, &r, 0, 0, 10), ==, 2);
  g_assert_cmpfloat (V (&r, 2, 0, 0), ==, 2);
  g_assert_true (isnan (V (&r, 2, 0, 1)));
  g_assert_true (isnan (V (&r, 2, 1, 0)));
  g_assert_cmpfloat (V (&r, 2, 1, 1), ==, 5);

  /* Same from the coarse tier: push bucket 0 out of the fine tier. */
  for (int i = 0; i < 4; i++)
    {
      double v[2] = { 10, 10 };
      g_assert_true (orch_ring_push (ring, BASE + (20 + i) * S, v));
    }
  g_assert_cmpuint (query (ring, &r, 0, 0, 0), ==, 2 + 4);
  g_assert_cmpint (T (&r, 0), ==, BASE);
  g_assert_cmpfloat (V (&r, 2, 0, 0), ==, 2);
  g_assert_true (isnan (V (&r, 2, 0, 1)));
  g_assert_cmpint (T (&r, 1), ==, BASE + 10 * S);
  g_assert_true (isnan (V (&r, 2, 1, 0)));
  g_assert_cmpfloat (V (&r, 2, 1, 1), ==, 5);
  g_assert_cmpuint (query (ring, &r, 0, 0, 20), ==, 2);
  g_assert_cmpfloat (V (&r, 2, 0, 0), ==, 2);
  g_assert_cmpfloat (V (&r, 2, 0, 1), ==, 5);
  rows_clear (&r);
}

static void
test_ring_since (void)
{
  g_autoptr(OrchRing) ring = orch_ring_new (1, 10, 10, 60);
  Rows r;

  rows_init (&r);
  /* every 10 s for 3 minutes: fine holds 80..170 s, so bucket 60 shows
   * its dropped samples 60 and 70 s */
  for (int i = 0; i < 18; i++)
    push1 (ring, BASE + i * 10 * S, i);

  g_assert_cmpuint (query (ring, &r, 0, 0, 0), ==, 2 + 10);
  g_assert_cmpuint (query (ring, &r, BASE - 1, 0, 0), ==, 12);
  g_assert_cmpuint (query (ring, &r, BASE, 0, 0), ==, 12);
  /* a bucket starting before since is left out whole */
  g_assert_cmpuint (query (ring, &r, BASE + 1, 0, 0), ==, 11);
  g_assert_cmpint (T (&r, 0), ==, BASE + 60 * S);
  g_assert_cmpfloat (V (&r, 1, 0, 0), ==, 6.5);
  g_assert_cmpuint (query (ring, &r, BASE + 60 * S, 0, 0), ==, 11);
  g_assert_cmpuint (query (ring, &r, BASE + 60 * S + 1, 0, 0), ==, 10);
  g_assert_cmpint (T (&r, 0), ==, BASE + 80 * S);
  /* inside the fine tier: at, just after and past a sample */
  g_assert_cmpuint (query (ring, &r, BASE + 80 * S, 0, 0), ==, 10);
  g_assert_cmpuint (query (ring, &r, BASE + 80 * S + 1, 0, 0), ==, 9);
  g_assert_cmpint (T (&r, 0), ==, BASE + 90 * S);
  g_assert_cmpuint (query (ring, &r, BASE + 170 * S, 0, 0), ==, 1);
  g_assert_cmpfloat (V (&r, 1, 0, 0), ==, 17);
  g_assert_cmpuint (query (ring, &r, BASE + 170 * S + 1, 0, 0), ==, 0);
  /* averaged: window start against since */
  g_assert_cmpuint (query (ring, &r, BASE + 60 * S, 0, 60), ==, 2);
  g_assert_cmpuint (query (ring, &r, BASE + 60 * S + 1, 0, 60), ==, 1);
  g_assert_cmpfloat (V (&r, 1, 0, 0), ==, 14.5);
  rows_clear (&r);
}

static void
test_ring_limit (void)
{
  g_autoptr(OrchRing) ring = orch_ring_new (1, 10, 10, 60);
  Rows r;

  rows_init (&r);
  for (int i = 0; i < 18; i++)
    push1 (ring, BASE + i * 10 * S, i);

  g_assert_cmpuint (query (ring, &r, 0, 3, 0), ==, 3);
  g_assert_cmpint (T (&r, 0), ==, BASE + 150 * S);
  g_assert_cmpint (T (&r, 2), ==, BASE + 170 * S);
  g_assert_cmpfloat (V (&r, 1, 2, 0), ==, 17);
  /* reaching into the coarse tier */
  g_assert_cmpuint (query (ring, &r, 0, 11, 0), ==, 11);
  g_assert_cmpint (T (&r, 0), ==, BASE + 60 * S);
  g_assert_cmpfloat (V (&r, 1, 0, 0), ==, 6.5);
  g_assert_cmpuint (query (ring, &r, 0, 100, 0), ==, 12);
  g_assert_cmpuint (query (ring, &r, BASE + 130 * S, 100, 0), ==, 5);
  g_assert_cmpuint (query (ring, &r, BASE + 130 * S, 2, 0), ==, 2);
  g_assert_cmpint (T (&r, 0), ==, BASE + 160 * S);
  g_assert_cmpuint (query (ring, &r, 0, 1, 60), ==, 1);
  g_assert_cmpint (T (&r, 0), ==, BASE + 120 * S);
  g_assert_cmpfloat (V (&r, 1, 0, 0), ==, 14.5);

  /* appends, and NULL outputs just count */
  g_assert_cmpuint (orch_ring_query (ring, 0, 2, 0, r.times, r.values), ==, 2);
  g_assert_cmpuint (r.times->len, ==, 3);
  g_assert_cmpuint (orch_ring_query (ring, 0, 0, 0, NULL, NULL), ==, 12);
  rows_clear (&r);
}

/* Averaging across the seam: no time twice, every sample counted once. */
static void
test_ring_seam_step (void)
{
  g_autoptr(OrchRing) ring = orch_ring_new (1, 29, 50, 60);
  Rows r;
  double all_sum = 0;

  rows_init (&r);
  /* 1 sample every 4 s for 8 minutes; fine holds 364..476 s, so of
   * bucket 360 only the sample at 360 s was dropped */
  for (int i = 0; i < 120; i++)
    {
      push1 (ring, BASE + i * 4 * S, i);
      all_sum += i;
    }

  /* step 20 < 60: whole coarse buckets as they are, then bucket 360's
   * dropped part joined by the fine window 360 */
  g_assert_cmpuint (query (ring, &r, 0, 0, 20), ==, 6 + 1 + 5);
  assert_strictly_increasing (&r);
  for (guint k = 0; k < 6; k++)
    {
      g_assert_cmpint (T (&r, k), ==, BASE + k * 60 * S);
      g_assert_cmpfloat (V (&r, 1, k, 0), ==, 15 * k + 7);
    }
  g_assert_cmpint (T (&r, 6), ==, BASE + 360 * S);
  g_assert_cmpfloat (V (&r, 1, 6, 0), ==, 92);
  g_assert_cmpint (T (&r, 7), ==, BASE + 380 * S);
  g_assert_cmpint (T (&r, 11), ==, BASE + 460 * S);

  /* step 16: fine window 352 starts before bucket 360 and merges into its
   * row instead of going back in time */
  g_assert_cmpuint (query (ring, &r, 0, 0, 16), ==, 6 + 1 + 7);
  assert_strictly_increasing (&r);
  g_assert_cmpint (T (&r, 6), ==, BASE + 360 * S);
  g_assert_cmpfloat (V (&r, 1, 6, 0), ==, 90.5);
  g_assert_cmpint (T (&r, 7), ==, BASE + 368 * S);
  g_assert_cmpfloat (V (&r, 1, 7, 0), ==, 93.5);

  for (guint step = 60; step <= 240; step += 60)
    {
      guint n = query (ring, &r, 0, 0, step);
      double sum = 0;
      guint count = 0;

      g_assert_cmpuint (n, ==, (480 + step - 1) / step);
      assert_strictly_increasing (&r);
      for (guint k = 0; k < n; k++)
        {
          guint per = MIN (step / 4, 120 - k * step / 4);

          g_assert_cmpint (T (&r, k), ==, BASE + (gint64) k * step * S);
          sum += V (&r, 1, k, 0) * per;
          count += per;
        }
      g_assert_cmpuint (count, ==, 120);
      g_assert_cmpfloat (sum, ==, all_sum);
    }
  /* not a multiple of the coarse step: buckets go by their start */
  g_assert_cmpuint (query (ring, &r, 0, 0, 90), ==, 6);
  assert_strictly_increasing (&r);
  rows_clear (&r);
}

static void
test_ring_backwards (void)
{
  g_autoptr(OrchRing) ring = orch_ring_new (1, 10, 10, 60);
  double v = 1;

  g_assert_true (orch_ring_push (ring, BASE + 10 * S, &v));
  g_assert_false (orch_ring_push (ring, BASE + 10 * S - 1, &v));
  g_assert_false (orch_ring_push (ring, BASE - 100 * S, &v));
  g_assert_cmpuint (orch_ring_len (ring), ==, 1);
  g_assert_cmpuint (orch_ring_query (ring, 0, 0, 60, NULL, NULL), ==, 1);
  /* the same time again is not going back */
  g_assert_true (orch_ring_push (ring, BASE + 10 * S, &v));
  g_assert_cmpuint (orch_ring_len (ring), ==, 2);
}

/* Buckets align by floor, so times before the epoch work too; since 0
 * still means everything. */
static void
test_ring_before_epoch (void)
{
  g_autoptr(OrchRing) ring = orch_ring_new (1, 0, 10, 60);
  Rows r;

  rows_init (&r);
  push1 (ring, -61 * S, 1);
  push1 (ring, -59 * S, 2);
  push1 (ring, -1, 3);
  push1 (ring, 0, 4);
  g_assert_cmpuint (query (ring, &r, 0, 0, 0), ==, 3);
  g_assert_cmpint (T (&r, 0), ==, -120 * S);
  g_assert_cmpint (T (&r, 1), ==, -60 * S);
  g_assert_cmpfloat (V (&r, 1, 1, 0), ==, 2.5);
  g_assert_cmpint (T (&r, 2), ==, 0);
  rows_clear (&r);
}

static void
test_ring_memory (void)
{
  const guint sizes[][3] = {
    { 1, 0, 0 }, { 4, 3600, 0 }, { 4, 0, 1440 },  { 6, 600, 1440 },
    { 0, 7, 3 }, { 3, 1, 1 },    { 5, 300, 288 },
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      guint n = sizes[i][0], fine = sizes[i][1], coarse = sizes[i][2];
      gsize bound = orch_ring_memory_bytes (n, fine, coarse);
      g_autoptr(OrchRing) ring = orch_ring_new (n, fine, coarse, 60);
      double v[6];
      gint64 t = BASE;

      /* incompressible figures and times, past full in both tiers */
      for (guint k = 0; k < 2 * (fine + coarse * 60) + 10; k += 60)
        {
          for (guint j = 0; j < n; j++)
            {
              guint64 b = ((guint64) g_rand_int (rand) << 32) | g_rand_int (rand);

              memcpy (&v[j], &b, sizeof b);
            }
          t += g_rand_int_range (rand, 1, 120 * S);
          g_assert_true (orch_ring_push (ring, t, v));
          g_assert_cmpuint (orch_ring_bytes (ring), <=, bound);
        }
    }
  g_assert_cmpuint (orch_ring_memory_bytes (G_MAXUINT, G_MAXUINT, G_MAXUINT), ==, G_MAXSIZE);
}

/* The compressed ring against the plain one it replaced: the same pushes
 * give the same rows, bit for bit, for figures like a sampler's
 * (repeating, drifting, noisy, NaN) at irregular times. */
static void
test_ring_plain_fuzz (void)
{
  const guint configs[][4] = {
    { 5, 300, 288, 300 }, { 13, 3600, 1440, 60 }, { 2, 121, 3, 10 }, { 1, 1, 2, 5 },
    { 3, 0, 130, 10 },    { 4, 250, 0, 0 },       { 2, 7, 1, 60 },
  };
  const guint steps[] = { 0, 0, 1, 10, 60, 300, 3600 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261203);
  Rows got, want;

  rows_init (&got);
  rows_init (&want);
  for (gsize c = 0; c < G_N_ELEMENTS (configs); c++)
    {
      guint nv = configs[c][0];
      g_autoptr(OrchRing) ring = orch_ring_new (nv, configs[c][1], configs[c][2], configs[c][3]);
      OrchRingPlain *plain = orch_ring_plain_new (nv, configs[c][1], configs[c][2], configs[c][3]);
      double v[13] = {
        0,
      };
      gint64 t = BASE + g_rand_int_range (rand, 0, 1000) * S;

      for (guint n = 0; n < 9000; n++)
        {
          guint r = g_rand_int_range (rand, 0, 100);

          if (r < 80)
            t += S + g_rand_int_range (rand, -5000, 5000);
          else if (r < 85)
            ;
          else if (r < 97)
            t += g_rand_int_range (rand, 0, 30 * S);
          else
            t += (gint64) g_rand_int_range (rand, 1, 20) * 600 * S;
          for (guint j = 0; j < nv; j++)
            switch ((j + n / 500) % 4)
              {
              case 0: /* mostly unchanged */
                if (g_rand_int_range (rand, 0, 20) == 0)
                  v[j] = (double) g_rand_int_range (rand, 0, 1 << 20) * 4096;
                break;
              case 1: /* noisy */
                v[j] = g_rand_double (rand) * 3.7;
                break;
              case 2: /* sometimes unknown */
                v[j] = g_rand_int_range (rand, 0, 3) == 0 ? NAN
                                                          : g_rand_double_range (rand, -1e9, 1e9);
                break;
              default: /* a counter */
                v[j] += (double) g_rand_int_range (rand, 0, 100000);
                break;
              }
          g_assert_true (orch_ring_push (ring, t, v) == orch_ring_plain_push (plain, t, v));
          g_assert_cmpuint (orch_ring_len (ring), ==, orch_ring_plain_len (plain));
          if (n % 211 == 0 || n == 8999)
            {
              guint step = steps[g_rand_int_range (rand, 0, G_N_ELEMENTS (steps))];
              guint limit = g_rand_boolean (rand) ? 0 : g_rand_int_range (rand, 1, 400);
              gint64 since = g_rand_boolean (rand)
                                 ? 0
                                 : t - g_rand_int_range (rand, 0, 20000) * (gint64) S;
              guint ng;

              ng = query (ring, &got, since, limit, step);
              g_array_set_size (want.times, 0);
              g_array_set_size (want.values, 0);
              g_assert_cmpuint (
                  ng, ==,
                  orch_ring_plain_query (plain, since, limit, step, want.times, want.values));
              g_assert_cmpmem (got.times->data, got.times->len * sizeof (gint64), want.times->data,
                               want.times->len * sizeof (gint64));
              g_assert_cmpmem (got.values->data, got.values->len * sizeof (double),
                               want.values->data, want.values->len * sizeof (double));
            }
        }
      orch_ring_plain_free (plain);
    }
  rows_clear (&got);
  rows_clear (&want);
}

static void
test_ring_zero_capacity (void)
{
  g_autoptr(OrchRing) coarse_only = orch_ring_new (1, 0, 5, 10);
  g_autoptr(OrchRing) fine_only = orch_ring_new (1, 5, 0, 0);
  g_autoptr(OrchRing) none = orch_ring_new (1, 0, 0, 0);
  Rows r;

  rows_init (&r);
  for (int i = 0; i < 100; i++)
    {
      push1 (coarse_only, BASE + i * S, i);
      push1 (fine_only, BASE + i * S, i);
      push1 (none, BASE + i * S, i);
    }
  g_assert_cmpuint (orch_ring_len (coarse_only), ==, 0);
  g_assert_cmpuint (query (coarse_only, &r, 0, 0, 0), ==, 5);
  g_assert_cmpint (T (&r, 0), ==, BASE + 50 * S);
  g_assert_cmpfloat (V (&r, 1, 0, 0), ==, 54.5);
  g_assert_cmpuint (query (coarse_only, &r, 0, 0, 1), ==, 5);
  g_assert_cmpuint (query (coarse_only, &r, 0, 0, 20), ==, 3);
  g_assert_cmpfloat (V (&r, 1, 0, 0), ==, 54.5);
  g_assert_cmpfloat (V (&r, 1, 1, 0), ==, 69.5);

  g_assert_cmpuint (orch_ring_len (fine_only), ==, 5);
  g_assert_cmpuint (query (fine_only, &r, 0, 0, 0), ==, 5);
  g_assert_cmpint (T (&r, 0), ==, BASE + 95 * S);
  g_assert_cmpuint (query (fine_only, &r, 0, 0, 2), ==, 3);
  g_assert_cmpint (T (&r, 0), ==, BASE + 94 * S);
  g_assert_cmpfloat (V (&r, 1, 0, 0), ==, 95);
  g_assert_cmpfloat (V (&r, 1, 1, 0), ==, 96.5);

  g_assert_cmpuint (orch_ring_len (none), ==, 0);
  g_assert_cmpuint (query (none, &r, 0, 0, 0), ==, 0);
  g_assert_cmpuint (query (none, &r, 0, 0, 10), ==, 0);
  rows_clear (&r);
}

/* Reference: every accepted sample kept; what the ring holds and how it
 * is grouped derived from scratch for each query. */

#define MAX_NV 3

typedef struct {
  gint64 t;
  double v[MAX_NV];
} Sample;

static gint64
floor_to (gint64 t, gint64 step)
{
  gint64 r = t % step;

  return r < 0 ? t - r - step : t - r;
}

static void
ref_row (GArray *times, GArray *values, guint nv, gint64 key,
         const Sample *samples, guint from, guint to)
{
  g_array_append_val (times, key);
  for (guint j = 0; j < nv; j++)
    {
      double sum = 0, mean;
      guint count = 0;

      for (guint i = from; i < to; i++)
        if (!isnan (samples[i].v[j]))
          {
            sum += samples[i].v[j];
            count++;
          }
      mean = count > 0 ? sum / count : NAN;
      g_array_append_val (values, mean);
    }
}

static void
ref_query (GArray *all, guint nv, guint fine_cap, guint coarse_cap, guint coarse_step_s,
           gint64 since_us, guint limit, guint step_s, Rows *out)
{
  const Sample *s = (const Sample *) (void *) all->data;
  guint total = all->len;
  guint fine_start = total > fine_cap ? total - fine_cap : 0;
  gint64 cstep = (gint64) coarse_step_s * S, step = (gint64) step_s * S;
  gint64 oldest_bucket = G_MAXINT64;
  guint held_from = fine_start;
  g_autofree gint64 *keys = g_new (gint64, total + 1);
  g_autoptr(GArray) times = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (double));
  guint first;

  /* the coarse tier holds the last coarse_cap distinct buckets */
  if (coarse_cap > 0 && total > 0)
    {
      guint distinct = 0;
      gint64 prev = 0;

      for (guint i = total; i-- > 0;)
        {
          gint64 b = floor_to (s[i].t, cstep);

          if (distinct == 0 || b != prev)
            {
              if (distinct == coarse_cap)
                break;
              distinct++;
              prev = b;
              oldest_bucket = b;
            }
        }
      while (held_from > 0 && floor_to (s[held_from - 1].t, cstep) >= oldest_bucket)
        held_from--;
    }

  /* keys: samples before fine_start go by bucket, fine ones by window */
  for (guint i = held_from; i < total; i++)
    {
      if (i < fine_start)
        {
          gint64 b = floor_to (s[i].t, cstep);
          keys[i] = step == 0 || step < cstep ? b : floor_to (b, step);
        }
      else if (step == 0)
        keys[i] = s[i].t;
      else
        {
          keys[i] = floor_to (s[i].t, step);
          if (i > held_from && keys[i] < keys[i - 1])
            keys[i] = keys[i - 1];
        }
    }

  for (guint i = held_from; i < total;)
    {
      guint j = i + 1;

      /* raw fine samples are rows of their own when step is 0 */
      if (!(step == 0 && i >= fine_start))
        while (j < total && keys[j] == keys[i] && !(step == 0 && j >= fine_start))
          j++;
      if (since_us == 0 || keys[i] >= since_us)
        ref_row (times, values, nv, keys[i], s, i, j);
      i = j;
    }

  first = limit > 0 && times->len > limit ? times->len - limit : 0;
  g_array_set_size (out->times, 0);
  g_array_set_size (out->values, 0);
  g_array_append_vals (out->times, &g_array_index (times, gint64, first), times->len - first);
  g_array_append_vals (out->values, &g_array_index (values, double, (gsize) first * nv),
                       (times->len - first) * nv);
}

static void
assert_rows_equal (Rows *a, Rows *b, guint nv)
{
  g_assert_cmpuint (a->times->len, ==, b->times->len);
  for (guint i = 0; i < a->times->len; i++)
    {
      g_assert_cmpint (T (a, i), ==, T (b, i));
      for (guint j = 0; j < nv; j++)
        {
          double x = V (a, nv, i, j), y = V (b, nv, i, j);

          if (isnan (x) || isnan (y))
            g_assert_true (isnan (x) && isnan (y));
          else
            g_assert_cmpfloat (x, ==, y);
        }
    }
}

static void
random_run (GRand *rand, guint nv, guint fine_cap, guint coarse_cap, guint coarse_step_s)
{
  g_autoptr(OrchRing) ring = orch_ring_new (nv, fine_cap, coarse_cap, coarse_step_s);
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (Sample));
  const guint steps[] = { 0, 0, 1, 7, coarse_step_s / 2, coarse_step_s, coarse_step_s + 7,
                          2 * coarse_step_s, 3 * coarse_step_s, 60 };
  gint64 t = BASE + g_rand_int_range (rand, 0, 1000000);
  Rows got, want;

  rows_init (&got);
  rows_init (&want);
  for (guint n = 0; n < 10000; n++)
    {
      Sample smp = { 0, };
      guint r = g_rand_int_range (rand, 0, 100);

      /* mostly about 1 Hz, some equal times, gaps and long outages */
      if (r >= 97 && all->len > 0)
        {
          g_assert_false (orch_ring_push (ring, t - g_rand_int_range (rand, 1, 5000000), smp.v));
          continue;
        }
      if (r < 70)
        t += S + g_rand_int_range (rand, -200000, 200000);
      else if (r < 78)
        ;
      else if (r < 93)
        t += g_rand_int_range (rand, 0, 3 * MAX (coarse_step_s, 1) * 1000) * 1000LL;
      else
        t += (gint64) g_rand_int_range (rand, 1, 50) * MAX (coarse_step_s, 1) * S;
      smp.t = t;
      for (guint j = 0; j < nv; j++)
        /* multiples of 1/8: sums stay exact, so results must match bit for bit */
        smp.v[j] = g_rand_int_range (rand, 0, 10) == 0 ? NAN
                                                      : g_rand_int_range (rand, -8000, 8000) / 8.0;

      g_assert_true (orch_ring_push (ring, t, smp.v));
      g_array_append_val (all, smp);
      g_assert_cmpuint (orch_ring_len (ring), ==, MIN (all->len, fine_cap));

      if (n % 97 == 0 || n == 9999)
        {
          const Sample *s = (const Sample *) (void *) all->data;
          guint step = steps[g_rand_int_range (rand, 0, G_N_ELEMENTS (steps))];
          guint limit = g_rand_boolean (rand) ? 0 : g_rand_int_range (rand, 1, 40);
          gint64 since = 0;

          /* since at a held time, one off it, a window start, or before all */
          switch (g_rand_int_range (rand, 0, 5))
            {
            case 0:
              break;
            case 1:
              since = s[g_rand_int_range (rand, 0, all->len)].t;
              break;
            case 2:
              since = s[g_rand_int_range (rand, 0, all->len)].t + g_rand_int_range (rand, -1, 2);
              break;
            case 3:
              since = floor_to (s[g_rand_int_range (rand, 0, all->len)].t, MAX (coarse_step_s, 1) * S);
              break;
            default:
              since = s[0].t - 1;
              break;
            }
          query (ring, &got, since, limit, step);
          ref_query (all, nv, fine_cap, coarse_cap, coarse_step_s, since, limit, step, &want);
          assert_rows_equal (&got, &want, nv);
          if (step > 0)
            assert_strictly_increasing (&got);
        }
    }
  rows_clear (&got);
  rows_clear (&want);
}

static void
test_ring_random (void)
{
  const guint configs[][4] = {
    /* n_values, fine, coarse, coarse_step_s */
    { 3, 50, 20, 10 },
    { 2, 0, 30, 10 },
    { 2, 64, 0, 0 },
    { 1, 500, 4, 10 },   /* fine reaches further back than coarse */
    { 1, 1, 1, 5 },
    { 2, 37, 11, 60 },
  };
  /* a fixed seed rather than g_test_rand_*(), which reseeds every run */
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261127);

  for (gsize i = 0; i < G_N_ELEMENTS (configs); i++)
    random_run (rand, configs[i][0], configs[i][1], configs[i][2], configs[i][3]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ring/fine-wrap", test_ring_fine_wrap);
  g_test_add_func ("/ring/coarse-average", test_ring_coarse_average);
  g_test_add_func ("/ring/pending-bucket", test_ring_pending_bucket);
  g_test_add_func ("/ring/nan", test_ring_nan);
  g_test_add_func ("/ring/since", test_ring_since);
  g_test_add_func ("/ring/limit", test_ring_limit);
  g_test_add_func ("/ring/seam-step", test_ring_seam_step);
  g_test_add_func ("/ring/backwards", test_ring_backwards);
  g_test_add_func ("/ring/before-epoch", test_ring_before_epoch);
  g_test_add_func ("/ring/memory", test_ring_memory);
  g_test_add_func ("/ring/zero-capacity", test_ring_zero_capacity);
  g_test_add_func ("/ring/random", test_ring_random);
  g_test_add_func ("/ring/plain-fuzz", test_ring_plain_fuzz);
  return g_test_run ();
}
