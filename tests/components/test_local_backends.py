"""Local (Minikube) backends: the inputs a cluster would receive, object by object."""

from __future__ import annotations

import pytest

from tests.conftest import ints, one

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
REQUIRED_LABELS = {
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
    "mlops-platform/environment",
    "mlops-platform/owner",
    "mlops-platform/cost-center",
}


def pod_spec(resource):
    return resource["inputs"]["spec"]["template"]["spec"]


def selects(selector: dict, labels: dict) -> bool:
    """matchLabels/matchExpressions(In) semantics, enough for our selectors."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        assert expr["operator"] == "In"
        if labels.get(expr["key"]) not in expr["values"]:
            return False
    return True


def test_namespace_enforces_restricted_pod_security(dev):
    ns = one(dev, "kubernetes:core/v1:Namespace", "network-namespace")
    labels = ns["inputs"]["metadata"]["labels"]
    assert ns["inputs"]["metadata"]["name"] == "mlops"
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert REQUIRED_LABELS <= set(labels)


def test_default_deny_covers_every_pod_both_ways(dev):
    spec = one(dev, NETPOL, "network-default-deny")["inputs"]["spec"]
    assert spec["podSelector"] == {}
    assert sorted(spec["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in spec and "egress" not in spec


def test_dns_egress_is_allowed_to_kube_dns_only(dev):
    spec = ints(one(dev, NETPOL, "network-allow-dns")["inputs"]["spec"])
    (rule,) = spec["egress"]
    assert {(p["port"], p["protocol"]) for p in rule["ports"]} == {(53, "UDP"), (53, "TCP")}
    assert rule["to"][0]["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}


def _serving_pod_labels(dev):
    return one(dev, DEPLOYMENT, "serving-deployment")["inputs"]["spec"]["template"]["metadata"]["labels"]


def _mlflow_pod_labels(dev):
    return one(dev, DEPLOYMENT, "training-mlflow-deployment")["inputs"]["spec"]["template"]["metadata"]["labels"]


@pytest.mark.parametrize(
    ("policy", "pods"),
    [
        ("network-allow-ingress-to-serving", _serving_pod_labels),
        ("network-allow-prometheus-scrape", _serving_pod_labels),
        ("network-allow-mlflow-clients", _mlflow_pod_labels),
        ("network-allow-egress-to-mlflow", _serving_pod_labels),
        ("serving-netpol", _serving_pod_labels),
    ],
)
def test_allow_rules_select_the_pods_they_are_for(dev, policy, pods):
    spec = one(dev, NETPOL, policy)["inputs"]["spec"]
    assert selects(spec["podSelector"], pods(dev)), f"{policy} does not select its pods"


def test_serving_to_mlflow_path_is_open_in_both_directions(dev):
    serving = _serving_pod_labels(dev)
    ingress = one(dev, NETPOL, "network-allow-mlflow-clients")["inputs"]["spec"]["ingress"][0]
    assert any(selects(peer["podSelector"], serving) for peer in ingress["from"])
    egress = ints(one(dev, NETPOL, "network-allow-egress-to-mlflow")["inputs"]["spec"]["egress"][0])
    assert selects(egress["to"][0]["podSelector"], _mlflow_pod_labels(dev))
    assert egress["ports"] == [{"port": 5000, "protocol": "TCP"}]


def test_local_serving_does_not_open_https_egress(dev):
    egress = ints(one(dev, NETPOL, "serving-netpol")["inputs"]["spec"]["egress"])
    assert all(p["port"] != 443 for rule in egress for p in rule.get("ports", []))


def test_serving_container_is_hardened_with_probes_and_limits(dev):
    spec = ints(pod_spec(one(dev, DEPLOYMENT, "serving-deployment")))
    (container,) = spec["containers"]
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 10001
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    # probes go to the app's probe port (own thread, never queued behind inference: issue 18)
    assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "probes"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "probes"}
    assert container["startupProbe"]["httpGet"] == {"path": "/health/live", "port": "probes"}
    env = {e["name"]: e.get("value") for e in container["env"]}
    probe_port = next(p["containerPort"] for p in container["ports"] if p["name"] == "probes")
    assert env["SERVING_PROBE_PORT"] == str(probe_port) and probe_port != 8080
    assert container["resources"] == {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    assert {"name": "http", "containerPort": 8080, "protocol": "TCP"} in container["ports"]
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp"}
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True


def test_serving_gets_model_and_tracking_uri_by_env(dev):
    (container,) = pod_spec(one(dev, DEPLOYMENT, "serving-deployment"))["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["SERVING_MODEL_URI"] == "models:/demand@champion"
    assert env["SERVING_TRACKING_URI"] == "http://training-mlflow.mlops.svc.cluster.local:5000"


def test_service_hpa_and_pdb_target_the_serving_pods(dev):
    labels = _serving_pod_labels(dev)
    deployment = one(dev, DEPLOYMENT, "serving-deployment")["inputs"]
    service = one(dev, SERVICE, "serving-service")["inputs"]["spec"]
    assert selects({"matchLabels": service["selector"]}, labels)
    assert service["type"] == "ClusterIP"
    assert ints(service["ports"]) == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    hpa = ints(one(dev, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "serving-hpa")["inputs"]["spec"])
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment["metadata"]["name"]}
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 2)  # Pulumi.dev.yaml
    assert hpa["metrics"][0]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
    pdb = ints(one(dev, "kubernetes:policy/v1:PodDisruptionBudget", "serving-pdb")["inputs"]["spec"])
    assert selects(pdb["selector"], labels)
    assert pdb == {**pdb, "maxUnavailable": 1}, "one replica: a PDB must not block drains"


def test_pdb_keeps_one_pod_when_there_are_two(capture):
    resources = capture("dev", {"servingMinReplicas": "2", "servingMaxReplicas": "4"})
    pdb = ints(one(resources, "kubernetes:policy/v1:PodDisruptionBudget", "serving-pdb")["inputs"]["spec"])
    assert pdb["minAvailable"] == 1 and "maxUnavailable" not in pdb


def test_mlflow_server_serves_artifacts_from_its_volume(dev):
    spec = ints(pod_spec(one(dev, DEPLOYMENT, "training-mlflow-deployment")))
    (container,) = spec["containers"]
    cmd = container["command"]
    assert cmd[:2] == ["mlflow", "server"] and "--serve-artifacts" in cmd
    assert cmd[cmd.index("--backend-store-uri") + 1] == "sqlite:////mlflow/mlflow.db"
    assert container["image"].startswith("ghcr.io/mlflow/mlflow:v3.")
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    pvc = one(dev, "kubernetes:core/v1:PersistentVolumeClaim", "training-mlflow-data")["inputs"]
    claim = next(v for v in spec["volumes"] if v["name"] == "data")["persistentVolumeClaim"]["claimName"]
    assert claim == pvc["metadata"]["name"]
    assert pvc["spec"]["resources"]["requests"]["storage"] == "5Gi"  # Pulumi.dev.yaml
    service = ints(one(dev, SERVICE, "training-mlflow-service")["inputs"]["spec"])
    assert selects({"matchLabels": service["selector"]}, spec and _mlflow_pod_labels(dev))
    assert service["ports"][0]["port"] == 5000


def test_no_in_cluster_registry_nothing_would_pull_from(dev):
    """Images go straight into Minikube's image store (pull policy Never): no registry
    Deployment, volume, Service or policy is declared, and the images name no registry host."""
    assert not [r for r in dev if r["name"].startswith("registry-") and r["type"].startswith("kubernetes:")]
    serving = pod_spec(one(dev, DEPLOYMENT, "serving-deployment"))["containers"][0]
    assert serving["imagePullPolicy"] == "Never"
    assert serving["image"].split("/")[0] == "mlops-platform"


def test_every_kubernetes_object_carries_the_platform_labels(dev):
    for r in dev:
        # A Helm release is not an object; the chart's objects get the labels through
        # values.commonLabels (tests/components/test_monitoring_local.py).
        if r["type"].startswith("kubernetes:") and not r["type"].startswith("kubernetes:helm.sh/"):
            labels = r["inputs"]["metadata"].get("labels") or {}
            assert REQUIRED_LABELS <= set(labels), f"{r['urn']} misses {REQUIRED_LABELS - set(labels)}"


def test_data_volumes_are_protected_only_when_config_says(capture, dev):
    assert not any(r["protect"] for r in dev)
    protected = capture("dev", {"protectData": "true"})
    names = {r["name"] for r in protected if r["protect"]}
    # The monitoring namespace guards Prometheus's volume (deleting it deletes the history).
    assert names == {"training-mlflow-data", "monitoring-namespace"}
