"""Retrain trigger: read the serving app's drift status and train when drift is confirmed.

``GET <serving_url>/drift/status`` answers ``serving.contract.DriftStatus`` (the one shared
model of the status; parsed with ``DriftStatus.from_dict``). ``drifted`` is null until the
window holds ``min_rows`` rows: that is "nothing to decide yet", not an error. A confirmed drift
trains unless the model got a new version less than ``cooldown_s`` ago; training should then
use recent data (``--data-csv``: labelled recent rows, e.g. the served window joined with its
outcomes), so a retrain does not fit the same synthetic sample again. ``retrain_if_drifted``
itself does not look at the data: the retraining pipeline (``ml.pipeline``, ``python -m ml
pipeline``) loads recent data and trains with ``skip_duplicate_data=True``, so rows identical to
an existing version's (same MLflow dataset digest, tag ``ml.data_digest``) register nothing.
"""

from __future__ import annotations

import json
import time
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
    from serving.contract import DriftStatus

    try:
        DriftStatus.from_dict(status)
    except ValueError as exc:
        raise ServingUnreachable(f"{url} answered an unusable drift status: {exc}") from None
    return status


def retrain_if_drifted(
    serving_url: str,
    train_fn: Callable[[], Any],
    *,
    timeout: float = 10.0,
    last_version_at: Callable[[], float | None] | None = None,
    cooldown_s: float = 0.0,
) -> RetrainOutcome:
    """Fetch the status; call ``train_fn()`` (e.g. a bound ``ml.train.train``) only on drift
    and outside the cooldown (``last_version_at()``: epoch seconds of the newest version)."""
    from serving.contract import DriftStatus

    status = fetch_drift_status(serving_url, timeout=timeout)
    parsed = DriftStatus.from_dict(status)
    features = parsed.drifted_features
    window = f" over {parsed.n_current} recent rows"
    if parsed.drifted is None:
        why = parsed.reason or parsed.error or (
            f"window has {parsed.window_rows} of the {parsed.min_rows} rows a check needs"
        )
        return RetrainOutcome(False, status, None, f"no drift verdict yet ({why}); nothing to do")
    if not parsed.drifted:
        return RetrainOutcome(False, status, None, f"no drift{window}; nothing to do")
    if cooldown_s > 0 and last_version_at is not None:
        last = last_version_at()
        if last is not None and time.time() - last < cooldown_s:
            return RetrainOutcome(
                True, status, None,
                f"drift in {', '.join(features)}{window}, but the last version is "
                f"{time.time() - last:.0f}s old (cooldown {cooldown_s:.0f}s); not retraining",
            )
    result = train_fn()
    decision = "promoted to champion" if result.promoted else "not promoted"
    message = (
        f"drift in {', '.join(map(str, features)) or 'unnamed features'}{window}: trained "
        f"{result.model_name} version {result.version}, {result.metric_name}="
        f"{result.metric_value:.4g}, {decision} ({result.reason})"
    )
    return RetrainOutcome(True, status, result, message)
