"""The promotion gate's failure modes, each reproduced against a real MLflow server: registry
faults (a fault proxy), noise (reseeded candidates), a two-process race (barrier), a killed
training, a candidate of another task, and process-global MLflow state."""

from __future__ import annotations

import multiprocessing as mp
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from scipy import stats

from ml.gate import GateConfig, PromotionAborted, PromotionRefused, primary_node, significance
from ml.train import CHAMPION_ALIAS, train
from tests.ml.faultproxy import FaultProxy

ROOT = Path(__file__).resolve().parents[2]
WEAK = {"n_estimators": 1, "max_depth": 1}


def _client(uri: str) -> MlflowClient:
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


# --- the significance test (independent oracle: scipy) ------------------------------------------


def test_paired_t_test_matches_scipy_and_bootstrap_refuses_a_null_gain():
    rng = np.random.default_rng(0)
    champ = rng.normal(1.0, 0.3, 400)
    cand = champ - 0.05 + rng.normal(0, 0.3, 400)
    sig = significance(champ, cand, GateConfig(test="t-test"))
    assert sig.p_value == pytest.approx(stats.ttest_rel(champ, cand, alternative="greater").pvalue, rel=1e-12)
    same = significance(champ, champ + rng.normal(0, 0.3, 400) * 0, GateConfig())
    assert not same.significant and same.mean_gain == 0.0
    # Seeded null simulation: equal models, the bootstrap rule promotes at most ~alpha of them.
    n_sims, alpha = 200, 0.05
    promoted = sum(
        significance(a, a + rng.normal(0, 0.3, 200), GateConfig(n_boot=500)).significant
        for a in (rng.normal(1, 0.3, 200) for _ in range(n_sims))
    )
    bound = stats.binom.ppf(0.999, n_sims, alpha)  # fails with probability < 0.1% if calibrated
    assert promoted <= bound, f"{promoted}/{n_sims} null candidates promoted (bound {bound})"


def test_primary_node_from_sagemaker_resource_config_and_ranks(tmp_path):
    cfg = tmp_path / "resourceconfig.json"
    cfg.write_text('{"current_host": "algo-2", "hosts": ["algo-1", "algo-2"]}')
    assert primary_node({}, str(cfg)) == (False, "SageMaker host algo-2 of algo-1, algo-2")
    cfg.write_text('{"current_host": "algo-1", "hosts": ["algo-2", "algo-1"]}')
    assert primary_node({}, str(cfg))[0] is True
    missing = str(tmp_path / "none.json")
    assert primary_node({"NODE_RANK": "1"}, missing) == (False, "NODE_RANK=1")
    assert primary_node({"RANK": "0"}, missing) == (True, "RANK=0")
    assert primary_node({}, missing) == (True, "single node")


def test_non_primary_node_registers_nothing(mlflow_uri, tmp_path, monkeypatch):
    monkeypatch.setenv("NODE_RANK", "1")
    result = train("iris", mlflow_uri, "iris-node1", seed=0)
    assert result.decision == "skipped" and result.version == ""
    assert _client(mlflow_uri).search_model_versions("name = 'iris-node1'") == []


# --- fail closed ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def proxied(mlflow_uri):
    with FaultProxy(mlflow_uri) as proxy:
        yield proxy


@pytest.mark.parametrize("status", [403, 429, 500, 503])
def test_registry_error_on_the_alias_lookup_aborts_and_keeps_the_champion(mlflow_uri, proxied, monkeypatch, status):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # what is left after MLflow's retries
    client = _client(mlflow_uri)
    name = f"iris-fault-{status}"
    good = train("iris", mlflow_uri, name, seed=0)
    assert good.promoted
    proxied.inject(status, "/registered-models/alias", "GET")
    try:
        with pytest.raises(PromotionAborted, match=f"cannot read {name}@champion"):
            train("iris", proxied.uri, name, seed=1, params=WEAK)
    finally:
        proxied.clear()
    assert proxied.hits >= 1
    assert client.get_model_version_by_alias(name, CHAMPION_ALIAS).version == good.version
    weak = client.get_model_version(name, "2")
    assert weak.tags["promotion.decision"] == "aborted"
    assert str(status) in weak.tags["promotion.reason"]
    assert client.get_run(weak.run_id).info.status == "FAILED"


# --- noise --------------------------------------------------------------------------------------


