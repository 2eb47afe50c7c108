"""Cluster: the Kubernetes cluster every workload runs on, and the provider that reaches it.

local: a ``pulumi_kubernetes.Provider`` on the configured kubeconfig context (no cloud resources).
aws: EKS with KMS envelope encryption, private endpoint, access entries, pod identity, node groups.
azure: AKS with managed identity, Entra ID + Azure RBAC, no local accounts, autoscaling pool.
On every target the ``provider`` output is what the Kubernetes-based pieces deploy through.
"""


from typing import Any, Mapping, Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from typing_extensions import NotRequired

from . import common, spec
from .aws.options import AwsClusterOptions
from .azure.options import AzureClusterOptions
from .local.options import LocalKubeconfigOptions
from .base import PlatformComponent, Settings, declared_outputs, with_defaults


class ClusterArgs(TypedDict):
    """Arguments of :class:`Cluster`."""

    target: str
    """``local`` | ``aws`` | ``azure``."""
    namespace: NotRequired[pulumi.Input[str]]
    """The platform namespace (pass ``network.namespace``; default ``mlops``)."""
    kubernetes_version: NotRequired[str]
    """Control-plane version on EKS/AKS (default ``1.33``)."""
    network_id: NotRequired[Optional[pulumi.Input[str]]]
    """VPC/VNet id from Network (cloud targets)."""
    private_subnet_ids: NotRequired[Optional[pulumi.Input[list[str]]]]
    """Where nodes go (cloud targets): pass ``network.private_subnet_ids``."""
    node_count: NotRequired[int]
    """Desired nodes in the default pool (default 2; 1 to 100)."""
    node_min_count: NotRequired[int]
    """Autoscaler floor (default 1)."""
    node_max_count: NotRequired[int]
    """Autoscaler ceiling (default 4)."""
    node_size: NotRequired[str]
    """Instance type / VM size; empty means the backend's cheap default."""
    environment: NotRequired[str]
    """``dev`` | ``staging`` | ``prod`` (default ``dev``)."""
    protect_data: NotRequired[bool]
    """Protect keys and stateful pieces from deletion (default false; true in prod)."""
    tags: NotRequired[Mapping[str, str]]
    """Tags/labels for every child."""
    local: NotRequired[LocalKubeconfigOptions]
    """local only: the kubeconfig context (components/local/options.py)."""
    aws: NotRequired[AwsClusterOptions]
    """aws-only options."""
    azure: NotRequired[AzureClusterOptions]
    """azure-only options."""


#: The per-target options blocks, each declared once (components/spec.py).
OPTIONS = {"local": LocalKubeconfigOptions, "aws": AwsClusterOptions, "azure": AzureClusterOptions}

DEFAULTS: dict[str, Any] = {
    "target": None,
    "namespace": "mlops",
    "kubernetes_version": "1.33",
    "network_id": None,
    "private_subnet_ids": [],
    "node_count": 2,
    "node_min_count": 1,
    "node_max_count": 4,
    "node_size": "",
    "environment": "dev",
    "protect_data": False,
    "tags": {},
    "local": {},
    "aws": {},
    "azure": {},
}


def resolve_cluster_args(args: Mapping[str, Any]) -> Settings:
    """Apply defaults and validate; raises ArgsError with one line naming the key."""
    merged = with_defaults(args, DEFAULTS)
    common.check_target(merged["target"])
    spec.resolve_blocks(merged, OPTIONS)
    common.check_environment(merged["environment"])
    common.check_dns_label("namespace", merged["namespace"])
    common.check_int("node_min_count", merged["node_min_count"], 0, 100)
    common.check_int("node_max_count", merged["node_max_count"], 1, 100)
    common.check_int("node_count", merged["node_count"], 1, 100)
    if merged["node_min_count"] > merged["node_max_count"]:
        common.require(False, "node_min_count", merged["node_min_count"],
                       f"at most node_max_count ({merged['node_max_count']})")
    if not merged["node_min_count"] <= merged["node_count"] <= merged["node_max_count"]:
        common.require(False, "node_count", merged["node_count"],
                       f"between node_min_count and node_max_count "
                       f"({merged['node_min_count']}..{merged['node_max_count']})")
    return Settings(merged)


class ClusterOutputs(TypedDict):
    """What a Cluster backend returns (checked by components/base.py)."""

    cluster_name: pulumi.Input[str]
    kubeconfig: pulumi.Input[str]
    namespace: pulumi.Input[str]
    provider: k8s.Provider
    cluster_endpoint: NotRequired[pulumi.Input[str]]
    oidc_issuer_url: NotRequired[pulumi.Input[str]]
    node_identity: NotRequired[pulumi.Input[str]]


class Cluster(PlatformComponent):
    """The Kubernetes cluster (type token ``mlops:index:Cluster``)."""

    CONCERN = "cluster"
    ONLY_ON = {"cluster_endpoint": ("aws", "azure"), "oidc_issuer_url": ("aws", "azure"),
               "node_identity": ("aws", "azure")}
    OUTPUTS = declared_outputs(ClusterOutputs, ONLY_ON)

    cluster_name: pulumi.Output[str]
    """EKS/AKS cluster name, or the kubeconfig context on local."""
    kubeconfig: pulumi.Output[str]
    """A kubeconfig for users and CI (secret). Empty on local, where the user's own is used."""
    namespace: pulumi.Output[str]
    """The platform namespace, ready for workloads."""
    provider: pulumi.Output[k8s.Provider]
    """The Kubernetes provider the Kubernetes-based components deploy through."""
    cluster_endpoint: Optional[pulumi.Output[str]]
    """aws, azure: the API server URL. Absent on local (whatever the context points at)."""
    oidc_issuer_url: Optional[pulumi.Output[str]]
    """aws, azure: the workload identity issuer (EKS OIDC / AKS OIDC issuer)."""
    node_identity: Optional[pulumi.Output[str]]
    """aws: the node role ARN; azure: the kubelet identity's object id."""

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        self._setup(name, args, resolve_cluster_args, opts)
