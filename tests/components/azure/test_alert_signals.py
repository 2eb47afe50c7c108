"""Every Azure alert watches a signal something really emits, over a path that reaches Azure
Monitor. Every alert resource in the plan (every type under ``monitor:``/``alertsmanagement:``),
in every serving-runtime variant of prod-azure, is mapped to its emitter; an alert that reads
anything the map cannot trace to an emitter fails the test, so an alert added later is covered
as soon as it exists.

* ``InsightsMetrics`` / ``Namespace == "prometheus"``: the serving app's own ``/metrics``, read
  from the **running app** (a real model, a real request, a real drift check) so every series
  and label the query names must really be exported. Path: the Container Insights agent
  replica set (``ama-logs-rs`` in ``kube-system``) scrapes the serving Service named in its
  ConfigMap and keeps the series (``fieldpass``); the namespace's NetworkPolicies (evaluated as
  Kubernetes does) let it reach the serving port; a Data Collection Rule with the
  ``Microsoft-InsightsMetrics`` stream is associated with the cluster.
* ``AmlOnlineEndpoint*Log``: written by the AML platform itself; path: the endpoint's diagnostic
  setting carries that category to the Log Analytics workspace the alert reads.
* a platform metric of an AML online endpoint: one Microsoft documents for the namespace
  (cited below), on the endpoint.
* an Application Insights table (``App*``) or a custom metric: a module of ours that talks to
  Azure Monitor (an exporter / ingestion client) must name the metric; path: it runs in the
  workspace managed network (AzureMonitor is a required outbound service tag) and Application
  Insights writes to the workspace the alert reads. The serving image carries no such exporter,
  so today nothing emits there and no alert reads it (docs/azure.md, "Monitoring").
"""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import of_type, one

STACK = "prod-azure"
VARIANTS = {"azureml": {}, "kubernetes": {"servingRuntime": "kubernetes"}}
ROOT = Path(__file__).resolve().parents[3]
#: Alert resource types of pulumi-azure-native; any other type under these modules is unknown to
#: the map and fails the test until it is mapped.
ALERT_MODULES = ("azure-native:monitor:", "azure-native:alertsmanagement:", "azure-native:insights:")
NOT_ALERTS = {"ActionGroup", "DiagnosticSetting", "DataCollectionRule", "DataCollectionRuleAssociation",
              "DataCollectionEndpoint", "AutoscaleSetting", "Workbook", "Component"}
#: The Container Insights replica set that runs cluster-level Prometheus scraping
#: (kubernetes_services in container-azm-ms-agentconfig): namespace and pod labels.
SCRAPER = ("kube-system", {"rsName": "ama-logs-rs", "kubernetes.azure.com/managedby": "aks"})
#: Platform metrics Microsoft documents per namespace (learn.microsoft.com/azure/azure-monitor/
#: reference/supported-metrics/microsoft-machinelearningservices-workspaces-onlineendpoints-metrics).
PLATFORM_METRICS = {
    "Microsoft.MachineLearningServices/workspaces/onlineEndpoints": {
        "ConnectionsActive", "DataCollectionErrorsPerMinute", "DataCollectionEventsPerMinute", "NetworkBytes",
        "NewConnectionsPerSecond", "RequestLatency", "RequestLatency_P50", "RequestLatency_P90", "RequestLatency_P95",
        "RequestLatency_P99", "RequestsPerMinute",
    },
}
#: What makes a module of ours an Azure Monitor emitter (an exporter or ingestion client).
AZURE_MONITOR_CLIENTS = ("azure.monitor", "opentelemetry", "applicationinsights", "opencensus", "monitoring.azure.com")
EMITTER_PACKAGES = ("ml", "serving", "contract")


@pytest.fixture(scope="module")
def served_metrics(tmp_path_factory) -> dict[str, set[str]]:
    """Sample name -> label names from the running serving app's /metrics (a real model, one
    scored request, a completed drift check, a 503 and a probe)."""
    from serving.app import create_app
    from tests.serving import models
    from tests.serving.conftest import reference_of, served, settings_for, wait_until
    from tests.serving.models import iris_data

    model_dir = models.save("iris", tmp_path_factory.mktemp("models") / "iris")
    app = create_app(settings_for(model_dir, drift_reference_path=reference_of(model_dir), drift_interval_s=0.1))
    with served(app) as client:
        x, _ = iris_data()
        assert client.post("/predict", json=x.head(40).to_dict(orient="records")).status_code == 200
        assert client.post("/predict", content=b"{", headers={"content-type": "application/json"}).status_code >= 400
        assert wait_until(lambda: client.get("/drift/status").json()["report"] is not None, timeout=60)
        text = client.get("/metrics").text
    return exported(text)


