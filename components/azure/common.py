"""What the azure backends share: placement, names, ARM ids, role assignments, diagnostics and
private endpoints. Pure helpers are tested without mocks (tests/components/azure/).

Landing zone contract. One platform lives in one resource group. The azure Network owns the
landing zone in it, named from the group alone so every backend can address it:

* Log Analytics workspace :func:`log_workspace_name` (the platform's log sink),
* VNet :func:`vnet_name` with the subnets in :data:`SUBNETS` (``private_subnet_ids`` order),
* the private DNS zones in :data:`PRIVATE_DNS_ZONES` (fixed, Azure-defined names).

SDK note: resources with a ``resource_name`` property (ManagedCluster, AgentPool,
UserAssignedIdentity, FederatedIdentityCredential, Application Insights Component and Workbook)
cannot take their ``*Args`` class in pulumi-azure-native 3.x (the field collides with the
logical-name parameter); they take keyword arguments with ``resource_name_``. Every nested input
is still a typed ``*Args`` class.

Backends take the group *name* from their ``azure`` options and their *ordering* from an
upstream output (:func:`after`), so a resource group, subnet or workspace is never addressed
before the component that creates it has finished.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.monitor as monitor
import pulumi_azure_native.network as network

from ..base import ArgsError
from ..naming import cloud_name

#: Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
#: Owner, Contributor and User Access Administrator are deliberately absent: nothing here may
#: grant them.
ROLES: dict[str, str] = {
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "AzureML Data Scientist": "f6c7c914-8db3-469d-8ca1-694a8f32e121",
}

#: Subnets of the platform VNet, in ``private_subnet_ids`` order, with their share of the range.
SUBNETS: tuple[str, ...] = ("cluster", "endpoints", "training")
CLUSTER_SUBNET, ENDPOINTS_SUBNET, TRAINING_SUBNET = range(3)

#: Private DNS zones for the private endpoints (Azure's names), by the service they serve.
PRIVATE_DNS_ZONES: dict[str, str] = {
    "acr": "privatelink.azurecr.io",
    "vault": "privatelink.vaultcore.azure.net",
    "blob": "privatelink.blob.core.windows.net",
    "file": "privatelink.file.core.windows.net",
    "aml_api": "privatelink.api.azureml.ms",
    "aml_notebooks": "privatelink.notebooks.azure.net",
}

#: Audience of Entra workload identity federation tokens.
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
_GUID_NAMESPACE = uuid.UUID("6c1f5a8e-2f43-4c39-9d0b-7a3e51c0a9b2")


# --- names and ids (pure) -------------------------------------------------------------------


def unique() -> tuple[str, str]:
    """(project, stack): what names unique within one subscription hash over."""
    return (pulumi.get_project(), pulumi.get_stack())


def global_unique() -> tuple[str, ...]:
    """What globally unique names (storage, ACR, Key Vault, AML endpoint) hash over: project,
    stack, the subscription being deployed to and the optional stack key ``azureNameSalt``.

    Two adopters who keep the project and stack names therefore still get different names,
    and a salt moves every global name (e.g. after deleting a stack whose purge-protected vault
    keeps its name taken for the 90 days of soft delete). The subscription comes from a plain
    (synchronous) ``getClientConfig`` so names stay strings known when the program runs.
    """
    subscription = authorization.get_client_config().subscription_id
    salt = pulumi.Config().get("azureNameSalt") or ""
    return (pulumi.get_project(), pulumi.get_stack(), subscription, *((salt,) if salt else ()))


#: Kinds whose names must be unique across Azure (or a region, for AML endpoints).
GLOBAL_KINDS = frozenset({"azure_storage", "azure_acr", "azure_keyvault", "azure_ml_endpoint"})

#: The platform's one ACR and one workspace storage account are named by their role, not by
#: the component's logical name, so other backends can address them (AcrPull, blob reader).
REGISTRY_ROLE, STORAGE_ROLE = "registry", "training"


def acr_name() -> str:
    return name("azure_acr", REGISTRY_ROLE)


def storage_account_name() -> str:
    return name("azure_storage", STORAGE_ROLE)


def resource_group_default(project: str, stack: str) -> str:
    """``rg-<project>-<stack>``, cleaned to the resource group rule."""
    return cloud_name("azure_resource_group", "rg", project, stack)


def log_workspace_name(resource_group: str) -> str:
    return cloud_name("azure_log_analytics", resource_group, "logs")


def vnet_name(resource_group: str) -> str:
    return cloud_name("azure_resource", resource_group, "vnet")


def arm_id(subscription: str, resource_group: str, provider_type: str, *names: str) -> str:
    """``/subscriptions/…/resourceGroups/…/providers/<ns>/<type>/<name>[/<type>/<name>…]``.

    ``provider_type`` is ``Namespace/type`` and ``names`` alternate name, child type, name….
    """
    path = f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/{provider_type}/{names[0]}"
    for i in range(1, len(names), 2):
        path += f"/{names[i]}/{names[i + 1]}"
    return path


def log_workspace_id(subscription: str, resource_group: str) -> str:
    return arm_id(subscription, resource_group, "Microsoft.OperationalInsights/workspaces", log_workspace_name(resource_group))


def subnet_id(subscription: str, resource_group: str, role: str) -> str:
    return arm_id(subscription, resource_group, "Microsoft.Network/virtualNetworks", vnet_name(resource_group), "subnets", role)


def dns_zone_id(subscription: str, resource_group: str, service: str) -> str:
    return arm_id(subscription, resource_group, "Microsoft.Network/privateDnsZones", PRIVATE_DNS_ZONES[service])


def role_definition_id(subscription: str, role: str) -> str:
    return f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{ROLES[role]}"


def deterministic_guid(*parts: str) -> str:
    """A GUID from ``parts`` (role assignment and workbook names must be GUIDs)."""
    return str(uuid.uuid5(_GUID_NAMESPACE, "\x1f".join(parts)))


def iso_seconds(seconds: int) -> str:
    """ISO 8601 duration (what ARM wants for idle times, probe periods, windows)."""
    return f"PT{seconds // 60}M" if seconds % 60 == 0 and seconds >= 60 else f"PT{seconds}S"


# --- placement ------------------------------------------------------------------------------


def after(dependency: Any, value: Any) -> pulumi.Output[Any]:
    """``value`` as an Output that also depends on ``dependency`` (an upstream output).

    The resource group name is known from config, but using it directly would let the engine
    create a child before the group (or subnet, or workspace) exists.
    """
    return pulumi.Output.all(dependency, value).apply(lambda both: both[1])


@dataclass(frozen=True)
class Placement:
    """Where a backend's resources go and with which tags."""

    resource_group: pulumi.Output[str]
    location: str
    subscription_id: pulumi.Output[str]
    tenant_id: pulumi.Output[str]
    caller_object_id: pulumi.Output[str]
    tags: dict[str, str]
    protect: bool
    private_endpoints: bool
    #: Wired from Network (every block but Network's): the ids it created, passed, never
    #: rebuilt from names. None when the component was given none.
    wired: Mapping[str, Any] = field(default_factory=dict)

    def _wired(self, key: str) -> Any:
        value = self.wired.get(key)
        if value is None:
            raise ArgsError(f"azure.{key}: required; allowed: the output network.{key} (the stack wires it)")
        return value

    @property
    def log_workspace_id(self) -> pulumi.Output[str]:
        """The platform's Log Analytics workspace, as Network created it."""
        return pulumi.Output.from_input(self._wired("log_analytics_workspace_id"))

    def subnet(self, role: str) -> pulumi.Output[str]:
        """The id of the platform subnet ``role`` (``cluster``, ``endpoints``, ``training``), as
        Network created it: by role, never by list position."""
        return pulumi.Output.from_input(self._wired("subnet_ids")).apply(lambda ids: ids[role])


