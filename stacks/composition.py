"""The composition: Network -> Cluster -> Registry -> TrainingPlatform -> InferenceEndpoint ->
Monitoring, from one validated settings object. No target branches here: each component picks
its backend from ``settings.target``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Mapping, TypedDict, cast

import pulumi
from components.base import ArgsError

from components import (
    Cluster,
    ContainerImages,
    InferenceEndpoint,
    Monitoring,
    Network,
    Registry,
    TrainingPlatform,
)

from .config import PROJECT, ConfigError, StackSettings, option_keys

#: Top-level component arguments that carry one stack config key under another name, by concern
#: (arguments named like a settings field, e.g. ``node_count``, map to it without an entry).
#: Options blocks (``aws.region``) are mapped by :func:`stacks.config.option_keys`.
ARG_KEYS: dict[str, dict[str, str]] = {
    "network": {"cidr": "networkCidr"},
    "cluster": {},
    "registry": {},
    "images": {"platform": "imagePlatform"},
    "training": {},
    "inference": {
        "runtime": "servingRuntime", "image": "servingImage", "image_pull_policy": "servingImagePullPolicy",
        "min_replicas": "servingMinReplicas", "max_replicas": "servingMaxReplicas",
        "cpu_request": "servingCpuRequest", "memory_request": "servingMemoryRequest",
        "cpu_limit": "servingCpuLimit", "memory_limit": "servingMemoryLimit",
    },
    "monitoring": {"runtime": "servingRuntime", "retention_days": "logRetentionDays"},
}


class _Common(TypedDict):
    """The arguments every component takes from the stack."""

    target: str
    environment: str
    tags: Mapping[str, str]


class _Data(TypedDict):
    protect_data: bool


def config_key(settings: StackSettings, concern: str, path: str) -> str | None:
    """The stack config key behind a component argument's key path, or None (an argument the
    composition computes, e.g. an upstream output)."""
    head, _, rest = path.partition(".")
    if rest and head == settings.target:
        return option_keys(settings.target).get((concern, rest.split(".")[0]))
    if rest:
        return None
    if path in ARG_KEYS.get(concern, {}):
        return ARG_KEYS[concern][path]
    field = StackSettings.model_fields.get(path)
    return (field.alias or path) if field else None


@contextlib.contextmanager
def _reported_as_config(settings: StackSettings, concern: str) -> Iterator[None]:
    """A component refusing an argument is reported with the stack key the user set
    (``mlops-platform:servingRuntime``), not the argument name (``runtime``)."""
    try:
        yield
    except ArgsError as exc:
        path, sep, rest = str(exc).partition(": ")
        key = config_key(settings, concern, path) if sep else None
        if key is None:
            raise
        raise ConfigError(f"{PROJECT}:{key}: {rest}") from None


def _project_root() -> str:
    """The checkout the images are built from: where Pulumi.yaml is (the engine knows; under
    mocks, the directory above this package, or the working directory's nearest ancestor)."""
    candidates: list[str | Path | None] = [pulumi.get_root_directory(), Path(__file__).resolve().parent.parent,
                  *(p for p in (Path.cwd(), *Path.cwd().parents))]
    for candidate in candidates:
        if candidate and (Path(candidate) / "Pulumi.yaml").is_file():
            return str(candidate)
    return str(Path.cwd())


def resolve_chart_path(value: str) -> str:
    """``monitoringChart``: empty keeps the chart's Helm repository; a path is taken relative to
    the project root (where Pulumi.yaml is), so ``../shared/charts/...`` means the same from any
    working directory."""
    if not value:
        return ""
    path = Path(value)
    return str(path if path.is_absolute() else (Path(_project_root()) / path).resolve())


def build_platform(settings: StackSettings) -> dict[str, Any]:
    """Declare the whole platform; returns the stack outputs."""
    s = settings
    common: _Common = {"target": s.target, "environment": s.environment, "tags": s.tags}
    data: _Data = {"protect_data": s.protect_data}

    with _reported_as_config(s, "network"):
        network = Network(
            "network",
            {
                **common,
                "namespace": s.namespace,
                "cidr": s.network_cidr,
                "availability_zones": s.availability_zones,
                "high_availability": s.high_availability,
                **s.cloud_args("network"),
            },
        )
    with _reported_as_config(s, "cluster"):
        cluster = Cluster(
            "cluster",
            {
                **common,
                **data,
                "namespace": network.namespace,
                "kubernetes_version": s.kubernetes_version,
                "network_id": network.network_id,
                "private_subnet_ids": network.private_subnet_ids,
                "node_count": s.node_count,
                "node_min_count": s.node_min_count,
                "node_max_count": s.node_max_count,
                "node_size": s.node_size,
                **s.cloud_args("cluster", network=network),
            },
        )
    # The Cluster keeps its provider a Resource (components/base.py), declared as an Output for the schema.
    on_cluster = pulumi.ResourceOptions(providers=[cast(pulumi.ProviderResource, cluster.provider)])
    with _reported_as_config(s, "registry"):
        registry = Registry(
            "registry",
            {
                **common,
                **data,
                "namespace": cluster.namespace,
                "node_identity": cluster.node_identity,
                **s.cloud_args("registry", network=network, cluster=cluster),
            },
            opts=on_cluster,
        )
    # Images are built from this checkout and pushed to the registry above (buildImages: false
    # deploys servingImage as configured instead).
    images = (
        ContainerImages(
            "images",
            {
                **common,
                "repository_urls": registry.repository_urls,
                "registry_url": registry.registry_url,
                "registry_id": registry.registry_id,
                "context": _project_root(),
                "platform": s.image_platform,
                "docker_host": s.docker_host,
                "docker_cert_path": s.docker_cert_path,
                # Minikube's daemon names itself after its node: the profile, i.e. the context
                # (None elsewhere: the component drops it).
                "docker_daemon_name": s.kube_context if s.target == "local" else None,
            },
        )
        if s.build_images
        else None
    )
    with _reported_as_config(s, "training"):
        training = TrainingPlatform(
            "training",
            {
                **common,
                **data,
                "namespace": cluster.namespace,
                "network_id": network.network_id,
                "private_subnet_ids": network.private_subnet_ids,
                "repository_urls": registry.repository_urls,
                "registry_id": registry.registry_id,
                **s.cloud_args("training", network=network),
            },
            opts=on_cluster,
        )
    with _reported_as_config(s, "inference"):
        endpoint = InferenceEndpoint(
            "serving",
            {
                **common,
                "runtime": s.serving_runtime,
                "image": images.serving_image if images else s.serving_image,
                "image_pull_policy": images.pull_policy if images else s.serving_image_pull_policy,
                "model_uri": s.model_uri,
                "tracking_uri": training.tracking_uri,
                "namespace": cluster.namespace,
                "min_replicas": s.serving_min_replicas,
                "max_replicas": s.serving_max_replicas,
                "cpu_request": s.serving_cpu_request,
                "memory_request": s.serving_memory_request,
                "cpu_limit": s.serving_cpu_limit,
                "memory_limit": s.serving_memory_limit,
                **s.cloud_args("inference", network=network, cluster=cluster, training=training),
            },
            opts=on_cluster,
        )
    with _reported_as_config(s, "monitoring"):
        monitoring = Monitoring(
            "monitoring",
            {
                **common,
                **data,
                "endpoint_name": endpoint.endpoint_name,
                "runtime": s.serving_runtime,
                "namespace": cluster.namespace,
                "latency_p99_seconds": s.latency_p99_seconds,
                "error_rate": s.error_rate,
                "drift_p_value": s.drift_p_value,
                "retention_days": s.log_retention_days,
                "chart_path": resolve_chart_path(s.monitoring_chart),
                "alert_email": s.alert_email,
                **s.cloud_args("monitoring", network=network, cluster=cluster, training=training, endpoint=endpoint),
            },
            opts=on_cluster,
        )
    outputs: dict[str, Any] = {
        "target": s.target,
        "environment": s.environment,
        "namespace": cluster.namespace,
        "cluster_name": cluster.cluster_name,
        "kubeconfig": pulumi.Output.secret(cluster.kubeconfig),
        "registry_url": registry.registry_url,
        "repository_urls": registry.repository_urls,
        "mlflow_tracking_uri": training.tracking_uri,
        "artifact_store_uri": training.artifact_store_uri,
        "artifact_bucket": training.artifact_bucket,
        "training_role_arn": training.execution_role,
        "kms_key_arn": training.kms_key_arn,
        "sagemaker_model_package_group": training.model_package_group,
        "azureml_workspace_id": training.azureml_workspace_id,
        "azureml_workspace_name": training.workspace_name,
        "azureml_compute_name": training.compute_name,
        "serving_image_uri": images.serving_image if images else s.serving_image,
        "training_image_uri": images.training_image if images else "",
        "image_tags": images.image_tags if images else {},
        "endpoint_url": endpoint.url,
        "endpoint_name": endpoint.endpoint_name,
        "dashboard_url": monitoring.dashboard_url,
        "alert_target": monitoring.alert_target,
        "prometheus_url": monitoring.prometheus_url,
        "cloudwatch_namespace": monitoring.cloudwatch_namespace,
        "log_analytics_workspace_id": monitoring.log_analytics_workspace_id,
        **s.cloud_exports(training=training),
    }
    # Target-specific outputs are absent where they do not apply (components/base.py ONLY_ON).
    return {key: value for key, value in outputs.items() if value is not None}
