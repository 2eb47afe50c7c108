"""Typed aws-only options of the six components (the ``aws`` field of each Args).

Every component takes ``region`` and ``account_id``: each aws backend runs its children on the
caller's ``aws.Provider`` when one reaches it (``opts.provider`` / ``opts.providers``; it must
deploy into that region and account), else on its own explicit ``aws.Provider`` for that region
(no ambient ``aws:region``), refusing any other account when ``account_id`` is set. stacks/config_aws.py fills these from stack config; fields
marked *wired* are outputs of an earlier component that stacks/config_aws.py passes along.
"""

# No `from __future__ import annotations` here: the component-provider analyzer
# (components/__main__.py) needs real types, not strings, to build the schema.

import re
from typing import Annotated, Any, TypedDict

import pulumi

from ..base import require
from ..spec import Opt, declared

#: The Network default; stacks/config_aws.py passes the stack's ``awsRegion``.
DEFAULT_REGION = "eu-west-1"
#: Interface VPC endpoints created by default (service suffixes after ``com.amazonaws.<region>.``):
#: what the nodes, pods and SageMaker call; with these the NAT carries little besides pulls from
#: public registries (EKS User Guide, "Deploy private clusters with limited internet access").
DEFAULT_INTERFACE_ENDPOINTS = ["ecr.api", "ecr.dkr", "sts", "logs", "sagemaker.runtime"]
DEFAULT_SAGEMAKER_INSTANCE_TYPE = "ml.m5.large"
MLFLOW_SERVER_SIZES = ("Small", "Medium", "Large")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
_ACCOUNT = re.compile(r"^([0-9]{12})?$")
_INSTANCE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_SAGEMAKER_INSTANCE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_SECURITY_GROUP = re.compile(r"^sg-[0-9a-f]{8,17}$")
_MLFLOW_VERSION = re.compile(r"^([0-9]+\.[0-9]+(\.[0-9]+)?)?$")
_MODEL_KEY = re.compile(r"^[A-Za-z0-9!_.*'()/-]+\.tar\.gz$")


def _matches(pattern: "re.Pattern[str]", allowed: str) -> Any:
    def check(key: str, value: Any) -> None:
        require(bool(pattern.match(value)), key, value, allowed)

    return check


def _cidr_not_open(key: str, value: Any) -> None:
    import ipaddress

    try:
        net = ipaddress.ip_network(value, strict=True)
    except (TypeError, ValueError):
        net = None
    require(net is not None and net.prefixlen > 0, key, value, "CIDRs such as 203.0.113.0/24 (never 0.0.0.0/0)")


class _AwsCommon(TypedDict, total=False):
    region: Annotated[str, Opt(DEFAULT_REGION, check=_matches(_REGION, "an AWS region such as eu-west-1"))]
    """Region to deploy into (default ``eu-west-1``)."""
    account_id: Annotated[str, Opt("", check=_matches(_ACCOUNT, "a 12-digit AWS account id, or empty"))]
    """Refuse to deploy into any other account (the provider's ``allowed_account_ids``); empty:
    no check."""


@declared
class AwsNetworkOptions(_AwsCommon, total=False):
    """aws-only options of Network."""

    interface_endpoints: Annotated[list[str], Opt(DEFAULT_INTERFACE_ENDPOINTS)]
    """Interface VPC endpoints to create (service suffixes after ``com.amazonaws.<region>.``).
    Default: ``ecr.api``, ``ecr.dkr``, ``sts``, ``logs``, ``sagemaker.runtime`` — what nodes,
    pods and SageMaker need so image pulls, tokens and logs stay off the NAT. Each costs about
    USD 7.3/month per zone."""
    flow_log_retention_days: Annotated[int, Opt(30, low=1, high=3653)]
    """Retention of the VPC flow-log group (default 30)."""
    protect_data: Annotated[bool, Opt(False)]
    """Protect the flow-log key and log group from deletion (default false; the stack's
    ``protectData``). The Network facade has no generic ``protect_data`` argument."""


@declared
class AwsClusterOptions(_AwsCommon, total=False):
    """aws-only options of Cluster."""

    deployer_role_arn: Annotated[str, Opt("")]
    """Required. The IAM role that runs ``pulumi up``; it gets the one access entry with
    cluster-admin (AmazonEKSClusterAdminPolicy). Explicit, so admin rights never depend on
    who happened to create the cluster (``bootstrap_cluster_creator_admin_permissions`` is off)."""
    public_access_cidrs: Annotated[list[str], Opt([], item=_cidr_not_open)]
    """CIDRs allowed to reach the public API endpoint. Empty (default): the public endpoint is
    off and the API is reachable only inside the VPC (EKS User Guide, "Cluster API server
    endpoint"). Never ``0.0.0.0/0``. With it empty, ``api_runner_cidrs`` or
    ``api_runner_security_group_ids`` must admit the machine that runs ``pulumi up``."""
    api_runner_cidrs: Annotated[list[str], Opt([], item=_cidr_not_open)]
    """CIDRs inside the VPC (CI runner, VPN, SSM host) admitted on 443 to the cluster security
    group, i.e. to the private API endpoint (default none)."""
    api_runner_security_group_ids: Annotated[list[str], Opt([], item=_matches(_SECURITY_GROUP, "security group ids such as sg-0123456789abcdef0"))]
    """Security groups admitted on 443 to the cluster security group (default none)."""
    spot_instance_types: Annotated[list[str], Opt([], item=_matches(_INSTANCE, "EC2 instance types such as m6i.large"))]
    """Instance types of an optional spot node group (scales from 0); empty (default): none."""
    spot_max_count: Annotated[int, Opt(4, low=1, high=100)]
    """Ceiling of the spot node group (default 4)."""
    node_disk_size_gib: Annotated[int, Opt(50, low=20, high=1000)]
    """Root volume size of every node, gp3, encrypted (default 50)."""
    log_retention_days: Annotated[int, Opt(90, low=1, high=3653)]
    """Retention of the control-plane log group (default 90: audit logs outlive incidents)."""


