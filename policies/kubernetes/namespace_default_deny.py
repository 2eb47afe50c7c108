"""k8s-namespace-default-deny: every namespace the stack declares or deploys workloads into
has a default-deny NetworkPolicy: an empty ``podSelector`` (all pods), the policy types in the
rule's ``directions`` setting (default Ingress and Egress) and no rules for them. Allow rules
are then added one NetworkPolicy at a time.

Namespaces that only a helm Release deploys into are not seen (the Release renders in the
provider).
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.lib import kubernetes as k8s
from policies.lib import types as t
from policies.lib.props import as_list, dig, known
from policies.lib.rule import MANDATORY, stack_rule
from policies.lib.settings import setting, string_list
from policies.lib.stack import of_type

NAME = "k8s-namespace-default-deny"
DEFAULT_DIRECTIONS = ("Ingress", "Egress")


def _selects_all(selector: Any) -> bool:
    """An empty selector (``{}`` or absent) selects every pod of the namespace."""
    labels = known(selector, "matchLabels", default={}, if_unknown={"?": "?"})
    expressions = known(selector, "matchExpressions", default=[], if_unknown=["?"])
    return len(labels) == 0 and len(expressions) == 0


def _denies(policy: Any, direction: str) -> bool:
    """The policy selects every pod, covers ``direction`` and allows nothing in it."""
    spec = dig(policy.props, "spec") or {}
    types = [str(x) for x in as_list(known(spec, "policyTypes", default=["Ingress"], if_unknown=[]))]
    rules = as_list(known(spec, direction.lower(), default=[], if_unknown=["?"]))
    return _selects_all(dig(spec, "podSelector")) and direction in types and not rules


def _namespace_name(ns: Any) -> str:
    name = known(ns.props, "metadata", "name")
    return name if isinstance(name, str) and name else ns.name


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    directions = string_list(setting(args, "directions")) or list(DEFAULT_DIRECTIONS)
    namespaces: dict[str, str | None] = {}
    for ns in of_type(args.resources, t.K8S_NAMESPACE):
        namespaces[_namespace_name(ns)] = ns.urn
    for workload in args.resources:
        if k8s.is_workload(workload.resource_type):
            namespaces.setdefault(k8s.namespace_of(workload.props), workload.urn)
    policies = of_type(args.resources, t.K8S_NETWORK_POLICY)
    for namespace, urn in sorted(namespaces.items()):
        here = [p for p in policies if k8s.namespace_of(p.props) == namespace]
        missing = [d for d in directions if not any(_denies(p, d) for p in here)]
        if missing:
            report_violation(
                f"Namespace '{namespace}' has no default-deny NetworkPolicy for {' and '.join(missing)}; add a "
                f"NetworkPolicy in it with podSelector {{}} and policyTypes {directions} and no rules.",
                urn,
            )


POLICY = stack_rule(
    name=NAME,
    description=(
        "Checks whether every namespace the stack declares or deploys into has a default-deny NetworkPolicy "
        "(empty podSelector, Ingress and Egress, no rules). Fix: add one per namespace, then allow rules."
    ),
    resource_types=(t.K8S_NAMESPACE, t.K8S_NETWORK_POLICY, *k8s.WORKLOAD_TYPES),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation="add a NetworkPolicy with podSelector {} and policyTypes [Ingress, Egress] and no rules to each namespace",
    properties={
        "directions": {
            "type": "array",
            "items": {"type": "string", "enum": ["Ingress", "Egress"]},
            "description": "Policy types the default-deny policy must cover (default Ingress and Egress).",
        }
    },
)
