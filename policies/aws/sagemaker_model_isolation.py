"""aws-sagemaker-model-isolation: SageMaker models run with network isolation inside the VPC
(``enableNetworkIsolation: true`` and ``vpcConfig`` with subnets and security groups)."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import dig, is_set, is_true, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-sagemaker-model-isolation"
FIX = "set enableNetworkIsolation: true and vpcConfig={subnets: <private subnet ids>, securityGroupIds: [...]}"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != t.SAGEMAKER_MODEL:
        return
    problems = []
    if not is_true(known(args.props, "enableNetworkIsolation", if_unknown=True)):
        problems.append("network isolation is off")
    vpc = dig(args.props, "vpcConfig")
    if not (is_set(vpc, "subnets") and is_set(vpc, "securityGroupIds")):
        problems.append("it has no VPC config (subnets and security groups)")
    if problems:
        report_violation(f"SageMaker model '{args.name}': {' and '.join(problems)}; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether every SageMaker model runs with network isolation and in the VPC. Fix: set "
        "enableNetworkIsolation true and vpcConfig subnets and securityGroupIds."
    ),
    resource_types=(t.SAGEMAKER_MODEL,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
