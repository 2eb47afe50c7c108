"""Cluster on Minikube: the Kubernetes provider for the configured kubeconfig context.

No cloud resources: the cluster is whatever ``minikube start`` made. The provider is the one
thing the Kubernetes-based components deploy through (``opts=ResourceOptions(providers=[...])``).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    provider = k8s.Provider(
        f"{name}-provider",
        k8s.ProviderArgs(
            context=settings.local.kube_context,
            kubeconfig=settings.local.kubeconfig,
            # Server-side apply: field ownership is tracked, so `pulumi up` and an HPA or a
            # `kubectl` edit do not silently overwrite each other.
            enable_server_side_apply=True,
            delete_unreachable=False,
        ),
        opts=pulumi.ResourceOptions(parent=component),
    )
    return {
        "cluster_name": settings.local.kube_context,
        "kubeconfig": pulumi.Output.secret(""),
        "namespace": settings.namespace,
        "provider": provider,
    }
