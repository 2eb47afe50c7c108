"""Monitoring: metrics, alerts (p99 latency, 5xx rate, drift) and a dashboard for the endpoint.

local (and Kubernetes runtimes): kube-prometheus-stack as a pinned helm.v3.Release, a
ServiceMonitor for the serving pods, a PrometheusRule, a Grafana dashboard ConfigMap.
aws: KMS-encrypted CloudWatch log groups, alarms to an encrypted SNS topic, a dashboard.
azure: Log Analytics workspace, diagnostic settings, metric alerts, action group, dashboard.
"""


from typing import Any, Mapping, Optional, TypedDict

import pulumi
from typing_extensions import NotRequired

from . import common, spec
from .aws.options import AwsMonitoringOptions
from .azure.options import AzureMonitoringOptions
from .base import PlatformComponent, Settings, declared_outputs, with_defaults


class MonitoringArgs(TypedDict):
    """Arguments of :class:`Monitoring`."""

    target: str
    """``local`` | ``aws`` | ``azure``."""
    endpoint_name: pulumi.Input[str]
    """What to watch (pass ``endpoint.endpoint_name``)."""
    runtime: NotRequired[str]
    """The InferenceEndpoint's runtime being watched (pass the same value): ``kubernetes``
    (default: the in-cluster Prometheus stack, or Container Insights on AKS), ``sagemaker``
    (CloudWatch) or ``azureml`` (the endpoint's platform metrics and logs). Table:
    components/targets.py RUNTIMES."""
    namespace: NotRequired[pulumi.Input[str]]
    """Kubernetes namespace of the serving pods (pass ``cluster.namespace``)."""
    latency_p99_seconds: NotRequired[float]
    """Alert when p99 latency stays above this for 10 minutes (default 0.25 s)."""
    error_rate: NotRequired[float]
    """Alert when the 5xx share of requests stays above this for 10 minutes (default 0.02)."""
    drift_p_value: NotRequired[float]
    """Alert when any feature's drift p-value stays below this for 30 minutes (default 0.01)."""
    retention_days: NotRequired[int]
    """Metrics / log retention (default 7 days; prod sets more)."""
    chart_path: NotRequired[str]
    """Kubernetes runtimes: a local kube-prometheus-stack chart directory at the pinned version
    (default empty: the chart's Helm repository)."""
    alert_email: NotRequired[str]
    """Where alerts go (optional). local: Alertmanager mails it through ``alert_smtp_smarthost``."""
    alert_smtp_smarthost: NotRequired[str]
    """local only: ``host:port`` of the SMTP relay Alertmanager sends through (required with
    ``alert_email`` on local)."""
    alert_smtp_from: NotRequired[str]
    """local only: sender address of alert mail (default: ``alert_email``)."""
    environment: NotRequired[str]
    """``dev`` | ``staging`` | ``prod`` (default ``dev``)."""
    protect_data: NotRequired[bool]
    """Protect log stores from deletion (default false)."""
    tags: NotRequired[Mapping[str, str]]
    """Tags/labels for every child."""
    aws: NotRequired[AwsMonitoringOptions]
    """aws-only options."""
    azure: NotRequired[AzureMonitoringOptions]
    """azure-only options."""


#: The per-target options blocks, each declared once (components/spec.py).
OPTIONS = {"aws": AwsMonitoringOptions, "azure": AzureMonitoringOptions}

DEFAULTS: dict[str, Any] = {
    "target": None,
    "endpoint_name": None,
    "runtime": "kubernetes",
    "namespace": "mlops",
    "latency_p99_seconds": 0.25,
    "error_rate": 0.02,
    "drift_p_value": 0.01,
    "retention_days": 7,
    "chart_path": "",
    "alert_email": "",
    "alert_smtp_smarthost": "",
    "alert_smtp_from": "",
    "environment": "dev",
    "protect_data": False,
    "tags": {},
    "aws": {},
    "azure": {},
}


def check_local_chart(path: str) -> None:
    """A local chart must be kube-prometheus-stack at the pinned version (one line otherwise)."""
    from pathlib import Path

    import yaml

    from .base import require
    from .kubernetes.monitoring import CHART, CHART_VERSION

    allowed = f"a directory holding the {CHART} chart {CHART_VERSION} (its Chart.yaml)"
    chart_yaml = Path(path) / "Chart.yaml"
    require(chart_yaml.is_file(), "chart_path", path, allowed)
    try:
        meta = yaml.safe_load(chart_yaml.read_text()) or {}
    except yaml.YAMLError:
        meta = {}
    found = (meta.get("name"), str(meta.get("version")))
    require(found == (CHART, CHART_VERSION), "chart_path", f"{path} ({found[0]} {found[1]})", allowed)


def resolve_monitoring_args(args: Mapping[str, Any]) -> Settings:
    """Apply defaults and validate; raises ArgsError with one line naming the key."""
    merged = with_defaults(args, DEFAULTS)
    common.check_target(merged["target"])
    spec.resolve_blocks(merged, OPTIONS)
    common.check_environment(merged["environment"])
    common.check_runtime(merged["target"], merged["runtime"])
    common.check_number("latency_p99_seconds", merged["latency_p99_seconds"], 0.001, 60.0)
    common.check_number("error_rate", merged["error_rate"], 0.0001, 1.0)
    common.check_number("drift_p_value", merged["drift_p_value"], 1e-12, 0.5)
    common.check_int("retention_days", merged["retention_days"], 1, 3653)
    if merged["chart_path"]:
        check_local_chart(merged["chart_path"])
    return Settings(merged)


class MonitoringOutputs(TypedDict):
    """What a Monitoring backend returns (checked by components/base.py)."""

    dashboard_url: pulumi.Input[str]
    alert_target: pulumi.Input[str]
    prometheus_url: NotRequired[pulumi.Input[str]]
    cloudwatch_namespace: NotRequired[str]
    log_analytics_workspace_id: NotRequired[pulumi.Input[str]]


class Monitoring(PlatformComponent):
    """Metrics, alerts and dashboard (type token ``mlops:index:Monitoring``)."""

    CONCERN = "monitoring"
    ONLY_ON = {"prometheus_url": ("local", "aws/kubernetes"), "cloudwatch_namespace": ("aws/sagemaker",),
               "log_analytics_workspace_id": ("azure",)}
    OUTPUTS = declared_outputs(MonitoringOutputs, ONLY_ON)

    dashboard_url: pulumi.Output[str]
    """Grafana / CloudWatch / Azure dashboard link."""
    alert_target: pulumi.Output[str]
    """Where alerts go: Alertmanager service, SNS topic ARN, or action group id."""
    prometheus_url: Optional[pulumi.Output[str]]
    """The in-cluster Prometheus query URL (local, and aws with runtime kubernetes)."""
    cloudwatch_namespace: Optional[pulumi.Output[str]]
    """aws with runtime sagemaker: the CloudWatch namespace of the endpoint's metrics."""
    log_analytics_workspace_id: Optional[pulumi.Output[str]]
    """azure: the Log Analytics workspace the alerts query."""

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        self._setup(name, args, resolve_monitoring_args, opts)
