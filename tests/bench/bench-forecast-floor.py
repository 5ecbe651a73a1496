#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The floor of "MASE < 0.8 against seasonal-naive" on a recorded periodic
trace: forecasts that know what no forecaster can, scored as
bench-forecast scores the trace's 10 s means (the same origins, horizons
and in-sample naive scale), each as its MAE over seasonal-naive's.

  tests/bench/bench-forecast-floor.py TRACE.csv [PERIOD_S]

Oracles (hindsight: they see the test half):
  profile@10s   each phase's mean over the whole trace at 10 s (period/10
                slots): the cycle's true mean shape on the scored grid
  profile@1s    the best real-valued period (searched to 1 ms) and a 1 s
                phase profile over the whole trace, averaged into the 10 s
                blocks: also knows the exact phase at every block
  profile@1s+level  the same plus each origin's level over the last period
Methods (history only), the brief's candidates:
  median@10s    each phase's median over the last 4 periods at 10 s
  mean@1s       each phase's mean over the last 4 periods on the 1 s series,
                averaged into the 10 s blocks (a fine ring aggregated)
  aligned@1s    mean@1s with each earlier period shifted by the lag (within
                +-3 s) that best matches the last period (cross-correlation)
  mean@10s      seasonal-mean as the daemon has it (4 periods at 10 s)
and "best pick": at each origin the best of the history-only methods
above and seasonal-naive, chosen knowing the outcome — what a perfect
backtest choice among them could reach.
"""
import sys

import numpy as np


def load(path):
    d = np.loadtxt(path, delimiter=",", skiprows=1)
    t = d[:, 0]
    grid = np.arange(0, np.floor(t[-1]) + 1)
    return grid, np.interp(grid, t, d[:, 1]), np.interp(grid, t, d[:, 2])


def blocks(y, k):
    n = len(y) // k
    return y[: n * k].reshape(n, k).mean(axis=1)


def origins(n, h):
    stride, first = max(h // 2, n // 40), n // 2
    if n > first + h and (n - first - h) // stride < 5:
        stride = max((n - first - h) // 5, 1)
    return list(range(first, n - h + 1, max(stride, 1)))


def naive_mae(y):
    return max(np.mean(np.abs(np.diff(y))), 1e-9) if len(y) > 1 else 1.0


def best_period(y1, lo, hi):
    """The real period in [lo, hi] whose 1 s phase profile explains y1 best."""
    t = np.arange(len(y1))
    best = (np.inf, None)
    for T in np.arange(lo, hi, 0.001):
        bins = np.floor((t % T) / T * round(T)).astype(int)
        prof = np.bincount(bins, y1) / np.maximum(np.bincount(bins), 1)
        sse = np.sum((y1 - prof[bins]) ** 2)
        if sse < best[0]:
            best = (sse, T)
    return best[1]


def main():
    path = sys.argv[1]
    period_s = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    k = 10
    P = int(round(period_s / k))
    P1 = int(round(period_s))
    _, cpu1, mem1 = load(path)
    print("| series | horizon | oracle profile@10s | oracle profile@1s | oracle profile@1s+level "
          "| median@10s | mean@1s | aligned@1s | mean@10s | best pick | seasonal-naive MASE |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, y1 in (("cpu", cpu1), ("memory", mem1)):
        y = blocks(y1, k)
        n = len(y)
        T = best_period(y1, period_s - 1, period_s + 1)
        t = np.arange(len(y1))
        bins = np.floor((t % T) / T * round(T)).astype(int)
        prof1 = np.bincount(bins, y1) / np.maximum(np.bincount(bins), 1)
        fit1 = blocks(prof1[bins], k)
        prof10 = np.array([y[j::P].mean() for j in range(P)])
        for h in (30, 90):
            sums = {}
            for o in origins(n, h):
                hist = y[max(0, o - 2048):o]
                scale = naive_mae(hist)
                act = y[o:o + h]
                f = {}
                f["snaive"] = np.array([y[o - P + (j % P)] for j in range(h)])
                f["profile@10s"] = np.array([prof10[(o + j) % P] for j in range(h)])
                f["profile@1s"] = fit1[o:o + h]
                lvl = np.mean(y[o - P:o]) - np.mean(fit1[o - P:o])
                f["profile@1s+level"] = fit1[o:o + h] + lvl
                K = min(4, o // P)
                f["median@10s"] = np.array(
                    [np.median([y[o - P + (j % P) - i * P] for i in range(K)]) for j in range(h)])
                f["mean@10s"] = np.array(
                    [np.mean([y[o - P + (j % P) - i * P] for i in range(K)]) for j in range(h)])
                # The fine ring: the last K periods at 1 s before the origin's block.
                e = o * k
                per = np.array([y1[e - (i + 1) * P1:e - i * P1] for i in range(min(4, e // P1))])
                m1 = per.mean(axis=0)
                f["mean@1s"] = blocks(np.tile(m1, h * k // P1 + 1)[:h * k], k)
                last = per[0]
                shifted = [last]
                for i in range(1, len(per)):
                    seg = y1[e - (i + 1) * P1 - 3:e - i * P1 + 3]
                    errs = [np.sum((seg[3 + s:3 + s + P1] - last) ** 2) for s in range(-3, 4)]
                    s = int(np.argmin(errs)) - 3
                    shifted.append(seg[3 + s:3 + s + P1])
                m2 = np.mean(shifted, axis=0)
                f["aligned@1s"] = blocks(np.tile(m2, h * k // P1 + 1)[:h * k], k)
                real = ("snaive", "median@10s", "mean@1s", "aligned@1s", "mean@10s")
                f["best pick"] = min((f[key] for key in real), key=lambda v: np.mean(np.abs(v - act)))
                for key, v in f.items():
                    a = sums.setdefault(key, [0.0, 0.0, 0])
                    a[0] += np.mean(np.abs(v - act))
                    a[1] += np.mean(np.abs(v - act)) / scale
                    a[2] += 1
            sn = sums["snaive"][0]
            cells = [f"{sums[key][0] / sn:.2f}" for key in
                     ("profile@10s", "profile@1s", "profile@1s+level", "median@10s", "mean@1s",
                      "aligned@1s", "mean@10s", "best pick")]
            print(f"| {name} | {h * k} s | " + " | ".join(cells) +
                  f" | {sums['snaive'][1] / sums['snaive'][2]:.2f} |")
        print(f"<!-- {name}: best period {T:.3f} s -->")


if __name__ == "__main__":
    main()
