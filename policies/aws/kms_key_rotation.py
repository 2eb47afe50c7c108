"""aws-kms-key-rotation: customer-managed symmetric KMS keys rotate their key material
(``enableKeyRotation: true``; off by default). AWS supports rotation only for symmetric
encryption keys, so asymmetric and HMAC key specs are out of scope."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import is_true, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-kms-key-rotation"
SYMMETRIC = "SYMMETRIC_DEFAULT"
FIX = "set enableKeyRotation: true (and rotationPeriodInDays if a period other than 365 days is required)"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != t.KMS_KEY:
        return
    spec = str(known(args.props, "customerMasterKeySpec", default=SYMMETRIC, if_unknown=SYMMETRIC))
    if spec != SYMMETRIC:
        return
    if not is_true(known(args.props, "enableKeyRotation", default=False, if_unknown=True)):
        report_violation(f"KMS key '{args.name}' does not rotate its key material; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description="Checks whether symmetric KMS keys rotate their key material. Fix: set enableKeyRotation true.",
    resource_types=(t.KMS_KEY,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
