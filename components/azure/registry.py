"""Registry on Azure: one ACR for every repository, admin user off, AcrPull for the AKS kubelet.

* ``adminUserEnabled: false`` and anonymous pull off: pushes use Entra identities (the deployer,
  see components/azure/images.py), pulls use managed identities.
* AcrPull on this registry only, for the AKS kubelet identity. The AML workspace's AcrPull is
  granted by the TrainingPlatform, which owns that identity.
* Private endpoints on (prod): public network access off, a private endpoint in the
  ``endpoints`` subnet with the ``privatelink.azurecr.io`` zone, dedicated data endpoints,
  export policy off; Premium also keeps untagged manifests for ``untagged_expiry_days`` only
  and is zone redundant.
* The registry URL resolves only once the private endpoint's DNS zone group exists, so the
  image push (which needs the private FQDN) is ordered after it.
* Repositories are implicit in ACR: ``repository_urls`` are ``<login server>/<name>``.
  ``keep_last_images`` has no native ACR rule; schedule ``acr purge`` (docs/azure.md).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_azure_native.containerregistry as acr

from .common import (
    acr_name,
    after,
    data_opts,
    diagnostic_setting,
    placement,
    private_endpoint,
    role_assignment,
)


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    options = settings.azure  # resolved: every option present (components/spec.py)
    # Ordered after the landing zone (network_id) and the cluster (node_identity).
    where = placement(component, settings, anchor=pulumi.Output.all(options["network_id"], settings.node_identity))
    sku = acr.SkuName(options["sku"])
    premium = sku == acr.SkuName.PREMIUM
    private = where.private_endpoints

    registry = acr.Registry(
        f"{name}-acr",
        acr.RegistryArgs(
            resource_group_name=where.resource_group,
            registry_name=acr_name(),
            location=where.location,
            sku=acr.SkuArgs(name=sku),
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access=acr.PublicNetworkAccess.DISABLED if private else acr.PublicNetworkAccess.ENABLED,
            network_rule_bypass_options=acr.NetworkRuleBypassOptions.AZURE_SERVICES,
            data_endpoint_enabled=True if premium else None,
            zone_redundancy=acr.ZoneRedundancy.ENABLED if premium and settings.environment == "prod" else None,
            policies=acr.PoliciesArgs(
                retention_policy=acr.RetentionPolicyArgs(
                    status=acr.PolicyStatus.ENABLED, days=settings.untagged_expiry_days
                ) if premium else None,
                export_policy=acr.ExportPolicyArgs(status=acr.ExportPolicyStatus.DISABLED) if private else None,
            ),
            tags=where.tags,
        ),
        opts=data_opts(component, where.protect),
    )
    if settings.node_identity:
        role_assignment(
            component, f"{name}-kubelet-acrpull", where,
            scope=registry.id, role="AcrPull", principal_id=settings.node_identity,
        )
    login = registry.login_server
    if private:
        _, dns = private_endpoint(component, f"{name}-acr-pe", where, target_id=registry.id, group_id="registry", zones=["acr"])
        # Public access is off: the token exchange and the push (ContainerImages) reach the
        # registry through its private endpoint, so they wait for its DNS records.
        login = after(dns.id, login)
    diagnostic_setting(
        component, f"{name}-acr-diagnostics",
        resource_uri=registry.id,
        workspace_id=where.log_workspace_id,
        categories=("ContainerRegistryRepositoryEvents", "ContainerRegistryLoginEvents"),
    )
    return {
        "registry_url": login,
        "repository_urls": login.apply(lambda server: {repo: f"{server}/{repo}" for repo in settings.repositories}),
        "registry_id": registry.id,
    }
