"""Cluster on Azure: AKS with Entra ID + Azure RBAC, no local accounts, workload identity.

* Control plane runs as a user-assigned identity holding *Network Contributor* on the cluster
  subnet only (what a bring-your-own-subnet cluster needs, granted before the cluster exists).
* ``aadProfile.managed`` + ``enableAzureRBAC`` and ``disableLocalAccounts``: every API call is an
  Entra identity; there is no static admin certificate to leak. The deployer gets *Azure
  Kubernetes Service RBAC Cluster Admin* on this cluster only, so the program can create the
  namespace; admins come from ``admin_group_object_ids``.
* Private API server in prod (``private_cluster``); otherwise ``authorized_ip_ranges``.
* OIDC issuer + workload identity for pods; Azure CNI overlay with Cilium network policy, so the
  baseline NetworkPolicies (components/kubernetes/tenancy.py) are enforced.
* System pool (tainted for critical add-ons) and an autoscaling user pool, both on Azure Linux,
  in the ``cluster`` subnet, spread over zones, with encryption at host from config.
* Monitoring add-on (Container Insights, Entra auth) and control-plane diagnostics into the
  landing zone's Log Analytics workspace.

Kubeconfig: ``listClusterUserCredential`` in ``exec`` format, i.e. a kubelogin exec plugin; the
``--login`` mode is rewritten to ``kubelogin_mode`` (``azurecli`` on laptops, ``workloadidentity``
in CI). Users and CI therefore need ``kubelogin`` on PATH (``az aks install-cli``).
"""

from __future__ import annotations

import base64
from typing import Any

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.containerservice as cs
import pulumi_azure_native.managedidentity as managedidentity
import pulumi_kubernetes as k8s
import yaml

from ..kubernetes.tenancy import create_tenancy
from ..tags import kubernetes_labels
from .common import (
    CLUSTER_SUBNET,
    diagnostic_setting,
    log_workspace_id,
    name as cloud,
    opts,
    placement,
    role_assignment,
)

#: Entra application id of the AKS AAD server (the audience kubelogin requests tokens for).
AKS_AAD_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
KUBELOGIN_MODES = ("azurecli", "workloadidentity", "msi", "spn")
DEFAULT_NODE_SIZE = "Standard_D4s_v5"
#: Control-plane log categories kept (audit-admin, not the full audit stream: cost).
CONTROL_PLANE_LOGS = ("kube-apiserver", "kube-audit-admin", "kube-controller-manager", "cluster-autoscaler", "guard")


def kubelogin_kubeconfig(raw: str, mode: str) -> str:
    """Rewrite every kubelogin exec user of ``raw`` to ``get-token --login <mode>``.

    ``devicecode`` (the API default) cannot run unattended; ``azurecli`` reuses ``az login`` and
    ``workloadidentity`` reads the federated token CI provides (AZURE_* variables).
    """
    if mode not in KUBELOGIN_MODES:
        raise ValueError(f"kubelogin_mode: {mode!r} is not allowed; allowed: {', '.join(KUBELOGIN_MODES)}")
    config = yaml.safe_load(raw)
    for user in config.get("users") or []:
        exec_ = (user.get("user") or {}).get("exec")
        if exec_ and exec_.get("command") == "kubelogin":
            exec_["args"] = ["get-token", "--login", mode, "--server-id", AKS_AAD_SERVER_ID]
            exec_.pop("interactiveMode", None)
            exec_["interactiveMode"] = "Never"
    return yaml.safe_dump(config, sort_keys=False)


