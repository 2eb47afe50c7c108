"""azure-key-vault-purge-protection: Key Vaults (the AML workspace's among them) keep soft
delete on and purge protection on, so keys and secrets survive a deletion."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import is_false, is_true, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "azure-key-vault-purge-protection"
FIX = "set properties.enablePurgeProtection: true and leave enableSoftDelete on"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != t.AZ_KEY_VAULT:
        return
    properties = known(args.props, "properties", default={}, if_unknown={})
    problems = []
    if is_false(known(properties, "enableSoftDelete", if_unknown=True)):
        problems.append("soft delete off")
    if not is_true(known(properties, "enablePurgeProtection", if_unknown=True)):
        problems.append("purge protection off")
    if problems:
        report_violation(f"Key Vault '{args.name}' has {' and '.join(problems)}; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether every Key Vault has soft delete and purge protection on. Fix: set "
        "properties.enablePurgeProtection true."
    ),
    resource_types=(t.AZ_KEY_VAULT,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
