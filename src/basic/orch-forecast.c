/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exponential smoothing, baselines, period detection and the backtest
 * that picks among them; see orch-forecast.h for the model. */
#include "config.h"

#include "orch-forecast.h"
#include "orch-forecast-conformal.h"

#include <math.h>
#include <string.h>

static const char *const method_names[ORCH_FORECAST_N_METHODS] = {
  [ORCH_FORECAST_NAIVE] = "naive",
  [ORCH_FORECAST_SEASONAL_NAIVE] = "seasonal-naive",
  [ORCH_FORECAST_MOVING_AVERAGE] = "moving-average",
  [ORCH_FORECAST_HOLT_DAMPED] = "holt-damped",
  [ORCH_FORECAST_HOLT_WINTERS] = "holt-winters",
  [ORCH_FORECAST_SEASONAL_MEAN] = "seasonal-mean",
  [ORCH_FORECAST_COMBINED] = "combination",
};

const char *
orch_forecast_method_name (OrchForecastMethod m)
{
  return m < ORCH_FORECAST_N_METHODS ? method_names[m] : "unknown";
}

/* Holt-Winters smoother */

double
orch_holt_filter (const double *y, guint n, const OrchHoltParams *p, double *fitted,
                  OrchHoltState *end)
{
  guint m = p->period, si = 0;
  double l = p->level0, b = p->trend ? p->trend0 : 0.0;
  double phi = p->trend ? p->phi : 0.0, alpha = p->alpha, beta = p->beta, gamma = p->gamma;
  double season[ORCH_FORECAST_MAX_PERIOD];
  double sse = 0.0;

  if (m == 0 && fitted == NULL)
    {
      /* The fit's hot loop: no season, nothing kept. */
      for (guint t = 0; t < n; t++)
        {
          double base = l + phi * b, e = y[t] - base;
          double l_new = alpha * y[t] + (1.0 - alpha) * base;

          sse += e * e;
          b = beta * (l_new - l) + (1.0 - beta) * phi * b;
          l = l_new;
        }
    }
  else
    {
      if (m > 0)
        memcpy (season, p->season0, m * sizeof (double));
      for (guint t = 0; t < n; t++)
        {
          double s = m > 0 ? season[si] : 0.0;
          double base = l + phi * b; /* l_{t-1} + phi b_{t-1} */
          double yhat = base + s;
          double e = y[t] - yhat;
          double l_new;

          if (fitted)
            fitted[t] = yhat;
          sse += e * e;
          l_new = alpha * (y[t] - s) + (1.0 - alpha) * base;
          b = beta * (l_new - l) + (1.0 - beta) * phi * b;
          if (m > 0)
            {
              season[si] = gamma * (y[t] - base) + (1.0 - gamma) * s;
              if (++si == m)
                si = 0;
            }
          l = l_new;
        }
    }
  if (!p->trend)
    b = 0.0;
  if (end)
    {
      end->level = l;
      end->trend = b;
      end->t = n;
      if (m > 0)
        memcpy (end->season, season, m * sizeof (double));
    }
  return sse;
}

void
orch_holt_forecast (const OrchHoltParams *p, const OrchHoltState *s, guint h, double *out)
{
  double damp = 0.0, pk = 1.0;

  for (guint k = 1; k <= h; k++)
    {
      double v = s->level;

      if (p->trend)
        {
          pk *= p->phi;
          damp += pk;
          v += damp * s->trend;
        }
      if (p->period > 0)
        v += s->season[(s->t + k - 1) % p->period];
      out[k - 1] = v;
    }
}

void
orch_holt_variance (const OrchHoltParams *p, double sigma2, guint h, double *var)
{
  double acc = 0.0, damp = 0.0, pk = 1.0;

  for (guint k = 1; k <= h; k++)
    {
      var[k - 1] = sigma2 * (1.0 + acc);
      /* c_k, used from step k + 1 on. */
      {
        double c = p->alpha;

        if (p->trend)
          {
            pk *= p->phi;
            damp += pk;
            c += p->alpha * p->beta * damp;
          }
        if (p->period > 0 && k % p->period == 0)
          c += p->gamma;
        acc += c * c;
      }
    }
}

void
orch_holt_init_states (const double *y, guint n, OrchHoltParams *p)
{
  guint m = p->period;

  if (m > 0 && n >= 2 * m)
    {
      double a = 0.0, c = 0.0;

      for (guint i = 0; i < m; i++)
        {
          a += y[i];
          c += y[m + i];
        }
      a /= m;
      c /= m;
      p->level0 = a;
      p->trend0 = (c - a) / m;
      for (guint i = 0; i < m; i++)
        p->season0[i] = y[i] - a;
    }
  else if (n >= 2)
    {
      /* Least squares over the first points: y1 - y0 alone is mostly
       * noise on a sampled series. */
      guint k = MIN (n, 10);
      double st = 0.0, sy = 0.0, stt = 0.0, sty = 0.0;

      for (guint i = 0; i < k; i++)
        {
          st += i;
          sy += y[i];
          stt += (double) i * i;
          sty += i * y[i];
        }
      p->trend0 = (k * sty - st * sy) / (k * stt - st * st);
      p->level0 = (sy - p->trend0 * st) / k - p->trend0; /* one step before y0 */
    }
  else
    p->level0 = n > 0 ? y[0] : 0.0;
  if (!p->trend)
    p->trend0 = 0.0;
}

/* Nelder-Mead over unconstrained x, mapped into the box by a logistic. */

#define LO 1e-4
#define HI 0.9999
#define PHI_LO 0.8
#define PHI_HI 1.0
#define NM_MAX_DIM 4

typedef struct {
  const double *y;
  guint n;
  OrchHoltParams *p;
  gboolean damped;
} FitCtx;

static double
squash (double x, double lo, double hi)
{
  return lo + (hi - lo) / (1.0 + exp (-x));
}

static double
unsquash (double v, double lo, double hi)
{
  double u = (v - lo) / (hi - lo);

  u = CLAMP (u, 1e-6, 1.0 - 1e-6);
  return log (u / (1.0 - u));
}

/* The smoothing parameters of one point of the search. */
typedef struct {
  double alpha, beta, phi, gamma;
} Lane;

