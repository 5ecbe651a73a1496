/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Interval calibration on the backtest's own errors; see the header. */
#include "config.h"

#include "orch-forecast-conformal.h"

#include <math.h>

/* The k-th smallest (0-based) of v[0..n), reordering v: Hoare's
 * selection, linear on average; a forecast scores thousands of points
 * and sorting them was a third of its cost. */
static double
select_kth (double *v, guint n, guint k)
{
  guint lo = 0, hi = n - 1;

  while (lo < hi)
    {
      double pivot = v[lo + (hi - lo) / 2];
      guint i = lo, j = hi;

      while (i <= j)
        {
          while (v[i] < pivot)
            i++;
          while (v[j] > pivot)
            j--;
          if (i <= j)
            {
              double t = v[i];

              v[i] = v[j];
              v[j] = t;
              i++;
              if (j == 0)
                break;
              j--;
            }
        }
      if (k <= j)
        hi = j;
      else if (k >= i)
        lo = i;
      else
        break;
    }
  return v[k];
}

double
orch_conformal_quantile (double *scores, guint n, double level)
{
  guint r = (guint) ceil ((n + 1) * level);

  if (n == 0 || r > n)
    return NAN;
  return select_kth (scores, n, MAX (r, 1) - 1);
}

void
orch_conformal_init (OrchConformal *c)
{
  c->scores = g_array_new (FALSE, FALSE, sizeof (double));
}

void
orch_conformal_clear (OrchConformal *c)
{
  g_clear_pointer (&c->scores, g_array_unref);
}

void
orch_conformal_add (OrchConformal *c, const double *f, const double *actual, const double *sd,
                    guint h)
{
  for (guint k = 0; k < h; k++)
    if (sd[k] > 0.0 && isfinite (f[k]))
      {
        double z = fabs (actual[k] - f[k]) / sd[k];

        g_array_append_val (c->scores, z);
      }
}

gboolean
orch_conformal_quantiles (OrchConformal *c, double *q80, double *q95)
{
  double *s = (double *) c->scores->data;
  guint n = c->scores->len, r80 = (guint) ceil ((n + 1) * 0.8);

  if (n < ORCH_CONFORMAL_MIN_SCORES)
    return FALSE;
  *q80 = orch_conformal_quantile (s, n, 0.8);
  /* The selection left everything above q80 after it: the 95 % rank is
   * among those. */
  *q95 = select_kth (s + r80, n - r80, (guint) ceil ((n + 1) * 0.95) - 1 - r80);
  return isfinite (*q80) && isfinite (*q95);
}
