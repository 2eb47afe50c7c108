"""Registry on Minikube: an in-cluster OCI registry (``registry:2``) with its own volume.

How images reach Minikube (README, "Images"): the program builds them straight into Minikube's
image store (``eval $(minikube docker-env)``; pods use ``imagePullPolicy: Never``). This registry
is for what is pushed from elsewhere (CI, another laptop): push through
``kubectl -n <ns> port-forward svc/<registry> 5000`` to ``localhost:5000/<repo>:<tag>``; nodes
pull it as ``localhost:5000/...`` once Minikube runs with ``--insecure-registry`` for it, or
enable Minikube's own ``registry`` addon instead (same address).
"""

from __future__ import annotations

from typing import Any

import pulumi_kubernetes.core.v1 as core

from ..kubernetes import security
from ..kubernetes.stateful import create_single_writer
from ..kubernetes.tenancy import APP, REGISTRY_APP, REGISTRY_PORT
from ..tags import kubernetes_labels

#: Distribution registry, pinned.
REGISTRY_IMAGE = "registry:2.8.3"
#: The address images are tagged with for the local registry.
LOCAL_REGISTRY = f"localhost:{REGISTRY_PORT}"


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    objects = create_single_writer(
        name,
        settings.namespace,
        kubernetes_labels(settings.tags),
        {APP: REGISTRY_APP, "app.kubernetes.io/instance": name},
        core.ContainerArgs(
            name="registry",
            image=REGISTRY_IMAGE,
            image_pull_policy="IfNotPresent",
            env=[
                core.EnvVarArgs(name="REGISTRY_STORAGE_DELETE_ENABLED", value="true"),
                core.EnvVarArgs(name="REGISTRY_HTTP_ADDR", value=f"0.0.0.0:{REGISTRY_PORT}"),
            ],
            ports=[core.ContainerPortArgs(name="http", container_port=REGISTRY_PORT, protocol="TCP")],
            resources=security.resources("100m", "128Mi", "500m", "512Mi"),
            liveness_probe=security.http_probe("/", "http", period=15),
            readiness_probe=security.http_probe("/", "http", period=5),
            security_context=security.container_security_context(),
        ),
        data_path="/var/lib/registry",
        storage_size=settings.local.storage_size,
        port=REGISTRY_PORT,
        parent=component,
        protect=settings.protect_data,
    )
    service = objects.service
    return {
        "registry_url": LOCAL_REGISTRY,
        "repository_urls": {repo: f"{LOCAL_REGISTRY}/{repo}" for repo in settings.repositories},
        "registry_id": service.metadata.apply(lambda m: m.name),
    }
