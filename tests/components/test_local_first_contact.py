"""The local target's first-contact defects (issue 11), one test per class, on the dev plan.

Oracles are independent of our constants: MLflow's own Host-header check, a real MLflow server
started with the declared command and env, the training Job the launcher really emits, and
NetworkPolicy semantics evaluated over every pod the namespace runs.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from mlflow.server.security_utils import get_default_allowed_hosts, is_allowed_host_header

from components.kubernetes.serving import CLIENT_LABEL
from ml.launch.config import LaunchConfig
from ml.launch.local import job_manifest
from ml.launch.outputs import StackOutputs
from tests.conftest import ints, of_type, one
from tests.mlflow_server import free_port

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


def _container(resource):
    (container,) = resource["inputs"]["spec"]["template"]["spec"]["containers"]
    return container


def _env(container) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", [])}


def _mlflow(dev):
    return one(dev, DEPLOYMENT, "training-mlflow-deployment")


def _tracking_uri(dev) -> str:
    return _env(_container(one(dev, DEPLOYMENT, "serving-deployment")))["SERVING_TRACKING_URI"]


def _training_job(dev) -> dict:
    outputs = StackOutputs(mlflow_tracking_uri=_tracking_uri(dev), training_image_uri="mlops-platform/training:x",
                           namespace="mlops")
    return job_manifest(outputs, LaunchConfig())


def _allowed_hosts(command: list[str]) -> list[str]:
    assert "--allowed-hosts" in command, f"mlflow server has no --allowed-hosts: {command}"
    return command[command.index("--allowed-hosts") + 1].split(",")


# ---- defect 2: MLflow's Host-header check ---------------------------------------------------

def test_every_mlflow_host_the_pods_use_passes_mlflows_own_host_check(dev):
    """The Host headers serving and the training Job send (their tracking URIs), plus the other
    DNS forms of the same Service, pass MLflow's is_allowed_host_header with the declared list;
    MLflow's default list (what ran before the fix) rejects them all."""
    allowed = _allowed_hosts(_container(_mlflow(dev))["command"])
    job_env = {e["name"]: e["value"] for e in _training_job(dev)["spec"]["template"]["spec"]["containers"][0]["env"]}
    used = {urlparse(_tracking_uri(dev)).netloc, urlparse(job_env["MLFLOW_TRACKING_URI"]).netloc}
    host, port = next(iter(used)).split(":")
    service, namespace = host.split(".")[:2]
    forms = {f"{service}:{port}", f"{service}.{namespace}:{port}", f"{service}.{namespace}.svc:{port}", *used}
    for header in sorted(forms):
        assert is_allowed_host_header(allowed, header), f"MLflow would answer 403 to Host {header}"
        assert not is_allowed_host_header(get_default_allowed_hosts(), header), header
    # Still refuses what it should (DNS rebinding protection stays on).
    assert not is_allowed_host_header(allowed, "evil.example.com")
    assert "*" not in allowed


def test_mlflow_service_name_is_the_one_in_allowed_hosts(dev):
    service = one(dev, "kubernetes:core/v1:Service", "training-mlflow-service")["inputs"]["metadata"]
    allowed = _allowed_hosts(_container(_mlflow(dev))["command"])
    assert f"{service['name']}.{service['namespace']}.svc.cluster.local:5000" in allowed


# ---- defect 1: MLflow memory, measured on a real server ------------------------------------

def _quantity_mib(q: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi)", q)
    assert m, q
    return float(m[1]) * units[m[2]]


