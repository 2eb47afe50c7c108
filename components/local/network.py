"""Network on Minikube: the platform namespace with default-deny ingress and egress plus the
allow rules the platform needs (components/kubernetes/tenancy.py). No cloud resources."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..kubernetes.tenancy import create_tenancy
from ..tags import kubernetes_labels


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    # Network comes before Cluster in the composition (on the clouds the cluster needs the
    # subnets), so on Minikube it reaches the cluster through its own provider on the same
    # context rather than through the ambient default provider.
    provider = k8s.Provider(
        f"{name}-provider",
        k8s.ProviderArgs(context=settings.local.kube_context, kubeconfig=settings.local.kubeconfig, enable_server_side_apply=True),
        opts=pulumi.ResourceOptions(parent=component),
    )
    tenancy = create_tenancy(name, settings.namespace, kubernetes_labels(settings.tags), component, provider=provider)
    return {
        "namespace": tenancy.name,
    }
