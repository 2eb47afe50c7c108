"""Network on Azure: the platform's landing zone in one resource group.

Resource group (created, or adopted with ``create_resource_group: False``), the Log Analytics
workspace every diagnostic setting writes to, a VNet with three subnets (``cluster``,
``endpoints`` for private endpoints, ``training`` for AML compute) each behind its own NSG that
denies inbound from the Internet (the cluster subnet optionally allows HTTPS from configured
sources for the ingress), and, with private endpoints on, the privatelink DNS zones linked to the
VNet. Names follow the landing-zone contract in common.py so the other backends can address them.

``network_id`` (the VNet id) only resolves once the workspace and DNS zones exist too, so every
component that takes it is ordered after the whole landing zone.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pulumi
import pulumi_azure_native.network as network
import pulumi_azure_native.operationalinsights as operationalinsights
import pulumi_azure_native.privatedns as privatedns
import pulumi_azure_native.resources as resources

from ..network import NetworkOutputs
from .common import (
    PRIVATE_DNS_ZONES,
    SUBNETS,
    data_opts,
    diagnostic_setting,
    log_workspace_name,
    name as cloud,
    opts,
    placement,
    resource_group_default,
    unique,
    vnet_name,
)

#: Priority of the catch-all "deny Internet inbound" rule (allow rules sit below it).
DENY_INTERNET_PRIORITY = 4000


def subnet_ranges(cidr: str) -> dict[str, str]:
    """Carve the VNet: half for the cluster (Azure CNI overlay only needs node IPs, but the
    headroom lets the pool grow), an eighth each for endpoints and training compute."""
    net = ipaddress.ip_network(cidr)
    half = list(net.subnets(new_prefix=net.prefixlen + 1))
    eighths = list(net.subnets(new_prefix=net.prefixlen + 3))
    return {"cluster": str(half[0]), "endpoints": str(eighths[4]), "training": str(eighths[5])}


def security_rules(role: str, ingress_sources: list[str], public_compute: bool, location: str) -> list[network.SecurityRuleArgs]:
    """Inbound rules of one subnet's NSG (pure; tests read them without mocks)."""
    rules: list[network.SecurityRuleArgs] = []
    if role == "cluster" and ingress_sources:
        rules.append(network.SecurityRuleArgs(
            name="allow-https-ingress", priority=100, direction=network.SecurityRuleDirection.INBOUND,
            access=network.SecurityRuleAccess.ALLOW, protocol=network.SecurityRuleProtocol.TCP,
            source_address_prefixes=list(ingress_sources), source_port_range="*",
            destination_address_prefix="*", destination_port_range="443",
            description="HTTPS to the ingress load balancer from the configured sources only",
        ))
    if role == "training" and public_compute:
        # AML compute nodes with public IPs are managed over these ports by service tags only.
        rules.append(network.SecurityRuleArgs(
            name="allow-aml-batch-management", priority=110, direction=network.SecurityRuleDirection.INBOUND,
            access=network.SecurityRuleAccess.ALLOW, protocol=network.SecurityRuleProtocol.TCP,
            source_address_prefix=f"BatchNodeManagement.{location}", source_port_range="*",
            destination_address_prefix="*", destination_port_range="29876-29877",
            description="Azure ML compute node management (service tag, not the Internet)",
        ))
        rules.append(network.SecurityRuleArgs(
            name="allow-aml-service", priority=120, direction=network.SecurityRuleDirection.INBOUND,
            access=network.SecurityRuleAccess.ALLOW, protocol=network.SecurityRuleProtocol.TCP,
            source_address_prefix="AzureMachineLearning", source_port_range="*",
            destination_address_prefix="*", destination_port_range="44224",
            description="Azure ML compute instance agent (service tag, not the Internet)",
        ))
    rules.append(network.SecurityRuleArgs(
        name="deny-internet-inbound", priority=DENY_INTERNET_PRIORITY, direction=network.SecurityRuleDirection.INBOUND,
        access=network.SecurityRuleAccess.DENY, protocol=network.SecurityRuleProtocol.ASTERISK,
        source_address_prefix="Internet", source_port_range="*",
        destination_address_prefix="*", destination_port_range="*",
        description="Nothing from the Internet except the allow rules above",
    ))
    return rules


def _by_role(subnets: Any) -> dict[str, str]:
    """Subnet id by name from the VNet's ``subnets`` output (SubnetResponse objects, or plain
    dicts once nested in ``Output.all``)."""
    def get(subnet: Any, key: str) -> Any:
        return subnet.get(key) if isinstance(subnet, dict) else getattr(subnet, key, None)

    return {get(s, "name"): get(s, "id") for s in (subnets or []) if get(s, "name") in SUBNETS}