static void
ctx_lane (const FitCtx *c, const double *x, Lane *l)
{
  guint i = 0;

  l->alpha = squash (x[i++], LO, HI);
  l->beta = c->p->beta;
  l->phi = c->p->phi;
  l->gamma = c->p->gamma;
  if (c->p->trend)
    {
      l->beta = squash (x[i++], LO, HI);
      l->phi = c->damped ? squash (x[i++], PHI_LO, PHI_HI) : 1.0;
    }
  if (c->p->period > 0)
    l->gamma = squash (x[i++], LO, HI * (1.0 - l->alpha));
}

static void
ctx_apply (FitCtx *c, const double *x)
{
  Lane l;

  ctx_lane (c, x, &l);
  c->p->alpha = l.alpha;
  c->p->beta = l.beta;
  c->p->phi = l.phi;
  c->p->gamma = l.gamma;
}

/* The filter's sum of squared errors for up to N_LANES points of the
 * search at once.  One run is a chain of dependent multiplies and adds
 * (each step waits for the last level and trend), so the CPU sits idle
 * most of each step; N_LANES independent chains side by side take about
 * the time of one.  The same operations in the same order as
 * orch_holt_filter(), so the same sums to the bit. */
#define N_LANES 4

static void
ctx_eval_lanes (const FitCtx *c, const double (*x)[NM_MAX_DIM], guint k, double *out)
{
  const OrchHoltParams *p = c->p;
  const double *y = c->y;
  guint m = p->period, si = 0;
  double l[N_LANES], b[N_LANES], phi[N_LANES], al[N_LANES], be[N_LANES], ga[N_LANES];
  double sse[N_LANES];
  double season[N_LANES][ORCH_FORECAST_MAX_PERIOD];

  g_assert (k >= 1 && k <= N_LANES);
  for (guint j = 0; j < N_LANES; j++)
    {
      Lane lane;

      /* Spare lanes repeat the last point: their sums are not used. */
      ctx_lane (c, x[MIN (j, k - 1)], &lane);
      l[j] = p->level0;
      b[j] = p->trend ? p->trend0 : 0.0;
      phi[j] = p->trend ? lane.phi : 0.0;
      al[j] = lane.alpha;
      be[j] = lane.beta;
      ga[j] = lane.gamma;
      sse[j] = 0.0;
      if (m > 0)
        memcpy (season[j], p->season0, m * sizeof (double));
    }
  /* Unrolled, so that each lane's level and trend stay in registers. */
  if (m == 0)
    for (guint t = 0; t < c->n; t++)
#pragma GCC unroll 4
      for (guint j = 0; j < N_LANES; j++)
        {
          double base = l[j] + phi[j] * b[j], e = y[t] - base;
          double l_new = al[j] * y[t] + (1.0 - al[j]) * base;

          sse[j] += e * e;
          b[j] = be[j] * (l_new - l[j]) + (1.0 - be[j]) * phi[j] * b[j];
          l[j] = l_new;
        }
  else
    for (guint t = 0; t < c->n; t++)
      {
#pragma GCC unroll 4
        for (guint j = 0; j < N_LANES; j++)
          {
            double s = season[j][si];
            double base = l[j] + phi[j] * b[j];
            double yhat = base + s;
            double e = y[t] - yhat;
            double l_new;

            sse[j] += e * e;
            l_new = al[j] * (y[t] - s) + (1.0 - al[j]) * base;
            b[j] = be[j] * (l_new - l[j]) + (1.0 - be[j]) * phi[j] * b[j];
            season[j][si] = ga[j] * (y[t] - base) + (1.0 - ga[j]) * s;
            l[j] = l_new;
          }
        if (++si == m)
          si = 0;
      }
  for (guint j = 0; j < k; j++)
    out[j] = sse[j];
}

/* @n points of @x (in place), their sums into @f. */
static void
ctx_eval_many (const FitCtx *c, double (*x)[NM_MAX_DIM], guint n, double *f)
{
  for (guint i = 0; i < n; i += N_LANES)
    ctx_eval_lanes (c, (const double (*)[NM_MAX_DIM]) x + i, MIN (N_LANES, n - i), f + i);
}

static guint
ctx_dim (FitCtx *c)
{
  return 1 + (c->p->trend ? (c->damped ? 2 : 1) : 0) + (c->p->period > 0 ? 1 : 0);
}

static void
ctx_start (FitCtx *c, double alpha, double beta, double phi, double gamma, double *x)
{
  guint i = 0;

  x[i++] = unsquash (alpha, LO, HI);
  if (c->p->trend)
    {
      x[i++] = unsquash (beta, LO, HI);
      if (c->damped)
        x[i++] = unsquash (phi, PHI_LO, PHI_HI);
    }
  if (c->p->period > 0)
    x[i++] = unsquash (gamma, LO, HI * (1.0 - alpha));
}

