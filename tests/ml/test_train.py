"""ml.train against a real MLflow server: logging, registry, the champion promotion gate, CLI."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from ml.cli import main
from ml.data import DEMAND_FEATURES, IRIS_FEATURES
from ml.drift import DriftReference
from ml.train import (
    CHAMPION_ALIAS,
    PROMOTION_TAGS,
    REFERENCE_ARTIFACT,
    REFERENCE_MAX_ROWS,
    drift_reference_uri,
    train,
)

ROOT = Path(__file__).resolve().parents[2]


def _champion(client: MlflowClient, name: str) -> str:
    return client.get_model_version_by_alias(name, CHAMPION_ALIAS).version


def test_gate_promotes_first_and_better_versions_and_refuses_a_worse_one(mlflow_uri):
    client = MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri)
    name = "demand-gate"

    weak = train("demand", mlflow_uri, name, rows=600, seed=1)
    assert (weak.version, weak.promoted, weak.champion_version) == ("1", True, "1")
    assert weak.reason == "no champion yet; version 1 becomes it"
    assert _champion(client, name) == "1"

    strong = train("demand", mlflow_uri, name, rows=12_000, seed=2)
    assert strong.promoted and strong.champion_version == strong.version == "2"
    assert _champion(client, name) == "2"
    tags = client.get_model_version(name, "2").tags
    assert tags["promotion.decision"] == "promoted"
    assert tags["promotion.champion_version"] == "1"
    assert tags["promotion.basis"] == "same held-out set"
    assert float(tags["promotion.candidate_value"]) < float(tags["promotion.champion_value"])

    worse = train("demand", mlflow_uri, name, rows=600, seed=3)
    assert not worse.promoted
    assert worse.champion_version == "2"
    assert _champion(client, name) == "2"
    tags = client.get_model_version(name, worse.version).tags
    assert set(PROMOTION_TAGS) <= set(tags)
    assert tags["promotion.decision"] == "rejected"
    assert tags["promotion.metric"] == "mae"
    assert float(tags["promotion.candidate_value"]) >= float(tags["promotion.champion_value"])
    assert tags["promotion.reason"].startswith(f"mae {worse.metric_value:.6g} does not beat champion v2")
    # The decision is on the run too.
    assert client.get_run(worse.run_id).data.tags["promotion.decision"] == "rejected"


def test_run_logs_params_metrics_model_and_drift_reference(mlflow_uri):
    client = MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri)
    result = train("demand", mlflow_uri, "demand-artifacts", rows=8_000, seed=5)
    run = client.get_run(result.run_id)
    assert {"mae", "rmse", "mape", "fit_seconds", "holdout_mae"} <= set(run.data.metrics)
    # The gate decides on the frozen held-out set of the model name, not on the run's own split.
    assert run.data.metrics["holdout_mae"] == pytest.approx(result.metric_value)
    assert run.data.params["task"] == "demand"
    assert run.data.params["seed"] == "5"
    assert run.data.params["estimator"] == "HistGradientBoostingRegressor"
    # The frozen held-out rows of the model name are kept out of training and of the run's split.
    n_split = int(run.data.params["n_train"]) + int(run.data.params["n_test"])
    assert 0 < n_split < 8_000

    uri = drift_reference_uri("demand-artifacts", tracking_uri=mlflow_uri)
    assert uri == f"runs:/{result.run_id}/{REFERENCE_ARTIFACT}"
    path = mlflow.artifacts.download_artifacts(artifact_uri=uri, tracking_uri=mlflow_uri)
    reference = pd.read_csv(path)
    # Calendar features are declared by the task and left out of the covariate-drift reference.
    from ml.tasks import get_task

    calendar = set(get_task("demand").calendar_features)
    assert calendar and list(reference.columns) == [f for f in DEMAND_FEATURES if f not in calendar]
    assert 0 < len(reference) <= REFERENCE_MAX_ROWS
    assert all(pd.api.types.is_numeric_dtype(t) for t in reference.dtypes)
    drift = DriftReference.from_csv(path).compare(reference.sample(500, random_state=0))
    assert not drift.drifted

    model = mlflow.pyfunc.load_model(mlflow.artifacts.download_artifacts(
        artifact_uri=client.get_model_version_download_uri("demand-artifacts", result.version), tracking_uri=mlflow_uri))
    assert model.metadata.get_input_schema().input_names() == list(DEMAND_FEATURES)
    assert Path(model.metadata.flavors["sklearn"]["pickled_model"]).suffix == ".skops"
    rows = reference.head(20).assign(**{f: 100.0 for f in calendar})[list(DEMAND_FEATURES)]
    preds = model.predict(rows)
    assert np.asarray(preds).shape == (20,) and np.isfinite(preds).all()


def test_iris_gate_refuses_a_deliberately_weak_config(mlflow_uri):
    client = MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri)
    name = "iris-gate"
    good = train("iris", mlflow_uri, name, seed=0)
    assert good.promoted and good.metric_name == "accuracy" and good.metric_value > 0.85
    weak = train("iris", mlflow_uri, name, seed=0, params={"n_estimators": 1, "max_depth": 1})
    assert not weak.promoted and weak.metric_value < good.metric_value
    assert _champion(client, name) == good.version
    # Through the test's own URI: train() leaves no process-global MLflow state to lean on.
    champion = mlflow.pyfunc.load_model(mlflow.artifacts.download_artifacts(
        artifact_uri=client.get_model_version_download_uri(name, _champion(client, name)), tracking_uri=mlflow_uri))
    assert champion.metadata.get_input_schema().input_names() == list(IRIS_FEATURES)


def test_train_rejects_bad_arguments_before_touching_mlflow():
    with pytest.raises(ValueError, match="unknown task 'sales'; choose one of: demand, iris"):
        train("sales", "http://127.0.0.1:9", "m")
    with pytest.raises(ValueError, match="rows must be >= 10"):
        train("demand", "http://127.0.0.1:9", "m", rows=3)
    with pytest.raises(ValueError, match="test_size must be within"):
        train("demand", "http://127.0.0.1:9", "m", test_size=1.5)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "ml", *args], cwd=ROOT, env=full_env, capture_output=True,
        text=True, timeout=300, check=False,
    )


def test_cli_train_registers_then_a_worse_run_leaves_the_champion(mlflow_uri, monkeypatch, capsys):
    client = MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri)
    name = "demand-cli"
    first = _cli("train", "--task", "demand", "--model-name", name, "--rows", "6000", "--seed", "1",
                 "--tracking-uri", mlflow_uri)
    assert first.returncode == 0, first.stderr
    assert f"{name} version 1" in first.stdout and "promoted to champion" in first.stdout
    assert "[3/7] fitting HistGradientBoostingRegressor" in first.stderr  # progress lines
    # the sagemaker-mlflow plugin (aws-runtime extra) no longer logs "list index out of range"
    # on every request to a non-ARN tracking server
    assert "request headers" not in first.stderr and "list index out of range" not in first.stderr
    # In-process this time; tracking URI from the environment; a deliberately weak model
    # (5 boosting rounds). stdout carries only the JSON outcome.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_uri)
    capsys.readouterr()
    code = main(["train", "--task", "demand", "--model-name", name, "--rows", "6000", "--seed", "1",
                 "--param", "max_iter=5", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["version"] == "2" and result["promoted"] is False
    assert result["champion_version"] == "1"
    assert _champion(client, name) == "1"


def test_cli_process_reports_an_unreachable_tracking_server_in_one_line():
    proc = _cli("train", "--task", "demand", "--model-name", "m", "--tracking-uri", "http://127.0.0.1:9")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: cannot reach MLflow tracking server at http://127.0.0.1:9: [Errno 111] Connection refused"
    ]
    assert proc.stdout == ""


def test_cli_without_tracking_uri_says_how_to_give_one(monkeypatch, capsys):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main(["train", "--task", "iris", "--model-name", "m"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: no tracking URI: pass --tracking-uri or set MLFLOW_TRACKING_URI"
    )


def test_cli_rejects_malformed_param(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--task", "iris", "--model-name", "m", "--param", "oops"])
    assert exc.value.code == 2
    assert "expected KEY=VALUE, got 'oops'" in capsys.readouterr().err


def test_cli_train_reports_an_unknown_hyperparameter_in_one_line(mlflow_uri, capsys):
    code = main(["train", "--task", "iris", "--model-name", "m-bad", "--tracking-uri", mlflow_uri,
                 "--param", "n_trees=3"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == "error: unknown hyper-parameter(s) for RandomForestClassifier: n_trees"


def test_stdout_of_train_is_one_line(mlflow_uri, monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    assert main(["train", "--task", "iris", "--model-name", "iris-line", "--tracking-uri", mlflow_uri]) == 0
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("iris-line version 1 (run ")
