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


#: The prod stacks with the serving app on their cluster (servingRuntime kubernetes), each
#: validated against the schema of the Kubernetes version the stack deploys.
PROD_STACKS = ["staging", "prod", "prod-azure"]


def stack_version(stack: str) -> str:
    """``kubernetesVersion`` of the stack file (or Pulumi.yaml's default) as ``1.NN.0``."""
    from stacks.plan import stack_config

    return f"{stack_config(stack).get('kubernetesVersion', '1.33')}.0"


@pytest.mark.parametrize("stack", PROD_STACKS)
def test_every_kubernetes_object_of_the_prod_stacks_matches_the_schema(capture, stack):
    resources = capture(stack, {"servingRuntime": "kubernetes"})
    version = stack_version(stack)
    bodies = list(manifests(resources))
    kinds = {body["kind"] for _, body in bodies}
    # The serving objects and the tenancy the cluster creates are among them.
    assert {"Namespace", "NetworkPolicy", "Deployment", "Service", "HorizontalPodAutoscaler",
            "PodDisruptionBudget", "ServiceAccount"} <= kinds, (stack, kinds)
    failures = []
    for urn, body in bodies:
        try:
            kubernetes_validate.validate(body, version, strict=True)
        except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as exc:
            failures.append(f"{urn}: {str(exc).splitlines()[0]}")
    assert not failures, "\n".join(failures)


def test_a_misspelled_field_in_a_prod_object_is_caught(capture):
    resources = capture("prod", {"servingRuntime": "kubernetes"})
    urn, body = next((u, b) for u, b in manifests(resources) if b["kind"] == "Deployment")
    body["spec"]["template"]["spec"]["containers"][0]["resource"] = {"limits": {"cpu": "1"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(body, stack_version("prod"), strict=True)
