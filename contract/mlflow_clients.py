"""Explicit MLflow clients, shared by the serving app, ``ml`` and the local loop.

Importing this module needs only the standard library; MLflow is imported when a client is made.

The ``aws-runtime`` extra's ``sagemaker-mlflow`` plugin registers a request-header provider whose
``in_context()`` is always true and whose ``request_headers()`` parses the process-global tracking
URI as a SageMaker ARN. That has two faces:

* with any other global URI (``http://...``, the default ``mlruns``) it raises ``IndexError`` on
  every MLflow request, which MLflow logs as "Encountered unexpected error during resolving
  request headers: list index out of range" (about 40% of ``make demo``'s output);
* a client made explicitly for an ARN, in a process whose global URI is something else, sends no
  ``x-mlflow-sm-tracking-server-arn`` header, so SageMaker cannot route its requests.

:func:`client` scopes the provider: it adds the routing header only when there is an ARN to
route to (the global URI when it is one, else the one ARN this process made a client for), and
stays silent otherwise. A process that makes clients for two different ARNs is refused in one
line: the plugin's headers are process-wide, so the second ARN's requests would be misrouted.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_explicit_arn: str | None = None


class MlflowClientError(ValueError):
    """A client that cannot work in this process (one line, for the CLIs)."""


def is_sagemaker_arn(uri: str | None) -> bool:
    return str(uri or "").startswith("arn:aws") and ":sagemaker:" in str(uri)


def client(tracking_uri: str | None, registry_uri: str | None = None) -> Any:
    """An ``MlflowClient`` bound to ``tracking_uri`` (and the registry, default the same URI);
    never touches MLflow's process-global URIs."""
    from mlflow import MlflowClient

    _remember_arn(tracking_uri)
    scope_sagemaker_headers()
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri or tracking_uri)


def _remember_arn(uri: str | None) -> None:
    global _explicit_arn
    if not is_sagemaker_arn(uri):
        return
    with _lock:
        if _explicit_arn not in (None, uri):
            raise MlflowClientError(
                f"MLflow clients for two SageMaker tracking servers in one process ({_explicit_arn} "
                f"and {uri}): the sagemaker-mlflow plugin routes by one process-wide header"
            )
        _explicit_arn = uri


def _routing_arn() -> str | None:
    import mlflow

    current = str(mlflow.get_tracking_uri())
    return current if is_sagemaker_arn(current) else _explicit_arn


def scope_sagemaker_headers() -> None:
    """Make the sagemaker-mlflow header provider (if installed) route only when there is an ARN."""
    try:
        from mlflow.tracking.request_header.registry import _request_header_provider_registry
    except ImportError:
        return
    for provider in _request_header_provider_registry:
        if type(provider).__name__ != "MlflowSageMakerRequestHeaderProvider":
            continue
        if getattr(provider, "_mlops_scoped", False):
            continue
        def in_context() -> bool:
            return _routing_arn() is not None

        def request_headers(_provider: Any = provider) -> dict[str, str]:
            arn = _routing_arn()
            if arn is None:
                return {}
            _provider.host_metadata_provider.set_arn(arn)
            return _provider._get_arn_header()

        provider.in_context = in_context
        provider.request_headers = request_headers
        provider._mlops_scoped = True
