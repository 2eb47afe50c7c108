"""components/ may not import serving/ (library rule), so the Kubernetes objects and alert rules
repeat the serving app's contract. These tests keep the copies equal to the source."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from components.kubernetes import alerts
from components.kubernetes import serving as k8s_serving
from components.kubernetes.tenancy import SERVING_PORT
from serving import contract
from serving.metrics import Metrics


def test_probe_paths_port_and_env_names_match_the_app():
    assert k8s_serving.HEALTH_LIVE_PATH == contract.HEALTH_LIVE_PATH
    assert k8s_serving.HEALTH_READY_PATH == contract.HEALTH_READY_PATH
    assert k8s_serving.METRICS_PATH == contract.METRICS_PATH
    assert SERVING_PORT == contract.DEFAULT_PORT
    assert k8s_serving.ENV_MODEL_URI == contract.MODEL_URI_ENV
    assert k8s_serving.ENV_TRACKING_URI == contract.TRACKING_URI_ENV
    assert k8s_serving.ENV_PORT == contract.SETTINGS_ENV["port"]
    assert k8s_serving.ENV_DRIFT_REFERENCE_PATH == contract.SETTINGS_ENV["drift_reference_path"]


def test_alert_rules_use_the_metrics_the_app_exports():
    assert alerts.REQUESTS_TOTAL == contract.METRICS["requests"]
    assert alerts.REQUEST_DURATION == contract.METRICS["latency"]
    assert alerts.DRIFT_P_VALUE == contract.METRICS["drift_p_value"]
    assert alerts.DRIFT_DETECTED == contract.METRICS["drift_detected"]
    assert alerts.MODEL_LOADED == contract.METRICS["model_loaded"]


def test_the_app_exposes_those_names_with_the_labels_the_rules_read():
    metrics = Metrics()
    metrics.requests.labels(route="/predict", method="POST", status="500").inc()
    metrics.latency.labels(route="/predict", method="POST").observe(0.01)
    metrics.drift_p_value.labels(feature="price").set(0.5)
    from prometheus_client import generate_latest

    families = {f.name: f for f in text_string_to_metric_families(generate_latest(metrics.registry).decode())}
    requests = families[alerts.REQUESTS_TOTAL.removesuffix("_total")]
    sample = next(s for s in requests.samples if s.name == alerts.REQUESTS_TOTAL)
    assert {alerts.ROUTE_LABEL, alerts.STATUS_LABEL} <= set(sample.labels)
    assert sample.labels[alerts.STATUS_LABEL] == "500"  # the rules match status=~"5.."
    latency = families[alerts.REQUEST_DURATION]
    assert any(s.name == alerts.REQUEST_DURATION + "_bucket" and alerts.ROUTE_LABEL in s.labels for s in latency.samples)
    drift = families[alerts.DRIFT_P_VALUE]
    assert drift.samples[0].labels == {alerts.FEATURE_LABEL: "price"}
