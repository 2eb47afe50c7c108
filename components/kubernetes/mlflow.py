"""The in-cluster MLflow tracking server: PVC (sqlite store + artifacts), Deployment, Service.

The server runs with ``--serve-artifacts`` so clients never need storage credentials: they log
and fetch artifacts through the server (``mlflow-artifacts:/``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes.apps.v1 as apps
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta

from . import security
from .tenancy import APP, MLFLOW_APP, MLFLOW_PORT

DATA_PATH = "/mlflow"


@dataclass(frozen=True)
class MlflowObjects:
    pvc: core.PersistentVolumeClaim
    deployment: apps.Deployment
    service: core.Service
    tracking_uri: pulumi.Output[str]


def mlflow_command() -> list[str]:
    return [
        "mlflow", "server",
        "--host", "0.0.0.0",
        "--port", str(MLFLOW_PORT),
        "--backend-store-uri", f"sqlite:///{DATA_PATH}/mlflow.db",
        "--serve-artifacts",
        "--artifacts-destination", f"{DATA_PATH}/artifacts",
        "--workers", "2",
    ]


def create_mlflow(
    name: str,
    settings: Mapping[str, Any],
    labels: Mapping[str, str],
    parent: pulumi.Resource,
    protect: bool = False,
) -> MlflowObjects:
    namespace = settings["namespace"]
    selector = {APP: MLFLOW_APP, "app.kubernetes.io/instance": name}
    all_labels = {**labels, **selector}
    opts = pulumi.ResourceOptions(parent=parent)

    def metadata(suffix: str = "") -> meta.ObjectMetaArgs:
        return meta.ObjectMetaArgs(name=f"{name}{suffix}", namespace=namespace, labels=all_labels)

    pvc = core.PersistentVolumeClaim(
        f"{name}-data",
        metadata=metadata("-data"),
        spec=core.PersistentVolumeClaimSpecArgs(
            access_modes=["ReadWriteOnce"],
            resources=core.VolumeResourceRequirementsArgs(requests={"storage": settings["storage_size"]}),
        ),
        opts=pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect),
    )
    deployment = apps.Deployment(
        f"{name}-deployment",
        metadata=metadata(),
        spec=apps.DeploymentSpecArgs(
            # sqlite on a ReadWriteOnce volume: exactly one writer, replaced not surged.
            replicas=1,
            strategy=apps.DeploymentStrategyArgs(type="Recreate"),
            selector=meta.LabelSelectorArgs(match_labels=selector),
            template=core.PodTemplateSpecArgs(
                metadata=meta.ObjectMetaArgs(labels=all_labels),
                spec=core.PodSpecArgs(
                    automount_service_account_token=False,
                    security_context=security.pod_security_context(),
                    containers=[
                        core.ContainerArgs(
                            name="mlflow",
                            image=settings["mlflow_image"],
                            image_pull_policy="IfNotPresent",
                            command=mlflow_command(),
                            env=[core.EnvVarArgs(name="HOME", value="/tmp")],
                            ports=[core.ContainerPortArgs(name="http", container_port=MLFLOW_PORT, protocol="TCP")],
                            resources=security.resources(
                                settings["cpu_request"], settings["memory_request"],
                                settings["cpu_limit"], settings["memory_limit"],
                            ),
                            startup_probe=security.http_probe("/health", "http", period=5, failures=36),
                            liveness_probe=security.http_probe("/health", "http", period=15, failures=3),
                            readiness_probe=security.http_probe("/health", "http", period=5, failures=2),
                            security_context=security.container_security_context(),
                            volume_mounts=[
                                core.VolumeMountArgs(name="data", mount_path=DATA_PATH),
                                core.VolumeMountArgs(name="tmp", mount_path="/tmp"),
                            ],
                        )
                    ],
                    volumes=[
                        core.VolumeArgs(
                            name="data",
                            persistent_volume_claim=core.PersistentVolumeClaimVolumeSourceArgs(
                                claim_name=pvc.metadata.apply(lambda m: m.name)
                            ),
                        ),
                        security.tmp_volume(),
                    ],
                ),
            ),
        ),
        opts=opts,
    )
    service = core.Service(
        f"{name}-service",
        metadata=metadata(),
        spec=core.ServiceSpecArgs(
            type="ClusterIP",
            selector=selector,
            ports=[core.ServicePortArgs(name="http", port=MLFLOW_PORT, target_port="http", protocol="TCP")],
        ),
        opts=opts,
    )
    tracking_uri = pulumi.Output.all(service.metadata.apply(lambda m: m.name), namespace).apply(
        lambda a: f"http://{a[0]}.{a[1]}.svc.cluster.local:{MLFLOW_PORT}"
    )
    return MlflowObjects(pvc, deployment, service, tracking_uri)
