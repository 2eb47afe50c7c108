"""azure-aks-host-encryption: AKS node pools encrypt at host (temp disks and caches too:
``enableEncryptionAtHost``), or the cluster sets a customer-managed ``diskEncryptionSetID``.

Encryption at host needs the subscription feature ``Microsoft.Compute/EncryptionAtHost``
registered, so the rule is advisory by default: raise it to mandatory per stack.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import as_list, dig, is_set, is_true, known
from policies.lib.rule import ADVISORY, resource_rule

NAME = "azure-aks-host-encryption"
FIX = "set enableEncryptionAtHost: true on every node pool (or diskEncryptionSetID on the cluster)"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == t.AZ_MANAGED_CLUSTER:
        if is_set(args.props, "diskEncryptionSetID"):
            return
        for index, pool in enumerate(as_list(dig(args.props, "agentPoolProfiles"))):
            if not is_true(known(pool, "enableEncryptionAtHost", if_unknown=True)):
                pool_name = known(pool, "name", default=str(index), if_unknown=str(index))
                report_violation(f"AKS cluster '{args.name}' node pool '{pool_name}' does not encrypt at host; {FIX}.")
    elif args.resource_type == t.AZ_AGENT_POOL and not is_true(
        known(args.props, "enableEncryptionAtHost", if_unknown=True)
    ):
        report_violation(f"AKS node pool '{args.name}' does not encrypt at host; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether AKS node pools encrypt at host (or the cluster uses a disk encryption set). Fix: set "
        "enableEncryptionAtHost true on every pool."
    ),
    resource_types=(t.AZ_MANAGED_CLUSTER, t.AZ_AGENT_POOL),
    validate=validate,
    enforcement_level=ADVISORY,
    remediation=FIX,
)
