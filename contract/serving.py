"""The serving image's public contract: ports, paths and settings names, as plain constants.

Infrastructure code (Kubernetes probes, SageMaker and Azure ML endpoint definitions, Prometheus
rules) imports this module to configure the image it deploys. It imports nothing beyond the
standard library, so a Pulumi environment can use it without the serving dependencies
(FastAPI, MLflow, scikit-learn); ``tests/serving/test_packaging.py`` checks that.

Routes of the one app (every target runs the same image):

=========================  ==============================================================
``GET  /health/live``      200 while the process serves HTTP (Kubernetes liveness, AML liveness)
``GET  /health/ready``     200 once a model is loaded (or awaiting its first one, see below), else 503
``POST /predict``          one row (JSON object) or a batch (JSON array) of named features
``GET  /model``            name, version, alias, signature, loaded-at, last reload error
``GET  /drift/status``     per-feature drift statistics of the recent-input window and the verdict
``GET  /metrics``          Prometheus text exposition
``GET  /ping``             SageMaker health check (same answer as /health/ready)
``POST /invocations``      SageMaker/MLflow scoring protocol (JSON or text/csv); AML scoring route
=========================  ==============================================================

Azure ML managed online endpoints with a custom container take a liveness route, a readiness
route and a scoring route, each ``{"port": ..., "path": ...}``: point them at
``AZUREML_ROUTES`` (the same handlers Kubernetes probes use, and the SageMaker scoring handler).
SageMaker runs the container as ``<image> serve`` and talks to port 8080 (``/ping``,
``/invocations``); the image's entrypoint accepts and ignores the ``serve`` argument.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Final

__all__ = [
    "AZUREML_ROUTES",
    "DRIFT_SETTINGS_ENV",
    "DriftStatus",
    "DEFAULT_PORT",
    "DEFAULT_PROBE_PORT",
    "DRIFT_REFERENCE_PATH_ENV",
    "DRIFT_STATUS_PATH",
    "ENV_PREFIX",
    "HEALTH_LIVE_PATH",
    "HEALTH_READY_PATH",
    "FEATURE_LABEL",
    "METRICS",
    "METRICS_PATH",
    "MODEL_PATH",
    "MODEL_URI_ENV",
    "NON_TRAFFIC_ROUTES",
    "PORT_ENV",
    "PROBE_PORT_ENV",
    "PREDICT_PATH",
    "PROMETHEUS_MULTIPROC_DIR_ENV",
    "READY_WITHOUT_MODEL_ENV",
    "ROUTE_LABEL",
    "SAGEMAKER_INVOCATIONS_PATH",
    "SAGEMAKER_MODEL_DIR",
    "SAGEMAKER_PING_PATH",
    "SAGEMAKER_ROUTES",
    "SETTINGS_ENV",
    "STATUS_AWAITING_MODEL",
    "STATUS_LABEL",
    "TRACKING_URI_ENV",
    "histogram_bucket",
]

#: Port the app listens on unless ``SERVING_PORT`` says otherwise (SageMaker requires 8080).
DEFAULT_PORT: Final = 8080

HEALTH_LIVE_PATH: Final = "/health/live"
HEALTH_READY_PATH: Final = "/health/ready"
PREDICT_PATH: Final = "/predict"
MODEL_PATH: Final = "/model"
DRIFT_STATUS_PATH: Final = "/drift/status"
METRICS_PATH: Final = "/metrics"
SAGEMAKER_PING_PATH: Final = "/ping"
SAGEMAKER_INVOCATIONS_PATH: Final = "/invocations"

#: Routes that are not user traffic (probes, scrapes, SageMaker's ping): alert rules and
#: dashboards leave them out of latency and error figures so probes cannot hide a slow /predict.
NON_TRAFFIC_ROUTES: Final = (HEALTH_LIVE_PATH, HEALTH_READY_PATH, METRICS_PATH, SAGEMAKER_PING_PATH)

#: Where SageMaker unpacks ``model.tar.gz`` in the container; the endpoint sets the model URI to it.
SAGEMAKER_MODEL_DIR: Final = "/opt/ml/model"

#: What a SageMaker inference container must answer (port fixed by SageMaker).
SAGEMAKER_ROUTES: Final = {
    "port": DEFAULT_PORT,
    "ping": SAGEMAKER_PING_PATH,
    "invocations": SAGEMAKER_INVOCATIONS_PATH,
}

#: Azure ML online deployment ``liveness_route`` / ``readiness_route`` / ``scoring_route``.
AZUREML_ROUTES: Final = {
    "liveness_route": {"port": DEFAULT_PORT, "path": HEALTH_LIVE_PATH},
    "readiness_route": {"port": DEFAULT_PORT, "path": HEALTH_READY_PATH},
    "scoring_route": {"port": DEFAULT_PORT, "path": SAGEMAKER_INVOCATIONS_PATH},
}

#: Every setting is read from ``SERVING_<FIELD>`` (see ``serving.settings.ServingSettings``).
ENV_PREFIX: Final = "SERVING_"
MODEL_URI_ENV: Final = "SERVING_MODEL_URI"  # required: models:/<name>@<alias>, models:/<name>/<v>, or a path
TRACKING_URI_ENV: Final = "SERVING_TRACKING_URI"  # MLflow tracking/registry URI (else MLFLOW_TRACKING_URI)
#: "true" on every deployed target: while the registry answers that the model (or its alias) does
#: not exist yet, readiness and /ping are 200 ``{"status": "awaiting_model"}``, scoring routes 503,
#: ``serving_model_loaded`` 0, and the first champion is loaded as soon as it is registered.
READY_WITHOUT_MODEL_ENV: Final = "SERVING_READY_WITHOUT_MODEL"
#: The readiness ``status`` of an app waiting for its first model version (see above).
STATUS_AWAITING_MODEL: Final = "awaiting_model"
#: prometheus_client's multiprocess directory; ``python -m serving`` sets one under /tmp when
#: ``SERVING_WORKERS`` > 1 and it is unset.
PROMETHEUS_MULTIPROC_DIR_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"

PORT_ENV: Final = "SERVING_PORT"
#: The probe port (``GET /health/live``, ``/health/ready``, ``/ping`` only, served by a thread
#: of its own, never queued behind inference); the Kubernetes Deployment's probes use it.
PROBE_PORT_ENV: Final = "SERVING_PROBE_PORT"
DEFAULT_PROBE_PORT: Final = 8081
DRIFT_REFERENCE_PATH_ENV: Final = "SERVING_DRIFT_REFERENCE_PATH"

#: Environment variable name of every setting (field name -> variable), for Deployment specs.
SETTINGS_ENV: Final = {
    name: ENV_PREFIX + name.upper()
    for name in (
        "model_uri",
        "tracking_uri",
        "host",
        "port",
        "probe_port",
        "workers",
        "max_batch_rows",
        "max_body_bytes",
        "max_inflight_rows",
        "microbatch_max_rows",
        "microbatch_max_wait_ms",
        "microbatch_target_ms",
        "drift_window",
        "drift_min_rows",
        "drift_interval_s",
        "drift_reference_path",
        "poll_interval_s",
        "predict_threads",
        "log_level",
        "ready_without_model",
        "download_dir",
    )
}

#: Prometheus metric names exported on ``/metrics`` (for alert rules and dashboards).
METRICS: Final = {
    "requests": "serving_requests_total",  # counter {route, method, status}
    "latency": "serving_request_duration_seconds",  # histogram {route, method}
    "predictions": "serving_prediction_value",  # histogram of numeric predictions
    "batch_rows": "serving_predict_batch_rows",  # histogram: rows per model call (micro-batches)
    "drift_p_value": "serving_drift_p_value",  # gauge {feature}: adjusted KS p-value
    "drift_ks": "serving_drift_ks_statistic",  # gauge {feature}
    "drift_psi": "serving_drift_psi",  # gauge {feature}
    "drift_detected": "serving_drift_detected",  # gauge: 1 when the last check found drift
    "drift_window_rows": "serving_drift_window_rows",  # gauge: rows in the recent-input window
    "model_info": "serving_model_info",  # gauge {name, version, alias} = 1 for the served model
    "model_loaded": "serving_model_loaded",  # gauge: 1 once a model serves
    "reload_failures": "serving_model_reload_failures_total",  # counter
    "reloads": "serving_model_reloads_total",  # counter of successful swaps
}

#: Label names of the request metrics (``requests``: route, method, status; ``latency``: route,
#: method) and of the per-feature drift gauges.
ROUTE_LABEL: Final = "route"
STATUS_LABEL: Final = "status"
FEATURE_LABEL: Final = "feature"


def histogram_bucket(metric: str) -> str:
    """The series name of a histogram's buckets (Prometheus text format: ``<name>_bucket``)."""
    return metric + "_bucket"