def zones(count: int) -> list[str]:
    return [str(z) for z in range(1, min(count, 3) + 1)]


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    options = settings.azure  # resolved: every option present (components/spec.py)
    where = placement(component, settings, anchor=settings.network_id)
    tags = where.tags
    subnet = pulumi.Output.from_input(settings.private_subnet_ids).apply(lambda ids: ids[CLUSTER_SUBNET])
    workspace_id = pulumi.Output.all(where.subscription_id, where.resource_group).apply(
        lambda a: log_workspace_id(a[0], a[1])
    )
    private = bool(options["private_cluster"])
    host_encryption = bool(options["host_encryption"])
    pool_zones = zones(int(options["availability_zones"]))

    control_plane = managedidentity.UserAssignedIdentity(
        f"{name}-identity",
        resource_group_name=where.resource_group,
        resource_name_=cloud("azure_resource", name, "aks-identity"),
        location=where.location,
        tags=tags,
        opts=opts(component),
    )
    subnet_grant = role_assignment(
        component, f"{name}-subnet-network-contributor", where,
        scope=subnet, role="Network Contributor", principal_id=control_plane.principal_id,
    )

    cluster = cs.ManagedCluster(
        f"{name}-aks",
        resource_group_name=where.resource_group,
        resource_name_=cloud("azure_resource", name, "aks"),
        location=where.location,
        dns_prefix=cloud("azure_dns_prefix", name),
        kubernetes_version=settings.kubernetes_version,
        sku=cs.ManagedClusterSKUArgs(
            name=cs.ManagedClusterSKUName.BASE,
            tier=cs.ManagedClusterSKUTier(options["sku_tier"]),
        ),
        identity=cs.ManagedClusterIdentityArgs(
            type=cs.ResourceIdentityType.USER_ASSIGNED,
            user_assigned_identities=[control_plane.id],
        ),
        enable_rbac=True,
        disable_local_accounts=True,
        aad_profile=cs.ManagedClusterAADProfileArgs(
            managed=True,
            enable_azure_rbac=True,
            tenant_id=where.tenant_id,
            admin_group_object_ids=list(options["admin_group_object_ids"]),
        ),
        api_server_access_profile=cs.ManagedClusterAPIServerAccessProfileArgs(
            enable_private_cluster=private,
            authorized_ip_ranges=None if private else (list(options["authorized_ip_ranges"]) or None),
        ),
        oidc_issuer_profile=cs.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
        security_profile=cs.ManagedClusterSecurityProfileArgs(
            workload_identity=cs.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True),
            image_cleaner=cs.ManagedClusterSecurityProfileImageCleanerArgs(enabled=True, interval_hours=168),
        ),
        auto_upgrade_profile=cs.ManagedClusterAutoUpgradeProfileArgs(
            upgrade_channel=cs.UpgradeChannel.PATCH,
            node_os_upgrade_channel=cs.NodeOSUpgradeChannel.NODE_IMAGE,
        ),
        network_profile=cs.ContainerServiceNetworkProfileArgs(
            network_plugin=cs.NetworkPlugin.AZURE,
            network_plugin_mode=cs.NetworkPluginMode.OVERLAY,
            network_dataplane=cs.NetworkDataplane.CILIUM,
            network_policy=cs.NetworkPolicy.CILIUM,
            load_balancer_sku=cs.LoadBalancerSku.STANDARD,
            outbound_type=cs.OutboundType.LOAD_BALANCER,
            pod_cidr="192.168.0.0/16",
            service_cidr="172.16.0.0/16",
            dns_service_ip="172.16.0.10",
        ),
        agent_pool_profiles=[
            cs.ManagedClusterAgentPoolProfileArgs(
                name="system",
                mode=cs.AgentPoolMode.SYSTEM,
                type=cs.AgentPoolType.VIRTUAL_MACHINE_SCALE_SETS,
                os_type=cs.OSType.LINUX,
                os_sku=cs.OSSKU.AZURE_LINUX,
                vm_size=options["system_node_size"],
                enable_auto_scaling=True,
                count=1,
                min_count=1,
                max_count=3,
                availability_zones=pool_zones,
                vnet_subnet_id=subnet,
                enable_encryption_at_host=host_encryption,
                enable_node_public_ip=False,
                node_taints=["CriticalAddonsOnly=true:NoSchedule"],
                tags=tags,
            )
        ],
        addon_profiles={
            "omsagent": cs.ManagedClusterAddonProfileArgs(
                enabled=True,
                config={"logAnalyticsWorkspaceResourceID": workspace_id, "useAADAuth": "true"},
            ),
            "azurepolicy": cs.ManagedClusterAddonProfileArgs(enabled=bool(options["azure_policy"])),
        },
        tags=tags,
        # The autoscaler owns the node counts after creation.
        opts=opts(component, depends_on=[subnet_grant], ignore_changes=["agentPoolProfiles[0].count"]),
    )
    cs.AgentPool(
        f"{name}-pool-user",
        resource_group_name=where.resource_group,
        resource_name_=cluster.name,
        agent_pool_name="user",
        mode=cs.AgentPoolMode.USER,
        type=cs.AgentPoolType.VIRTUAL_MACHINE_SCALE_SETS,
        os_type=cs.OSType.LINUX,
        os_sku=cs.OSSKU.AZURE_LINUX,
        vm_size=settings.node_size or DEFAULT_NODE_SIZE,
        enable_auto_scaling=True,
        count=settings.node_count,
        min_count=settings.node_min_count,
        max_count=settings.node_max_count,
        availability_zones=pool_zones,
        vnet_subnet_id=subnet,
        enable_encryption_at_host=host_encryption,
        enable_node_public_ip=False,
        tags=tags,
        opts=opts(component, ignore_changes=["count"]),
    )
    diagnostic_setting(
        component, f"{name}-aks-diagnostics",
        resource_uri=cluster.id, workspace_id=workspace_id, categories=CONTROL_PLANE_LOGS,
    )

    deployer = options["deployer_object_id"] or where.caller_object_id
    deployer_admin = role_assignment(
        component, f"{name}-deployer-rbac-admin", where,
        scope=cluster.id, role="Azure Kubernetes Service RBAC Cluster Admin", principal_id=deployer,
        principal_type=authorization.PrincipalType(options["deployer_principal_type"]),
    )

    credentials = cs.list_managed_cluster_user_credentials_output(
        resource_group_name=where.resource_group,
        resource_name=cluster.name,
        format="exec",
        opts=pulumi.InvokeOutputOptions(parent=component),
    )
    mode = options["kubelogin_mode"]
    kubeconfig = pulumi.Output.secret(
        credentials.kubeconfigs.apply(
            lambda configs: kubelogin_kubeconfig(base64.b64decode(configs[0].value).decode(), mode)
        )
    )
    provider = k8s.Provider(
        f"{name}-provider",
        k8s.ProviderArgs(kubeconfig=kubeconfig, enable_server_side_apply=True, delete_unreachable=False),
        # Creating objects before the RBAC grant has propagated fails with 403.
        opts=opts(component, depends_on=[deployer_admin]),
    )
    tenancy = create_tenancy(name, settings.namespace, kubernetes_labels(tags), component, provider=provider)
    kubelet = cluster.identity_profile.apply(lambda p: (p or {}).get("kubeletidentity"))
    return {
        "cluster_name": cluster.name,
        "cluster_endpoint": (cluster.private_fqdn if private else cluster.fqdn).apply(lambda f: f"https://{f}:443" if f else ""),
        "kubeconfig": kubeconfig,
        "namespace": tenancy.name,
        "oidc_issuer_url": cluster.oidc_issuer_profile.apply(lambda p: (p.issuer_url if p else "") or ""),
        "node_identity": kubelet.apply(lambda k: (k.object_id if k else "") or ""),
        "provider": provider,
    }

