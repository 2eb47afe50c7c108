"""Happy-path platforms: every kind of resource the rules look at, declared securely, as a
prod stack would (tags and labels carry the prod values). Mutation tests change one thing."""

from __future__ import annotations

import copy

from policies.lib import types as t
from tests.policies import builders as b

PROD = b.PROD


def retag(resources: list[dict], environment: str) -> list[dict]:
    out = copy.deepcopy(resources)
    for r in out:
        tags = r["inputs"].get("tags")
        if isinstance(tags, dict) and "environment" in tags:
            tags["environment"] = environment
        labels = (r["inputs"].get("metadata") or {}).get("labels")
        if isinstance(labels, dict) and "mlops-platform/environment" in labels:
            labels["mlops-platform/environment"] = environment
    return out


def aws() -> list[dict]:
    return retag([
        *b.secure_bucket("artifacts"),
        b.kms_key("key"),
        b.launch_template("nodes"),
        b.ebs_volume("scratch"),
        b.eks_cluster("cluster"),
        b.res("aws:eks/addon:Addon", "vpc-cni", {"addonName": "vpc-cni", "clusterName": "cluster", "tags": b.TAGS,
                                                 "configurationValues": '{"enableNetworkPolicy": "true"}'}),
        b.access_policy_association("ci-edit", "AmazonEKSEditPolicy", f"arn:aws:iam::{b.ACCOUNT}:role/ci"),
        b.access_entry("ci-entry", f"arn:aws:iam::{b.ACCOUNT}:role/ci", ["mlops-editors"]),
        b.ecr_repository("serving"),
        b.ecr_policy("serving-policy", {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{b.ACCOUNT}:role/nodes"},
                                        "Action": "ecr:BatchGetImage"}),
        b.endpoint_config("endpoint-config"),
        b.sagemaker_model("model"),
        b.pipeline("training-pipeline"),
        b.log_group("serving-logs"),
        b.sns_topic("alerts"),
        b.iam_role("execution"),
        b.iam_role("serving-irsa", b.IRSA_TRUST),
        b.role_policy("execution-policy"),
        b.attachment("execution-attachment", f"arn:aws:iam::{b.ACCOUNT}:policy/mlops-execution"),
        b.security_group("lb"),
        b.listener("https"),
    ], "prod")


def azure() -> list[dict]:
    return retag([
        b.resource_group("mlops-rg"),
        b.storage_account("mlopsstore", publicNetworkAccess="Disabled"),
        b.blob_container("artifacts"),
        b.key_vault("mlops-kv", publicNetworkAccess="Disabled"),
        b.container_registry("mlopsacr", publicNetworkAccess="Disabled"),
        b.aks_cluster("aks", networkProfile={"networkPolicy": "cilium"}),
        b.role_assignment("acr-pull", b.ACR_PULL, "mlopsacr"),
        b.ml_workspace("aml"),
        b.merge(b.online_endpoint("endpoint"), {"properties": {"publicNetworkAccess": "Disabled"}}),
        b.log_analytics("logs"),
        b.nsg("cluster-nsg", b.nsg_rule("https", "443")),
    ], "prod")


def kubernetes() -> list[dict]:
    return retag([
        *b.isolated_namespace("mlops"),
        b.deployment("serving"),
        b.stateful_set("mlflow"),
        b.job("train"),
        b.cron_job("retrain"),
        b.ingress("serving-ingress"),
        b.pvc("mlflow-data"),
    ], "prod")


def everything() -> list[dict]:
    return aws() + azure() + kubernetes()


def find(resources: list[dict], name: str) -> dict:
    (match,) = [r for r in resources if r["name"] == name]
    return match


def replace(resources: list[dict], name: str, patch: dict) -> list[dict]:
    """The platform with ``patch`` deep-merged into one resource's inputs."""
    return [b.merge(r, patch) if r["name"] == name else r for r in resources]


def container_patch(resources: list[dict], name: str, change) -> list[dict]:
    """The platform with ``change(container)`` applied to the first container of a workload."""
    out = copy.deepcopy(resources)
    record = find(out, name)
    spec = record["inputs"]["spec"]
    pod = spec["jobTemplate"]["spec"]["template"]["spec"] if record["type"] == t.K8S_CRON_JOB else (
        spec if record["type"] == t.K8S_POD else spec["template"]["spec"])
    change(pod["containers"][0], pod)
    return out