/* Minimises from x (dim d), in place; returns the minimum. */
static double
nelder_mead (FitCtx *c, guint d, double *x, guint max_evals, double ftol)
{
  double s[NM_MAX_DIM + 1][NM_MAX_DIM], f[NM_MAX_DIM + 1];
  double cen[NM_MAX_DIM], xr[NM_MAX_DIM], xe[NM_MAX_DIM], xc[NM_MAX_DIM];
  guint evals = 0;

  for (guint i = 0; i <= d; i++)
    {
      memcpy (s[i], x, d * sizeof (double));
      if (i > 0)
        s[i][i - 1] += 1.0;
      evals++;
    }
  ctx_eval_many (c, s, d + 1, f);
  while (evals < max_evals)
    {
      guint lo = 0, hi = 0, nh = 0;
      /* Reflection, expansion and both contractions, computed together
       * (ctx_eval_lanes: about the cost of one); each counts as an
       * evaluation only where the method would have made it. */
      double cand[N_LANES][NM_MAX_DIM], fcand[N_LANES];
      double fr;

      for (guint i = 1; i <= d; i++)
        {
          if (f[i] < f[lo])
            lo = i;
          if (f[i] > f[hi])
            hi = i;
        }
      nh = hi == 0 ? 1 : 0;
      for (guint i = 0; i <= d; i++)
        if (i != hi && f[i] > f[nh])
          nh = i;
      if (fabs (f[hi] - f[lo]) <= ftol * (fabs (f[lo]) + 1e-300))
        break;
      for (guint j = 0; j < d; j++)
        {
          cen[j] = 0.0;
          for (guint i = 0; i <= d; i++)
            if (i != hi)
              cen[j] += s[i][j];
          cen[j] /= d;
          xr[j] = cen[j] + (cen[j] - s[hi][j]);
        }
      for (guint j = 0; j < d; j++)
        {
          xe[j] = cen[j] + 2.0 * (cen[j] - s[hi][j]);
          cand[0][j] = xr[j];
          cand[1][j] = xe[j];
          cand[2][j] = cen[j] + 0.5 * (xr[j] - cen[j]);
          cand[3][j] = cen[j] + 0.5 * (s[hi][j] - cen[j]);
        }
      ctx_eval_lanes (c, (const double (*)[NM_MAX_DIM]) cand, N_LANES, fcand);
      fr = fcand[0];
      evals++;
      if (fr < f[lo])
        {
          double fe = fcand[1];

          evals++;
          if (fe < fr)
            {
              memcpy (s[hi], xe, d * sizeof (double));
              f[hi] = fe;
            }
          else
            {
              memcpy (s[hi], xr, d * sizeof (double));
              f[hi] = fr;
            }
          continue;
        }
      if (fr < f[nh])
        {
          memcpy (s[hi], xr, d * sizeof (double));
          f[hi] = fr;
          continue;
        }
      {
        gboolean outside = fr < f[hi];
        double fc;

        memcpy (xc, cand[outside ? 2 : 3], d * sizeof (double));
        fc = fcand[outside ? 2 : 3];
        evals++;
        if (fc < (outside ? fr : f[hi]))
          {
            memcpy (s[hi], xc, d * sizeof (double));
            f[hi] = fc;
            continue;
          }
      }
      /* Shrink towards the best. */
      {
        double moved[NM_MAX_DIM + 1][NM_MAX_DIM], fm[NM_MAX_DIM + 1];
        guint k = 0, which[NM_MAX_DIM + 1];

        for (guint i = 0; i <= d; i++)
          if (i != lo)
            {
              for (guint j = 0; j < d; j++)
                s[i][j] = s[lo][j] + 0.5 * (s[i][j] - s[lo][j]);
              memcpy (moved[k], s[i], d * sizeof (double));
              which[k++] = i;
              evals++;
            }
        ctx_eval_many (c, moved, k, fm);
        for (guint i = 0; i < k; i++)
          f[which[i]] = fm[i];
      }
    }
  {
    guint lo = 0;

    for (guint i = 1; i <= d; i++)
      if (f[i] < f[lo])
        lo = i;
    memcpy (x, s[lo], d * sizeof (double));
    return f[lo];
  }
}

double
orch_holt_fit (const double *y, guint n, gboolean damped, OrchHoltParams *p)
{
  static const double starts[][4] = {
    /* alpha, beta, phi, gamma */
    { 0.5, 0.1, 0.98, 0.1 },
    { 0.1, 0.01, 0.9, 0.3 },
  };
  FitCtx c = { y, n, p, damped };
  guint d = ctx_dim (&c);
  double best_x[NM_MAX_DIM], best = INFINITY;

  orch_holt_init_states (y, n, p);
  if (!p->trend || !damped)
    p->phi = 1.0;
  for (guint k = 0; k < G_N_ELEMENTS (starts); k++)
    {
      double x[NM_MAX_DIM], v;

      ctx_start (&c, starts[k][0], starts[k][1], starts[k][2], starts[k][3], x);
      v = nelder_mead (&c, d, x, 300, 1e-12);
      /* A restart from the optimum escapes a collapsed simplex. */
      v = MIN (v, nelder_mead (&c, d, x, 100, 1e-12));
      if (v < best)
        {
          best = v;
          memcpy (best_x, x, d * sizeof (double));
        }
    }
  ctx_apply (&c, best_x);
  return orch_holt_filter (y, n, p, NULL, NULL);
}

double
orch_holt_fit_quick (const double *y, guint n, gboolean damped, const OrchHoltParams *start,
                     OrchHoltParams *p)
{
  FitCtx c = { y, n, p, damped };
  guint d = ctx_dim (&c);
  double x[NM_MAX_DIM];

  orch_holt_init_states (y, n, p);
  if (!p->trend || !damped)
    p->phi = 1.0;
  if (start)
    ctx_start (&c, start->alpha, start->beta, start->trend && damped ? start->phi : 0.98,
               start->period ? start->gamma : 0.1, x);
  else
    ctx_start (&c, 0.5, 0.1, 0.98, 0.1, x);
  nelder_mead (&c, d, x, start ? 25 : 120, 1e-6);
  ctx_apply (&c, x);
  return orch_holt_filter (y, n, p, NULL, NULL);
}

/* Period detection */

double
orch_forecast_acf (const double *y, guint n, guint lag)
{
  double mean = 0.0, num = 0.0, den = 0.0;

  if (n == 0 || lag >= n)
    return 0.0;
  for (guint i = 0; i < n; i++)
    mean += y[i];
  mean /= n;
  for (guint i = 0; i < n; i++)
    {
      den += (y[i] - mean) * (y[i] - mean);
      if (i + lag < n)
        num += (y[i] - mean) * (y[i + lag] - mean);
    }
  return den > 0.0 ? num / den : 0.0;
}

/* A series with period m correlates about as well at 2m, 3m, ...; with
 * noise, any of those multiples can edge out m and the seasonal methods
 * would then look several periods back, across any drift in between.
 * So the shortest local maximum of which @found is a multiple (within a
 * lag) and whose ACF is at least 0.8 of @found's. */
static guint
fundamental (const double *r, guint min_lag, guint found)
{
  for (guint k = min_lag; k <= found / 2; k++)
    {
      guint mult = (found + k / 2) / k;

      if (r[k] >= 0.8 * r[found] && r[k] >= r[k - 1] && r[k] >= r[k + 1] &&
          (guint) ABS ((gint) found - (gint) (mult * k)) <= 1)
        return k;
    }
  return found;
}

