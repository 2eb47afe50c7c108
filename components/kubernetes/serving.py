"""The serving workload on any Kubernetes (Minikube, EKS, AKS): ServiceAccount, Deployment,
Service, HorizontalPodAutoscaler (autoscaling/v2), PodDisruptionBudget and NetworkPolicy.

The environment variable names and routes are the serving app's contract (serving/contract.py);
components/ must not import serving/, so they are repeated here and a test keeps them equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes.apps.v1 as apps
import pulumi_kubernetes.autoscaling.v2 as autoscaling
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.networking.v1 as net
import pulumi_kubernetes.policy.v1 as policy

from contract.serving import HEALTH_LIVE_PATH, HEALTH_READY_PATH
from contract.serving import METRICS_PATH  # noqa: F401 (kubernetes/monitoring.py imports it from here)
from contract.serving import MODEL_URI_ENV as ENV_MODEL_URI
from contract.serving import DEFAULT_PROBE_PORT
from contract.serving import PORT_ENV as ENV_PORT
from contract.serving import PROBE_PORT_ENV as ENV_PROBE_PORT
# First-model bootstrap: Ready while the registry says the model or alias does not exist yet, so
# a fresh `pulumi up` finishes before any model is trained; `serving_model_loaded` 0 and the
# ServingAwaitingModel alert tell someone.
from contract.serving import READY_WITHOUT_MODEL_ENV as ENV_READY_WITHOUT_MODEL
from contract.serving import TRACKING_URI_ENV as ENV_TRACKING_URI

from . import retrain, security
from .tenancy import APP, MLFLOW_APP, MLFLOW_PORT, PROMETHEUS_APP, SERVING_APP, SERVING_PORT

PORT_NAME = "http"
#: The serving app's probe port (own thread, never queued behind inference: issue 18, defect 5).
PROBE_PORT_NAME = "probes"
#: Pods carrying this label in the namespace may call the endpoint directly.
CLIENT_LABEL = "mlops-platform/serving-client"


@dataclass(frozen=True)
class ServingObjects:
    service_account: core.ServiceAccount
    deployment: apps.Deployment
    service: core.Service
    hpa: autoscaling.HorizontalPodAutoscaler
    pdb: policy.PodDisruptionBudget
    network_policy: net.NetworkPolicy
    url: pulumi.Output[str]
    canary: apps.Deployment | None = None
    retraining: retrain.RetrainObjects | None = None


def pod_labels(instance: str) -> dict[str, str]:
    """Labels that select one endpoint's pods (Service, HPA target, PDB, NetworkPolicy)."""
    return {APP: SERVING_APP, "app.kubernetes.io/instance": instance}


def serving_container(settings: Mapping[str, Any], model_uri: str | None = None) -> core.ContainerArgs:
    return core.ContainerArgs(
        name="serving",
        image=settings["image"],
        image_pull_policy=settings["image_pull_policy"],
        ports=[core.ContainerPortArgs(name=PORT_NAME, container_port=SERVING_PORT, protocol="TCP"),
               core.ContainerPortArgs(name=PROBE_PORT_NAME, container_port=DEFAULT_PROBE_PORT, protocol="TCP")],
        env=[
            core.EnvVarArgs(name=ENV_MODEL_URI, value=model_uri or settings["model_uri"]),
            core.EnvVarArgs(name=ENV_TRACKING_URI, value=settings["tracking_uri"]),
            core.EnvVarArgs(name=ENV_PORT, value=str(SERVING_PORT)),
            core.EnvVarArgs(name=ENV_PROBE_PORT, value=str(DEFAULT_PROBE_PORT)),
            core.EnvVarArgs(name=ENV_READY_WITHOUT_MODEL, value="true"),
        ],
        resources=security.resources(
            settings["cpu_request"], settings["memory_request"], settings["cpu_limit"], settings["memory_limit"]
        ),
        startup_probe=security.http_probe(HEALTH_LIVE_PATH, PROBE_PORT_NAME, period=5, failures=24),
        liveness_probe=security.http_probe(HEALTH_LIVE_PATH, PROBE_PORT_NAME, period=10, failures=3),
        readiness_probe=security.http_probe(HEALTH_READY_PATH, PROBE_PORT_NAME, period=5, failures=2),
        security_context=security.container_security_context(),
        volume_mounts=[core.VolumeMountArgs(name="tmp", mount_path="/tmp")],
    )


