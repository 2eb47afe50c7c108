"""Checkpoints: a training killed (a real process, SIGKILL) mid-fit or after it registered, then
restarted on the same checkpoint directory, resumes and registers exactly once. Against a real
MLflow server; the restart is the real CLI (``python -m ml train``), as a SageMaker spot restart
runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow.artifacts
import mlflow.pyfunc
import numpy as np
import pytest
from mlflow import MlflowClient

from ml.checkpoint import CHECKPOINT_ENV, Checkpoint, checkpoint_dir, fingerprint
from ml.tasks import get_task
from ml.train import CHAMPION_ALIAS, train

ROOT = Path(__file__).resolve().parents[2]

# Runs the CLI in a real process whose checkpoint writer SIGKILLs the process right after its
# ``kill_after``-th checkpoint (mid-fit), or whose gate SIGKILLs it (after registration).
_KILLED = """
import os, signal, sys
sys.path.insert(0, {root!r})
import ml.checkpoint as c
import ml.train as t
kill_after, at_gate = {kill_after!r}, {at_gate!r}
saved, count = c.Checkpoint.save_model, [0]
def save_model(self, *a, **k):
    saved(self, *a, **k)
    count[0] += 1
    if count[0] == kill_after:
        os.kill(os.getpid(), signal.SIGKILL)
c.Checkpoint.save_model = save_model
if at_gate:
    t._gate_locked = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
