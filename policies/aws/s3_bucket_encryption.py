"""aws-s3-bucket-encryption: every S3 bucket has default encryption; SSE-KMS with a
customer-managed key in prod.

pulumi-aws 7 declares encryption on a separate ``BucketServerSideEncryptionConfiguration``
pointing at the bucket, so this is a stack validation (joins: :mod:`policies.lib.stack`). The
deprecated inline ``serverSideEncryptionConfiguration`` on the bucket is read too.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.lib import types as t
from policies.lib.props import as_list, dig, is_set, known
from policies.lib.rule import MANDATORY, stack_rule
from policies.lib.settings import ENVIRONMENT_PROPERTY, is_prod
from policies.lib.stack import companions, of_type

NAME = "aws-s3-bucket-encryption"
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
ALGORITHMS = ("AES256", *KMS_ALGORITHMS)
FIX = (
    "add an aws.s3.BucketServerSideEncryptionConfiguration for it with sseAlgorithm 'aws:kms' "
    "and kmsMasterKeyId set to the stack's customer-managed KMS key"
)


def _defaults(args: StackValidationArgs, bucket) -> list:
    found = []
    for config in companions(args.resources, t.S3_BUCKET_SSES, "bucket", bucket):
        for rule in as_list(dig(config.props, "rules")):
            found.append(dig(rule, "applyServerSideEncryptionByDefault"))
    inline = dig(bucket.props, "serverSideEncryptionConfiguration", "rule", "applyServerSideEncryptionByDefault")
    found.append(inline)
    return [d for d in found if d is not None]


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    prod = is_prod(args)
    for bucket in of_type(args.resources, *t.S3_BUCKETS):
        defaults = _defaults(args, bucket)
        algorithms = [known(d, "sseAlgorithm") for d in defaults]
        if not any(a in ALGORITHMS for a in algorithms):
            report_violation(f"S3 bucket '{bucket.name}' has no default server-side encryption; {FIX}.", bucket.urn)
        elif prod and not any(
            known(d, "sseAlgorithm") in KMS_ALGORITHMS and is_set(d, "kmsMasterKeyId") for d in defaults
        ):
            report_violation(
                f"S3 bucket '{bucket.name}' is not encrypted with a customer-managed KMS key, which prod "
                f"requires; set sseAlgorithm 'aws:kms' and kmsMasterKeyId to the stack's KMS key.",
                bucket.urn,
            )


POLICY = stack_rule(
    name=NAME,
    description=(
        "Checks whether every S3 bucket has default server-side encryption, and in prod SSE-KMS with a "
        "customer-managed key. Fix: add a BucketServerSideEncryptionConfiguration with sseAlgorithm "
        "'aws:kms' and kmsMasterKeyId."
    ),
    resource_types=(*t.S3_BUCKETS, *t.S3_BUCKET_SSES),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
    properties=ENVIRONMENT_PROPERTY,
)
