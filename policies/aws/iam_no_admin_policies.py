"""aws-iam-no-admin-policies: no attachment of the AWS managed AdministratorAccess,
PowerUserAccess or IAMFullAccess policies to any role, user or group."""

from __future__ import annotations

import re

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import as_list, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-iam-no-admin-policies"
ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
AWS_MANAGED = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/(?:.*/)?(?P<name>[^/]+)$")
FIX = "attach a customer-managed policy that names only the actions and resources the principal needs"


def managed_policy_name(arn: object) -> str | None:
    match = AWS_MANAGED.match(str(arn)) if isinstance(arn, str) else None
    return match.group("name") if match else None


def attached_arns(args: ResourceValidationArgs) -> list[str]:
    if args.resource_type in t.IAM_ATTACHMENTS:
        return [str(known(args.props, "policyArn", default=""))]
    if args.resource_type == t.IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE:
        return [str(a) for a in as_list(known(args.props, "policyArns", default=[]))]
    if args.resource_type == t.IAM_ROLE:  # deprecated managedPolicyArns input
        return [str(a) for a in as_list(known(args.props, "managedPolicyArns", default=[]))]
    return []


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for arn in attached_arns(args):
        if managed_policy_name(arn) in ADMIN_POLICIES:
            report_violation(f"'{args.name}' attaches the AWS managed {managed_policy_name(arn)} policy; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether any role, user or group gets the AWS managed AdministratorAccess, PowerUserAccess or "
        "IAMFullAccess policy. Fix: attach a least-privilege customer-managed policy instead."
    ),
    resource_types=(*t.IAM_ATTACHMENTS, t.IAM_ROLE, t.IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
