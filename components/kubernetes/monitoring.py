"""Monitoring on any Kubernetes (Minikube, EKS, AKS): kube-prometheus-stack in its own
namespace, and for one serving endpoint a ServiceMonitor, a PrometheusRule and a Grafana
dashboard ConfigMap.

Layout:
- ``<platform namespace>-monitoring``: restricted Pod Security, default-deny NetworkPolicy plus
  the paths the stack needs (DNS, the Kubernetes API, traffic inside the namespace, Prometheus
  scraping pods and kubelets, the API server calling the operator's admission webhook), and the
  chart as one ``helm.v3.Release`` (``helm.v4.Chart`` renders nothing under mocks, so tests
  could not see it).
- the platform namespace (next to the serving Service): the ServiceMonitor, PrometheusRule and
  dashboard ConfigMap. The chart's selectors are opened (``*NilUsesHelmValues: false``) and the
  Grafana sidecar searches all namespaces, so these are picked up without a ``release`` label.

Node exporter and the control-plane scrapers (etcd, scheduler, controller manager, kube-proxy)
are off: node exporter needs hostNetwork/hostPID/hostPath, which the restricted namespace
refuses, and the control-plane endpoints are not reachable on Minikube, EKS or AKS, where they
would only raise TargetDown alerts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes.apiextensions as apiextensions
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.helm.v3 as helm
import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.networking.v1 as net

from ..naming import k8s_name
from . import alerts, dashboard
from .alerting import alertmanager_config
from .serving import METRICS_PATH, PORT_NAME
from .tenancy import APP, NAMESPACE_NAME_LABEL, PROMETHEUS_APP, SERVING_APP, TRAINING_APP, create_isolated_namespace

CHART = "kube-prometheus-stack"
#: Pinned: an upgrade is a reviewed change (CRDs move with it). 79.7.1 was released 2025-11-20.
CHART_VERSION = "79.7.1"
CHART_REPO = "https://prometheus-community.github.io/helm-charts"
MONITORING_API = "monitoring.coreos.com/v1"
INSTANCE = "app.kubernetes.io/instance"
PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
GRAFANA_PORT = 80
#: The operator serves its admission webhook over TLS here (prometheusOperator.tls.internalPort).
OPERATOR_WEBHOOK_PORT = 10250
KUBELET_PORT = 10250
#: Where the Kubernetes API answers after the ``kubernetes`` Service is resolved: 443 (EKS, AKS),
#: 6443 (kubeadm) or 8443 (Minikube). NetworkPolicies see the translated address and port.
API_SERVER_PORTS = (443, 6443, 8443)
SCRAPE_INTERVAL = "30s"
PROMETHEUS_STORAGE = "10Gi"
#: Below the volume size so Prometheus drops old blocks before the disk fills.
PROMETHEUS_RETENTION_SIZE = "8GB"
#: (uid, gid) per workload: the chart's own non-root defaults, stated so a chart upgrade
#: cannot silently change them.
PROMETHEUS_USER = (1000, 2000)
OPERATOR_USER = (65534, 65534)
WEBHOOK_JOB_USER = (2000, 2000)
GRAFANA_USER = (472, 472)  # the grafana image's user

def _sizes(cpu_request: str, memory_request: str, cpu_limit: str, memory_limit: str) -> dict[str, dict[str, str]]:
    return {"requests": {"cpu": cpu_request, "memory": memory_request}, "limits": {"cpu": cpu_limit, "memory": memory_limit}}


#: Requests and limits per workload (Minikube-sized; enough for one endpoint's series).
RESOURCES: dict[str, dict[str, dict[str, str]]] = {
    "prometheus": _sizes("200m", "512Mi", "1", "2Gi"),
    "alertmanager": _sizes("20m", "64Mi", "200m", "256Mi"),
    "grafana": _sizes("100m", "192Mi", "500m", "512Mi"),
    "grafana_sidecar": _sizes("20m", "64Mi", "200m", "192Mi"),
    "operator": _sizes("50m", "64Mi", "200m", "256Mi"),
    "config_reloader": _sizes("10m", "32Mi", "100m", "64Mi"),
    "webhook_job": _sizes("10m", "32Mi", "100m", "64Mi"),
    "kube_state_metrics": _sizes("20m", "64Mi", "200m", "256Mi"),
}
#: The operator pods' ``app`` label (the chart's name + ``-operator``).
OPERATOR_APP = f"{CHART}-operator"


@dataclass(frozen=True)
class StackNames:
    """Helm release and Service names (``fullnameOverride`` keeps them predictable)."""

    release: str

    @property
    def fullname(self) -> str:
        # The chart truncates its fullname to 26 characters; do it here so URLs match.
        return self.release[:26].rstrip("-")

    def service(self, role: str) -> str:
        """``prometheus``, ``alertmanager`` or ``grafana``: the Service the chart creates."""
        return f"{self.fullname}-{role}"


@dataclass(frozen=True)
class StackObjects:
    namespace: core.Namespace
    namespace_name: pulumi.Output[str]
    policies: list[net.NetworkPolicy]
    release: helm.Release
    names: StackNames
    prometheus_url: pulumi.Output[str]
    alertmanager_url: pulumi.Output[str]
    grafana_url: pulumi.Output[str]


@dataclass(frozen=True)
class EndpointObjects:
    service_monitor: apiextensions.CustomResource
    prometheus_rule: apiextensions.CustomResource
    dashboard: core.ConfigMap
    dashboard_uid: pulumi.Output[str]


def monitoring_namespace(platform_namespace: str) -> str:
    return k8s_name(platform_namespace, "monitoring")


def _container_security(read_only: bool = True) -> dict[str, Any]:
    """Restricted Pod Security. Grafana and its sidecar write outside their volumes, so they
    keep a writable root filesystem (as the Grafana chart does)."""
    context: dict[str, Any] = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if read_only:
        context["readOnlyRootFilesystem"] = True
    return context


def _pod_security(user: tuple[int, int]) -> dict[str, Any]:
    uid, gid = user
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": gid,
        "fsGroup": gid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def chart_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """The platform's labels less ``app.kubernetes.io/*``: the chart sets those keys itself,
    and passing them again renders objects with duplicated label keys."""
    return {k: v for k, v in labels.items() if not k.startswith("app.kubernetes.io/")}


def chart_values(
    names: StackNames,
    retention_days: int,
    labels: Mapping[str, str],
    alert_receivers: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Values for kube-prometheus-stack (pure data: tests assert it without mocks).
    ``alert_receivers``: where Alertmanager sends alerts (components/kubernetes/alerting.py)."""
    labels = chart_labels(labels)
    not_nil = {  # select every ServiceMonitor / PodMonitor / PrometheusRule, not only the chart's
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "podMonitorSelectorNilUsesHelmValues": False,
        "ruleSelectorNilUsesHelmValues": False,
    }
    return {
        "fullnameOverride": names.fullname,
        "commonLabels": dict(labels),
        "crds": {"enabled": True},
        "nodeExporter": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeControllerManager": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "prometheusOperator": {
            "resources": RESOURCES["operator"],
            "securityContext": _pod_security(OPERATOR_USER),
            "containerSecurityContext": _container_security(),
            "prometheusConfigReloader": {"resources": RESOURCES["config_reloader"]},
            "admissionWebhooks": {
                "patch": {
                    "resources": RESOURCES["webhook_job"],
                    "securityContext": _pod_security(WEBHOOK_JOB_USER),
                }
            },
        },
        "prometheus": {
            "prometheusSpec": {
                **not_nil,
                "retention": f"{retention_days}d",
                "retentionSize": PROMETHEUS_RETENTION_SIZE,
                "scrapeInterval": SCRAPE_INTERVAL,
                "evaluationInterval": SCRAPE_INTERVAL,
                "resources": RESOURCES["prometheus"],
                "securityContext": _pod_security(PROMETHEUS_USER),
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": PROMETHEUS_STORAGE}},
                        }
                    }
                },
            }
        },
        "alertmanager": {
            "config": alertmanager_config(alert_receivers),
            "alertmanagerSpec": {
                "resources": RESOURCES["alertmanager"],
                "securityContext": _pod_security(PROMETHEUS_USER),
            }
        },
        "kube-state-metrics": {"resources": RESOURCES["kube_state_metrics"], "customLabels": dict(labels)},
        "grafana": {
            "fullnameOverride": names.service("grafana"),
            "extraLabels": dict(labels),
            # Empty: the Grafana chart then generates a random password into the
            # `<grafana>` Secret (key admin-password) instead of the well-known default.
            "adminPassword": "",
            "resources": RESOURCES["grafana"],
            "securityContext": _pod_security(GRAFANA_USER),
            "containerSecurityContext": _container_security(read_only=False),
            "sidecar": {
                "resources": RESOURCES["grafana_sidecar"],
                "securityContext": _container_security(read_only=False),
                "dashboards": {
                    "enabled": True,
                    "label": dashboard.SIDECAR_LABEL,
                    "labelValue": dashboard.SIDECAR_LABEL_VALUE,
                    "searchNamespace": "ALL",
                },
            },
        },
    }