from ml.cli import main
sys.exit(main({argv!r}))
"""


def _client(uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _argv(uri: str, name: str, ckpt: Path, *, task: str, rows: int | None, seed: int, job: str) -> list[str]:
    argv = ["train", "--task", task, "--model-name", name, "--tracking-uri", uri, "--seed", str(seed),
            "--checkpoint-dir", str(ckpt), "--job-key", job]
    return argv + (["--rows", str(rows)] if rows else [])


def _run_killed(argv: list[str], *, kill_after: int = 0, at_gate: bool = False) -> subprocess.CompletedProcess[str]:
    code = _KILLED.format(root=str(ROOT), kill_after=kill_after, at_gate=at_gate, argv=argv)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900,
                          check=False, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _run_cli(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ml", *argv], capture_output=True, text=True, timeout=900,
                          check=False, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _versions(client: MlflowClient, name: str) -> list:
    return client.search_model_versions(f"name = '{name}'")


@pytest.mark.timeout(1800)  # several real trainings/processes; the machine is shared
def test_a_training_killed_mid_fit_resumes_from_its_checkpoint_and_registers_once(mlflow_uri, tmp_path):
    client = _client(mlflow_uri)
    name, ckpt = "demand-ckpt-fit", tmp_path / "ckpt"
    argv = _argv(mlflow_uri, name, ckpt, task="demand", rows=3000, seed=0, job="spot-1")
    killed = _run_killed(argv, kill_after=3)
    assert killed.returncode == -9, killed.stderr[-3000:]
    state = json.loads((ckpt / "state.json").read_text())
    # Demand: HistGradientBoosting, max_iter 300 in chunks of 30: killed after 90 iterations.
    assert (state["stage"], state["iterations"], state["total"]) == ("fitting", 90, 300)
    assert _versions(client, name) == []  # nothing registered by the killed attempt

    resumed = _run_cli(argv)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming the fit from the checkpoint" in resumed.stderr and "max_iter=90 of 300" in resumed.stderr
    # The restart grew the model from iteration 90: it never fitted the first chunks again.
    assert "checkpoint: max_iter=30 of 300" not in resumed.stderr
    assert "checkpoint: max_iter=120 of 300" in resumed.stderr
    versions = _versions(client, name)
    assert [v.version for v in versions] == ["1"]
    assert versions[0].tags["promotion.decision"] == "promoted"
    assert client.get_run(versions[0].run_id).info.status == "FINISHED"

    # Oracle: the same training run uninterrupted (own checkpoint dir, own model name, same data
    # and frozen held-out set) gives the same model, prediction for prediction.
    whole = train("demand", mlflow_uri, "demand-ckpt-whole", rows=3000, seed=0, job_key="whole",
                  checkpoint_dir=tmp_path / "whole")
    holdout = get_task("demand").holdout()
    x = holdout[list(get_task("demand").features)].astype("float64")
    def predictions(model_name: str, version: str) -> np.ndarray:
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=client.get_model_version_download_uri(model_name, version),
            dst_path=str(tmp_path / f"{model_name}-{version}"), tracking_uri=mlflow_uri)
        return np.asarray(mlflow.pyfunc.load_model(local).predict(x))

    got, want = predictions(name, "1"), predictions("demand-ckpt-whole", whole.version)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))

    # A further restart of the finished job registers nothing.
    again = _run_cli(argv)
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(_versions(client, name)) == 1


@pytest.mark.timeout(1800)  # several real trainings/processes; the machine is shared
def test_a_training_killed_after_registering_resumes_at_the_gate_with_the_same_version(mlflow_uri, tmp_path):
    client = _client(mlflow_uri)
    name, ckpt = "iris-ckpt-gate", tmp_path / "ckpt"
    assert train("iris", mlflow_uri, name, seed=0).promoted  # a champion to compare against
    argv = _argv(mlflow_uri, name, ckpt, task="iris", rows=None, seed=1, job="spot-2")
    killed = _run_killed(argv, at_gate=True)
    assert killed.returncode == -9, killed.stderr[-3000:]
    state = json.loads((ckpt / "state.json").read_text())
    assert state["stage"] == "registered" and state["version"] == "2"
    orphan = client.get_model_version(name, "2")
    assert "promotion.decision" not in orphan.tags
    assert client.get_run(orphan.run_id).info.status == "RUNNING"

    resumed = _run_cli(argv)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "version 2 of 'iris-ckpt-gate' was registered before the restart" in resumed.stderr
    versions = {v.version: v for v in _versions(client, name)}
    assert sorted(versions) == ["1", "2"]  # exactly once: no version 3
    assert versions["2"].tags["promotion.decision"] in ("promoted", "rejected")
    run = client.get_run(versions["2"].run_id)
    assert run.info.status == "FINISHED" and run.data.tags["ml.resumed"] == "true"
    champion = client.get_model_version_by_alias(name, CHAMPION_ALIAS).version
    assert champion == ("2" if versions["2"].tags["promotion.decision"] == "promoted" else "1")

    # The same directory given to another training (another seed) is not resumed from.
    other = _run_cli(_argv(mlflow_uri, name, ckpt, task="iris", rows=None, seed=7, job="other-job"))
    assert other.returncode == 0, other.stderr[-3000:]
    assert "belongs to another training" in other.stderr
    assert len(_versions(client, name)) == 3


def test_checkpoint_dir_comes_from_the_flag_the_variable_or_sagemaker(tmp_path):
    assert checkpoint_dir(tmp_path / "a", env={CHECKPOINT_ENV: str(tmp_path / "b")}) == tmp_path / "a"
    assert checkpoint_dir(None, env={CHECKPOINT_ENV: str(tmp_path / "b")}) == tmp_path / "b"
    assert checkpoint_dir(None, env={}) is None
    # /opt/ml/checkpoints is used only inside a SageMaker job that has it (CheckpointConfig sent).
    expected = Path("/opt/ml/checkpoints") if Path("/opt/ml/checkpoints").is_dir() else None
    assert checkpoint_dir(None, env={"TRAINING_JOB_NAME": "j"}) == expected


def test_an_unreadable_or_foreign_checkpoint_is_ignored(tmp_path):
    key = fingerprint(task="iris", seed=0)
    (tmp_path / "state.json").write_text("{not json")
    assert Checkpoint(tmp_path, key).stage is None
    (tmp_path / "state.json").write_text(json.dumps({"fingerprint": "other", "stage": "fitted"}))
    assert Checkpoint(tmp_path, key).stage is None
    # A state naming a model file that is not there (killed between the two writes) is not used.
    (tmp_path / "state.json").write_text(json.dumps({"fingerprint": key, "stage": "fitting", "iterations": 3}))
    assert Checkpoint(tmp_path, key).stage is None
    assert fingerprint(task="iris", seed=0) == key != fingerprint(task="iris", seed=1)
