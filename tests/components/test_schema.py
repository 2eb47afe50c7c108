"""Every Kubernetes object the dev stack declares validates against the Kubernetes OpenAPI
schema, offline and strict: a misspelled field or a removed API version fails here."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from tests.conftest import ints

K8S_VERSION = "1.33.0"


def manifests(resources):
    for r in resources:
        if r["type"].startswith("kubernetes:") and r["custom"]:
            body = ints(copy.deepcopy(r["inputs"]))
            if body.get("apiVersion", "").startswith("monitoring.coreos.com"):
                continue  # CRDs are checked by the monitoring tests; no OpenAPI schema ships for them
            if r["type"].startswith("kubernetes:helm.sh/"):
                continue  # a Helm release is not a Kubernetes object
            yield r["urn"], body


def test_dev_stack_has_objects_to_validate(dev):
    kinds = {body["kind"] for _, body in manifests(dev)}
    assert {"Namespace", "NetworkPolicy", "Deployment", "Service", "HorizontalPodAutoscaler",
            "PodDisruptionBudget", "PersistentVolumeClaim", "ServiceAccount"} <= kinds


def test_every_dev_object_matches_the_schema(dev):
    failures = []
    for urn, body in manifests(dev):
        try:
            kubernetes_validate.validate(body, K8S_VERSION, strict=True)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as exc:
            failures.append(f"{urn}: {exc}")
    assert not failures, "\n".join(failures)


def test_a_misspelled_field_is_caught(dev):
    urn, body = next((u, b) for u, b in manifests(dev) if b["kind"] == "Deployment")
    body["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"path": "/", "port": 80}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(body, K8S_VERSION, strict=True)


def test_a_removed_api_version_is_caught():
    body = {"apiVersion": "autoscaling/v2beta1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "x"}}
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(body, K8S_VERSION, strict=True)
