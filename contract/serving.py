"""The serving image's public contract: ports, paths and settings names, as plain constants.

Infrastructure code (Kubernetes probes, SageMaker and Azure ML endpoint definitions, Prometheus
rules) imports this module to configure the image it deploys. It imports nothing beyond the
standard library, so a Pulumi environment can use it without the serving dependencies
(FastAPI, MLflow, scikit-learn); ``tests/serving/test_packaging.py`` checks that.

Routes of the one app (every target runs the same image):

=========================  ==============================================================
``GET  /health/live``      200 while the process serves HTTP (Kubernetes liveness, AML liveness)
``GET  /health/ready``     200 once a model is loaded, else 503 (Kubernetes readiness, AML readiness)
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

from typing import Final

__all__ = [
    "AZUREML_ROUTES",
    "DEFAULT_PORT",
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
    "PREDICT_PATH",
    "PROMETHEUS_MULTIPROC_DIR_ENV",
    "ROUTE_LABEL",
    "SAGEMAKER_INVOCATIONS_PATH",
    "SAGEMAKER_MODEL_DIR",
    "SAGEMAKER_PING_PATH",
    "SAGEMAKER_ROUTES",
    "SETTINGS_ENV",
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
#: prometheus_client's multiprocess directory; ``python -m serving`` sets one under /tmp when
#: ``SERVING_WORKERS`` > 1 and it is unset.
PROMETHEUS_MULTIPROC_DIR_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"

PORT_ENV: Final = "SERVING_PORT"
DRIFT_REFERENCE_PATH_ENV: Final = "SERVING_DRIFT_REFERENCE_PATH"

#: Environment variable name of every setting (field name -> variable), for Deployment specs.
SETTINGS_ENV: Final = {
    name: ENV_PREFIX + name.upper()
    for name in (
        "model_uri",
        "tracking_uri",
        "host",
        "port",
        "workers",
        "max_batch_rows",
        "max_body_bytes",
        "microbatch_max_rows",
        "microbatch_max_wait_ms",
        "drift_window",
        "drift_min_rows",
        "drift_interval_s",
        "drift_reference_path",
        "poll_interval_s",
        "predict_threads",
        "log_level",
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
