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

from typing import TypedDict

import pulumi


class _AzurePlacement(TypedDict, total=False):
    resource_group_name: str
    """Resource group of the whole platform (stack key ``azureResourceGroup``; default
    ``rg-<project>-<stack>``). Every azure backend creates its resources in it."""
    location: str
    """Azure region (stack key ``azureLocation``, default ``westeurope``)."""
    private_endpoints: bool
    """Turn public network access off on ACR, Key Vault, storage and the AML workspace and reach
    them through private endpoints in the ``endpoints`` subnet (default false; true in prod).
    ACR then needs the Premium SKU."""


class AzureNetworkOptions(_AzurePlacement, total=False):
    """azure-only options of Network."""

    create_resource_group: bool
    """Create the resource group (default true) or adopt an existing one of that name (false:
    for subscriptions where a landing-zone team hands out groups)."""
    log_retention_days: int
    """Retention of the platform's Log Analytics workspace (default 30; stack key
    ``logRetentionDays``). The workspace lives with the network because the AKS monitoring
    add-on and Application Insights need it before Monitoring exists."""
    protect_data: bool
    """Protect the resource group and the Log Analytics workspace from deletion (default false)."""
    ingress_source_prefixes: list[str]
    """Source ranges (CIDRs or service tags such as ``Internet``) allowed to reach HTTPS (443)
    on the cluster subnet, where the ingress load balancer lives (default: none). Every other
    inbound flow from the Internet is denied on every subnet."""


class AzureClusterOptions(_AzurePlacement, total=False):
    """azure-only options of Cluster."""

    private_cluster: bool
    """API server on a private IP only (default false; true in prod). ``pulumi up`` must then
    run from inside the VNet (self-hosted runner / jump box): docs/azure.md."""
    authorized_ip_ranges: list[str]
    """Public API server only: CIDRs allowed to reach it (default: none = any, dev only)."""
    admin_group_object_ids: list[str]
    """Entra ID groups that are cluster admins (Kubernetes RBAC ``cluster-admin``)."""
    deployer_object_id: str
    """Object id of the identity running ``pulumi up``; it gets *Azure Kubernetes Service RBAC
    Cluster Admin* on this cluster only, so the program can create the namespace. Empty: the
    caller of ``az login`` / the CI identity (``getClientConfig``)."""
    deployer_principal_type: str
    """``User`` (default: ``az login``), ``ServicePrincipal`` (CI) or ``Group``: what
    ``deployer_object_id`` is (Azure refuses a role assignment whose type does not match)."""
    host_encryption: bool
    """Encrypt node temp disks and caches at the VM host (``EncryptionAtHost``; needs the
    subscription feature registered). Default false; prod true. OS disks are always encrypted
    at rest with platform keys."""
    azure_policy: bool
    """Enable the Azure Policy add-on (Gatekeeper) (default false)."""
    system_node_size: str
    """VM size of the system pool (default ``Standard_D2s_v5``)."""
    kubelogin_mode: str
    """``--login`` mode written into the kubeconfig's kubelogin exec plugin: ``azurecli``
    (default), ``workloadidentity`` (CI with federated credentials), ``msi`` or ``spn``."""
    availability_zones: int
    """Zones the node pools spread over (stack key ``availabilityZones``, at most 3; default 3)."""
    sku_tier: str
    """AKS pricing tier: ``Free`` (dev) or ``Standard`` (uptime SLA; prod)."""


class AzureRegistryOptions(_AzurePlacement, total=False):
    """azure-only options of Registry."""

    network_id: pulumi.Input[str]
    """*wired* from Network: the VNet id. Orders the registry and its private endpoint after
    the landing zone (resource group, subnets, private DNS zones)."""

    sku: str
    """ACR SKU: ``Basic`` (default), ``Standard`` or ``Premium`` (needed for private endpoints,
    retention of untagged manifests and zone redundancy)."""


class AzureTrainingOptions(_AzurePlacement, total=False):
    """azure-only options of TrainingPlatform."""

    compute_vm_size: str
    """VM size of the AML compute cluster (default ``Standard_DS3_v2``)."""
    compute_max_nodes: int
    """Ceiling of the AML compute cluster (default 4). The floor is always 0: it scales to zero."""
    compute_idle_seconds: int
    """Idle time before the cluster scales down (default 900 s)."""
    infrastructure_encryption: bool
    """Double encryption (infrastructure layer) on the storage account (default false)."""


class AzureInferenceOptions(_AzurePlacement, total=False):
    """azure-only options of InferenceEndpoint."""

    oidc_issuer_url: pulumi.Input[str]
    """*wired* from Cluster: the AKS OIDC issuer the serving identity's federated credential
    trusts (``runtime: kubernetes``)."""
    workspace_name: pulumi.Input[str]
    """*wired* from TrainingPlatform: the AML workspace the endpoint lives in and reads models from."""
    workspace_id: pulumi.Input[str]
    """*wired* from TrainingPlatform (``model_registry``): the workspace's resource id, the scope
    of the serving identity's *AzureML Data Scientist* role."""

    auth_mode: str
    """``runtime: azureml``: ``Key`` (default) or ``AADToken``. Never anonymous."""
    public_access: bool
    """``runtime: azureml``: scoring reachable from the Internet (default true; prod false: only
    through the workspace's private endpoint)."""
    instance_type: str
    """``runtime: azureml``: VM size per deployment instance (default ``Standard_DS3_v2``)."""
    traffic_blue: int
    """``runtime: azureml``: percent of traffic to the blue deployment (default 100)."""
    traffic_green: int
    """``runtime: azureml``: percent to green (default 0); blue + green = 100."""
    green_image: str
    """``runtime: azureml``: image of the green deployment (default: the same as blue), so a
    rollout is two config changes: set the new image on green, then shift traffic."""


class AzureMonitoringOptions(_AzurePlacement, total=False):
    """azure-only options of Monitoring."""

    workspace_name: pulumi.Input[str]
    """*wired* from TrainingPlatform: the AML workspace of the online endpoint (``runtime: azureml``)."""
    network_id: pulumi.Input[str]
    """*wired* from Network: orders the alerts after the Log Analytics workspace they query."""

    runtime: str
    """The InferenceEndpoint runtime watched (``kubernetes`` or ``azureml``): it decides which
    Log Analytics tables the alert and workbook queries read."""
