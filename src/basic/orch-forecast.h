/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Forecasting of one evenly spaced series: pure functions, no I/O.
 *
 * Exponential smoothing in the component form statsmodels'
 * ExponentialSmoothing uses (additive trend, optionally damped; additive
 * season):
 *
 *   yhat_t = l_{t-1} + phi b_{t-1} + s_{t-m}
 *   l_t = alpha (y_t - s_{t-m}) + (1 - alpha) (l_{t-1} + phi b_{t-1})
 *   b_t = beta (l_t - l_{t-1}) + (1 - beta) phi b_{t-1}
 *   s_t = gamma (y_t - l_{t-1} - phi b_{t-1}) + (1 - gamma) s_{t-m}
 *
 * which is the ETS(A,Ad,A) state-space model with error-correction trend
 * smoothing alpha*beta; prediction intervals use that model's analytic
 * h-step variance (Hyndman et al. 2008, class 1), as statsmodels' ETSModel
 * does for linear models:
 *
 *   var_h = sigma2 (1 + sum_{j=1}^{h-1} c_j^2),
 *   c_j = alpha + alpha beta (phi + ... + phi^j) + gamma [j mod m == 0]
 *
 * with sigma2 the mean squared one-step residual (SSE / n). */

/* z of the two-sided 95 % normal interval. */
#define ORCH_FORECAST_Z95 1.959963984540054

#define ORCH_FORECAST_MAX_PERIOD 256
/* Periods seasonal-mean averages (fewer when the history is shorter):
 * noise shrinks as 1/K while a drifting phase or level is followed K/2
 * periods late; 4 halves the noise's spread. */
#define ORCH_FORECAST_SEASONAL_MEAN_PERIODS 4

typedef enum {
  ORCH_FORECAST_NAIVE,          /* last value */
  ORCH_FORECAST_SEASONAL_NAIVE, /* the value one period back */
  ORCH_FORECAST_MOVING_AVERAGE, /* the mean of the last window */
  ORCH_FORECAST_HOLT_DAMPED,    /* level + damped trend, fitted */
  ORCH_FORECAST_HOLT_WINTERS,   /* level + damped trend + additive season, fitted */
  ORCH_FORECAST_SEASONAL_MEAN,  /* the mean of the values 1..K periods back */
  ORCH_FORECAST_COMBINED,       /* the mean of the best backtested methods (auto only) */
  ORCH_FORECAST_N_METHODS
} OrchForecastMethod;

const char *orch_forecast_method_name (OrchForecastMethod m);

typedef struct {
  double alpha, beta, gamma, phi; /* beta: statsmodels' smoothing_trend */
  gboolean trend;                 /* FALSE: no trend (beta, phi unused) */
  guint period;                   /* 0: no season (gamma unused) */
  double level0, trend0;
  double season0[ORCH_FORECAST_MAX_PERIOD]; /* s_{1-m} .. s_0 */
} OrchHoltParams;

typedef struct {
  double level, trend;
  double season[ORCH_FORECAST_MAX_PERIOD]; /* ring: season[(t) % m] is s_{t-m} */
  guint t;                                 /* observations filtered */
} OrchHoltState;

/* Runs the smoother over y[0..n): the one-step fitted values into
 * @fitted (n doubles, may be NULL), the state after y[n-1] into @end (may
 * be NULL).  Returns the sum of squared one-step errors. */
double orch_holt_filter (const double *y, guint n, const OrchHoltParams *p, double *fitted,
                         OrchHoltState *end);

/* Point forecasts 1..h steps after @s into out[0..h). */
void orch_holt_forecast (const OrchHoltParams *p, const OrchHoltState *s, guint h, double *out);

/* The h-step forecast variances for 1..h into var[0..h). */
void orch_holt_variance (const OrchHoltParams *p, double sigma2, guint h, double *var);

/* Initial states: with period m (n >= 2m) statsmodels' "legacy-heuristic"
 * (l0 = mean(y[0..m)), b0 = (mean(y[m..2m)) - l0) / m, s_i = y_i - l0);
 * without, the least-squares line through the first 10 points (l0 its
 * value one step before y0, b0 its slope). */
