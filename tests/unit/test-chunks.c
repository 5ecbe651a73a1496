/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "basic/orch-chunks.h"

#include <math.h>
#include <string.h>

#define S G_USEC_PER_SEC
#define BASE (1795816800LL * S)

typedef struct {
  gint64 t;
  double v[4];
} Rec;

/* What the FIFO gives back must be the last min(len, capacity) records
 * pushed, bit for bit. */
static void
assert_holds (OrchChunks *c, const Rec *recs, guint n_pushed, guint width, guint capacity)
{
  guint want = MIN (n_pushed, capacity), i = n_pushed - want;
  OrchChunksIter it;
  gint64 t;
  double v[4];

  g_assert_cmpuint (orch_chunks_len (c), ==, want);
  if (want > 0)
    {
      g_assert_true (orch_chunks_oldest (c, &t, v));
      g_assert_cmpint (t, ==, recs[i].t);
      g_assert_cmpmem (v, width * sizeof (double), recs[i].v, width * sizeof (double));
    }
  else
    g_assert_false (orch_chunks_oldest (c, &t, v));

  orch_chunks_iter_init (c, &it);
  for (; orch_chunks_iter_next (&it, &t, v); i++)
    {
      g_assert_cmpuint (i, <, n_pushed);
      g_assert_cmpint (t, ==, recs[i].t);
      g_assert_cmpmem (v, width * sizeof (double), recs[i].v, width * sizeof (double));
    }
  g_assert_cmpuint (i, ==, n_pushed);
}

static double
bits_to_double (guint64 b)
{
  double d;

  memcpy (&d, &b, sizeof d);
  return d;
}

/* Special values: NaNs with payloads and signs, infinities, -0.0,
 * denormals, extremes; and times far apart in both directions. */
static void
test_chunks_special (void)
{
  const double specials[] = {
    0.0,
    -0.0,
    NAN,
    -NAN,
    INFINITY,
    -INFINITY,
    bits_to_double (0x7ff8dead0000beefULL),
    bits_to_double (0x7ff0000000000001ULL),
    bits_to_double (1),
    DBL_MAX,
    -DBL_MAX,
    DBL_MIN,
    1.0,
    1.0,
    1.0,
    0.1,
    1e300,
    -3.5,
  };
  const gint64 times[] = {
    BASE,
    BASE,
    BASE + 1,
    BASE + S,
    BASE + 2 * S,
    G_MAXINT64,
    G_MININT64,
    0,
    -1,
    BASE - 1000 * S,
    BASE + 8191,
    BASE + 8191 * 2 + 1,
    BASE + (1LL << 40),
    5,
    6,
    7,
    9,
    20,
  };
  guint n = G_N_ELEMENTS (specials);
  g_autoptr(OrchChunks) c = orch_chunks_new (3, 1000);
  Rec recs[G_N_ELEMENTS (specials)];

  G_STATIC_ASSERT (G_N_ELEMENTS (times) == G_N_ELEMENTS (specials));
  for (guint i = 0; i < n; i++)
    {
      recs[i].t = times[i];
      recs[i].v[0] = specials[i];
      recs[i].v[1] = specials[(i * 7 + 3) % n];
      recs[i].v[2] = i % 3 == 0 ? specials[i] : 42.0;
      orch_chunks_push (c, recs[i].t, recs[i].v);
      assert_holds (c, recs, i + 1, 3, 1000);
    }
}

/* Steady 1 s sampling with jitter, repeated values, long enough to fill
 * and wrap several chunks; checks every capacity around a chunk. */
