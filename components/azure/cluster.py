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
import datetime as dt
import re
import time
from typing import Any

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.containerservice as cs
import pulumi_azure_native.managedidentity as managedidentity
import pulumi_azure_native.monitor as monitor
import pulumi_kubernetes as k8s
import yaml

from ..kubernetes.tenancy import create_tenancy
from ..tags import kubernetes_labels
from . import aks_versions
from .common import (
    diagnostic_setting,
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
#: Container Insights streams the Data Collection Rule sends to Log Analytics. The agent with
#: Entra auth (``useAADAuth``) collects nothing without a DCR associated with the cluster;
#: ``Microsoft-InsightsMetrics`` carries the Prometheus scrape of the serving Service.
CONTAINER_INSIGHTS_STREAMS = (
    "Microsoft-ContainerLogV2", "Microsoft-KubeEvents", "Microsoft-KubePodInventory", "Microsoft-KubeNodeInventory",
    "Microsoft-KubePVInventory", "Microsoft-KubeServices", "Microsoft-KubeMonAgentEvents", "Microsoft-InsightsMetrics",
    "Microsoft-ContainerInventory", "Microsoft-ContainerNodeInventory", "Microsoft-Perf",
)
#: Azure documents up to 5 minutes for a new role assignment to take effect on the data plane.
RBAC_PROPAGATION_SECONDS = 300
#: Application ids of Microsoft's first-party sign-in clients: a caller signed in through one
#: of these is a user (Azure CLI, Azure PowerShell); any other client id is a service principal.
USER_SIGN_IN_CLIENTS = frozenset({"04b07795-8ddb-461a-bbee-02f9e1bf7b46", "1950a258-227b-4e31-a9cf-717495945fc2"})
#: Weekly windows (UTC) for AKS-managed upgrades: control plane + node OS images, Sunday night.
MAINTENANCE = {"aksManagedAutoUpgradeSchedule": ("Sunday", "01:00"), "aksManagedNodeOSUpgradeSchedule": ("Sunday", "05:00")}


def propagation_wait(created_on: str | None, now: dt.datetime) -> float:
    """Seconds still to wait, from a role assignment's ``createdOn``, until Azure's documented
    propagation time has passed (0 for an assignment made on an earlier run, or unknown)."""
    if not created_on:
        return 0.0
    # ARM writes seven fractional digits ("…T11:59:00.1234567Z"); keep microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", created_on.strip()).replace("Z", "+00:00")
    try:
        created = dt.datetime.fromisoformat(text)
    except ValueError:
        return 0.0
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.timezone.utc)
    return max(0.0, RBAC_PROPAGATION_SECONDS - (now - created).total_seconds())