void orch_holt_init_states (const double *y, guint n, OrchHoltParams *p);

/* Fits alpha, beta, phi (and gamma with a period) by minimising the SSE
 * with Nelder-Mead over the bounded box mapped to R^k by a logistic
 * transform (gamma bounded by 1 - alpha as statsmodels does), from a few
 * starting points; initial states as orch_holt_init_states().  Bounds:
 * alpha, beta, gamma in [1e-4, 0.9999], phi in [0.8, 1] (or fixed to
 * 1 when !damped).  @p's trend and period say the model.  Returns the
 * SSE. */
double orch_holt_fit (const double *y, guint n, gboolean damped, OrchHoltParams *p);

/* The same, cheaper, for the daemon's per-request fits: one Nelder-Mead
 * run to a 1e-6 relative SSE spread, from @start's parameters (at most
 * 25 evaluations) or from alpha 0.5, beta 0.1, phi 0.98, gamma 0.1 (120):
 * bench-forecast measures what that costs in accuracy and time. */
double orch_holt_fit_quick (const double *y, guint n, gboolean damped, const OrchHoltParams *start,
                            OrchHoltParams *p);

/* Autocorrelation at @lag of y[0..n). */
double orch_forecast_acf (const double *y, guint n, guint lag);

/* The seasonal period by autocorrelation of the detrended (first
 * differenced) series: the lag in [min_lag, n / 3] with the highest ACF
 * that is a local maximum above 0.3, so at least three periods are seen
 * (or the shortest such maximum it is a multiple of, when that lag
 * correlates almost as well: the fundamental, not a harmonic multiple);
 * 0 when none. */
guint orch_forecast_detect_period (const double *y, guint n, guint min_lag);

typedef struct {
  OrchForecastMethod method;
  guint period; /* the season used (0: none) */
  double mase;  /* backtest MASE of the chosen method, NaN when not backtested */
  double mase_by_method[ORCH_FORECAST_N_METHODS]; /* NaN: not tried */
  double sigma2;                                  /* one-step residual variance */
  OrchHoltParams params;                          /* for the Holt methods */
  guint combined;          /* ORCH_FORECAST_COMBINED's members: 1 << method each */
  gboolean calibrated;     /* intervals from the backtest's errors, not analytic */
  gboolean trend_followed; /* orch_forecast_auto_memory(): the path follows a line */
  double trend_per_step;   /* ... rising this much a step */
} OrchForecastFit;

/* A forecast of h steps: points and the 80 % and 95 % normal intervals. */
typedef struct {
  double *mean, *lo80, *hi80, *lo95, *hi95, *sd;
  guint h;
} OrchForecastPath;

void orch_forecast_path_init (OrchForecastPath *path, guint h);
void orch_forecast_path_clear (OrchForecastPath *path);

/* Fits @method on y[0..n) (period used by the seasonal ones; window for
 * the moving average) and forecasts h steps into @path (initialised by
 * the caller with h).  FALSE when the series is too short for it. */
gboolean orch_forecast_one (const double *y, guint n, OrchForecastMethod method, guint period,
                            guint window, OrchForecastFit *fit, OrchForecastPath *path);

/* Picks the method by rolling-origin backtest and forecasts with it.
 * Parameters are fitted once on the part before the first origin; from
 * each of up to 5 origins over the last part the method forecasts
 * min(h, n / 4) steps, scored by MASE (MAE over the naive in-sample
 * one-step MAE of the training part, seasonal when a period is found).
 * The mean of the two best methods' forecasts (ORCH_FORECAST_COMBINED)
 * is scored on the same origins and wins only below both.  The winner
 * is refitted on all of y (orch_holt_fit_quick() from the backtest's
 * parameters; orch_forecast_one() fits the same way, from the default
 * start).  Its intervals are calibrated (orch-forecast-conformal.h) on
 * its errors from up to 24 origins over the last part, each over its
 * analytic sd from the training part, when there are enough of them
 * (fit->calibrated).  Too short a series for a backtest
 * (n < 16) gets the damped Holt (n >= 4) or the naive method.  FALSE
 * only for n == 0. */
