"""azure-aks-local-accounts-disabled: AKS clusters turn local accounts off, so every access goes
through Entra ID and Azure RBAC (``disableLocalAccounts: true``, which needs ``aadProfile``)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import is_true, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "azure-aks-local-accounts-disabled"
FIX = "set disableLocalAccounts: true with aadProfile={managed: true, enableAzureRBAC: true}"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == t.AZ_MANAGED_CLUSTER and not is_true(
        known(args.props, "disableLocalAccounts", if_unknown=True)
    ):
        report_violation(f"AKS cluster '{args.name}' keeps local accounts (a static cluster-admin kubeconfig); {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether AKS clusters disable local accounts (Entra ID + Azure RBAC only). Fix: set "
        "disableLocalAccounts true with a managed aadProfile."
    ),
    resource_types=(t.AZ_MANAGED_CLUSTER,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
