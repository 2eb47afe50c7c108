"""The pack's rules, collected from ``policies/{aws,azure,kubernetes,common}/``: every module
there defines one rule as ``POLICY``. Like checkov's registry and AWSGuard's policy map, the
registry refuses two rules with the same name.

``ALL_POLICIES`` is what ``__main__.py`` hands to ``PolicyPack`` and what the offline runner
applies.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Iterator

from pulumi_policy import EnforcementLevel, Policy, StackValidationPolicy

#: Rule groups (sub-packages) and the name prefix their rules carry.
GROUPS: dict[str, str] = {"aws": "aws-", "azure": "azure-", "kubernetes": "k8s-", "common": ""}

#: The pack's default level for a rule that sets none (every rule here sets its own).
PACK_ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY


class RegistryError(ValueError):
    """A rule module the registry cannot load."""


class DuplicatePolicyError(RegistryError):
    """Two rules with the same name."""


class Registry:
    def __init__(self) -> None:
        self._policies: dict[str, Policy] = {}
        self._groups: dict[str, str] = {}

    def register(self, policy: Policy, group: str = "") -> Policy:
        if not isinstance(policy, Policy):
            raise TypeError(f"expected a pulumi_policy Policy, got {type(policy).__name__}")
        if policy.name in self._policies:
            raise DuplicatePolicyError(f"policy {policy.name!r} is registered twice")
        self._policies[policy.name] = policy
        self._groups[policy.name] = group
        return policy

    def __iter__(self) -> Iterator[Policy]:
        return iter(self._policies.values())

    def __len__(self) -> int:
        return len(self._policies)

    def __getitem__(self, name: str) -> Policy:
        return self._policies[name]

    def group_of(self, name: str) -> str:
        return self._groups[name]

    def policies(self) -> list[Policy]:
        return list(self._policies.values())


def rule_modules(groups: Iterable[str] = GROUPS) -> list[str]:
    """Dotted names of every rule module, sorted within each group."""
    names = []
    for group in groups:
        package = importlib.import_module(f"{__package__}.{group}")
        names += sorted(f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__))
    return names


def build_registry() -> Registry:
    registry = Registry()
    for module_name in rule_modules():
        module = importlib.import_module(module_name)
        policy = getattr(module, "POLICY", None)
        if policy is None:
            raise RegistryError(f"{module_name} defines no POLICY")
        registry.register(policy, group=module_name.split(".")[1])
    return registry


REGISTRY = build_registry()
ALL_POLICIES: list[Policy] = REGISTRY.policies()


def default_level(policy: Policy) -> EnforcementLevel:
    return policy.enforcement_level if policy.enforcement_level is not None else PACK_ENFORCEMENT_LEVEL


def markdown_table() -> str:
    """The README's table: rule, what it checks, default enforcement."""
    rows = ["| rule | scope | what it checks (and the fix) | default |", "|---|---|---|---|"]
    for policy in ALL_POLICIES:
        kind = "stack" if isinstance(policy, StackValidationPolicy) else "resource"
        text = policy.description.replace("|", "\\|")
        rows.append(f"| `{policy.name}` | {REGISTRY.group_of(policy.name)} ({kind}) | {text} | {default_level(policy).value} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
