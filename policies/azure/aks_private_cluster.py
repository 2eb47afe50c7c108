"""azure-aks-private-cluster: in prod, AKS API servers are private
(``apiServerAccessProfile.enablePrivateCluster: true``). Outside prod a public API server must
at least list ``authorizedIPRanges``."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import is_set, is_true, known
from policies.lib.rule import MANDATORY, resource_rule
from policies.lib.settings import ENVIRONMENT_PROPERTY, environment

NAME = "azure-aks-private-cluster"
FIX = "set apiServerAccessProfile.enablePrivateCluster: true (outside prod: authorizedIPRanges)"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != t.AZ_MANAGED_CLUSTER:
        return
    profile = known(args.props, "apiServerAccessProfile", default={}, if_unknown={"enablePrivateCluster": True})
    if is_true(known(profile, "enablePrivateCluster", if_unknown=True)):
        return
    env = environment(args)
    if env == "prod":
        report_violation(f"AKS cluster '{args.name}' has a public API server in prod; {FIX}.")
    elif not is_set(profile, "authorizedIPRanges"):
        report_violation(f"AKS cluster '{args.name}' has a public API server open to every address in {env}; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether AKS API servers are private in prod (elsewhere at least limited to authorizedIPRanges). "
        "Fix: set apiServerAccessProfile.enablePrivateCluster true."
    ),
    resource_types=(t.AZ_MANAGED_CLUSTER,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
    properties=ENVIRONMENT_PROPERTY,
)