def create_serving(
    name: str,
    settings: Mapping[str, Any],
    labels: Mapping[str, str],
    parent: pulumi.Resource,
    allow_https_egress: bool = False,
) -> ServingObjects:
    """Declare the serving objects for one endpoint named ``name`` in ``settings['namespace']``.

    ``allow_https_egress`` opens TCP 443 out of the pods, which cloud targets need to reach a
    managed MLflow, object storage and the identity endpoints; local keeps it closed.
    """
    namespace = settings["namespace"]
    selector = pod_labels(name)
    all_labels = {**labels, **selector}
    opts = pulumi.ResourceOptions(parent=parent)
    # Canary rollout (components/kubernetes/retrain.py): the Service selects both tracks, each
    # Deployment only its own (changing this selector replaces the stable Deployment).
    canary = int(settings.get("canary_bake_minutes") or 0) > 0
    stable = {retrain.TRACK_LABEL: "stable"} if canary else {}

    def metadata(role: str = "") -> meta.ObjectMetaArgs:
        return meta.ObjectMetaArgs(name=f"{name}{role}", namespace=namespace, labels=all_labels)

    sa = core.ServiceAccount(
        f"{name}-sa",
        metadata=meta.ObjectMetaArgs(
            name=name, namespace=namespace, labels=all_labels,
            annotations=settings.get("service_account_annotations") or None,
        ),
        automount_service_account_token=False,
        opts=opts,
    )
    deployment = apps.Deployment(
        f"{name}-deployment",
        metadata=metadata(),
        spec=apps.DeploymentSpecArgs(
            # No `replicas`: the HPA owns the count, so `pulumi up` never fights the autoscaler.
            selector=meta.LabelSelectorArgs(match_labels={**selector, **stable}),
            strategy=apps.DeploymentStrategyArgs(
                type="RollingUpdate",
                rolling_update=apps.RollingUpdateDeploymentArgs(max_surge="25%", max_unavailable=0),
            ),
            template=pod_template(settings, sa, {**all_labels, **stable}, {**selector, **stable}),
        ),
        opts=opts,
    )
    canary_deployment = None
    if canary:
        track = {retrain.TRACK_LABEL: "canary"}
        canary_deployment = apps.Deployment(
            f"{name}-canary",
            metadata=meta.ObjectMetaArgs(name=f"{name}-canary", namespace=namespace, labels={**all_labels, **track}),
            spec=apps.DeploymentSpecArgs(
                replicas=1,
                selector=meta.LabelSelectorArgs(match_labels={**selector, **track}),
                strategy=apps.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=apps.RollingUpdateDeploymentArgs(max_surge=1, max_unavailable=0),
                ),
                template=pod_template(settings, sa, {**all_labels, **track}, {**selector, **track},
                                      model_uri=retrain.challenger_uri(settings["model_uri"])),
            ),
            opts=opts,
        )
    service = core.Service(
        f"{name}-service",
        metadata=metadata(),
        spec=core.ServiceSpecArgs(
            type="ClusterIP",
            selector=selector,
            ports=[core.ServicePortArgs(name=PORT_NAME, port=80, target_port=PORT_NAME, protocol="TCP")],
        ),
        opts=opts,
    )
    hpa = autoscaling.HorizontalPodAutoscaler(
        f"{name}-hpa",
        metadata=metadata(),
        spec=autoscaling.HorizontalPodAutoscalerSpecArgs(
            scale_target_ref=autoscaling.CrossVersionObjectReferenceArgs(
                api_version="apps/v1", kind="Deployment", name=deployment.metadata.apply(lambda m: m.name)
            ),
            min_replicas=settings["min_replicas"],
            max_replicas=settings["max_replicas"],
            metrics=[
                autoscaling.MetricSpecArgs(
                    type="Resource",
                    resource=autoscaling.ResourceMetricSourceArgs(
                        name="cpu",
                        target=autoscaling.MetricTargetArgs(
                            type="Utilization", average_utilization=settings["target_cpu_utilization"]
                        ),
                    ),
                )
            ],
        ),
        opts=opts,
    )
    pdb = policy.PodDisruptionBudget(
        f"{name}-pdb",
        metadata=metadata(),
        # With one replica `minAvailable: 1` would block every node drain; allow one pod down.
        spec=policy.PodDisruptionBudgetSpecArgs(
            selector=meta.LabelSelectorArgs(match_labels=selector),
            **({"min_available": 1} if settings["min_replicas"] >= 2 else {"max_unavailable": 1}),
        ),
        opts=opts,
    )
    network_policy = net.NetworkPolicy(
        f"{name}-netpol",
        metadata=metadata(),
        spec=net.NetworkPolicySpecArgs(
            pod_selector=meta.LabelSelectorArgs(match_labels=selector),
            policy_types=["Ingress", "Egress"],
            ingress=[
                net.NetworkPolicyIngressRuleArgs(
                    from_=[
                        net.NetworkPolicyPeerArgs(pod_selector=meta.LabelSelectorArgs(match_labels={CLIENT_LABEL: "true"})),
                        net.NetworkPolicyPeerArgs(
                            namespace_selector=meta.LabelSelectorArgs(),
                            pod_selector=meta.LabelSelectorArgs(match_labels={APP: PROMETHEUS_APP}),
                        ),
                    ],
                    ports=[net.NetworkPolicyPortArgs(port=SERVING_PORT, protocol="TCP")],
                )
            ],
            egress=[
                net.NetworkPolicyEgressRuleArgs(
                    to=[net.NetworkPolicyPeerArgs(pod_selector=meta.LabelSelectorArgs(match_labels={APP: MLFLOW_APP}))],
                    ports=[net.NetworkPolicyPortArgs(port=MLFLOW_PORT, protocol="TCP")],
                ),
                *(
                    [net.NetworkPolicyEgressRuleArgs(ports=[net.NetworkPolicyPortArgs(port=443, protocol="TCP")])]
                    if allow_https_egress
                    else []
                ),
            ],
        ),
        opts=opts,
    )
    service_name = service.metadata.apply(lambda m: m.name)
    url = pulumi.Output.all(service_name, namespace).apply(
        lambda a: f"http://{a[0]}.{a[1]}.svc.cluster.local"
    )
    retraining = retrain.create_retraining(
        name, settings, labels, parent, url, service_name, CLIENT_LABEL, allow_https_egress
    )
    return ServingObjects(sa, deployment, service, hpa, pdb, network_policy, url, canary_deployment, retraining)


def pod_template(settings: Mapping[str, Any], sa: core.ServiceAccount, labels: Mapping[str, str],
                 spread: Mapping[str, str], model_uri: str | None = None) -> core.PodTemplateSpecArgs:
    """The serving pod (stable, or the canary serving ``model_uri``)."""
    return core.PodTemplateSpecArgs(
        metadata=meta.ObjectMetaArgs(labels=dict(labels)),
        spec=core.PodSpecArgs(
            service_account_name=sa.metadata.apply(lambda m: m.name),
            automount_service_account_token=False,
            # Service links would inject SERVING_PORT=tcp://... for the Service named
            # `serving`, over the app's own SERVING_PORT setting.
            enable_service_links=False,
            security_context=security.pod_security_context(),
            containers=[serving_container(settings, model_uri)],
            volumes=[security.tmp_volume()],
            termination_grace_period_seconds=30,
            topology_spread_constraints=[
                core.TopologySpreadConstraintArgs(
                    max_skew=1,
                    topology_key="kubernetes.io/hostname",
                    when_unsatisfiable="ScheduleAnyway",
                    label_selector=meta.LabelSelectorArgs(match_labels=dict(spread)),
                )
            ],
        ),
    )
