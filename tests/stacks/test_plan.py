"""The capture harness (stacks/plan.py): shape of the records and the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT, of_type

KEYS = {"urn", "type", "name", "parent", "custom", "inputs", "dependencies", "property_dependencies", "provider", "protect",
        "delete_before_replace", "replace_on_changes"}


def test_records_have_the_documented_shape(dev):
    assert dev, "the dev stack declared nothing"
    urns = {r["urn"] for r in dev}
    for r in dev:
        assert set(r) == KEYS, r["urn"]
        assert r["parent"] is None or r["parent"].endswith("pulumi:pulumi:Stack::mlops-platform-dev") or r["parent"] in urns, r["urn"]
        for dep in r["dependencies"]:
            assert dep in urns, f"{r['urn']} depends on unknown {dep}"


def test_components_are_recorded_and_parent_their_children(dev):
    components = {r["name"]: r for r in dev if not r["custom"]}
    assert {"network", "cluster", "registry", "training", "serving", "monitoring"} <= set(components)
    for r in dev:
        if r["custom"] and not r["type"].startswith("pulumi:providers:"):
            assert r["parent"] in {c["urn"] for c in components.values()}, f"{r['urn']} has no component parent"


def test_kubernetes_objects_go_through_the_configured_context(dev):
    providers = {r["urn"]: r for r in of_type(dev, "pulumi:providers:kubernetes")}
    assert providers, "no Kubernetes provider declared"
    for p in providers.values():
        assert p["inputs"]["context"] == "minikube", p["urn"]
    for r in dev:
        if r["type"].startswith("kubernetes:"):
            assert r["provider"] and r["provider"].split("::")[0:4] and any(
                r["provider"].startswith(urn) for urn in providers
            ), f"{r['urn']} uses the default provider"


def test_dependencies_follow_the_composition(dev):
    deployment = next(r for r in of_type(dev, "kubernetes:apps/v1:Deployment") if r["name"] == "serving-deployment")
    deps = " ".join(deployment["dependencies"])
    assert "network-namespace" in deps and "training-mlflow-service" in deps


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stacks.plan", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_cli_json_is_the_documented_list():
    result = _run_cli("dev", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, list) and all(set(r) == KEYS for r in data)
    assert any(r["type"] == "kubernetes:apps/v1:Deployment" for r in data)


def test_cli_tree_says_it_is_offline():
    result = _run_cli("dev", "--no-policies")
    assert result.returncode == 0, result.stderr
    assert "offline plan" in result.stdout and "not a preview" in result.stdout
    assert "mlops:index:InferenceEndpoint  serving  (component)" in result.stdout


def test_bad_config_is_one_line_not_a_stack_trace():
    result = _run_cli("dev", "--no-policies", "--set", "servingMinReplicas=-2")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: mlops-platform:servingMinReplicas: '-2' is not allowed; allowed: a number >= 1"
    )


def test_unknown_stack_is_one_line():
    result = _run_cli("nope", "--no-policies")
    assert result.returncode != 0
    assert "stack: 'nope' has no Pulumi.nope.yaml; known stacks:" in result.stderr
    assert "Traceback" not in result.stderr


def test_policy_verdicts_use_the_overridden_config():
    # A dev stack judged as prod: its volumes are not protected, which prod requires.
    result = _run_cli("dev", "--set", "environment=prod")
    assert result.returncode == 1, result.stdout[-2000:]
    assert "data-stores-protected" in result.stdout
    clean = _run_cli("dev")
    assert clean.returncode == 0, clean.stdout[-2000:]


def test_capture_survives_a_closed_event_loop():
    import asyncio

    from stacks.plan import capture

    asyncio.set_event_loop(None)  # what asyncio.run() and ASGI test clients leave behind
    resources = capture("dev", {"servingMaxReplicas": "5"})
    assert any(r["type"] == "kubernetes:autoscaling/v2:HorizontalPodAutoscaler" for r in resources)
