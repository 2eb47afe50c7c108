"""k8s-no-host-path: pods mount no hostPath volume (a path on the node's filesystem)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import kubernetes as k8s
from policies.lib.props import as_list, dig, is_map, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "k8s-no-host-path"
FIX = "use an emptyDir, a ConfigMap/Secret or a PersistentVolumeClaim instead"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = k8s.pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for volume in as_list(dig(spec, "volumes")):
        if is_map(volume) and "hostPath" in volume:
            path = known(volume, "hostPath", "path", default="?", if_unknown="?")
            report_violation(
                f"{k8s.describe(args.resource_type, args.name)} mounts hostPath {path} as volume "
                f"'{known(volume, 'name', default='?')}'; {FIX}."
            )


POLICY = resource_rule(
    name=NAME,
    description="Checks whether pods mount hostPath volumes. Fix: use emptyDir, ConfigMap/Secret or a PVC instead.",
    resource_types=k8s.WORKLOAD_TYPES,
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
