"""Typed aws-only options of the six components (the ``aws`` field of each Args).

Every component takes ``region`` and ``account_id``: each aws backend runs its children on its
own explicit ``aws.Provider`` for that region (no ambient ``aws:region``), refusing any other
account when ``account_id`` is set. stacks/config_aws.py fills these from stack config; fields
marked *wired* are outputs of an earlier component that stacks/platform.py passes along.
"""

# No `from __future__ import annotations` here: the component-provider analyzer
# (components/__main__.py) needs real types, not strings, to build the schema.

from typing import TypedDict

import pulumi


class _AwsCommon(TypedDict, total=False):
    region: str
    """Region to deploy into (default ``eu-west-1``)."""
    account_id: str
    """Refuse to deploy into any other account (the provider's ``allowed_account_ids``); empty:
    no check."""


class AwsNetworkOptions(_AwsCommon, total=False):
    """aws-only options of Network."""

    interface_endpoints: list[str]
    """Interface VPC endpoints to create (service suffixes after ``com.amazonaws.<region>.``).
    Default: ``ecr.api``, ``ecr.dkr``, ``sts``, ``logs``, ``sagemaker.runtime`` — what nodes,
    pods and SageMaker need so image pulls, tokens and logs stay off the NAT. Each costs about
    USD 7.3/month per zone."""
    flow_log_retention_days: int
    """Retention of the VPC flow-log group (default 30)."""
    protect_data: bool
    """Protect the flow-log key and log group from deletion (default false; the stack's
    ``protectData``). The Network facade has no generic ``protect_data`` argument."""


class AwsClusterOptions(_AwsCommon, total=False):
    """aws-only options of Cluster."""

    deployer_role_arn: str
    """Required. The IAM role that runs ``pulumi up``; it gets the one access entry with
    cluster-admin (AmazonEKSClusterAdminPolicy). Explicit, so admin rights never depend on
    who happened to create the cluster (``bootstrap_cluster_creator_admin_permissions`` is off)."""
    public_access_cidrs: list[str]
    """CIDRs allowed to reach the public API endpoint. Empty (default): the public endpoint is
    off and the API is reachable only inside the VPC (EKS User Guide, "Cluster API server
    endpoint"). Never ``0.0.0.0/0``. With it empty, ``api_runner_cidrs`` or
    ``api_runner_security_group_ids`` must admit the machine that runs ``pulumi up``."""
    api_runner_cidrs: list[str]
    """CIDRs inside the VPC (CI runner, VPN, SSM host) admitted on 443 to the cluster security
    group, i.e. to the private API endpoint (default none)."""
    api_runner_security_group_ids: list[str]
    """Security groups admitted on 443 to the cluster security group (default none)."""
    spot_instance_types: list[str]
    """Instance types of an optional spot node group (scales from 0); empty (default): none."""
    spot_max_count: int
    """Ceiling of the spot node group (default 4)."""
    node_disk_size_gib: int
    """Root volume size of every node, gp3, encrypted (default 50)."""
    log_retention_days: int
    """Retention of the control-plane log group (default 90: audit logs outlive incidents)."""


class AwsRegistryOptions(_AwsCommon, total=False):
    """aws-only options of Registry."""

    pull_principal_arns: list[pulumi.Input[str]]
    """More IAM principals allowed to pull (the node role always is). Same-account roles with an
    identity policy naming the repository (the SageMaker execution role) need no entry here."""


class AwsTrainingOptions(_AwsCommon, total=False):
    """aws-only options of TrainingPlatform."""

    enable_mlflow: bool
    """Create the SageMaker managed MLflow tracking server (default true). Off: tracking_uri is
    empty and MLflow must be provided another way."""
    mlflow_server_size: str
    """``Small`` (default, up to 25 users) | ``Medium`` | ``Large``."""
    mlflow_server_version: str
    """MLflow version of the tracking server (default: the locked client's major.minor,
    components/aws/training.py ``MLFLOW_SERVER_VERSION``)."""
    noncurrent_version_days: int
    """Expire non-current artifact versions after this many days (default 30)."""


class AwsInferenceOptions(_AwsCommon, total=False):
    """aws-only options of InferenceEndpoint."""

    cluster_name: pulumi.Input[str]
    """*wired* (kubernetes runtime): EKS cluster for the pod identity association."""
    artifact_bucket: pulumi.Input[str]
    """*wired*: artifact bucket the endpoint may read (and SageMaker data capture writes to)."""
    kms_key_arn: pulumi.Input[str]
    """*wired*: key of the artifact bucket."""
    execution_role_arn: pulumi.Input[str]
    """*wired* (sagemaker runtime): role the SageMaker model runs as."""
    network_id: pulumi.Input[str]
    """*wired* (sagemaker runtime): VPC of the endpoint's security group."""
    subnet_ids: pulumi.Input[list[str]]
    """*wired* (sagemaker runtime): private subnets of the model containers."""
    instance_type: str
    """sagemaker runtime: instance type of the production variant (default ``ml.m5.large``)."""
    model_data_key: str
    """sagemaker runtime: key in the artifact bucket of the ``model.tar.gz`` the container
    serves (network isolation: the container cannot reach MLflow). Default
    ``models/demand/champion/model.tar.gz``."""
    data_capture_percent: int
    """sagemaker runtime: share of requests captured to the bucket (0 = off, default 0)."""
    invocations_per_instance: int
    """sagemaker runtime: target-tracking value for SageMakerVariantInvocationsPerInstance
    (per minute, default 100)."""


class AwsMonitoringOptions(_AwsCommon, total=False):
    """aws-only options of Monitoring."""

    runtime: str
    """Serving runtime being watched: ``kubernetes`` (default: the in-cluster Prometheus stack,
    since CloudWatch cannot take Prometheus histograms) or ``sagemaker`` (CloudWatch: the
    AWS/SageMaker namespace). Picks where metrics, alerts and the dashboard live."""
    instance_type: str
    """sagemaker runtime: the endpoint's instance type (the production variant is always named
    ``primary``). Default ``ml.m5.large``."""
    cluster_name: pulumi.Input[str]
    """*wired* (kubernetes runtime): EKS cluster for the Alertmanager's pod identity association."""
