"""The offline runner: apply the pack's rules to the resources the capture harness records
(``stacks.plan.capture``), calling each rule exactly as the engine's analyzer does.

* A resource rule gets one ``ResourceValidationArgs`` per resource (props wrapped in
  pulumi_policy's unknown-checking proxy, options, provider, the rule's config, stack tags); a
  stack rule gets one ``StackValidationArgs`` with every resource as a ``PolicyResource``
  (parents, dependencies and property dependencies linked).
* A rule's config is what its config schema names, taken from the stack config (flat keys, e.g.
  ``environment``, ``owner``, ``costCenter``), so prod rules see the stack's environment.
* Enforcement: the rule's default, overridden AWSGuard/CLI-style by
  ``{"all": "mandatory", "<rule>": "advisory" | "disabled"}`` (a rule's own entry wins over
  ``all``); ``remediate`` is reported as mandatory, as the engine does.
* A rule that reads a value unknown at preview gets the engine's advisory note instead of a verdict.
* Speed: a resource rule is called only for the types it declares (``policies.lib.rule.applies_to``,
  the same gate the rule applies under the engine); each call still gets its own props proxy, as
  from the engine (pulumi_policy's proxy copies every dict and list, so no deep copy is needed);
  the stack rules share one linked list of resources.

``python -m policies.runner --json captured.json --config environment=prod ...`` runs it on a
saved capture (``python -m stacks.plan <stack> --json``) and exits 1 on a mandatory violation.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from policies.lib.rule import applies_to
from policies.registry import ALL_POLICIES, default_level

LEVELS = {level.value: level for level in EnforcementLevel}
STACK = "(stack)"


@dataclass(frozen=True, order=True)
class Violation:
    policy: str
    enforcement: str
    urn: str
    name: str
    message: str


class EnforcementConfigError(ValueError):
    """An enforcement override naming an unknown rule or level."""


def enforcement_levels(policies: Iterable[Policy], overrides: Mapping[str, str] | None = None) -> dict[str, EnforcementLevel]:
    policies = list(policies)
    overrides = dict(overrides or {})
    names = {p.name for p in policies}
    for key, value in overrides.items():
        if key != "all" and key not in names:
            raise EnforcementConfigError(f"enforcement: no rule named {key!r}")
        if str(value) not in LEVELS:
            raise EnforcementConfigError(f"enforcement: {key}={value!r} is not one of {', '.join(LEVELS)}")
    levels = {}
    for policy in policies:
        chosen = overrides.get(policy.name, overrides.get("all"))
        levels[policy.name] = LEVELS[str(chosen)] if chosen is not None else default_level(policy)
    return levels


def rule_config(policy: Policy, stack_config: Mapping[str, Any]) -> dict[str, Any]:
    """The stack config keys the rule's schema declares."""
    properties = policy.config_schema.properties if policy.config_schema else {}
    return {key: stack_config[key] for key in properties if key in stack_config}


def _options(record: Mapping[str, Any]) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=bool(record.get("protect")),
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=record.get("parent"),
    )


def _props(record: Mapping[str, Any]) -> Any:
    # the proxy builds new dicts and lists all the way down (leaves are JSON scalars), so a rule
    # can never change the record or another rule's view of it
    return unknown_checking_proxy(dict(record.get("inputs") or {}))


def _providers(resources: list[Mapping[str, Any]]) -> dict[str, PolicyProviderResource]:
    """Provider references (``<urn>::<id>``) -> the provider resource, when it was recorded."""
    by_urn = {r["urn"]: r for r in resources}
    out = {}
    for record in resources:
        ref = record.get("provider")
        if not ref:
            continue
        urn = ref.rsplit("::", 1)[0]
        provider = by_urn.get(urn)
        if provider is not None:
            out[ref] = PolicyProviderResource(provider["type"], _props(provider), urn, provider["name"])
    return out


def stack_resources(resources: list[Mapping[str, Any]]) -> list[PolicyResource]:
    """Records -> linked ``PolicyResource`` objects, as the engine builds them for stack rules."""
    providers = _providers(resources)
    built = {
        r["urn"]: PolicyResource(r["type"], _props(r), r["urn"], r["name"], _options(r),
                                 providers.get(r.get("provider") or ""), None, [], {})
        for r in resources
    }
    for record in resources:
        resource = built[record["urn"]]
        resource.parent = built.get(record.get("parent") or "")
        resource.dependencies = [built[u] for u in record.get("dependencies") or [] if u in built]
        resource.property_dependencies = {
            key: [built[u] for u in urns if u in built] for key, urns in (record.get("property_dependencies") or {}).items()
        }
    return list(built.values())


def _reporter(violations: list[Violation], policy: str, level: EnforcementLevel, names: Mapping[str, str],
              resource_urn: str | None):
    """The ``report_violation`` callback: a resource rule's violations belong to the resource being
    validated (the engine ignores the urn argument there); a stack rule's to the urn it names."""
    def report_violation(message: str, urn: str | None = None) -> None:
        target = resource_urn if resource_urn is not None else (urn or "")
        violations.append(Violation(policy, level.value, target, names.get(target, STACK), message))
    return report_violation


