"""aws-sagemaker-domain-vpc-only: SageMaker Studio domains send app traffic only through the VPC
(``appNetworkAccessType: VpcOnly``; the default PublicInternetOnly gives every Studio app a
SageMaker-managed route to the internet), with subnets and the users' security groups set.

KMS for the domain's EFS volume is checked by aws-sagemaker-training-kms. Studio has no root
toggle: apps run as the non-root ``sagemaker-user``.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import dig, is_set, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-sagemaker-domain-vpc-only"
FIX = "set appNetworkAccessType 'VpcOnly', vpcId and subnetIds (private), and defaultUserSettings.securityGroups"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != t.SAGEMAKER_DOMAIN:
        return
    props = args.props
    problems = []
    if str(known(props, "appNetworkAccessType", default="PublicInternetOnly", if_unknown="VpcOnly")) != "VpcOnly":
        problems.append("Studio apps reach the internet directly (appNetworkAccessType is not VpcOnly)")
    if not (is_set(props, "vpcId") and is_set(props, "subnetIds")):
        problems.append("it names no VPC subnets")
    if not is_set(dig(props, "defaultUserSettings"), "securityGroups"):
        problems.append("its users get no security groups")
    if problems:
        report_violation(f"SageMaker domain '{args.name}': {'; '.join(problems)}; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether SageMaker Studio domains are VPC-only (appNetworkAccessType VpcOnly) with subnets and user "
        "security groups. Fix: appNetworkAccessType 'VpcOnly', subnetIds, defaultUserSettings.securityGroups."
    ),
    resource_types=(t.SAGEMAKER_DOMAIN,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
