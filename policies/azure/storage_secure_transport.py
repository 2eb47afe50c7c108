"""azure-storage-secure-transport: storage accounts accept HTTPS only, with TLS 1.2 or newer.

Both settings must be explicit: the API defaults have changed across versions (minimum TLS was
TLS1_0 on older API versions), and an explicit value survives such changes.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import is_true, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "azure-storage-secure-transport"
MODERN_TLS = ("TLS1_2", "TLS1_3")
FIX = "set enableHttpsTrafficOnly: true and minimumTlsVersion: 'TLS1_2'"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != t.AZ_STORAGE_ACCOUNT:
        return
    problems = []
    if not is_true(known(args.props, "enableHttpsTrafficOnly", if_unknown=True)):
        problems.append("does not enforce HTTPS only")
    if str(known(args.props, "minimumTlsVersion", default="", if_unknown="TLS1_2")) not in MODERN_TLS:
        problems.append("allows TLS older than 1.2")
    if problems:
        report_violation(f"Storage account '{args.name}' {' and '.join(problems)}; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether every storage account enforces HTTPS only and TLS 1.2 or newer. Fix: set "
        "enableHttpsTrafficOnly true and minimumTlsVersion 'TLS1_2'."
    ),
    resource_types=(t.AZ_STORAGE_ACCOUNT,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
