"""TrainingPlatform on Azure: an Azure ML workspace and a compute cluster that scales to zero.

* Key Vault: RBAC authorization (no access policies), soft delete and purge protection.
* Storage: HTTPS only, TLS 1.2 minimum, no public blob access, shared keys off (the workspace
  reaches its datastores with its identity: ``systemDatastoresAuthMode: identity``), OAuth by
  default in the portal, no cross-tenant replication, optional infrastructure encryption.
* Application Insights on the landing zone's Log Analytics workspace.
* Workspace: system-assigned identity, the Registry's ACR linked, public access off with private
  endpoints (prod), diagnostics to Log Analytics (as are the vault's and storage's).
* Workspace managed network (:func:`managed_network`): Azure ML runs the compute cluster and the
  managed online deployments in a Microsoft-managed VNet of the workspace. With private
  endpoints (prod) its isolation mode is ``AllowOnlyApprovedOutbound``: outbound traffic reaches
  only the workspace, its storage, Key Vault and ACR, through private endpoints AML creates as
  *required* rules (whatever the resources' public access), and the required service tags (Entra
  ID, AzureMachineLearning, Batch, ARM, Front Door, MCR, AzureMonitor). Without private endpoints
  it is ``AllowInternetOutbound``. The network is provisioned with the workspace
  (``provisionNetworkNow``): an online deployment cannot be created before it is.
* Compute cluster: ``minNodeCount: 0`` (scale to zero), idle time from config, system-assigned
  identity, in the workspace's managed network (a managed-network workspace cannot place compute
  in our VNet, so no subnet), no SSH, no public IPs when private endpoints are on.
* Roles, each on one resource: workspace identity -> AcrPull (ACR), Key Vault Secrets Officer
  (vault); compute identity -> Storage Blob Data Contributor (storage). The workspace's storage
  roles and the compute's AcrPull are made by Azure ML itself (``AML_MANAGED_GRANTS``; a copy of
  ours would fail with 409 RoleAssignmentExists). Nothing at group or subscription scope.

Key Vault, storage and the workspace are protected (``protect`` + ``retain_on_delete``) when
``protect_data`` is on.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_azure_native.applicationinsights as appinsights
import pulumi_azure_native.keyvault as keyvault
import pulumi_azure_native.machinelearningservices as ml
import pulumi_azure_native.storage as storage

from .schedule import create_schedule
from .common import (
    after,
    data_opts,
    diagnostic_setting,
    iso_seconds,
    name as cloud,
    opts,
    placement,
    private_endpoint,
    role_assignment,
    storage_account_name,
)

DEFAULT_COMPUTE_VM_SIZE = "Standard_DS3_v2"
#: Resources associated with the workspace for which Azure ML itself creates the managed
#: network's private endpoint outbound rules (category ``Required``) in AllowOnlyApprovedOutbound
#: mode, whatever their public network access ("List of required rules",
#: learn.microsoft.com/azure/machine-learning/how-to-managed-network). A user-defined rule is
#: only needed for anything else (e.g. another ACR: components/azure/inference.py).
MANAGED_NETWORK_REQUIRED_TARGETS = ("keyVault", "storageAccount", "containerRegistry")
#: Service tags the managed network always allows outbound (same page): AzureMonitor carries the
#: deployments' and jobs' Application Insights / Azure Monitor traffic.
MANAGED_NETWORK_REQUIRED_SERVICE_TAGS = (
    "AzureActiveDirectory", "AzureMachineLearning", "BatchNodeManagement", "AzureResourceManager",
    "AzureFrontDoor.FirstParty", "MicrosoftContainerRegistry", "AzureMonitor",
)


def managed_network(private: bool) -> ml.ManagedNetworkSettingsArgs:
    """The workspace managed network: only approved outbound when the platform is private.

    No outbound rules are declared inline: the workspace's own storage, Key Vault and ACR get
    AML's required private endpoint rules, and user-defined rules are separate
    ``ManagedNetworkSettingsRule`` resources (so a rule owned by another component is not
    removed by a workspace update). No FQDN rule: it would make AML deploy an Azure Firewall.
    The isolation mode cannot be relaxed later (AllowOnlyApprovedOutbound -> AllowInternetOutbound
    and anything -> Disabled are refused by Azure), so it is chosen once per workspace."""
    return ml.ManagedNetworkSettingsArgs(
        isolation_mode=ml.IsolationMode.ALLOW_ONLY_APPROVED_OUTBOUND if private else ml.IsolationMode.ALLOW_INTERNET_OUTBOUND,
    )
#: (identity, role, resource) that Azure ML assigns itself; declaring them too would collide.
AML_MANAGED_GRANTS = (
    ("workspace", "Storage Blob Data Contributor", "storage"),
    ("compute", "AcrPull", "registry"),
)


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    options = settings.azure  # resolved: every option present (components/spec.py)
    where = placement(component, settings, anchor=settings.network_id)
    tags = where.tags
    private = where.private_endpoints
    prod = settings.environment == "prod"
    logs = where.log_workspace_id

    vault = keyvault.Vault(
        f"{name}-kv",
        keyvault.VaultArgs(
            resource_group_name=where.resource_group,
            vault_name=cloud("azure_keyvault", name, "kv"),
            location=where.location,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=where.tenant_id,
                sku=keyvault.SkuArgs(family=keyvault.SkuFamily.A, name=keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=90 if prod else 7,
                enable_purge_protection=True,
                public_network_access="Disabled" if private else "Enabled",
                network_acls=keyvault.NetworkRuleSetArgs(
                    bypass=keyvault.NetworkRuleBypassOptions.AZURE_SERVICES,
                    default_action=keyvault.NetworkRuleAction.DENY if private else keyvault.NetworkRuleAction.ALLOW,
                ),
            ),
            tags=tags,
        ),
        opts=data_opts(component, where.protect),
    )
    account = storage.StorageAccount(
        f"{name}-storage",
        storage.StorageAccountArgs(
            resource_group_name=where.resource_group,
            account_name=storage_account_name(),
            location=where.location,
            kind=storage.Kind.STORAGE_V2,
            sku=storage.SkuArgs(name=storage.SkuName.STANDARD_ZRS if prod else storage.SkuName.STANDARD_LRS),
            enable_https_traffic_only=True,
            minimum_tls_version=storage.MinimumTlsVersion.TLS1_2,
            allow_blob_public_access=False,
            allow_shared_key_access=False,
            default_to_o_auth_authentication=True,
            allow_cross_tenant_replication=False,
            is_hns_enabled=False,  # AML's default datastore must not be a hierarchical namespace
            public_network_access=storage.PublicNetworkAccess.DISABLED if private else storage.PublicNetworkAccess.ENABLED,
            network_rule_set=storage.NetworkRuleSetArgs(
                default_action=storage.DefaultAction.DENY if private else storage.DefaultAction.ALLOW,
                bypass=storage.Bypass.AZURE_SERVICES,
            ),
            encryption=storage.EncryptionArgs(
                key_source=storage.KeySource.MICROSOFT_STORAGE,
                require_infrastructure_encryption=bool(options["infrastructure_encryption"]),
                services=storage.EncryptionServicesArgs(
                    blob=storage.EncryptionServiceArgs(enabled=True, key_type=storage.KeyType.ACCOUNT),
                    file=storage.EncryptionServiceArgs(enabled=True, key_type=storage.KeyType.ACCOUNT),
                ),
            ),
            tags=tags,
        ),
        opts=data_opts(component, where.protect),
    )
    insights = appinsights.Component(
        f"{name}-appinsights",
        resource_group_name=where.resource_group,
        resource_name_=cloud("azure_resource", name, "appi"),
        location=where.location,
        kind="web",
        application_type=appinsights.ApplicationType.WEB,
        workspace_resource_id=logs,
        ingestion_mode=appinsights.IngestionMode.LOG_ANALYTICS,
        tags=tags,
        opts=opts(component),
    )
    workspace = ml.Workspace(
        f"{name}-workspace",
        ml.WorkspaceArgs(
            resource_group_name=where.resource_group,
            workspace_name=cloud("azure_ml_workspace", name),
            location=where.location,
            sku=ml.SkuArgs(name="Basic", tier=ml.SkuTier.BASIC),
            identity=ml.ManagedServiceIdentityArgs(type=ml.ManagedServiceIdentityType.SYSTEM_ASSIGNED),
            key_vault=vault.id,
            storage_account=account.id,
            application_insights=insights.id,
            container_registry=settings.registry_id,
            system_datastores_auth_mode=ml.SystemDatastoresAuthMode.IDENTITY,
            public_network_access=ml.PublicNetworkAccessType.DISABLED if private else ml.PublicNetworkAccessType.ENABLED,
            managed_network=managed_network(private),
            # Provision the managed VNet with the workspace: an online deployment cannot be created
            # in a managed-network workspace before its network is provisioned.
            provision_network_now=True,
            v1_legacy_mode=False,
            tags=tags,
        ),
        # AML owns the managed network's rules (required ones, and user-defined ones added as
        # separate resources): a refresh reads them back into managedNetwork.outboundRules, and
        # an update must re-send them rather than drop them. provisionNetworkNow only acts at
        # creation.
        opts=data_opts(component, where.protect, ignore_changes=["managedNetwork.outboundRules", "provisionNetworkNow"]),
    )
    compute = ml.Compute(
        f"{name}-compute",
        ml.ComputeArgs(
            resource_group_name=where.resource_group,
            workspace_name=workspace.name,
            compute_name=cloud("azure_ml_compute", name),
            location=where.location,
            identity=ml.ManagedServiceIdentityArgs(type=ml.ManagedServiceIdentityType.SYSTEM_ASSIGNED),
            properties=ml.AmlComputeArgs(
                compute_type="AmlCompute",
                disable_local_auth=True,
                description="Training cluster: scales to zero when idle",
                properties=ml.AmlComputePropertiesArgs(
                    vm_size=options["compute_vm_size"],
                    vm_priority=ml.VmPriority.DEDICATED,
                    os_type=ml.OsType.LINUX,
                    scale_settings=ml.ScaleSettingsArgs(
                        min_node_count=0,
                        max_node_count=int(options["compute_max_nodes"]),
                        node_idle_time_before_scale_down=iso_seconds(int(options["compute_idle_seconds"])),
                    ),
                    enable_node_public_ip=not private,
                    remote_login_port_public_access=ml.RemoteLoginPortPublicAccess.DISABLED,
                ),
            ),
            tags=tags,
        ),
        opts=opts(component),
    )

    def principal(resource: Any) -> pulumi.Output[str]:
        return resource.identity.apply(lambda i: i.principal_id if i else "")

    # Azure ML makes some assignments itself and a second identical one fails with 409
    # RoleAssignmentExists: the workspace's storage roles (identity-based system datastores)
    # and the compute identity's AcrPull on the linked registry. Those are left to AML
    # (AML_MANAGED_GRANTS); only what AML does not grant is declared here.
    grants = [
        ("workspace-acrpull", settings.registry_id, "AcrPull", principal(workspace)),
        ("workspace-kv-secrets", vault.id, "Key Vault Secrets Officer", principal(workspace)),
        ("compute-blob", account.id, "Storage Blob Data Contributor", principal(compute)),
    ]
    for role_name, scope, role, who in grants:
        if scope:
            role_assignment(component, f"{name}-{role_name}", where, scope=scope, role=role, principal_id=who)

    if private:
        private_endpoint(component, f"{name}-kv-pe", where, target_id=vault.id, group_id="vault", zones=["vault"])
        private_endpoint(component, f"{name}-blob-pe", where, target_id=account.id, group_id="blob", zones=["blob"])
        private_endpoint(component, f"{name}-file-pe", where, target_id=account.id, group_id="file", zones=["file"])
        private_endpoint(component, f"{name}-workspace-pe", where, target_id=workspace.id, group_id="amlworkspace",
                         zones=["aml_api", "aml_notebooks"])
    diagnostic_setting(component, f"{name}-workspace-diagnostics", resource_uri=workspace.id, workspace_id=logs)
    diagnostic_setting(component, f"{name}-kv-diagnostics", resource_uri=vault.id, workspace_id=logs,
                       categories=("AuditEvent",))
    diagnostic_setting(component, f"{name}-blob-diagnostics", resource_uri=account.id.apply(lambda i: f"{i}/blobServices/default"),
                       workspace_id=logs, categories=("StorageRead", "StorageWrite", "StorageDelete"))

    # servingRuntime azureml: the retraining schedule (an AML Schedule of a command job).
    create_schedule(component, name, settings, where, workspace, compute, workspace.ml_flow_tracking_uri)
    artifact_uri = pulumi.Output.all(where.subscription_id, where.resource_group, workspace.name).apply(
        lambda a: f"azureml://subscriptions/{a[0]}/resourcegroups/{a[1]}/workspaces/{a[2]}/datastores/workspaceblobstore/paths/"
    )
    return {
        "tracking_uri": workspace.ml_flow_tracking_uri,
        "artifact_store_uri": artifact_uri,
        "execution_role": principal(compute),
        # Ordered after the compute: creating the first compute waits for the managed network,
        # and the online deployments (InferenceEndpoint is anchored on this id) need it provisioned.
        "azureml_workspace_id": after(compute.id, workspace.id),
        "workspace_name": workspace.name,
        "compute_name": compute.name,
    }