def _group_pss_mib(pgid: int) -> float:
    """Proportional set size summed over the process group: shared pages of the forked workers
    counted once, as the container's memory cgroup charges them (RSS would count them twice)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            for line in (entry / "smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) / 1024
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
    return total


@pytest.mark.timeout(720)
def test_mlflow_runs_as_declared_within_its_memory_limit(dev, tmp_path):
    """Start `mlflow server` with the Deployment's own command and env (paths moved to a temp
    dir, bound to 127.0.0.1), call its API, and sum the PSS of its whole process group: the
    declared limit must hold it with room (with the job runner on it is ~1.8 GiB)."""
    container = _container(_mlflow(dev))
    env = {**os.environ, **_env(container), "HOME": str(tmp_path)}
    assert env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"
    port = free_port()
    command = [arg.replace("/mlflow/", f"{tmp_path}/", 1) for arg in container["command"]]
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    hosts = command.index("--allowed-hosts") + 1
    command[hosts] += f",127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    peak, answered = 0.0, 0
    try:
        deadline = time.monotonic() + 600  # ~20 s on an idle machine; minutes on a loaded 2-core one
        while time.monotonic() < deadline and answered < 20:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/search?max_results=5",
                                            timeout=10) as resp:
                    answered += resp.status == 200
            except (urllib.error.URLError, OSError):
                time.sleep(1)
            peak = max(peak, _group_pss_mib(proc.pid))
        time.sleep(3)  # workers settle after the burst
        peak = max(peak, _group_pss_mib(proc.pid))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    assert answered == 20, "mlflow server did not answer its API in time"
    limits = container["resources"]["limits"]
    requests = container["resources"]["requests"]
    # The limit leaves room over the measured peak; the request covers it (the scheduler then
    # never places MLflow where it cannot run).
    assert peak * 1.25 < _quantity_mib(limits["memory"]), (peak, limits)
    assert _quantity_mib(requests["memory"]) >= peak, (peak, requests)


# ---- defect 3: the first `pulumi up` finishes before any model exists -----------------------

def test_serving_is_ready_without_a_model_on_a_fresh_stack(dev):
    env = _env(_container(one(dev, DEPLOYMENT, "serving-deployment")))
    assert env["SERVING_READY_WITHOUT_MODEL"] == "true"


def test_serving_env_names_are_the_apps(dev):
    from serving import contract

    env = _env(_container(one(dev, DEPLOYMENT, "serving-deployment")))
    name = getattr(contract, "READY_WITHOUT_MODEL_ENV", "SERVING_READY_WITHOUT_MODEL")
    assert name in env
    for key in env:
        assert key.startswith(contract.ENV_PREFIX), key


def test_monitoring_does_not_wait_on_the_serving_deployment(dev):
    """Pulumi resolves a Deployment's outputs only once it is Ready: nothing under Monitoring
    may take an input from (or depend on) the serving Deployment, or a model-less first
    `up` never creates them."""
    deployment_urns = {r["urn"] for r in of_type(dev, DEPLOYMENT) if r["name"].startswith("serving")}
    monitoring = [r for r in dev if r["name"].startswith("monitoring")]
    assert monitoring
    for r in monitoring:
        deps = set(r["dependencies"]) | {u for v in r["property_dependencies"].values() for u in v}
        assert not deps & deployment_urns, f"{r['type']} {r['name']} waits on the serving Deployment"


# ---- defect 7 (service links) ----------------------------------------------------------------

def test_no_pod_gets_service_link_variables(dev):
    for r in of_type(dev, DEPLOYMENT):
        assert r["inputs"]["spec"]["template"]["spec"].get("enableServiceLinks") is False, r["name"]


# ---- defect 4: NetworkPolicies admit the pods that really run -------------------------------

def _selects(selector: dict, labels: dict) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        op, vals = expr["operator"], expr.get("values", [])
        present = expr["key"] in labels
        if op == "In" and labels.get(expr["key"]) not in vals:
            return False
        if op == "NotIn" and present and labels[expr["key"]] in vals:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def _peer_admits(peer: dict, pod: dict, policy_ns: str) -> bool:
    if "ipBlock" in peer:
        return False
    ns_sel, pod_sel = peer.get("namespaceSelector"), peer.get("podSelector")
    if ns_sel is None:
        ns_ok = pod["namespace"] == policy_ns
    else:
        ns_ok = _selects(ns_sel, {"kubernetes.io/metadata.name": pod["namespace"]})
    return ns_ok and (pod_sel is None or _selects(pod_sel, pod["labels"]))


def _allowed(policies: list[dict], pod: dict, peer: dict, port: int, direction: str) -> bool:
    """Kubernetes semantics: a pod selected by no policy of a direction is open that way;
    otherwise some rule of a selecting policy must admit the peer on the port."""
    key, rules_key, peers_key = ("Ingress", "ingress", "from") if direction == "in" else ("Egress", "egress", "to")
    selecting = [p for p in policies if p["namespace"] == pod["namespace"] and key in p["spec"].get("policyTypes", [])
                 and _selects(p["spec"]["podSelector"], pod["labels"])]
    if not selecting:
        return True
    for p in selecting:
        for rule in p["spec"].get(rules_key) or []:
            ports = rule.get("ports")
            if ports and not any(int(x.get("port", port)) == port for x in ports):
                continue
            peers = rule.get(peers_key)
            if not peers or any(_peer_admits(x, peer, p["namespace"]) for x in peers):
                return True
    return False


def _pods(dev) -> dict[str, dict]:
    pods = {}
    for r in of_type(dev, DEPLOYMENT):
        meta = r["inputs"]["metadata"]
        pods[r["name"]] = {"namespace": meta["namespace"], "labels": r["inputs"]["spec"]["template"]["metadata"]["labels"]}
    job = _training_job(dev)
    pods["training-job"] = {"namespace": job["metadata"]["namespace"], "labels": job["spec"]["template"]["metadata"]["labels"]}
    return pods


def _policies(dev) -> list[dict]:
    return [{"namespace": r["inputs"]["metadata"]["namespace"], "name": r["name"], "spec": ints(r["inputs"]["spec"])}
            for r in of_type(dev, NETPOL)]


@pytest.mark.parametrize("client", ["training-job", "serving-deployment"])
def test_mlflow_clients_reach_mlflow_through_the_policies(dev, client):
    pods, policies = _pods(dev), _policies(dev)
    src, dst = pods[client], pods["training-mlflow-deployment"]
    assert _allowed(policies, src, dst, 5000, "out"), f"{client} egress to MLflow is denied"
    assert _allowed(policies, dst, src, 5000, "in"), f"MLflow ingress from {client} is denied"


def test_an_unlabelled_pod_cannot_reach_mlflow(dev):
    """The evaluator is not permissive: a pod without the client labels is denied."""
    pods, policies = _pods(dev), _policies(dev)
    stranger = {"namespace": "mlops", "labels": {"app.kubernetes.io/name": "notebook"}}
    assert not _allowed(policies, pods["training-mlflow-deployment"], stranger, 5000, "in")
    assert not _allowed(policies, stranger, pods["training-mlflow-deployment"], 5000, "out")


def test_every_policy_pod_selector_matches_a_pod_that_runs(dev):
    """A non-empty podSelector (top level or in a same-namespace peer) that matches no pod the
    platform runs is a policy about nobody: the class of the `training` vs `mlops-training` bug."""
    pods = [p for p in _pods(dev).values() if p["namespace"] == "mlops"]
    for policy in (p for p in _policies(dev) if p["namespace"] == "mlops"):
        spec = policy["spec"]
        selectors = [spec["podSelector"]]
        for rule in [*(spec.get("ingress") or []), *(spec.get("egress") or [])]:
            for peer in [*(rule.get("from") or []), *(rule.get("to") or [])]:
                if "namespaceSelector" not in peer and peer.get("podSelector"):
                    selectors.append(peer["podSelector"])
        for sel in selectors:
            # The serving-client label is an opt-in for the users' own pods, by design.
            if sel and set(sel.get("matchLabels") or {}) != {CLIENT_LABEL}:
                assert any(_selects(sel, p["labels"]) for p in pods), f"{policy['name']}: {sel} selects no pod"