guint
orch_forecast_detect_period (const double *y, guint n, guint min_lag)
{
  g_autofree double *d = NULL;
  g_autofree double *r = NULL;
  double st = 0.0, sy = 0.0, stt = 0.0, sty = 0.0, slope, icpt, best = 0.3;
  guint max_lag = MIN (n / 3, ORCH_FORECAST_MAX_PERIOD), found = 0;

  if (n < 9 || max_lag < MAX (min_lag, 2) + 1)
    return 0;
  /* Linear detrend, so a trend does not read as a long period. */
  for (guint i = 0; i < n; i++)
    {
      st += i;
      sy += y[i];
      stt += (double) i * i;
      sty += i * y[i];
    }
  slope = (n * sty - st * sy) / (n * stt - st * st);
  icpt = (sy - slope * st) / n;
  d = g_new (double, n);
  for (guint i = 0; i < n; i++)
    d[i] = y[i] - (icpt + slope * i);
  r = g_new (double, max_lag + 2);
  /* The residuals of a least-squares line have mean 0.  Unbiased (over
   * n - k pairs): the plain ACF's taper would move the peak of a noisy
   * cycle to a shorter lag. */
  {
    double den = 0.0;

    for (guint i = 0; i < n; i++)
      den += d[i] * d[i];
    for (guint k = 0; k <= max_lag + 1; k++)
      {
        double num = 0.0;

        for (guint i = 0; i + k < n; i++)
          num += d[i] * d[i + k];
        r[k] = den > 0.0 ? num / den * n / (n - k) : 0.0;
      }
  }
  for (guint k = MAX (min_lag, 2); k <= max_lag; k++)
    if (r[k] > best && r[k] >= r[k - 1] && r[k] >= r[k + 1])
      {
        best = r[k];
        found = k;
      }
  return found ? fundamental (r, MAX (min_lag, 2), found) : 0;
}

/* Baselines and paths */

void
orch_forecast_path_init (OrchForecastPath *path, guint h)
{
  double *block = g_new0 (double, 6 * (gsize) MAX (h, 1));

  path->h = h;
  path->mean = block;
  path->lo80 = block + h;
  path->hi80 = block + 2 * h;
  path->lo95 = block + 3 * h;
  path->hi95 = block + 4 * h;
  path->sd = block + 5 * h;
}

void
orch_forecast_path_clear (OrchForecastPath *path)
{
  g_clear_pointer (&path->mean, g_free);
  path->h = 0;
}

/* z for the two-sided 80 % and 95 % normal intervals */
#define Z80 1.2815515655446004
#define Z95 ORCH_FORECAST_Z95

/* The bounds mean -+ q sd: q the normal quantiles for the analytic
 * intervals, the calibrated ones for the conformal. */
static void
path_bounds_at (OrchForecastPath *path, double q80, double q95)
{
  for (guint k = 0; k < path->h; k++)
    {
      double m = path->mean[k], s = path->sd[k];

      path->lo80[k] = m - q80 * s;
      path->hi80[k] = m + q80 * s;
      path->lo95[k] = m - q95 * s;
      path->hi95[k] = m + q95 * s;
    }
}

static void
path_bounds (OrchForecastPath *path)
{
  path_bounds_at (path, Z80, Z95);
}

static double
window_mean (const double *y, guint from, guint to)
{
  double a = 0.0;

  for (guint i = from; i < to; i++)
    a += y[i];
  return to > from ? a / (to - from) : 0.0;
}

/* The mean of y[at], y[at - period], ... over the last
 * ORCH_FORECAST_SEASONAL_MEAN_PERIODS periods that y[0..n) holds. */
static double
seasonal_mean (const double *y, guint n, guint period, guint at)
{
  double a = 0.0;
  guint k = MIN (n / period, ORCH_FORECAST_SEASONAL_MEAN_PERIODS), cnt = 0;

  for (guint j = 0; j < k && at >= j * period; j++, cnt++)
    a += y[at - j * period];
  return cnt > 0 ? a / cnt : y[n - 1];
}

/* Point forecasts of a baseline from y[0..n). */
static void
baseline_points (const double *y, guint n, OrchForecastMethod method, guint period, guint window,
                 guint h, double *out)
{
  double ma = method == ORCH_FORECAST_MOVING_AVERAGE ? window_mean (y, n - MIN (window, n), n) : 0;

  for (guint k = 1; k <= h; k++)
    switch (method)
      {
      case ORCH_FORECAST_SEASONAL_NAIVE:
        out[k - 1] = y[n - period + (k - 1) % period];
        break;
      case ORCH_FORECAST_MOVING_AVERAGE:
        out[k - 1] = ma;
        break;
      case ORCH_FORECAST_SEASONAL_MEAN:
        out[k - 1] = seasonal_mean (y, n, period, n - period + (k - 1) % period);
        break;
      default:
        out[k - 1] = y[n - 1];
        break;
      }
}

/* In-sample one-step residual variance of a baseline. */
static double
baseline_sigma2 (const double *y, guint n, OrchForecastMethod method, guint period, guint window)
{
  guint lag = method == ORCH_FORECAST_SEASONAL_NAIVE   ? period
              : method == ORCH_FORECAST_SEASONAL_MEAN  ? period
              : method == ORCH_FORECAST_MOVING_AVERAGE ? window
                                                       : 1;
  double a = 0.0;
  guint cnt = 0;

  for (guint t = lag; t < n; t++)
    {
      double f = method == ORCH_FORECAST_MOVING_AVERAGE  ? window_mean (y, t - window, t)
                 : method == ORCH_FORECAST_SEASONAL_MEAN ? seasonal_mean (y, t, period, t - period)
                                                         : y[t - lag];

      a += (y[t] - f) * (y[t] - f);
      cnt++;
    }
  return cnt > 0 ? a / cnt : 0.0;
}

static gboolean
method_fits (OrchForecastMethod method, guint n, guint period)
{
  switch (method)
    {
    case ORCH_FORECAST_NAIVE:
    case ORCH_FORECAST_MOVING_AVERAGE:
      return n >= 1;
    case ORCH_FORECAST_SEASONAL_NAIVE:
      return period >= 2 && n >= period;
    case ORCH_FORECAST_SEASONAL_MEAN:
      /* With one period it is seasonal-naive. */
      return period >= 2 && n >= 2 * period;
    case ORCH_FORECAST_HOLT_DAMPED:
      return n >= 4;
    case ORCH_FORECAST_HOLT_WINTERS:
      return period >= 2 && period <= ORCH_FORECAST_MAX_PERIOD && n >= 2 * period + 2;
    default:
      return FALSE;
    }
}

