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


#: The server's environment. MLflow 3.17 otherwise starts a job runner (7 worker processes,
#: ~1.8 GiB in all: the OOM kill at a 1 GiB limit) that nothing on the platform uses; telemetry
#: is off so the server talks to nothing outside the cluster.
SERVER_ENV = {
    "HOME": "/tmp",
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
}

#: Host headers of `kubectl port-forward` and of the kubelet's own probes (/health is exempt
#: from MLflow's check anyway).
LOCAL_HOSTS = ("localhost", "localhost:*", "127.0.0.1", "127.0.0.1:*")


def mlflow_env() -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in SERVER_ENV.items()]


def service_hosts(service: str, namespace: str, port: int = MLFLOW_PORT) -> list[str]:
    """Every Host header an in-cluster client can send for ``service``: the DNS names the
    cluster resolves (``svc``, ``svc.ns``, ``svc.ns.svc``, ``svc.ns.svc.cluster.local``), each
    bare and with ``:port`` (MLflow compares the header exactly, port included)."""
    names = [service, f"{service}.{namespace}", f"{service}.{namespace}.svc", f"{service}.{namespace}.svc.cluster.local"]
    return [h for n in names for h in (n, f"{n}:{port}")]


def mlflow_command(allowed_hosts: list[str] | None = None) -> list[str]:
    """``allowed_hosts``: MLflow's Host-header allowlist (DNS-rebinding protection). Without
    it MLflow admits only localhost and private IPs and answers every in-cluster API call made
    through the Service name with 403."""
    return [
        "mlflow", "server",
        "--host", "0.0.0.0",
        "--port", str(MLFLOW_PORT),
        "--backend-store-uri", f"sqlite:///{DATA_PATH}/mlflow.db",
        "--serve-artifacts",
        "--artifacts-destination", f"{DATA_PATH}/artifacts",
        "--workers", "2",
        *(["--allowed-hosts", ",".join(allowed_hosts)] if allowed_hosts else []),
    ]


def create_mlflow(
    name: str,
    settings: Mapping[str, Any],
    labels: Mapping[str, str],
    parent: pulumi.Resource,
    protect: bool = False,
) -> MlflowObjects:
    namespace = settings["namespace"]
    # The Service create_single_writer declares is named `name`.
    command = pulumi.Output.from_input(namespace).apply(
        lambda ns: mlflow_command([*service_hosts(name, ns), *LOCAL_HOSTS])
    )
    objects = create_single_writer(
        name,
        namespace,
        labels,
        {APP: MLFLOW_APP, "app.kubernetes.io/instance": name},
        core.ContainerArgs(
            name="mlflow",
            image=settings["mlflow_image"],
            image_pull_policy="IfNotPresent",
            command=command,
            env=[core.EnvVarArgs(name=e["name"], value=e["value"]) for e in mlflow_env()],
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
