"""Drift bookkeeping: a fixed-size ring buffer of recent inputs and periodic checks.

``record`` runs on the request path and costs O(rows of the request): one slice copy into a
preallocated ``(window, features)`` float64 array, wrapping around, under a lock nobody holds
for long. No allocation grows with traffic. ``check`` copies the window and runs
``ml.drift.DriftReference.compare`` (KS + PSI per feature, vectorised) — the app calls it from a
background task in a worker thread every ``drift_interval_s``, never from a request.

The verdict's settings come from ``SERVING_DRIFT_P_THRESHOLD`` / ``SERVING_DRIFT_CORRECTION`` /
``SERVING_DRIFT_PSI_THRESHOLD`` (``serving.contract.DRIFT_SETTINGS_ENV``); a bad value disables
drift with one line naming the variable and the allowed values. ``status()`` is a
``serving.contract.DriftStatus``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from serving.contract import DRIFT_SETTINGS_ENV, DriftStatus


def drift_settings(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The verdict settings from the environment; ``ValueError`` naming the bad variable."""
    import os

    env = os.environ if env is None else env
    out: dict[str, Any] = {}
    for name, (var, default) in DRIFT_SETTINGS_ENV.items():
        raw = env.get(var, default).strip()
        if name == "correction":
            if raw not in ("bh", "bonferroni", "none"):
                raise ValueError(f"{var}={raw!r}: allowed values are bh, bonferroni, none")
            out[name] = raw
            continue
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if name == "p_threshold" and not 0.0 < value < 1.0:
            raise ValueError(f"{var}={raw!r}: must be a number within (0, 1)")
        if name == "psi_threshold" and not value >= 0.0:
            raise ValueError(f"{var}={raw!r}: must be a number >= 0")
        out[name] = value
    return out


class RingBuffer:
    """The last ``capacity`` rows of a ``(rows, width)`` float stream, oldest overwritten first."""

    def __init__(self, capacity: int, width: int) -> None:
        if capacity < 1 or width < 1:
            raise ValueError("capacity and width must be >= 1")
        self._data = np.empty((capacity, width), dtype=np.float64)
        self._next = 0  # where the next row goes
        self._size = 0
        self._total = 0  # rows ever added
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        return self._data.shape[0]

    def __len__(self) -> int:
        return self._size

    @property
    def total(self) -> int:
        return self._total

    def add(self, block: np.ndarray) -> None:
        """Append rows; only the last ``capacity`` of a large block are kept."""
        cap = self.capacity
        n = block.shape[0]
        if n == 0:
            return
        with self._lock:
            self._total += n
            if n >= cap:
                self._data[:] = block[n - cap :]
                self._next, self._size = 0, cap
                return
            end = self._next + n
            if end <= cap:
                self._data[self._next : end] = block
            else:
                first = cap - self._next
                self._data[self._next :] = block[:first]
                self._data[: n - first] = block[first:]
            self._next = end % cap
            self._size = min(cap, self._size + n)

    def snapshot(self) -> np.ndarray:
        """A copy of the buffered rows, oldest first."""
        with self._lock:
            if self._size < self.capacity:
                return self._data[: self._size].copy()
            return np.concatenate((self._data[self._next :], self._data[: self._next]))


class DriftMonitor:
    """A reference plus a window of recent inputs; ``check`` compares them."""

    def __init__(self, reference: Any | None, window: int, min_rows: int, reason: str | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        if reference is not None:
            try:
                reference = reference.configured(**drift_settings(env))
            except ValueError as exc:
                reference, reason = None, f"drift disabled: {exc}"
        self.reference = reference  # ml.drift.DriftReference or None
        self.reason = reason  # why there is no reference
        self.min_rows = min_rows
        self.features: list[str] = list(reference.feature_names) if reference is not None else []
        self.buffer = RingBuffer(window, len(self.features)) if reference is not None else None
        self.report: dict[str, Any] | None = None
        self.checked_at: float | None = None
        self.error: str | None = None

    def record(self, columns: Mapping[str, Any]) -> None:
        """Add a validated batch's reference columns (name -> 1-D values) to the window.

        Request path: O(rows of the batch), no allocation beyond one small block.
        """
        if self.buffer is None:
            return
        n = len(columns[self.features[0]])
        block = np.empty((n, len(self.features)), dtype=np.float64)
        for j, name in enumerate(self.features):
            block[:, j] = np.asarray(columns[name], dtype=np.float64)
        finite = np.isfinite(block).all(axis=1)
        self.buffer.add(block if finite.all() else block[finite])

    def check(self) -> dict[str, Any] | None:
        """Compare the window with the reference (off the request path). None if too few rows."""
        if self.buffer is None or len(self.buffer) < self.min_rows:
            return None
        window = self.buffer.snapshot()
        try:
            report = self.reference.compare(window).to_dict()
        except Exception as exc:  # keep serving; show it in /drift/status
            self.error = f"{type(exc).__name__}: {exc}"
            return None
        self.report, self.checked_at, self.error = report, time.time(), None
        return report

    def status(self) -> dict[str, Any]:
        report = self.report
        return DriftStatus(
            enabled=self.reference is not None,
            drifted=None if report is None else bool(report["drifted"]),
            n_current=0 if report is None else int(report["n_current"]),
            window_rows=0 if self.buffer is None else len(self.buffer),
            window_capacity=0 if self.buffer is None else self.buffer.capacity,
            min_rows=self.min_rows,
            rows_seen=0 if self.buffer is None else self.buffer.total,
            drifted_features=[] if report is None else list(report["drifted_features"]),
            features=self.features,
            checked_at=None if self.checked_at is None else time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.checked_at)
            ),
            reason=self.reason,
            error=self.error,
            report=report,
        ).to_dict()
