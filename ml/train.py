"""Train, evaluate, log to MLflow, register, and gate the ``champion`` alias.

``train(task, tracking_uri, model_name, ...)`` runs these steps, each announced by a log line
on the ``ml.train`` logger:

1. load the task's data (``ml.tasks``) and check its schema;
2. split off the held-out set;
3. fit the scikit-learn pipeline;
4. evaluate on the held-out set;
5. log params, metrics, the model (signature + input example; skops format, with the exact
   sklearn/numpy/scipy types it needs listed as trusted so ``mlflow-skinny`` + scikit-learn can
   load it), and the drift reference sample at ``drift/reference.csv`` in the run (CSV, header =
   model input feature names, numeric columns only, at most ``REFERENCE_MAX_ROWS`` rows drawn
   from the training rows);
6. register a new version of ``model_name``;
7. the promotion gate: evaluate the current ``champion`` on *this run's* held-out set (so both
   are judged on the same rows) and move the alias only if the new version is strictly better
   on the task's gate metric (lower ``mae`` for demand, higher ``accuracy`` for iris). If the
   champion cannot be loaded or scored, its logged metric is used instead; if that is missing
   too, the alias stays put. The decision is recorded as model-version tags (``PROMOTION_TAGS``)
   on the new version and as tags on the run.

Two trainings racing on the same model name can both read the same champion; the later
``set_registered_model_alias`` wins. Run one training per model name at a time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml.tasks import Split, TaskSpec, get_task

__all__ = [
    "CHAMPION_ALIAS",
    "PROMOTION_TAGS",
    "REFERENCE_ARTIFACT",
    "REFERENCE_MAX_ROWS",
    "TrainResult",
    "drift_reference_uri",
    "thread_limits",
    "train",
]

log = logging.getLogger("ml.train")

CHAMPION_ALIAS = "champion"
#: Where the drift reference lives inside the run's artifacts (the serving app reads it).
REFERENCE_ARTIFACT = "drift/reference.csv"
REFERENCE_MAX_ROWS = 5_000
#: Model-version tags written by the promotion gate.
PROMOTION_TAGS = (
    "promotion.decision",  # "promoted" | "rejected"
    "promotion.reason",  # one sentence
    "promotion.metric",  # e.g. "mae"
    "promotion.candidate_value",
    "promotion.champion_value",  # "" when there was no champion
    "promotion.champion_version",  # the champion compared against, "" when none
    "promotion.basis",  # "same held-out set" | "champion's logged metric" | "no champion"
)
_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")
# Outside those prefixes, but referenced by sklearn estimators themselves (HistGradientBoosting
# keeps a functools.partial of sklearn's check_array); whatever it wraps is checked on its own.
_TRUSTED_EXTRA = frozenset({"functools.partial"})
#: Below this many training rows, fit on one thread: OpenMP start-up costs more than it saves.
_SINGLE_THREAD_BELOW = 50_000
_TOTAL_STEPS = 7


@dataclass(frozen=True)
class TrainResult:
    """What one ``train`` call produced and decided."""

    run_id: str
    model_name: str
    version: str
    promoted: bool
    metric_name: str
    metric_value: float
    champion_version: str | None  # the version holding the alias after the gate
    reason: str
    metrics: dict[str, float] = field(default_factory=dict)
    model_uri: str = ""  # models:/<name>/<version>


def _step(n: int, total: int, message: str) -> float:
    log.info("[%d/%d] %s", n, total, message)
    return time.perf_counter()


@contextlib.contextmanager
def _env(**values: str) -> Iterator[None]:
    """Set environment variables for the duration of a block.

    Used for ``MLFLOW_LOG_UV_FILES=false``: the requirements are pinned explicitly, so the
    uv.lock of whatever directory the caller runs in must not be copied into the model.
    """
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def thread_limits(n_rows: int) -> Any:
    """Thread limits for fitting/predicting on ``n_rows`` training rows: one thread below
    ``_SINGLE_THREAD_BELOW`` rows (OpenMP start-up then costs more than it saves, badly so on a
    busy machine), the library default above. Use as a context manager."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1 if n_rows < _SINGLE_THREAD_BELOW else None)


def _trusted_types(model: Any) -> list[str]:
    """The non-default types skops needs trusted to load ``model``; refuses foreign types."""
    import skops.io as sio

    untrusted = sio.get_untrusted_types(data=sio.dumps(model))
    foreign = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES) and t not in _TRUSTED_EXTRA]
    if foreign:
        raise ValueError(f"model contains types outside sklearn/numpy/scipy: {', '.join(foreign)}")
    return sorted(untrusted)


