"""Train, evaluate, log to MLflow, register, and gate the ``champion`` alias.

``train(task, tracking_uri, model_name, ...)`` runs these steps, each announced by a log line
on the ``ml.train`` logger:

1. load the task's data (``ml.tasks``, or the caller's recent rows) and check its schema;
   refuse a candidate whose task or input signature differs from the registered model's
   (``ml.task`` / ``ml.input_schema`` tags on the registered model, kept when versions go);
2. load (or, the first time, create under the promotion lock) the model name's frozen,
   versioned held-out set (``holdout/holdout.csv`` in its own run; registered-model tags
   ``ml.holdout.*``), drop its rows from the training data, split the rest;
3. fit the scikit-learn pipeline;
4. evaluate on the own test split and on the frozen held-out set;
5. log (explicit ``MlflowClient``, no process-global state) params, metrics, lineage tags
   (seed, world seed, git commit, image, job key), the training and held-out sets as dataset
   inputs, the model (skops format; the drift reference inside it too) and the drift
   reference at ``drift/reference.csv`` (numeric model inputs minus calendar features);
6. register a new version of ``model_name``;
7. the promotion gate (``ml.gate``), under the registry lock: re-read the alias, score the
   champion on the same frozen rows, promote only on a significant paired gain (bootstrap by
   default), compare-and-set the alias. Any registry error other than "model/alias not
   found" aborts (``PromotionAborted``): the alias stays, the version and run record why.

Before step 1, runs a killed training left RUNNING (same job key, or a stale heartbeat) are
marked FAILED and versions without a decision ``abandoned``; a retry of a finished job returns
its result without a new version; a non-primary node of a multi-node job does nothing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml.checkpoint import Checkpoint, checkpoint_dir as _checkpoint_dir, fingerprint
from ml.checkpoint import fit as _fit_checkpointed
from ml.gate import (
    GateConfig,
    PromotionAborted,
    PromotionLock,
    PromotionRefused,
    is_no_champion,
    primary_node,
    significance,
)
from ml.tasks import Split, TaskSpec, exclude_keys, get_task

__all__ = [
    "CHALLENGER_ALIAS",
    "CHAMPION_ALIAS",
    "DATA_DIGEST_TAG",
    "PROMOTION_TAGS",
    "REFERENCE_ARTIFACT",
    "REFERENCE_MAX_ROWS",
    "TrainResult",
    "drift_reference_uri",
    "thread_limits",
    "GateConfig",
    "PromotionAborted",
    "PromotionRefused",
    "lineage_tags",
    "train",
]

log = logging.getLogger("ml.train")

CHAMPION_ALIAS = "champion"
#: Canary rollouts (ml.canary): a candidate that beats the champion is first set here; while no
#: canary bakes, it points at the champion's version (the canary pods then serve the champion).
CHALLENGER_ALIAS = "challenger"
#: Model-version tag: MLflow's digest of the training rows (duplicate detection).
DATA_DIGEST_TAG = "ml.data_digest"
#: Where the drift reference lives inside the run's artifacts (the serving app reads it).
REFERENCE_ARTIFACT = "drift/reference.csv"
REFERENCE_MAX_ROWS = 5_000
#: The model's directory in the run; the reference is also kept inside it.
MODEL_ARTIFACT = "model"
REFERENCE_IN_MODEL = "drift/reference.csv"
#: Folder of the frozen held-out set in its own run.
HOLDOUT_DIR = "holdout"
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
    decision: str = ""  # promoted | rejected | already done | skipped


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


def _params(spec: TaskSpec, pipeline: Any, split: Split, rows: int | None, seed: int) -> dict[str, str]:
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
    return {k: str(v)[:6000] for k, v in params.items()}


def _git_commit() -> str:
    """The commit the code came from: ``ML_GIT_COMMIT`` (set by the image build), else git."""
    if os.environ.get("ML_GIT_COMMIT"):
        return os.environ["ML_GIT_COMMIT"]
    import subprocess

    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, capture_output=True,
            text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown"


def lineage_tags(seed: int, job_key: str) -> dict[str, str]:
    """Lineage written on every run: seed, world seed, git commit, image, job key."""
    commit = _git_commit()
    return {
        "ml.seed": str(seed),
        "ml.world_seed": "0",
        "ml.git_commit": commit,
        "mlflow.source.git.commit": commit,
        # The launcher passes the image it runs (ideally by digest, repo@sha256:...).
        "ml.image": os.environ.get("ML_IMAGE_URI", "none"),
        "ml.image_digest": os.environ.get("ML_IMAGE_URI", "").partition("@")[2] or "unknown",
        "ml.job_key": job_key,
    }


def _dataset_input(frame: pd.DataFrame, name: str, target: str, context: str, source: str) -> Any:
    """An MLflow ``DatasetInput`` for ``frame`` (digest computed by MLflow)."""
    import mlflow.data
    from mlflow.data.code_dataset_source import CodeDatasetSource
    from mlflow.entities import DatasetInput, InputTag

    # The source is described, not resolved: a run artifact or a generator call.
    dataset = mlflow.data.from_pandas(
        frame, name=name, targets=target, source=CodeDatasetSource(tags={"ml.source": source})
    )
    return DatasetInput(
        dataset=dataset._to_mlflow_entity(),
        tags=[InputTag(key="mlflow.data.context", value=context)],
    )


def _experiment_id(client: Any, name: str) -> str:
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    try:
        return client.create_experiment(name)
    except MlflowException as exc:  # created meanwhile by a concurrent training
        if getattr(exc, "error_code", "") != "RESOURCE_ALREADY_EXISTS":
            raise
        return client.get_experiment_by_name(name).experiment_id


def _registered_model(client: Any, model_name: str) -> Any | None:
    """The registered model, or None when the server says it does not exist (fail closed)."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_registered_model(model_name)
    except MlflowException as exc:
        if is_no_champion(exc):
            return None
        raise PromotionAborted(f"cannot read registered model {model_name!r}: {_line(exc)}") from None


