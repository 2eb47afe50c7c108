"""Build pulumi_policy policies from plain validate functions, with the pack's conventions
checked at construction: a kebab-case name, a description that starts "Checks whether",
a default enforcement level, and a config schema (so a stack can override the enforcement
level and the rule's own properties with ``--policy-pack-config``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
DISABLED = EnforcementLevel.DISABLED

NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
DESCRIPTION_PREFIX = "Checks whether"

#: A rule that applies to every type (required-tags): declared as this one entry.
ANY_TYPE = "*"
#: Rule name -> the resource type tokens it reads, declared with the rule (data, tested against
#: the provider SDKs' registered tokens in tests/policies/test_types.py).
DECLARED_TYPES: dict[str, tuple[str, ...]] = {}

ResourceValidate = Callable[[ResourceValidationArgs, ReportViolation], None]
StackValidate = Callable[[StackValidationArgs, ReportViolation], None]


class RuleDefinitionError(ValueError):
    """A rule that breaks the pack's conventions (name, description, level)."""


def _declare(name: str, resource_types: tuple[str, ...] | list[str]) -> None:
    types = tuple(dict.fromkeys(resource_types))
    if not types or not all(isinstance(x, str) and x for x in types):
        raise RuleDefinitionError(f"rule {name}: declare the resource types it reads (resource_types=...)")
    DECLARED_TYPES[name] = types


def declared_types(name: str) -> tuple[str, ...]:
    return DECLARED_TYPES[name]


def applies_to(name: str) -> frozenset[str] | None:
    """The types a resource rule is called for (its declaration), or ``None`` for every type (an
    ``ANY_TYPE`` rule, or a policy not built here)."""
    types = DECLARED_TYPES.get(name)
    return None if types is None or ANY_TYPE in types else frozenset(types)


def _gated(name: str, validate: ResourceValidate) -> ResourceValidate:
    """``validate`` called only for the declared types: the declaration is what the rule checks,
    not a comment (a type left out is not checked, and the fixtures show it), and the runner
    skips the other resources without building their arguments."""
    types = applies_to(name)
    if types is None:
        return validate

    def gated(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type in types:
            validate(args, report_violation)

    gated.__name__ = getattr(validate, "__name__", "validate")
    gated.__doc__ = validate.__doc__
    return gated


def _check(name: str, description: str, enforcement_level: EnforcementLevel) -> None:
    if not NAME_PATTERN.match(name):
        raise RuleDefinitionError(f"rule name {name!r} is not kebab-case (e.g. aws-s3-bucket-encryption)")
    if not description.startswith(DESCRIPTION_PREFIX):
        raise RuleDefinitionError(f"rule {name}: the description must start {DESCRIPTION_PREFIX!r}")
    if not isinstance(enforcement_level, EnforcementLevel):
        raise RuleDefinitionError(f"rule {name}: the enforcement level must be an EnforcementLevel")


def _schema(properties: Mapping[str, Mapping[str, Any]] | None) -> PolicyConfigSchema:
    return PolicyConfigSchema(properties={key: dict(spec) for key, spec in (properties or {}).items()})


def resource_rule(
    *,
    name: str,
    description: str,
    validate: ResourceValidate,
    enforcement_level: EnforcementLevel,
    remediation: str,
    resource_types: tuple[str, ...] | list[str],
    properties: Mapping[str, Mapping[str, Any]] | None = None,
) -> ResourceValidationPolicy:
    """A ``ResourceValidationPolicy`` the engine calls once per resource."""
    _check(name, description, enforcement_level)
    _declare(name, resource_types)
    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=_gated(name, validate),
        enforcement_level=enforcement_level,
        config_schema=_schema(properties),
        remediation_steps=remediation,
    )


def stack_rule(
    *,
    name: str,
    description: str,
    validate: StackValidate,
    enforcement_level: EnforcementLevel,
    remediation: str,
    resource_types: tuple[str, ...] | list[str],
    properties: Mapping[str, Mapping[str, Any]] | None = None,
) -> StackValidationPolicy:
    """A ``StackValidationPolicy`` the engine calls once with every resource of the stack."""
    _check(name, description, enforcement_level)
    _declare(name, resource_types)
    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement_level,
        config_schema=_schema(properties),
        remediation_steps=remediation,
    )
