"""k8s-service-account-token: no pod gets a Kubernetes API token it did not ask for. The token is
mounted unless ``automountServiceAccountToken: false`` is set on the pod spec or on its
ServiceAccount; a pod that needs the API (Prometheus discovery, an operator) says so with an
explicit ``automountServiceAccountToken: true`` on its pod spec. Stack validation, to read the
ServiceAccounts."""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.lib import kubernetes as k8s
from policies.lib import types as t
from policies.lib.props import is_false, known
from policies.lib.rule import MANDATORY, stack_rule
from policies.lib.stack import of_type

NAME = "k8s-service-account-token"
FIX = "set automountServiceAccountToken: false on the pod spec or its ServiceAccount (true only where it calls the API)"


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    opted_out = set()
    for sa in of_type(args.resources, t.K8S_SERVICE_ACCOUNT):
        if is_false(known(sa.props, "automountServiceAccountToken", if_unknown=False)):
            name = known(sa.props, "metadata", "name", if_unknown=None) or sa.name
            opted_out.add((k8s.namespace_of(sa.props), str(name)))
    for workload in args.resources:
        if workload.resource_type not in k8s.POD_SPEC_PATHS or k8s.is_patch(workload.resource_type):
            continue
        spec = k8s.pod_spec(workload.resource_type, workload.props)
        if spec is None:
            continue
        explicit = known(spec, "automountServiceAccountToken", if_unknown=False)
        if explicit is not None:
            continue  # false, or an explicit true: a decision either way
        account = str(known(spec, "serviceAccountName", default="default", if_unknown="?")).rsplit("/", 1)[-1]
        if (k8s.namespace_of(workload.props), account) in opted_out or account == "?":
            continue
        report_violation(f"{k8s.describe(workload.resource_type, workload.name)} mounts a token of ServiceAccount "
                         f"'{account}' by default; {FIX}.", workload.urn)


POLICY = stack_rule(
    name=NAME,
    description=(
        "Checks whether pods leave the API token automount at its default (on) with neither the pod nor its "
        "ServiceAccount deciding. Fix: automountServiceAccountToken false (true only where needed)."
    ),
    resource_types=(t.K8S_SERVICE_ACCOUNT, *k8s.WORKLOAD_TYPES),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
