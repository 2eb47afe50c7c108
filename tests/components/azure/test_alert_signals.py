"""Every Azure alert watches a signal something really emits, over a path that reaches Azure
Monitor. Each alert in the plan (both serving runtimes) is mapped to its emitter:

* ``InsightsMetrics`` / ``Namespace == "prometheus"``: the serving app's own ``/metrics``
  (rendered here by the real exporter, serving/metrics.py) scraped by the Container Insights
  agent replica set (``ama-logs-rs`` in ``kube-system``). Path: the namespace's NetworkPolicies
  (evaluated below as Kubernetes does) must let that pod reach the serving pods' port, and a
  Data Collection Rule with the ``Microsoft-InsightsMetrics`` stream must be associated with the
  cluster (the agent with Entra auth sends nothing without one).
* ``AmlOnlineEndpoint*Log``: written by the AML platform itself, per request / per container
  line; path: the endpoint's diagnostic setting must carry that category to the workspace.
* an AML endpoint platform metric: must be one Microsoft documents for
  ``Microsoft.MachineLearningServices/workspaces/onlineEndpoints``.

``AppMetrics`` (Application Insights) has no emitter: the serving image carries no Application
Insights exporter, and disabled egress would block it anyway; an alert on it could never fire.
"""

from __future__ import annotations

import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import of_type

STACK = "prod-azure"
VARIANTS = {"azureml": {}, "kubernetes": {"servingRuntime": "kubernetes"}}
#: The Container Insights replica set that runs cluster-level Prometheus scraping
#: (kubernetes_services in container-azm-ms-agentconfig): namespace and pod labels.
SCRAPER = ("kube-system", {"rsName": "ama-logs-rs", "kubernetes.azure.com/managedby": "aks"})
#: Platform metrics of AML online endpoints (learn.microsoft.com/azure/azure-monitor/reference/
#: supported-metrics/microsoft-machinelearningservices-workspaces-onlineendpoints-metrics).
AML_ENDPOINT_METRICS = {
    "ConnectionsActive", "DataCollectionErrorsPerMinute", "DataCollectionEventsPerMinute", "NetworkBytes",
    "NewConnectionsPerSecond", "RequestLatency", "RequestLatency_P50", "RequestLatency_P90", "RequestLatency_P95",
    "RequestLatency_P99", "RequestsPerMinute",
}


def serving_samples() -> dict[str, set[str]]:
    """Sample name -> label names, from the real serving exporter after one request."""
    from serving.metrics import Metrics

    m = Metrics()
    m.requests.labels(route="/predict", method="POST", status="200").inc()
    m.latency.labels(route="/predict", method="POST").observe(0.05)
    m.drift_p_value.labels(feature="price").set(0.4)
    m.model_loaded.set(1)
    samples: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(m.render().decode()):
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


def alerts(resources) -> list[tuple[str, str, str]]:
    """(alert, kind, what it reads): log alerts with their query, metric alerts with the metric."""
    found = []
    for rule in of_type(resources, "azure-native:monitor:ScheduledQueryRule"):
        for condition in rule["inputs"]["criteria"]["allOf"]:
            found.append((rule["name"], "log", condition["query"]))
    for rule in of_type(resources, "azure-native:monitor:MetricAlert"):
        for criterion in rule["inputs"]["criteria"]["allOf"]:
            found.append((rule["name"], "metric", f"{criterion['metricNamespace']}:{criterion['metricName']}"))
    return found


def emitter_problems(resources) -> list[str]:
    problems = []
    samples = serving_samples()
    policies = of_type(resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    diagnostics = [d for d in of_type(resources, "azure-native:monitor:DiagnosticSetting")
                   if d["inputs"]["resourceUri"].endswith("serving-endpoint")]
    endpoint_logs = {log.get("category") for d in diagnostics for log in d["inputs"].get("logs") or []}
    dcr_streams = {s for r in of_type(resources, "azure-native:monitor:DataCollectionRule")
                   for flow in r["inputs"].get("dataFlows") or [] for s in flow.get("streams") or []}
    associated = of_type(resources, "azure-native:monitor:DataCollectionRuleAssociation")
    for name, kind, what in alerts(resources):
        if kind == "metric":
            namespace, metric = what.split(":")
            if namespace != "Microsoft.MachineLearningServices/workspaces/onlineEndpoints" or metric not in AML_ENDPOINT_METRICS:
                problems.append(f"{name}: {what} is not a documented AML endpoint metric")
            continue
        table = what.split("\n", 1)[0].strip()
        if table == "InsightsMetrics":
            metric = re.search(r'Name == "([a-z_]+)"', what).group(1)
            if metric not in samples:
                problems.append(f"{name}: the serving app exports no {metric}")
            for label in re.findall(r"tags\.([a-z_]+)", what):
                if label not in ("le", "service") and label not in samples.get(metric, set()):
                    problems.append(f"{name}: {metric} has no label {label}")
            deployment = one_deployment(resources)
            namespace = deployment["inputs"]["metadata"]["namespace"]
            labels = deployment["inputs"]["spec"]["template"]["metadata"]["labels"]
            port = int(deployment["inputs"]["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"])
            if not ingress_allowed(policies, namespace, labels, SCRAPER, port):
                problems.append(f"{name}: NetworkPolicy blocks {SCRAPER[0]}/{SCRAPER[1]['rsName']} -> serving:{port}")
            if "Microsoft-InsightsMetrics" not in dcr_streams or not associated:
                problems.append(f"{name}: no Data Collection Rule with Microsoft-InsightsMetrics associated with the cluster")
        elif table.startswith("AmlOnlineEndpoint"):
            if table not in endpoint_logs:
                problems.append(f"{name}: the endpoint's diagnostic setting does not send {table}")
        else:
            problems.append(f"{name}: nothing in the platform emits into {table}")
    return problems


def one_deployment(resources):
    (deployment,) = [d for d in of_type(resources, "kubernetes:apps/v1:Deployment") if d["name"] == "serving-deployment"]
    return deployment


@pytest.mark.parametrize("runtime", sorted(VARIANTS))
def test_every_alert_watches_a_signal_that_is_emitted_and_reaches_azure_monitor(capture, runtime):
    resources = capture(STACK, VARIANTS[runtime])
    assert len(alerts(resources)) >= 2
    assert emitter_problems(resources) == []


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