/* A baseline's analytic sds at steps 1..h from its one-step variance. */
static void
baseline_sd (double sigma2, OrchForecastMethod method, guint period, guint window, guint h,
             double *sd)
{
  for (guint k = 1; k <= h; k++)
    {
      /* The seasonal mean's model is a fixed cycle plus noise: its
       * in-sample error (one period back) holds at every step. */
      double mult = method == ORCH_FORECAST_NAIVE            ? k
                    : method == ORCH_FORECAST_SEASONAL_NAIVE ? (k - 1) / period + 1
                    : method == ORCH_FORECAST_SEASONAL_MEAN  ? 1.0
                                                             : 1.0 + 1.0 / window;
      sd[k - 1] = sqrt (sigma2 * mult);
    }
}

/* The bounds at the calibrated score quantiles; the sd scaled with the
 * 95 % one, so crossing probabilities agree with that band. */
static void
calibrate_path (OrchForecastPath *path, double q80, double q95)
{
  path_bounds_at (path, q80, q95);
  for (guint k = 0; k < path->h; k++)
    path->sd[k] *= q95 / Z95;
}

/* @start: parameters to start from (a fit on a shorter prefix), or NULL. */
static void
fit_params (const double *y, guint n, OrchForecastMethod method, guint period,
            const OrchHoltParams *start, OrchForecastFit *fit)
{
  OrchHoltParams *p = &fit->params;
  double sse;

  memset (p, 0, sizeof *p);
  p->trend = TRUE;
  p->period = method == ORCH_FORECAST_HOLT_WINTERS ? period : 0;
  sse = orch_holt_fit_quick (y, n, TRUE, start, p);
  fit->sigma2 = sse / n;
}

static gboolean
forecast_one (const double *y, guint n, OrchForecastMethod method, guint period, guint window,
              const OrchHoltParams *start, OrchForecastFit *fit, OrchForecastPath *path)
{
  guint h = path->h;

  if (!method_fits (method, n, period))
    return FALSE;
  window = CLAMP (window, 1, n);
  fit->method = method;
  fit->period = method == ORCH_FORECAST_SEASONAL_NAIVE || method == ORCH_FORECAST_HOLT_WINTERS ||
                        method == ORCH_FORECAST_SEASONAL_MEAN
                    ? period
                    : 0;
  if (method == ORCH_FORECAST_HOLT_DAMPED || method == ORCH_FORECAST_HOLT_WINTERS)
    {
      OrchHoltState st;
      g_autofree double *var = g_new (double, MAX (h, 1));

      fit_params (y, n, method, period, start, fit);
      orch_holt_filter (y, n, &fit->params, NULL, &st);
      orch_holt_forecast (&fit->params, &st, h, path->mean);
      orch_holt_variance (&fit->params, fit->sigma2, h, var);
      for (guint k = 0; k < h; k++)
        path->sd[k] = sqrt (var[k]);
    }
  else
    {
      fit->sigma2 = baseline_sigma2 (y, n, method, period, window);
      baseline_points (y, n, method, period, window, h, path->mean);
      baseline_sd (fit->sigma2, method, period, window, h, path->sd);
    }
  path_bounds (path);
  return TRUE;
}

gboolean
orch_forecast_one (const double *y, guint n, OrchForecastMethod method, guint period, guint window,
                   OrchForecastFit *fit, OrchForecastPath *path)
{
  return forecast_one (y, n, method, period, window, NULL, fit, path);
}

double
orch_forecast_mase (const double *f, const double *actual, guint h, double scale)
{
  double a = 0.0;

  for (guint k = 0; k < h; k++)
    a += fabs (f[k] - actual[k]);
  return h > 0 ? a / h / scale : NAN;
}

/* The in-sample one-step MAE of the (seasonal) naive method. */
static double
naive_scale (const double *y, guint n, guint lag)
{
  double a = 0.0, mag = 0.0;
  guint cnt = 0;

  lag = MAX (lag, 1);
  for (guint t = lag; t < n; t++)
    {
      a += fabs (y[t] - y[t - lag]);
      mag += fabs (y[t]);
      cnt++;
    }
  if (cnt == 0)
    return 1.0;
  /* A flat series: every error counts against a tiny scale. */
  return MAX (a / cnt, 1e-9 * (mag / cnt) + 1e-12);
}

#define N_ORIGINS 5
/* Combinations tried: the means of the best 2 .. COMBINE_MAX methods. */
#define COMBINE_MAX 2
/* Origins the interval calibration scores the chosen forecast from. */
#define N_CAL_ORIGINS 24

/* The analytic sds of @method fitted on y[0..n) at steps 1..h (the
 * fitted Holt parameters in @fit). */
static void
analytic_sd (const double *y, guint n, OrchForecastMethod method, guint period, guint window,
             const OrchForecastFit *fit, guint h, double *sd)
{
  if (method == ORCH_FORECAST_HOLT_DAMPED || method == ORCH_FORECAST_HOLT_WINTERS)
    {
      orch_holt_variance (&fit->params, fit->sigma2, h, sd);
      for (guint k = 0; k < h; k++)
        sd[k] = sqrt (sd[k]);
    }
  else
    baseline_sd (baseline_sigma2 (y, n, method, period, window), method, period, window, h, sd);
}

/* @method's forecast of h steps from origin o (Holt: with @params). */
static void
backtest_points (const double *y, guint o, OrchForecastMethod method, guint period, guint window,
                 const OrchHoltParams *params, guint h, double *f)
{
  if (method == ORCH_FORECAST_HOLT_DAMPED || method == ORCH_FORECAST_HOLT_WINTERS)
    {
      OrchHoltState st;

      orch_holt_filter (y, o, params, NULL, &st);
      orch_holt_forecast (params, &st, h, f);
    }
  else
    baseline_points (y, o, method, period, window, h, f);
}

/* Holt forecasts from increasing origins, filtering each stretch once
 * (the calibration's many origins would otherwise refilter from 0). */
typedef struct {
  OrchHoltParams p; /* level0, trend0, season0: the state at `at` */
  OrchHoltState st;
  guint at;
} HoltCursor;

