"""k8s-no-host-namespaces: pods do not share the node's network, PID or IPC namespace."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import kubernetes as k8s
from policies.lib.props import is_true, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "k8s-no-host-namespaces"
FIELDS = ("hostNetwork", "hostPID", "hostIPC")
FIX = "remove " + "/".join(FIELDS) + " (or set them false) from the pod spec"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = k8s.pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    shared = [f for f in FIELDS if is_true(known(spec, f))]
    if shared:
        report_violation(f"{k8s.describe(args.resource_type, args.name)} shares the node's namespaces ({', '.join(shared)}); {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether pods share the node's network, PID or IPC namespace (hostNetwork, hostPID, hostIPC). Fix: "
        "remove those settings."
    ),
    resource_types=k8s.WORKLOAD_TYPES,
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
