#!/usr/bin/python3
"""Forecast accuracy against statsmodels, in the same run (not a test).

    tests/bench/bench-forecast-peer.py BUILD_DIR TRACE.csv...

Runs build/tests/bench/bench-forecast on the recorded traces (ours:
every method and "auto", the backtest's pick) and scores Debian's
python3-statsmodels ExponentialSmoothing (additive damped trend, fitted by
statsmodels) on the very same series, origins and horizons: the traces
resampled onto a 1 s grid as bench-forecast does, plus their 10 s block
means for traces of 40 min or more (5, 15 and 30 minutes ahead).  MASE is
the forecast's MAE over the horizon divided by the in-sample one-step
naive MAE before the origin.  Prints one JSON document: per trace, series
and horizon, MASE of our auto, our holt-damped and statsmodels'
holt-damped, and the 95 % coverage of ours.
"""
import csv, json, subprocess, sys, warnings

import numpy as np

from statsmodels.tsa.holtwinters import ExponentialSmoothing  # noqa: E402

MAX_FIT = 2048


def load(path):
    t, c, m = [], [], []
    with open(path) as f:
        for row in csv.DictReader(f):
            t.append(float(row["t_s"])), c.append(float(row["cpu_percent"])), m.append(float(row["memory_bytes"]))
    grid = np.arange(0, int(t[-1]) + 1, 1.0)
    return np.interp(grid, t, c), np.interp(grid, t, m)


def block_means(y, k):
    n = len(y) // k
    return y[: n * k].reshape(n, k).mean(axis=1)


def origins(n, h):
    first = n // 2
    stride = max(h // 2, n // 40)
    if n > first + h and (n - first - h) // stride < 5:
        stride = max((n - first - h) // 5, 1)
    return range(first, n - h + 1, max(stride, 1))


def statsmodels_mase(y, h):
    warnings.simplefilter("ignore")
    total, count = 0.0, 0
    for o in origins(len(y), h):
        hist = y[max(0, o - MAX_FIT):o]
        scale = max(np.mean(np.abs(np.diff(hist))), 1e-9)
        try:
            fit = ExponentialSmoothing(hist, trend="add", damped_trend=True,
                                       initialization_method="estimated").fit()
            f = fit.forecast(h)
        except Exception:
            f = np.repeat(hist[-1], h)
        total += np.mean(np.abs(f - y[o:o + h])) / scale
        count += 1
    return total / count if count else None


def main():
    build, paths = sys.argv[1], sys.argv[2:]
    text = subprocess.run([build + "/tests/bench/bench-forecast"] + paths,
                          check=True, capture_output=True, text=True).stdout
    ours = json.loads(text)
    series = {}
    for p in paths:
        name = p.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        cpu, mem = load(p)
        series[name] = (1.0, cpu, mem)
        if len(cpu) >= 2 * 900 + 160:
            series[name + "@10s"] = (10.0, block_means(cpu, 10), block_means(mem, 10))
    out = []
    for row in ours["forecasts"]:
        if row["trace"] not in series:
            continue
        step, cpu, mem = series[row["trace"]]
        y = cpu if row["series"] == "cpu_percent" else mem
        h = int(round(row["horizon_s"] / step))
        m = row["methods"]
        out.append({
            "trace": row["trace"], "series": row["series"], "horizon_s": row["horizon_s"],
            "auto_picks": row["auto_picks"],
            "mase_ours_auto": m["auto"]["mase"],
            "mase_ours_holt_damped": m.get("holt-damped", {}).get("mase"),
            "mase_statsmodels_holt_damped": statsmodels_mase(y, h),
            "coverage_95_ours_auto": m["auto"]["coverage_95"],
        })
    print(json.dumps({"peer": "statsmodels ExponentialSmoothing(trend=add, damped_trend=True)",
                      "rows": out}))


if __name__ == "__main__":
    main()
