"""Monitoring on Azure: alerts on p99 latency, 5xx ratio and drift, an action group, a workbook.

Where the logs come from: the landing zone's Log Analytics workspace (components/azure/network.py,
retention from ``logRetentionDays``) receives the diagnostic settings each backend declares next
to the resource it owns (AKS control plane, ACR, AML workspace, Key Vault, storage, online
endpoint, VNet), as the EKS control-plane logs live with the aws Cluster. The workspace has to
exist before the cluster (the monitoring add-on writes to it), which is before Monitoring.

This backend adds, for the endpoint it watches:

* an action group (e-mail to ``alert_email`` when set);
* ``runtime: azureml``: a metric alert on the endpoint's platform metric ``RequestLatency_P99``;
  ``runtime: kubernetes``: the same threshold as a log alert over the scraped histogram, and the
  Container Insights agent config that scrapes the serving Service's ``/metrics``;
* log alerts (scheduled query rules) on the 5xx *ratio* (a metric alert cannot divide) and on the
  lowest drift p-value, each evaluated on the same query as its workbook panel
  (components/azure/queries.py);
* a workbook with the local Grafana dashboard's four panels.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_azure_native.applicationinsights as appinsights
import pulumi_azure_native.monitor as monitor
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.networking.v1 as networking

from contract.serving import METRICS_PATH
from ..kubernetes.tenancy import SERVING_PORT

from ..naming import cloud_name
from ..tags import kubernetes_labels
from . import queries
from .common import arm_id, deterministic_guid, name as cloud, opts, placement, unique

#: What the agent keeps from the serving pods' /metrics: the series the queries read.
SCRAPED_METRICS = (queries.REQUESTS_TOTAL, queries.REQUEST_DURATION_BUCKET, queries.DRIFT_P_VALUE, queries.DRIFT_DETECTED,
                   queries.MODEL_LOADED)

#: Container Insights reads its settings from this ConfigMap (kube-system).
AGENT_CONFIGMAP = "container-azm-ms-agentconfig"
#: The Container Insights replica set that runs the cluster-level Prometheus scrape.
SCRAPER_NAMESPACE = "kube-system"
SCRAPER_LABELS = {"rsName": "ama-logs-rs"}
#: Serving pods (components/kubernetes/serving.py labels) and their metrics port.
SERVING_POD_LABELS = {"app.kubernetes.io/name": "serving"}


def workbook_json(runtime: str, endpoint: str, workspace_id: str, thresholds: dict[str, float]) -> str:
    """Serialized workbook: one time chart per panel, in the local dashboard's order."""
    panels = [
        (queries.LATENCY, "\n".join([
            queries.latency_quantile(runtime, endpoint, 0.5) + ' | extend quantile = "p50"',
            "| union (",
            queries.latency_quantile(runtime, endpoint, 0.99) + ' | extend quantile = "p99"',
            ")",
        ])),
        (queries.THROUGHPUT, queries.throughput(runtime, endpoint)),
        (queries.ERRORS, queries.error_ratio(runtime, endpoint)),
        (queries.DRIFT, queries.drift_p_value(runtime, endpoint)),
    ]
    items = [
        {
            "type": 3,
            "name": title,
            "content": {
                "version": "KqlItem/1.0",
                "title": title,
                "query": query,
                "queryType": 0,
                "resourceType": "microsoft.operationalinsights/workspaces",
                "visualization": "timechart",
                "size": 0,
            },
        }
        for title, query in panels
    ]
    items.insert(0, {"type": 1, "name": "thresholds", "content": {"json": (
        f"Alerts: p99 latency > {thresholds['latency']} s, 5xx ratio > {thresholds['errors']}, "
        f"drift p-value < {thresholds['drift']}."
    )}})
    return json.dumps({
        "version": "Notebook/1.0",
        "items": items,
        "fallbackResourceIds": [workspace_id],
        "$schema": "https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json",
    })


def scrape_settings(service_url: str) -> str:
    """The agent's Prometheus section: scrape the serving Service every minute."""
    return (
        "[prometheus_data_collection_settings.cluster]\n"
        '    interval = "1m"\n'
        f'    kubernetes_services = ["{service_url}"]\n'
        f"    fieldpass = {json.dumps(list(SCRAPED_METRICS))}\n"
    )


