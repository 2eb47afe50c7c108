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

Several worker processes (``SERVING_WORKERS`` > 1, so ``PROMETHEUS_MULTIPROC_DIR`` is set): the
window is one ``SharedRingBuffer``, a memory-mapped file in that directory keyed by the
reference and the window size, written by every worker under ``fcntl.flock``; each check's
result goes to a JSON file beside it, and ``status()`` shows the newest check any worker made.
So every worker reports the same window and the same verdict (per-process windows would give
each worker a share of the traffic, and two answers). A worker that swapped to another model
writes to that model's window. prometheus_client only reads ``*.db`` files there.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import mmap
import os
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from serving.contract import DRIFT_SETTINGS_ENV, PROMETHEUS_MULTIPROC_DIR_ENV, DriftStatus


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


class SharedRingBuffer:
    """``RingBuffer`` semantics over a memory-mapped file shared by processes.

    Layout: 8 int64 header slots (magic, capacity, width, next, size, total, 0, 0), then
    ``capacity * width`` float64. Writers take ``flock(LOCK_EX)``, readers ``LOCK_SH``, and a
    thread lock because flock does not exclude threads sharing the descriptor. A file whose size
    or header does not match is reset.
    """

    _MAGIC = 0x3152_5446_4952_44  # "DRIFTR1"
    _SLOTS = 8

    def __init__(self, path: str | os.PathLike[str], capacity: int, width: int) -> None:
        if capacity < 1 or width < 1:
            raise ValueError("capacity and width must be >= 1")
        self.path = Path(path)
        nbytes = 8 * (self._SLOTS + capacity * width)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                fresh = os.fstat(fd).st_size != nbytes
                if fresh:
                    os.ftruncate(fd, nbytes)
                self._mm = mmap.mmap(fd, nbytes)
                self._header = np.ndarray((self._SLOTS,), dtype=np.int64, buffer=self._mm)
                self._data = np.ndarray((capacity, width), dtype=np.float64, buffer=self._mm,
                                        offset=8 * self._SLOTS)
                if fresh or tuple(self._header[:3]) != (self._MAGIC, capacity, width):
                    self._header[:] = (self._MAGIC, capacity, width, 0, 0, 0, 0, 0)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        with self._lock:
            fcntl.flock(self._fd, mode)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    @property
    def capacity(self) -> int:
        return self._data.shape[0]

    def __len__(self) -> int:
        with self._locked(fcntl.LOCK_SH):
            return int(self._header[4])

    @property
    def total(self) -> int:
        with self._locked(fcntl.LOCK_SH):
            return int(self._header[5])

    def add(self, block: np.ndarray) -> None:
        """Append rows; only the last ``capacity`` of a large block are kept."""
        cap = self.capacity
        n = block.shape[0]
        if n == 0:
            return
        with self._locked(fcntl.LOCK_EX):
            nxt, size, total = (int(v) for v in self._header[3:6])
            if n >= cap:
                self._data[:] = block[n - cap :]
                nxt, size = 0, cap
            else:
                end = nxt + n
                if end <= cap:
                    self._data[nxt:end] = block
                else:
                    first = cap - nxt
                    self._data[nxt:] = block[:first]
                    self._data[: n - first] = block[first:]
                nxt, size = end % cap, min(cap, size + n)
            self._header[3:6] = (nxt, size, total + n)

    def snapshot(self) -> np.ndarray:
        """A copy of the buffered rows, oldest first."""
        with self._locked(fcntl.LOCK_SH):
            nxt, size = int(self._header[3]), int(self._header[4])
            if size < self.capacity:
                return self._data[:size].copy()
            return np.concatenate((self._data[nxt:], self._data[:nxt]))


def _window_key(reference: Any, window: int) -> str:
    """Names the shared window of one reference (its rows, features, settings) and size."""
    digest = hashlib.sha256()
    digest.update(json.dumps([reference.feature_names, reference.p_threshold, reference.psi_threshold,
                              reference.correction, window]).encode())
    digest.update(np.ascontiguousarray(reference._ref).tobytes())
    return digest.hexdigest()[:20]


def _write_json(path: Path, value: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(value))
    os.replace(tmp, path)


class DriftMonitor:
    """A reference plus a window of recent inputs; ``check`` compares them."""

    def __init__(self, reference: Any | None, window: int, min_rows: int, reason: str | None = None,
                 env: Mapping[str, str] | None = None, shared_dir: str | None = None) -> None:
        """``shared_dir`` (default: ``PROMETHEUS_MULTIPROC_DIR`` of ``env``/the environment)
        makes the window and the last check shared by every process using that directory."""
        shared_dir = shared_dir or (os.environ if env is None else env).get(PROMETHEUS_MULTIPROC_DIR_ENV) or None
        if reference is not None:
            try:
                reference = reference.configured(**drift_settings(env))
            except ValueError as exc:
                reference, reason = None, f"drift disabled: {exc}"
        self.reference = reference  # ml.drift.DriftReference or None
        self.reason = reason  # why there is no reference
        self.min_rows = min_rows
        self.features: list[str] = list(reference.feature_names) if reference is not None else []
        self.buffer: RingBuffer | SharedRingBuffer | None = None
        self._shared_status: Path | None = None
        if reference is not None and shared_dir:
            key = _window_key(reference, window)
            self.buffer = SharedRingBuffer(Path(shared_dir) / f"drift-window-{key}.bin", window, len(self.features))
            self._shared_status = Path(shared_dir) / f"drift-check-{key}.json"
        elif reference is not None:
            self.buffer = RingBuffer(window, len(self.features))
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
        if self._shared_status is not None:
            try:
                _write_json(self._shared_status, {"report": report, "checked_at": self.checked_at})
            except OSError as exc:  # keep serving; this worker then shows its own check
                self.error = f"cannot share the drift check: {exc}"
        return report

    def _latest(self) -> tuple[dict[str, Any] | None, float | None]:
        """The newest check: this process's, or any worker's from the shared file."""
        report, checked_at = self.report, self.checked_at
        if self._shared_status is not None:
            try:
                shared = json.loads(self._shared_status.read_text())
            except (OSError, ValueError):
                shared = None
            if shared and (checked_at is None or shared["checked_at"] >= checked_at):
                report, checked_at = shared["report"], float(shared["checked_at"])
        return report, checked_at

    def status(self) -> dict[str, Any]:
        report, checked_at = self._latest()
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
            checked_at=None if checked_at is None else time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(checked_at)
            ),
            reason=self.reason,
            error=self.error,
            report=report,
        ).to_dict()
