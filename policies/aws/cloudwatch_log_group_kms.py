"""aws-cloudwatch-log-group-kms: CloudWatch log groups are encrypted with a KMS key."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import is_set
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-cloudwatch-log-group-kms"
FIX = "set kmsKeyId to the stack's KMS key ARN (its key policy must allow logs.<region>.amazonaws.com)"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == t.CLOUDWATCH_LOG_GROUP and not is_set(args.props, "kmsKeyId"):
        report_violation(f"CloudWatch log group '{args.name}' is not encrypted with KMS; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description="Checks whether every CloudWatch log group is encrypted with a KMS key. Fix: set kmsKeyId.",
    resource_types=(t.CLOUDWATCH_LOG_GROUP,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
