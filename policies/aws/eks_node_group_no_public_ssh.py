"""aws-eks-node-group-no-public-ssh: an EKS managed node group with an SSH key
(``remoteAccess.ec2SshKey``) names the security groups SSH may come from: without
``sourceSecurityGroupIds`` EKS opens port 22 to 0.0.0.0/0."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import dig, is_set
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-eks-node-group-no-public-ssh"
FIX = "drop remoteAccess (use SSM Session Manager) or set remoteAccess.sourceSecurityGroupIds"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != t.EKS_NODE_GROUP:
        return
    remote = dig(args.props, "remoteAccess")
    if is_set(remote, "ec2SshKey") and not is_set(remote, "sourceSecurityGroupIds"):
        report_violation(f"EKS node group '{args.name}' allows SSH from anywhere; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether EKS node groups with an SSH key restrict SSH to source security groups. Fix: remove "
        "remoteAccess or set sourceSecurityGroupIds."
    ),
    resource_types=(t.EKS_NODE_GROUP,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
