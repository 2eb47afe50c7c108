"""One pod that owns one volume: a PVC, a single-replica ``Recreate`` Deployment and a
ClusterIP Service. The in-cluster MLflow server (sqlite) and the local registry are both this
shape: a ReadWriteOnce volume has exactly one writer, so pods are replaced, never surged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes.apps.v1 as apps
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta

from . import security


@dataclass(frozen=True)
class SingleWriter:
    pvc: core.PersistentVolumeClaim
    deployment: apps.Deployment
    service: core.Service


def create_single_writer(
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    selector: Mapping[str, str],
    container: core.ContainerArgs,
    *,
    data_path: str,
    storage_size: str,
    port: int,
    parent: pulumi.Resource,
    protect: bool = False,
) -> SingleWriter:
    """``container`` gets the ``data`` volume at ``data_path`` and a memory-backed ``/tmp``
    (its root filesystem stays read-only); the Service exposes its ``http`` port as ``port``."""
    all_labels = {**labels, **selector}
    opts = pulumi.ResourceOptions(parent=parent)

    def metadata(suffix: str = "") -> meta.ObjectMetaArgs:
        return meta.ObjectMetaArgs(name=f"{name}{suffix}", namespace=namespace, labels=all_labels)

    pvc = core.PersistentVolumeClaim(
        f"{name}-data",
        metadata=metadata("-data"),
        spec=core.PersistentVolumeClaimSpecArgs(
            access_modes=["ReadWriteOnce"],
            resources=core.VolumeResourceRequirementsArgs(requests={"storage": storage_size}),
        ),
        opts=pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect),
    )
    container.volume_mounts = [
        core.VolumeMountArgs(name="data", mount_path=data_path),
        core.VolumeMountArgs(name="tmp", mount_path="/tmp"),
    ]
    deployment = apps.Deployment(
        f"{name}-deployment",
        metadata=metadata(),
        spec=apps.DeploymentSpecArgs(
            replicas=1,
            strategy=apps.DeploymentStrategyArgs(type="Recreate"),
            selector=meta.LabelSelectorArgs(match_labels=dict(selector)),
            template=core.PodTemplateSpecArgs(
                metadata=meta.ObjectMetaArgs(labels=all_labels),
                spec=core.PodSpecArgs(
                    automount_service_account_token=False,
                    # No `<SERVICE>_PORT=tcp://...` variables injected for every Service.
                    enable_service_links=False,
                    security_context=security.pod_security_context(),
                    containers=[container],
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
            selector=dict(selector),
            ports=[core.ServicePortArgs(name="http", port=port, target_port="http", protocol="TCP")],
        ),
        opts=opts,
    )
    return SingleWriter(pvc, deployment, service)
