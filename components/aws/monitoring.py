"""Monitoring on AWS, by where the endpoint's request metrics live:

- ``sagemaker`` runtime: CloudWatch. The AWS/SageMaker namespace has latency percentiles,
  invocations and 5xx counts; the drift job publishes ``serving_drift_p_value`` (minimum over
  features) to :data:`DRIFT_NAMESPACE`. Alarms for p99 latency, 5xx ratio and drift notify a
  KMS-encrypted SNS topic; a dashboard has the same four panels as the local Grafana one.
- ``kubernetes`` runtime on EKS: the serving pods expose Prometheus histograms, which the
  CloudWatch agent drops (CloudWatch User Guide, "Prometheus metric type conversion by the
  CloudWatch agent"), so p99 cannot be computed in CloudWatch. The shared in-cluster stack
  (components/kubernetes/monitoring.py, unchanged) evaluates the same alert rules and serves
  the same dashboard as on Minikube, on the cluster's encrypted gp3 volumes. Its Alertmanager
  reaches people through the same kind of KMS-encrypted SNS topic (``alertEmail`` subscribed),
  publishing with SigV4 as its own EKS Pod Identity role, which may only ``sns:Publish`` there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ..kubernetes import dashboard as grafana
from ..kubernetes.alerts import DRIFT_P_VALUE, Thresholds
from ..kubernetes.monitoring import create_endpoint_monitoring, create_stack
from ..tags import kubernetes_labels
from .common import AwsContext, allow, policy_document, service_trust
from .sagemaker_endpoint import SAGEMAKER_NAMESPACE

#: Where the drift job puts its p-values (dimension ``Endpoint``).
DRIFT_NAMESPACE = "MLOpsPlatform/Serving"
PERIOD = 60
#: The drift job (``python -m ml drift-job``, window ``--window-minutes 60``) publishes one
#: verdict per run: the alarm judges each hourly point on its own, one period, one datapoint.
DRIFT_PERIOD = 3600


@dataclass(frozen=True)
class Alarm:
    role: str
    description: str
    comparison: str
    threshold: float
    evaluation_periods: int
    queries: list[aws.cloudwatch.MetricAlarmMetricQueryArgs]


def _metric(query_id: str, namespace: str, metric: str, stat: str, dimensions: Any, return_data: bool = False,
            period: int = PERIOD):
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query_id,
        return_data=return_data,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace=namespace, metric_name=metric, stat=stat, period=period, dimensions=dimensions
        ),
    )


def sagemaker_alarms(settings: Any, dims: Any, drift_dims: Any) -> list[Alarm]:
    """p99 latency (ModelLatency is in microseconds), 5xx ratio, minimum drift p-value."""
    return [
        Alarm("latency-p99", f"p99 model latency above {settings.latency_p99_seconds}s for 10 minutes",
              "GreaterThanThreshold", settings.latency_p99_seconds * 1_000_000, 10,
              [_metric("latency", SAGEMAKER_NAMESPACE, "ModelLatency", "p99", dims, return_data=True)]),
        Alarm("error-rate", f"5xx share of invocations above {settings.error_rate} for 10 minutes",
              "GreaterThanThreshold", settings.error_rate, 10,
              [_metric("errors", SAGEMAKER_NAMESPACE, "Invocation5XXErrors", "Sum", dims),
               _metric("invocations", SAGEMAKER_NAMESPACE, "Invocations", "Sum", dims),
               aws.cloudwatch.MetricAlarmMetricQueryArgs(
                   id="ratio", expression="IF(invocations > 0, errors / invocations, 0)",
                   label="5xx ratio", return_data=True)]),
        # One point per drift-job run (hourly): 30 one-minute periods would never all breach.
        Alarm("drift", f"the drift job's smallest adjusted p-value below {settings.drift_p_value} (hourly)",
              "LessThanThreshold", settings.drift_p_value, 1,
              [_metric("drift", DRIFT_NAMESPACE, DRIFT_P_VALUE, "Minimum", drift_dims, return_data=True,
                       period=DRIFT_PERIOD)]),
    ]


def dashboard_body(region: str, endpoint: str, variant: str, settings: Any) -> str:
    """The local Grafana panels (components/kubernetes/dashboard.py), on SageMaker metrics."""
    dims = ["EndpointName", endpoint, "VariantName", variant]

    def panel(title: str, x: int, y: int, metrics: list[list[Any]], threshold: float | None, **extra: Any) -> dict[str, Any]:
        properties: dict[str, Any] = {"title": title, "region": region, "view": "timeSeries", "period": PERIOD,
                                      "metrics": metrics, **extra}
        if threshold is not None:
            properties["annotations"] = {"horizontal": [{"label": "alert threshold", "value": threshold}]}
        return {"type": "metric", "x": x, "y": y, "width": 12, "height": 8, "properties": properties}

    return json.dumps({
        "widgets": [
            panel(grafana.LATENCY_PANEL, 0, 0, [
                [SAGEMAKER_NAMESPACE, "ModelLatency", *dims, {"stat": "p50", "label": "p50 (µs)"}],
                [SAGEMAKER_NAMESPACE, "ModelLatency", *dims, {"stat": "p99", "label": "p99 (µs)"}],
            ], settings.latency_p99_seconds * 1_000_000),
            panel(grafana.THROUGHPUT_PANEL, 12, 0, [
                [SAGEMAKER_NAMESPACE, "Invocations", *dims, {"stat": "Sum", "label": "invocations / min"}],
            ], None),
            panel(grafana.ERRORS_PANEL, 0, 8, [
                [SAGEMAKER_NAMESPACE, "Invocation5XXErrors", *dims, {"stat": "Sum", "id": "errors", "visible": False}],
                [SAGEMAKER_NAMESPACE, "Invocations", *dims, {"stat": "Sum", "id": "invocations", "visible": False}],
                [{"expression": "IF(invocations > 0, errors / invocations, 0)", "label": "5xx ratio", "id": "ratio"}],
            ], settings.error_rate),
            panel(grafana.DRIFT_PANEL, 12, 8, [
                [DRIFT_NAMESPACE, DRIFT_P_VALUE, "Endpoint", endpoint, {"stat": "Minimum", "label": "min p-value"}],
            ], settings.drift_p_value),
        ]
    }, sort_keys=True)


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    return RUNTIMES[settings.runtime](component, name, settings)


def alert_topic(ctx: AwsContext, settings: Any, publishers: list[dict[str, Any]] | None = None,
                role_publishers: pulumi.Input[list[str]] | None = None) -> tuple[aws.sns.Topic, aws.kms.Key]:
    """The KMS-encrypted alert topic, ``alertEmail`` subscribed; CloudWatch alarms of this
    account may publish, and so may ``role_publishers`` (role ARNs) through their identity."""
    key = ctx.kms_key("alerts", "Alert topic", [
        {
            "Sid": "CloudWatchAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": "*",  # key policy: this key
            "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
        }
    ])
    name = ctx.name
    topic = aws.sns.Topic(
        f"{name}-alerts",
        aws.sns.TopicArgs(name=ctx.cloud("aws", "alerts"), kms_master_key_id=key.arn, tags=ctx.tagged()),
        opts=ctx.opts(),
    )
    aws.sns.TopicPolicy(
        f"{name}-alerts-policy",
        aws.sns.TopicPolicyArgs(
            arn=topic.arn,
            policy=policy_document([{
                "Sid": "CloudWatchAlarmsOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic.arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
            }]),
        ),
        opts=ctx.opts(),
    )
    if settings.alert_email:
        aws.sns.TopicSubscription(
            f"{name}-alerts-email",
            aws.sns.TopicSubscriptionArgs(topic=topic.arn, protocol="email", endpoint=settings.alert_email),
            opts=ctx.opts(),
        )
    return topic, key


def build_cloudwatch(component: Any, name: str, settings: Any) -> dict[str, Any]:
    ctx = AwsContext(component, name, settings)
    topic, _ = alert_topic(ctx, settings)
    if ctx.options["variant_name"] is None:
        ctx.fail("aws.variant_name", None, "the endpoint's production variant: pass endpoint.sagemaker_variant_name")
    variant = pulumi.Output.from_input(ctx.options["variant_name"])
    endpoint = pulumi.Output.from_input(settings.endpoint_name)
    dims = pulumi.Output.all(endpoint, variant).apply(lambda a: {"EndpointName": a[0], "VariantName": a[1]})
    drift_dims = endpoint.apply(lambda e: {"Endpoint": e})
    for alarm in sagemaker_alarms(settings, dims, drift_dims):
        aws.cloudwatch.MetricAlarm(
            f"{name}-{alarm.role}",
            aws.cloudwatch.MetricAlarmArgs(
                name=ctx.cloud("aws", alarm.role),
                alarm_description=alarm.description,
                comparison_operator=alarm.comparison,
                threshold=alarm.threshold,
                evaluation_periods=alarm.evaluation_periods,
                datapoints_to_alarm=alarm.evaluation_periods,
                metric_queries=alarm.queries,
                treat_missing_data="notBreaching",
                alarm_actions=[topic.arn],
                ok_actions=[topic.arn],
                tags=ctx.tagged(),
            ),
            opts=ctx.opts(),
        )
    dashboard_name = ctx.cloud("aws", "serving")
    aws.cloudwatch.Dashboard(
        f"{name}-dashboard",
        aws.cloudwatch.DashboardArgs(
            dashboard_name=dashboard_name,
            dashboard_body=pulumi.Output.all(endpoint, variant).apply(lambda a: dashboard_body(ctx.region, a[0], a[1], settings)),
        ),
        opts=ctx.opts(),
    )
    return {
        "dashboard_url": f"https://{ctx.region}.console.aws.amazon.com/cloudwatch/home?region={ctx.region}#dashboards/dashboard/{dashboard_name}",
        "alert_target": topic.arn,
        "cloudwatch_namespace": SAGEMAKER_NAMESPACE,
    }


def build_in_cluster(component: Any, name: str, settings: Any) -> dict[str, Any]:
    labels = kubernetes_labels(settings.tags)
    ctx = AwsContext(component, name, settings)
    stack = create_stack(name, settings.namespace, settings.retention_days, labels, component,
                         protect=settings.protect_data, chart_path=settings.chart_path,
                         alert_receivers=_sns_receivers(ctx))
    topic = _alertmanager_sns(ctx, settings, stack, labels, component)
    endpoint = create_endpoint_monitoring(
        name, settings.namespace, settings.endpoint_name,
        Thresholds(latency_p99_seconds=settings.latency_p99_seconds, error_rate=settings.error_rate,
                   drift_p_value=settings.drift_p_value),
        labels, component, depends_on=[stack.release],
    )
    return {
        "dashboard_url": pulumi.Output.all(stack.grafana_url, endpoint.dashboard_uid).apply(lambda a: f"{a[0]}/d/{a[1]}"),
        "alert_target": topic.arn,
        "prometheus_url": stack.prometheus_url,
    }


def sns_receiver(topic_arn: pulumi.Input[str], region: str) -> dict[str, Any]:
    """The Alertmanager receiver for this topic (components/kubernetes/alerting.py's shape)."""
    return {"kind": "sns", "topic_arn": topic_arn, "region": region}


def _sns_receivers(ctx: AwsContext) -> list[dict[str, Any]]:
    """Alertmanager's receiver for the alert topic. Alertmanager's config is plain data checked
    when the chart values are built, so the topic ARN is built from the names the topic is
    created with (its name is :meth:`AwsContext.cloud`) in the stack's account: ``awsAccountId``
    when set, else the caller's own account (``sts:GetCallerIdentity`` through this component's
    provider, a direct invoke that returns plain data). Every alert then reaches the topic."""
    account = ctx.options["account_id"] or caller_account(ctx)
    return [sns_receiver(f"arn:{ctx.partition_name}:sns:{ctx.region}:{account}:{ctx.cloud('aws', 'alerts')}", ctx.region)]


def caller_account(ctx: AwsContext) -> str:
    """The account the stack's credentials are in (the provider refuses any other when
    ``awsAccountId`` is set, so both agree whenever both exist)."""
    return str(aws.get_caller_identity(opts=ctx.invoke_opts()).account_id)


def _alertmanager_sns(ctx: AwsContext, settings: Any, stack: Any, labels: dict[str, str], component: Any) -> aws.sns.Topic:
    """SNS topic + the Alertmanager's Pod Identity role (sns:Publish on it, its key), and the
    egress Alertmanager needs through its namespace's default-deny: HTTPS to SNS, the agent."""
    import pulumi_kubernetes as k8s

    from .cluster import POD_IDENTITY_AGENT, POD_IDENTITY_PORT, POD_IDENTITY_TRUST_ACTIONS

    role = ctx.role("alertmanager", service_trust(["pods.eks.amazonaws.com"], POD_IDENTITY_TRUST_ACTIONS),
                    "Alertmanager (EKS Pod Identity): publish alerts to the alert topic only")
    topic, key = alert_topic(ctx, settings)
    ctx.role_policy("alertmanager", role, [
        allow(["sns:Publish"], [topic.arn]),
        # SNS encrypts with the topic's key on the publisher's behalf.
        allow(["kms:GenerateDataKey", "kms:Decrypt"], [key.arn]),
    ])
    service_account = stack.names.service("alertmanager")
    cluster_name = ctx.options["cluster_name"]
    if cluster_name:
        aws.eks.PodIdentityAssociation(
            f"{ctx.name}-alertmanager-identity",
            aws.eks.PodIdentityAssociationArgs(cluster_name=cluster_name, namespace=stack.namespace_name,
                                               service_account=service_account, role_arn=role.arn, tags=ctx.tagged()),
            opts=ctx.opts(),
        )
    k8s.networking.v1.NetworkPolicy(
        f"{ctx.name}-alertmanager-sns-egress",
        metadata=k8s.meta.v1.ObjectMetaArgs(name="alertmanager-to-sns", namespace=stack.namespace_name, labels=labels),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"app.kubernetes.io/name": "alertmanager"}),
            policy_types=["Egress"],
            egress=[
                k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                    ports=[k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=443)]),
                k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                    to=[k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr=p["cidr"]))
                        for p in POD_IDENTITY_AGENT],
                    ports=[k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=POD_IDENTITY_PORT)]),
            ],
        ),
        opts=pulumi.ResourceOptions(parent=component),
    )
    return topic


RUNTIMES: dict[str, Callable[[Any, str, Any], dict[str, Any]]] = {
    "sagemaker": build_cloudwatch,
    "kubernetes": build_in_cluster,
}
