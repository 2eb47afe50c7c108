"""The serving contract (contract/serving.py) is the one definition of the app's ports, routes,
settings variables and metric names: components/ import it and keep no copy, and what the
alert rules and KQL queries read is what the app really exposes on /metrics."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

import contract.serving as contract
from components.azure import monitoring as azure_monitoring
from components.azure import queries
from components.kubernetes import alerts
from serving.metrics import Metrics

COMPONENTS = Path(__file__).resolve().parents[2] / "components"


def _exposed_samples() -> set[str]:
    """Sample names the app's own registry exposes once each metric has been touched."""
    metrics = Metrics()
    metrics.requests.labels(route="/predict", method="POST", status="500").inc()
    metrics.latency.labels(route="/predict", method="POST").observe(0.01)
    metrics.drift_p_value.labels(feature="price").set(0.5)
    metrics.drift_detected.set(0)
    text = generate_latest(metrics.registry).decode()
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


def _literals(tree: ast.AST) -> list[tuple[int, object]]:
    """String and int constants outside docstrings."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    docstrings |= {  # attribute docstrings: a string statement after an assignment
        id(stmt.value) for node in ast.walk(tree)
        for stmt in (node.body if isinstance(getattr(node, "body", None), list) else [])
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
    }
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and id(n) not in docstrings and isinstance(n.value, (str, int))]


def test_components_keep_no_copy_of_the_contract():
    names = set(contract.METRICS.values()) | {contract.histogram_bucket(m) for m in contract.METRICS.values()}
    envs = set(contract.SETTINGS_ENV.values()) | {contract.MODEL_URI_ENV, contract.TRACKING_URI_ENV}
    paths = {contract.HEALTH_LIVE_PATH, contract.HEALTH_READY_PATH, contract.PREDICT_PATH, contract.MODEL_PATH,
             contract.DRIFT_STATUS_PATH, contract.SAGEMAKER_PING_PATH, contract.SAGEMAKER_INVOCATIONS_PATH,
             contract.SAGEMAKER_MODEL_DIR}
    copies = []
    for path in sorted(COMPONENTS.rglob("*.py")):
        for line, value in _literals(ast.parse(path.read_text())):
            if isinstance(value, bool):
                continue
            if value == contract.DEFAULT_PORT or value in paths or (
                isinstance(value, str) and any(token in value for token in names | envs)
            ):
                copies.append(f"{path.relative_to(COMPONENTS)}:{line}: {value!r}")
    assert not copies, copies


def test_the_app_exposes_the_names_with_the_labels_the_rules_read():
    metrics = Metrics()
    metrics.requests.labels(route="/predict", method="POST", status="500").inc()
    metrics.latency.labels(route="/predict", method="POST").observe(0.01)
    metrics.drift_p_value.labels(feature="price").set(0.5)
    families = {f.name: f for f in text_string_to_metric_families(generate_latest(metrics.registry).decode())}
    requests = families[alerts.REQUESTS_TOTAL.removesuffix("_total")]
    sample = next(s for s in requests.samples if s.name == alerts.REQUESTS_TOTAL)
    assert {alerts.ROUTE_LABEL, alerts.STATUS_LABEL} <= set(sample.labels)
    assert sample.labels[alerts.STATUS_LABEL] == "500"  # the rules match status=~"5.."
    latency = families[alerts.REQUEST_DURATION]
    assert any(s.name == alerts.REQUEST_DURATION + "_bucket" and alerts.ROUTE_LABEL in s.labels for s in latency.samples)
    drift = families[alerts.DRIFT_P_VALUE]
    assert drift.samples[0].labels == {alerts.FEATURE_LABEL: "price"}


def test_every_metric_the_azure_queries_read_is_one_the_app_exposes():
    """KQL names a series as ``Name == "<sample name>"``; each must be a sample of the app's real
    /metrics (with Container Insights' scrape, InsightsMetrics.Name is the sample name)."""
    exposed = _exposed_samples()
    for runtime in ("kubernetes", "azureml"):
        for query in (queries.latency_quantile(runtime, "e", 0.99), queries.throughput(runtime, "e"),
                      queries.error_ratio(runtime, "e"), queries.drift_p_value(runtime, "e")):
            for name in re.findall(r'\bName == "([^"]+)"', query):
                assert name in exposed, (runtime, name, sorted(exposed))
    kept = re.search(r"fieldpass = (\[.*\])", azure_monitoring.scrape_settings("svc")).group(1)
    assert set(ast.literal_eval(kept)) <= exposed


def test_every_metric_the_alert_rules_read_is_one_the_app_exposes():
    exposed = _exposed_samples()
    rules = alerts.alert_rules(alerts.Scope("mlops", "serving"), alerts.Thresholds(0.25, 0.02, 0.01))
    for rule in rules:
        for name in re.findall(r"\b(serving_[a-z_]+)\b", rule.expr):
            assert name in exposed, (rule.name, name)
