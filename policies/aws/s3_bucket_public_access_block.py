"""aws-s3-bucket-public-access-block: every S3 bucket has a BucketPublicAccessBlock with all
four settings on (stack validation: the block is a separate resource)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.lib import types as t
from policies.lib.props import UnknownValueError, dig, is_true
from policies.lib.rule import MANDATORY, stack_rule
from policies.lib.stack import companions, of_type

NAME = "aws-s3-bucket-public-access-block"
SETTINGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
FIX = "add an aws.s3.BucketPublicAccessBlock for it with " + ", ".join(f"{s}=True" for s in SETTINGS)


def _on(block, setting: str) -> bool:
    try:
        return is_true(dig(block.props, setting))
    except UnknownValueError:
        return True  # computed at preview: cannot tell, not reported


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for bucket in of_type(args.resources, *t.S3_BUCKETS):
        blocks = companions(args.resources, t.S3_BUCKET_PUBLIC_ACCESS_BLOCK, "bucket", bucket)
        if not blocks:
            report_violation(f"S3 bucket '{bucket.name}' has no public access block; {FIX}.", bucket.urn)
            continue
        missing = [s for s in SETTINGS if not any(_on(b, s) for b in blocks)]
        if missing:
            report_violation(
                f"S3 bucket '{bucket.name}' public access block leaves {', '.join(missing)} off; set all four "
                f"settings to true.",
                bucket.urn,
            )


POLICY = stack_rule(
    name=NAME,
    description=(
        "Checks whether every S3 bucket has a public access block with blockPublicAcls, blockPublicPolicy, "
        "ignorePublicAcls and restrictPublicBuckets all true. Fix: add a BucketPublicAccessBlock with the four "
        "settings on."
    ),
    resource_types=(*t.S3_BUCKETS, t.S3_BUCKET_PUBLIC_ACCESS_BLOCK),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
