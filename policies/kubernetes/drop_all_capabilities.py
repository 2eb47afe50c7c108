"""k8s-drop-all-capabilities: every container drops ALL Linux capabilities and adds back at
most NET_BIND_SERVICE (what the restricted Pod Security Standard allows)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import kubernetes as k8s
from policies.lib.props import as_list, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "k8s-drop-all-capabilities"
ALLOWED_ADDS = {"NET_BIND_SERVICE"}
FIX = "set securityContext.capabilities.drop: ['ALL'] and add nothing but NET_BIND_SERVICE"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = k8s.pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    patch = k8s.is_patch(args.resource_type)
    for label, container in k8s.containers(spec):
        subject = f"{k8s.describe(args.resource_type, args.name)} {label}"
        drop = [str(c).upper() for c in as_list(known(container, "securityContext", "capabilities", "drop", default=["ALL"] if patch else [], if_unknown=["ALL"]))]
        add = [str(c).upper() for c in as_list(known(container, "securityContext", "capabilities", "add", if_unknown=[]))]
        if "ALL" not in drop:
            report_violation(f"{subject} does not drop all capabilities; {FIX}.")
        extra = sorted(set(add) - ALLOWED_ADDS)
        if extra:
            report_violation(f"{subject} adds capabilities {', '.join(extra)}; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether every container drops ALL capabilities (adding back at most NET_BIND_SERVICE). Fix: set "
        "securityContext.capabilities.drop ['ALL']."
    ),
    resource_types=k8s.WORKLOAD_TYPES,
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
