"""aws-security-group-public-ingress: no security group ingress from 0.0.0.0/0 or ::/0, except
TCP 443 on a load balancer's security group that says so with the tag
``mlops-platform/public-load-balancer: "true"``.

The exception reads the tags of the resource that declares the rule: the SecurityGroup (inline
``ingress``) or the ``aws.vpc.SecurityGroupIngressRule``. ``aws.ec2.SecurityGroupRule`` takes
no tags, so a world-open rule of that type is never excepted: declare it as a tagged
``aws.vpc.SecurityGroupIngressRule`` instead.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import as_list, dig, is_map, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-security-group-public-ingress"
PUBLIC_LB_TAG = "mlops-platform/public-load-balancer"
WORLD = {"0.0.0.0/0", "::/0"}
FIX = (
    f"restrict the source to known CIDRs or security groups; only TCP 443 on a load balancer tagged "
    f"{PUBLIC_LB_TAG}='true' may be open to the internet"
)


def _is_https_only(rule: Any, protocol_key: str) -> bool:
    protocol = str(known(rule, protocol_key, default="")).lower()
    return protocol in ("tcp", "6") and known(rule, "fromPort") in (443, 443.0) and known(rule, "toPort") in (443, 443.0)


def _world_open(rule: Any, *cidr_keys: str) -> bool:
    cidrs = set()
    for key in cidr_keys:
        cidrs |= {str(c) for c in as_list(known(rule, key, default=[]))}
    return bool(cidrs & WORLD)


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _ports(rule: Any) -> str:
    low, high = known(rule, "fromPort", default="?"), known(rule, "toPort", default="?")
    return f"port {_number(low)}" if low == high else f"ports {_number(low)}-{_number(high)}"


def _rules(args: ResourceValidationArgs) -> list[tuple[str, Any, str]]:
    """``[(label, rule, protocol key)]`` of the world-open ingress rules this resource declares."""
    props = args.props
    if args.resource_type in (t.EC2_SECURITY_GROUP, t.EC2_DEFAULT_SECURITY_GROUP):
        return [
            (f"ingress rule {i}", rule, "protocol")
            for i, rule in enumerate(as_list(dig(props, "ingress")))
            if is_map(rule) and _world_open(rule, "cidrBlocks", "ipv6CidrBlocks")
        ]
    if args.resource_type == t.VPC_SECURITY_GROUP_INGRESS_RULE and _world_open(props, "cidrIpv4", "cidrIpv6"):
        return [("ingress", props, "ipProtocol")]
    if (
        args.resource_type == t.EC2_SECURITY_GROUP_RULE
        and str(known(props, "type", default="")) == "ingress"
        and _world_open(props, "cidrBlocks", "ipv6CidrBlocks")
    ):
        return [("ingress", props, "protocol")]
    return []


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    tagged = str(known(args.props, "tags", PUBLIC_LB_TAG, default="")).lower() == "true"
    taggable = args.resource_type != t.EC2_SECURITY_GROUP_RULE
    for label, rule, protocol_key in _rules(args):
        if taggable and tagged and _is_https_only(rule, protocol_key):
            continue
        report_violation(f"Security group '{args.name}' {label} allows {_ports(rule)} from the internet; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether security groups allow ingress from 0.0.0.0/0 or ::/0, except TCP 443 on a load balancer "
        f"tagged {PUBLIC_LB_TAG}='true'. Fix: restrict the source CIDRs or security groups."
    ),
    resource_types=(t.EC2_SECURITY_GROUP, t.EC2_DEFAULT_SECURITY_GROUP, t.VPC_SECURITY_GROUP_INGRESS_RULE, t.EC2_SECURITY_GROUP_RULE),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
