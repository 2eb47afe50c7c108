"""preview-undecided: says, as an advisory, what a mandatory stack rule could not decide at
preview because the deciding value is computed (another resource's output), instead of the rule
passing the resource in silence:

- aws-s3-bucket-tls-only: a BucketPolicy document built from ``bucket.arn``;
- azure-role-assignment-scope: a privileged role assignment whose ``scope`` is ``rg.id``.

(Resource rules need no help: one that reads a computed value raises, and the engine reports
"can't run policy ... during preview" naming the property, e.g. aws-sagemaker-training-kms on a
pipeline definition built from an Output.) At ``pulumi up`` the values are known and the
mandatory rules decide; this rule then reports nothing.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.aws import s3_bucket_tls_only
from policies.azure import role_assignment_scope
from policies.lib import types as t
from policies.lib.rule import ADVISORY, stack_rule

NAME = "preview-undecided"
CHECKS = (s3_bucket_tls_only.undecided, role_assignment_scope.undecided)


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for check in CHECKS:
        for urn, message in check(args.resources):
            report_violation(f"{message}.", urn)


POLICY = stack_rule(
    name=NAME,
    description=(
        "Checks whether a mandatory stack rule had to leave a resource undecided at preview because the deciding "
        "value is computed (an S3 bucket policy built from bucket.arn, a role assignment scope of rg.id); "
        "advisory. Fix: none needed; the rule decides at pulumi up."
    ),
    resource_types=(*t.S3_BUCKETS, t.S3_BUCKET_POLICY, t.AZ_ROLE_ASSIGNMENT),
    validate=validate,
    enforcement_level=ADVISORY,
    remediation="nothing to change: the value is known at `pulumi up`, when the mandatory rule decides",
)
