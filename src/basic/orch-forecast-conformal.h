/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Split-conformal calibration of forecast intervals (pure).
 *
 * The backtest's out-of-sample errors, each divided by the model's
 * analytic standard deviation at its step (a normalised score), are
 * exchangeable draws of how far the model's sd understates or overstates
 * its own errors; the interval at level 1 - a is then mean +- q sd_k with
 * q the ceil((N + 1)(1 - a))-th smallest of the N scores — coverage
 * >= 1 - a by construction for exchangeable scores, whatever the
 * errors' distribution and whether the analytic variance is right. */

/* Fewest scores calibrated on: below that the 95 % quantile is the
 * largest score or beyond it, and the analytic interval is kept. */
#define ORCH_CONFORMAL_MIN_SCORES 20

/* The conformal quantile of @scores[0..n) (reordered) at coverage
 * @level; NAN when n is too small for that level. */
double orch_conformal_quantile (double *scores, guint n, double level);

typedef struct {
  GArray *scores; /* double: |error| / sd */
} OrchConformal;

void orch_conformal_init (OrchConformal *c);
void orch_conformal_clear (OrchConformal *c);

/* One backtest forecast: @f[0..h) against @actual[0..h) with the
 * analytic sds @sd[0..h) (steps with sd <= 0 are skipped). */
void orch_conformal_add (OrchConformal *c, const double *f, const double *actual, const double *sd,
                         guint h);

/* The 80 % and 95 % score quantiles; FALSE (and nothing set) with fewer
 * than ORCH_CONFORMAL_MIN_SCORES scores. */
gboolean orch_conformal_quantiles (OrchConformal *c, double *q80, double *q95);

G_END_DECLS
