"""The retraining pipeline (ml.pipeline) against a real MLflow server: recent data from the URI
the stack names, no duplicate versions, the cooldown, the drift trigger reading a real serving
app's drift status shape, and lineage on the run."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from contract.mlflow_clients import client as mlflow_client
from ml.cli import main
from ml.pipeline import load_recent, run_pipeline
from ml.tasks import get_task
from tests.ml.test_retrain import serving  # noqa: F401 (fixture: a stand-in /drift/status)


@pytest.fixture
def recent(tmp_path: Path) -> Path:
    path = tmp_path / "recent.csv"
    get_task("iris").load(None, 0).sample(n=110, random_state=3).to_csv(path, index=False)
    return path


def test_the_same_recent_data_never_registers_twice(mlflow_uri, recent):
    name = f"ct-dup-{uuid.uuid4().hex[:6]}"
    first = run_pipeline(task="iris", tracking_uri=mlflow_uri, model_name=name, trigger="schedule",
                         data_uri=str(recent), cooldown_s=0)
    assert first.trained and first.result.version == "1"
    again = run_pipeline(task="iris", tracking_uri=mlflow_uri, model_name=name, trigger="schedule",
                         data_uri=str(recent), cooldown_s=0)
    assert not again.trained and again.result.decision == "skipped"
    assert "no duplicate version" in again.message
    client = mlflow_client(mlflow_uri)
    assert [v.version for v in client.search_model_versions(f"name = '{name}'")] == ["1"]
    run = client.get_run(first.result.run_id)
    # Lineage: the recent data as the training dataset input, seed, commit, image tags.
    contexts = {d.dataset.name: [t.value for t in d.tags if t.key == "mlflow.data.context"] for d in run.inputs.dataset_inputs}
    assert contexts["iris-train"] == ["training"]
    train_input = next(d for d in run.inputs.dataset_inputs if d.dataset.name == "iris-train")
    assert str(recent) in train_input.dataset.source
    assert {"ml.seed", "ml.world_seed", "ml.git_commit", "ml.image", "ml.image_digest"} <= set(run.data.tags)
    version = client.get_model_version(name, "1")
    assert version.tags["ml.data_digest"] == train_input.dataset.digest
    assert version.tags["ml.drift_reference"].startswith("model/")


def test_the_cooldown_stops_a_scheduled_run(mlflow_uri, recent):
    name = f"ct-cool-{uuid.uuid4().hex[:6]}"
    assert run_pipeline(task="iris", tracking_uri=mlflow_uri, model_name=name, trigger="schedule",
                        data_uri=str(recent), cooldown_s=0).trained
    cooled = run_pipeline(task="iris", tracking_uri=mlflow_uri, model_name=name, trigger="schedule",
                          data_uri=str(recent), rows=80, cooldown_s=3600)
    assert not cooled.trained and "cooldown 3600s" in cooled.message


def test_the_drift_trigger_trains_only_on_confirmed_drift(mlflow_uri, recent, serving):  # noqa: F811
    from serving.contract import DriftStatus

    name = f"ct-drift-{uuid.uuid4().hex[:6]}"
    quiet = DriftStatus(enabled=True, drifted=False, n_current=500, window_rows=500, window_capacity=1000,
                        min_rows=100, rows_seen=500).to_dict()
    serving.serve(quiet)
    calm = run_pipeline(task="iris", tracking_uri=mlflow_uri, model_name=name, trigger="drift",
                        serving_url=serving.url, data_uri=str(recent), cooldown_s=0)
    assert not calm.trained and "no drift" in calm.message
    serving.serve({**quiet, "drifted": True, "drifted_features": ["petal_length"]})
    drifted = run_pipeline(task="iris", tracking_uri=mlflow_uri, model_name=name, trigger="drift",
                           serving_url=serving.url, data_uri=str(recent), cooldown_s=0)
    assert drifted.trained and drifted.result.version == "1" and "petal_length" in drifted.message


def test_synthetic_windows_differ_and_a_bad_uri_is_one_line(tmp_path, capsys, mlflow_uri):
    a, source_a, seed_a = load_recent("demand", None, rows=500, now=10 * 86400.0, window_s=86400.0)
    b, _, seed_b = load_recent("demand", None, rows=500, now=11 * 86400.0, window_s=86400.0)
    assert seed_a != seed_b and not a.equals(b) and "window" in source_a
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n")
    code = main(["pipeline", "--trigger", "schedule", "--task", "iris", "--model-name", "m",
                 "--tracking-uri", mlflow_uri, "--data-uri", str(bad), "--cooldown", "0"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error: data_uri ") and "lacks column(s)" in err[-1]
