"""k8s-resources-set: every container sets CPU and memory requests and limits."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import kubernetes as k8s
from policies.lib.props import is_set
from policies.lib.rule import MANDATORY, resource_rule

NAME = "k8s-resources-set"
REQUIRED = (("requests", "cpu"), ("requests", "memory"), ("limits", "cpu"), ("limits", "memory"))
FIX = "set resources.requests and resources.limits for cpu and memory"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = k8s.pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    if k8s.is_patch(args.resource_type):
        return  # a patch that leaves resources out keeps the live ones
    for label, container in k8s.containers(spec, ephemeral=False):
        missing = [f"{kind}.{res}" for kind, res in REQUIRED if not is_set(container, "resources", kind, res)]
        if missing:
            report_violation(
                f"{k8s.describe(args.resource_type, args.name)} {label} has no {', '.join(missing)}; {FIX}."
            )


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether every container sets CPU and memory requests and limits. Fix: set resources.requests and "
        "resources.limits for cpu and memory."
    ),
    resource_types=k8s.WORKLOAD_TYPES,
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