def exported(text: str) -> dict[str, set[str]]:
    samples: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, set()).update(sample.labels)
    return samples


def _matches(selector: dict | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return True
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        present, value = expr["key"] in labels, labels.get(expr["key"])
        ok = {"In": present and value in expr.get("values", []), "NotIn": not present or value not in expr.get("values", []),
              "Exists": present, "DoesNotExist": not present}[expr["operator"]]
        if not ok:
            return False
    return True


def ingress_allowed(policies, namespace: str, pod: dict[str, str], source: tuple[str, dict[str, str]], port: int) -> bool:
    """Kubernetes NetworkPolicy semantics for ingress to ``pod`` in ``namespace`` from ``source``."""
    src_ns, src_labels = source
    selecting = [p for p in policies if (p["inputs"]["metadata"].get("namespace") == namespace
                                         and "Ingress" in p["inputs"]["spec"].get("policyTypes", ["Ingress"])
                                         and _matches(p["inputs"]["spec"].get("podSelector") or {}, pod))]
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["inputs"]["spec"].get("ingress") or []:
            ports = rule.get("ports")
            if ports and not any(int(p.get("port", port)) == port for p in ports):
                continue
            peers = rule.get("from")
            if not peers:
                return True
            for peer in peers:
                ns_sel, pod_sel = peer.get("namespaceSelector"), peer.get("podSelector")
                if "ipBlock" in peer:
                    continue
                ns_ok = (src_ns == namespace) if ns_sel is None else _matches(ns_sel, {"kubernetes.io/metadata.name": src_ns})
                if ns_ok and _matches(pod_sel or {}, src_labels):
                    return True
    return False



def alerts(resources) -> list[tuple[str, str, str, dict]]:
    """(alert, kind, what it reads, the alert's inputs) for every alert resource in the plan."""
    found = []
    for r in resources:
        module = next((m for m in ALERT_MODULES if r["type"].startswith(m)), None)
        if module is None or r["type"][len(module):] in NOT_ALERTS:
            continue
        kind = r["type"][len(module):]
        if kind == "ScheduledQueryRule":
            for condition in r["inputs"]["criteria"]["allOf"]:
                found.append((r["name"], "log", condition["query"], r["inputs"]))
        elif kind == "MetricAlert":
            for criterion in r["inputs"]["criteria"]["allOf"]:
                found.append((r["name"], "metric", f"{criterion.get('metricNamespace', '')}:{criterion['metricName']}", r["inputs"]))
        else:
            found.append((r["name"], kind, "", r["inputs"]))
    return found


def _query_metrics(query: str) -> list[str]:
    names = re.findall(r'\bName\s*==\s*"([^"]+)"', query)
    for group in re.findall(r"\bName\s+in\s*\(([^)]*)\)", query):
        names += re.findall(r'"([^"]+)"', group)
    return names


def azure_monitor_emitters() -> dict[str, set[str]]:
    """Module -> string constants it names, for every module of ours that uses an Azure Monitor
    exporter or ingestion client (imports and literal names both count)."""
    found: dict[str, set[str]] = {}
    for package in EMITTER_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            source = path.read_text()
            tree = ast.parse(source)
            imported = {n.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                        for n in node.names} | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
            literals = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
            if any(client in name for name in imported | literals for client in AZURE_MONITOR_CLIENTS):
                found[str(path.relative_to(ROOT))] = literals | constants_of(imported)
    return found


def constants_of(imported: set[str]) -> set[str]:
    """String values of the contract constants a module imports (METRICS and the like)."""
    import contract.serving as contract

    values: set[str] = set()
    for name in imported:
        value = getattr(contract, name, None)
        if isinstance(value, str):
            values.add(value)
        elif isinstance(value, dict):
            values |= {v for v in value.values() if isinstance(v, str)}
    return values


def emitter_problems(resources, samples: dict[str, set[str]]) -> list[str]:
    problems = []
    policies = of_type(resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    logs_workspace = one(resources, "azure-native:operationalinsights:Workspace", "network-logs")["inputs"]["workspaceName"]
    endpoint_diagnostics = [d for d in of_type(resources, "azure-native:monitor:DiagnosticSetting")
                            if d["inputs"]["resourceUri"] == "serving-endpoint"]
    endpoint_logs = {log.get("category") or log.get("categoryGroup") for d in endpoint_diagnostics
                     if d["inputs"]["workspaceId"].endswith(f"/workspaces/{logs_workspace}") for log in d["inputs"].get("logs") or []}
    dcr_streams = {s for r in of_type(resources, "azure-native:monitor:DataCollectionRule")
                   for flow in r["inputs"].get("dataFlows") or [] for s in flow.get("streams") or []}
    associated = of_type(resources, "azure-native:monitor:DataCollectionRuleAssociation")
    agent_config = [c for c in of_type(resources, "kubernetes:core/v1:ConfigMap")
                    if c["inputs"]["metadata"]["name"] == "container-azm-ms-agentconfig"]
    scrape = "\n".join(c["inputs"]["data"].get("prometheus-data-collection-settings", "") for c in agent_config)
    emitters = None
    for name, kind, what, rule in alerts(resources):
        if kind == "metric":
            namespace, metric = what.split(":", 1)
            if namespace in PLATFORM_METRICS:
                if metric not in PLATFORM_METRICS[namespace]:
                    problems.append(f"{name}: {metric} is not a documented {namespace} metric")
                continue
            emitters = emitters if emitters is not None else azure_monitor_emitters()
            if not any({namespace, metric.removeprefix("customMetrics/")} <= names or metric in names for names in emitters.values()):
                problems.append(f"{name}: nothing of ours publishes custom metric {namespace}:{metric} to Azure Monitor")
            problems += managed_network_path(resources, name)
            continue
        if kind != "log":
            problems.append(f"{name}: alert type {kind} is not in the alert -> emitter map")
            continue
        if not any(scope.endswith(f"/workspaces/{logs_workspace}") for scope in rule["scopes"]):
            problems.append(f"{name}: reads a workspace other than the landing zone's Log Analytics")
        table = what.split("\n", 1)[0].split("|", 1)[0].strip()
        if table == "InsightsMetrics":
            deployment = one_deployment(resources)
            namespace = deployment["inputs"]["metadata"]["namespace"]
            labels = deployment["inputs"]["spec"]["template"]["metadata"]["labels"]
            port = int(deployment["inputs"]["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"])
            for metric in _query_metrics(what) or ["<no Name filter>"]:
                if metric not in samples:
                    problems.append(f"{name}: the serving app's /metrics has no {metric}")
                elif f'"{metric}"' not in scrape:
                    problems.append(f"{name}: the agent's scrape config does not keep {metric}")
                for label in re.findall(r"tags\.([a-z_]+)", what):
                    if label not in ("le", "service") and label not in samples.get(metric, set()):
                        problems.append(f"{name}: {metric} has no label {label}")
            if f".{namespace}.svc.cluster.local" not in scrape:
                problems.append(f"{name}: the agent does not scrape a Service in {namespace}")
            if not ingress_allowed(policies, namespace, labels, SCRAPER, port):
                problems.append(f"{name}: NetworkPolicy blocks {SCRAPER[0]}/{SCRAPER[1]['rsName']} -> serving:{port}")
            if "Microsoft-InsightsMetrics" not in dcr_streams or not associated:
                problems.append(f"{name}: no Data Collection Rule with Microsoft-InsightsMetrics associated with the cluster")
        elif table.startswith("AmlOnlineEndpoint"):
            if table not in endpoint_logs and "allLogs" not in endpoint_logs:
                problems.append(f"{name}: the endpoint's diagnostic setting does not send {table} to the alert's workspace")
        elif table.startswith("App"):
            emitters = emitters if emitters is not None else azure_monitor_emitters()
            for metric in _query_metrics(what) or ["<no Name filter>"]:
                if not any(metric in names for names in emitters.values()):
                    problems.append(f"{name}: nothing of ours sends {metric} to Application Insights ({table})")
            insights = of_type(resources, "azure-native:applicationinsights:Component")
            if not any(c["inputs"].get("workspaceResourceId", "").endswith(f"/workspaces/{logs_workspace}") for c in insights):
                problems.append(f"{name}: no Application Insights writes {table} to the alert's workspace")
            problems += managed_network_path(resources, name)
        else:
            problems.append(f"{name}: nothing in the platform emits into {table}")
    return problems


def managed_network_path(resources, alert: str) -> list[str]:
    """An emitter in AML (job or deployment) reaches Azure Monitor only through the workspace
    managed network, whose required outbound service tags include AzureMonitor."""
    from components.azure.training import MANAGED_NETWORK_REQUIRED_SERVICE_TAGS

    (workspace,) = of_type(resources, "azure-native:machinelearningservices:Workspace")
    mode = (workspace["inputs"].get("managedNetwork") or {}).get("isolationMode")
    if mode not in ("AllowOnlyApprovedOutbound", "AllowInternetOutbound") or "AzureMonitor" not in MANAGED_NETWORK_REQUIRED_SERVICE_TAGS:
        return [f"{alert}: an AML emitter cannot reach Azure Monitor (managed network {mode!r})"]
    return []


def one_deployment(resources):
    (deployment,) = [d for d in of_type(resources, "kubernetes:apps/v1:Deployment") if d["name"] == "serving-deployment"]
    return deployment


@pytest.mark.parametrize("runtime", sorted(VARIANTS))
def test_every_alert_watches_a_signal_that_is_emitted_and_reaches_azure_monitor(capture, served_metrics, runtime):
    resources = capture(STACK, VARIANTS[runtime])
    assert len(alerts(resources)) >= 2
    assert emitter_problems(resources, served_metrics) == []


def test_the_running_app_exports_what_the_kubernetes_alerts_read(served_metrics):
    """The oracle itself: the real exporter's series, with their labels."""
    assert {"route", "method", "status"} <= served_metrics["serving_requests_total"]
    assert "le" in served_metrics["serving_request_duration_seconds_bucket"]
    assert "feature" in served_metrics["serving_drift_p_value"]
    assert "serving_model_loaded" in served_metrics


def test_the_map_reports_each_kind_of_dark_alert(capture, served_metrics):
    """Fault injection on real plans: every way an alert goes dark is reported."""
    k8s = copy.deepcopy(capture(STACK, VARIANTS["kubernetes"]))
    latency = next(r for r in k8s if r["name"] == "monitoring-latency-p99")
    latency["inputs"]["criteria"]["allOf"][0]["query"] = latency["inputs"]["criteria"]["allOf"][0]["query"].replace(
        "serving_request_duration_seconds_bucket", "serving_latency_ms_bucket")
    k8s = [r for r in k8s if r["name"] != "monitoring-allow-container-insights-scrape"]
    found = "\n".join(emitter_problems(k8s, served_metrics))
    assert "monitoring-latency-p99: the serving app's /metrics has no serving_latency_ms_bucket" in found, found
    assert "NetworkPolicy blocks kube-system/ama-logs-rs -> serving" in found, found

    aml = copy.deepcopy(capture(STACK, VARIANTS["azureml"]))
    metric = next(r for r in aml if r["type"] == "azure-native:monitor:MetricAlert")
    metric["inputs"]["criteria"]["allOf"][0]["metricName"] = "DriftPValue"
    errors = next(r for r in aml if r["name"] == "monitoring-error-ratio")
    errors["inputs"]["criteria"]["allOf"][0]["query"] = 'AppMetrics\n| where Name == "serving_drift_p_value"\n'
    aml.append({**errors, "name": "monitoring-mystery", "inputs": {**errors["inputs"], "criteria": {"allOf": [
        {"query": "ContainerLogV2\n| take 1"}]}}})
    aml.append({"type": "azure-native:monitor:ActivityLogAlert", "name": "monitoring-activity", "inputs": {}})
    for d in aml:
        if d["type"] == "azure-native:monitor:DiagnosticSetting" and d["inputs"]["resourceUri"] == "serving-endpoint":
            d["inputs"]["logs"] = []
    found = "\n".join(emitter_problems(aml, served_metrics))
    for expected in ("DriftPValue is not a documented Microsoft.MachineLearningServices/workspaces/onlineEndpoints metric",
                     "monitoring-error-ratio: nothing of ours sends serving_drift_p_value to Application Insights",
                     "monitoring-mystery: nothing in the platform emits into ContainerLogV2",
                     "monitoring-activity: alert type ActivityLogAlert is not in the alert -> emitter map"):
        assert expected in found, found


def test_the_network_policy_evaluator_follows_kubernetes_semantics():
    deny = {"inputs": {"metadata": {"namespace": "mlops"}, "spec": {"policyTypes": ["Ingress", "Egress"], "podSelector": {}}}}
    allow = {"inputs": {"metadata": {"namespace": "mlops"}, "spec": {
        "policyTypes": ["Ingress"], "podSelector": {"matchLabels": {"app": "s"}},
        "ingress": [{"ports": [{"port": 8080}], "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                                                          "podSelector": {"matchLabels": {"rsName": "ama-logs-rs"}}}]}]}}}
    assert ingress_allowed([], "mlops", {"app": "s"}, SCRAPER, 8080)
    assert not ingress_allowed([deny], "mlops", {"app": "s"}, SCRAPER, 8080)
    assert ingress_allowed([deny, allow], "mlops", {"app": "s"}, SCRAPER, 8080)
    assert not ingress_allowed([deny, allow], "mlops", {"app": "s"}, SCRAPER, 9090)
    assert not ingress_allowed([deny, allow], "mlops", {"app": "s"}, ("default", SCRAPER[1]), 8080)