def _pip_requirements() -> list[str]:
    # Explicit pins: inferring requirements spawns a subprocess per log_model and is slow.
    from importlib.metadata import version

    return [
        f"mlflow-skinny=={version('mlflow-skinny')}",
        f"scikit-learn=={version('scikit-learn')}",
        f"skops=={version('skops')}",
        f"numpy=={version('numpy')}",
        f"pandas=={version('pandas')}",
        f"scipy=={version('scipy')}",
    ]


def _reference_sample(x_train: pd.DataFrame, seed: int) -> pd.DataFrame:
    numeric = x_train.select_dtypes(include="number")
    if len(numeric) > REFERENCE_MAX_ROWS:
        numeric = numeric.sample(n=REFERENCE_MAX_ROWS, random_state=seed)
    return numeric.reset_index(drop=True)


def _log_params(spec: TaskSpec, pipeline: Any, split: Split, rows: int | None, seed: int) -> None:
    import mlflow

    estimator = pipeline.steps[-1][1]
    params: dict[str, Any] = {
        "task": spec.name,
        "rows": rows if rows is not None else "all",
        "seed": seed,
        "n_train": len(split.x_train),
        "n_test": len(split.x_test),
        "split": split.description,
        "estimator": type(estimator).__name__,
        "features": ",".join(spec.features),
    }
    for key, value in estimator.get_params(deep=False).items():
        if value is None or isinstance(value, (bool, int, float, str, list, tuple)):
            params[f"model.{key}"] = value
    mlflow.log_params(params)


