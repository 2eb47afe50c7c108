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
from .base import PlatformComponent, Settings, declared_outputs, require, with_defaults



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
    runtime: NotRequired[str]
    """The serving runtime (``kubernetes`` default): ``sagemaker`` / ``azureml`` put the retraining
    schedule here (components/aws/schedule.py, components/azure/schedule.py); on ``kubernetes``
    InferenceEndpoint runs it as CronJobs."""
    retrain_schedule: NotRequired[str]
    """Managed runtimes: cron schedule of the retraining pipeline; empty (default) is off."""
    retrain_task: NotRequired[str]
    """What the scheduled pipeline trains: ``demand`` (default) | ``iris``."""
    retrain_data_uri: NotRequired[str]
    """CSV of recent labelled rows the scheduled pipeline trains on (default: generator per window)."""
    retrain_cooldown_minutes: NotRequired[int]
    """No retraining within this many minutes of the newest version (default 60)."""
    training_image: NotRequired[pulumi.Input[str]]
    """Training image the scheduled job runs (needed with a schedule on a managed runtime)."""
    model_uri: NotRequired[pulumi.Input[str]]
    """The served model (``models:/<name>@<alias>``): the scheduled pipeline retrains ``<name>``."""
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
    "runtime": "kubernetes",
    "retrain_schedule": "",
    "retrain_task": "demand",
    "retrain_data_uri": "",
    "retrain_cooldown_minutes": 60,
    "training_image": "",
    "model_uri": "models:/demand@champion",
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
    common.check_runtime(merged["target"], merged["runtime"])
    from .kubernetes.retrain import CRON_HELP, cron_error, model_name

    schedule = merged["retrain_schedule"]
    why = cron_error(schedule) if isinstance(schedule, str) else "is not a string"
    require(why is None, "retrain_schedule", schedule, f"{CRON_HELP} ({why})")
    common.check_int("retrain_cooldown_minutes", merged["retrain_cooldown_minutes"], 0, 100_000)
    if schedule and merged["runtime"] == "sagemaker":
        from .kubernetes.retrain import eventbridge_cron

        try:
            eventbridge_cron(schedule)
        except ValueError as exc:
            require(False, "retrain_schedule", schedule, f"a schedule EventBridge can express ({exc})")
    if schedule and merged["runtime"] != "kubernetes":
        image = merged["training_image"]
        require(not common.is_known(image) or bool(image), "training_image", image,
                "the training image (ContainerImages.training_image) when a retraining schedule is set")
        if common.is_known(merged["model_uri"]):
            try:
                model_name(merged["model_uri"])
            except ValueError:
                require(False, "model_uri", merged["model_uri"], "models:/<name>@<alias> when retraining is scheduled")
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