def placement(component: pulumi.Resource, settings: Mapping[str, Any], anchor: Any) -> Placement:
    """Resolve the resource group (ordered after ``anchor``), region, subscription and tags."""
    options = settings["azure"]  # resolved (components/spec.py)
    project, stack = unique()
    group = options["resource_group_name"] or resource_group_default(project, stack)
    client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=component))
    return Placement(
        resource_group=after(anchor, group) if anchor is not None else pulumi.Output.from_input(group),
        location=options["location"],
        subscription_id=client.subscription_id,
        tenant_id=client.tenant_id,
        caller_object_id=client.object_id,
        tags=dict(settings.get("tags") or {}),
        protect=bool(settings.get("protect_data", False)),
        private_endpoints=bool(options["private_endpoints"]),
        wired={key: options.get(key) for key in ("log_analytics_workspace_id", "subnet_ids")},
    )


def name(kind: str, *parts: str) -> str:
    """A cloud name of ``kind`` (components/naming.py) with a stable suffix: over
    :func:`global_unique` for the globally unique kinds, else over (project, stack)."""
    return cloud_name(kind, *parts, unique=global_unique() if kind in GLOBAL_KINDS else unique())


def opts(component: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=component, **kwargs)


def data_opts(component: pulumi.Resource, protect: bool, **kwargs: Any) -> pulumi.ResourceOptions:
    """Options of a data store: ``protect`` and ``retain_on_delete`` follow ``protect_data``."""
    return pulumi.ResourceOptions(parent=component, protect=protect, retain_on_delete=protect, **kwargs)


# --- shared resources -----------------------------------------------------------------------