def _port(port: int, protocol: str = "TCP") -> net.NetworkPolicyPortArgs:
    return net.NetworkPolicyPortArgs(port=port, protocol=protocol)


def policy_specs(names: StackNames) -> dict[str, net.NetworkPolicySpecArgs]:
    """The monitoring namespace's NetworkPolicies by role (pure data)."""
    everything = meta.LabelSelectorArgs()
    same_namespace = net.NetworkPolicyPeerArgs(pod_selector=everything)
    anywhere = net.NetworkPolicyPeerArgs(ip_block=net.IPBlockArgs(cidr="0.0.0.0/0"))
    prometheus = meta.LabelSelectorArgs(match_labels={APP: PROMETHEUS_APP})
    return {
        "default-deny": net.NetworkPolicySpecArgs(pod_selector=everything, policy_types=["Ingress", "Egress"]),
        "allow-dns": net.NetworkPolicySpecArgs(
            pod_selector=everything,
            policy_types=["Egress"],
            egress=[
                net.NetworkPolicyEgressRuleArgs(
                    to=[
                        net.NetworkPolicyPeerArgs(
                            namespace_selector=meta.LabelSelectorArgs(match_labels={NAMESPACE_NAME_LABEL: "kube-system"}),
                            pod_selector=meta.LabelSelectorArgs(match_labels={"k8s-app": "kube-dns"}),
                        )
                    ],
                    ports=[_port(53, "UDP"), _port(53, "TCP")],
                )
            ],
        ),
        # Grafana -> Prometheus, Prometheus -> Alertmanager, Prometheus scraping the stack itself.
        "allow-same-namespace": net.NetworkPolicySpecArgs(
            pod_selector=everything,
            policy_types=["Ingress", "Egress"],
            ingress=[net.NetworkPolicyIngressRuleArgs(from_=[same_namespace])],
            egress=[net.NetworkPolicyEgressRuleArgs(to=[same_namespace])],
        ),
        # The operator, Prometheus service discovery, kube-state-metrics, the Grafana sidecar and
        # the webhook certificate job all talk to the API server, which has no pod to select.
        "allow-kube-api": net.NetworkPolicySpecArgs(
            pod_selector=everything,
            policy_types=["Egress"],
            egress=[net.NetworkPolicyEgressRuleArgs(to=[anywhere], ports=[_port(p) for p in API_SERVER_PORTS])],
        ),
        # Prometheus scrapes pods in every namespace (the serving pods' own policy admits it)
        # and the kubelets' cAdvisor endpoints on the nodes.
        "allow-prometheus-scrape": net.NetworkPolicySpecArgs(
            pod_selector=prometheus,
            policy_types=["Egress"],
            egress=[
                net.NetworkPolicyEgressRuleArgs(to=[net.NetworkPolicyPeerArgs(namespace_selector=everything)]),
                net.NetworkPolicyEgressRuleArgs(to=[anywhere], ports=[_port(KUBELET_PORT)]),
            ],
        ),
        # The canary controller (retraining pods, components/kubernetes/retrain.py) queries
        # Prometheus's HTTP API from the platform namespace.
        "allow-canary-queries": net.NetworkPolicySpecArgs(
            pod_selector=prometheus,
            policy_types=["Ingress"],
            ingress=[net.NetworkPolicyIngressRuleArgs(
                from_=[net.NetworkPolicyPeerArgs(namespace_selector=everything,
                                                 pod_selector=meta.LabelSelectorArgs(match_labels={APP: TRAINING_APP}))],
                ports=[_port(PROMETHEUS_PORT)])],
        ),
        # The API server calls the operator's validating/mutating webhook for PrometheusRules.
        "allow-operator-webhook": net.NetworkPolicySpecArgs(
            pod_selector=meta.LabelSelectorArgs(match_labels={"app": OPERATOR_APP, "release": names.release}),
            policy_types=["Ingress"],
            ingress=[net.NetworkPolicyIngressRuleArgs(from_=[anywhere], ports=[_port(OPERATOR_WEBHOOK_PORT)])],
        ),
    }