def build(component: Any, name: str, settings: Any) -> NetworkOutputs:
    options = settings.azure  # resolved: every option present (components/spec.py)
    where = placement(component, settings, anchor=None)
    group: str = options["resource_group_name"] or resource_group_default(*unique())
    protect = bool(options["protect_data"])
    tags = where.tags

    if options["create_resource_group"]:
        rg = resources.ResourceGroup(
            f"{name}-rg",
            resources.ResourceGroupArgs(resource_group_name=group, location=where.location, tags=tags),
            opts=data_opts(component, protect),
        )
        rg_name: pulumi.Input[str] = rg.name
    else:
        rg_name = group

    logs = operationalinsights.Workspace(
        f"{name}-logs",
        operationalinsights.WorkspaceArgs(
            resource_group_name=rg_name,
            workspace_name=log_workspace_name(group),
            location=where.location,
            sku=operationalinsights.WorkspaceSkuArgs(name=operationalinsights.WorkspaceSkuNameEnum.PER_GB2018),
            retention_in_days=int(options["log_retention_days"]),
            tags=tags,
        ),
        opts=data_opts(component, protect),
    )

    ranges = subnet_ranges(settings.cidr)
    public_compute = not where.private_endpoints
    nsgs = {
        role: network.NetworkSecurityGroup(
            f"{name}-nsg-{role}",
            network.NetworkSecurityGroupInitArgs(
                resource_group_name=rg_name,
                network_security_group_name=cloud("azure_resource", name, role, "nsg"),
                location=where.location,
                security_rules=security_rules(role, list(options["ingress_source_prefixes"]),
                                              public_compute, where.location),
                tags=tags,
            ),
            opts=opts(component),
        )
        for role in SUBNETS
    }
    vnet = network.VirtualNetwork(
        f"{name}-vnet",
        network.VirtualNetworkInitArgs(
            resource_group_name=rg_name,
            virtual_network_name=vnet_name(group),
            location=where.location,
            address_space=network.AddressSpaceArgs(address_prefixes=[settings.cidr]),
            # Subnets inline: a separate Subnet resource and the VNet would fight over the list.
            subnets=[
                network.SubnetArgs(
                    name=role,
                    address_prefix=ranges[role],
                    network_security_group=network.NetworkSecurityGroupArgs(id=nsgs[role].id),
                    private_endpoint_network_policies=(
                        network.VirtualNetworkPrivateEndpointNetworkPolicies.ENABLED if role == "endpoints" else None
                    ),
                )
                for role in SUBNETS
            ],
            tags=tags,
        ),
        opts=opts(component),
    )
    diagnostic_setting(component, f"{name}-vnet-diagnostics", resource_uri=vnet.id, workspace_id=logs.id)

    zone_ids: list[pulumi.Output[str]] = []
    if where.private_endpoints:
        for key, zone_name in PRIVATE_DNS_ZONES.items():
            role = key.replace("_", "-")
            zone = privatedns.PrivateZone(
                f"{name}-dns-{role}",
                privatedns.PrivateZoneArgs(
                    resource_group_name=rg_name, private_zone_name=zone_name, location="global", tags=tags
                ),
                opts=opts(component),
            )
            link = privatedns.VirtualNetworkLink(
                f"{name}-dns-{role}-link",
                privatedns.VirtualNetworkLinkArgs(
                    resource_group_name=rg_name,
                    private_zone_name=zone.name,
                    virtual_network_link_name=cloud("azure_resource", name, role, "link"),
                    location="global",
                    virtual_network=privatedns.SubResourceArgs(id=vnet.id),
                    registration_enabled=False,
                    tags=tags,
                ),
                opts=opts(component),
            )
            zone_ids.append(link.id)

    network_id = pulumi.Output.all(vnet.id, logs.id, *zone_ids).apply(lambda ids: ids[0])
    # The subnet ids ARM reports (the VNet's subnets output), by role; ordered after the whole
    # landing zone like network_id.
    by_role = pulumi.Output.all(network_id, vnet.subnets).apply(lambda a: _by_role(a[1]))
    outputs: NetworkOutputs = {
        "network_id": network_id,
        "cidr": settings.cidr,
        "private_subnet_ids": by_role.apply(lambda ids: [ids[role] for role in SUBNETS]),
        "subnet_ids": by_role,
        "log_analytics_workspace_id": pulumi.Output.all(network_id, logs.id).apply(lambda a: a[1]),
        "resource_group_name": rg_name,
        # The namespace itself is created by the azure Cluster, once the cluster exists.
        "namespace": settings.namespace,
    }
    return outputs
