"""aws-sagemaker-training-kms: SageMaker training declared in the stack encrypts its volumes
and outputs with KMS: Training steps of a SageMaker Pipeline (``ResourceConfig.VolumeKmsKeyId``
and ``OutputDataConfig.KmsKeyId``), notebook instances and Studio domains (``kmsKeyId``).

Training jobs submitted at run time by ``ml/launch`` are API calls, not Pulumi resources, so no
policy sees them: the launcher passes the stack's KMS key output for both settings.
"""

from __future__ import annotations

import json

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import UnknownValueError, as_list, dig, is_map, is_set, plain
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-sagemaker-training-kms"
FIX = "set ResourceConfig.VolumeKmsKeyId and OutputDataConfig.KmsKeyId to the stack's KMS key"


def _pipeline_steps(definition) -> list[dict]:
    if isinstance(definition, str):
        definition = json.loads(definition)
    else:
        definition = plain(definition)
    steps = []
    pending = list(as_list(dig(definition, "Steps")))
    while pending:  # Condition steps nest more steps under IfSteps/ElseSteps
        step = pending.pop(0)
        if not is_map(step):
            continue
        steps.append(step)
        pending += as_list(dig(step, "Arguments", "IfSteps")) + as_list(dig(step, "Arguments", "ElseSteps"))
    return steps


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type in (t.SAGEMAKER_NOTEBOOK_INSTANCE, t.SAGEMAKER_DOMAIN):
        if not is_set(args.props, "kmsKeyId"):
            label = "notebook instance" if args.resource_type == t.SAGEMAKER_NOTEBOOK_INSTANCE else "domain"
            report_violation(f"SageMaker {label} '{args.name}' does not encrypt its storage with KMS; set kmsKeyId to "
                             f"the stack's KMS key.")
        return
    if args.resource_type != t.SAGEMAKER_PIPELINE:
        return
    # A definition computed at preview (built from an Output) raises UnknownValueError here: the
    # engine (and the runner) then report "can't run policy ... during preview: ... .pipelineDefinition"
    # as an advisory note naming what could not be decided, instead of a silent pass.
    try:
        steps = _pipeline_steps(dig(args.props, "pipelineDefinition"))
    except UnknownValueError:
        raise
    except ValueError:
        report_violation(f"SageMaker pipeline '{args.name}' has a pipelineDefinition that is not valid JSON; fix it.")
        return
    for step in steps:
        if step.get("Type") != "Training":
            continue
        arguments = step.get("Arguments") or {}
        missing = [
            setting
            for setting, path in (
                ("ResourceConfig.VolumeKmsKeyId", ("ResourceConfig", "VolumeKmsKeyId")),
                ("OutputDataConfig.KmsKeyId", ("OutputDataConfig", "KmsKeyId")),
            )
            if not is_set(arguments, *path)
        ]
        if missing:
            report_violation(
                f"SageMaker pipeline '{args.name}' training step '{step.get('Name', '?')}' leaves "
                f"{' and '.join(missing)} unset; {FIX}."
            )


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether SageMaker training declared in the stack (pipeline Training steps, notebook instances, "
        "domains) encrypts volumes and outputs with KMS. Fix: set VolumeKmsKeyId/KmsKeyId (kmsKeyId) to the "
        "stack's KMS key."
    ),
    resource_types=(t.SAGEMAKER_NOTEBOOK_INSTANCE, t.SAGEMAKER_DOMAIN, t.SAGEMAKER_PIPELINE),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
