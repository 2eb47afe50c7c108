"""k8s-no-secrets-in-env: containers get secrets through ``valueFrom.secretKeyRef`` (or a
mounted Secret), never as a plain ``env[].value``: plain values sit in the Deployment, readable
by anyone who can read workloads, and in the Pulumi state."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import kubernetes as k8s
from policies.lib.props import as_list, dig, is_map, known
from policies.lib.rule import MANDATORY, resource_rule
from policies.lib.secrets import looks_like_secret

NAME = "k8s-no-secrets-in-env"
FIX = "use env[].valueFrom.secretKeyRef (a kubernetes Secret) or mount the Secret as a file"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = k8s.pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for label, container in k8s.containers(spec):
        found = [str(known(e, "name", default="?")) for e in as_list(dig(container, "env"))
                 if is_map(e) and looks_like_secret(str(known(e, "name", default="")), known(e, "value", if_unknown=None))]
        if found:
            report_violation(f"{k8s.describe(args.resource_type, args.name)} {label} passes secret(s) "
                             f"{', '.join(found)} as plain env values; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether containers pass secrets (passwords, tokens, keys) as plain env values. Fix: use "
        "valueFrom.secretKeyRef."
    ),
    resource_types=k8s.WORKLOAD_TYPES,
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
