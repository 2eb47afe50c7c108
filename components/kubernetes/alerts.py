"""The serving endpoint's alert rules as data: one definition renders both the PrometheusRule
spec (``spec.groups``) and a plain Prometheus rules file that ``promtool`` checks and tests.

The metric and label names come from the serving contract (contract/serving.py), the one
definition the app's ``/metrics`` (serving/metrics.py) is built from too. The Grafana dashboard (dashboard.py) builds its
queries from the same expression helpers, so a panel shows exactly what an alert evaluates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import yaml
from contract.serving import FEATURE_LABEL, METRICS, NON_TRAFFIC_ROUTES, ROUTE_LABEL, STATUS_LABEL

# --- the metric contract with serving/metrics.py --------------------------------------------
#: Counter of handled requests, labels ``route`` and ``status`` (the HTTP code, e.g. "503").
REQUESTS_TOTAL = METRICS["requests"]
#: Histogram of request latency in seconds, label ``route``.
REQUEST_DURATION = METRICS["latency"]
#: Gauge: the latest drift test p-value per input feature, label ``feature``.
DRIFT_P_VALUE = METRICS["drift_p_value"]
#: Gauge: 1 while the drift check flags the live window as drifted, else 0.
DRIFT_DETECTED = METRICS["drift_detected"]
#: Gauge: 1 once a model serves, 0 while the app awaits its first champion (first-model
#: bootstrap, SERVING_READY_WITHOUT_MODEL).
MODEL_LOADED = METRICS["model_loaded"]

#: 5xx only: a 4xx is the caller's mistake, not the endpoint failing.
SERVER_ERROR_STATUS = "5.."
#: Rate window: at least four scrape intervals (the ServiceMonitor scrapes every 30 s).
RATE_WINDOW = "5m"
GROUP_NAME = "mlops-serving"

# Alert names (stable: routing, silences and runbooks key on them).
LATENCY_ALERT = "ServingLatencyP99High"
ERROR_ALERT = "ServingErrorRateHigh"
DRIFT_ALERT = "ServingFeatureDrift"
MISSING_ALERT = "ServingMetricsMissing"
AWAITING_MODEL_ALERT = "ServingAwaitingModel"


@dataclass(frozen=True)
class Scope:
    """Which series the rules look at: one endpoint's Service in one namespace (Prometheus
    attaches ``namespace`` and ``service`` to every target the ServiceMonitor finds)."""

    namespace: str
    service: str
    #: Optional regex on the ``pod`` label: the canary controller (ml.canary) reads the same
    #: expressions for the canary Deployment's pods only (``<endpoint>-canary-.*``).
    pod: str = ""

    def selector(self, *matchers: str) -> str:
        pod = [f'pod=~"{self.pod}"'] if self.pod else []
        parts = [f'namespace="{self.namespace}"', f'service="{self.service}"', *pod, *matchers]
        return "{" + ",".join(parts) + "}"


@dataclass(frozen=True)
class Thresholds:
    latency_p99_seconds: float
    error_rate: float
    drift_p_value: float


@dataclass(frozen=True)
class AlertRule:
    """One alerting rule; :meth:`to_rule` is the shape both Prometheus and the operator read."""

    name: str
    expr: str
    for_: str
    severity: str
    summary: str
    description: str

    def to_rule(self) -> dict[str, object]:
        return {
            "alert": self.name,
            "expr": self.expr,
            "for": self.for_,
            "labels": {"severity": self.severity},
            "annotations": {"summary": self.summary, "description": self.description},
        }


def _number(value: float) -> str:
    """A PromQL float literal without losing precision (``0.25``, ``1e-12``)."""
    return repr(float(value))


def _traffic() -> str:
    return f'{ROUTE_LABEL}!~"{"|".join(NON_TRAFFIC_ROUTES)}"'


def _by(labels: Sequence[str]) -> str:
    return f"by ({', '.join(labels)})"


def latency_quantile_expr(scope: Scope, quantile: float, by: Sequence[str] = ("namespace", "service")) -> str:
    """The ``quantile`` of request latency over :data:`RATE_WINDOW`, user traffic only."""
    buckets = f"{REQUEST_DURATION}_bucket{scope.selector(_traffic())}"
    return (
        f"histogram_quantile({_number(quantile)}, "
        f"sum {_by([*by, 'le'])} (rate({buckets}[{RATE_WINDOW}])))"
    )


def throughput_expr(scope: Scope, by: Sequence[str] = ("namespace", "service")) -> str:
    """Requests per second, user traffic only."""
    return f"sum {_by(by)} (rate({REQUESTS_TOTAL}{scope.selector(_traffic())}[{RATE_WINDOW}]))"


def error_ratio_expr(scope: Scope, by: Sequence[str] = ("namespace", "service")) -> str:
    """Share of user requests answered 5xx (no traffic gives no value, so no alert)."""
    server_errors = f'{STATUS_LABEL}=~"{SERVER_ERROR_STATUS}"'
    errors = f"{REQUESTS_TOTAL}{scope.selector(_traffic(), server_errors)}"
    total = f"{REQUESTS_TOTAL}{scope.selector(_traffic())}"
    return f"sum {_by(by)} (rate({errors}[{RATE_WINDOW}])) / sum {_by(by)} (rate({total}[{RATE_WINDOW}]))"


def drift_p_value_expr(scope: Scope) -> str:
    """Per feature, the lowest p-value any pod reports (one drifted pod is enough to look)."""
    return f"min by (namespace, service, {FEATURE_LABEL}) ({DRIFT_P_VALUE}{scope.selector()})"


def drift_detected_expr(scope: Scope) -> str:
    return f"max by (namespace, service) ({DRIFT_DETECTED}{scope.selector()})"


def alert_rules(scope: Scope, thresholds: Thresholds) -> list[AlertRule]:
    """The endpoint's alerts: p99 latency, 5xx ratio, drift, and metrics gone missing (without
    the last one a broken scrape would silently keep the other three from ever firing)."""
    where = "{{ $labels.namespace }}/{{ $labels.service }}"
    return [
        AlertRule(
            name=LATENCY_ALERT,
            expr=f"{latency_quantile_expr(scope, 0.99)} > {_number(thresholds.latency_p99_seconds)}",
            for_="10m",
            severity="warning",
            summary=f"p99 latency of {where} above {thresholds.latency_p99_seconds:g}s",
            description=(
                f"The 99th percentile of request latency (probes and scrapes excluded) of {where} "
                f"has stayed above {thresholds.latency_p99_seconds:g}s for 10 minutes."
            ),
        ),
        AlertRule(
            name=ERROR_ALERT,
            expr=f"({error_ratio_expr(scope)}) > {_number(thresholds.error_rate)}",
            for_="10m",
            severity="critical",
            summary=f"5xx ratio of {where} above {thresholds.error_rate:g}",
            description=(
                f"More than {thresholds.error_rate:g} of the requests to {where} have been "
                "answered with a 5xx status for 10 minutes."
            ),
        ),
        AlertRule(
            name=DRIFT_ALERT,
            expr=f"{drift_p_value_expr(scope)} < {_number(thresholds.drift_p_value)}",
            for_="30m",
            severity="warning",
            summary=f"input drift on feature {{{{ $labels.{FEATURE_LABEL} }}}} of {where}",
            description=(
                f"The drift test p-value of feature {{{{ $labels.{FEATURE_LABEL} }}}} has stayed "
                f"below {thresholds.drift_p_value:g} for 30 minutes: live inputs no longer look "
                "like the training reference. Consider retraining."
            ),
        ),
        AlertRule(
            name=AWAITING_MODEL_ALERT,
            expr=f"min by (namespace, service) ({MODEL_LOADED}{scope.selector()}) == 0",
            for_="30m",
            severity="warning",
            summary=f"{where} is Ready but serves no model",
            description=(
                f"{where} has answered `awaiting_model` for 30 minutes: its registry has no "
                "champion yet (first-model bootstrap), so /predict answers 503. Train and "
                "register a model (python -m ml train / launch)."
            ),
        ),
        AlertRule(
            name=MISSING_ALERT,
            expr=f"absent(up{scope.selector()} == 1)",
            for_="10m",
            severity="warning",
            summary=f"no metrics from {scope.namespace}/{scope.service}",
            description=(
                f"Prometheus has scraped no healthy target of {scope.namespace}/{scope.service} "
                "for 10 minutes, so the latency, error and drift alerts cannot fire. Check the "
                "pods, the ServiceMonitor and the NetworkPolicies."
            ),
        ),
    ]


def rule_groups(scope: Scope, thresholds: Thresholds) -> list[dict[str, object]]:
    return [{"name": GROUP_NAME, "rules": [rule.to_rule() for rule in alert_rules(scope, thresholds)]}]


def prometheus_rule_spec(scope: Scope, thresholds: Thresholds) -> dict[str, object]:
    """``spec`` of the monitoring.coreos.com/v1 PrometheusRule."""
    return {"groups": rule_groups(scope, thresholds)}


def rules_file(scope: Scope, thresholds: Thresholds) -> str:
    """The same rules as a Prometheus rules file (what ``promtool check rules`` reads)."""
    return yaml.safe_dump({"groups": rule_groups(scope, thresholds)}, sort_keys=False, width=1000)