@declared
class AwsRegistryOptions(_AwsCommon, total=False):
    """aws-only options of Registry."""

    pull_principal_arns: Annotated[list[pulumi.Input[str]], Opt([])]
    """More IAM principals allowed to pull (the node role always is). Same-account roles with an
    identity policy naming the repository (the SageMaker execution role) need no entry here."""


@declared
class AwsTrainingOptions(_AwsCommon, total=False):
    """aws-only options of TrainingPlatform."""

    enable_mlflow: Annotated[bool, Opt(True)]
    """Create the SageMaker managed MLflow tracking server (default true). Off: tracking_uri is
    empty and MLflow must be provided another way."""
    mlflow_server_size: Annotated[str, Opt("Small", choices=MLFLOW_SERVER_SIZES)]
    """``Small`` (default, up to 25 users) | ``Medium`` | ``Large``."""
    mlflow_server_version: Annotated[str, Opt("", check=_matches(_MLFLOW_VERSION, "an MLflow major.minor such as 3.17, or empty"))]
    """MLflow version of the tracking server (empty, default: the locked client's major.minor,
    components/aws/training.py ``MLFLOW_SERVER_VERSION``)."""
    noncurrent_version_days: Annotated[int, Opt(30, low=1, high=3650)]
    """Expire non-current artifact versions after this many days (default 30)."""
    promotion_principal_arns: Annotated[list[str], Opt([])]
    """IAM principals that may assume the promotion role, the only one that moves ``@champion``
    (the stack passes the deployer role: CI promotes). Empty: the account root, i.e. whoever an
    IAM policy of this account allows ``sts:AssumeRole`` on it; the training role never is."""


@declared
class AwsInferenceOptions(_AwsCommon, total=False):
    """aws-only options of InferenceEndpoint."""

    cluster_name: Annotated[pulumi.Input[str], Opt(None)]
    """*wired* (kubernetes runtime): EKS cluster for the pod identity association."""
    artifact_bucket: Annotated[pulumi.Input[str], Opt(None)]
    """*wired*: artifact bucket the endpoint may read (and SageMaker data capture writes to)."""
    kms_key_arn: Annotated[pulumi.Input[str], Opt(None)]
    """*wired*: key of the artifact bucket."""
    execution_role_arn: Annotated[pulumi.Input[str], Opt(None)]
    """*wired* (sagemaker runtime): role the SageMaker model runs as."""
    network_id: Annotated[pulumi.Input[str], Opt(None)]
    """*wired* (sagemaker runtime): VPC of the endpoint's security group."""
    subnet_ids: Annotated[pulumi.Input[list[str]], Opt(None)]
    """*wired* (sagemaker runtime): private subnets of the model containers."""
    instance_type: Annotated[str, Opt(DEFAULT_SAGEMAKER_INSTANCE_TYPE, check=_matches(_SAGEMAKER_INSTANCE, "a SageMaker instance type such as ml.m5.large"))]
    """sagemaker runtime: instance type of the production variant (default ``ml.m5.large``)."""
    model_data_key: Annotated[str, Opt("models/demand/champion/model.tar.gz", check=_matches(_MODEL_KEY, "an S3 key ending in .tar.gz"))]
    """sagemaker runtime: key in the artifact bucket of the ``model.tar.gz`` the container
    serves (network isolation: the container cannot reach MLflow). Default
    ``models/demand/champion/model.tar.gz``."""
    data_capture_percent: Annotated[int, Opt(0, low=0, high=100)]
    """sagemaker runtime: share of requests captured to the bucket (0 = off, default 0)."""
    rollout_instance_count: Annotated[int, Opt(0, low=0, high=1000)]
    """sagemaker runtime: instances of the production variant when its endpoint configuration
    is (re)created, e.g. by an instance-type change (0, default: ``min_replicas``). Set it to the
    endpoint's ``CurrentInstanceCount`` before changing the instance type, so the new fleet
    starts at today's capacity (docs/aws.md, "Changing the SageMaker instance type")."""
    invocations_per_instance: Annotated[int, Opt(100, low=1, high=100000)]
    """sagemaker runtime: target-tracking value for SageMakerVariantInvocationsPerInstance
    (per minute, default 100)."""


@declared
class AwsMonitoringOptions(_AwsCommon, total=False):
    """aws-only options of Monitoring."""

    variant_name: Annotated[pulumi.Input[str], Opt(None)]
    """*wired* (sagemaker runtime) from InferenceEndpoint (``sagemaker_variant_name``): the
    production variant the alarms and the dashboard watch."""
    cluster_name: Annotated[pulumi.Input[str], Opt(None)]
    """*wired* (kubernetes runtime): EKS cluster for the Alertmanager's pod identity association."""