# Operators: the SDK's ConditionOperator enum carries another API's values ("gt", "lt"); the
# scheduled query rule API takes "GreaterThan"/"LessThan", which monitor.Operator holds.
def _log_alert(component: Any, logical: str, where: Any, workspace: Any, group: Any, *, query: Any,
               measure: str, aggregation: monitor.TimeAggregation, operator: monitor.Operator,
               threshold: float, window: str, periods: int, severity: int, description: str) -> monitor.ScheduledQueryRule:
    return monitor.ScheduledQueryRule(
        logical,
        monitor.ScheduledQueryRuleArgs(
            resource_group_name=where.resource_group,
            rule_name=cloud("azure_resource", logical),
            location=where.location,
            kind=monitor.Kind.LOG_ALERT,
            description=description,
            display_name=logical,
            enabled=True,
            scopes=[workspace],
            severity=severity,
            evaluation_frequency=window,
            window_size=window,
            criteria=monitor.ScheduledQueryRuleCriteriaArgs(all_of=[
                monitor.ConditionArgs(
                    query=query,
                    time_aggregation=aggregation,
                    metric_measure_column=measure,
                    operator=operator,
                    threshold=threshold,
                    failing_periods=monitor.ConditionFailingPeriodsArgs(
                        number_of_evaluation_periods=periods, min_failing_periods_to_alert=periods
                    ),
                )
            ]),
            actions=monitor.ActionsArgs(action_groups=[group.id]),
            auto_mitigate=True,
            # On a fresh platform the tables (InsightsMetrics, AmlOnlineEndpointTrafficLog) only
            # appear with their first rows; Azure refuses a rule over a missing table unless
            # validation is skipped. The queries are compiled offline instead
            # (tests/components/azure/test_kql.py, Microsoft's Kusto analyzer).
            skip_query_validation=True,
            tags=where.tags,
        ),
        opts=opts(component),
    )


