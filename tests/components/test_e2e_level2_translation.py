"""e2e level 2 runs each pod spec on Docker "exactly as declared": the `docker run` it issues
for the dev stack's real pod specs carries every declared setting (no Docker engine needed)."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ints, one

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("level2", ROOT / "scripts/e2e/level2.py")
level2 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(level2)


@pytest.fixture()
def recorded(monkeypatch):
    calls: list[list[str]] = []

    def fake_sh(*argv, **_):
        calls.append(list(argv))
        return subprocess.CompletedProcess(argv, 0, stdout="cid\n", stderr="")

    monkeypatch.setattr(level2, "sh", fake_sh)
    run = level2.Run(argparse.Namespace(timeout=60, probe_slack=1))
    return run, calls


def _pod(dev, name):
    return ints(one(dev, "kubernetes:apps/v1:Deployment", name)["inputs"]["spec"]["template"])


def _flag_values(argv, flag):
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_mlflow_runs_with_every_declared_setting(dev, recorded):
    run, calls = recorded
    pod = _pod(dev, "training-mlflow-deployment")
    (container,) = pod["spec"]["containers"]
    run.start_pod("training-mlflow", pod, ["training-mlflow.mlops.svc.cluster.local"])
    argv = calls[-1]
    image_at = argv.index(container["image"])
    assert argv[image_at + 1:] == container["command"][1:]
    assert _flag_values(argv, "--entrypoint") == [container["command"][0]]
    assert _flag_values(argv, "--user") == ["10001:10001"]
    assert "--read-only" in argv and _flag_values(argv, "--cap-drop") == ["ALL"]
    assert _flag_values(argv, "--security-opt") == ["no-new-privileges"]
    assert _flag_values(argv, "--memory") == [str(level2.quantity_bytes(container["resources"]["limits"]["memory"]))]
    assert set(_flag_values(argv, "--env")) == {f"{e['name']}={e['value']}" for e in container["env"]}
    assert _flag_values(argv, "--network-alias") == ["training-mlflow.mlops.svc.cluster.local"]
    # The PVC becomes a volume chowned to fsGroup first (what the kubelet does), /tmp a tmpfs.
    assert any("chown" in c for c in calls[:-1])
    mounts = _flag_values(argv, "-v") + _flag_values(argv, "--tmpfs")
    assert {m.split(":")[1] if m.startswith("mlops-l2") else m.split(":")[0] for m in mounts} == {"/mlflow", "/tmp"}


def test_a_spec_level2_cannot_honour_is_refused_not_dropped(dev, recorded):
    run, _ = recorded
    pod = _pod(dev, "serving-deployment")
    pod["spec"]["containers"][0]["env"].append({"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}})
    with pytest.raises(level2.Failed, match="valueFrom"):
        run.start_pod("serving", pod, [])
