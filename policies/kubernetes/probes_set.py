"""k8s-probes-set: every long-running container has a readiness and a liveness probe.

Containers of Jobs and CronJobs run to completion and init containers run before the pod is
ready: probes do not apply to them.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import kubernetes as k8s
from policies.lib.props import is_set
from policies.lib.rule import MANDATORY, resource_rule

NAME = "k8s-probes-set"
PROBES = ("readinessProbe", "livenessProbe")
FIX = "add readinessProbe and livenessProbe (e.g. httpGet on /health/ready and /health/live)"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type in k8s.RUN_TO_COMPLETION or k8s.is_patch(args.resource_type):
        return
    spec = k8s.pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for label, container in k8s.containers(spec, init=False):
        missing = [p for p in PROBES if not is_set(container, p)]
        if missing:
            report_violation(f"{k8s.describe(args.resource_type, args.name)} {label} has no {' or '.join(missing)}; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether every long-running container has readiness and liveness probes (Jobs/CronJobs exempt). "
        "Fix: add readinessProbe and livenessProbe."
    ),
    resource_types=k8s.WORKLOAD_TYPES,
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
