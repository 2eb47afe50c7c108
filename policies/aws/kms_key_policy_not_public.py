"""aws-kms-key-policy-not-public: no KMS key policy (on the key or an ``aws.kms.KeyPolicy``)
allows ``Principal: "*"`` without a condition: that lets any AWS account use or manage the key.
Service principals (``logs.<region>.amazonaws.com``) and the account root are fine."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.iam import DocumentError, allows, is_public_principal, parse_document, statements
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-kms-key-policy-not-public"
KMS_KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
FIX = "name the account root, roles or service principals that use the key, or add a condition (aws:PrincipalOrgID...)"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in (t.KMS_KEY, KMS_KEY_POLICY):
        return
    try:
        document = parse_document(args.props.get("policy"))
    except DocumentError as exc:
        report_violation(f"KMS key policy of '{args.name}' is {exc}; write a valid policy document.")
        return
    for statement in statements(document):
        if allows(statement) and is_public_principal(statement) and not statement.get("Condition"):
            report_violation(f"KMS key policy of '{args.name}' allows any principal ('*') with no condition; {FIX}.")
            return


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether KMS key policies allow Principal '*' without a condition. Fix: name the principals or add a "
        "condition."
    ),
    resource_types=(t.KMS_KEY, KMS_KEY_POLICY),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
