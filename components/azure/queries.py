"""KQL for the serving endpoint's panels and alerts on Azure, per runtime (pure; tested as text).

The same four signals as the local Grafana dashboard (components/kubernetes/dashboard.py):
latency p50/p99, throughput, 5xx error ratio and drift p-value per feature. A panel and the
alert on it share one query, so the workbook shows exactly what an alert evaluates.

Where the data comes from:

* ``kubernetes`` runtime: Container Insights scrapes the serving Service's ``/metrics``
  (Prometheus; Monitoring writes the agent's scrape config) into ``InsightsMetrics``
  (``Namespace == "prometheus"``), with the metric names of the serving app's contract.
* ``azureml`` runtime: the endpoint's diagnostic setting sends ``AmlOnlineEndpointTrafficLog``
  (one row per request, ``TotalDurationMs``, ``ResponseCode``) to the workspace. The drift
  panel reads ``AppMetrics`` (``serving_drift_p_value`` in the workspace-based Application
  Insights), which nothing emits today: the serving image has no Application Insights exporter,
  so that panel stays empty and no alert reads it (docs/azure.md, "Monitoring";
  tests/components/azure/test_alert_signals.py).
"""

from __future__ import annotations

from contract.serving import METRICS, NON_TRAFFIC_ROUTES, histogram_bucket

#: Metric names of the serving app's /metrics (contract/serving.py, the app's own source).
REQUESTS_TOTAL = METRICS["requests"]
REQUEST_DURATION_BUCKET = histogram_bucket(METRICS["latency"])
DRIFT_P_VALUE = METRICS["drift_p_value"]
DRIFT_DETECTED = METRICS["drift_detected"]
#: Probe and scrape routes are not user traffic (re-exported from the contract).
__all__ = ["NON_TRAFFIC_ROUTES"]

LATENCY = "Latency p50 / p99"
THROUGHPUT = "Throughput"
ERRORS = "5xx error ratio"
DRIFT = "Drift p-value per feature"
PANELS = (LATENCY, THROUGHPUT, ERRORS, DRIFT)


def _routes() -> str:
    return ", ".join(f'"{r}"' for r in NON_TRAFFIC_ROUTES)


def _prometheus(metric: str, endpoint: str) -> str:
    return (
        "InsightsMetrics\n"
        f'| where Namespace == "prometheus" and Name == "{metric}"\n'
        "| extend tags = todynamic(Tags)\n"
        f'| where tostring(tags.service) == "{endpoint}" or Tags has "{endpoint}"\n'
    )


def _aml(endpoint: str) -> str:
    return f'AmlOnlineEndpointTrafficLog\n| where EndpointName == "{endpoint}"\n'


def latency_quantile(runtime: str, endpoint: str, quantile: float, bin_: str = "5m") -> str:
    """Seconds at ``quantile`` (0-1) per ``bin_``; column ``latency_seconds``."""
    pct = round(quantile * 100, 3)
    if runtime == "azureml":
        return _aml(endpoint) + (
            f"| summarize latency_seconds = percentile(TotalDurationMs, {pct}) / 1000.0 by bin(TimeGenerated, {bin_})"
        )
    # Histogram quantile from cumulative buckets: the smallest bucket bound holding the share.
    return _prometheus(REQUEST_DURATION_BUCKET, endpoint) + (
        f"| where tostring(tags.route) !in ({_routes()})\n"
        "| extend le = todouble(tags.le)\n"
        f"| summarize increase = max(Val) - min(Val) by le, series = tostring(tags.route), bin(TimeGenerated, {bin_})\n"
        "| summarize count_le = sum(increase) by le, TimeGenerated\n"
        "| summarize total = max(count_le), points = make_list(pack('le', le, 'n', count_le)) by TimeGenerated\n"
        "| mv-expand p = points\n"
        f"| where todouble(p.n) >= {quantile} * total\n"
        "| summarize latency_seconds = min(todouble(p.le)) by TimeGenerated"
    )


def throughput(runtime: str, endpoint: str, bin_: str = "5m") -> str:
    """Requests per second per ``bin_``; column ``requests_per_second``."""
    if runtime == "azureml":
        return _aml(endpoint) + f"| summarize requests_per_second = count() / 300.0 by bin(TimeGenerated, {bin_})"
    return _prometheus(REQUESTS_TOTAL, endpoint) + (
        f"| where tostring(tags.route) !in ({_routes()})\n"
        f"| summarize increase = max(Val) - min(Val) by series = tostring(Tags), bin(TimeGenerated, {bin_})\n"
        "| summarize requests_per_second = sum(increase) / 300.0 by TimeGenerated"
    )


def error_ratio(runtime: str, endpoint: str, bin_: str = "5m") -> str:
    """Share of 5xx responses per ``bin_``; column ``error_ratio``."""
    if runtime == "azureml":
        return _aml(endpoint) + (
            # ResponseCode is an int in this table (a string operator on it is Kusto error KS106).
            "| summarize errors = countif(ResponseCode >= 500 and ResponseCode < 600), total = count() "
            f"by bin(TimeGenerated, {bin_})\n"
            "| extend error_ratio = iff(total == 0, 0.0, todouble(errors) / total)"
        )
    return _prometheus(REQUESTS_TOTAL, endpoint) + (
        f"| where tostring(tags.route) !in ({_routes()})\n"
        "| extend server_error = tostring(tags.status) startswith \"5\"\n"
        f"| summarize increase = max(Val) - min(Val) by series = tostring(Tags), server_error, bin(TimeGenerated, {bin_})\n"
        "| summarize errors = sumif(increase, server_error), total = sum(increase) by TimeGenerated\n"
        "| extend error_ratio = iff(total == 0, 0.0, errors / total)"
    )


MODEL_LOADED = METRICS["model_loaded"]


def model_loaded(endpoint: str, bin_: str = "10m") -> str:
    """``kubernetes`` runtime: the lowest ``serving_model_loaded`` per ``bin_`` (0 while the
    endpoint is awaiting its first model); column ``model_loaded``."""
    return _prometheus(MODEL_LOADED, endpoint) + f"| summarize model_loaded = min(Val) by bin(TimeGenerated, {bin_})"


def drift_p_value(runtime: str, endpoint: str, bin_: str = "10m") -> str:
    """Lowest drift p-value per feature per ``bin_``; columns ``feature``, ``p_value``."""
    if runtime == "azureml":
        return (
            "AppMetrics\n"
            f'| where Name == "{DRIFT_P_VALUE}" and tostring(Properties.endpoint) in ("", "{endpoint}")\n'
            "| extend feature = tostring(Properties.feature)\n"
            f"| summarize p_value = min(Min) by feature, bin(TimeGenerated, {bin_})"
        )
    return _prometheus(DRIFT_P_VALUE, endpoint) + (
        "| extend feature = tostring(tags.feature)\n"
        f"| summarize p_value = min(Val) by feature, bin(TimeGenerated, {bin_})"
    )