def _unknown_note(policy: Policy, exc: UnknownValueError) -> str:
    return f"can't run policy '{policy.name}' during preview: {exc.message}"


def evaluate(
    resources: list[dict[str, Any]],
    stack_config: Mapping[str, Any] | None = None,
    enforcement: Mapping[str, str] | None = None,
    *,
    policies: Iterable[Policy] | None = None,
    stack_tags: Mapping[str, str] | None = None,
) -> list[Violation]:
    """Every violation the rules report on ``resources``, sorted by rule then resource."""
    policies = list(ALL_POLICIES if policies is None else policies)
    levels = enforcement_levels(policies, enforcement)
    stack_config = dict(stack_config or {})
    stack_tags = dict(stack_tags or {})
    names = {r["urn"]: r["name"] for r in resources}
    providers = _providers(resources)
    options = {r["urn"]: _options(r) for r in resources}
    linked: list[PolicyResource] | None = None
    violations: list[Violation] = []

    for policy in policies:
        level = levels[policy.name]
        if level == EnforcementLevel.DISABLED:
            continue
        shown = EnforcementLevel.MANDATORY if level == EnforcementLevel.REMEDIATE else level
        config = rule_config(policy, stack_config)

        if isinstance(policy, ResourceValidationPolicy):
            types = applies_to(policy.name)
            records = resources if types is None else [r for r in resources if r["type"] in types]
            for record in records:
                args = ResourceValidationArgs(
                    record["type"], _props(record), record["urn"], record["name"], options[record["urn"]],
                    providers.get(record.get("provider") or ""), config, stack_tags,
                )
                try:
                    policy.validate(args, _reporter(violations, policy.name, shown, names, record["urn"]))
                except UnknownValueError as exc:
                    violations.append(Violation(policy.name, EnforcementLevel.ADVISORY.value, record["urn"],
                                                record["name"], _unknown_note(policy, exc)))
                except _NotApplicableError:
                    pass
        elif isinstance(policy, StackValidationPolicy):
            if linked is None:
                linked = stack_resources(resources)
            args = StackValidationArgs(linked, config, stack_tags)
            try:
                policy.validate(args, _reporter(violations, policy.name, shown, names, None))
            except UnknownValueError as exc:
                violations.append(Violation(policy.name, EnforcementLevel.ADVISORY.value, "", STACK,
                                            _unknown_note(policy, exc)))
            except _NotApplicableError:
                pass
    return sorted(violations)


def has_mandatory(violations: Iterable[Violation]) -> bool:
    return any(v.enforcement == EnforcementLevel.MANDATORY.value for v in violations)


def format_verdicts(violations: list[Violation]) -> str:
    """A plain-text report: one block per rule, mandatory rules first, then a summary line."""
    if not violations:
        return "policies: no violations"
    order = {"mandatory": 0, "advisory": 1}
    lines = []
    current = None
    for v in sorted(violations, key=lambda v: (order.get(v.enforcement, 2), v.policy, v.name, v.message)):
        if (v.policy, v.enforcement) != current:
            current = (v.policy, v.enforcement)
            lines.append(f"[{v.enforcement}] {v.policy}")
        lines.append(f"    {v.name}: {v.message}")
    mandatory = sum(1 for v in violations if v.enforcement == "mandatory")
    lines.append(f"policies: {mandatory} mandatory, {len(violations) - mandatory} advisory violation(s)")
    return "\n".join(lines)


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"{what}: expected KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policies.runner", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", required=True, help="resources captured by `python -m stacks.plan <stack> --json`")
    parser.add_argument("--stack", metavar="NAME",
                        help="read the stack config as the engine would (Pulumi.yaml defaults, then Pulumi.<NAME>.yaml): "
                             "environment, owner, awsDeployerRoleArn...; --config entries win")
    parser.add_argument("--config", action="append", default=[], metavar="KEY=VALUE",
                        help="stack config key (without the project prefix), e.g. environment=prod")
    parser.add_argument("--enforce", action="append", default=[], metavar="RULE=LEVEL",
                        help="override a level: all=mandatory, aws-ecr-kms=advisory, ...")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    with open(args.json, encoding="utf-8") as handle:
        resources = json.load(handle)
    try:
        config: dict[str, Any] = {}
        if args.stack:
            from stacks.plan import stack_config  # the same reader the offline plan uses

            config.update(stack_config(args.stack))
        config.update(_pairs(args.config, "--config"))
        violations = evaluate(resources, config, _pairs(args.enforce, "--enforce"))
    except EnforcementConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps([asdict(v) for v in violations], indent=2))
    else:
        print(format_verdicts(violations))
    return 1 if has_mandatory(violations) else 0


if __name__ == "__main__":
    sys.exit(main())
