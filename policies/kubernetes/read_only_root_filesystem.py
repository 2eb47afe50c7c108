"""k8s-read-only-root-filesystem: every container's root filesystem is read-only; writable
paths are explicit volumes (an emptyDir for /tmp)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import kubernetes as k8s
from policies.lib.props import is_true, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "k8s-read-only-root-filesystem"
FIX = "set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the process writes"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = k8s.pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for label, container in k8s.containers(spec):
        if not is_true(known(container, "securityContext", "readOnlyRootFilesystem",
                             default=True if k8s.is_patch(args.resource_type) else None, if_unknown=True)):
            report_violation(f"{k8s.describe(args.resource_type, args.name)} {label} has a writable root filesystem; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether every container has a read-only root filesystem. Fix: set "
        "securityContext.readOnlyRootFilesystem true and mount emptyDir volumes for writable paths."
    ),
    resource_types=k8s.WORKLOAD_TYPES,
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
