"""aws-eks-control-plane-logging: EKS clusters send the api, audit and authenticator control-plane
logs to CloudWatch (``enabledClusterLogTypes``; none by default). controllerManager and
scheduler are optional (cost)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import as_list, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-eks-control-plane-logging"
REQUIRED = ("api", "audit", "authenticator")
FIX = "set enabledClusterLogTypes to include " + ", ".join(REQUIRED)


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != t.EKS_CLUSTER:
        return
    enabled = {str(x) for x in as_list(known(args.props, "enabledClusterLogTypes", default=[], if_unknown=list(REQUIRED)))}
    missing = [x for x in REQUIRED if x not in enabled]
    if missing:
        report_violation(f"EKS cluster '{args.name}' does not log {', '.join(missing)}; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description="Checks whether EKS clusters log api, audit and authenticator events. Fix: set enabledClusterLogTypes.",
    resource_types=(t.EKS_CLUSTER,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
