"""The pack: rules load as pulumi_policy classes, follow the naming conventions, one per file,
no duplicates; ``__main__.py`` hands the registry's list to ``PolicyPack`` and nothing else."""

from __future__ import annotations

import importlib
import re
import runpy
from pathlib import Path

import pulumi_policy
import pytest
import yaml
from pulumi_policy import EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy

from policies import registry
from policies.lib.rule import MANDATORY, RuleDefinitionError, resource_rule

ROOT = Path(__file__).resolve().parents[2]
POLICIES_DIR = ROOT / "policies"


def test_every_rule_module_contributes_exactly_one_registered_policy():
    modules = registry.rule_modules()
    assert len(modules) == len(registry.ALL_POLICIES) >= 45
    for module_name in modules:
        policy = importlib.import_module(module_name).POLICY
        assert registry.REGISTRY[policy.name] is policy


@pytest.mark.parametrize("policy", registry.ALL_POLICIES, ids=[p.name for p in registry.ALL_POLICIES])
def test_rule_follows_the_pack_conventions(policy):
    assert isinstance(policy, (ResourceValidationPolicy, StackValidationPolicy))
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", policy.name)
    group = registry.REGISTRY.group_of(policy.name)
    assert policy.name.startswith(registry.GROUPS[group])
    module = f"policies.{group}.{policy.name[len(registry.GROUPS[group]):].replace('-', '_')}"
    assert importlib.import_module(module).POLICY is policy, "the file is named after the rule"
    assert policy.description.startswith("Checks whether") and "Fix:" in policy.description
    assert policy.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY)
    assert isinstance(policy.config_schema, PolicyConfigSchema)
    assert "enforcementLevel" not in policy.config_schema.properties
    assert policy.remediation_steps


def test_registry_refuses_a_duplicate_name():
    reg = registry.Registry()
    first = registry.ALL_POLICIES[0]
    reg.register(first)
    with pytest.raises(registry.DuplicatePolicyError, match=f"policy '{first.name}' is registered twice"):
        reg.register(first)
    assert len(reg) == 1


def test_registry_refuses_a_non_policy():
    with pytest.raises(TypeError, match="expected a pulumi_policy Policy, got dict"):
        registry.Registry().register({"name": "x"})


def test_registry_refuses_a_rule_module_without_policy(monkeypatch):
    monkeypatch.setattr(registry, "rule_modules", lambda groups=registry.GROUPS: ["policies.lib.types"])
    with pytest.raises(registry.RegistryError, match="policies.lib.types defines no POLICY"):
        registry.build_registry()


def test_rule_builder_refuses_a_name_that_is_not_kebab_case():
    with pytest.raises(RuleDefinitionError, match="not kebab-case"):
        resource_rule(name="S3_Encryption", description="Checks whether x.", validate=lambda a, r: None,
                      enforcement_level=MANDATORY, remediation="x", resource_types=("aws:s3/bucket:Bucket",))


def test_rule_builder_refuses_a_description_that_does_not_start_checks_whether():
    with pytest.raises(RuleDefinitionError, match="must start 'Checks whether'"):
        resource_rule(name="s3-encryption", description="S3 must be encrypted.", validate=lambda a, r: None,
                      enforcement_level=MANDATORY, remediation="x", resource_types=("aws:s3/bucket:Bucket",))


def test_rule_builder_refuses_a_rule_that_declares_no_resource_types():
    with pytest.raises(RuleDefinitionError, match="declare the resource types"):
        resource_rule(name="s3-encryption", description="Checks whether x.", validate=lambda a, r: None,
                      enforcement_level=MANDATORY, remediation="x", resource_types=())


def test_main_constructs_the_policy_pack_with_the_registry_and_nothing_else(monkeypatch):
    calls = []

    class RecordingPack:
        def __init__(self, **kwargs):
            calls.append(kwargs)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", RecordingPack)
    runpy.run_path(str(POLICIES_DIR / "__main__.py"), run_name="__main__")
    assert len(calls) == 1
    (kwargs,) = calls
    assert kwargs["name"] == "mlops-platform"
    assert kwargs["policies"] is registry.ALL_POLICIES
    assert kwargs["enforcement_level"] == EnforcementLevel.MANDATORY


def test_nothing_imports_the_blocking_entry_point():
    offenders = [
        str(path.relative_to(ROOT))
        for top in ("components", "stacks", "policies", "ml", "serving", "tests", "benchmarks")
        for path in (ROOT / top).glob("**/*.py")
        if path.name != "test_registry.py"
        and re.search(r"^\s*(from policies\.__main__|import policies\.__main__|from policies import __main__)",
                      path.read_text(encoding="utf-8", errors="ignore"), re.M)
    ]
    assert offenders == []


def test_policy_pack_project_file_runs_in_the_project_environment():
    spec = yaml.safe_load((POLICIES_DIR / "PulumiPolicy.yaml").read_text())
    assert spec["runtime"]["name"] == "python"
    assert (POLICIES_DIR / spec["runtime"]["options"]["virtualenv"]).resolve() == (ROOT / ".venv").resolve()
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(spec["version"]))


def test_readme_table_has_one_row_per_rule_with_its_default_level():
    rows = registry.markdown_table().splitlines()[2:]
    assert len(rows) == len(registry.ALL_POLICIES)
    for row, policy in zip(rows, registry.ALL_POLICIES, strict=True):
        assert row.startswith(f"| `{policy.name}` |") and row.endswith(f"| {policy.enforcement_level.value} |")
