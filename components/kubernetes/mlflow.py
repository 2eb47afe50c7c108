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

from . import security
from .stateful import create_single_writer
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
    objects = create_single_writer(
        name,
        namespace,
        labels,
        {APP: MLFLOW_APP, "app.kubernetes.io/instance": name},
        core.ContainerArgs(
            name="mlflow",
            image=settings["mlflow_image"],
            image_pull_policy="IfNotPresent",
            command=mlflow_command(),
            env=[core.EnvVarArgs(name="HOME", value="/tmp")],
            ports=[core.ContainerPortArgs(name="http", container_port=MLFLOW_PORT, protocol="TCP")],
            resources=security.resources(
                settings["cpu_request"], settings["memory_request"], settings["cpu_limit"], settings["memory_limit"]
            ),
            startup_probe=security.http_probe("/health", "http", period=5, failures=36),
            liveness_probe=security.http_probe("/health", "http", period=15, failures=3),
            readiness_probe=security.http_probe("/health", "http", period=5, failures=2),
            security_context=security.container_security_context(),
        ),
        data_path=DATA_PATH,
        storage_size=settings["storage_size"],
        port=MLFLOW_PORT,
        parent=parent,
        protect=protect,
    )
    service = objects.service
    tracking_uri = pulumi.Output.all(service.metadata.apply(lambda m: m.name), namespace).apply(
        lambda a: f"http://{a[0]}.{a[1]}.svc.cluster.local:{MLFLOW_PORT}"
    )
    return MlflowObjects(objects.pvc, objects.deployment, service, tracking_uri)
