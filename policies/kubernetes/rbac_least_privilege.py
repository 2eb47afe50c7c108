"""k8s-rbac-least-privilege: RBAC grants stay narrow: no (Cluster)RoleBinding to
``cluster-admin`` (or ``admin``/``edit`` cluster-wide), no rule with a wildcard verb, resource
or API group, and no ``get``/``list``/``watch`` on ``secrets`` cluster-wide (a ClusterRole).
Bindings for the listed ``allowedClusterAdminSubjects`` (break-glass groups) are allowed."""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import as_list, dig, is_map, known
from policies.lib.rule import MANDATORY, resource_rule
from policies.lib.settings import setting, string_list

NAME = "k8s-rbac-least-privilege"
BROAD_ROLES = ("cluster-admin",)
CLUSTER_WIDE_BROAD = ("admin", "edit")
READ_VERBS = {"get", "list", "watch", "*"}
FIX = "grant a Role with the named verbs and resources the workload needs, in its own namespace"


def _rule_findings(rule: Any, cluster_wide: bool) -> list[str]:
    verbs = [str(v) for v in as_list(known(rule, "verbs", default=[], if_unknown=[]))]
    resources = [str(r) for r in as_list(known(rule, "resources", default=[], if_unknown=[]))]
    groups = [str(g) for g in as_list(known(rule, "apiGroups", default=[], if_unknown=[]))]
    out = []
    wild = [f"{what} '*'" for what, values in (("verbs", verbs), ("resources", resources), ("apiGroups", groups))
            if "*" in values]
    if wild:
        out.append("a rule with " + ", ".join(wild))
    if cluster_wide and "secrets" in resources and READ_VERBS & set(verbs):
        out.append("cluster-wide read access to secrets")
    return out


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    kind = args.resource_type
    label = f"{kind.rsplit(':', 1)[-1]} '{args.name}'"
    if kind in (t.K8S_ROLE, t.K8S_CLUSTER_ROLE):
        findings = []
        for rule in as_list(dig(args.props, "rules")):
            if is_map(rule):
                findings += _rule_findings(rule, kind == t.K8S_CLUSTER_ROLE)
        if findings:
            report_violation(f"{label} grants {'; '.join(sorted(set(findings)))}; {FIX}.")
    elif kind in (t.K8S_ROLE_BINDING, t.K8S_CLUSTER_ROLE_BINDING):
        role = str(known(args.props, "roleRef", "name", default="", if_unknown=""))
        broad = role in BROAD_ROLES or (kind == t.K8S_CLUSTER_ROLE_BINDING and role in CLUSTER_WIDE_BROAD)
        if not broad:
            return
        allowed = set(string_list(setting(args, "allowedClusterAdminSubjects")))
        subjects = [str(known(s, "name", default="?")) for s in as_list(dig(args.props, "subjects")) if is_map(s)]
        others = [s for s in subjects if s not in allowed]
        if others:
            report_violation(f"{label} binds {', '.join(others)} to '{role}'; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether RBAC stays narrow: no binding to cluster-admin (or admin/edit cluster-wide), no wildcard "
        "verbs/resources/apiGroups, no cluster-wide read of secrets. Fix: namespaced Roles naming verbs and resources."
    ),
    resource_types=(t.K8S_ROLE, t.K8S_CLUSTER_ROLE, t.K8S_ROLE_BINDING, t.K8S_CLUSTER_ROLE_BINDING),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
    properties={
        "allowedClusterAdminSubjects": {
            "type": "array", "items": {"type": "string"},
            "description": "Subject names (break-glass groups) that may be bound to cluster-admin.",
        }
    },
)
