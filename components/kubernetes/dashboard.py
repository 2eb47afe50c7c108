"""The serving endpoint's Grafana dashboard as JSON: latency p50/p99, throughput, 5xx ratio and
drift per feature. Queries come from alerts.py, so each panel plots what an alert evaluates, and
each threshold line sits where the alert fires.

Grafana's dashboard sidecar (kube-prometheus-stack) loads any ConfigMap labelled
``grafana_dashboard: "1"``; the datasource is a dashboard variable so the JSON also imports into
a Grafana whose Prometheus datasource has another uid.
"""

from __future__ import annotations

import json
from typing import Any

from ..naming import stable_suffix
from .alerts import (
    FEATURE_LABEL,
    ROUTE_LABEL,
    Scope,
    Thresholds,
    drift_detected_expr,
    drift_p_value_expr,
    error_ratio_expr,
    latency_quantile_expr,
    throughput_expr,
)

#: Label the Grafana sidecar watches (kube-prometheus-stack's grafana.sidecar.dashboards).
SIDECAR_LABEL = "grafana_dashboard"
SIDECAR_LABEL_VALUE = "1"
FILE_NAME = "mlops-serving.json"
SCHEMA_VERSION = 39  # Grafana 10/11 dashboard model

LATENCY_PANEL = "Latency p50 / p99"
THROUGHPUT_PANEL = "Throughput"
ERRORS_PANEL = "5xx error ratio"
DRIFT_PANEL = "Drift p-value per feature"
PANEL_TITLES: tuple[str, ...] = (LATENCY_PANEL, THROUGHPUT_PANEL, ERRORS_PANEL, DRIFT_PANEL)

_DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def dashboard_uid(scope: Scope) -> str:
    """Stable per endpoint (Grafana uids are at most 40 characters)."""
    return f"mlops-serving-{stable_suffix(scope.namespace, scope.service, length=10)}"


def _target(ref: str, expr: str, legend: str) -> dict[str, Any]:
    return {"refId": ref, "datasource": _DATASOURCE, "expr": expr, "legendFormat": legend, "range": True}


def _panel(
    panel_id: int, title: str, x: int, y: int, unit: str, targets: list[dict[str, Any]], threshold: float | None,
    description: str,
) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    if threshold is not None:
        steps.append({"color": "red", "value": threshold})
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": _DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "targets": targets,
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "min": 0,
                "thresholds": {"mode": "absolute", "steps": steps},
                "custom": {"thresholdsStyle": {"mode": "line" if threshold is not None else "off"}},
            },
            "overrides": [],
        },
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
    }


def dashboard(scope: Scope, thresholds: Thresholds) -> dict[str, Any]:
    """The dashboard model (a dict; :func:`dashboard_json` serialises it)."""
    by_route = ("namespace", "service", ROUTE_LABEL)
    panels = [
        _panel(
            1, LATENCY_PANEL, 0, 0, "s",
            [
                _target("A", latency_quantile_expr(scope, 0.5, by_route), "p50 {{route}}"),
                _target("B", latency_quantile_expr(scope, 0.99, by_route), "p99 {{route}}"),
            ],
            thresholds.latency_p99_seconds,
            "Request latency per route (probes and scrapes excluded); the line is the p99 alert threshold.",
        ),
        _panel(
            2, THROUGHPUT_PANEL, 12, 0, "reqps",
            [_target("A", throughput_expr(scope, by_route), "{{route}}")],
            None,
            "Requests per second per route.",
        ),
        _panel(
            3, ERRORS_PANEL, 0, 8, "percentunit",
            [_target("A", error_ratio_expr(scope), "5xx ratio")],
            thresholds.error_rate,
            "Share of requests answered 5xx; the line is the alert threshold.",
        ),
        _panel(
            4, DRIFT_PANEL, 12, 8, "none",
            [
                _target("A", drift_p_value_expr(scope), f"{{{{{FEATURE_LABEL}}}}}"),
                _target("B", drift_detected_expr(scope), "drift detected (0/1)"),
            ],
            thresholds.drift_p_value,
            "Drift test p-value per input feature (low means the live inputs differ from the "
            "training reference); the line is the alert threshold.",
        ),
    ]
    return {
        "uid": dashboard_uid(scope),
        "title": f"mlops-platform serving: {scope.namespace}/{scope.service}",
        "tags": ["mlops-platform", "serving"],
        "editable": False,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "timezone": "browser",
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                }
            ]
        },
        "annotations": {"list": []},
        "panels": panels,
    }


def dashboard_json(scope: Scope, thresholds: Thresholds) -> str:
    return json.dumps(dashboard(scope, thresholds), indent=2, sort_keys=True)
