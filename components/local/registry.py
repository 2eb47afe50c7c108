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

import pulumi
import pulumi_kubernetes.apps.v1 as apps
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta

from ..kubernetes import security
from ..kubernetes.tenancy import APP, REGISTRY_APP, REGISTRY_PORT
from ..tags import kubernetes_labels

#: Distribution registry, pinned.
REGISTRY_IMAGE = "registry:2.8.3"
#: The address images are tagged with for the local registry.
LOCAL_REGISTRY = f"localhost:{REGISTRY_PORT}"


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    ns = settings.namespace
    selector = {APP: REGISTRY_APP, "app.kubernetes.io/instance": name}
    labels = {**kubernetes_labels(settings.tags), **selector}
    opts = pulumi.ResourceOptions(parent=component)

    def metadata(suffix: str = "") -> meta.ObjectMetaArgs:
        return meta.ObjectMetaArgs(name=f"{name}{suffix}", namespace=ns, labels=labels)

    pvc = core.PersistentVolumeClaim(
        f"{name}-data",
        metadata=metadata("-data"),
        spec=core.PersistentVolumeClaimSpecArgs(
            access_modes=["ReadWriteOnce"],
            resources=core.VolumeResourceRequirementsArgs(requests={"storage": settings.storage_size}),
        ),
        opts=pulumi.ResourceOptions(parent=component, protect=settings.protect_data, retain_on_delete=settings.protect_data),
    )
    apps.Deployment(
        f"{name}-deployment",
        metadata=metadata(),
        spec=apps.DeploymentSpecArgs(
            replicas=1,
            strategy=apps.DeploymentStrategyArgs(type="Recreate"),
            selector=meta.LabelSelectorArgs(match_labels=selector),
            template=core.PodTemplateSpecArgs(
                metadata=meta.ObjectMetaArgs(labels=labels),
                spec=core.PodSpecArgs(
                    automount_service_account_token=False,
                    security_context=security.pod_security_context(),
                    containers=[
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
                            volume_mounts=[
                                core.VolumeMountArgs(name="data", mount_path="/var/lib/registry"),
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
            ports=[core.ServicePortArgs(name="http", port=REGISTRY_PORT, target_port="http", protocol="TCP")],
        ),
        opts=opts,
    )
    return {
        "registry_url": LOCAL_REGISTRY,
        "repository_urls": {repo: f"{LOCAL_REGISTRY}/{repo}" for repo in settings.repositories},
        "registry_id": service.metadata.apply(lambda m: m.name),
    }