static void
holt_cursor_points (HoltCursor *c, const double *y, guint o, guint h, double *f)
{
  if (o > c->at)
    {
      orch_holt_filter (y + c->at, o - c->at, &c->p, NULL, &c->st);
      c->p.level0 = c->st.level;
      c->p.trend0 = c->st.trend;
      /* Rotate the ring so the next stretch starts at its slot 0. */
      for (guint i = 0; i < c->p.period; i++)
        c->p.season0[i] = c->st.season[(c->st.t + i) % c->p.period];
      c->at = o;
    }
  orch_holt_forecast (&c->p, &c->st, h, f);
}

/* @method's forecast from origin o for the calibration (origins
 * increasing; @cur holds the Holt methods' cursors). */
static void
calibration_points (const double *y, guint o, OrchForecastMethod method, guint period, guint window,
                    HoltCursor cur[ORCH_FORECAST_N_METHODS], guint h, double *f)
{
  if (method == ORCH_FORECAST_HOLT_DAMPED || method == ORCH_FORECAST_HOLT_WINTERS)
    holt_cursor_points (&cur[method], y, o, h, f);
  else
    baseline_points (y, o, method, period, window, h, f);
}

/* Ranks the tried methods by backtest MASE into @order; returns how many. */
static guint
rank_methods (const OrchForecastFit *fit, OrchForecastMethod order[ORCH_FORECAST_N_METHODS])
{
  guint cnt = 0;

  for (OrchForecastMethod m = 0; m < ORCH_FORECAST_N_METHODS; m++)
    {
      guint i;

      if (m == ORCH_FORECAST_COMBINED || isnan (fit->mase_by_method[m]))
        continue;
      /* Stable: ties keep the simpler method, listed first, in front. */
      for (i = cnt; i > 0 && fit->mase_by_method[order[i - 1]] > fit->mase_by_method[m]; i--)
        order[i] = order[i - 1];
      order[i] = m;
      cnt++;
    }
  return cnt;
}

/* The combination's final forecast: its members refitted on all of y,
 * the mean of their points; the mean of their sds (the sd of a mean of
 * errors is at most that) until the calibration replaces it. */
static void
forecast_combined (const double *y, guint n, guint period, guint window,
                   const OrchHoltParams fitted[ORCH_FORECAST_N_METHODS], OrchForecastFit *fit,
                   OrchForecastPath *path)
{
  guint members = 0;
  OrchForecastPath mp;

  orch_forecast_path_init (&mp, path->h);
  memset (path->mean, 0, path->h * sizeof (double));
  memset (path->sd, 0, path->h * sizeof (double));
  fit->sigma2 = 0;
  fit->period = 0;
  for (OrchForecastMethod m = 0; m < ORCH_FORECAST_N_METHODS; m++)
    {
      OrchForecastFit mf = { 0 };

      if (!(fit->combined & (1u << m)) ||
          !forecast_one (y, n, m, period, window, &fitted[m], &mf, &mp))
        continue;
      for (guint k = 0; k < path->h; k++)
        {
          path->mean[k] += mp.mean[k];
          path->sd[k] += mp.sd[k];
        }
      fit->sigma2 += mf.sigma2;
      fit->period = MAX (fit->period, mf.period);
      if (m == ORCH_FORECAST_HOLT_DAMPED || m == ORCH_FORECAST_HOLT_WINTERS)
        fit->params = mf.params;
      members++;
    }
  for (guint k = 0; k < path->h; k++)
    {
      path->mean[k] /= MAX (members, 1);
      path->sd[k] /= MAX (members, 1);
    }
  fit->sigma2 /= MAX (members, 1);
  fit->method = ORCH_FORECAST_COMBINED;
  orch_forecast_path_clear (&mp);
  path_bounds (path);
}

/* The k-th of @n_orig backtest origins in [train, n - hb], evenly
 * spaced, the last at n - hb; with a period longer than the windows,
 * each but the last moved forward (by less than a period) so that the
 * origins' phases, counted back from the last, are spread over the
 * cycle.  Evenly spaced origins alias with a cycle: five windows of
 * 10 s could all fall in the flat part of a 60 s square wave, where
 * naive and seasonal-naive are both exact and the tie went to naive,
 * which then missed every edge.  A window of a period or more holds
 * the whole cycle wherever it starts.  Period 0: evenly spaced only
 * (the calibration's origins, which a Holt cursor walks in order). */
static guint
backtest_origin (guint k, guint n_orig, guint train, guint n, guint hb, guint period)
{
  guint last = n - hb, span = last - train;
  guint o = train + (n_orig > 1 ? k * span / (n_orig - 1) : 0);

  if (hb < period && n_orig > 1 && k + 1 < n_orig && span >= period)
    {
      guint want = (n_orig - 1 - k) * period / n_orig;

      o += (last - o + period - want % period) % period;
      if (o > last)
        o -= period;
    }
  return o;
}

