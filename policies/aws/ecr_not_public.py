"""aws-ecr-not-public: no public ECR repositories, and no ECR repository policy that lets
anybody (``Principal: "*"``) in without a condition."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.iam import DocumentError, allows, is_public_principal, parse_document, statements
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-ecr-not-public"
FIX = "name the account or role that pulls (e.g. the node role) as Principal, or add a condition such as aws:PrincipalOrgID"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == t.ECR_PUBLIC_REPOSITORY:
        report_violation(
            f"ECR Public repository '{args.name}' publishes images to everyone; use a private aws.ecr.Repository."
        )
        return
    if args.resource_type != t.ECR_REPOSITORY_POLICY:
        return
    try:
        document = parse_document(args.props.get("policy"))
    except DocumentError as exc:
        report_violation(f"ECR repository policy '{args.name}' is {exc}; write a valid policy document.")
        return
    for statement in statements(document):
        if allows(statement) and is_public_principal(statement) and not statement.get("Condition"):
            report_violation(f"ECR repository policy '{args.name}' allows any principal; {FIX}.")
            return


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether ECR repositories are private: no ECR Public repository and no repository policy that "
        "allows Principal '*' without a condition. Fix: name the pulling principals."
    ),
    resource_types=(t.ECR_PUBLIC_REPOSITORY, t.ECR_REPOSITORY_POLICY),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