def _line(exc: BaseException) -> str:
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    return text[:300]


def _check_identity(model: Any | None, spec: TaskSpec, schema_json: str, model_name: str) -> None:
    """Refuse a candidate of another task or input signature than the registered model's."""
    if model is None:
        return
    tags = model.tags or {}
    task = tags.get("ml.task")
    if task and task != spec.name:
        raise PromotionRefused(
            f"registered model {model_name!r} is a {task!r} model; refusing a {spec.name!r} candidate"
        )
    schema = tags.get("ml.input_schema")
    if schema and json.loads(schema) != json.loads(schema_json):
        raise PromotionRefused(
            f"registered model {model_name!r} takes inputs {schema}; the candidate takes {schema_json}"
        )


def _holdout(client: Any, spec: TaskSpec, model_name: str, experiment_id: str, schema_json: str,
             gate: GateConfig) -> tuple[pd.DataFrame, str, str]:
    """The frozen held-out set of ``model_name`` (created once, under the promotion lock):
    (frame, version, run id holding ``holdout/holdout.csv``)."""
    model = _registered_model(client, model_name)
    if model is None or "ml.holdout.run_id" not in (model.tags or {}):
        with PromotionLock(client, model_name, ttl_s=gate.lock_ttl_s, wait_s=gate.lock_wait_s):
            model = _registered_model(client, model_name)
            if model is None:
                from mlflow.exceptions import MlflowException

                try:
                    client.create_registered_model(
                        model_name, tags={"ml.task": spec.name, "ml.input_schema": schema_json}
                    )
                except MlflowException as exc:
                    if getattr(exc, "error_code", "") != "RESOURCE_ALREADY_EXISTS":
                        raise
                model = client.get_registered_model(model_name)
            tags = model.tags or {}
            if "ml.holdout.run_id" not in tags:
                frame = spec.holdout()
                run = client.create_run(
                    experiment_id, run_name=f"{model_name}-holdout-v1",
                    tags={"ml.kind": "holdout", "ml.model_name": model_name},
                )
                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / "holdout.csv"
                    frame.to_csv(path, index=False)
                    client.log_artifact(run.info.run_id, str(path), artifact_path=HOLDOUT_DIR)
                client.set_terminated(run.info.run_id, "FINISHED")
                for key, value in {
                    "ml.task": spec.name, "ml.input_schema": schema_json,
                    "ml.holdout.run_id": run.info.run_id, "ml.holdout.version": "1",
                    "ml.holdout.rows": str(len(frame)),
                }.items():
                    client.set_registered_model_tag(model_name, key, value)
                model = client.get_registered_model(model_name)
    tags = model.tags
    run_id, version = tags["ml.holdout.run_id"], tags.get("ml.holdout.version", "1")
    with tempfile.TemporaryDirectory() as tmp:
        path = client.download_artifacts(run_id, f"{HOLDOUT_DIR}/holdout.csv", tmp)
        frame = pd.read_csv(path)
    for col in spec.key_columns:
        if col == "date" and col in frame:
            frame[col] = pd.to_datetime(frame[col])
    return frame, version, run_id


