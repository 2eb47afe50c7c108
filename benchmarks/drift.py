"""Drift-check time: ml.drift vs a per-feature scipy loop, same data.

    .venv/bin/python benchmarks/drift.py [--features 20] [--reference 100000] [--window 10000]
                                         [--repeat 7]

Prints, for a reference of ``--reference`` rows x ``--features`` features and a current window
of ``--window`` rows (one feature shifted, so the verdict is not trivially "no drift"):

* the one-off cost of ``DriftReference(...)`` (sorting the reference, PSI bin edges);
* the periodic check ``DriftReference.compare(window)`` (KS + PSI + BH correction);
* ``compute_drift`` (build + compare, what a one-off caller pays);
* a scipy baseline: ``scipy.stats.ks_2samp`` per feature (``method="asymp"``, the same p-values
  as ours; scipy's ``"auto"`` is also asymp at these sizes) plus a per-feature ``np.histogram``
  PSI, i.e. what a straightforward implementation does on every check;
* ratios baseline / ours, and the largest |difference| of statistics and p-values vs scipy.

Times are the best of ``--repeat`` runs (seconds and milliseconds). Nothing asserts.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from scipy import stats

from ml.drift import PSI_EPSILON, DriftReference, adjust_p_values, compute_drift


def _best(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def _scipy_loop(ref: np.ndarray, cur: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = ref.shape[1]
    d, p, psi = np.empty(k), np.empty(k), np.empty(k)
    for j in range(k):
        res = stats.ks_2samp(ref[:, j], cur[:, j], method="asymp")
        d[j], p[j] = res.statistic, res.pvalue
        edges = np.unique(np.quantile(ref[:, j], np.linspace(0, 1, bins + 1)))
        edges[0], edges[-1] = -np.inf, np.inf
        r = np.maximum(np.histogram(ref[:, j], edges)[0] / len(ref), PSI_EPSILON)
        c = np.maximum(np.histogram(cur[:, j], edges)[0] / len(cur), PSI_EPSILON)
        psi[j] = np.sum((c - r) * np.log(c / r))
    adjust_p_values(p, "bh")
    return d, p, psi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--reference", type=int, default=100_000)
    parser.add_argument("--window", type=int, default=10_000)
    parser.add_argument("--bins", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    k = args.features
    names = [f"f{i}" for i in range(k)]
    ref = rng.normal(size=(args.reference, k))
    cur = rng.normal(size=(args.window, k))
    cur[:, 0] += 0.05

    print(f"drift check: {k} features, reference {args.reference:,} rows, window {args.window:,} rows, "
          f"best of {args.repeat}")
    t_build, prepared = _best(lambda: DriftReference(ref, names, bins=args.bins), args.repeat)
    t_compare, report = _best(lambda: prepared.compare(cur), args.repeat)
    t_oneoff, _ = _best(lambda: compute_drift(ref, cur, names, bins=args.bins), args.repeat)
    t_scipy, (d, p, _psi) = _best(lambda: _scipy_loop(ref, cur, args.bins), args.repeat)

    ours_d = np.array([f.ks_statistic for f in report.features])
    ours_p = np.array([f.p_value for f in report.features])
    print(f"  DriftReference build (once)          {t_build * 1e3:9.1f} ms")
    print(f"  compare (periodic check)             {t_compare * 1e3:9.1f} ms")
    print(f"  compute_drift (build + compare)      {t_oneoff * 1e3:9.1f} ms")
    print(f"  scipy ks_2samp + histogram PSI loop  {t_scipy * 1e3:9.1f} ms")
    print(f"ratio scipy-loop / compare:        {t_scipy / t_compare:6.1f}x")
    print(f"ratio scipy-loop / compute_drift:  {t_scipy / t_oneoff:6.1f}x")
    print(f"max |KS statistic - scipy|: {np.max(np.abs(ours_d - d)):.2e}   "
          f"max |p - scipy|: {np.max(np.abs(ours_p - p)):.2e}")
    print(f"verdict: drifted={report.drifted} features={report.drifted_features}")


if __name__ == "__main__":
    main()