def test_reseeded_identical_candidates_are_not_promoted_on_noise(mlflow_uri):
    client = _client(mlflow_uri)
    name = "iris-reseed"
    first = train("iris", mlflow_uri, name, seed=0)
    n = 6
    results = [train("iris", mlflow_uri, name, seed=s) for s in range(1, n + 1)]
    promoted = sum(r.promoted for r in results)
    # Same hyper-parameters: each promotion is a false one. Bound: binomial(n, alpha) 99.9%.
    bound = stats.binom.ppf(0.999, n, 0.05)
    assert promoted <= bound, [r.reason for r in results]
    tags = client.get_model_version(name, results[0].version).tags
    assert tags["promotion.test"] == "bootstrap" and "promotion.ci_low" in tags
    assert first.version == "1"


# --- a two-process race --------------------------------------------------------------------


def _race_child(uri: str, name: str, params: dict, seed: int, barrier, queue) -> None:
    import ml.train as t

    class BarrierLock(t.PromotionLock):
        def acquire(self) -> None:
            barrier.wait(timeout=600)
            super().acquire()

    t.PromotionLock = BarrierLock
    result = t.train("iris", uri, name, seed=seed, params=params)
    queue.put((result.version, result.promoted, result.champion_version))


def test_two_racing_trainings_cannot_both_promote_against_the_same_champion(mlflow_uri):
    client = _client(mlflow_uri)
    name = "iris-race"
    assert train("iris", mlflow_uri, name, seed=0, params=WEAK).promoted  # v1: a weak champion
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_race_child, args=(mlflow_uri, name, {}, 1, barrier, queue)),
        ctx.Process(target=_race_child, args=(mlflow_uri, name, {"max_depth": 2, "n_estimators": 3}, 2, barrier, queue)),
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=900)
        assert p.exitcode == 0
    outcomes = [queue.get(timeout=10) for _ in procs]
    promoted = [o for o in outcomes if o[1]]
    against = [client.get_model_version(name, v).tags["promotion.champion_version"] for v, *_ in promoted]
    assert len(set(against)) == len(against), f"two promotions against the same champion: {outcomes}"
    final = client.get_model_version_by_alias(name, CHAMPION_ALIAS).version
    decided_last = max(promoted, key=lambda o: int(client.get_model_version(name, o[0]).last_updated_timestamp))
    assert final == decided_last[0]


# --- a killed training ---------------------------------------------------------------------------


_KILL = """
import os, signal, sys
sys.path.insert(0, {root!r})
import ml.train as t
t._gate_locked = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
t.train("iris", {uri!r}, {name!r}, seed=1, job_key="job-7")
"""


def test_a_killed_training_is_marked_by_the_restart_of_its_job(mlflow_uri):
    client = _client(mlflow_uri)
    name = "iris-killed"
    assert train("iris", mlflow_uri, name, seed=0).promoted
    proc = subprocess.run([sys.executable, "-c", _KILL.format(root=str(ROOT), uri=mlflow_uri, name=name)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == -9, proc.stderr[-2000:]
    orphan = client.get_model_version(name, "2")
    assert "promotion.decision" not in orphan.tags
    assert client.get_run(orphan.run_id).info.status == "RUNNING"
    again = train("iris", mlflow_uri, name, seed=1, job_key="job-7")
    orphan = client.get_model_version(name, "2")
    assert orphan.tags["promotion.decision"] == "abandoned"
    assert client.get_run(orphan.run_id).info.status == "FAILED"
    assert again.version == "3" and again.decision in ("promoted", "rejected")
    # A retry of a job that already finished registers nothing new.
    repeat = train("iris", mlflow_uri, name, seed=1, job_key="job-7")
    assert repeat.version == "3" and repeat.decision == "already done"
    assert len(client.search_model_versions(f"name = '{name}'")) == 3


# --- identity and global state -------------------------------------------------------------------


def test_a_candidate_of_another_task_is_refused_even_without_a_champion(mlflow_uri):
    client = _client(mlflow_uri)
    name = "iris-identity"
    train("iris", mlflow_uri, name, seed=0)
    client.delete_registered_model_alias(name, CHAMPION_ALIAS)
    with pytest.raises(PromotionRefused, match="is a 'iris' model; refusing a 'demand' candidate"):
        train("demand", mlflow_uri, name, rows=500, seed=0)
    assert len(client.search_model_versions(f"name = '{name}'")) == 1


def test_train_leaves_no_process_global_mlflow_state_and_no_mlflow_db(mlflow_uri, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    before = mlflow.get_tracking_uri()
    train("iris", mlflow_uri, "iris-global", seed=0)
    assert mlflow.get_tracking_uri() == before
    assert mlflow.active_run() is None
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "mlruns").exists()
    with pytest.raises(ValueError, match="no tracking URI"):
        train("iris", None, "iris-global", seed=0)
    assert os.listdir(tmp_path) == []
