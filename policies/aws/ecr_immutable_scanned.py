"""aws-ecr-immutable-scanned: in prod, ECR repositories have immutable tags (a pushed
``serving:1.2.3`` can never be replaced under the same name) and scan images on push, or the
stack turns on registry-wide scanning (``aws.ecr.RegistryScanningConfiguration`` with a
scan-on-push or continuous rule). Stack validation, for that registry-wide alternative."""

from __future__ import annotations

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.lib import types as t
from policies.lib.props import as_list, dig, is_true, known
from policies.lib.rule import MANDATORY, stack_rule
from policies.lib.settings import ENVIRONMENT_PROPERTY, is_prod
from policies.lib.stack import of_type

NAME = "aws-ecr-immutable-scanned"
FIX = "set imageTagMutability 'IMMUTABLE' and imageScanningConfiguration.scanOnPush true"


def _registry_scans(args: StackValidationArgs) -> bool:
    for config in of_type(args.resources, t.ECR_REGISTRY_SCANNING_CONFIGURATION):
        for rule in as_list(dig(config.props, "rules")):
            if str(known(rule, "scanFrequency", default="", if_unknown="SCAN_ON_PUSH")) in ("SCAN_ON_PUSH", "CONTINUOUS_SCAN"):
                return True
    return False


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    if not is_prod(args):
        return
    registry_scans = _registry_scans(args)
    for repo in of_type(args.resources, t.ECR_REPOSITORY):
        problems = []
        mutability = str(known(repo.props, "imageTagMutability", default="MUTABLE", if_unknown="IMMUTABLE"))
        if not mutability.startswith("IMMUTABLE"):
            problems.append("tags are mutable")
        if not registry_scans and not is_true(known(repo.props, "imageScanningConfiguration", "scanOnPush",
                                                    default=False, if_unknown=True)):
            problems.append("images are not scanned on push")
        if problems:
            report_violation(f"ECR repository '{repo.name}': {' and '.join(problems)}, which prod requires; {FIX}.",
                             repo.urn)


POLICY = stack_rule(
    name=NAME,
    description=(
        "Checks whether prod ECR repositories have immutable tags and scan on push (or registry-wide scanning). Fix: "
        "imageTagMutability 'IMMUTABLE', imageScanningConfiguration.scanOnPush true."
    ),
    resource_types=(t.ECR_REPOSITORY, t.ECR_REGISTRY_SCANNING_CONFIGURATION),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
    properties=ENVIRONMENT_PROPERTY,
)