def deployer_principal_type(explicit: str, client_id: str, environment: str) -> str:
    """What the deployer is: ``explicit`` when configured; otherwise derived from the sign-in
    client (Azure CLI / PowerShell -> ``User``, anything else -> ``ServicePrincipal``). In prod
    the key is required, so a runner never gets a guess."""
    if explicit:
        return explicit
    if environment == "prod":
        raise ValueError("azureDeployerPrincipalType: required when environment is prod; allowed: User, ServicePrincipal, Group")
    return "User" if client_id in USER_SIGN_IN_CLIENTS else "ServicePrincipal"


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
    subnet = where.subnet("cluster")
    workspace_id = where.log_workspace_id
    version = aks_versions.check(settings.kubernetes_version or aks_versions.DEFAULT_VERSION)
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
        kubernetes_version=version,
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
                # At least two system nodes, spread over the zones, so one zone or one node
                # upgrade never takes CoreDNS and the agents down.
                enable_auto_scaling=True,
                count=max(2, len(pool_zones)),
                min_count=max(2, len(pool_zones)),
                max_count=max(3, len(pool_zones)),
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
    rule = monitor.DataCollectionRule(
        f"{name}-container-insights",
        monitor.DataCollectionRuleArgs(
            resource_group_name=where.resource_group,
            data_collection_rule_name=cloud("azure_resource", name, "ci-dcr"),
            location=where.location,
            kind="Linux",
            description="Container Insights: logs, inventory and the Prometheus scrape into Log Analytics",
            data_sources=monitor.DataCollectionRuleDataSourcesArgs(extensions=[monitor.ExtensionDataSourceArgs(
                name="ContainerInsightsExtension",
                extension_name="ContainerInsights",
                streams=list(CONTAINER_INSIGHTS_STREAMS),
                extension_settings={"dataCollectionSettings": {
                    "interval": "1m", "namespaceFilteringMode": "Off", "enableContainerLogV2": True}},
            )]),
            destinations=monitor.DataCollectionRuleDestinationsArgs(log_analytics=[
                monitor.LogAnalyticsDestinationArgs(name="platform-logs", workspace_resource_id=workspace_id)
            ]),
            data_flows=[monitor.DataFlowArgs(streams=list(CONTAINER_INSIGHTS_STREAMS), destinations=["platform-logs"])],
            tags=tags,
        ),
        opts=opts(component),
    )
    monitor.DataCollectionRuleAssociation(
        f"{name}-container-insights-association",
        monitor.DataCollectionRuleAssociationArgs(
            resource_uri=cluster.id,
            association_name="ContainerInsightsExtension",
            data_collection_rule_id=rule.id,
            description="Container Insights DCR of this cluster",
        ),
        opts=opts(component),
    )
    for config_name, (day, start) in MAINTENANCE.items():
        cs.MaintenanceConfiguration(
            f"{name}-maintenance-{'nodeos' if 'NodeOS' in config_name else 'upgrade'}",
            resource_group_name=where.resource_group,
            resource_name_=cluster.name,
            config_name=config_name,
            maintenance_window=cs.MaintenanceWindowArgs(
                schedule=cs.ScheduleArgs(weekly=cs.WeeklyScheduleArgs(day_of_week=day, interval_weeks=1)),
                duration_hours=4, start_time=start, utc_offset="+00:00",
            ),
            opts=opts(component),
        )

    deployer = options["deployer_object_id"] or where.caller_object_id
    client = authorization.get_client_config()
    principal_type = deployer_principal_type(
        options["deployer_principal_type"], client.client_id, getattr(settings, "environment", "dev") or "dev"
    )
    deployer_admin = role_assignment(
        component, f"{name}-deployer-rbac-admin", where,
        scope=cluster.id, role="Azure Kubernetes Service RBAC Cluster Admin", principal_id=deployer,
        principal_type=authorization.PrincipalType(principal_type),
    )

    credentials = cs.list_managed_cluster_user_credentials_output(
        resource_group_name=where.resource_group,
        resource_name=cluster.name,
        format="exec",
        opts=pulumi.InvokeOutputOptions(parent=component),
    )
    mode = options["kubelogin_mode"]

    def after_propagation(values: list[Any]) -> str:
        configs, created_on = values
        wait = propagation_wait(created_on, dt.datetime.now(dt.timezone.utc))
        if wait and not pulumi.runtime.is_dry_run():
            pulumi.log.info(f"waiting {wait:.0f} s for the AKS RBAC role assignment to propagate", resource=component)
            time.sleep(wait)
        first = configs[0]  # Output.all hands nested invoke results over as plain dicts
        value = first["value"] if isinstance(first, dict) else first.value
        return kubelogin_kubeconfig(base64.b64decode(value).decode(), mode)

    # Kubernetes writes use this kubeconfig: on the first run it resolves only once the
    # deployer's RBAC grant is RBAC_PROPAGATION_SECONDS old (Azure: up to 5 minutes).
    kubeconfig: pulumi.Output[str] = pulumi.Output.secret(
        pulumi.Output.all(credentials.kubeconfigs, deployer_admin.created_on).apply(after_propagation)
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

