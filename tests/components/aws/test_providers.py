"""Issue 16 item 7: AWS components deploy through the caller's ``aws.Provider`` (assume-role,
another account) when one reaches them, and refuse a provider that deploys somewhere other
than their options say.

Oracle: the engine's own record of each child's provider reference (the URN the monitor
receives), not our constants.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components import Registry, TrainingPlatform
from components.aws.cluster import kubeconfig
from stacks.mocks import PlatformMocks
from stacks.plan import RecordingMonitor

ROLE = "arn:aws:iam::111122223333:role/cross-account-deployer"


def declare(build: Any, caller_region: str | None = "us-east-1") -> tuple[list[dict[str, Any]], list[BaseException]]:
    """Run ``build(opts)`` under mocks; returns the records and the errors the program raised."""
    monitor = RecordingMonitor(PlatformMocks())
    pulumi.runtime.settings.set_root_resource(None)
    pulumi.runtime.set_mocks(monitor.mocks, project="mlops-platform", stack="t", preview=False, monitor=monitor)
    errors: list[BaseException] = []

    @pulumi.runtime.test
    def program() -> None:
        caller = aws.Provider("caller", aws.ProviderArgs(
            region=caller_region, assume_roles=[aws.ProviderAssumeRoleArgs(role_arn=ROLE)]))
        build(pulumi.ResourceOptions(providers=[caller]))

    try:
        program()
    except Exception as exc:  # noqa: BLE001 - the errors are what some tests assert
        errors.append(exc)
    return monitor.records, errors


def test_children_deploy_through_the_callers_provider() -> None:
    records, errors = declare(lambda opts: Registry(
        "registry", {"target": "aws", "aws": {"region": "us-east-1"}}, opts=opts))
    assert errors == []
    providers = [r for r in records if r["type"] == "pulumi:providers:aws"]
    assert [p["name"] for p in providers] == ["caller"], "the component built its own aws.Provider"
    caller_urn = providers[0]["urn"]
    children = [r for r in records if r["type"].startswith("aws:")]
    assert children, "no aws children recorded"
    assert {r["provider"].rsplit("::", 1)[0] for r in children} == {caller_urn}


def test_without_a_caller_provider_each_component_builds_its_own() -> None:
    monitor = RecordingMonitor(PlatformMocks())
    pulumi.runtime.settings.set_root_resource(None)
    pulumi.runtime.set_mocks(monitor.mocks, project="mlops-platform", stack="t", preview=False, monitor=monitor)

    @pulumi.runtime.test
    def program() -> None:
        Registry("registry", {"target": "aws", "aws": {"region": "us-east-1"}})

    program()
    providers = [r for r in monitor.records if r["type"] == "pulumi:providers:aws"]
    assert [(p["name"], p["inputs"].get("region")) for p in providers] == [("registry-aws", "us-east-1")]


def test_a_provider_in_another_region_is_refused_in_one_line() -> None:
    records, errors = declare(lambda opts: Registry(
        "registry", {"target": "aws", "aws": {"region": "eu-west-1"}}, opts=opts), caller_region="us-east-1")
    assert errors, "a provider in us-east-1 was accepted for aws.region eu-west-1"
    message = str(errors[0]).strip().splitlines()[-1]
    assert "aws.region: 'eu-west-1' is not allowed; allowed: 'us-east-1'" in message


def test_a_provider_in_another_account_is_refused() -> None:
    # The mocked caller identity is account 111122223333 (stacks/mocks_aws.py).
    records, errors = declare(lambda opts: TrainingPlatform(
        "training", {"target": "aws", "aws": {"region": "us-east-1", "account_id": "999999999999"}}, opts=opts))
    assert errors
    assert "aws.account_id: '999999999999' is not allowed; allowed: '111122223333'" in str(errors[0])


def test_the_kubeconfig_assumes_the_deployer_role_only_with_a_callers_provider() -> None:
    import json

    plain = json.loads(kubeconfig("c", "https://x", "ca", "eu-west-1"))
    assumed = json.loads(kubeconfig("c", "https://x", "ca", "eu-west-1", ROLE))
    args = lambda cfg: cfg["users"][0]["user"]["exec"]["args"]  # noqa: E731
    assert "--role-arn" not in args(plain)
    assert args(assumed)[args(assumed).index("--role-arn") + 1] == ROLE


@pytest.mark.parametrize("region", ["us-east-1"])
def test_the_cluster_kubeconfig_uses_the_deployer_role_with_a_callers_provider(region: str) -> None:
    import datetime as dt

    from components import Cluster
    from components.aws.eks_versions import CALENDAR, in_standard_support

    version = next(v for v in CALENDAR if in_standard_support(v, dt.date.today()))
    outputs: dict[str, str] = {}

    def build(opts: pulumi.ResourceOptions) -> None:
        cluster = Cluster("cluster", {
            "target": "aws", "kubernetes_version": version, "private_subnet_ids": ["subnet-a", "subnet-b"], "network_id": "vpc-1",
            "aws": {"region": region, "deployer_role_arn": ROLE, "public_access_cidrs": ["203.0.113.0/24"]},
        }, opts=opts)
        cluster.kubeconfig.apply(lambda k: outputs.update(kubeconfig=k))

    records, errors = declare(build, caller_region=region)
    assert errors == []
    import json

    exec_args = json.loads(outputs["kubeconfig"])["users"][0]["user"]["exec"]["args"]
    assert exec_args[exec_args.index("--role-arn") + 1] == ROLE
    assert [r["name"] for r in records if r["type"] == "pulumi:providers:aws"] == ["caller"]
