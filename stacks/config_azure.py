"""azure-only stack keys (prefix ``azure``) and how they map onto the components' ``azure`` options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import pulumi
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from .values import split

_GUID = r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"
#: Lists travel as comma-separated strings: Pulumi.yaml's typed config has no item types here.
GuidList = Annotated[str, Field(pattern=rf"^$|^{_GUID}(,{_GUID})*$")]
CidrList = Annotated[str, Field(pattern=r"^$|^[0-9./]+(,[0-9./]+)*$")]
SourceList = Annotated[str, Field(pattern=r"^$|^[A-Za-z0-9./]+(,[A-Za-z0-9./]+)*$")]
Percent = Annotated[int, Field(ge=0, le=100)]


class AzureSettings(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    azure_location: str = "westeurope"
    azure_resource_group: Annotated[str, Field(pattern=r"^$|^[-\w.()]{0,89}[-\w()]$")] = ""
    azure_create_resource_group: bool = True
    azure_private_endpoints: bool = False
    azure_private_cluster: bool = False
    azure_authorized_ip_ranges: CidrList = ""
    azure_ingress_source_prefixes: SourceList = ""
    azure_deployer_object_id: Annotated[str, Field(pattern=rf"^$|^{_GUID}$")] = ""
    # Empty: derived from the sign-in client (components/azure/cluster.py); required in prod.
    azure_deployer_principal_type: Literal["", "User", "ServicePrincipal", "Group"] = ""
    # Mixed into every globally unique name (with project, stack and subscription).
    azure_name_salt: Annotated[str, Field(pattern=r"^[a-z0-9]{0,12}$")] = ""
    azure_admin_group_object_ids: GuidList = ""
    azure_host_encryption: bool = False
    azure_policy_addon: bool = False
    azure_aks_tier: Literal["Free", "Standard"] = "Free"
    azure_system_node_size: str = "Standard_D2s_v5"
    azure_kubelogin_mode: Literal["azurecli", "workloadidentity", "msi", "spn"] = "azurecli"
    azure_acr_sku: Literal["Basic", "Standard", "Premium"] = "Basic"
    azure_compute_vm_size: str = "Standard_DS3_v2"
    azure_compute_max_nodes: Annotated[int, Field(ge=1, le=100)] = 4
    azure_compute_idle_seconds: Annotated[int, Field(ge=60, le=86400)] = 900
    azure_infrastructure_encryption: bool = False
    azure_endpoint_auth_mode: Literal["Key", "AADToken"] = "Key"
    azure_endpoint_public_access: bool = True
    azure_endpoint_instance_type: str = "Standard_DS3_v2"
    azure_traffic_blue: Percent = 100
    azure_traffic_green: Percent = 0
    azure_green_image: str = ""

    @model_validator(mode="after")
    def _azure_rules(self) -> "AzureSettings":
        from .config import _KeyError  # the cross-field error type of the settings model

        if self.azure_traffic_blue + self.azure_traffic_green != 100:
            raise _KeyError("azureTrafficGreen", self.azure_traffic_green,
                            f"100 - azureTrafficBlue ({100 - self.azure_traffic_blue}): blue + green must be 100")
        if self.azure_private_endpoints and self.azure_acr_sku != "Premium":
            raise _KeyError("azureAcrSku", self.azure_acr_sku,
                            "Premium when azurePrivateEndpoints is true (ACR private link needs Premium)")
        if self.azure_private_cluster and self.azure_authorized_ip_ranges:
            raise _KeyError("azureAuthorizedIpRanges", self.azure_authorized_ip_ranges,
                            "empty when azurePrivateCluster is true (a private API server has no public ranges)")
        return self


def resource_group(settings: Any) -> str:
    """The platform's resource group: ``azureResourceGroup`` or ``rg-<project>-<stack>``."""
    from components.azure.common import resource_group_default

    return settings.azure_resource_group or resource_group_default(pulumi.get_project(), pulumi.get_stack())


def component_options(settings: Any) -> dict[str, dict[str, Any]]:
    """The ``azure`` argument of each component, by concern."""
    s = settings
    placement = {
        "resource_group_name": resource_group(s),
        "location": s.azure_location,
        "private_endpoints": s.azure_private_endpoints,
    }
    return {
        "network": {
            **placement,
            "create_resource_group": s.azure_create_resource_group,
            "log_retention_days": s.log_retention_days,
            "protect_data": s.protect_data,
            "ingress_source_prefixes": split(s.azure_ingress_source_prefixes),
        },
        "cluster": {
            **placement,
            "private_cluster": s.azure_private_cluster,
            "authorized_ip_ranges": split(s.azure_authorized_ip_ranges),
            "admin_group_object_ids": split(s.azure_admin_group_object_ids),
            "deployer_object_id": s.azure_deployer_object_id,
            "deployer_principal_type": s.azure_deployer_principal_type,
            "host_encryption": s.azure_host_encryption,
            "azure_policy": s.azure_policy_addon,
            "system_node_size": s.azure_system_node_size,
            "kubelogin_mode": s.azure_kubelogin_mode,
            "sku_tier": s.azure_aks_tier,
            "availability_zones": s.availability_zones,
        },
        "registry": {**placement, "sku": s.azure_acr_sku},
        "training": {
            **placement,
            "compute_vm_size": s.azure_compute_vm_size,
            "compute_max_nodes": s.azure_compute_max_nodes,
            "compute_idle_seconds": s.azure_compute_idle_seconds,
            "infrastructure_encryption": s.azure_infrastructure_encryption,
        },
        "inference": {
            **placement,
            "auth_mode": s.azure_endpoint_auth_mode,
            "public_access": s.azure_endpoint_public_access,
            "instance_type": s.azure_endpoint_instance_type,
            "traffic_blue": s.azure_traffic_blue,
            "traffic_green": s.azure_traffic_green,
            "green_image": s.azure_green_image,
        },
        "monitoring": dict(placement),
    }


def component_wiring(concern: str, upstream: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs of earlier components (by role) an azure backend needs beyond its facade args:
    the ids Network created (Log Analytics workspace, subnets by role) reach every later
    component, which never rebuilds them from names."""
    landing: dict[str, Any] = {}
    if "network" in upstream:
        network = upstream["network"]
        landing = {"log_analytics_workspace_id": network.log_analytics_workspace_id, "subnet_ids": network.subnet_ids}
    if concern == "registry" and "network" in upstream:
        return {**landing, "network_id": upstream["network"].network_id}
    if concern == "inference":
        cluster, training = upstream["cluster"], upstream["training"]
        return {
            **landing,
            "oidc_issuer_url": cluster.oidc_issuer_url,
            "workspace_name": training.workspace_name,
            "workspace_id": training.azureml_workspace_id,
        }
    if concern == "monitoring":
        wired: dict[str, Any] = dict(landing)
        if "training" in upstream:
            wired["workspace_name"] = upstream["training"].workspace_name
        if "network" in upstream:
            wired["network_id"] = upstream["network"].network_id
        return wired
    return landing  # cluster, training


def exports(settings: Any) -> dict[str, Any]:
    """Stack outputs only azure has: what the Azure ML launcher (ml/launch/) reads besides
    ``azureml_workspace_name`` / ``azureml_compute_name`` / ``mlflow_tracking_uri``."""
    import pulumi_azure_native.authorization as authorization

    return {
        "azure_subscription_id": authorization.get_client_config_output().subscription_id,
        "azure_resource_group": resource_group(settings),
        "azure_location": settings.azure_location,
    }
