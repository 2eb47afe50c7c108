"""azure-ml-workspace-private: in prod, Azure ML workspaces turn public network access off
(reached through a private endpoint / managed network)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import known
from policies.lib.rule import MANDATORY, resource_rule
from policies.lib.settings import ENVIRONMENT_PROPERTY, is_prod

NAME = "azure-ml-workspace-private"
FIX = "set publicNetworkAccess: 'Disabled' and reach the workspace through a private endpoint"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != t.AZ_ML_WORKSPACE or not is_prod(args):
        return
    if str(known(args.props, "publicNetworkAccess", default="Enabled", if_unknown="Disabled")) != "Disabled":
        report_violation(f"Azure ML workspace '{args.name}' is reachable from the public internet in prod; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether Azure ML workspaces have public network access off in prod. Fix: set publicNetworkAccess "
        "'Disabled' with a private endpoint."
    ),
    resource_types=(t.AZ_ML_WORKSPACE,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
    properties=ENVIRONMENT_PROPERTY,
)
