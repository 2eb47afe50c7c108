"""aws-sagemaker-model-env-secrets: SageMaker models pass no secret as a plain environment value
(``primaryContainer.environment`` / ``containers[].environment``): anyone who can describe the
model reads it. Pass a Secrets Manager ARN (or a path) and let the container fetch the value
with its execution role."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import as_list, dig, is_map, known
from policies.lib.rule import MANDATORY, resource_rule
from policies.lib.secrets import looks_like_secret

NAME = "aws-sagemaker-model-env-secrets"
FIX = "pass the Secrets Manager ARN of the secret (e.g. MLFLOW_PASSWORD_ARN) and read it at start with the execution role"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != t.SAGEMAKER_MODEL:
        return
    containers = [dig(args.props, "primaryContainer")] + as_list(dig(args.props, "containers"))
    found = []
    for container in containers:
        env = dig(container, "environment")
        if not is_map(env):
            continue
        for key in env:
            if looks_like_secret(str(key), known(env, key, if_unknown=None)):
                found.append(str(key))
    if found:
        report_violation(f"SageMaker model '{args.name}' passes secret(s) {', '.join(sorted(found))} as plain environment "
                         f"values; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether SageMaker models pass secrets (passwords, tokens, keys) as plain environment values. Fix: pass "
        "a Secrets Manager ARN and read the value at start."
    ),
    resource_types=(t.SAGEMAKER_MODEL,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
