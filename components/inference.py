"""InferenceEndpoint: the serving app (serving/) behind an autoscaled, hardened endpoint.

local (and ``runtime: kubernetes`` on EKS/AKS): Deployment + Service + HPA + PDB + NetworkPolicy
from components/kubernetes/serving.py, non-root, read-only root filesystem, probes, limits.
aws ``runtime: sagemaker``: Model + EndpointConfiguration (KMS) + Endpoint + autoscaling.
azure ``runtime: azureml``: managed online endpoint with blue/green deployments.
"""


from typing import Any, Mapping, Optional, TypedDict

import pulumi
from typing_extensions import NotRequired

from . import common, spec
from .aws.options import AwsInferenceOptions
from .azure.options import AzureInferenceOptions
from .base import PlatformComponent, Settings, declared_outputs, require, with_defaults


class InferenceEndpointArgs(TypedDict):
    """Arguments of :class:`InferenceEndpoint`."""

    target: str
    """``local`` | ``aws`` | ``azure``."""
    image: pulumi.Input[str]
    """Serving image, pinned by tag or digest (never ``latest``)."""
    runtime: NotRequired[str]
    """``kubernetes`` (default; every target) | ``sagemaker`` (aws) | ``azureml`` (azure): the
    table components/targets.py RUNTIMES."""
    model_uri: NotRequired[pulumi.Input[str]]
    """What to serve (default ``models:/demand@champion``)."""
    tracking_uri: NotRequired[pulumi.Input[str]]
    """MLflow tracking URI (pass ``training.tracking_uri``)."""
    namespace: NotRequired[pulumi.Input[str]]
    """Kubernetes namespace (pass ``cluster.namespace``)."""
    min_replicas: NotRequired[int]
    """HPA / autoscaling floor (default 1; the PDB keeps one pod when it is 2 or more)."""
    max_replicas: NotRequired[int]
    """HPA / autoscaling ceiling (default 3)."""
    target_cpu_utilization: NotRequired[int]
    """HPA CPU target in percent (default 70)."""
    cpu_request: NotRequired[str]
    """Per pod (default ``250m``)."""
    memory_request: NotRequired[str]
    """Per pod (default ``512Mi``)."""
    cpu_limit: NotRequired[str]
    """Per pod (default ``1``)."""
    memory_limit: NotRequired[str]
    """Per pod (default ``1Gi``)."""
    image_pull_policy: NotRequired[pulumi.Input[str]]
    """``IfNotPresent`` (default) | ``Always`` | ``Never`` (images built into Minikube)."""
    service_account_annotations: NotRequired[pulumi.Input[Mapping[str, str]]]
    """Annotations for the serving ServiceAccount (IRSA role / workload identity client id)."""
    environment: NotRequired[str]
    """``dev`` | ``staging`` | ``prod`` (default ``dev``)."""
    tags: NotRequired[Mapping[str, str]]
    """Tags/labels for every child."""
    training_image: NotRequired[pulumi.Input[str]]
    """Training image the retraining CronJobs run (runtime kubernetes; needed with a schedule)."""
    retrain_schedule: NotRequired[str]
    """runtime kubernetes: cron schedule of the retraining pipeline (components/kubernetes/retrain.py);
    empty (default) is off."""
    retrain_drift_schedule: NotRequired[str]
    """runtime kubernetes: cron schedule of the drift check that retrains on confirmed drift; empty is off."""
    retrain_task: NotRequired[str]
    """What the pipeline trains: ``demand`` (default) | ``iris``."""
    retrain_data_uri: NotRequired[str]
    """CSV of recent labelled rows the pipeline trains on (default: the task's generator per window)."""
    retrain_cooldown_minutes: NotRequired[int]
    """No retraining within this many minutes of the newest version (default 60)."""
    canary_bake_minutes: NotRequired[int]
    """runtime kubernetes: > 0 serves a new champion candidate as the ``challenger`` canary this
    long before promotion or rollback (default 0: the gate moves ``champion`` directly)."""
    prometheus_url: NotRequired[pulumi.Input[str]]
    """In-cluster Prometheus the canary controller queries (needed with a canary)."""
    error_rate: NotRequired[float]
    """Canary: roll back above this 5xx ratio (default 0.05; the alert's threshold)."""
    latency_p99_seconds: NotRequired[float]
    """Canary: roll back above this p99 latency (default 0.5; the alert's threshold)."""
    aws: NotRequired[AwsInferenceOptions]
    """aws-only options (SageMaker runtime settings)."""
    azure: NotRequired[AzureInferenceOptions]
    """azure-only options (AML runtime settings)."""


#: The per-target options blocks, each declared once (components/spec.py).
OPTIONS = {"aws": AwsInferenceOptions, "azure": AzureInferenceOptions}

DEFAULTS: dict[str, Any] = {
    "target": None,
    "image": None,
    "runtime": "kubernetes",
    "model_uri": "models:/demand@champion",
    "tracking_uri": "",
    "namespace": "mlops",
    "min_replicas": 1,
    "max_replicas": 3,
    "target_cpu_utilization": 70,
    "cpu_request": "250m",
    "memory_request": "512Mi",
    "cpu_limit": "1",
    "memory_limit": "1Gi",
    "image_pull_policy": "IfNotPresent",
    "service_account_annotations": {},
    "environment": "dev",
    "tags": {},
    "training_image": "",
    "retrain_schedule": "",
    "retrain_drift_schedule": "",
    "retrain_task": "demand",
    "retrain_data_uri": "",
    "retrain_cooldown_minutes": 60,
    "canary_bake_minutes": 0,
    "prometheus_url": "",
    "error_rate": 0.05,
    "latency_p99_seconds": 0.5,
    "aws": {},
    "azure": {},
}