def _service_url(service: str, namespace: pulumi.Input[str], port: int, path: str = "") -> pulumi.Output[str]:
    suffix = "" if port == 80 else f":{port}"
    return pulumi.Output.from_input(namespace).apply(
        lambda ns: f"http://{service}.{ns}.svc.cluster.local{suffix}{path}"
    )


def chart_source(chart_path: str = "") -> dict[str, Any]:
    """Release arguments naming the chart: the pinned version from its repository, or a local
    directory (already checked to hold that version; Helm reads the version from Chart.yaml)."""
    if chart_path:
        return {"chart": chart_path}
    return {"chart": CHART, "version": CHART_VERSION,
            "repository_opts": helm.RepositoryOptsArgs(repo=CHART_REPO)}


def create_stack(
    name: str,
    platform_namespace: pulumi.Input[str],
    retention_days: int,
    labels: Mapping[str, str],
    parent: pulumi.Resource,
    protect: bool = False,
    alert_receivers: Sequence[Mapping[str, Any]] = (),
    chart_path: str = "",
) -> StackObjects:
    """The monitoring namespace, its NetworkPolicies and the kube-prometheus-stack release
    (from the chart's Helm repository, or from ``chart_path``, a local copy of the pinned chart)."""
    names = StackNames(release=k8s_name(name)[:53].rstrip("-"))
    # Prometheus' volume comes from its StatefulSet's claim template and outlives the release
    # (claims are retained), but not the namespace: protecting the namespace is what keeps the
    # metrics history when data is protected.
    isolated = create_isolated_namespace(
        name,
        pulumi.Output.from_input(platform_namespace).apply(monitoring_namespace),
        labels,
        policy_specs(names),
        parent,
        protect=protect,
    )
    ns, ns_name, policies = isolated.namespace, isolated.name, isolated.policies
    release = helm.Release(
        f"{name}-stack",
        helm.ReleaseArgs(
            name=names.release,
            **chart_source(chart_path),
            namespace=ns_name,
            create_namespace=False,
            values=chart_values(names, retention_days, labels, alert_receivers),
            atomic=True,
            cleanup_on_fail=True,
            max_history=5,
            timeout=900,
        ),
        # The policies go first: with default-deny alone, the webhook job could not reach the API.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=policies),
    )
    return StackObjects(
        namespace=ns,
        namespace_name=ns_name,
        policies=policies,
        release=release,
        names=names,
        prometheus_url=_service_url(names.service("prometheus"), ns_name, PROMETHEUS_PORT),
        alertmanager_url=_service_url(names.service("alertmanager"), ns_name, ALERTMANAGER_PORT),
        grafana_url=_service_url(names.service("grafana"), ns_name, GRAFANA_PORT),
    )