gboolean
orch_forecast_auto (const double *y, guint n, guint h, OrchForecastFit *fit, OrchForecastPath *path)
{
  guint period, train, hb, n_orig, window, n_ranked;
  double scale, best = INFINITY, comb_best = INFINITY, q80, q95;
  OrchForecastMethod chosen = ORCH_FORECAST_NAIVE, order[ORCH_FORECAST_N_METHODS];
  OrchHoltParams fitted[ORCH_FORECAST_N_METHODS] = { 0 };
  /* Per method: its forecasts from every origin (n_orig x hb) and its
   * analytic sds at steps 1..hb as fitted on the training part. */
  double *fc[ORCH_FORECAST_N_METHODS] = { NULL }, *sdt[ORCH_FORECAST_N_METHODS] = { NULL };
  OrchConformal conf;
  gboolean calibrated;

  memset (fit, 0, sizeof *fit);
  for (guint i = 0; i < ORCH_FORECAST_N_METHODS; i++)
    fit->mase_by_method[i] = NAN;
  fit->mase = NAN;
  if (n == 0)
    return FALSE;
  if (n < 16)
    {
      if (!orch_forecast_one (y, n, ORCH_FORECAST_HOLT_DAMPED, 0, 0, fit, path))
        orch_forecast_one (y, n, ORCH_FORECAST_NAIVE, 0, 0, fit, path);
      return TRUE;
    }
  period = orch_forecast_detect_period (y, n, 2);
  train = n / 2;
  hb = CLAMP (MIN (h, n / 4), 1, n - train);
  n_orig = MIN (N_ORIGINS, n - hb - train + 1);
  window = period > 0 ? period : MIN (12, train);
  scale = naive_scale (y, train, period > 0 && period < train ? period : 1);
  for (OrchForecastMethod m = 0; m < ORCH_FORECAST_N_METHODS; m++)
    {
      OrchForecastFit mf = { 0 };
      double total = 0.0;

      if (m == ORCH_FORECAST_COMBINED || !method_fits (m, train, period))
        continue;
      if (m == ORCH_FORECAST_HOLT_DAMPED || m == ORCH_FORECAST_HOLT_WINTERS)
        {
          fit_params (y, train, m, period, NULL, &mf);
          fitted[m] = mf.params;
        }
      fc[m] = g_new (double, (gsize) n_orig *hb);
      sdt[m] = g_new (double, hb);
      analytic_sd (y, train, m, period, window, &mf, hb, sdt[m]);
      for (guint k = 0; k < n_orig; k++)
        {
          guint o = backtest_origin (k, n_orig, train, n, hb, period);
          double *f = fc[m] + (gsize) k * hb;

          backtest_points (y, o, m, period, window, &mf.params, hb, f);
          total += orch_forecast_mase (f, y + o, hb, scale);
        }
      fit->mase_by_method[m] = total / n_orig;
      /* Ties go to the simpler method, listed first. */
      if (fit->mase_by_method[m] < best * (1.0 - 1e-9))
        {
          best = fit->mase_by_method[m];
          chosen = m;
        }
    }
  /* Forecast combination: the mean of the best methods' forecasts
   * often beats each of them (their errors partly cancel); it is scored
   * on the same origins and must beat the best single method.  Only the
   * best two: each extra candidate chosen on these origins adds to the
   * optimism of its own score. */
  n_ranked = rank_methods (fit, order);
  for (guint c = 2; c <= MIN (COMBINE_MAX, n_ranked); c++)
    {
      g_autofree double *cf = g_new0 (double, (gsize) n_orig *hb);
      g_autofree double *cs = g_new0 (double, hb);
      double total = 0.0;
      guint members = 0;

      for (guint i = 0; i < c; i++)
        {
          for (gsize j = 0; j < (gsize) n_orig * hb; j++)
            cf[j] += fc[order[i]][j] / c;
          for (guint k = 0; k < hb; k++)
            cs[k] += sdt[order[i]][k] / c;
          members |= 1u << order[i];
        }
      for (guint k = 0; k < n_orig; k++)
        {
          guint o = backtest_origin (k, n_orig, train, n, hb, period);

          total += orch_forecast_mase (cf + (gsize) k * hb, y + o, hb, scale);
        }
      total /= n_orig;
      if (total < comb_best * (1.0 - 1e-9))
        {
          comb_best = total;
          fit->mase_by_method[ORCH_FORECAST_COMBINED] = total;
          fit->combined = members;
          g_free (fc[ORCH_FORECAST_COMBINED]);
          g_free (sdt[ORCH_FORECAST_COMBINED]);
          fc[ORCH_FORECAST_COMBINED] = g_steal_pointer (&cf);
          sdt[ORCH_FORECAST_COMBINED] = g_steal_pointer (&cs);
        }
    }
  if (comb_best < best * (1.0 - 1e-9))
    {
      best = comb_best;
      chosen = ORCH_FORECAST_COMBINED;
    }
  /* Calibration: the chosen forecast's errors over its own analytic sds,
   * from more origins than the choice used (a forecast is cheap once
   * fitted; five windows of a few steps are too few for a 95 % quantile). */
  orch_conformal_init (&conf);
  {
    guint n_cal = MIN (N_CAL_ORIGINS, n - hb - train + 1);
    g_autofree double *f = g_new (double, hb);
    g_autofree double *g = g_new (double, hb);
    g_autofree HoltCursor *cur = g_new0 (HoltCursor, ORCH_FORECAST_N_METHODS);

    for (OrchForecastMethod m = ORCH_FORECAST_HOLT_DAMPED; m <= ORCH_FORECAST_HOLT_WINTERS; m++)
      cur[m].p = fitted[m];
    for (guint k = 0; k < n_cal; k++)
      {
        guint o = backtest_origin (k, n_cal, train, n, hb, 0);
        guint members = 0;

        memset (f, 0, hb * sizeof (double));
        for (OrchForecastMethod m = 0; m < ORCH_FORECAST_N_METHODS; m++)
          if (m == chosen || (chosen == ORCH_FORECAST_COMBINED && (fit->combined & (1u << m))))
            {
              calibration_points (y, o, m, period, window, cur, hb, g);
              for (guint j = 0; j < hb; j++)
                f[j] += g[j];
              members++;
            }
        for (guint j = 0; j < hb; j++)
          f[j] /= MAX (members, 1);
        orch_conformal_add (&conf, f, y + o, sdt[chosen], hb);
      }
  }
  calibrated = orch_conformal_quantiles (&conf, &q80, &q95);
  orch_conformal_clear (&conf);
  for (guint m = 0; m < ORCH_FORECAST_N_METHODS; m++)
    {
      g_free (fc[m]);
      g_free (sdt[m]);
    }
  /* The refit on all of y starts from the backtest's parameters. */
  if (chosen == ORCH_FORECAST_COMBINED)
    forecast_combined (y, n, period, window, fitted, fit, path);
  else if (!forecast_one (y, n, chosen, period, window, &fitted[chosen], fit, path))
    {
      orch_forecast_one (y, n, ORCH_FORECAST_NAIVE, 0, 0, fit, path);
      calibrated = FALSE;
    }
  if (calibrated)
    calibrate_path (path, q80, q95);
  fit->calibrated = calibrated;
  fit->mase = best;
  return TRUE;
}

/* The drift test's blocks (fewer in a shorter window). */
#define TREND_BLOCKS 16

