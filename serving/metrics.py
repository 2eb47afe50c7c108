"""Every Prometheus metric of the serving app, in one module (names in ``serving.contract.METRICS``).

Histograms are in seconds with a fixed label set. Route labels are route *templates*
(``/predict``), and anything that matched no route is ``<unmatched>``, so a scanner cannot
blow up label cardinality.

More than one worker process: when ``PROMETHEUS_MULTIPROC_DIR`` is set (``python -m serving``
sets it when ``SERVING_WORKERS`` > 1), prometheus_client writes every value to per-process
files and ``render()`` merges them, so any worker answers ``/metrics`` for all of them. Gauge
merge modes: drift statistics are the most recent value any worker computed (each worker checks
the inputs it saw), ``serving_model_info`` is the max over live workers (a version some live
worker serves shows 1), ``serving_model_loaded`` the min (1 only when every worker has a model).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from serving.contract import METRICS, PROMETHEUS_MULTIPROC_DIR_ENV

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PREDICTION_BUCKETS = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 10000.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
UNMATCHED_ROUTE = "<unmatched>"


def multiprocess_enabled() -> bool:
    return bool(os.environ.get(PROMETHEUS_MULTIPROC_DIR_ENV))


class Metrics:
    """The app's metrics, registered in a registry of their own (one per app instance)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.multiprocess = multiprocess_enabled()
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            METRICS["requests"].removesuffix("_total"),
            "HTTP requests by route template, method and status code.",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            METRICS["latency"],
            "Time from request start to response start, in seconds.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.predictions = Histogram(
            METRICS["predictions"],
            "Distribution of numeric prediction values.",
            buckets=PREDICTION_BUCKETS,
            registry=r,
        )
        self.batch_rows = Histogram(
            METRICS["batch_rows"],
            "Rows per model call (a micro-batch may merge several requests).",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        drift_mode = "mostrecent"
        self.drift_p_value = Gauge(
            METRICS["drift_p_value"],
            "Adjusted two-sample KS p-value per feature, recent inputs vs the training reference.",
            ["feature"],
            registry=r,
            multiprocess_mode=drift_mode,
        )
        self.drift_ks = Gauge(
            METRICS["drift_ks"], "KS statistic per feature.", ["feature"], registry=r,
            multiprocess_mode=drift_mode,
        )
        self.drift_psi = Gauge(
            METRICS["drift_psi"], "Population stability index per feature.", ["feature"],
            registry=r, multiprocess_mode=drift_mode,
        )
        self.drift_detected = Gauge(
            METRICS["drift_detected"], "1 when the last drift check found drift, else 0.",
            registry=r, multiprocess_mode=drift_mode,
        )
        self.drift_window_rows = Gauge(
            METRICS["drift_window_rows"], "Rows in the recent-input window at the last check.",
            registry=r, multiprocess_mode=drift_mode,
        )
        self.model_info = Gauge(
            METRICS["model_info"], "1 for the model version being served.",
            ["name", "version", "alias"], registry=r, multiprocess_mode="livemax",
        )
        self.model_loaded = Gauge(
            METRICS["model_loaded"], "1 once a model serves.", registry=r,
            multiprocess_mode="livemin",
        )
        self.reload_failures = Counter(
            METRICS["reload_failures"].removesuffix("_total"),
            "Model loads or verifications that failed (the previous model kept serving).",
            registry=r,
        )
        self.reloads = Counter(
            METRICS["reloads"].removesuffix("_total"),
            "Model versions loaded, verified and swapped in.",
            registry=r,
        )
        self._info_labels: tuple[str, str, str] | None = None
        self.model_loaded.set(0)

    # -- recording -------------------------------------------------------------------------

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def observe_predictions(self, values: np.ndarray) -> None:
        """Bulk-observe numeric predictions (one bucket pass, not one call per value)."""
        if values.dtype.kind not in "iuf" or values.size == 0:
            return
        flat = values.astype(np.float64, copy=False).ravel()
        flat = flat[np.isfinite(flat)]
        if flat.size == 0:
            return
        hist = self.predictions
        buckets = getattr(hist, "_buckets", None)
        total = getattr(hist, "_sum", None)
        if buckets is None or total is None:  # private layout changed: fall back to the API
            for v in flat.tolist():
                hist.observe(v)
            return
        # prometheus_client stores per-bucket (non-cumulative) counts; bucket i holds
        # upper_bounds[i-1] < v <= upper_bounds[i], the last one is +Inf.
        idx = np.searchsorted(np.asarray(hist._upper_bounds), flat, side="left")
        counts = np.bincount(idx, minlength=len(buckets))
        for i in np.flatnonzero(counts).tolist():
            buckets[i].inc(int(counts[i]))
        total.inc(float(flat.sum()))

    def observe_batch(self, rows: int) -> None:
        self.batch_rows.observe(rows)

    def set_model(self, name: str, version: str, alias: str) -> None:
        labels = (name, version, alias)
        if self._info_labels is not None and self._info_labels != labels:
            self.model_info.labels(*self._info_labels).set(0)
        self.model_info.labels(*labels).set(1)
        self._info_labels = labels
        self.model_loaded.set(1)

    def set_drift(self, features: Iterable[tuple[str, float, float, float]], detected: bool, rows: int) -> None:
        for name, ks, p_value, psi in features:
            self.drift_ks.labels(name).set(ks)
            self.drift_p_value.labels(name).set(p_value)
            self.drift_psi.labels(name).set(psi)
        self.drift_detected.set(1 if detected else 0)
        self.drift_window_rows.set(rows)

    # -- exposition ------------------------------------------------------------------------

    def render(self) -> bytes:
        if self.multiprocess:
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
