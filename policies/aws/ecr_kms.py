"""aws-ecr-kms: ECR repositories are encrypted with KMS (the default is AES256)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import as_list, dig, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-ecr-kms"
FIX = "set encryptionConfigurations=[{encryptionType: 'KMS', kmsKey: <the stack's KMS key ARN>}]"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != t.ECR_REPOSITORY:
        return
    types = [known(c, "encryptionType", default="AES256", if_unknown="KMS") for c in as_list(dig(args.props, "encryptionConfigurations"))]
    if not any(str(v).upper() in ("KMS", "KMS_DSSE") for v in types):
        report_violation(f"ECR repository '{args.name}' is not KMS-encrypted; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether every ECR repository is encrypted with KMS. Fix: set encryptionConfigurations with "
        "encryptionType 'KMS' and kmsKey."
    ),
    resource_types=(t.ECR_REPOSITORY,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
