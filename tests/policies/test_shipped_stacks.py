"""Every shipped stack passes the pack offline (the same check CI runs with
``python -m stacks.plan <stack>``), and deliberately insecure variants of them fail it."""

from __future__ import annotations

import copy
import json

import pytest

from policies.runner import evaluate, format_verdicts, has_mandatory
from stacks.plan import capture, stack_config

STACKS = ("dev", "staging", "prod", "prod-azure")


@pytest.fixture(scope="module")
def captured() -> dict[str, list[dict]]:
    return {stack: capture(stack) for stack in STACKS}


def _mandatory(resources: list[dict], config: dict) -> list[tuple[str, str]]:
    return sorted({(v.policy, v.name) for v in evaluate(resources, config) if v.enforcement == "mandatory"})


def _first(resources: list[dict], type_: str) -> dict:
    matches = [r for r in resources if r["type"] == type_]
    assert matches, f"the stack declares no {type_}"
    return matches[0]


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_stack_has_no_mandatory_violation(stack, captured):
    violations = evaluate(captured[stack], stack_config(stack))
    assert not has_mandatory(violations), format_verdicts(violations)


@pytest.mark.parametrize("stack,types", [
    ("dev", {"kubernetes:apps/v1:Deployment", "kubernetes:networking.k8s.io/v1:NetworkPolicy",
             "kubernetes:core/v1:PersistentVolumeClaim"}),
    ("prod", {"aws:s3/bucket:Bucket", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:eks/cluster:Cluster",
              "aws:kms/key:Key"}),
    ("staging", {"aws:s3/bucket:Bucket", "aws:iam/role:Role", "aws:eks/cluster:Cluster", "aws:kms/key:Key"}),
    ("prod-azure", {"azure-native:storage:StorageAccount", "azure-native:machinelearningservices:Workspace",
                    "azure-native:machinelearningservices:OnlineEndpoint"}),
])
def test_shipped_stack_declares_what_the_rules_check(stack, types, captured):
    assert types <= {r["type"] for r in captured[stack]}


def test_public_bucket_fails_the_prod_plan(captured):
    resources = copy.deepcopy(captured["prod"])
    block = _first(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    block["inputs"]["blockPublicPolicy"] = False
    bucket = next(r for r in resources if r["urn"] in block["property_dependencies"]["bucket"])
    assert _mandatory(resources, stack_config("prod")) == [("aws-s3-bucket-public-access-block", bucket["name"])]


def test_star_policy_fails_the_prod_plan(captured):
    resources = copy.deepcopy(captured["prod"])
    policy = _first(resources, "aws:iam/rolePolicy:RolePolicy")
    policy["inputs"]["policy"] = json.dumps({"Version": "2012-10-17",
                                             "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    assert _mandatory(resources, stack_config("prod")) == [("aws-iam-no-wildcards", policy["name"])]


def test_privileged_pod_fails_the_dev_plan(captured):
    resources = copy.deepcopy(captured["dev"])
    deployment = _first(resources, "kubernetes:apps/v1:Deployment")
    container = deployment["inputs"]["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"]["privileged"] = True
    assert _mandatory(resources, stack_config("dev")) == [("k8s-no-privilege-escalation", deployment["name"])]


def test_public_ml_workspace_fails_the_azure_plan(captured):
    resources = copy.deepcopy(captured["prod-azure"])
    workspace = _first(resources, "azure-native:machinelearningservices:Workspace")
    workspace["inputs"]["publicNetworkAccess"] = "Enabled"
    assert _mandatory(resources, stack_config("prod-azure")) == [("azure-ml-workspace-private", workspace["name"])]


def test_dev_config_promoted_to_prod_without_protection_fails_the_plan():
    overrides = {"environment": "prod"}
    resources = capture("dev", overrides=overrides)
    failing = _mandatory(resources, stack_config("dev", overrides))
    assert failing and {policy for policy, _ in failing} == {"data-stores-protected"}
    assert {name for _, name in failing} == {
        r["name"] for r in resources if r["type"] == "kubernetes:core/v1:PersistentVolumeClaim"}
