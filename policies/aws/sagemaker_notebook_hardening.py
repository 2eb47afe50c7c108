"""aws-sagemaker-notebook-hardening: SageMaker notebook instances run without direct internet
access and without root, inside the VPC (subnet and security groups), with IMDSv2 only.

SageMaker's defaults are the opposite: ``directInternetAccess`` Enabled, ``rootAccess`` Enabled,
no VPC, and ``minimumInstanceMetadataServiceVersion`` "1". KMS for the volume is checked by
aws-sagemaker-training-kms.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import dig, is_set, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-sagemaker-notebook-hardening"
FIX = ("set directInternetAccess 'Disabled', rootAccess 'Disabled', subnetId and securityGroups (a private subnet), and "
       "instanceMetadataServiceConfiguration.minimumInstanceMetadataServiceVersion '2'")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != t.SAGEMAKER_NOTEBOOK_INSTANCE:
        return
    props = args.props
    problems = []
    if str(known(props, "directInternetAccess", default="Enabled", if_unknown="Disabled")) != "Disabled":
        problems.append("direct internet access is on")
    if str(known(props, "rootAccess", default="Enabled", if_unknown="Disabled")) != "Disabled":
        problems.append("users get root")
    if not (is_set(props, "subnetId") and is_set(props, "securityGroups")):
        problems.append("it is not in the VPC (subnetId and securityGroups)")
    imds = known(dig(props, "instanceMetadataServiceConfiguration"), "minimumInstanceMetadataServiceVersion",
                 default="1", if_unknown="2")
    if str(imds) != "2":
        problems.append("IMDSv1 is allowed")
    if problems:
        report_violation(f"SageMaker notebook instance '{args.name}': {'; '.join(problems)}; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether SageMaker notebook instances have direct internet access and root access off, run in the VPC "
        "and require IMDSv2. Fix: directInternetAccess/rootAccess 'Disabled', subnetId + securityGroups, IMDS "
        "version '2'."
    ),
    resource_types=(t.SAGEMAKER_NOTEBOOK_INSTANCE,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
