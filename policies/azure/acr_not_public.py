"""azure-acr-not-public: container registries do not allow anonymous (unauthenticated) pull.

Network reachability is a separate matter: the registry's data plane still requires Entra ID
credentials; restricting networks (``publicNetworkAccess: Disabled``) needs the Premium SKU and
a private endpoint, and is left to the stack.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import is_true, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "azure-acr-not-public"
FIX = "set anonymousPullEnabled: false and grant AcrPull to the identities that pull"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == t.AZ_CONTAINER_REGISTRY and is_true(known(args.props, "anonymousPullEnabled")):
        report_violation(f"Container registry '{args.name}' allows anonymous pull; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether container registries refuse anonymous pull. Fix: set anonymousPullEnabled false and "
        "grant AcrPull to the pulling identities."
    ),
    resource_types=(t.AZ_CONTAINER_REGISTRY,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
