"""Training time: data generation, fit/predict per task, and the full ``ml.train.train`` run.

    .venv/bin/python benchmarks/training.py [--rows 10000,100000,300000] [--generate 1000000]
                                            [--no-mlflow]

Prints:

* ``generate_demand`` time for ``--generate`` rows (rows per second);
* for each ``--rows`` size of the demand task: fit and held-out predict time of the pipeline
  alone (with ``ml.train.thread_limits``, as training uses it), boosting rounds used (early stopping), held-out MAE, and fit time per 100k rows;
* the iris random forest fit time;
* unless ``--no-mlflow``: the end-to-end ``train()`` (data, fit, evaluate, log model + drift
  reference, register, gate) against a throw-away sqlite tracking store in a temp dir, and the
  ratio end-to-end / fit alone, i.e. what the MLflow bookkeeping costs on top of learning.

Times are wall-clock seconds from one run each (fits are seconds long; the point is scale).
Nothing asserts.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time

import numpy as np
from threadpoolctl import threadpool_info

from ml.data import generate_demand
from ml.tasks import get_task
from ml.train import thread_limits


def _timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _fit_task(task: str, rows: int | None, seed: int = 0) -> tuple[float, float, float, object, dict]:
    spec = get_task(task)
    frame = spec.load(rows, seed)
    split = spec.split(frame, 0.2, seed)
    pipe = spec.build(seed, {})
    with thread_limits(len(split.x_train)):  # same thread policy as ml.train.train
        t_fit, _ = _timed(lambda: pipe.fit(split.x_train, split.y_train))
        t_pred, pred = _timed(lambda: pipe.predict(split.x_test))
    metrics = spec.evaluate(split.y_test.to_numpy(), pred)
    return t_fit, t_pred, len(split.x_train), pipe, metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="10000,100000,300000", help="demand sizes, comma-separated")
    parser.add_argument("--generate", type=int, default=1_000_000, help="rows for the generator timing")
    parser.add_argument("--no-mlflow", action="store_true", help="skip the end-to-end train() run")
    args = parser.parse_args()
    sizes = [int(x) for x in args.rows.split(",") if x]
    threads = max((i.get("num_threads", 1) for i in threadpool_info()), default=1)
    print(f"machine: {os.cpu_count()} cpus, thread pools up to {threads} threads")

    t_gen, frame = _timed(lambda: generate_demand(args.generate, seed=0))
    print(f"generate_demand {args.generate:>9,} rows: {t_gen:7.2f} s  ({args.generate / t_gen:,.0f} rows/s)")
    del frame

    print("demand (HistGradientBoostingRegressor, time split 80/20):")
    fit_times: dict[int, float] = {}
    for rows in sizes:
        t_fit, t_pred, n_train, pipe, metrics = _fit_task("demand", rows)
        fit_times[rows] = t_fit
        rounds = pipe[-1].n_iter_
        print(f"  rows {rows:>9,}: fit {t_fit:6.2f} s on {n_train:,} rows ({rounds} rounds), "
              f"predict {t_pred * 1e3:7.1f} ms, MAE {metrics['mae']:.3f}, "
              f"{t_fit / n_train * 1e5:.2f} s per 100k train rows")
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        print(f"ratio fit time {large:,} / {small:,} rows: {fit_times[large] / fit_times[small]:.1f}x "
              f"for {large / small:.0f}x the rows")

    t_fit, t_pred, n_train, _, metrics = _fit_task("iris", None)
    print(f"iris (RandomForestClassifier, 100 trees): fit {t_fit:.3f} s on {n_train} rows, "
          f"accuracy {metrics['accuracy']:.3f}")

    if args.no_mlflow:
        return
    from ml.train import train

    logging.getLogger("mlflow").setLevel(logging.ERROR)
    rows = sizes[min(1, len(sizes) - 1)]
    with tempfile.TemporaryDirectory() as tmp:
        uri = f"sqlite:///{tmp}/mlflow.db"
        os.environ["MLFLOW_ARTIFACTS_DESTINATION"] = tmp
        import mlflow

        mlflow.set_tracking_uri(uri)
        mlflow.create_experiment("bench", artifact_location=f"{tmp}/artifacts")
        t_e2e, result = _timed(lambda: train("demand", uri, "bench-demand", rows=rows, seed=0,
                                              experiment="bench"))
        t_fit_only, *_ = _fit_task("demand", rows)
    print(f"train() end to end, demand {rows:,} rows, sqlite store: {t_e2e:.2f} s "
          f"(version {result.version}, {result.metric_name}={result.metric_value:.3f})")
    print(f"ratio end-to-end / fit alone: {t_e2e / t_fit_only:.2f}x "
          f"(MLflow logging, model save + validation, register, gate: {t_e2e - t_fit_only:.2f} s)")
    print(f"predict sanity: {np.isfinite(result.metric_value)}")


if __name__ == "__main__":
    main()
