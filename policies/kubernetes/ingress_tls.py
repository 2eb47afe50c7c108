"""k8s-ingress-tls: Kubernetes Ingresses terminate TLS for every host they route
(``spec.tls`` covering each rule's host)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import UnknownValueError, as_list, dig
from policies.lib.rule import MANDATORY, resource_rule

NAME = "k8s-ingress-tls"
FIX = "add spec.tls with a secretName (e.g. from cert-manager) listing every host"


def host_covered(host: str, tls_host: str) -> bool:
    """A TLS host covers a rule host when equal, or when it is a wildcard ``*.example.com`` and the
    host is one label under it (``api.example.com``; a certificate wildcard spans one label)."""
    if host.lower() == tls_host.lower():
        return True
    if tls_host.startswith("*.") and not host.startswith("*."):
        label, _, rest = host.partition(".")
        return bool(label) and rest.lower() == tls_host[2:].lower()
    return False


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != t.K8S_INGRESS:
        return
    try:
        tls = as_list(dig(args.props, "spec", "tls"))
        covered = {str(h) for entry in tls for h in as_list(dig(entry, "hosts"))}
        hosts = [str(dig(rule, "host")) for rule in as_list(dig(args.props, "spec", "rules")) if dig(rule, "host")]
    except UnknownValueError:
        return  # computed hosts at preview: cannot tell
    if not tls:
        report_violation(f"Ingress '{args.name}' serves plain HTTP (no spec.tls); {FIX}.")
        return
    uncovered = [h for h in hosts if not any(host_covered(h, c) for c in covered)]
    if uncovered:
        report_violation(f"Ingress '{args.name}' has no TLS for host(s) {', '.join(uncovered)}; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether every Ingress terminates TLS for all of its hosts. Fix: add spec.tls with a secretName "
        "listing every host."
    ),
    resource_types=(t.K8S_INGRESS,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