#: The runtimes this backend watches (the table is components/targets.py RUNTIMES); one build
#: function, branching on the runtime where the two read different tables.
RUNTIMES = ("kubernetes", "azureml")


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    options = settings.azure  # resolved: every option present (components/spec.py)
    runtime = settings.runtime
    endpoint = pulumi.Output.from_input(settings.endpoint_name)
    where = placement(component, settings, anchor=pulumi.Output.all(endpoint, options["network_id"]))
    workspace = where.log_workspace_id
    project, stack = unique()

    group = monitor.ActionGroup(
        f"{name}-actions",
        monitor.ActionGroupInitArgs(
            resource_group_name=where.resource_group,
            action_group_name=cloud("azure_resource", name, "actions"),
            group_short_name=cloud_name("azure_action_group_short", "mlops", stack),
            location="global",
            enabled=True,
            email_receivers=[
                monitor.MicrosoftCommonEmailReceiverArgs(
                    name="platform-oncall", email_address=settings.alert_email, use_common_alert_schema=True
                )
            ] if settings.alert_email else None,
            tags=where.tags,
        ),
        opts=opts(component),
    )

    # Evaluation windows; window x failing periods = the alert's 10 and 30 minutes.
    window_5m, window_10m = "PT5M", "PT10M"
    if runtime == "azureml":
        endpoint_id = pulumi.Output.all(where.subscription_id, where.resource_group, options["workspace_name"], endpoint).apply(
            lambda a: arm_id(a[0], a[1], "Microsoft.MachineLearningServices/workspaces", a[2], "onlineEndpoints", a[3])
        )
        monitor.MetricAlert(
            f"{name}-latency-p99",
            monitor.MetricAlertArgs(
                resource_group_name=where.resource_group,
                rule_name=cloud("azure_resource", name, "latency-p99"),
                location="global",
                description=f"p99 latency above {settings.latency_p99_seconds} s for 10 minutes",
                enabled=True,
                scopes=[endpoint_id],
                severity=2,
                evaluation_frequency="PT1M",
                window_size="PT10M",
                criteria=monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                    odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                    all_of=[monitor.MetricCriteriaArgs(
                        criterion_type="StaticThresholdCriterion",
                        name="p99",
                        metric_namespace="Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
                        metric_name="RequestLatency_P99",
                        operator=monitor.Operator.GREATER_THAN,
                        threshold=settings.latency_p99_seconds * 1000.0,
                        time_aggregation=monitor.AggregationTypeEnum.AVERAGE,
                    )],
                ),
                actions=[monitor.MetricAlertActionArgs(action_group_id=group.id)],
                auto_mitigate=True,
                tags=where.tags,
            ),
            opts=opts(component),
        )
    else:
        _log_alert(
            component, f"{name}-latency-p99", where, workspace, group,
            query=endpoint.apply(lambda e: queries.latency_quantile(runtime, e, 0.99)),
            measure="latency_seconds", aggregation=monitor.TimeAggregation.MAXIMUM,
            operator=monitor.Operator.GREATER_THAN, threshold=settings.latency_p99_seconds,
            window=window_5m, periods=2, severity=2,
            description=f"p99 latency above {settings.latency_p99_seconds} s for 10 minutes",
        )
        service_url = pulumi.Output.all(endpoint, settings.namespace).apply(
            lambda a: f"http://{a[0]}.{a[1]}.svc.cluster.local:80{METRICS_PATH}"
        )
        # The namespace denies ingress by default; let the agent's replica set scrape serving.
        networking.NetworkPolicy(
            f"{name}-allow-container-insights-scrape",
            metadata=meta.ObjectMetaArgs(name="allow-container-insights-scrape", namespace=settings.namespace,
                                         labels=kubernetes_labels(where.tags)),
            spec=networking.NetworkPolicySpecArgs(
                pod_selector=meta.LabelSelectorArgs(match_labels=SERVING_POD_LABELS),
                policy_types=["Ingress"],
                ingress=[networking.NetworkPolicyIngressRuleArgs(
                    from_=[networking.NetworkPolicyPeerArgs(
                        namespace_selector=meta.LabelSelectorArgs(match_labels={"kubernetes.io/metadata.name": SCRAPER_NAMESPACE}),
                        pod_selector=meta.LabelSelectorArgs(match_labels=SCRAPER_LABELS),
                    )],
                    ports=[networking.NetworkPolicyPortArgs(protocol="TCP", port=SERVING_PORT)],
                )],
            ),
            opts=opts(component),
        )
        _log_alert(
            component, f"{name}-awaiting-model", where, workspace, group,
            query=endpoint.apply(queries.model_loaded),
            measure="model_loaded", aggregation=monitor.TimeAggregation.MAXIMUM,
            operator=monitor.Operator.LESS_THAN, threshold=0.5,
            window=window_10m, periods=3, severity=3,
            description=f"ServingAwaitingModel: {queries.MODEL_LOADED} has been 0 for 30 minutes (no champion registered yet?)",
        )
        core.ConfigMap(
            f"{name}-scrape-config",
            metadata=meta.ObjectMetaArgs(name=AGENT_CONFIGMAP, namespace="kube-system", labels=kubernetes_labels(where.tags)),
            data={
                "schema-version": "v1",
                "config-version": "ver1",
                "prometheus-data-collection-settings": service_url.apply(scrape_settings),
            },
            opts=opts(component),
        )
    _log_alert(
        component, f"{name}-error-ratio", where, workspace, group,
        query=endpoint.apply(lambda e: queries.error_ratio(runtime, e)),
        measure="error_ratio", aggregation=monitor.TimeAggregation.MAXIMUM,
        operator=monitor.Operator.GREATER_THAN, threshold=settings.error_rate,
        window=window_5m, periods=2, severity=1,
        description=f"5xx share above {settings.error_rate} for 10 minutes",
    )
    if runtime != "azureml":
        # azureml: no drift alert. The serving app exports drift only on /metrics, which nothing
        # scrapes on a managed online endpoint (no Application Insights exporter in the image,
        # and disabled egress would block it): an alert there could never fire (docs/azure.md).
        _log_alert(
            component, f"{name}-drift", where, workspace, group,
            query=endpoint.apply(lambda e: queries.drift_p_value(runtime, e)),
            measure="p_value", aggregation=monitor.TimeAggregation.MINIMUM,
            operator=monitor.Operator.LESS_THAN, threshold=settings.drift_p_value,
            window=window_10m, periods=3, severity=3,
            description=f"a feature's drift p-value below {settings.drift_p_value} for 30 minutes",
        )

    thresholds = {"latency": settings.latency_p99_seconds, "errors": settings.error_rate, "drift": settings.drift_p_value}
    workbook = appinsights.Workbook(
        f"{name}-workbook",
        resource_group_name=where.resource_group,
        resource_name_=deterministic_guid(project, stack, name, "workbook"),
        location=where.location,
        kind=appinsights.WorkbookSharedTypeKind.SHARED,
        category="workbook",
        display_name=endpoint.apply(lambda e: f"mlops serving: {e} ({stack})"),
        # ARM reads sourceId back lowercased; declaring it so avoids a perpetual diff.
        source_id=workspace.apply(lambda w: w.lower()),
        serialized_data=pulumi.Output.all(endpoint, workspace).apply(
            lambda a: workbook_json(runtime, a[0], a[1], thresholds)
        ),
        tags=where.tags,
        opts=opts(component),
    )
    return {
        "dashboard_url": workbook.id.apply(lambda i: f"https://portal.azure.com/#resource{i}/workbook"),
        "alert_target": group.id,
        "log_analytics_workspace_id": workspace,
    }