gboolean orch_forecast_auto (const double *y, guint n, guint h, OrchForecastFit *fit,
                             OrchForecastPath *path);

/* A rising trend that stands out of the series, undamped.  The Holt
 * models damp their trend per step: a fitted phi of 0.9994 stops it
 * within a few thousand steps, minutes at 0.1 s, and a short history
 * rarely gives a phi closer to 1, while the leak goes on.  The test: the
 * least-squares line through the last @window points rises over them
 * by more than z times the scatter around it, the scatter widened by
 * sqrt ((1 + rho) / (1 - rho)) for the residuals' lag-1
 * autocorrelation rho (residuals that follow each other are fewer
 * independent ones), and the mean of its rises over 16 equal blocks is
 * more than z standard errors of it (a random walk's drift test: its
 * blocks' rises are independent, so a chance run, which rho estimated
 * on a short window lets through, passes as rarely as z says; a single
 * jump does not pass). */
typedef struct {
  guint k;         /* points fitted: the series' last k */
  double slope;    /* per step */
  double mean_y;   /* the line at the window's middle */
  double x_last;   /* the last point's steps from the middle, (k - 1) / 2 */
  double sxx;      /* sum of the squared steps from the middle */
  double scatter;  /* sd of the residuals */
  double inflate;  /* sqrt ((1 + rho) / (1 - rho)) */
  gboolean rising; /* the test passed */
} OrchForecastTrend;

/* The test's z where a forecast follows a trend (one-sided 0.1 %). */
#define ORCH_FORECAST_TREND_Z 3.090232306167813

/* Fits the line through the last MIN (@window, @n) points of y (at
 * least 3) and tests it at @z; returns @t->rising. */
gboolean
orch_forecast_trend_test (const double *y, guint n, guint window, double z, OrchForecastTrend *t);

/* The line @steps after the last point, its prediction sd there (the
 * scatter and the slope's own error carried that far) into @sd. */
double orch_forecast_trend_at (const OrchForecastTrend *t, double steps, double *sd);

/* orch_forecast_auto() for a memory series, which a leak makes grow
 * steadily: when the last max(h, two periods, 32) points of y pass the
 * trend test at ORCH_FORECAST_TREND_Z (fit->trend_followed), the whole
 * path (all path->h steps, which may be more than h) climbs from the
 * smoother's first step at the line's slope wherever that is higher
 * than the smoother's forecast, with the first step's sd and the
 * slope's (widened as the test widens the scatter) added, the bands
 * widened to hold both forecasts'. */
gboolean orch_forecast_auto_memory (const double *y, guint n, guint h, OrchForecastFit *fit,
                                    OrchForecastPath *path);

/* The first step (1-based) at which @v[0..h) reaches @limit, 0 if none. */
guint orch_forecast_first_crossing (const double *v, guint h, double limit);

/* Mean absolute scaled error of forecasts @f against @actual (h each),
 * scaled by @scale (the in-sample naive MAE). */
double orch_forecast_mase (const double *f, const double *actual, guint h, double scale);

/* P(X >= limit) for X ~ N(mean, sd^2); sd 0 gives 0 or 1. */
double orch_forecast_prob_above (double mean, double sd, double limit);

/* Linear interpolation of rows (t_us[i], v[i]) (t increasing, NaN values
 * skipped) onto the grid start_us + k * step_us, k < n_out; returns the
 * points written (stops at the last row's time). */
guint orch_forecast_resample (const gint64 *t_us, const double *v, guint n, gint64 start_us,
                              gint64 step_us, double *out, guint n_out);

/* The once-per-crossing rule, for one job: @crossing_in_s is how far
 * ahead the forecast reaches the limit (negative: not within twice
 * @warn_before_s; NAN: the forecast did not reach that far, no change).
 * TRUE when this is a new warning. */
typedef struct {
  gint64 run;   /* the run's start, a new run re-arms */
  double limit; /* a changed limit re-arms */
  gboolean warned;
} OrchForecastWarnState;

gboolean orch_forecast_warn_step (OrchForecastWarnState *st, gint64 run, double limit,
                                  double crossing_in_s, guint warn_before_s);

G_END_DECLS
