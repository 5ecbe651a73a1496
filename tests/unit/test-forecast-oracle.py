#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Oracle test: orch-forecast's exponential smoothing against Debian's
python3-statsmodels.

    test-forecast-oracle.py BUILD/tests/unit/forecast-run [-v]

For seeded series (trend, season, noise) and parameters:
1. filter: with the same parameters and initial states, statsmodels'
   ExponentialSmoothing (holtwinters, initialization "known",
   optimized=False) gives the same one-step fitted values, SSE and
   forecasts to 1e-6 relative;
2. intervals: statsmodels' ETSModel (additive error, the same model in
   error-correction form: smoothing_trend alpha*beta) gives the same
   forecast variance (its "exact" method for linear models), read back from
   its 95 % summary_frame, with sigma2 = SSE / n on both sides;
3. fit: our Nelder-Mead fit reaches an SSE no worse than statsmodels' own
   fit (L-BFGS-B, same bounds, same legacy-heuristic initial states) by
   more than 1e-4 relative;
4. known answers: a sine of period 60 has its period found; linear growth
   crossing a limit is forecast to cross within 5 % of the true time.

TAP output.  Skipped without statsmodels: "1..0 # SKIP", exit 0.
"""

import json
import math
import random
import subprocess
import sys
import warnings

try:
    import numpy as np
    import pandas as pd
    import scipy.optimize
    from statsmodels.tsa.holtwinters import ExponentialSmoothing
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel
except ImportError:
    print("1..0 # SKIP python3-statsmodels not installed")
    sys.exit(0)

warnings.simplefilter("ignore")
RUN = sys.argv[1]
VERBOSE = "-v" in sys.argv
RTOL = 1e-6
ok_count = 0
results = []


def run(mode, y, **kw):
    args = [RUN, mode] + ["%s=%s" % (k, v) for k, v in kw.items()]
    out = subprocess.run(args, input=" ".join(repr(float(v)) for v in y),
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def close(a, b, rtol=RTOL):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    scale = np.maximum(np.abs(b), 1e-9 * max(1.0, float(np.max(np.abs(b)))))
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= rtol * scale + 1e-12))


def report(name, good, detail=""):
    results.append((good, name, detail))


def series(rng, n, level, slope, period, amp, noise):
    return [level + slope * t + (amp * math.sin(2 * math.pi * t / period) if period else 0.0)
            + rng.gauss(0, noise) for t in range(n)]


def case_filter(rng, idx):
    period = rng.choice([0, 0, 4, 12, 24])
    n = rng.randint(max(30, 3 * period), 200)
    y = series(rng, n, rng.uniform(10, 1e6), rng.uniform(-5, 50), period, rng.uniform(1, 100),
               rng.uniform(0.1, 20))
    alpha = rng.uniform(0.05, 0.95)
    beta = rng.uniform(0.01, 0.5)
    phi = rng.choice([1.0, rng.uniform(0.8, 0.999)])
    gamma = rng.uniform(0.01, 1 - alpha) if period else 0.0
    level0 = y[0] + rng.uniform(-5, 5)
    trend0 = rng.uniform(-2, 2)
    season0 = [rng.uniform(-50, 50) for _ in range(period)]
    h = rng.randint(1, 3 * max(period, 5))
    c = run("filter", y, alpha=alpha, beta=beta, gamma=gamma, phi=phi, trend=1, period=period,
            level0=level0, trend0=trend0, season0=",".join(repr(s) for s in season0) or "0", h=h)
    kw = dict(trend="add", damped_trend=phi != 1.0, initialization_method="known",
              initial_level=level0, initial_trend=trend0)
    if period:
        kw.update(seasonal="add", seasonal_periods=period, initial_seasonal=season0)
    m = ExponentialSmoothing(np.asarray(y), **kw)
    fkw = dict(smoothing_level=alpha, smoothing_trend=beta, optimized=False)
    if phi != 1.0:
        fkw["damping_trend"] = phi
    if period:
        fkw["smoothing_seasonal"] = gamma
    r = m.fit(**fkw)
    name = "filter %d (n=%d period=%d phi=%.3f h=%d)" % (idx, n, period, phi, h)
    # statsmodels 0.13 holtwinters forecasts steps k = m, 2m, ... with the
    # seasonal factor of one period too early (statsmodels#9538, fixed by
    # PR #10230 after Debian 12's 0.13.5): those steps are compared with
    # ETSModel below, which has it right.
    keep = [k for k in range(h) if not period or (k + 1) % period]
    parts = (close(c["fitted"], r.fittedvalues),
             close(np.asarray(c["forecast"])[keep], np.asarray(r.forecast(h))[keep]),
             close([c["sse"]], [r.sse]))
    report(name + " fitted/forecast/sse", all(parts),
           "" if all(parts) else "fitted/forecast/sse agree: %s; sse %r vs %r" % (parts, c["sse"], r.sse))

    # Intervals from the ETS state-space model with the same parameters.
    ekw = dict(error="add", trend="add", damped_trend=phi != 1.0, initialization_method="known",
               initial_level=level0, initial_trend=trend0)
    if period:
        ekw.update(seasonal="add", seasonal_periods=period,
                   initial_seasonal=season0)
    em = ETSModel(pd.Series(y, dtype=float), **ekw)
    fix = {"smoothing_level": alpha, "smoothing_trend": alpha * beta}
    if phi != 1.0:
        fix["damping_trend"] = phi
    if period:
        fix["smoothing_seasonal"] = gamma
    with em.fix_params(fix):
        er = em.fit(disp=False)
    sf = er.get_prediction(start=n, end=n + h - 1).summary_frame(alpha=0.05)
    var_sm = ((sf["pi_upper"].values - sf["mean"].values) / 1.959963984540054) ** 2
    good = close(sf["mean"].values, c["forecast"]) and close(c["variance"], var_sm, 1e-6)
    report(name + " ETS mean/variance", good,
           "" if good else "ours %s sm %s" % (c["variance"][:3], list(var_sm[:3])))


def case_fit(rng, idx):
    period = rng.choice([0, 0, 12])
    n = rng.randint(60, 240)
    y = series(rng, n, rng.uniform(100, 1000), rng.uniform(-1, 3), period, rng.uniform(5, 30),
               rng.uniform(1, 10))
    c = run("fit", y, damped=1, trend=1, period=period, h=5)
    # The reference minimum: statsmodels' SSE (holtwinters, optimized=False,
    # our initial states: its own fit() would optimise those too) minimised
    # by scipy's L-BFGS-B from a grid of starts over the same bounds.
    kw = dict(trend="add", damped_trend=True, initialization_method="known",
              initial_level=c["level0"], initial_trend=c["trend0"])
    if period:
        kw.update(seasonal="add", seasonal_periods=period, initial_seasonal=c["season0"])
    model = ExponentialSmoothing(np.asarray(y), **kw)

    def sse(x):
        fkw = dict(smoothing_level=x[0], smoothing_trend=x[1], damping_trend=x[2], optimized=False)
        if period:
            fkw["smoothing_seasonal"] = x[3] * (1 - x[0])
        return model.fit(**fkw).sse

    bounds = [(1e-4, 0.9999), (1e-4, 0.9999), (0.8, 1.0)] + ([(1e-4, 0.9999)] if period else [])
    best = math.inf
    for a0 in (0.1, 0.5, 0.9):
        for b0 in (0.01, 0.2):
            x0 = [a0, b0, 0.95] + ([0.2] if period else [])
            best = min(best, scipy.optimize.minimize(sse, x0, method="L-BFGS-B", bounds=bounds).fun)
    ok = c["sse"] <= best * (1 + 1e-4)
    report("fit %d (n=%d period=%d): sse %.8g vs reference %.8g" % (idx, n, period, c["sse"], best),
           ok)
    if period:
        l0 = sum(y[:period]) / period
        b0 = (sum(y[period:2 * period]) / period - l0) / period
        ok = close([c["level0"], c["trend0"]], [l0, b0], 1e-9)
        report("fit %d initial states as statsmodels' legacy-heuristic" % idx, ok)


def case_known(rng):
    y = [50 + 30 * math.sin(2 * math.pi * t / 60) + rng.gauss(0, 3) for t in range(400)]
    p = run("period", y)["period"]
    report("sine period 60 detected (got %d)" % p, p == 60)
    y = [5 + 0.2 * math.sin(2 * math.pi * t / 60) for t in range(400)]
    p = run("period", y)["period"]
    report("clean sine period 60 detected (got %d)" % p, p == 60)
    y = [100 + 3 * t + rng.gauss(0, 0.5) for t in range(300)]
    p = run("period", y)["period"]
    report("linear growth has no period (got %d)" % p, p == 0)
    # Linear growth: 1 MB/step from 200 MB, limit 600 MB: crosses at t=400,
    # i.e. 100 steps after the last of 300 samples.
    y = [200e6 + 1e6 * t + rng.gauss(0, 2e5) for t in range(300)]
    a = run("auto", y, h=200)
    cross = next((k + 1 for k, v in enumerate(a["mean"]) if v >= 600e6), None)
    good = cross is not None and abs(cross - 100) <= 5
    report("linear growth crosses its limit within 5 %% (step %s of 100, %s)" % (cross, a["method"]), good)


def main():
    rng = random.Random(20)
    for i in range(12):
        case_filter(rng, i)
    for i in range(6):
        case_fit(rng, i)
    case_known(rng)
    print("1..%d" % len(results))
    failed = 0
    for i, (good, name, detail) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if good else "not ok", i, name))
        if detail:
            print("# " + detail)
        failed += not good
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
