"""aws-sagemaker-endpoint-kms: SageMaker endpoint configurations encrypt the ML storage volume
with KMS (``kmsKeyArn``), and captured request/response data too (``dataCaptureConfig.kmsKeyId``).

SageMaker refuses ``KmsKeyId`` for serverless variants and for instance types whose storage is
local NVMe (encrypted by the instance's hardware module): a configuration whose variants are
all of that kind passes without ``kmsKeyArn``.
"""

from __future__ import annotations

import re

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import as_list, dig, is_false, is_set, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-sagemaker-endpoint-kms"
#: Instance families with NVMe instance storage only (SageMaker: "do not specify KmsKeyId").
NVME_FAMILY = re.compile(r"^ml\.(?:[a-z]+\d+[a-z]*d[a-z]*|g5|g6|g6e|p4d|p4de|p5|p5e|inf2|trn1)\.", re.I)
FIX = "set kmsKeyArn to the stack's KMS key ARN (and dataCaptureConfig.kmsKeyId when capturing data)"


def _exempt(variant) -> bool:
    if is_set(variant, "serverlessConfig"):
        return True
    instance_type = known(variant, "instanceType", default="", if_unknown="")
    return bool(NVME_FAMILY.match(str(instance_type)))


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != t.SAGEMAKER_ENDPOINT_CONFIGURATION:
        return
    variants = as_list(dig(args.props, "productionVariants")) + as_list(dig(args.props, "shadowProductionVariants"))
    needs_key = not variants or not all(_exempt(v) for v in variants)
    if needs_key and not is_set(args.props, "kmsKeyArn"):
        report_violation(f"SageMaker endpoint configuration '{args.name}' does not encrypt its storage with KMS; {FIX}.")
    capture = dig(args.props, "dataCaptureConfig")
    if capture is not None and not is_false(dig(capture, "enableCapture", default=True)) and not is_set(capture, "kmsKeyId"):
        report_violation(
            f"SageMaker endpoint configuration '{args.name}' captures inference data without KMS; set "
            f"dataCaptureConfig.kmsKeyId to the stack's KMS key ARN."
        )


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether SageMaker endpoint configurations encrypt their storage (kmsKeyArn) and captured data "
        "(dataCaptureConfig.kmsKeyId) with KMS. Fix: set both to the stack's KMS key."
    ),
    resource_types=(t.SAGEMAKER_ENDPOINT_CONFIGURATION,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
