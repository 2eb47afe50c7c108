"""k8s-no-privilege-escalation: no container is privileged, and every container sets
``allowPrivilegeEscalation: false`` (Kubernetes defaults it to true)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import kubernetes as k8s
from policies.lib.props import is_false, is_true, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "k8s-no-privilege-escalation"
FIX = "set securityContext.allowPrivilegeEscalation: false and privileged: false"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = k8s.pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for label, container in k8s.containers(spec):
        subject = f"{k8s.describe(args.resource_type, args.name)} {label}"
        if is_true(known(container, "securityContext", "privileged")):
            report_violation(f"{subject} is privileged (full access to the node); {FIX}.")
        elif not is_false(known(container, "securityContext", "allowPrivilegeEscalation",
                                default=False if k8s.is_patch(args.resource_type) else None, if_unknown=False)):
            report_violation(f"{subject} allows privilege escalation; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether every container is unprivileged with allowPrivilegeEscalation false. Fix: set "
        "securityContext.allowPrivilegeEscalation false and privileged false."
    ),
    resource_types=k8s.WORKLOAD_TYPES,
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
