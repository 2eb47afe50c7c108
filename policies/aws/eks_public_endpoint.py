"""aws-eks-public-endpoint: an EKS API endpoint is private, or public only to listed CIDRs.

EKS turns the public endpoint on, open to 0.0.0.0/0, when ``vpcConfig.endpointPublicAccess``
and ``publicAccessCidrs`` are not set: unset is open.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import UnknownValueError, as_list, dig, is_false
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-eks-public-endpoint"
OPEN = {"0.0.0.0/0", "::/0"}
FIX = "set vpcConfig.endpointPublicAccess: false (with endpointPrivateAccess: true), or list the allowed publicAccessCidrs"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != t.EKS_CLUSTER:
        return
    vpc = dig(args.props, "vpcConfig") or {}
    if is_false(dig(vpc, "endpointPublicAccess", default=True)):
        return
    try:
        cidrs = [str(c) for c in as_list(dig(vpc, "publicAccessCidrs"))]
    except UnknownValueError:
        return  # computed CIDR list: cannot tell
    if not cidrs or OPEN & set(cidrs):
        report_violation(f"EKS cluster '{args.name}' has a public API endpoint open to the internet; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether every EKS cluster's API endpoint is private or restricted to listed CIDRs (never "
        "0.0.0.0/0). Fix: set vpcConfig.endpointPublicAccess false, or publicAccessCidrs to your ranges."
    ),
    resource_types=(t.EKS_CLUSTER,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
