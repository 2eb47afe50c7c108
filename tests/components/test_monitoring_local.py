"""Monitoring, local backend: the kube-prometheus-stack release, its namespace and policies, the
ServiceMonitor, PrometheusRule and Grafana dashboard a cluster would receive; and the alert
rules checked and unit-tested with promtool."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from components import Monitoring
from components.kubernetes import alerts, dashboard
from components.kubernetes import monitoring as kmon
from components.kubernetes.serving import METRICS_PATH, PORT_NAME, pod_labels
from components.kubernetes.tenancy import APP, PROMETHEUS_APP
from components.tags import kubernetes_labels
from stacks.mocks import PlatformMocks
from stacks.plan import RecordingMonitor
from tests.conftest import ints, of_type, one

PROMTOOL = shutil.which("promtool") or "promtool"  # scripts/bootstrap.sh provides it
PROMTOOL_TESTS = Path(__file__).parent / "promtool" / "serving_alerts_test.yaml"

COMPONENT = "mlops:index:Monitoring"
RELEASE = "kubernetes:helm.sh/v3:Release"
SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SERVICE = "kubernetes:core/v1:Service"

TAGS = {"environment": "prod", "owner": "ml-team", "cost-center": "cc-42"}
ARGS: dict[str, Any] = {
    "target": "local",
    "endpoint_name": "fraud",
    "namespace": "ml-serving",
    "latency_p99_seconds": 0.3,
    "error_rate": 0.05,
    "drift_p_value": 0.001,
    "retention_days": 15,
    "environment": "prod",
    "tags": TAGS,
}


@dataclass
class Run:
    resources: list[dict[str, Any]]
    outputs: dict[str, str]
    provider_urn: str

    @property
    def component(self) -> dict[str, Any]:
        return one(self.resources, COMPONENT, "monitoring")

    def one(self, type_token: str, name: str) -> dict[str, Any]:
        return one(self.resources, type_token, name)


def run_monitoring(args: dict[str, Any], namespace_resource: bool = False) -> Run:
    """Declare one Monitoring under mocks, as the stack does: on a Kubernetes provider passed
    through ``providers=[...]``. With ``namespace_resource`` the namespace is an Output of a
    Namespace resource, as ``cluster.namespace`` is in the stack."""
    monitor = RecordingMonitor(PlatformMocks())
    pulumi.runtime.settings.set_root_resource(None)
    pulumi.runtime.set_mocks(monitor.mocks, project="mlops-platform", stack="test", preview=False, monitor=monitor)
    outputs: dict[str, str] = {}

    @pulumi.runtime.test
    def program() -> pulumi.Output:
        provider = k8s.Provider("test-provider", context="minikube")
        on_cluster = pulumi.ResourceOptions(providers=[provider])
        given = dict(args)
        if namespace_resource:
            ns = k8s.core.v1.Namespace(
                "platform-ns", metadata=k8s.meta.v1.ObjectMetaArgs(name=args["namespace"]), opts=on_cluster
            )
            given["namespace"] = ns.metadata.apply(lambda m: m.name)
        component = Monitoring("monitoring", given, opts=on_cluster)
        keys = [k for k in (*Monitoring.OUTPUTS, *Monitoring.ONLY_ON) if getattr(component, k) is not None]
        return pulumi.Output.all(*(getattr(component, k) for k in keys)).apply(
            lambda values: outputs.update(zip(keys, values))
        )

    program()
    records = monitor.records
    provider_urn = one(records, "pulumi:providers:kubernetes", "test-provider")["urn"]
    return Run(resources=[r for r in records if r["name"] not in ("test-provider", "platform-ns")],
               outputs=outputs, provider_urn=provider_urn)


@pytest.fixture(scope="module")
def run() -> Run:
    return run_monitoring(ARGS)


@pytest.fixture(scope="module")
def values(run: Run) -> dict[str, Any]:
    return ints(run.one(RELEASE, "monitoring-stack")["inputs"]["values"])


def _rule_spec(run: Run) -> dict[str, Any]:
    return ints(run.one(PROMETHEUS_RULE, "monitoring-rules")["inputs"]["spec"])


def _rules_by_name(run: Run) -> dict[str, dict[str, Any]]:
    (group,) = _rule_spec(run)["groups"]
    return {rule["alert"]: rule for rule in group["rules"]}


def _dashboard(run: Run) -> dict[str, Any]:
    data = run.one(CONFIG_MAP, "monitoring-dashboard")["inputs"]["data"]
    return json.loads(data[dashboard.FILE_NAME])


# --- the chart release ------------------------------------------------------------------------


def test_release_installs_the_pinned_kube_prometheus_stack_chart(run: Run) -> None:
    release = run.one(RELEASE, "monitoring-stack")["inputs"]
    assert release["chart"] == "kube-prometheus-stack"
    assert re.fullmatch(r"\d+\.\d+\.\d+", release["version"]), f"chart version not pinned: {release['version']!r}"
    assert release["version"] == kmon.CHART_VERSION
    assert release["repositoryOpts"] == {"repo": "https://prometheus-community.github.io/helm-charts"}
    assert release["namespace"] == "ml-serving-monitoring"
    assert release["createNamespace"] is False
    assert release["atomic"] is True


@pytest.mark.parametrize(
    "path",
    [
        ("prometheus", "prometheusSpec", "resources"),
        ("alertmanager", "alertmanagerSpec", "resources"),
        ("grafana", "resources"),
        ("grafana", "sidecar", "resources"),
        ("prometheusOperator", "resources"),
        ("prometheusOperator", "prometheusConfigReloader", "resources"),
        ("kube-state-metrics", "resources"),
    ],
)
def test_release_values_set_requests_and_limits(values: dict[str, Any], path: tuple[str, ...]) -> None:
    node: Any = values
    for key in path:
        node = node[key]
    for kind in ("requests", "limits"):
        assert set(node[kind]) == {"cpu", "memory"}, f"{'.'.join(path)}.{kind}: {node.get(kind)}"


def test_release_values_keep_metrics_for_the_configured_retention(values: dict[str, Any]) -> None:
    spec = values["prometheus"]["prometheusSpec"]
    assert spec["retention"] == "15d"
    # Retention only means something on a volume that outlives the pod.
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["resources"]["requests"]["storage"] == kmon.PROMETHEUS_STORAGE
    assert spec["retentionSize"] == kmon.PROMETHEUS_RETENTION_SIZE


def test_release_values_pick_up_monitors_and_rules_without_the_release_label(values: dict[str, Any]) -> None:
    spec = values["prometheus"]["prometheusSpec"]
    assert spec["serviceMonitorSelectorNilUsesHelmValues"] is False
    assert spec["ruleSelectorNilUsesHelmValues"] is False


def test_grafana_sidecar_loads_labelled_dashboards_from_every_namespace(values: dict[str, Any]) -> None:
    sidecar = values["grafana"]["sidecar"]["dashboards"]
    assert sidecar == {"enabled": True, "label": "grafana_dashboard", "labelValue": "1", "searchNamespace": "ALL"}


def test_grafana_admin_password_is_generated_not_the_chart_default(values: dict[str, Any]) -> None:
    # kube-prometheus-stack's default is the well-known "prom-operator"; empty makes Grafana's
    # chart generate a random one.
    assert values["grafana"]["adminPassword"] == ""


@pytest.mark.parametrize(
    "path",
    [
        ("prometheus", "prometheusSpec", "securityContext"),
        ("alertmanager", "alertmanagerSpec", "securityContext"),
        ("grafana", "securityContext"),
        ("prometheusOperator", "securityContext"),
        ("prometheusOperator", "admissionWebhooks", "patch", "securityContext"),
    ],
)
def test_workloads_run_as_non_root_with_runtime_default_seccomp(values: dict[str, Any], path: tuple[str, ...]) -> None:
    node: Any = values
    for key in path:
        node = node[key]
    assert node["runAsNonRoot"] is True and node["runAsUser"] > 0, ".".join(path)
    assert node["seccompProfile"] == {"type": "RuntimeDefault"}, ".".join(path)


def test_host_level_exporters_are_off_in_the_restricted_namespace(run: Run, values: dict[str, Any]) -> None:
    assert values["nodeExporter"]["enabled"] is False  # needs hostNetwork/hostPID/hostPath
    labels = run.one(NAMESPACE, "monitoring-namespace")["inputs"]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


# --- namespace and NetworkPolicies -------------------------------------------------------------


def test_monitoring_namespace_has_a_default_deny_policy(run: Run) -> None:
    policies = {p["inputs"]["metadata"]["name"]: p["inputs"] for p in of_type(run.resources, NETWORK_POLICY)}
    assert all(p["metadata"]["namespace"] == "ml-serving-monitoring" for p in policies.values())
    deny = policies["default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_policies_open_only_the_paths_the_stack_needs(run: Run) -> None:
    specs = {p["inputs"]["metadata"]["name"]: ints(p["inputs"]["spec"]) for p in of_type(run.resources, NETWORK_POLICY)}
    assert set(specs) == {
        "default-deny", "allow-dns", "allow-same-namespace", "allow-kube-api",
        "allow-prometheus-scrape", "allow-operator-webhook", "allow-canary-queries",
    }
    assert {p["port"] for p in specs["allow-dns"]["egress"][0]["ports"]} == {53}
    assert {p["port"] for p in specs["allow-kube-api"]["egress"][0]["ports"]} == {443, 6443, 8443}
    # Only Prometheus may reach pods in other namespaces (to scrape the serving pods).
    scrape = specs["allow-prometheus-scrape"]
    assert scrape["podSelector"] == {"matchLabels": {APP: PROMETHEUS_APP}}
    assert scrape["egress"][0] == {"to": [{"namespaceSelector": {}}]}
    webhook = specs["allow-operator-webhook"]
    assert webhook["podSelector"] == {"matchLabels": {"app": "kube-prometheus-stack-operator", "release": "monitoring"}}
    assert webhook["ingress"][0]["ports"] == [{"port": kmon.OPERATOR_WEBHOOK_PORT, "protocol": "TCP"}]


def test_release_waits_for_the_network_policies(run: Run) -> None:
    release = run.one(RELEASE, "monitoring-stack")
    policy_urns = {p["urn"] for p in of_type(run.resources, NETWORK_POLICY)}
    assert policy_urns <= set(release["dependencies"]), release["urn"]


# --- ServiceMonitor, PrometheusRule, dashboard -------------------------------------------------


def test_service_monitor_scrapes_the_serving_service_metrics_port(run: Run) -> None:
    monitor = run.one(SERVICE_MONITOR, "monitoring-servicemonitor")["inputs"]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["namespace"] == "ml-serving"
    spec = monitor["spec"]
    assert spec["selector"] == {"matchLabels": pod_labels("fraud")}
    assert spec["selector"]["matchLabels"][APP] == "serving"
    assert spec["namespaceSelector"] == {"matchNames": ["ml-serving"]}
    (endpoint,) = spec["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == (PORT_NAME, METRICS_PATH) == ("http", "/metrics")


def test_prometheus_rule_alerts_use_the_thresholds_from_settings(run: Run) -> None:
    rules = _rules_by_name(run)
    assert {alerts.LATENCY_ALERT, alerts.ERROR_ALERT, alerts.DRIFT_ALERT} <= set(rules)
    latency, errors, drift = rules[alerts.LATENCY_ALERT], rules[alerts.ERROR_ALERT], rules[alerts.DRIFT_ALERT]
    assert latency["expr"].startswith("histogram_quantile(0.99, ")
    assert latency["expr"].endswith(" > 0.3") and latency["for"] == "10m"
    assert 'status=~"5.."' in errors["expr"]
    assert errors["expr"].endswith(" > 0.05") and errors["for"] == "10m"
    assert drift["expr"].startswith(f"min by (namespace, service, feature) ({alerts.DRIFT_P_VALUE}")
    assert drift["expr"].endswith(" < 0.001") and drift["for"] == "30m"
    for rule in rules.values():
        assert 'namespace="ml-serving",service="fraud"' in rule["expr"], rule["alert"]
        assert rule["labels"]["severity"] in ("warning", "critical")


def test_prometheus_rule_is_exactly_the_rules_file_promtool_checks(run: Run) -> None:
    scope = alerts.Scope("ml-serving", "fraud")
    thresholds = alerts.Thresholds(0.3, 0.05, 0.001)
    assert _rule_spec(run) == yaml.safe_load(alerts.rules_file(scope, thresholds))


def test_monitors_and_rules_wait_for_the_chart_crds(run: Run) -> None:
    release_urn = run.one(RELEASE, "monitoring-stack")["urn"]
    for type_token, name in ((SERVICE_MONITOR, "monitoring-servicemonitor"), (PROMETHEUS_RULE, "monitoring-rules")):
        assert release_urn in run.one(type_token, name)["dependencies"], name


def test_dashboard_configmap_is_discovered_by_the_grafana_sidecar(run: Run) -> None:
    metadata = run.one(CONFIG_MAP, "monitoring-dashboard")["inputs"]["metadata"]
    assert metadata["labels"]["grafana_dashboard"] == "1"
    assert metadata["namespace"] == "ml-serving"


def test_dashboard_has_latency_throughput_errors_and_drift_panels(run: Run) -> None:
    board = _dashboard(run)
    panels = {p["title"]: p for p in board["panels"]}
    assert list(panels) == ["Latency p50 / p99", "Throughput", "5xx error ratio", "Drift p-value per feature"]
    latency = [t["expr"] for t in panels["Latency p50 / p99"]["targets"]]
    assert [e.split(",")[0] for e in latency] == ["histogram_quantile(0.5", "histogram_quantile(0.99"]
    assert alerts.REQUESTS_TOTAL in panels["Throughput"]["targets"][0]["expr"]
    assert panels["5xx error ratio"]["targets"][0]["expr"] == alerts.error_ratio_expr(alerts.Scope("ml-serving", "fraud"))
    assert alerts.DRIFT_P_VALUE in panels["Drift p-value per feature"]["targets"][0]["expr"]
    assert panels["Drift p-value per feature"]["targets"][0]["legendFormat"] == "{{feature}}"
    # Threshold lines sit where the alerts fire.
    steps = {title: p["fieldConfig"]["defaults"]["thresholds"]["steps"][-1]["value"] for title, p in panels.items()}
    assert steps["Latency p50 / p99"] == 0.3
    assert steps["5xx error ratio"] == 0.05
    assert steps["Drift p-value per feature"] == 0.001
    positions = {(p["gridPos"]["x"], p["gridPos"]["y"]) for p in board["panels"]}
    assert len(positions) == 4, "panels overlap"


# --- outputs, labels, parents ------------------------------------------------------------------


def test_outputs_are_the_in_cluster_service_urls(run: Run) -> None:
    uid = _dashboard(run)["uid"]
    assert run.outputs == {
        "dashboard_url": f"http://monitoring-grafana.ml-serving-monitoring.svc.cluster.local/d/{uid}",
        "alert_target": "http://monitoring-alertmanager.ml-serving-monitoring.svc.cluster.local:9093",
        "prometheus_url": "http://monitoring-prometheus.ml-serving-monitoring.svc.cluster.local:9090",
    }
    values = ints(run.one(RELEASE, "monitoring-stack")["inputs"]["values"])
    # The URLs name the Services the chart creates: fullname + role.
    assert values["fullnameOverride"] == "monitoring"
    assert values["grafana"]["fullnameOverride"] == "monitoring-grafana"


def test_every_kubernetes_object_carries_the_platform_labels(run: Run, values: dict[str, Any]) -> None:
    expected = kubernetes_labels(TAGS)
    assert expected["mlops-platform/owner"] == "ml-team"
    objects = [r for r in run.resources if r["custom"] and r["type"] != RELEASE]
    assert len(objects) == 11  # namespace, 7 policies, monitor, rule, dashboard
    for r in objects:
        labels = r["inputs"]["metadata"]["labels"]
        assert expected.items() <= labels.items(), r["urn"]
    # The chart's own objects: the chart's _helpers.tpl sets app.kubernetes.io/* itself and then
    # appends commonLabels, so passing those keys again renders duplicated label keys.
    helpers = (Path(__file__).resolve().parents[2] / ".." / "shared" / "charts" / "kube-prometheus-stack"
               / "templates" / "_helpers.tpl")
    chart_sets = set(re.findall(r"^(app\.kubernetes\.io/[a-z-]+):", helpers.read_text(), re.M))
    assert chart_sets, helpers
    assert not chart_sets & set(values["commonLabels"])
    assert values["commonLabels"] == {k: v for k, v in expected.items() if k not in chart_sets}


def test_children_are_parented_to_the_component_and_use_its_provider(run: Run) -> None:
    component_urn = run.component["urn"]
    children = [r for r in run.resources if r["custom"]]
    assert {r["name"] for r in children} >= {"monitoring-stack", "monitoring-namespace", "monitoring-rules"}
    for r in children:
        assert r["parent"] == component_urn, r["urn"]
        assert r["name"].startswith("monitoring-"), r["urn"]
        assert (r["provider"] or "").startswith(run.provider_urn + "::"), r["urn"]
        if r["type"].startswith("kubernetes:") and r["type"] != RELEASE:
            assert r["inputs"]["metadata"]["name"], r["urn"]


def test_namespace_may_be_an_output_of_another_resource() -> None:
    result = run_monitoring(ARGS, namespace_resource=True)
    assert result.one(NAMESPACE, "monitoring-namespace")["inputs"]["metadata"]["name"] == "ml-serving-monitoring"
    assert result.one(SERVICE_MONITOR, "monitoring-servicemonitor")["inputs"]["metadata"]["namespace"] == "ml-serving"
    assert result.outputs["prometheus_url"].endswith(".ml-serving-monitoring.svc.cluster.local:9090")


def test_protect_data_protects_the_namespace_holding_the_metrics_volume(run: Run) -> None:
    assert not any(r["protect"] for r in run.resources)
    protected = run_monitoring({**ARGS, "protect_data": True})
    assert {r["name"] for r in protected.resources if r["protect"]} == {"monitoring-namespace"}


# --- the dev stack: the monitor really finds the serving Service --------------------------------


def test_dev_stack_service_monitor_matches_the_serving_service(dev: list[dict[str, Any]]) -> None:
    monitor = next(r for r in of_type(dev, SERVICE_MONITOR))["inputs"]
    services = [
        s["inputs"] for s in of_type(dev, SERVICE)
        if s["inputs"]["metadata"].get("labels", {}).get(APP) == "serving"
    ]
    assert len(services) == 1, [s["name"] for s in of_type(dev, SERVICE)]
    service = services[0]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert service["metadata"]["namespace"] in monitor["spec"]["namespaceSelector"]["matchNames"]
    assert monitor["spec"]["endpoints"][0]["port"] in {p["name"] for p in service["spec"]["ports"]}


def test_dev_stack_lets_prometheus_reach_the_serving_pods(dev: list[dict[str, Any]]) -> None:
    """Some policy selecting the serving pods admits pods labelled as Prometheus pods (which the
    chart's Prometheus carries) on the serving port."""
    serving_labels = {APP: "serving"}
    admitted = False
    for policy in of_type(dev, NETWORK_POLICY):
        spec = ints(policy["inputs"]["spec"])
        selected = spec.get("podSelector", {}).get("matchLabels", {})
        if not selected.items() <= {**serving_labels, "app.kubernetes.io/instance": "serving"}.items():
            continue
        for rule in spec.get("ingress", []):
            for peer in rule.get("from", []):
                if peer.get("podSelector", {}).get("matchLabels") == {APP: PROMETHEUS_APP} and "namespaceSelector" in peer:
                    admitted = True
    assert admitted


# --- promtool -----------------------------------------------------------------------------------


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_rendered_rules_pass_promtool_check(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(alerts.rules_file(alerts.Scope("ml-serving", "fraud"), alerts.Thresholds(0.3, 0.05, 0.001)))
    result = _promtool("check", "rules", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 5 rules found" in result.stdout  # latency, errors, drift, awaiting model, missing


def test_promtool_check_rejects_a_broken_expression(tmp_path: Path) -> None:
    """The check above can fail: promtool refuses a rule whose PromQL does not parse."""
    rules = yaml.safe_load(alerts.rules_file(alerts.Scope("mlops", "serving"), alerts.Thresholds(0.25, 0.02, 0.01)))
    rules["groups"][0]["rules"][0]["expr"] = "histogram_quantile(0.99, sum by (le) (rate(x[5m]))"
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(rules))
    result = _promtool("check", "rules", str(path), cwd=tmp_path)
    assert result.returncode != 0


def _unit_test(tmp_path: Path, thresholds: alerts.Thresholds) -> subprocess.CompletedProcess[str]:
    (tmp_path / "serving_rules.yaml").write_text(alerts.rules_file(alerts.Scope("mlops", "serving"), thresholds))
    shutil.copy(PROMTOOL_TESTS, tmp_path / PROMTOOL_TESTS.name)
    return _promtool("test", "rules", PROMTOOL_TESTS.name, cwd=tmp_path)


def test_alerts_fire_and_stay_quiet_as_promtool_unit_tests_expect(tmp_path: Path) -> None:
    # The default thresholds (components/monitoring.py DEFAULTS) are what the unit tests assume.
    result = _unit_test(tmp_path, alerts.Thresholds(0.25, 0.02, 0.01))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(
    ("thresholds", "alert"),
    [
        (alerts.Thresholds(0.6, 0.02, 0.01), alerts.LATENCY_ALERT),  # p99 of 0.4975 s no longer alerts
        (alerts.Thresholds(0.25, 0.005, 0.01), alerts.ERROR_ALERT),  # a 0.7 % error ratio now alerts
        (alerts.Thresholds(0.25, 0.02, 0.0001), alerts.DRIFT_ALERT),  # a p-value of 0.001 no longer alerts
    ],
)
def test_promtool_unit_tests_catch_a_wrong_threshold(tmp_path: Path, thresholds: alerts.Thresholds, alert: str) -> None:
    result = _unit_test(tmp_path, thresholds)
    assert result.returncode != 0, result.stdout
    assert f"alertname: {alert}" in result.stdout + result.stderr


# --- the chart source: repository (default) or a local copy of the pinned chart ---------------

SHARED_CHART = Path(__file__).resolve().parents[2] / ".." / "shared" / "charts" / "kube-prometheus-stack"


def _chart_copy(tmp_path: Path, version: str, name: str = "kube-prometheus-stack") -> Path:
    chart = tmp_path / name
    chart.mkdir()
    (chart / "Chart.yaml").write_text(yaml.safe_dump({"apiVersion": "v2", "name": name, "version": version}))
    return chart


def test_release_installs_a_local_chart_directory_instead_of_the_repository() -> None:
    local = run_monitoring({**ARGS, "chart_path": str(SHARED_CHART.resolve())})
    release = local.one(RELEASE, "monitoring-stack")["inputs"]
    assert release["chart"] == str(SHARED_CHART.resolve())
    assert "repositoryOpts" not in release and "version" not in release
    # the shared copy is the pinned chart, as Helm reads it from its Chart.yaml
    meta = yaml.safe_load((SHARED_CHART / "Chart.yaml").read_text())
    assert (meta["name"], meta["version"]) == ("kube-prometheus-stack", kmon.CHART_VERSION)


@pytest.mark.parametrize(
    "make, shown",
    [
        (lambda p: p / "missing", "missing"),
        (lambda p: _chart_copy(p, "79.6.0"), "kube-prometheus-stack 79.6.0"),
        (lambda p: _chart_copy(p, kmon.CHART_VERSION, name="grafana"), "grafana"),
    ],
)
def test_a_local_chart_that_is_not_the_pinned_one_is_refused_in_one_line(tmp_path: Path, make, shown: str) -> None:
    from components.base import ArgsError
    from components.monitoring import resolve_monitoring_args

    path = make(tmp_path)
    with pytest.raises(ArgsError) as err:
        resolve_monitoring_args({**ARGS, "chart_path": str(path)})
    message = str(err.value)
    assert "\n" not in message and message.startswith("chart_path:") and shown in message
    assert kmon.CHART_VERSION in message


def test_stack_resolves_monitoring_chart_relative_to_the_project_root(monkeypatch, tmp_path: Path) -> None:
    from stacks.composition import _project_root, resolve_chart_path

    monkeypatch.chdir(tmp_path)  # the working directory must not matter
    root = Path(_project_root())
    assert resolve_chart_path("") == ""
    assert resolve_chart_path("../shared/charts/kube-prometheus-stack") == str(
        (root / ".." / "shared" / "charts" / "kube-prometheus-stack").resolve())
    assert resolve_chart_path(str(tmp_path)) == str(tmp_path)