gboolean
orch_forecast_trend_test (const double *y, guint n, guint window, double z, OrchForecastTrend *t)
{
  double sx = 0, sy = 0, sxx = 0, sxy = 0, ss = 0, lag1 = 0, r_prev = 0, mean_x, rho;
  double dd = 0, drift = 0, sd_d;
  guint blocks, len;
  guint k = MIN (window, n);
  const double *w = y + (n - k);

  memset (t, 0, sizeof *t);
  if (k < 3)
    return FALSE;
  t->k = k;
  blocks = MIN (TREND_BLOCKS, k - 1);
  len = (k - 1) / blocks;
  for (guint i = 0; i < k; i++)
    {
      sx += i;
      sy += w[i];
    }
  mean_x = sx / k;
  t->mean_y = sy / k;
  for (guint i = 0; i < k; i++)
    {
      sxx += (i - mean_x) * (i - mean_x);
      sxy += (i - mean_x) * (w[i] - t->mean_y);
    }
  t->slope = sxy / sxx;
  t->sxx = sxx;
  t->x_last = k - 1 - mean_x;
  for (guint i = 0; i < k; i++)
    {
      double r = w[i] - (t->mean_y + t->slope * (i - mean_x));

      ss += r * r;
      if (i > 0)
        lag1 += r * r_prev;
      r_prev = r;
    }
  /* For the test the scatter counts as much more as an AR(1)'s
   * variance of the mean, (1 + rho) / (1 - rho). */
  rho = ss > 0 ? CLAMP (lag1 / ss, 0.0, 0.99) : 0.0;
  t->inflate = sqrt ((1 + rho) / (1 - rho));
  t->scatter = sqrt (ss / (k - 2));
  /* And the rises over TREND_BLOCKS equal blocks of the window stand
   * out of their spread: the test of a random walk's drift (its blocks'
   * rises are independent), which a walk's chance run passes rarely
   * where the line's test, its rho estimated on few points, passed it
   * often (the synthetic random walk's 5-minute MASE went 1.62 to 2.20),
   * and a single jump (a step, no trend) not at all.  Blocks, not
   * single steps: a leak that allocates once a second, sampled every
   * 0.1 s, rises in lumps. */
  for (guint b = 0; b < blocks; b++)
    drift += w[k - 1 - b * len] - w[k - 1 - (b + 1) * len];
  drift /= blocks;
  for (guint b = 0; b < blocks; b++)
    {
      double e = w[k - 1 - b * len] - w[k - 1 - (b + 1) * len] - drift;

      dd += e * e;
    }
  sd_d = blocks > 1 ? sqrt (dd / (blocks - 1)) : 0.0;
  t->rising = t->slope > 0 && t->slope * (k - 1) > z * t->scatter * t->inflate &&
              drift * sqrt (blocks) > z * sd_d;
  return t->rising;
}

double
orch_forecast_trend_at (const OrchForecastTrend *t, double steps, double *sd)
{
  double x = t->x_last + steps;

  *sd = t->scatter * sqrt (1.0 + 1.0 / t->k + x * x / t->sxx);
  return t->mean_y + t->slope * x;
}

/* The trend test's window at least (fewer points: all of them). */
#define TREND_MIN_POINTS 32

gboolean
orch_forecast_auto_memory (const double *y, guint n, guint h, OrchForecastFit *fit,
                           OrchForecastPath *path)
{
  OrchForecastTrend t;
  double m0, sd0, slope_sd;

  if (!orch_forecast_auto (y, n, h, fit, path))
    return FALSE;
  if (!orch_forecast_trend_test (y, n, MAX (MAX (h, 2 * fit->period), TREND_MIN_POINTS),
                                 ORCH_FORECAST_TREND_Z, &t))
    return TRUE;
  fit->trend_followed = TRUE;
  fit->trend_per_step = t.slope;
  /* From the smoother's next step, which knows the last level better
   * than the line through the window (anchored on the line itself, the
   * recorded leaks' errors were 5-30 % larger): the line's slope, its
   * error (widened as the test widens it) added to the step's. */
  m0 = path->mean[0];
  sd0 = path->sd[0];
  slope_sd = t.scatter * t.inflate / sqrt (t.sxx);
  for (guint k = 0; k < path->h; k++)
    {
      double m = m0 + t.slope * k, sd = hypot (sd0, slope_sd * k);

      if (m <= path->mean[k])
        continue;
      path->mean[k] = m;
      path->lo80[k] = MIN (path->lo80[k], m - Z80 * sd);
      path->hi80[k] = MAX (path->hi80[k], m + Z80 * sd);
      path->lo95[k] = MIN (path->lo95[k], m - Z95 * sd);
      path->hi95[k] = MAX (path->hi95[k], m + Z95 * sd);
      path->sd[k] = MAX (path->sd[k], sd);
    }
  return TRUE;
}

guint
orch_forecast_first_crossing (const double *v, guint h, double limit)
{
  for (guint k = 0; k < h; k++)
    if (v[k] >= limit)
      return k + 1;
  return 0;
}

double
orch_forecast_prob_above (double mean, double sd, double limit)
{
  if (!(sd > 0.0))
    return mean >= limit ? 1.0 : 0.0;
  return 0.5 * erfc ((limit - mean) / (sd * G_SQRT2));
}

guint
orch_forecast_resample (const gint64 *t_us, const double *v, guint n, gint64 start_us,
                        gint64 step_us, double *out, guint n_out)
{
  guint i = 0, prev = G_MAXUINT, k;

  for (k = 0; k < n_out; k++)
    {
      gint64 t = start_us + (gint64) k * step_us;

      /* The first known row at or after t. */
      while (i < n && (t_us[i] < t || isnan (v[i])))
        {
          if (!isnan (v[i]))
            prev = i;
          i++;
        }
      if (i == n)
        break;
      if (t_us[i] == t || prev == G_MAXUINT)
        out[k] = v[i];
      else
        out[k] = v[prev] +
                 (v[i] - v[prev]) * (double) (t - t_us[prev]) / (double) (t_us[i] - t_us[prev]);
    }
  return k;
}

/* The proactive warning's rule (orch-forecast-watch). */
gboolean
orch_forecast_warn_step (OrchForecastWarnState *st, gint64 run, double limit, double crossing_in_s,
                         guint warn_before_s)
{
  if (st->run != run || st->limit != limit)
    {
      st->run = run;
      st->limit = limit;
      st->warned = FALSE;
    }
  if (crossing_in_s >= 0 && crossing_in_s <= warn_before_s)
    {
      if (st->warned)
        return FALSE;
      st->warned = TRUE;
      return TRUE;
    }
  /* Hysteresis: a forecast wobbling around the edge warns once; one
   * that could not see that far (NAN) changes nothing. */
  if (!isnan (crossing_in_s) && (crossing_in_s < 0 || crossing_in_s > 2.0 * warn_before_s))
    st->warned = FALSE;
  return FALSE;
}