#: Targets whose Monitoring backend installs kube-prometheus-stack with :func:`create_stack`
#: (azure's kubernetes runtime sends metrics to Azure Monitor: no Prometheus query API in-cluster).
IN_CLUSTER_PROMETHEUS_TARGETS = ("local", "aws")


def in_cluster_prometheus_url(target: str, name: str, platform_namespace: pulumi.Input[str]) -> pulumi.Input[str]:
    """The Prometheus URL :func:`create_stack` gives the Monitoring component ``name`` (known
    before it exists, for the canary controller), or "" where none is installed."""
    if target not in IN_CLUSTER_PROMETHEUS_TARGETS:
        return ""
    names = StackNames(release=k8s_name(name)[:53].rstrip("-"))
    namespace = pulumi.Output.from_input(platform_namespace).apply(monitoring_namespace)
    return _service_url(names.service("prometheus"), namespace, PROMETHEUS_PORT)


def service_monitor_spec(namespace: str, service: str) -> dict[str, Any]:
    """Scrape ``/metrics`` on the port named ``http`` of this endpoint's Service."""
    return {
        "selector": {"matchLabels": {APP: SERVING_APP, INSTANCE: service}},
        "namespaceSelector": {"matchNames": [namespace]},
        "endpoints": [
            {"port": PORT_NAME, "path": METRICS_PATH, "interval": SCRAPE_INTERVAL, "scrapeTimeout": "10s"}
        ],
    }


