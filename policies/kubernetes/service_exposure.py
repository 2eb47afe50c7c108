"""k8s-service-exposure: no Service of type LoadBalancer or NodePort (reachable from outside the
cluster) unless it says so: the annotation ``mlops-platform/public-load-balancer: "true"``, or an
internal load balancer annotation (``service.beta.kubernetes.io/aws-load-balancer-internal`` /
``azure-load-balancer-internal`` ``"true"``, or ``aws-load-balancer-scheme: internal``)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import dig, is_map, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "k8s-service-exposure"
ALLOW = "mlops-platform/public-load-balancer"
INTERNAL = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
    "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
}
FIX = (f"use type ClusterIP behind the Ingress, an internal load balancer annotation, or annotate "
       f"{ALLOW}: 'true' to expose it on purpose")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in (t.K8S_SERVICE, t.K8S_SERVICE_PATCH):
        return
    kind = str(known(args.props, "spec", "type", default="ClusterIP", if_unknown="ClusterIP"))
    if kind not in ("LoadBalancer", "NodePort"):
        return
    annotations = dig(args.props, "metadata", "annotations") or {}
    values = {str(k): str(known(annotations, k, default="")).lower() for k in annotations} if is_map(annotations) else {}
    if values.get(ALLOW) == "true" or any(values.get(k) == v for k, v in INTERNAL.items()):
        return
    report_violation(f"Service '{args.name}' of type {kind} is reachable from outside the cluster; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether Services of type LoadBalancer/NodePort are internal or explicitly allowed "
        f"({ALLOW} 'true'). Fix: ClusterIP behind the Ingress, or an internal load balancer."
    ),
    resource_types=(t.K8S_SERVICE, t.K8S_SERVICE_PATCH),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