def _recover(client: Any, experiment_id: str, model_name: str, job_key: str, stale_after_s: float,
             keep: frozenset[str] = frozenset(), dead_runs: dict[str, str] | None = None) -> None:
    """Mark what a killed training left behind: RUNNING runs of this job key (a retry of a
    job that died) or with a heartbeat older than ``stale_after_s`` become FAILED, and their
    versions, and every version left without a decision by a run that is not running, are
    tagged ``promotion.decision=abandoned``. Runs in ``keep`` (the one a checkpoint resumes) are
    left alone; ``dead_runs`` (run id -> why) are marked too."""
    now = time.time()
    running = client.search_runs(
        [experiment_id], f"attributes.status = 'RUNNING' and tags.`ml.model_name` = '{model_name}'"
    )
    dead: dict[str, str] = {}
    for run in running:
        if run.info.run_id in keep:
            continue
        tags = run.data.tags
        beat = float(tags.get("ml.heartbeat", run.info.start_time / 1000.0))
        if job_key and tags.get("ml.job_key") == job_key:
            dead[run.info.run_id] = f"a retry of job {job_key} found this run still RUNNING"
        elif now - beat > stale_after_s:
            dead[run.info.run_id] = f"no heartbeat for {now - beat:.0f}s (> {stale_after_s:.0f}s)"
    for run_id, why in (dead_runs or {}).items():
        if run_id not in keep and run_id in {r.info.run_id for r in running}:
            dead[run_id] = why
    for run_id, why in dead.items():
        log.warning("marking run %s FAILED: %s", run_id, why)
        client.set_tag(run_id, "promotion.decision", "abandoned")
        client.set_tag(run_id, "promotion.reason", f"training interrupted: {why}")
        client.set_terminated(run_id, "FAILED")
    if _registered_model(client, model_name) is None:
        return
    for mv in client.search_model_versions(f"name = '{model_name}'"):
        if "promotion.decision" in (mv.tags or {}) or mv.run_id in keep:
            continue
        if mv.run_id in dead:
            why = dead[mv.run_id]
        else:
            try:
                status = client.get_run(mv.run_id).info.status if mv.run_id else "FAILED"
            except Exception:
                status = "FAILED"
            if status == "RUNNING":
                continue  # a live training is deciding it
            why = f"its run ended {status} before the gate decided"
        log.warning("version %s of %s has no decision: abandoned (%s)", mv.version, model_name, why)
        client.set_model_version_tag(model_name, mv.version, "promotion.decision", "abandoned")
        client.set_model_version_tag(model_name, mv.version, "promotion.reason", f"training interrupted: {why}")


def _finished_result(client: Any, experiment_id: str, model_name: str, job_key: str, spec: TaskSpec) -> TrainResult | None:
    """The result of an earlier, completed attempt of the same job (a Job retry): no new version."""
    if not job_key:
        return None
    runs = client.search_runs(
        [experiment_id],
        f"attributes.status = 'FINISHED' and tags.`ml.job_key` = '{job_key}' "
        f"and tags.`ml.model_name` = '{model_name}'",
    )
    for run in runs:
        tags = run.data.tags
        if tags.get("ml.version") and tags.get("promotion.decision") in ("promoted", "rejected", CHALLENGER_ALIAS):
            version = tags["ml.version"]
            return TrainResult(
                run_id=run.info.run_id, model_name=model_name, version=version,
                promoted=tags["promotion.decision"] == "promoted",
                metric_name=spec.gate_metric,
                metric_value=float(run.data.metrics.get(f"holdout_{spec.gate_metric}", float("nan"))),
                champion_version=tags.get("promotion.champion_after") or None,
                reason=f"job {job_key} already completed as version {version}: {tags.get('promotion.reason', '')}",
                metrics={}, model_uri=f"models:/{model_name}/{version}", decision="already done",
            )
    return None


def _digest(frame: pd.DataFrame, spec: TaskSpec) -> str:
    """MLflow's own digest of the training rows (what the dataset input logs too)."""
    import mlflow.data

    return str(mlflow.data.from_pandas(frame, targets=spec.target).digest)


def _version_with_digest(client: Any, model_name: str, digest: str) -> str | None:
    """A version of ``model_name`` trained on rows with this digest (not an abandoned one)."""
    if _registered_model(client, model_name) is None:
        return None
    for mv in client.search_model_versions(f"name = '{model_name}'"):
        tags = mv.tags or {}
        if tags.get(DATA_DIGEST_TAG) == digest and tags.get("promotion.decision") not in ("abandoned", "aborted"):
            return str(mv.version)
    return None