def create_endpoint_monitoring(
    name: str,
    namespace: pulumi.Input[str],
    endpoint_name: pulumi.Input[str],
    thresholds: alerts.Thresholds,
    labels: Mapping[str, str],
    parent: pulumi.Resource,
    depends_on: list[pulumi.Resource],
) -> EndpointObjects:
    """ServiceMonitor, PrometheusRule and dashboard ConfigMap for one endpoint, in its namespace.

    ``depends_on`` should hold the chart release: it installs the CRDs these objects need.
    """
    scope = pulumi.Output.all(namespace, endpoint_name).apply(lambda a: alerts.Scope(a[0], a[1]))
    after_crds = pulumi.ResourceOptions(parent=parent, depends_on=depends_on)

    def metadata(role: str, extra: Mapping[str, str] | None = None) -> meta.ObjectMetaArgs:
        return meta.ObjectMetaArgs(name=k8s_name(name, role), namespace=namespace, labels={**labels, **(extra or {})})

    service_monitor = apiextensions.CustomResource(
        f"{name}-servicemonitor",
        api_version=MONITORING_API,
        kind="ServiceMonitor",
        metadata=metadata("serving"),
        spec=scope.apply(lambda s: service_monitor_spec(s.namespace, s.service)),
        opts=after_crds,
    )
    prometheus_rule = apiextensions.CustomResource(
        f"{name}-rules",
        api_version=MONITORING_API,
        kind="PrometheusRule",
        metadata=metadata("serving-alerts"),
        spec=scope.apply(lambda s: alerts.prometheus_rule_spec(s, thresholds)),
        opts=after_crds,
    )
    config_map = core.ConfigMap(
        f"{name}-dashboard",
        metadata=metadata("serving-dashboard", {dashboard.SIDECAR_LABEL: dashboard.SIDECAR_LABEL_VALUE}),
        data=scope.apply(lambda s: {dashboard.FILE_NAME: dashboard.dashboard_json(s, thresholds)}),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return EndpointObjects(service_monitor, prometheus_rule, config_map, scope.apply(dashboard.dashboard_uid))