#: What the retraining pipeline can train (ml/tasks.py TASKS; a test keeps them equal).
RETRAIN_TASKS = ("demand", "iris")


def check_retraining(merged: Mapping[str, Any]) -> None:
    """Schedules are cron expressions or empty; a schedule needs a training image; a canary
    needs the kubernetes runtime, an alias model URI and a Prometheus to ask."""
    from .kubernetes.retrain import CRON_HELP, challenger_uri, cron_error, model_name

    for key in ("retrain_schedule", "retrain_drift_schedule"):
        value = merged[key]
        require(isinstance(value, str) and cron_error(value) is None, key, value,
                CRON_HELP + (f" ({cron_error(value)})" if isinstance(value, str) and cron_error(value) else ""))
    common.check_choice("retrain_task", merged["retrain_task"], RETRAIN_TASKS)
    common.check_int("retrain_cooldown_minutes", merged["retrain_cooldown_minutes"], 0, 100_000)
    common.check_int("canary_bake_minutes", merged["canary_bake_minutes"], 0, 1440)
    common.check_number("error_rate", merged["error_rate"], 0.0, 1.0)
    common.check_number("latency_p99_seconds", merged["latency_p99_seconds"], 0.001, 3600.0)
    scheduled = bool(merged["retrain_schedule"] or merged["retrain_drift_schedule"])
    if scheduled and merged["runtime"] == "kubernetes":
        image = merged["training_image"]
        require(not common.is_known(image) or bool(image), "training_image", image,
                "the training image (ContainerImages.training_image) when a retraining schedule is set")
        if image:
            check_image("training_image", image)
        if common.is_known(merged["model_uri"]):
            try:
                model_name(merged["model_uri"])
            except ValueError:
                require(False, "model_uri", merged["model_uri"], "models:/<name>@<alias> when retraining is scheduled")
    if merged["canary_bake_minutes"]:
        require(merged["runtime"] == "kubernetes", "canary_bake_minutes", merged["canary_bake_minutes"],
                "0 unless runtime is kubernetes (the managed runtimes roll out blue/green themselves)")
        if common.is_known(merged["model_uri"]):
            try:
                challenger_uri(merged["model_uri"])
            except ValueError:
                require(False, "model_uri", merged["model_uri"], "models:/<name>@<alias> with a canary")
        url = merged["prometheus_url"]
        require(not common.is_known(url) or bool(url), "canary_bake_minutes", merged["canary_bake_minutes"],
                "0 where no in-cluster Prometheus answers queries (azure: metrics go to Azure Monitor)")


def check_image(key: str, image: Any) -> None:
    """Images are pinned: a tag other than latest, or a digest."""
    if not common.is_known(image):
        return
    last = image.rsplit("/", 1)[-1] if isinstance(image, str) else ""
    pinned = "@sha256:" in last or (":" in last and not last.endswith(":latest"))
    require(isinstance(image, str) and pinned, key, image,
            "an image pinned by tag (not latest) or by digest, e.g. repo/serving:1a2b3c")


def resolve_inference_args(args: Mapping[str, Any]) -> Settings:
    """Apply defaults and validate; raises ArgsError with one line naming the key."""
    merged = with_defaults(args, DEFAULTS)
    common.check_target(merged["target"])
    spec.resolve_blocks(merged, OPTIONS)
    common.check_environment(merged["environment"])
    common.check_runtime(merged["target"], merged["runtime"])
    check_image("image", merged["image"])
    common.check_int("min_replicas", merged["min_replicas"], 1, 100)
    common.check_int("max_replicas", merged["max_replicas"], 1, 100)
    require(merged["min_replicas"] <= merged["max_replicas"], "min_replicas", merged["min_replicas"],
            f"at most max_replicas ({merged['max_replicas']})")
    common.check_int("target_cpu_utilization", merged["target_cpu_utilization"], 10, 100)
    for key in ("cpu_request", "memory_request", "cpu_limit", "memory_limit"):
        common.check_quantity(key, merged[key])
    common.check_choice("image_pull_policy", merged["image_pull_policy"], ("IfNotPresent", "Always", "Never"))
    check_retraining(merged)
    return Settings(merged)


class InferenceOutputs(TypedDict):
    """What an InferenceEndpoint backend returns (checked by components/base.py)."""

    url: pulumi.Input[str]
    endpoint_name: pulumi.Input[str]
    service_account: NotRequired[pulumi.Input[str]]
    sagemaker_variant_name: NotRequired[pulumi.Input[str]]


class InferenceEndpoint(PlatformComponent):
    """The model endpoint (type token ``mlops:index:InferenceEndpoint``)."""

    CONCERN = "inference"
    ONLY_ON = {"service_account": ("runtime:kubernetes",), "sagemaker_variant_name": ("runtime:sagemaker",)}
    OUTPUTS = declared_outputs(InferenceOutputs, ONLY_ON)

    url: pulumi.Output[str]
    """Where to send predictions (in-cluster URL, SageMaker invocation URL, AML scoring URI)."""
    endpoint_name: pulumi.Output[str]
    """Deployment / SageMaker endpoint / AML endpoint name (what Monitoring watches)."""
    service_account: Optional[pulumi.Output[str]]
    """runtime kubernetes only: the ServiceAccount the pods run as."""
    sagemaker_variant_name: Optional[pulumi.Output[str]]
    """runtime sagemaker only: the endpoint's production variant (what its CloudWatch metrics
    are keyed on; pass it to Monitoring's ``aws.variant_name``)."""

    def __init__(self, name: str, args: InferenceEndpointArgs, opts: pulumi.ResourceOptions | None = None):
        self._setup(name, args, resolve_inference_args, opts)
