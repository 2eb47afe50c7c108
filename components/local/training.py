"""TrainingPlatform on Minikube: the MLflow tracking server in the platform namespace."""

from __future__ import annotations

from typing import Any

from ..kubernetes.mlflow import DATA_PATH, create_mlflow
from ..tags import kubernetes_labels


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    mlflow = create_mlflow(
        f"{name}-mlflow", {**settings.local, "namespace": settings.namespace}, kubernetes_labels(settings.tags), component, protect=settings.protect_data
    )
    return {
        "tracking_uri": mlflow.tracking_uri,
        "artifact_store_uri": f"pvc://{DATA_PATH}/artifacts",
    }
