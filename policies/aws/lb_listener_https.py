"""aws-lb-listener-https: load balancer listeners serve HTTPS/TLS; an HTTP listener is allowed
only when every default action redirects to HTTPS.

SageMaker and Azure ML endpoints are HTTPS-only by the service's design; a Kubernetes Ingress is
checked by k8s-ingress-tls.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import as_list, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-lb-listener-https"
FIX = "use protocol HTTPS (with certificateArn and a TLS 1.2+ sslPolicy), or make the HTTP listener redirect to HTTPS"


def _redirects_to_https(args: ResourceValidationArgs) -> bool:
    actions = as_list(known(args.props, "defaultActions", default=[]))
    return bool(actions) and all(
        str(known(a, "type", default="")) == "redirect"
        and str(known(a, "redirect", "protocol", default="#{protocol}", if_unknown="HTTPS")).upper() == "HTTPS"
        for a in actions
    )


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in (t.LB_LISTENER, t.ALB_LISTENER):
        return
    protocol = str(known(args.props, "protocol", default="HTTP", if_unknown="HTTPS")).upper()
    if protocol == "HTTP" and not _redirects_to_https(args):
        report_violation(f"Load balancer listener '{args.name}' serves plain HTTP; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether load balancer listeners serve HTTPS (or only redirect HTTP to HTTPS). Fix: use protocol "
        "HTTPS with a certificate, or a redirect action to HTTPS."
    ),
    resource_types=(t.LB_LISTENER, t.ALB_LISTENER),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
