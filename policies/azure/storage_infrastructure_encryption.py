"""azure-storage-infrastructure-encryption: storage accounts add infrastructure encryption
(a second AES-256 layer; ``encryption.requireInfrastructureEncryption``). It can only be set
when the account is created, so it is advisory by default: raise it to mandatory per stack."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import is_true, known
from policies.lib.rule import ADVISORY, resource_rule

NAME = "azure-storage-infrastructure-encryption"
FIX = "set encryption.requireInfrastructureEncryption: true when creating the account"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == t.AZ_STORAGE_ACCOUNT and not is_true(
        known(args.props, "encryption", "requireInfrastructureEncryption", if_unknown=True)
    ):
        report_violation(f"Storage account '{args.name}' has no infrastructure (double) encryption; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether storage accounts require infrastructure (double) encryption. Fix: set "
        "encryption.requireInfrastructureEncryption true at creation."
    ),
    resource_types=(t.AZ_STORAGE_ACCOUNT,),
    validate=validate,
    enforcement_level=ADVISORY,
    remediation=FIX,
)
