"""TrainingPlatform: experiment tracking, model registry and where training runs.

MLflow is the registry on every target.
local: MLflow tracking server (Deployment + Service + PVC holding sqlite and artifacts,
``--serve-artifacts``) in the platform namespace.
aws: S3 artifact bucket (SSE-KMS, versioning, TLS-only), SageMaker execution role scoped to it,
model package group, SageMaker managed MLflow tracking server.
azure: AML workspace with Key Vault, storage, App Insights, ACR link and a scale-to-zero cluster.
"""


from typing import Any, Mapping, Optional, TypedDict

import pulumi
from typing_extensions import NotRequired

from . import common, spec
from .aws.options import AwsTrainingOptions
from .azure.options import AzureTrainingOptions
from .local.options import MLFLOW_IMAGE, LocalTrainingOptions  # noqa: F401 (MLFLOW_IMAGE: re-exported)
from .base import PlatformComponent, Settings, declared_outputs, with_defaults



class TrainingPlatformArgs(TypedDict):
    """Arguments of :class:`TrainingPlatform`."""

    target: str
    """``local`` | ``aws`` | ``azure``."""
    namespace: NotRequired[pulumi.Input[str]]
    """Kubernetes namespace (pass ``cluster.namespace``)."""
    network_id: NotRequired[Optional[pulumi.Input[str]]]
    """VPC/VNet id (cloud targets)."""
    private_subnet_ids: NotRequired[Optional[pulumi.Input[list[str]]]]
    """Subnets for training jobs and private endpoints (cloud targets)."""
    repository_urls: NotRequired[pulumi.Input[dict[str, str]]]
    """From Registry: image repositories training may pull (cloud targets)."""
    registry_id: NotRequired[pulumi.Input[str]]
    """From Registry (azure: the ACR to link to the workspace)."""
    environment: NotRequired[str]
    """``dev`` | ``staging`` | ``prod`` (default ``dev``)."""
    protect_data: NotRequired[bool]
    """Protect the artifact store, keys and workspace from deletion (default false)."""
    tags: NotRequired[Mapping[str, str]]
    """Tags/labels for every child."""
    local: NotRequired[LocalTrainingOptions]
    """local only: the in-cluster MLflow server (components/local/options.py)."""
    aws: NotRequired[AwsTrainingOptions]
    """aws-only options."""
    azure: NotRequired[AzureTrainingOptions]
    """azure-only options."""


#: The per-target options blocks, each declared once (components/spec.py).
OPTIONS = {"local": LocalTrainingOptions, "aws": AwsTrainingOptions, "azure": AzureTrainingOptions}

DEFAULTS: dict[str, Any] = {
    "target": None,
    "namespace": "mlops",
    "network_id": None,
    "private_subnet_ids": [],
    "repository_urls": {},
    "registry_id": None,
    "environment": "dev",
    "protect_data": False,
    "tags": {},
    "local": {},
    "aws": {},
    "azure": {},
}


def resolve_training_args(args: Mapping[str, Any]) -> Settings:
    """Apply defaults and validate; raises ArgsError with one line naming the key."""
    merged = with_defaults(args, DEFAULTS)
    common.check_target(merged["target"])
    spec.resolve_blocks(merged, OPTIONS)
    common.check_environment(merged["environment"])
    return Settings(merged)


class TrainingOutputs(TypedDict):
    """What a TrainingPlatform backend returns (checked by components/base.py)."""

    tracking_uri: pulumi.Input[str]
    artifact_store_uri: pulumi.Input[str]
    execution_role: NotRequired[pulumi.Input[str]]
    kms_key_arn: NotRequired[pulumi.Input[str]]
    artifact_bucket: NotRequired[pulumi.Input[str]]
    model_package_group: NotRequired[pulumi.Input[str]]
    azureml_workspace_id: NotRequired[pulumi.Input[str]]
    workspace_name: NotRequired[pulumi.Input[str]]
    compute_name: NotRequired[pulumi.Input[str]]


class TrainingPlatform(PlatformComponent):
    """Tracking, registry and training compute (type token ``mlops:index:TrainingPlatform``)."""

    CONCERN = "training"
    ONLY_ON = {
        "execution_role": ("aws", "azure"), "kms_key_arn": ("aws",), "artifact_bucket": ("aws",),
        "model_package_group": ("aws",), "azureml_workspace_id": ("azure",), "workspace_name": ("azure",),
        "compute_name": ("azure",),
    }
    OUTPUTS = declared_outputs(TrainingOutputs, ONLY_ON)

    tracking_uri: pulumi.Output[str]
    """MLflow tracking URI (in-cluster URL, SageMaker MLflow ARN, AML MLflow URI)."""
    artifact_store_uri: pulumi.Output[str]
    """Where artifacts live (``s3://…``, ``azureml://…`` or the local PVC path)."""
    execution_role: Optional[pulumi.Output[str]]
    """Identity training runs as: the SageMaker execution role ARN (aws), the compute cluster's
    managed identity principal id (azure). Absent on local."""
    kms_key_arn: Optional[pulumi.Output[str]]
    """aws only: the customer key encrypting the artifacts (azure uses platform-managed keys)."""
    artifact_bucket: Optional[pulumi.Output[str]]
    """aws only: the S3 artifact bucket's name (what the SageMaker launcher writes to)."""
    model_package_group: Optional[pulumi.Output[str]]
    """aws only: the SageMaker model package group."""
    azureml_workspace_id: Optional[pulumi.Output[str]]
    """azure only: the AML workspace's resource id."""
    workspace_name: Optional[pulumi.Output[str]]
    """azure only: the AML workspace's name."""
    compute_name: Optional[pulumi.Output[str]]
    """azure only: the AML compute cluster's name."""

    def __init__(self, name: str, args: TrainingPlatformArgs, opts: pulumi.ResourceOptions | None = None):
        self._setup(name, args, resolve_training_args, opts)
