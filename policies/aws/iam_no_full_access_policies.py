"""aws-iam-no-full-access-policies: no AWS managed ``*FullAccess`` policy
(AmazonSageMakerFullAccess, AmazonS3FullAccess, AmazonEC2ContainerRegistryFullAccess...) on any
role, user or group: ML execution roles get a policy scoped to the stack's bucket and key."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.aws.iam_no_admin_policies import ADMIN_POLICIES, attached_arns, managed_policy_name
from policies.lib import types as t
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-iam-no-full-access-policies"
FIX = "replace it with a customer-managed policy scoped to the stack's bucket, key and repositories"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for arn in attached_arns(args):
        name = managed_policy_name(arn)
        if name and name.endswith("FullAccess") and name not in ADMIN_POLICIES:
            report_violation(f"'{args.name}' attaches the AWS managed {name} policy; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether any role, user or group gets an AWS managed *FullAccess policy (AmazonSageMakerFullAccess, "
        "AmazonS3FullAccess...). Fix: attach a customer-managed policy scoped to the stack's resources."
    ),
    resource_types=(*t.IAM_ATTACHMENTS, t.IAM_ROLE, t.IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
