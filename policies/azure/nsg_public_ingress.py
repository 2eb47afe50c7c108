"""azure-nsg-public-ingress: no network security group rule allows inbound traffic from the
internet (``*``, ``Internet``, ``0.0.0.0/0``, ``::/0``) except to port 443."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import as_list, dig, is_map, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "azure-nsg-public-ingress"
WORLD = {"*", "internet", "0.0.0.0/0", "::/0", "any"}
FIX = "restrict sourceAddressPrefix to known ranges or service tags (only port 443 may be open to the internet)"


def _open_ports(rule: Any) -> list[str]:
    """The non-443 destination ports an inbound Allow rule opens to the internet."""
    if str(known(rule, "direction", default="")).lower() != "inbound":
        return []
    if str(known(rule, "access", default="")).lower() != "allow":
        return []
    sources = [known(rule, "sourceAddressPrefix")] + as_list(known(rule, "sourceAddressPrefixes", default=[]))
    if not any(str(s).lower() in WORLD for s in sources if s is not None):
        return []
    ports = [known(rule, "destinationPortRange")] + as_list(known(rule, "destinationPortRanges", default=[]))
    return [str(p) for p in ports if p is not None and str(p) != "443"]


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == t.AZ_NETWORK_SECURITY_GROUP:
        rules = [
            (f"Network security group '{args.name}' rule '{known(r, 'name', default=i)}'", r)
            for i, r in enumerate(as_list(dig(args.props, "securityRules")))
            if is_map(r)
        ]
    elif args.resource_type == t.AZ_SECURITY_RULE:
        rules = [(f"Network security rule '{args.name}'", args.props)]
    else:
        return
    for label, rule in rules:
        ports = _open_ports(rule)
        if ports:
            report_violation(f"{label} allows inbound port(s) {', '.join(ports)} from the internet; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether network security group rules allow inbound traffic from the internet to any port but 443. "
        "Fix: restrict the source prefixes to known ranges or service tags."
    ),
    resource_types=(t.AZ_NETWORK_SECURITY_GROUP, t.AZ_SECURITY_RULE),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
