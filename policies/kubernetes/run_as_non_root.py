"""k8s-run-as-non-root: every container runs as a non-root user (``runAsNonRoot: true`` on the
container or the pod, and no ``runAsUser: 0``)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import kubernetes as k8s
from policies.lib.props import dig, is_true, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "k8s-run-as-non-root"
FIX = "set securityContext.runAsNonRoot: true and a non-zero runAsUser (on the container or the pod)"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = k8s.pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    pod = dig(spec, "securityContext") or {}
    for label, container in k8s.containers(spec):
        own = dig(container, "securityContext") or {}
        non_root = known(own, "runAsNonRoot", if_unknown=True)
        if non_root is None:
            non_root = known(pod, "runAsNonRoot", if_unknown=True)
        user = known(own, "runAsUser", if_unknown=1)
        if user is None:
            user = known(pod, "runAsUser", if_unknown=1)
        if user is not None and float(user) == 0:
            report_violation(f"{k8s.describe(args.resource_type, args.name)} {label} runs as root (runAsUser 0); {FIX}.")
        elif not is_true(non_root) and not (non_root is None and k8s.is_patch(args.resource_type)):
            report_violation(f"{k8s.describe(args.resource_type, args.name)} {label} may run as root; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether every container runs as non-root (runAsNonRoot true, runAsUser not 0). Fix: set "
        "securityContext.runAsNonRoot true and a non-zero runAsUser."
    ),
    resource_types=k8s.WORKLOAD_TYPES,
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
