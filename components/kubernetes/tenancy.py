"""The platform namespace and its network baseline: default-deny both ways plus the few paths
the platform needs. Used by the local Network and by the EKS/AKS Cluster backends.

Selectors are label-based, so the rules follow the workloads whatever their instance names:
serving pods carry ``app.kubernetes.io/name: serving``, MLflow ``mlflow``, training jobs
``training``, and Prometheus (kube-prometheus-stack) ``app.kubernetes.io/name: prometheus``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.networking.v1 as net

from contract.serving import DEFAULT_PORT

from .security import RESTRICTED_NAMESPACE_LABELS

APP = "app.kubernetes.io/name"
SERVING_APP = "serving"
MLFLOW_APP = "mlflow"
TRAINING_APP = "training"
REGISTRY_APP = "registry"
PROMETHEUS_APP = "prometheus"
SERVING_PORT = DEFAULT_PORT  # the serving app's port (contract/serving.py)
MLFLOW_PORT = 5000
REGISTRY_PORT = 5000
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Tenancy:
    namespace: core.Namespace
    name: pulumi.Output[str]
    policies: list[net.NetworkPolicy]


def _pods(app: str) -> meta.LabelSelectorArgs:
    return meta.LabelSelectorArgs(match_labels={APP: app})


def _port(port: int, protocol: str = "TCP") -> net.NetworkPolicyPortArgs:
    return net.NetworkPolicyPortArgs(port=port, protocol=protocol)


def _from_namespace(ns: str) -> net.NetworkPolicyPeerArgs:
    return net.NetworkPolicyPeerArgs(
        namespace_selector=meta.LabelSelectorArgs(match_labels={NAMESPACE_NAME_LABEL: ns})
    )


def policy_specs(ingress_namespace: str) -> dict[str, net.NetworkPolicySpecArgs]:
    """The baseline policies by role (pure data; tests read it without mocks)."""
    dns = net.NetworkPolicyPeerArgs(
        namespace_selector=meta.LabelSelectorArgs(match_labels={NAMESPACE_NAME_LABEL: "kube-system"}),
        pod_selector=meta.LabelSelectorArgs(match_labels={"k8s-app": "kube-dns"}),
    )
    prometheus = net.NetworkPolicyPeerArgs(
        namespace_selector=meta.LabelSelectorArgs(),
        pod_selector=_pods(PROMETHEUS_APP),
    )
    mlflow_clients = [
        net.NetworkPolicyPeerArgs(pod_selector=_pods(SERVING_APP)),
        net.NetworkPolicyPeerArgs(pod_selector=_pods(TRAINING_APP)),
    ]
    return {
        "default-deny": net.NetworkPolicySpecArgs(
            pod_selector=meta.LabelSelectorArgs(), policy_types=["Ingress", "Egress"]
        ),
        "allow-dns": net.NetworkPolicySpecArgs(
            pod_selector=meta.LabelSelectorArgs(),
            policy_types=["Egress"],
            egress=[net.NetworkPolicyEgressRuleArgs(to=[dns], ports=[_port(53, "UDP"), _port(53, "TCP")])],
        ),
        "allow-ingress-to-serving": net.NetworkPolicySpecArgs(
            pod_selector=_pods(SERVING_APP),
            policy_types=["Ingress"],
            ingress=[net.NetworkPolicyIngressRuleArgs(from_=[_from_namespace(ingress_namespace)], ports=[_port(SERVING_PORT)])],
        ),
        "allow-prometheus-scrape": net.NetworkPolicySpecArgs(
            pod_selector=_pods(SERVING_APP),
            policy_types=["Ingress"],
            ingress=[net.NetworkPolicyIngressRuleArgs(from_=[prometheus], ports=[_port(SERVING_PORT)])],
        ),
        "allow-mlflow-clients": net.NetworkPolicySpecArgs(
            pod_selector=_pods(MLFLOW_APP),
            policy_types=["Ingress"],
            ingress=[net.NetworkPolicyIngressRuleArgs(from_=mlflow_clients, ports=[_port(MLFLOW_PORT)])],
        ),
        "allow-egress-to-mlflow": net.NetworkPolicySpecArgs(
            pod_selector=meta.LabelSelectorArgs(
                match_expressions=[meta.LabelSelectorRequirementArgs(key=APP, operator="In", values=[SERVING_APP, TRAINING_APP])]
            ),
            policy_types=["Egress"],
            egress=[net.NetworkPolicyEgressRuleArgs(to=[net.NetworkPolicyPeerArgs(pod_selector=_pods(MLFLOW_APP))], ports=[_port(MLFLOW_PORT)])],
        ),
        # Kubelets pull from the in-cluster registry through the node network; pushes come through
        # `kubectl port-forward`. Both arrive from inside the cluster, never from outside it.
        "allow-registry-pulls": net.NetworkPolicySpecArgs(
            pod_selector=_pods(REGISTRY_APP),
            policy_types=["Ingress"],
            ingress=[net.NetworkPolicyIngressRuleArgs(from_=[net.NetworkPolicyPeerArgs(namespace_selector=meta.LabelSelectorArgs())], ports=[_port(REGISTRY_PORT)])],
        ),
    }


def create_isolated_namespace(
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    specs: Mapping[str, net.NetworkPolicySpecArgs],
    parent: pulumi.Resource,
    provider: pulumi.ProviderResource | None = None,
    protect: bool = False,
) -> Tenancy:
    """A namespace under the restricted Pod Security Standard with one NetworkPolicy per entry
    of ``specs`` (role -> spec; include a default-deny). ``protect`` guards the namespace only."""
    opts = pulumi.ResourceOptions(parent=parent, provider=provider)
    ns = core.Namespace(
        f"{name}-namespace",
        metadata=meta.ObjectMetaArgs(name=namespace, labels={**labels, **RESTRICTED_NAMESPACE_LABELS}),
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, protect=protect),
    )
    ns_name = ns.metadata.apply(lambda m: m.name)
    policies = [
        net.NetworkPolicy(
            f"{name}-{role}",
            metadata=meta.ObjectMetaArgs(name=role, namespace=ns_name, labels=dict(labels)),
            spec=spec,
            opts=opts,
        )
        for role, spec in specs.items()
    ]
    return Tenancy(namespace=ns, name=ns_name, policies=policies)


def create_tenancy(
    name: str,
    namespace: str,
    labels: Mapping[str, str],
    parent: pulumi.Resource,
    ingress_namespace: str = "ingress-nginx",
    provider: pulumi.ProviderResource | None = None,
) -> Tenancy:
    """Create the platform namespace (restricted Pod Security) and its baseline NetworkPolicies.

    ``provider`` overrides the one inherited from ``parent`` (the cloud Cluster backends pass
    the provider of the cluster they just made).
    """
    return create_isolated_namespace(
        name, namespace, labels, policy_specs(ingress_namespace), parent, provider=provider
    )
