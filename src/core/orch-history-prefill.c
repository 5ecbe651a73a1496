/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "orch-history-prefill.h"

#include <math.h>

gboolean
orch_history_prefill_enabled (void)
{
  static int enabled = -1;

  if (enabled < 0)
    enabled = g_getenv ("ORCH_TEST_HISTORY_PREFILL") != NULL;
  return enabled;
}

void
orch_history_prefill (OrchRing *ring, gint64 time_us, const double *values, guint n,
                      guint interval_ms, guint depth_s, gboolean vary)
{
  g_autoptr(GRand) rand = NULL;
  g_autofree double *v = NULL;
  gint64 step_us = (gint64) MAX (interval_ms, 1u) * 1000;
  gint64 count, t0;

  if (!orch_history_prefill_enabled () || orch_ring_len (ring) > 0 || n == 0)
    return;
  rand = g_rand_new_with_seed ((guint32) time_us);
  v = g_memdup2 (values, n * sizeof *values);
  count = (gint64) depth_s * 1000000 / step_us;
  t0 = time_us - count * step_us;
  for (gint64 k = 0; k < count; k++)
    {
      /* The sampler's timer fires a little late, by a varying amount. */
      gint64 t = t0 + k * step_us + g_rand_int_range (rand, 0, 2000);

      if (vary)
        {
          for (guint i = 0; i < n; i++)
            if (isfinite (values[i]) && values[i] != 0)
              v[i] = values[i] * (1.0 + (g_rand_double (rand) - 0.5) / 100.0);
        }
      else
        v[0] = g_rand_int_range (rand, 0, 600) == 0 ? g_rand_double_range (rand, 0.1, 2.0)
                                                    : values[0];
      orch_ring_push (ring, t, v);
    }
}
