"""InferenceEndpoint on Minikube: the shared Kubernetes serving objects."""

from __future__ import annotations

from typing import Any

from ..kubernetes.serving import create_serving
from ..tags import kubernetes_labels


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    objects = create_serving(name, settings, kubernetes_labels(settings.tags), component)
    return {
        "url": objects.url,
        "endpoint_name": objects.deployment.metadata.apply(lambda m: m.name),
        "service_account": objects.service_account.metadata.apply(lambda m: m.name),
    }
