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
    "aws": {},
    "azure": {},
}


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
