"""azure-storage-no-shared-key: storage accounts (the Azure ML workspace's among them) refuse
shared-key access, so only Entra ID identities can reach the data. An AML workspace on such an
account needs ``systemDatastoresAuthMode: 'identity'``."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import is_false, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "azure-storage-no-shared-key"
FIX = "set allowSharedKeyAccess: false (and the AML workspace's systemDatastoresAuthMode: 'identity')"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == t.AZ_STORAGE_ACCOUNT and not is_false(
        known(args.props, "allowSharedKeyAccess", if_unknown=False)
    ):
        report_violation(f"Storage account '{args.name}' allows shared-key access; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether storage accounts refuse shared-key access (Entra ID only). Fix: set allowSharedKeyAccess "
        "false and the AML workspace's systemDatastoresAuthMode 'identity'."
    ),
    resource_types=(t.AZ_STORAGE_ACCOUNT,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
