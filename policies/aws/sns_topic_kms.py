"""aws-sns-topic-kms: SNS topics (alarm notifications) are encrypted with KMS."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import is_set
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-sns-topic-kms"
FIX = "set kmsMasterKeyId to the stack's KMS key (its key policy must allow cloudwatch.amazonaws.com to use it)"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == t.SNS_TOPIC and not is_set(args.props, "kmsMasterKeyId"):
        report_violation(f"SNS topic '{args.name}' is not encrypted with KMS; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description="Checks whether every SNS topic is encrypted with KMS. Fix: set kmsMasterKeyId.",
    resource_types=(t.SNS_TOPIC,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
