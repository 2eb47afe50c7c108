"""Network: where the platform's workloads live and what may talk to what.

local: the platform namespace with default-deny ingress and egress and the allow rules the
platform needs (DNS, serving <- ingress, Prometheus -> scrape, serving -> MLflow).
aws: VPC over several AZs, private/public subnets, NAT, VPC endpoints, flow logs.
azure: resource group, VNet, subnets, NSGs, private DNS zones.
"""


from typing import Any, Mapping, Optional, TypedDict

import pulumi
from typing_extensions import NotRequired

from . import common, spec
from .aws.options import AwsNetworkOptions
from .azure.options import AzureNetworkOptions
from .local.options import LocalKubeconfigOptions
from .base import PlatformComponent, Settings, declared_outputs, with_defaults


class NetworkArgs(TypedDict):
    """Arguments of :class:`Network`."""

    target: str
    """Where the platform runs: ``local`` (Minikube), ``aws`` or ``azure``."""
    namespace: NotRequired[str]
    """Kubernetes namespace of the platform (default ``mlops``). Its default-deny
    NetworkPolicies are created by this component on local and by Cluster on EKS/AKS,
    where the namespace cannot exist before the cluster does."""
    cidr: NotRequired[str]
    """IPv4 range of the VPC/VNet (default ``10.40.0.0/16``, /16 to /24). Subnets are carved
    from it by availability-zone index, so adding a zone never renumbers existing subnets."""
    availability_zones: NotRequired[int]
    """How many zones to span (default 2, at most 6); prod uses 3."""
    high_availability: NotRequired[bool]
    """One NAT gateway per zone when true; a single shared one otherwise (default false: cheap dev)."""
    environment: NotRequired[str]
    """``dev`` | ``staging`` | ``prod`` (default ``dev``)."""
    tags: NotRequired[Mapping[str, str]]
    """Tags/labels put on every child (see components.tags.standard_tags)."""
    local: NotRequired[LocalKubeconfigOptions]
    """local only: the kubeconfig context (components/local/options.py)."""
    aws: NotRequired[AwsNetworkOptions]
    """aws only: extra options (components/aws/options.py)."""
    azure: NotRequired[AzureNetworkOptions]
    """azure only: extra options (components/azure/options.py)."""


#: The per-target options blocks, each declared once (components/spec.py).
OPTIONS = {"local": LocalKubeconfigOptions, "aws": AwsNetworkOptions, "azure": AzureNetworkOptions}

DEFAULTS: dict[str, Any] = {
    "target": None,
    "namespace": "mlops",
    "cidr": "10.40.0.0/16",
    "availability_zones": 2,
    "high_availability": False,
    "environment": "dev",
    "tags": {},
    "local": {},
    "aws": {},
    "azure": {},
}


def resolve_network_args(args: Mapping[str, Any]) -> Settings:
    """Apply defaults and validate; raises ArgsError with one line naming the key."""
    merged = with_defaults(args, DEFAULTS)
    common.check_target(merged["target"])
    spec.resolve_blocks(merged, OPTIONS)
    common.check_environment(merged["environment"])
    common.check_dns_label("namespace", merged["namespace"])
    common.check_cidr("cidr", merged["cidr"])
    common.check_int("availability_zones", merged["availability_zones"], 1, 6)
    return Settings(merged)


class NetworkOutputs(TypedDict):
    """What a Network backend returns (checked by components/base.py: no key more or less)."""

    namespace: pulumi.Input[str]
    network_id: NotRequired[pulumi.Input[str]]
    cidr: NotRequired[str]
    private_subnet_ids: NotRequired[pulumi.Input[list[str]]]
    public_subnet_ids: NotRequired[pulumi.Input[list[str]]]
    subnet_ids: NotRequired[pulumi.Input[dict[str, str]]]
    log_analytics_workspace_id: NotRequired[pulumi.Input[str]]
    resource_group_name: NotRequired[pulumi.Input[str]]


class Network(PlatformComponent):
    """The platform's network (type token ``mlops:index:Network``)."""

    CONCERN = "network"
    ONLY_ON = {
        "network_id": ("aws", "azure"), "cidr": ("aws", "azure"), "private_subnet_ids": ("aws", "azure"),
        "public_subnet_ids": ("aws",), "subnet_ids": ("azure",), "log_analytics_workspace_id": ("azure",),
        "resource_group_name": ("azure",),
    }
    OUTPUTS = declared_outputs(NetworkOutputs, ONLY_ON)

    namespace: pulumi.Output[str]
    """The platform's Kubernetes namespace name."""
    network_id: Optional[pulumi.Output[str]]
    """aws: the VPC id; azure: the VNet id. Absent on local."""
    cidr: Optional[pulumi.Output[str]]
    """aws, azure: the network's IPv4 range. Absent on local."""
    private_subnet_ids: Optional[pulumi.Output[list[str]]]
    """aws: one private subnet per zone (nodes, endpoints); azure: every subnet (use
    ``subnet_ids`` to pick one by role). Absent on local."""
    public_subnet_ids: Optional[pulumi.Output[list[str]]]
    """aws only: the public subnets (load balancers, NAT)."""
    subnet_ids: Optional[pulumi.Output[dict[str, str]]]
    """azure only: subnet id by role (``cluster``, ``endpoints``, ``training``)."""
    log_analytics_workspace_id: Optional[pulumi.Output[str]]
    """azure only: the platform's Log Analytics workspace (every diagnostic setting's sink)."""
    resource_group_name: Optional[pulumi.Output[str]]
    """azure only: the resource group every azure child lives in."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        self._setup(name, args, resolve_network_args, opts)
