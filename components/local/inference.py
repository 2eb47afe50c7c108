"""InferenceEndpoint on Minikube: the shared Kubernetes serving objects."""

from __future__ import annotations

from typing import Any

import pulumi

from ..kubernetes.serving import create_serving
from ..tags import kubernetes_labels


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    objects = create_serving(name, settings, kubernetes_labels(settings.tags), component)
    return {
        "url": objects.url,
        # The declared name, not the Deployment's output: that resolves only once the
        # Deployment is Ready, and Monitoring (which takes endpoint_name) must not wait on it.
        "endpoint_name": pulumi.Output.from_input(name),
        "service_account": objects.service_account.metadata.apply(lambda m: m.name),
    }
