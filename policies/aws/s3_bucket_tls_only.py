"""aws-s3-bucket-tls-only: every S3 bucket's policy denies requests made without TLS
(``aws:SecureTransport = false``) on the bucket's objects (a Resource ``<bucket ARN>/*``, or
``*``): a Deny that names only the bucket ARN leaves every object reachable over plain HTTP.
Stack validation: the policy is a separate BucketPolicy (``Bucket`` and ``BucketV2`` alike).

A policy document computed at preview (built from ``bucket.arn``) cannot be read: the rule
leaves that bucket to ``pulumi up`` and :func:`undecided` names it, which the advisory rule
``preview-undecided`` reports."""

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
    return any(v.lower() == "false" for v in values) and covers_objects(statement)


def covers_objects(statement: dict) -> bool:
    """The statement's Resource reaches the bucket's objects (``.../*`` or ``*``)."""
    return any(r == "*" or r.endswith("/*") for r in strings(statement.get("Resource")))


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


def _verdicts(resources) -> list[tuple[object, bool | None]]:
    """``[(bucket, True/False/None)]``: None when a candidate policy is computed at preview."""
    out: list[tuple[object, bool | None]] = []
    for bucket in of_type(resources, *t.S3_BUCKETS):
        candidates = companions(resources, t.S3_BUCKET_POLICY, "bucket", bucket)
        verdict: bool | None = False
        for policy in candidates:
            try:
                if _enforced(policy):
                    verdict = True
                    break
            except _Unknown:
                verdict = None
        out.append((bucket, verdict))
    return out


def undecided(resources) -> list[tuple[str, str]]:
    return [(bucket.urn, f"{NAME} could not decide S3 bucket '{bucket.name}': its BucketPolicy document is computed "
                         f"at preview (built from another resource's output), so whether it denies plain HTTP is "
                         f"decided at `pulumi up`")
            for bucket, verdict in _verdicts(resources) if verdict is None]


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for bucket, verdict in _verdicts(args.resources):
        if verdict is False:
            report_violation(f"S3 bucket '{bucket.name}' accepts requests without TLS on its objects; {FIX}.", bucket.urn)


POLICY = stack_rule(
    name=NAME,
    description=(
        "Checks whether every S3 bucket's policy denies requests without TLS (aws:SecureTransport false) on the "
        "bucket and its objects. "
        "Fix: attach a BucketPolicy with a Deny on [bucket ARN, bucket ARN/*] conditioned on aws:SecureTransport 'false'."
    ),
    resource_types=(*t.S3_BUCKETS, t.S3_BUCKET_POLICY),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
