"""azure-public-network-access: in prod, the platform's Azure data and ML services are not
reachable from the public internet: Key Vault, container registry, storage account and Azure ML
online endpoint turn ``publicNetworkAccess`` off (Key Vault / storage may instead deny by
default in their network rules), and Azure ML compute clusters get no public node IPs. The
workspace itself is azure-ml-workspace-private's. Dev stacks may stay public (Entra ID still
guards every data plane), which is why this is a prod rule.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import dig, is_false, known
from policies.lib.rule import MANDATORY, resource_rule
from policies.lib.settings import ENVIRONMENT_PROPERTY, is_prod

NAME = "azure-public-network-access"
LABELS = {
    t.AZ_KEY_VAULT: "Key Vault",
    t.AZ_CONTAINER_REGISTRY: "container registry",
    t.AZ_STORAGE_ACCOUNT: "storage account",
    t.AZ_ML_ONLINE_ENDPOINT: "Azure ML online endpoint",
}
FIX = "set publicNetworkAccess 'Disabled' and reach it through a private endpoint"


def _disabled(value: Any) -> bool:
    return str(value).lower() == "disabled"


def _public(resource_type: str, props: Any) -> bool:
    if resource_type == t.AZ_KEY_VAULT:
        inner = dig(props, "properties") or {}
        return not (_disabled(known(inner, "publicNetworkAccess", default="Enabled", if_unknown="Disabled"))
                    or str(known(inner, "networkAcls", "defaultAction", default="Allow", if_unknown="Deny")) == "Deny")
    if resource_type == t.AZ_STORAGE_ACCOUNT:
        return not (_disabled(known(props, "publicNetworkAccess", default="Enabled", if_unknown="Disabled"))
                    or str(known(props, "networkRuleSet", "defaultAction", default="Allow", if_unknown="Deny")) == "Deny")
    if resource_type == t.AZ_ML_ONLINE_ENDPOINT:
        inner = dig(props, "properties") or {}
        return not _disabled(known(inner, "publicNetworkAccess", default="Enabled", if_unknown="Disabled"))
    return not _disabled(known(props, "publicNetworkAccess", default="Enabled", if_unknown="Disabled"))


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not is_prod(args):
        return
    if args.resource_type in LABELS:
        if _public(args.resource_type, args.props):
            report_violation(f"{LABELS[args.resource_type]} '{args.name}' is reachable from the public internet in "
                             f"prod; {FIX}.")
    elif args.resource_type == t.AZ_ML_COMPUTE:
        inner = dig(args.props, "properties", "properties") or {}
        if not is_false(known(inner, "enableNodePublicIp", default=True, if_unknown=False)):
            report_violation(f"Azure ML compute '{args.name}' gives its nodes public IPs in prod; set "
                             f"properties.properties.enableNodePublicIp false (with a VNet subnet).")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether, in prod, Key Vault, ACR, storage and Azure ML online endpoints have public network access off "
        "and Azure ML compute has no public node IPs. Fix: publicNetworkAccess 'Disabled' with private endpoints."
    ),
    resource_types=(*LABELS, t.AZ_ML_COMPUTE),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
    properties=ENVIRONMENT_PROPERTY,
)
