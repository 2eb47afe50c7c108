"""azure-storage-no-public-blob: no anonymous blob access: storage accounts set
``allowBlobPublicAccess: false`` and blob containers do not set ``publicAccess`` to
``Blob``/``Container``."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import is_false, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "azure-storage-no-public-blob"
FIX = "set allowBlobPublicAccess: false on the account and publicAccess: 'None' on its containers"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == t.AZ_STORAGE_ACCOUNT:
        if not is_false(known(args.props, "allowBlobPublicAccess", if_unknown=False)):
            report_violation(f"Storage account '{args.name}' does not forbid anonymous blob access; {FIX}.")
    elif args.resource_type == t.AZ_BLOB_CONTAINER:
        access = str(known(args.props, "publicAccess", default="None", if_unknown="None"))
        if access != "None":
            report_violation(f"Blob container '{args.name}' allows anonymous {access} access; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether storage accounts forbid anonymous blob access and containers are not public. Fix: set "
        "allowBlobPublicAccess false and container publicAccess 'None'."
    ),
    resource_types=(t.AZ_STORAGE_ACCOUNT, t.AZ_BLOB_CONTAINER),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
