"""The retraining pipeline (continuous training): load recent data -> train -> validate ->
register -> deploy, run by a schedule or a drift trigger with the platform's own pieces.

``python -m ml pipeline --trigger schedule|drift ...`` is what the Kubernetes CronJobs
(components/kubernetes/retrain.py), the EventBridge-scheduled SageMaker training job
(components/aws/schedule.py) and the Azure ML schedule (components/azure/schedule.py) run:

1. trigger: ``drift`` reads the serving app's ``/drift/status`` (ml.retrain) and stops unless
   drift is confirmed; ``schedule`` always goes on;
2. cooldown: stops when the newest version of the model is younger than ``cooldown_s``;
3. recent data: ``data_uri`` (a CSV of recent labelled rows: a local path, ``http(s)://``, or any
   URI MLflow can download, e.g. ``runs:/<id>/recent.csv``, ``s3://``, ``azureml://``); without
   one, the task's generator drawn for the current time window (``window_s``; seed = window
   index), a synthetic stand-in for "the latest data" that differs from one window to the next;
4. train, validate and register with the same promotion gate (ml.train), refusing a duplicate:
   rows identical to an existing version's (MLflow dataset digest) register nothing;
5. deploy: without a canary the gate moves ``champion`` (the serving pods hot-swap to it); with a
   canary (kubernetes runtime) a winning candidate becomes ``challenger`` and ml.canary bakes it
   and promotes or rolls it back from Prometheus.

Lineage on every run is ml.train's: dataset inputs, seed, world seed, git commit and the image
(``ML_IMAGE_URI``, which the manifests set); the drift reference is kept inside the model.
"""

from __future__ import annotations

import logging
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["TRIGGERS", "PipelineOutcome", "load_recent", "run_pipeline"]

log = logging.getLogger("ml.pipeline")

TRIGGERS = ("schedule", "drift")


@dataclass(frozen=True)
class PipelineOutcome:
    trained: bool
    message: str
    result: Any | None = None  # ml.train.TrainResult
    canary: Any | None = None  # ml.canary.CanaryOutcome


def load_recent(task: str, data_uri: str | None, *, rows: int | None, now: float, window_s: float,
                tracking_uri: str | None = None) -> tuple[pd.DataFrame, str, int]:
    """(rows, where they came from, seed). See step 3 of the module docstring."""
    from ml.tasks import get_task

    spec = get_task(task)
    window = int(now // window_s)
    if not data_uri:
        frame = spec.load(rows or spec.default_rows, window)
        start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(window * window_s))
        return frame, f"ml.data synthetic {spec.name} window {start} ({window_s:.0f}s) seed={window}", window
    with tempfile.TemporaryDirectory() as tmp:
        if data_uri.startswith(("http://", "https://")):
            path = Path(tmp) / "recent.csv"
            with urllib.request.urlopen(data_uri, timeout=60) as resp:
                path.write_bytes(resp.read())
        elif "://" in data_uri or data_uri.startswith("runs:/"):
            import mlflow.artifacts

            path = Path(mlflow.artifacts.download_artifacts(artifact_uri=data_uri, dst_path=tmp,
                                                            tracking_uri=tracking_uri))
        else:
            path = Path(data_uri)
        try:
            frame = pd.read_csv(path, parse_dates=["date"] if "date" in spec.key_columns else None)
        except (OSError, ValueError) as exc:
            raise ValueError(f"data_uri {data_uri}: {str(exc).splitlines()[0]}") from None
    missing = [c for c in (*spec.features, spec.target) if c not in frame.columns]
    if missing:
        raise ValueError(f"data_uri {data_uri} lacks column(s): {', '.join(missing)}")
    if rows:
        frame = frame.tail(rows).reset_index(drop=True)
    return frame, data_uri, window


def run_pipeline(
    *,
    task: str,
    tracking_uri: str,
    model_name: str,
    trigger: str,
    serving_url: str | None = None,
    data_uri: str | None = None,
    rows: int | None = None,
    cooldown_s: float = 3600.0,
    window_s: float = 86400.0,
    gate: Any | None = None,
    canary: Any | None = None,
    job_key: str | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> PipelineOutcome:
    """Run the steps of the module docstring once. ``canary``: an ``ml.canary.CanaryConfig``."""
    from contract.mlflow_clients import client as mlflow_client
    from ml.gate import PromotionAborted
    from ml.retrain import retrain_if_drifted
    from ml.train import CHALLENGER_ALIAS, CHAMPION_ALIAS, _registered_model, train

    if trigger not in TRIGGERS:
        raise ValueError(f"trigger must be one of {', '.join(TRIGGERS)}; got {trigger!r}")
    if trigger == "drift" and not serving_url:
        raise ValueError("trigger drift needs serving_url (the serving app's base URL)")
    if not window_s > 0:
        raise ValueError(f"window_s must be > 0, got {window_s}")
    client = mlflow_client(tracking_uri)

    def last_version_at() -> float | None:
        if _registered_model(client, model_name) is None:
            return None
        versions = client.search_model_versions(f"name = '{model_name}'")
        return max((v.creation_timestamp / 1000.0 for v in versions), default=None)

    if canary is not None:
        # A bake the previous run did not finish (killed job) is resumed before anything new.
        from ml.canary import bake

        pending = bake(client, model_name, canary, sleep=sleep, clock=clock)
        if pending.decision != "idle":
            return PipelineOutcome(False, f"resumed canary: {pending.reason}", canary=pending)

    def fit() -> Any:
        frame, source, seed = load_recent(task, data_uri, rows=rows, now=clock(), window_s=window_s,
                                          tracking_uri=tracking_uri)
        log.info("recent data: %d rows from %s", len(frame), source)
        return train(task, tracking_uri, model_name, seed=seed, data=frame, data_source=source,
                     gate=gate, job_key=job_key, skip_duplicate_data=True,
                     alias=CHALLENGER_ALIAS if canary is not None else CHAMPION_ALIAS)

    if trigger == "drift":
        outcome = retrain_if_drifted(serving_url, fit, last_version_at=last_version_at, cooldown_s=cooldown_s)
        if outcome.result is None:
            return PipelineOutcome(False, outcome.message)
        result, message = outcome.result, outcome.message
    else:
        last = last_version_at()
        if cooldown_s > 0 and last is not None and clock() - last < cooldown_s:
            return PipelineOutcome(False, f"scheduled run: the newest version of {model_name} is "
                                   f"{clock() - last:.0f}s old (cooldown {cooldown_s:.0f}s); not retraining")
        result = fit()
        message = f"scheduled run: {model_name} version {result.version or '-'}: {result.decision}: {result.reason}"
    if canary is None or result.decision != CHALLENGER_ALIAS:
        return PipelineOutcome(result.decision != "skipped", message, result)
    from ml.canary import bake

    try:
        baked = bake(client, model_name, canary, sleep=sleep, clock=clock)
    except PromotionAborted as exc:
        raise PromotionAborted(f"{message}; canary aborted: {exc}") from None
    return PipelineOutcome(True, f"{message}; canary: {baked.reason}", result, baked)
