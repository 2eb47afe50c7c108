"""Retrain trigger: read the serving app's drift status and train when drift is confirmed.

``GET <serving_url>/drift/status`` answers a JSON object shaped like
``ml.drift.DriftReport.to_dict()`` (possibly with extra keys); only ``drifted`` (a boolean) is
required, ``drifted_features`` and ``n_current`` are shown when present.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["DRIFT_STATUS_PATH", "RetrainOutcome", "ServingUnreachable", "fetch_drift_status", "retrain_if_drifted"]

DRIFT_STATUS_PATH = "/drift/status"


class ServingUnreachable(ConnectionError):
    """The serving app could not be reached or did not answer a usable drift status."""


@dataclass(frozen=True)
class RetrainOutcome:
    """What the trigger saw and did; ``result`` is the ``TrainResult`` when it trained."""

    drifted: bool
    status: dict[str, Any]
    result: Any | None
    message: str


def fetch_drift_status(serving_url: str, *, timeout: float = 10.0) -> dict[str, Any]:
    """GET the drift status; ``ServingUnreachable`` with one clear line on any failure."""
    url = serving_url.rstrip("/") + DRIFT_STATUS_PATH
    if not url.startswith(("http://", "https://")):
        raise ServingUnreachable(f"serving URL must start with http:// or https://, got {serving_url!r}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:
        raise ServingUnreachable(f"{url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ServingUnreachable(f"cannot reach serving app at {url}: {reason}") from None
    try:
        status = json.loads(body)
    except json.JSONDecodeError:
        raise ServingUnreachable(f"{url} did not answer JSON") from None
    if not isinstance(status, dict) or not isinstance(status.get("drifted"), bool):
        raise ServingUnreachable(f"{url} answered JSON without a boolean 'drifted' key")
    return status


def retrain_if_drifted(
    serving_url: str,
    train_fn: Callable[[], Any],
    *,
    timeout: float = 10.0,
) -> RetrainOutcome:
    """Fetch the status; call ``train_fn()`` (e.g. a bound ``ml.train.train``) only on drift."""
    status = fetch_drift_status(serving_url, timeout=timeout)
    features = status.get("drifted_features") or [
        f.get("name") for f in status.get("features", []) if isinstance(f, dict) and f.get("drifted")
    ]
    window = f" over {status['n_current']} recent rows" if "n_current" in status else ""
    if not status["drifted"]:
        return RetrainOutcome(False, status, None, f"no drift{window}; nothing to do")
    result = train_fn()
    decision = "promoted to champion" if result.promoted else "not promoted"
    message = (
        f"drift in {', '.join(map(str, features)) or 'unnamed features'}{window}: trained "
        f"{result.model_name} version {result.version}, {result.metric_name}="
        f"{result.metric_value:.4g}, {decision} ({result.reason})"
    )
    return RetrainOutcome(True, status, result, message)