def _champion_score(
    client: Any, spec: TaskSpec, model_name: str, split: Split
) -> tuple[str | None, float | None, str]:
    """(champion version, its gate metric, basis) — version None when there is no champion."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        champion = client.get_model_version_by_alias(model_name, CHAMPION_ALIAS)
    except MlflowException:
        return None, None, "no champion"
    try:
        model = mlflow.pyfunc.load_model(f"models:/{model_name}@{CHAMPION_ALIAS}")
        predictions = np.asarray(model.predict(split.x_test)).reshape(-1)
        value = spec.evaluate(split.y_test.to_numpy(), predictions)[spec.gate_metric]
        return champion.version, float(value), "same held-out set"
    except Exception as exc:  # a champion of another shape or flavour: fall back
        log.warning("could not score champion v%s on this held-out set (%s)", champion.version, exc)
    logged = None
    if champion.run_id:
        logged = client.get_run(champion.run_id).data.metrics.get(spec.gate_metric)
    return champion.version, (float(logged) if logged is not None else None), "champion's logged metric"


def _gate(
    client: Any,
    spec: TaskSpec,
    model_name: str,
    version: str,
    candidate: float,
    split: Split,
    min_improvement: float,
) -> tuple[bool, str, str | None, dict[str, str]]:
    champ_version, champ_value, basis = _champion_score(client, spec, model_name, split)
    metric = spec.gate_metric
    direction = "higher" if spec.greater_is_better else "lower"
    if champ_version is None:
        promoted, reason = True, f"no {CHAMPION_ALIAS} yet; version {version} becomes it"
    elif champ_value is None:
        promoted = False
        reason = f"{CHAMPION_ALIAS} v{champ_version} has no {metric} to compare; alias left in place"
    elif spec.better(candidate, champ_value, min_improvement):
        promoted = True
        reason = (
            f"{metric} {candidate:.6g} beats {CHAMPION_ALIAS} v{champ_version} "
            f"({champ_value:.6g}, {direction} is better, {basis})"
        )
    else:
        promoted = False
        reason = (
            f"{metric} {candidate:.6g} does not beat {CHAMPION_ALIAS} v{champ_version} "
            f"({champ_value:.6g}, {direction} is better, {basis})"
        )
    tags = {
        "promotion.decision": "promoted" if promoted else "rejected",
        "promotion.reason": reason,
        "promotion.metric": metric,
        "promotion.candidate_value": repr(float(candidate)),
        "promotion.champion_value": "" if champ_value is None else repr(float(champ_value)),
        "promotion.champion_version": champ_version or "",
        "promotion.basis": basis,
    }
    return promoted, reason, (version if promoted else champ_version), tags


def _log_run(
    spec: TaskSpec,
    pipeline: Any,
    split: Split,
    metrics: dict[str, float],
    rows: int | None,
    seed: int,
) -> tuple[str, str]:
    """Log params, metrics, model and drift reference in a new run: (run_id, logged model URI)."""
    import mlflow
    from mlflow.models import infer_signature

    with mlflow.start_run() as run, _env(MLFLOW_LOG_UV_FILES="false"):
        _log_params(spec, pipeline, split, rows, seed)
        mlflow.log_metrics(metrics)
        example = split.x_train.head(5)
        info = mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=infer_signature(example, pipeline.predict(example)),
            input_example=example,
            serialization_format="skops",
            skops_trusted_types=_trusted_types(pipeline),
            pip_requirements=_pip_requirements(),
        )
        folder, filename = REFERENCE_ARTIFACT.rsplit("/", 1)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / filename
            _reference_sample(split.x_train, seed).to_csv(path, index=False)
            mlflow.log_artifact(str(path), artifact_path=folder)
        return run.info.run_id, info.model_uri


def train(
    task: str,
    tracking_uri: str | None,
    model_name: str,
    rows: int | None = None,
    seed: int = 0,
    *,
    experiment: str | None = None,
    test_size: float = 0.2,
    params: dict[str, Any] | None = None,
    min_improvement: float = 0.0,
) -> TrainResult:
    """Run the training steps in the module docstring and return what happened.

    ``tracking_uri`` None uses ``MLFLOW_TRACKING_URI`` (or MLflow's own default); it is also used
    as the registry URI. ``rows`` None takes the task's default (100,000 for demand, all 150 for
    iris). ``params`` overrides estimator hyper-parameters (e.g. ``{"max_iter": 5}``).
    ``experiment`` defaults to ``model_name``. ``min_improvement`` is the margin by which the
    new version must beat the champion.
    """
    import mlflow

    spec = get_task(task)
    if not model_name:
        raise ValueError("model_name must not be empty")
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be within (0, 1), got {test_size}")
    if rows is not None and rows < 10:
        raise ValueError(f"rows must be >= 10, got {rows}")
    rows = rows if rows is not None else spec.default_rows
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
    n = _TOTAL_STEPS

    t0 = _step(1, n, f"loading {spec.name} data (rows={rows or 'all'}, seed={seed})")
    frame = spec.load(rows, seed)
    t1 = _step(2, n, f"splitting {len(frame)} rows")
    split = spec.split(frame, test_size, seed)
    pipeline = spec.build(seed, dict(params or {}))
    with thread_limits(len(split.x_train)):
        t2 = _step(3, n, f"fitting {type(pipeline[-1]).__name__} on {len(split.x_train)} rows")
        pipeline.fit(split.x_train, split.y_train)
        t3 = _step(4, n, f"evaluating on {len(split.x_test)} held-out rows")
        metrics = spec.evaluate(split.y_test.to_numpy(), pipeline.predict(split.x_test))
        log.info("      %s", ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
        timings = {"load_seconds": t1 - t0, "split_seconds": t2 - t1, "fit_seconds": t3 - t2}

        mlflow.set_experiment(experiment or model_name)
        _step(5, n, f"logging run to {mlflow.get_tracking_uri()}")
        run_id, logged_uri = _log_run(spec, pipeline, split, {**metrics, **timings}, rows, seed)

        _step(6, n, f"registering a new version of {model_name!r}")
        client = mlflow.MlflowClient()
        version = str(mlflow.register_model(logged_uri, model_name).version)

        _step(7, n, f"promotion gate on {spec.gate_metric} for version {version}")
        candidate = metrics[spec.gate_metric]
        promoted, reason, champion_version, tags = _gate(
            client, spec, model_name, version, candidate, split, min_improvement
        )
    for key, value in tags.items():
        client.set_model_version_tag(model_name, version, key, value)
        client.set_tag(run_id, key, value)
    if promoted:
        client.set_registered_model_alias(model_name, CHAMPION_ALIAS, version)
    log.info("      %s: %s", tags["promotion.decision"], reason)
    return TrainResult(
        run_id=run_id,
        model_name=model_name,
        version=version,
        promoted=promoted,
        metric_name=spec.gate_metric,
        metric_value=float(candidate),
        champion_version=champion_version,
        reason=reason,
        metrics=metrics,
        model_uri=f"models:/{model_name}/{version}",
    )


def drift_reference_uri(
    model_name: str, alias: str = CHAMPION_ALIAS, *, tracking_uri: str | None = None
) -> str:
    """``runs:/<run_id>/drift/reference.csv`` of the version that ``alias`` points to.

    For the serving app: ``mlflow.artifacts.download_artifacts(drift_reference_uri(name))``
    fetches the reference sample that belongs to the model it serves.
    """
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    version = client.get_model_version_by_alias(model_name, alias)
    if not version.run_id:
        raise ValueError(f"{model_name}@{alias} (version {version.version}) has no source run")
    return f"runs:/{version.run_id}/{REFERENCE_ARTIFACT}"
