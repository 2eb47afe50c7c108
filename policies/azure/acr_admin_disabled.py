"""azure-acr-admin-disabled: container registries keep the admin user off (pull with the
cluster identity's AcrPull role instead of a shared password)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import is_true, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "azure-acr-admin-disabled"
FIX = "set adminUserEnabled: false and grant AcrPull to the cluster's kubelet identity"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == t.AZ_CONTAINER_REGISTRY and is_true(known(args.props, "adminUserEnabled")):
        report_violation(f"Container registry '{args.name}' has the admin user on; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether container registries keep the admin user off. Fix: set adminUserEnabled false and use "
        "AcrPull role assignments."
    ),
    resource_types=(t.AZ_CONTAINER_REGISTRY,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
