"""Typed azure-only options of the six components (the ``azure`` field of each Args).

Every component receives ``resource_group_name`` and ``location``: on Azure one platform lives in
one resource group, which the azure Network creates (or adopts, ``create_resource_group: False``).
Cross-component *values* still flow through the composition (the facade args, plus the fields
marked *wired* below, which stacks/config_azure.py takes from earlier components); a backend
takes its ordering from such an upstream output and only the group's *name* from config
(components/azure/common.py ``after``).
"""

# No `from __future__ import annotations` here: the component-provider analyzer
# (components/__main__.py) needs real types, not strings, to build the schema.

from typing import Annotated, TypedDict

import pulumi

from ..spec import Opt, declared

DEFAULT_LOCATION = "westeurope"
DEFAULT_SYSTEM_NODE_SIZE = "Standard_D2s_v5"
DEFAULT_VM_SIZE = "Standard_DS3_v2"


class _AzurePlacement(TypedDict, total=False):
    resource_group_name: Annotated[str, Opt("")]
    """Resource group of the whole platform (stack key ``azureResourceGroup``; default
    ``rg-<project>-<stack>``). Every azure backend creates its resources in it."""
    location: Annotated[str, Opt(DEFAULT_LOCATION)]
    """Azure region (stack key ``azureLocation``, default ``westeurope``)."""
    private_endpoints: Annotated[bool, Opt(False)]
    """Turn public network access off on ACR, Key Vault, storage and the AML workspace and reach
    them through private endpoints in the ``endpoints`` subnet (default false; true in prod).
    ACR then needs the Premium SKU."""


class _AzureLandingZone(_AzurePlacement, total=False):
    log_analytics_workspace_id: Annotated[pulumi.Input[str], Opt(None)]
    """*wired* from Network (``log_analytics_workspace_id``): the platform's Log Analytics
    workspace, where every diagnostic setting and the AKS monitoring add-on send logs."""
    subnet_ids: Annotated[pulumi.Input[dict[str, str]], Opt(None)]
    """*wired* from Network (``subnet_ids``): subnet id by role (``cluster``, ``endpoints``,
    ``training``)."""


@declared
class AzureNetworkOptions(_AzurePlacement, total=False):
    """azure-only options of Network."""

    create_resource_group: Annotated[bool, Opt(True)]
    """Create the resource group (default true) or adopt an existing one of that name (false:
    for subscriptions where a landing-zone team hands out groups)."""
    log_retention_days: Annotated[int, Opt(30, low=7, high=730)]
    """Retention of the platform's Log Analytics workspace (default 30; stack key
    ``logRetentionDays``). The workspace lives with the network because the AKS monitoring
    add-on and Application Insights need it before Monitoring exists."""
    protect_data: Annotated[bool, Opt(False)]
    """Protect the resource group and the Log Analytics workspace from deletion (default false)."""
    ingress_source_prefixes: Annotated[list[str], Opt([])]
    """Source ranges (CIDRs or service tags such as ``Internet``) allowed to reach HTTPS (443)
    on the cluster subnet, where the ingress load balancer lives (default: none). Every other
    inbound flow from the Internet is denied on every subnet."""


@declared
class AzureClusterOptions(_AzureLandingZone, total=False):
    """azure-only options of Cluster."""

    private_cluster: Annotated[bool, Opt(False)]
    """API server on a private IP only (default false; true in prod). ``pulumi up`` must then
    run from inside the VNet (self-hosted runner / jump box): docs/azure.md."""
    authorized_ip_ranges: Annotated[list[str], Opt([])]
    """Public API server only: CIDRs allowed to reach it (default: none = any, dev only)."""
    admin_group_object_ids: Annotated[list[str], Opt([])]
    """Entra ID groups that are cluster admins (Kubernetes RBAC ``cluster-admin``)."""
    deployer_object_id: Annotated[str, Opt("")]
    """Object id of the identity running ``pulumi up``; it gets *Azure Kubernetes Service RBAC
    Cluster Admin* on this cluster only, so the program can create the namespace. Empty: the
    caller of ``az login`` / the CI identity (``getClientConfig``)."""
    deployer_principal_type: Annotated[str, Opt("", choices=("", "User", "ServicePrincipal", "Group"))]
    """``User`` (``az login``), ``ServicePrincipal`` (CI) or ``Group``: what the deployer is
    (Azure refuses a role assignment whose type does not match: ``UnmatchedPrincipalType``).
    Empty (default): derived from the sign-in client; required when the environment is prod."""
    host_encryption: Annotated[bool, Opt(False)]
    """Encrypt node temp disks and caches at the VM host (``EncryptionAtHost``; needs the
    subscription feature registered). Default false; prod true. OS disks are always encrypted
    at rest with platform keys."""
    azure_policy: Annotated[bool, Opt(False)]
    """Enable the Azure Policy add-on (Gatekeeper) (default false)."""
    system_node_size: Annotated[str, Opt(DEFAULT_SYSTEM_NODE_SIZE)]
    """VM size of the system pool (default ``Standard_D2s_v5``)."""
    kubelogin_mode: Annotated[str, Opt("azurecli", choices=("azurecli", "workloadidentity", "msi", "spn"))]
    """``--login`` mode written into the kubeconfig's kubelogin exec plugin: ``azurecli``
    (default), ``workloadidentity`` (CI with federated credentials), ``msi`` or ``spn``."""
    availability_zones: Annotated[int, Opt(3, low=1, high=3)]
    """Zones the node pools spread over (stack key ``availabilityZones``, at most 3; default 3)."""
    sku_tier: Annotated[str, Opt("Free", choices=("Free", "Standard"))]
    """AKS pricing tier: ``Free`` (dev) or ``Standard`` (uptime SLA; prod)."""


