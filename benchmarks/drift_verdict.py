"""False-alarm rate and power of the drift verdict, beside alibi-detect's KSDrift and Evidently.

    .venv/bin/python benchmarks/drift_verdict.py [--trials 200] [--others-python PATH] [--others-trials 40]

Data: the demand features the service compares (``store_id``, ``item_id``, ``day_of_week``,
``price``, ``promo``; ``day_of_year`` is a calendar feature and is left out of the reference).
Reference: 5,000 rows of ``generate_demand(seed=1)``; windows drawn from ``seed=2`` (same world,
so no drift). Cases: ``no-drift``; ``price+5%``; ``promo 10->20%``. Windows 100-2000 rows.

Ours: ``ml.drift.DriftReference`` with the serving defaults (p 0.05, BH, PSI effect size 0,
chi-square on the categorical columns). Others, when ``--others-python`` names an interpreter of
a separate environment with ``alibi-detect`` and ``evidently`` (not the project venv), e.g.::

    UV_CACHE_DIR=~/.cache/mlops-bench uv venv ~/.cache/mlops-bench/venv --python 3.11
    UV_CACHE_DIR=~/.cache/mlops-bench uv pip install --python ~/.cache/mlops-bench/venv/bin/python \
        alibi-detect==0.13.0 evidently==0.7.23

run ``benchmarks/_drift_others.py`` there on the same windows (saved to an .npz): alibi-detect's
``KSDrift(p_val=0.05)`` (its default Bonferroni correction) and Evidently's ``DataDriftPreset()``
defaults (dataset drift when at least half the columns drift). Prints rates (share of windows
flagged) and the machine's load. Nothing asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ml.data import generate_demand  # noqa: E402
from ml.drift import DriftReference  # noqa: E402
from serving.drift import drift_settings  # noqa: E402

FEATURES = ["store_id", "item_id", "day_of_week", "price", "promo"]
WINDOWS = (100, 250, 500, 1000, 2000)
CASES = ("no-drift", "price+5%", "promo 10->20%")


def _windows(pool: np.ndarray, case: str, n: int, trials: int, rng: np.random.Generator) -> np.ndarray:
    out = np.empty((trials, n, pool.shape[1]))
    for t in range(trials):
        w = pool[rng.choice(len(pool), n, replace=False)].copy()
        if case == "price+5%":
            w[:, 3] *= 1.05
        elif case == "promo 10->20%":
            w[:, 4] = rng.random(n) < 0.2
        out[t] = w
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--others-python", default=None)
    parser.add_argument("--others-trials", type=int, default=40)
    parser.add_argument("--others-timeout", type=float, default=3600.0, help="seconds for the other tools")
    args = parser.parse_args()

    ref = generate_demand(5_000, 1)[FEATURES].to_numpy(float)
    pool = generate_demand(200_000, 2)[FEATURES].to_numpy(float)
    # Exactly what the serving app applies with no SERVING_DRIFT_* variables set.
    ours = DriftReference(ref, FEATURES).configured(**drift_settings({}))
    print(f"load average at start: {os.getloadavg()}")
    print(f"reference {ref.shape[0]} rows; ours: p={ours.p_threshold} {ours.correction}, "
          f"chi-square on {', '.join(ours.categorical)}; trials per cell: ours {args.trials}, "
          f"others {args.others_trials}")
    rng = np.random.default_rng(0)
    rows: dict[tuple[str, int], dict[str, float]] = {}
    saved: dict[str, np.ndarray] = {"reference": ref}
    t0 = time.perf_counter()
    for case in CASES:
        for n in WINDOWS:
            wins = _windows(pool, case, n, args.trials, rng)
            rows[(case, n)] = {"ours": float(np.mean([ours.compare(w).drifted for w in wins]))}
            saved[f"{case}|{n}"] = wins[: args.others_trials]
    t_ours = time.perf_counter() - t0
    print(f"\nours only ({t_ours:.1f}s):\n{'case':<16}{'window':>7}{'ours':>18}")
    for (case, n), values in rows.items():
        print(f"{case:<16}{n:>7}{values['ours']:>18.3f}")
    sys.stdout.flush()
    t1 = time.perf_counter()
    if args.others_python:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "windows.npz"
            np.savez(path, **saved)
            proc = subprocess.run(
                [args.others_python, str(ROOT / "benchmarks" / "_drift_others.py"), str(path), ",".join(FEATURES)],
                capture_output=True, text=True, timeout=args.others_timeout, check=False,
            )
            if proc.returncode != 0:
                print(f"others failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
            else:
                for key, value in json.loads(proc.stdout.strip().splitlines()[-1]).items():
                    case, n = key.split("|")
                    rows[(case, int(n))].update(value)
    names = ["ours"] + (["alibi_ksdrift", "evidently_preset"] if args.others_python else [])
    print(f"\n{'case':<16}{'window':>7}" + "".join(f"{n:>18}" for n in names))
    for (case, n), values in rows.items():
        print(f"{case:<16}{n:>7}" + "".join(f"{values.get(k, float('nan')):>18.3f}" for k in names))
    print(f"\n(no-drift rows are false-alarm rates, target <= 0.05; others are power.) "
          f"ours took {t_ours:.1f}s, the others {time.perf_counter() - t1:.1f}s; "
          f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