def _score_champion(client: Any, model_name: str, champion: Any, spec: TaskSpec,
                    x_hold: pd.DataFrame) -> np.ndarray:
    """The champion's predictions on the held-out rows; ``PromotionAborted`` if it cannot score."""
    import mlflow.pyfunc

    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = client.download_artifacts(champion.run_id, MODEL_ARTIFACT, tmp)
            model = mlflow.pyfunc.load_model(path)
            return np.asarray(model.predict(x_hold)).reshape(-1)
    except Exception as exc:
        raise PromotionAborted(
            f"cannot score {CHAMPION_ALIAS} v{champion.version} on the held-out set: {_line(exc)}"
        ) from None


def _gate_locked(client: Any, spec: TaskSpec, model_name: str, version: str, holdout: pd.DataFrame,
                 x_hold: pd.DataFrame, candidate_pred: np.ndarray, gate: GateConfig,
                 resumed: bool = False, alias: str = CHAMPION_ALIAS) -> tuple[bool, str, str | None, dict[str, str]]:
    """Decide under the promotion lock: re-read the alias, score both models on the frozen
    held-out rows, test the paired gain, move ``alias`` (compare-and-set).

    ``alias`` ``challenger`` (canary rollouts): a winning candidate is set as the challenger
    (the canary bakes it, ml.canary), not as the champion; a first version becomes both; a
    candidate arriving while another challenger still bakes is rejected."""
    from mlflow.exceptions import MlflowException

    y = holdout[spec.target].to_numpy()
    metric = spec.gate_metric
    cand_value = float(spec.evaluate(y, candidate_pred)[metric])
    try:
        champion = client.get_model_version_by_alias(model_name, CHAMPION_ALIAS)
    except MlflowException as exc:
        if not is_no_champion(exc):
            raise PromotionAborted(f"cannot read {model_name}@{CHAMPION_ALIAS}: {_line(exc)}") from None
        champion = None
    base = {"promotion.metric": metric, "promotion.candidate_value": repr(cand_value),
            "promotion.gate": json.dumps(asdict(gate))}
    if champion is None:
        reason = f"no {CHAMPION_ALIAS} yet; version {version} becomes it"
        tags = {**base, "promotion.decision": "promoted", "promotion.reason": reason,
                "promotion.champion_value": "", "promotion.champion_version": "",
                "promotion.basis": "no champion"}
        client.set_registered_model_alias(model_name, CHAMPION_ALIAS, version)
        if alias != CHAMPION_ALIAS:
            client.set_registered_model_alias(model_name, alias, version)
        return True, reason, version, tags
    if champion.version == version and resumed:
        # The attempt before the restart moved the alias and died before recording why.
        reason = f"version {version} became {CHAMPION_ALIAS} in the attempt before the restart"
        tags = {**base, "promotion.decision": "promoted", "promotion.reason": reason,
                "promotion.champion_value": "", "promotion.champion_version": "",
                "promotion.basis": "resumed from checkpoint"}
        return True, reason, version, tags
    if alias != CHAMPION_ALIAS:
        try:
            baking = client.get_model_version_by_alias(model_name, alias).version
        except MlflowException as exc:
            if not is_no_champion(exc):
                raise PromotionAborted(f"cannot read {model_name}@{alias}: {_line(exc)}") from None
            baking = champion.version
        if baking != champion.version:
            reason = f"{alias} v{baking} is still in its canary; version {version} not considered"
            return False, reason, champion.version, {
                **base, "promotion.decision": "rejected", "promotion.reason": reason,
                "promotion.champion_value": "", "promotion.champion_version": champion.version,
                "promotion.basis": "canary in progress"}
    if champion.version == version:
        raise PromotionAborted(f"version {version} already holds {CHAMPION_ALIAS}")
    champ_pred = _score_champion(client, model_name, champion, spec, x_hold)
    champ_value = float(spec.evaluate(y, champ_pred)[metric])
    sig = significance(spec.row_loss(y, champ_pred), spec.row_loss(y, candidate_pred), gate,
                       seed=int(version))
    direction = "higher" if spec.greater_is_better else "lower"
    verb = "beats" if sig.significant else "does not beat"
    reason = (
        f"{metric} {cand_value:.6g} {verb} {CHAMPION_ALIAS} v{champion.version} ({champ_value:.6g}, "
        f"{direction} is better, same frozen held-out set, {sig.test} gain {sig.mean_gain:.4g} "
        f"lower bound {sig.ci_low:.4g} p={sig.p_value:.3g} alpha={gate.alpha})"
    )
    tags = {**base, **sig.tags(), "promotion.decision": "promoted" if sig.significant else "rejected",
            "promotion.reason": reason, "promotion.champion_value": repr(champ_value),
            "promotion.champion_version": champion.version, "promotion.basis": "same held-out set"}
    if sig.significant:
        # Compare-and-set: the alias must still point where it did when we scored.
        now = client.get_model_version_by_alias(model_name, CHAMPION_ALIAS).version
        if now != champion.version:
            raise PromotionAborted(
                f"{CHAMPION_ALIAS} moved from v{champion.version} to v{now} during the gate; not overwritten"
            )
        if alias != CHAMPION_ALIAS:
            client.set_registered_model_alias(model_name, alias, version)
            tags.update({"promotion.decision": alias, "canary.champion_version": champion.version,
                         "canary.started": repr(time.time())})
            return False, reason, champion.version, tags
        client.set_registered_model_alias(model_name, CHAMPION_ALIAS, version)
        return True, reason, version, tags
    return False, reason, champion.version, tags


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
    gate: GateConfig | None = None,
    data: pd.DataFrame | None = None,
    data_source: str | None = None,
    job_key: str | None = None,
    stale_after_s: float = 6 * 3600.0,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    alias: str = CHAMPION_ALIAS,
    skip_duplicate_data: bool = False,
) -> TrainResult:
    """Run the training steps in the module docstring and return what happened.

    ``tracking_uri`` None uses ``MLFLOW_TRACKING_URI``; one of them is required (no local
    ``mlflow.db`` is ever created). It is also the registry URI; the library uses an explicit
    ``MlflowClient`` and never sets MLflow's process-global state. ``rows`` None takes the
    task's default. ``params`` overrides estimator hyper-parameters. ``gate`` says how the
    promotion decides (``min_improvement`` is a shortcut for its margin). ``data`` trains on
    these rows (features + target, e.g. recent labelled traffic) instead of the task's
    generator; ``data_source`` names where they came from (logged with the dataset input).
    ``job_key`` identifies one job across retries (default: ``ML_JOB_KEY``, SageMaker's
    ``TRAINING_JOB_NAME``, Azure ML's ``AZUREML_RUN_ID``). ``checkpoint_dir`` (default:
    ``ML_CHECKPOINT_DIR``, or ``/opt/ml/checkpoints`` in a SageMaker job) keeps the fit, the run
    and the registered version (``ml.checkpoint``): a restarted job resumes from there and
    registers exactly once. ``alias`` is what a winning
    candidate gets: ``champion`` (default) or ``challenger`` for a canary rollout (ml.canary).
    ``skip_duplicate_data`` (the retraining pipeline): when a version of ``model_name`` was
    trained on exactly these rows (same MLflow dataset digest, tag ``ml.data_digest``), nothing
    is fitted or registered and the result's decision is ``skipped``.
    """
    from mlflow.models import infer_signature

    from contract.mlflow_clients import client as mlflow_client

    spec = get_task(task)
    if not model_name:
        raise ValueError("model_name must not be empty")
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be within (0, 1), got {test_size}")
    if rows is not None and rows < 10:
        raise ValueError(f"rows must be >= 10, got {rows}")
    gate = gate or GateConfig(min_improvement=min_improvement)
    rows = rows if rows is not None else spec.default_rows
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise ValueError("no tracking URI: pass tracking_uri or set MLFLOW_TRACKING_URI")
    job_key = job_key if job_key is not None else next(
        (os.environ[k] for k in ("ML_JOB_KEY", "TRAINING_JOB_NAME", "AZUREML_RUN_ID") if os.environ.get(k)), ""
    )
    primary, why = primary_node()
    if not primary:
        log.info("not the primary node (%s): nothing to train or register", why)
        return TrainResult("", model_name, "", False, spec.gate_metric, float("nan"), None,
                           f"not the primary node ({why}); only the first node trains and registers",
                           decision="skipped")
    client = mlflow_client(uri)
    n = _TOTAL_STEPS

    experiment_id = _experiment_id(client, experiment or model_name)
    ckpt_root = _checkpoint_dir(checkpoint_dir)
    ckpt = None if ckpt_root is None else Checkpoint(ckpt_root, fingerprint(
        task=spec.name, model_name=model_name, rows=rows, seed=seed, test_size=test_size,
        params=dict(params or {}), data=data, job_key=job_key, experiment=experiment or model_name))
    resume_version, resume_run, keep, dead_runs = _resume_point(client, model_name, ckpt)
    _recover(client, experiment_id, model_name, job_key, stale_after_s, keep=keep, dead_runs=dead_runs)
    if resume_version is not None:
        decided = _decided(client, model_name, resume_version, resume_run, spec)
        if decided is not None:
            log.info("%s", decided.reason)
            return decided
    done = _finished_result(client, experiment_id, model_name, job_key, spec)
    if done is not None:
        log.info("%s", done.reason)
        return done

    t0 = _step(1, n, f"loading {spec.name} data (rows={rows or 'all'}, seed={seed})")
    probe = spec.load(min(rows or 200, 200), seed) if data is None else data
    schema_json = infer_signature(
        spec.split(probe, test_size, seed).x_train.head(5)
    ).inputs.to_json()
    _check_identity(_registered_model(client, model_name), spec, schema_json, model_name)
    holdout, holdout_version, holdout_run = _holdout(client, spec, model_name, experiment_id, schema_json, gate)
    if data is None:
        frame = spec.load(rows, seed, holdout)
        source = f"ml.data synthetic {spec.name} rows={rows} seed={seed}"
    else:
        frame = exclude_keys(data, holdout, spec.key_columns)
        source = data_source or "caller-supplied frame"
    digest = _digest(frame, spec)
    if skip_duplicate_data:
        same = _version_with_digest(client, model_name, digest)
        if same is not None:
            reason = (f"version {same} of {model_name} was trained on exactly these {len(frame)} rows "
                      f"(dataset digest {digest}); no duplicate version registered")
            log.info("%s", reason)
            return TrainResult("", model_name, same, False, spec.gate_metric, float("nan"), None,
                               reason, model_uri=f"models:/{model_name}/{same}", decision="skipped")
    t1 = _step(2, n, f"splitting {len(frame)} rows (held-out rows of {model_name} excluded)")
    split = spec.split(frame, test_size, seed)
    pipeline = spec.build(seed, dict(params or {}))
    with thread_limits(len(split.x_train)):
        t2 = _step(3, n, f"fitting {type(pipeline[-1]).__name__} on {len(split.x_train)} rows"
                   + ("" if ckpt is None else f" (checkpoints in {ckpt.root})"))
        if resume_version is not None:
            log.info("      resuming: version %s (run %s) is registered; fitting skipped", resume_version, resume_run)
            pipeline = ckpt.load_model()
        else:
            pipeline = _fit_checkpointed(pipeline, split.x_train, split.y_train, ckpt)
        t3 = _step(4, n, f"evaluating on {len(split.x_test)} own test rows and {len(holdout)} frozen held-out rows")
        metrics = spec.evaluate(split.y_test.to_numpy(), pipeline.predict(split.x_test))
        x_hold = holdout[list(spec.features)].astype(split.x_train.dtypes.to_dict())
        hold_pred = np.asarray(pipeline.predict(x_hold)).reshape(-1)
        hold_metrics = spec.evaluate(holdout[spec.target].to_numpy(), hold_pred)
        metrics.update({f"holdout_{k}": v for k, v in hold_metrics.items()})
        log.info("      %s", ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
        timings = {"load_seconds": t1 - t0, "split_seconds": t2 - t1, "fit_seconds": t3 - t2}

    if resume_version is not None:
        _step(5, n, f"resuming run {resume_run} (logged before the restart)")
        _step(6, n, f"version {resume_version} of {model_name!r} was registered before the restart")
        run_id, version = resume_run, resume_version
        client.set_tag(run_id, "ml.heartbeat", repr(time.time()))
        client.set_tag(run_id, "ml.resumed", "true")
    else:
        run_id, version = _log_and_register(
            client, n, uri, experiment_id, spec, pipeline, split, metrics, timings, rows, seed, frame,
            source, holdout, model_name, holdout_version, holdout_run, job_key, ckpt, digest)
    return _decide(client, spec, model_name, version, run_id, holdout, x_hold, hold_pred, gate, job_key,
                   hold_metrics, metrics, ckpt, resumed=resume_version is not None, alias=alias)


def _resume_point(client: Any, model_name: str, ckpt: Checkpoint | None
                  ) -> tuple[str | None, str | None, frozenset[str], dict[str, str]]:
    """(version to resume at the gate, its run, runs to keep, runs to mark FAILED) from the
    checkpoint: a run that registered a version resumes; one that did not is dead."""
    if ckpt is None or not ckpt.state.get("run_id"):
        return None, None, frozenset(), {}
    run_id = ckpt.state["run_id"]
    found = [mv for mv in client.search_model_versions(f"run_id = '{run_id}'") if mv.name == model_name]
    if not found:
        return None, None, frozenset(), {run_id: "killed before it registered a version; the restart logs a new run"}
    mv = found[0]
    if (mv.tags or {}).get("promotion.decision") in ("abandoned", "aborted"):
        return None, None, frozenset(), {}
    return str(mv.version), run_id, frozenset({run_id}), {}


def _decided(client: Any, model_name: str, version: str, run_id: str, spec: TaskSpec) -> TrainResult | None:
    """The result recorded on ``version`` when its gate already decided (a restart after the
    decision): the run is finished if the kill came before that; nothing is registered."""
    tags = client.get_model_version(model_name, version).tags or {}
    decision = tags.get("promotion.decision")
    if decision not in ("promoted", "rejected"):
        return None
    run = client.get_run(run_id)
    for key in PROMOTION_TAGS:
        if key in tags and run.data.tags.get(key) != tags[key]:
            client.set_tag(run_id, key, tags[key])
    if run.info.status != "FINISHED":
        client.set_terminated(run_id, "FINISHED")
    return TrainResult(
        run_id=run_id, model_name=model_name, version=version, promoted=decision == "promoted",
        metric_name=spec.gate_metric,
        metric_value=float(run.data.metrics.get(f"holdout_{spec.gate_metric}", float("nan"))),
        champion_version=tags.get("promotion.champion_after") or None,
        reason=f"version {version} was decided before the restart: {tags.get('promotion.reason', '')}",
        model_uri=f"models:/{model_name}/{version}", decision="already done",
    )


def _log_and_register(client: Any, n: int, uri: str, experiment_id: str, spec: TaskSpec, pipeline: Any,
                      split: Split, metrics: dict[str, float], timings: dict[str, float], rows: int | None,
                      seed: int, frame: pd.DataFrame, source: str, holdout: pd.DataFrame, model_name: str,
                      holdout_version: str, holdout_run: str, job_key: str, ckpt: Checkpoint | None,
                      digest: str) -> tuple[str, str]:
    """Steps 5-6: a new run with everything logged, and a new version; (run id, version)."""
    _step(5, n, f"logging run to {uri}")
    run = client.create_run(
        experiment_id, tags={**lineage_tags(seed, job_key), "ml.model_name": model_name,
                             "ml.heartbeat": repr(time.time())},
    )
    run_id = run.info.run_id
    if ckpt is not None:
        ckpt.mark("logging", run_id=run_id)
    try:
        _log_run(client, run_id, spec, pipeline, split, {**metrics, **timings}, rows, seed,
                 frame, source, holdout, f"{model_name}-holdout-v{holdout_version}", holdout_run)
        _step(6, n, f"registering a new version of {model_name!r}")
        mv = client.create_model_version(
            model_name, source=f"{run.info.artifact_uri}/{MODEL_ARTIFACT}", run_id=run_id,
            tags={"ml.drift_reference": f"{MODEL_ARTIFACT}/{REFERENCE_IN_MODEL}", "ml.task": spec.name,
                  DATA_DIGEST_TAG: digest},
        )
        version = str(mv.version)
        if ckpt is not None:
            ckpt.mark("registered", run_id=run_id, version=version)
        client.set_tag(run_id, "ml.version", version)
        client.set_tag(run_id, "ml.heartbeat", repr(time.time()))
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    return run_id, version


def _decide(client: Any, spec: TaskSpec, model_name: str, version: str, run_id: str, holdout: pd.DataFrame,
            x_hold: pd.DataFrame, hold_pred: np.ndarray, gate: GateConfig, job_key: str,
            hold_metrics: dict[str, float], metrics: dict[str, float], ckpt: Checkpoint | None,
            resumed: bool, alias: str = CHAMPION_ALIAS) -> TrainResult:
    """Step 7: the gate under the lock, the decision recorded on the version and the run."""
    n = _TOTAL_STEPS

    _step(7, n, f"promotion gate on {spec.gate_metric} for version {version} ({gate.test}, alpha={gate.alpha})")
    try:
        with PromotionLock(client, model_name, ttl_s=gate.lock_ttl_s, wait_s=gate.lock_wait_s, job=job_key):
            promoted, reason, champion_version, tags = _gate_locked(
                client, spec, model_name, version, holdout, x_hold, hold_pred, gate, resumed=resumed, alias=alias
            )
    except (PromotionAborted, Exception) as exc:
        why = exc if isinstance(exc, PromotionAborted) else PromotionAborted(_line(exc))
        for target in (lambda k, v: client.set_model_version_tag(model_name, version, k, v),
                       lambda k, v: client.set_tag(run_id, k, v)):
            try:
                target("promotion.decision", "aborted")
                target("promotion.reason", f"gate aborted, alias left in place: {why}")
            except Exception as inner:  # the registry may be the thing failing
                log.warning("could not record the aborted decision: %s", _line(inner))
        try:
            client.set_terminated(run_id, "FAILED")
        except Exception as inner:
            log.warning("could not mark run %s FAILED: %s", run_id, _line(inner))
        raise why from None
    tags["promotion.champion_after"] = champion_version or ""
    for key, value in tags.items():
        client.set_model_version_tag(model_name, version, key, value)
        client.set_tag(run_id, key, value)
    client.set_terminated(run_id, "FINISHED")
    if ckpt is not None:
        ckpt.mark("done", run_id=run_id, version=version, decision=tags["promotion.decision"])
    log.info("      %s: %s", tags["promotion.decision"], reason)
    return TrainResult(
        run_id=run_id,
        model_name=model_name,
        version=version,
        promoted=promoted,
        metric_name=spec.gate_metric,
        metric_value=float(hold_metrics[spec.gate_metric]),
        champion_version=champion_version,
        reason=reason,
        metrics=metrics,
        model_uri=f"models:/{model_name}/{version}",
        decision=tags["promotion.decision"],
    )


def _log_run(client: Any, run_id: str, spec: TaskSpec, pipeline: Any, split: Split,
             metrics: dict[str, float], rows: int | None, seed: int, frame: pd.DataFrame,
             source: str, holdout: pd.DataFrame, holdout_name: str, holdout_run: str) -> None:
    """Params, metrics, dataset inputs, the model (with its drift reference) and the reference."""
    import mlflow.sklearn
    from mlflow.entities import Metric, Param
    from mlflow.models import infer_signature

    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
        params=[Param(k, v) for k, v in _params(spec, pipeline, split, rows, seed).items()],
    )
    client.log_inputs(run_id, datasets=[
        _dataset_input(frame, f"{spec.name}-train", spec.target, "training", source),
        _dataset_input(holdout, holdout_name, spec.target, "evaluation",
                       f"runs:/{holdout_run}/{HOLDOUT_DIR}/holdout.csv"),
    ])
    example = split.x_train.head(5)
    # Calendar features are not compared (ml.drift docstring): they stay out of the reference.
    reference = _reference_sample(split.x_train.drop(columns=list(spec.calendar_features)), seed)
    with tempfile.TemporaryDirectory() as tmp, _env(MLFLOW_LOG_UV_FILES="false"):
        model_dir = Path(tmp) / MODEL_ARTIFACT
        mlflow.sklearn.save_model(
            pipeline,
            str(model_dir),
            signature=infer_signature(example, pipeline.predict(example)),
            input_example=example,
            serialization_format="skops",
            skops_trusted_types=_trusted_types(pipeline),
            pip_requirements=_pip_requirements(),
        )
        # The drift reference travels with the model, not only with the run.
        (model_dir / REFERENCE_IN_MODEL).parent.mkdir(parents=True, exist_ok=True)
        reference.to_csv(model_dir / REFERENCE_IN_MODEL, index=False)
        client.log_artifacts(run_id, str(model_dir), artifact_path=MODEL_ARTIFACT)
        folder, filename = REFERENCE_ARTIFACT.rsplit("/", 1)
        path = Path(tmp) / filename
        reference.to_csv(path, index=False)
        client.log_artifact(run_id, str(path), artifact_path=folder)


def drift_reference_uri(
    model_name: str, alias: str = CHAMPION_ALIAS, *, tracking_uri: str | None = None
) -> str:
    """``runs:/<run_id>/drift/reference.csv`` of the version that ``alias`` points to.

    For the serving app: ``mlflow.artifacts.download_artifacts(drift_reference_uri(name))``
    fetches the reference sample that belongs to the model it serves.
    """
    from contract.mlflow_clients import client as mlflow_client

    client = mlflow_client(tracking_uri)
    version = client.get_model_version_by_alias(model_name, alias)
    if not version.run_id:
        raise ValueError(f"{model_name}@{alias} (version {version.version}) has no source run")
    return f"runs:/{version.run_id}/{REFERENCE_ARTIFACT}"