@declared
class AzureRegistryOptions(_AzureLandingZone, total=False):
    """azure-only options of Registry."""

    network_id: Annotated[pulumi.Input[str], Opt(None)]
    """*wired* from Network: the VNet id. Orders the registry and its private endpoint after
    the landing zone (resource group, subnets, private DNS zones)."""

    sku: Annotated[str, Opt("Basic", choices=("Basic", "Standard", "Premium"))]
    """ACR SKU: ``Basic`` (default), ``Standard`` or ``Premium`` (needed for private endpoints,
    retention of untagged manifests and zone redundancy)."""


@declared
class AzureTrainingOptions(_AzureLandingZone, total=False):
    """azure-only options of TrainingPlatform."""

    compute_vm_size: Annotated[str, Opt(DEFAULT_VM_SIZE)]
    """VM size of the AML compute cluster (default ``Standard_DS3_v2``)."""
    compute_max_nodes: Annotated[int, Opt(4, low=1, high=100)]
    """Ceiling of the AML compute cluster (default 4). The floor is always 0: it scales to zero."""
    compute_idle_seconds: Annotated[int, Opt(900, low=60, high=86400)]
    """Idle time before the cluster scales down (default 900 s)."""
    infrastructure_encryption: Annotated[bool, Opt(False)]
    """Double encryption (infrastructure layer) on the storage account (default false)."""


@declared
class AzureInferenceOptions(_AzureLandingZone, total=False):
    """azure-only options of InferenceEndpoint."""

    oidc_issuer_url: Annotated[pulumi.Input[str], Opt(None)]
    """*wired* from Cluster: the AKS OIDC issuer the serving identity's federated credential
    trusts (``runtime: kubernetes``)."""
    workspace_name: Annotated[pulumi.Input[str], Opt(None)]
    """*wired* from TrainingPlatform: the AML workspace the endpoint lives in and reads models from."""
    workspace_id: Annotated[pulumi.Input[str], Opt(None)]
    """*wired* from TrainingPlatform (``azureml_workspace_id``): the workspace's resource id, the scope
    of the serving identity's *AzureML Data Scientist* role."""

    auth_mode: Annotated[str, Opt("Key", choices=("Key", "AADToken"))]
    """``runtime: azureml``: ``Key`` (default) or ``AADToken``. Never anonymous."""
    public_access: Annotated[bool, Opt(True)]
    """``runtime: azureml``: scoring reachable from the Internet (default true; prod false: only
    through the workspace's private endpoint)."""
    instance_type: Annotated[str, Opt(DEFAULT_VM_SIZE)]
    """``runtime: azureml``: VM size per deployment instance (default ``Standard_DS3_v2``)."""
    traffic_blue: Annotated[int, Opt(100, low=0, high=100)]
    """``runtime: azureml``: percent of traffic to the blue deployment (default 100)."""
    traffic_green: Annotated[int, Opt(0, low=0, high=100)]
    """``runtime: azureml``: percent to green (default 0); blue + green = 100."""
    green_image: Annotated[str, Opt("")]
    """``runtime: azureml``: image of the green deployment (default: the same as blue), so a
    rollout is two config changes: set the new image on green, then shift traffic."""


@declared
class AzureMonitoringOptions(_AzureLandingZone, total=False):
    """azure-only options of Monitoring."""

    workspace_name: Annotated[pulumi.Input[str], Opt(None)]
    """*wired* from TrainingPlatform: the AML workspace of the online endpoint (``runtime: azureml``)."""
    network_id: Annotated[pulumi.Input[str], Opt(None)]
    """*wired* from Network: orders the alerts after the Log Analytics workspace they query."""