#: Drift verdict settings, read by ``serving.drift`` from the environment (not pydantic fields,
#: so they need no change to ``serving.settings``): name -> (variable, default).
DRIFT_SETTINGS_ENV: Final = {
    "p_threshold": ("SERVING_DRIFT_P_THRESHOLD", "0.05"),  # family-wise false-alarm rate, (0, 1)
    "correction": ("SERVING_DRIFT_CORRECTION", "bh"),  # bh | bonferroni | none
    "psi_threshold": ("SERVING_DRIFT_PSI_THRESHOLD", "0"),  # minimum effect size, >= 0
}


@dataclass(frozen=True)
class DriftStatus:
    """The one model of ``GET /drift/status``: written by serving, read by the retrain trigger
    and the tests. ``drifted`` is None until a window of ``min_rows`` has been checked."""

    enabled: bool
    drifted: bool | None
    n_current: int  # rows in the window of the last check (0 before one)
    window_rows: int
    window_capacity: int
    min_rows: int
    rows_seen: int
    drifted_features: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    checked_at: str | None = None
    reason: str | None = None  # why drift is disabled
    error: str | None = None  # last check's failure
    workers: int = 1  # worker processes whose windows were merged
    report: dict[str, Any] | None = None  # ml.drift.DriftReport.to_dict() of the last check

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> DriftStatus:
        """Parse a status; ``ValueError`` naming the first bad key."""
        if not isinstance(data, dict):
            raise ValueError("drift status must be a JSON object")
        names = {f.name for f in fields(cls)}
        required = {"enabled": bool, "n_current": int, "window_rows": int, "window_capacity": int,
                    "min_rows": int, "rows_seen": int}
        for key, kind in required.items():
            if not isinstance(data.get(key), kind) or isinstance(data.get(key), bool) != (kind is bool):
                raise ValueError(f"drift status key {key!r} must be {kind.__name__}, got {data.get(key)!r}")
        if data.get("drifted") is not None and not isinstance(data["drifted"], bool):
            raise ValueError(f"drift status key 'drifted' must be true, false or null, got {data['drifted']!r}")
        if "drifted" not in data:
            raise ValueError("drift status has no 'drifted' key")
        return cls(**{k: v for k, v in data.items() if k in names})
