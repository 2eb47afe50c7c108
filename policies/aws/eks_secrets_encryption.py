"""aws-eks-secrets-encryption: EKS clusters encrypt Kubernetes secrets with a KMS key
(envelope encryption)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import as_list, dig, is_set, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-eks-secrets-encryption"
FIX = "set encryptionConfig={resources: ['secrets'], provider: {keyArn: <the stack's KMS key ARN>}}"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != t.EKS_CLUSTER:
        return
    configs = as_list(dig(args.props, "encryptionConfig"))
    ok = any(
        "secrets" in [str(r) for r in as_list(known(c, "resources", default=[], if_unknown=["secrets"]))] and is_set(c, "provider", "keyArn")
        for c in configs
    )
    if not ok:
        report_violation(f"EKS cluster '{args.name}' does not envelope-encrypt secrets with KMS; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether every EKS cluster envelope-encrypts Kubernetes secrets with a KMS key. Fix: set "
        "encryptionConfig with resources ['secrets'] and provider.keyArn."
    ),
    resource_types=(t.EKS_CLUSTER,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