def role_assignment(
    component: pulumi.Resource,
    logical_name: str,
    where: Placement,
    *,
    scope: pulumi.Input[str],
    role: str,
    principal_id: pulumi.Input[str],
    principal_type: authorization.PrincipalType | None = authorization.PrincipalType.SERVICE_PRINCIPAL,
    depends_on: Sequence[pulumi.Resource] = (),
    role_definition: pulumi.Input[str] | None = None,
) -> authorization.RoleAssignment:
    """Grant one built-in ``role`` (or the custom ``role_definition`` id, named ``role``) on exactly ``scope`` (a resource id, never a group or
    subscription). The assignment's GUID derives from scope, role and principal, like Bicep's
    ``guid(scope, principal, role)``, so a changed scope is a new assignment."""
    custom = role_definition is not None
    if not custom and role not in ROLES:
        raise ValueError(f"role {role!r} is not one of the scoped built-in roles {sorted(ROLES)}")
    return authorization.RoleAssignment(
        logical_name,
        authorization.RoleAssignmentArgs(
            scope=scope,
            role_definition_id=role_definition if custom else where.subscription_id.apply(lambda sub: role_definition_id(sub, role)),
            principal_id=principal_id,
            principal_type=principal_type,
            # Scope is lowercased: ARM ids are case-insensitive, and one grant must have one name.
            role_assignment_name=pulumi.Output.all(scope, principal_id).apply(
                lambda a: deterministic_guid(str(a[0]).lower(), str(a[1]), role)
            ),
            description=f"mlops-platform: {role} for {logical_name}",
        ),
        opts=pulumi.ResourceOptions(parent=component, delete_before_replace=True, depends_on=list(depends_on)),
    )


def diagnostic_setting(
    component: pulumi.Resource,
    logical_name: str,
    *,
    resource_uri: pulumi.Input[str],
    workspace_id: pulumi.Input[str],
    categories: Sequence[str] = (),
    metrics: bool = False,
    metric_categories: Sequence[str] = ("AllMetrics",),
) -> monitor.DiagnosticSetting:
    """Send ``categories`` (or the ``allLogs`` group when empty) to Log Analytics.

    Platform metrics are not exported by default: Azure Monitor keeps them anyway (metric alerts
    read them there), no query here reads them from Log Analytics, and ``AllMetrics`` is read
    back by ARM as the resource type's own metric categories (e.g. two), a perpetual diff.
    Pass ``metrics=True`` with that type's ``metric_categories`` to export them."""
    logs = (
        [monitor.DiagnosticsLogSettingsArgs(category=c, enabled=True) for c in categories]
        if categories
        else [monitor.DiagnosticsLogSettingsArgs(category_group="allLogs", enabled=True)]
    )
    return monitor.DiagnosticSetting(
        logical_name,
        monitor.DiagnosticSettingArgs(
            name="to-log-analytics",
            resource_uri=resource_uri,
            workspace_id=workspace_id,
            log_analytics_destination_type="Dedicated",
            logs=logs,
            metrics=[monitor.DiagnosticsMetricSettingsArgs(category=c, enabled=True) for c in metric_categories]
            if metrics else None,
        ),
        opts=pulumi.ResourceOptions(parent=component),
    )


def _zone_id(where: Placement, zone: str) -> pulumi.Output[str]:
    return pulumi.Output.all(where.subscription_id, where.resource_group).apply(lambda a: dns_zone_id(a[0], a[1], zone))


def private_endpoint(
    component: pulumi.Resource,
    logical_name: str,
    where: Placement,
    *,
    target_id: pulumi.Input[str],
    group_id: str,
    zones: Sequence[str],
) -> tuple[network.PrivateEndpoint, network.PrivateDnsZoneGroup]:
    """A private endpoint in the ``endpoints`` subnet with its DNS zone group (A records in the
    landing zone's private DNS zones, so the public FQDN resolves privately inside the VNet).
    Returns both: whatever reaches the service by name must wait for the zone group."""
    subnet = where.subnet(SUBNETS[ENDPOINTS_SUBNET])
    endpoint = network.PrivateEndpoint(
        logical_name,
        network.PrivateEndpointArgs(
            resource_group_name=where.resource_group,
            private_endpoint_name=name("azure_resource", logical_name),
            location=where.location,
            subnet=network.SubnetArgs(id=subnet),
            private_link_service_connections=[
                network.PrivateLinkServiceConnectionArgs(
                    name=group_id, private_link_service_id=target_id, group_ids=[group_id]
                )
            ],
            tags=where.tags,
        ),
        opts=pulumi.ResourceOptions(parent=component),
    )
    group = network.PrivateDnsZoneGroup(
        f"{logical_name}-dns",
        network.PrivateDnsZoneGroupArgs(
            resource_group_name=where.resource_group,
            private_endpoint_name=endpoint.name,
            private_dns_zone_group_name="default",
            private_dns_zone_configs=[
                network.PrivateDnsZoneConfigArgs(
                    name=zone.replace("_", "-"),
                    private_dns_zone_id=_zone_id(where, zone),
                )
                for zone in zones
            ],
        ),
        opts=pulumi.ResourceOptions(parent=component),
    )
    return endpoint, group