static void
test_chunks_wrap (void)
{
  const guint caps[] = { 1, 2, 119, 120, 121, 240, 300, 1000 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261203);
  guint n = 1500;
  g_autofree Rec *recs = g_new0 (Rec, n);
  gint64 t = BASE;

  for (guint i = 0; i < n; i++)
    {
      t += S + g_rand_int_range (rand, -3000, 3000);
      if (i % 200 == 199)
        t += 3600LL * S; /* an outage */
      recs[i].t = t;
      recs[i].v[0] = i % 50 < 45 ? 0.0 : g_rand_double (rand) * 100;
      recs[i].v[1] = (double) (4096 * (1000 + i / 100));
      recs[i].v[2] = NAN;
      recs[i].v[3] = (double) (i / 300);
    }
  for (gsize k = 0; k < G_N_ELEMENTS (caps); k++)
    {
      g_autoptr(OrchChunks) c = orch_chunks_new (4, caps[k]);

      for (guint i = 0; i < n; i++)
        {
          orch_chunks_push (c, recs[i].t, recs[i].v);
          if (i % 37 == 0 || i == n - 1 || i < 3)
            assert_holds (c, recs, i + 1, 4, caps[k]);
        }
    }
}

/* Random bits in every field against a plain array. */
static void
test_chunks_fuzz (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);

  for (guint round = 0; round < 20; round++)
    {
      guint width = g_rand_int_range (rand, 0, 5);
      guint cap = g_rand_int_range (rand, 0, 400);
      guint n = g_rand_int_range (rand, 0, 1200);
      g_autofree Rec *recs = g_new0 (Rec, MAX (n, 1));
      g_autoptr(OrchChunks) c = orch_chunks_new (width, cap);
      gint64 t = (gint64) g_rand_int (rand) << 20;

      for (guint i = 0; i < n; i++)
        {
          switch (g_rand_int_range (rand, 0, 4))
            {
            case 0:
              t += S;
              break;
            case 1:
              t += g_rand_int_range (rand, -100000, 100000);
              break;
            case 2:
              t = (gint64) (((guint64) g_rand_int (rand) << 32) | g_rand_int (rand));
              break;
            default:
              break;
            }
          recs[i].t = t;
          for (guint j = 0; j < width; j++)
            {
              guint64 b = ((guint64) g_rand_int (rand) << 32) | g_rand_int (rand);

              if (i > 0 && g_rand_boolean (rand))
                /* a few low or high bits flipped: the window paths */
                b = (memcpy (&b, &recs[i - 1].v[j], 8),
                     b ^ ((guint64) g_rand_int_range (rand, 1, 256)
                          << g_rand_int_range (rand, 0, 57)));
              memcpy (&recs[i].v[j], &b, 8);
            }
          orch_chunks_push (c, recs[i].t, recs[i].v);
          if (g_rand_int_range (rand, 0, 50) == 0)
            assert_holds (c, recs, i + 1, width, cap);
        }
      assert_holds (c, recs, n, width, cap);
      if (cap > 0 && n > 0)
        {
          orch_chunks_drop_oldest (c);
          g_assert_cmpuint (orch_chunks_len (c), ==, MIN (n, cap) - 1);
        }
    }
}

/* What a sleeping job's history costs: unchanged figures at a steady
 * rate cost about the timestamp's jitter and a bit a value. */
static void
test_chunks_size (void)
{
  g_autoptr(OrchChunks) c = orch_chunks_new (5, 300);
  g_autoptr(GRand) rand = g_rand_new_with_seed (1);
  double v[5] = { 0.0, 135168.0, 0.0, 0.0, 1.0 };
  gint64 t = BASE;

  for (guint i = 0; i < 300; i++)
    {
      t += S + g_rand_int_range (rand, -2000, 2000);
      orch_chunks_push (c, t, v);
    }
  /* 300 samples of 48 bytes plain: 14 400 bytes */
  g_assert_cmpuint (orch_chunks_bytes (c), <, 1800);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/chunks/special", test_chunks_special);
  g_test_add_func ("/chunks/wrap", test_chunks_wrap);
  g_test_add_func ("/chunks/fuzz", test_chunks_fuzz);
  g_test_add_func ("/chunks/size", test_chunks_size);
  return g_test_run ();
}
