"""aws-s3-bucket-tls-only: every S3 bucket's policy denies requests made without TLS
(``aws:SecureTransport = false``). Stack validation: the policy is a separate BucketPolicy."""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.lib import types as t
from policies.lib.iam import DocumentError, conditions, parse_document, statements, strings
from policies.lib.props import UnknownValueError
from policies.lib.rule import MANDATORY, stack_rule
from policies.lib.stack import companions, of_type

NAME = "aws-s3-bucket-tls-only"
FIX = (
    "attach an aws.s3.BucketPolicy with a statement {Effect: Deny, Principal: '*', Action: 's3:*', "
    "Resource: [bucket ARN, bucket ARN/*], Condition: {Bool: {'aws:SecureTransport': 'false'}}}"
)


def denies_plain_http(statement: dict) -> bool:
    if str(statement.get("Effect", "")).lower() != "deny":
        return False
    principal = statement.get("Principal")
    if not (principal == "*" or (isinstance(principal, dict) and "*" in strings(principal.get("AWS")))):
        return False
    if not set(strings(statement.get("Action"))) & {"s3:*", "*"}:
        return False
    values = conditions(statement).get("Bool", {}).get("aws:securetransport", [])
    return any(v.lower() == "false" for v in values)


class _Unknown(Exception):
    pass


def _enforced(policy_resource) -> bool:
    try:
        document = parse_document(policy_resource.props.get("policy"))
    except UnknownValueError:
        raise _Unknown from None
    except DocumentError:
        return False
    return any(denies_plain_http(s) for s in statements(document))


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for bucket in of_type(args.resources, t.S3_BUCKET):
        candidates = companions(args.resources, t.S3_BUCKET_POLICY, "bucket", bucket)
        try:
            ok = any(_enforced(p) for p in candidates)
        except _Unknown:
            continue  # a policy whose document is computed at preview: cannot tell yet
        if not ok:
            report_violation(f"S3 bucket '{bucket.name}' accepts requests without TLS; {FIX}.", bucket.urn)


POLICY = stack_rule(
    name=NAME,
    description=(
        "Checks whether every S3 bucket's policy denies requests without TLS (aws:SecureTransport false). "
        "Fix: attach a BucketPolicy with a Deny statement conditioned on aws:SecureTransport 'false'."
    ),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
