"""Typed local-only options of the components (the ``local`` field of each Args).

What only the Minikube backends read: the kubeconfig context, and the sizes of the in-cluster
registry and MLflow server, which on the clouds are managed services. Each option is declared
once (type, default, range, description; components/spec.py).
"""

# No `from __future__ import annotations` here: the component-provider analyzer
# (components/__main__.py) needs real types, not strings, to build the schema.

from typing import Annotated, Any, TypedDict

from ..base import require
from ..common import check_quantity
from ..spec import Opt, declared

#: Pinned MLflow server image for the in-cluster tracking server (matches the client in uv.lock).
MLFLOW_IMAGE = "ghcr.io/mlflow/mlflow:v3.17.2"


def _pinned(key: str, value: Any) -> None:
    require(":" in value.rsplit("/", 1)[-1] and not value.endswith(":latest"), key, value,
            "an image pinned by tag or digest (not latest)")


@declared
class LocalKubeconfigOptions(TypedDict, total=False):
    """local-only options of Network and Cluster: how to reach Minikube."""

    kube_context: Annotated[str, Opt("minikube")]
    """kubeconfig context to deploy into."""
    kubeconfig: Annotated[str, Opt(None)]
    """Path or contents of a kubeconfig (unset: the user's ``~/.kube/config``)."""


@declared
class LocalRegistryOptions(TypedDict, total=False):
    """local-only options of Registry."""

    storage_size: Annotated[str, Opt("10Gi", check=check_quantity)]
    """Size of the in-cluster registry's volume."""


@declared
class LocalTrainingOptions(TypedDict, total=False):
    """local-only options of TrainingPlatform (the in-cluster MLflow server)."""

    mlflow_image: Annotated[str, Opt(MLFLOW_IMAGE, check=_pinned)]
    """MLflow server image, pinned by tag or digest."""
    storage_size: Annotated[str, Opt("10Gi", check=check_quantity)]
    """Volume for the sqlite store and artifacts."""
    cpu_request: Annotated[str, Opt("250m", check=check_quantity)]
    """MLflow server CPU request."""
    memory_request: Annotated[str, Opt("512Mi", check=check_quantity)]
    """MLflow server memory request."""
    cpu_limit: Annotated[str, Opt("1", check=check_quantity)]
    """MLflow server CPU limit."""
    memory_limit: Annotated[str, Opt("1Gi", check=check_quantity)]
    """MLflow server memory limit."""

