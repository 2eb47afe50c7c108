"""Every Azure name the backends generate satisfies Azure's rules, for any project, stack and
component name; the hash suffix is stable across runs and processes (no random names)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from components.azure import common
from components.naming import cloud_name

# Azure's documented rules (learn.microsoft.com "Naming rules and restrictions for Azure
# resources"), written independently of components/naming.py so the test checks the rules, not
# the implementation.
AZURE_RULES: dict[str, re.Pattern[str]] = {
    # 3-24 lowercase letters and digits, globally unique.
    "azure_storage": re.compile(r"^[a-z0-9]{3,24}$"),
    # 3-24, letters, digits and hyphens; starts with a letter, ends with a letter or digit,
    # no consecutive hyphens.
    "azure_keyvault": re.compile(r"^(?!.*--)[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$"),
    # 5-50 letters and digits.
    "azure_acr": re.compile(r"^[a-zA-Z0-9]{5,50}$"),
    # AML online endpoint: 3-32, letter first, letters/digits/hyphens, alphanumeric last.
    "azure_ml_endpoint": re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$"),
    # AML workspace: 3-33, alphanumeric first, letters/digits/'-'/'_'.
    "azure_ml_workspace": re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$"),
    # AML compute: 2-16, letter first, letters/digits/hyphens, alphanumeric last.
    "azure_ml_compute": re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{0,14}[a-zA-Z0-9]$"),
    # Resource group: 1-90, letters/digits/'-'/'_'/'.'/'()', not ending in '.'.
    "azure_resource_group": re.compile(r"^[-\w.()]{0,89}[-\w()]$"),
    # AKS cluster (the strictest of our other ARM names): 1-63, alphanumeric at both ends.
    "azure_resource": re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,61}[a-zA-Z0-9]$"),
    # AKS DNS prefix: 1-54, letter first, alphanumeric last.
    "azure_dns_prefix": re.compile(r"^[a-zA-Z]([a-zA-Z0-9-]{0,52}[a-zA-Z0-9])?$"),
    # Log Analytics: 4-63, alphanumeric at both ends.
    "azure_log_analytics": re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]{2,61}[a-zA-Z0-9]$"),
    # Action group short name: 1-12.
    "azure_action_group_short": re.compile(r"^.{1,12}$"),
}

# Pulumi project and stack names: letters, digits, '-', '_', '.'; component names: anything a
# caller might type.
pulumi_names = st.text(alphabet=st.sampled_from("abcXYZ019-_."), min_size=1, max_size=100)
component_names = st.text(min_size=0, max_size=80)


@settings(max_examples=300, deadline=None)
@given(project=pulumi_names, stack=pulumi_names, component=component_names, role=component_names)
def test_every_generated_azure_name_satisfies_the_azure_rule(project, stack, component, role):
    for kind, rule in AZURE_RULES.items():
        generated = cloud_name(kind, component, role, unique=(project, stack))
        assert rule.match(generated), f"{kind}: {generated!r} from {component!r}/{role!r}"


@settings(max_examples=200, deadline=None)
@given(project=pulumi_names, stack=pulumi_names)
def test_landing_zone_names_satisfy_the_rules_for_any_stack(project, stack):
    group = common.resource_group_default(project, stack)
    assert AZURE_RULES["azure_resource_group"].match(group), group
    assert AZURE_RULES["azure_log_analytics"].match(common.log_workspace_name(group))
    assert AZURE_RULES["azure_resource"].match(common.vnet_name(group))


@settings(max_examples=200, deadline=None)
@given(a=pulumi_names, b=pulumi_names)
def test_globally_unique_names_differ_between_stacks(a, b):
    if a == b:
        return
    for kind in ("azure_storage", "azure_keyvault", "azure_acr", "azure_ml_endpoint"):
        assert cloud_name(kind, "training", unique=("mlops-platform", a)) != cloud_name(
            kind, "training", unique=("mlops-platform", b)
        ), kind


def test_suffix_is_stable_across_runs_and_processes():
    """Same project+stack -> same names in a fresh interpreter with another hash seed."""
    code = (
        "from components.naming import cloud_name;"
        "print(cloud_name('azure_storage','training',unique=('mlops-platform','prod-azure')),"
        "cloud_name('azure_ml_endpoint','serving',unique=('mlops-platform','prod-azure')))"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    runs = {
        subprocess.run(
            [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout.strip()
        for seed in ("1", "2", "random")
    }
    here = " ".join([
        cloud_name("azure_storage", "training", unique=("mlops-platform", "prod-azure")),
        cloud_name("azure_ml_endpoint", "serving", unique=("mlops-platform", "prod-azure")),
    ])
    assert runs == {here}
    # Pinned: a change here renames (replaces) global resources of deployed stacks.
    assert here == "trainingebf4f0 serving-317133"


def test_role_assignment_and_workbook_names_are_deterministic_guids():
    first = common.deterministic_guid("scope", "principal", "AcrPull")
    assert first == common.deterministic_guid("scope", "principal", "AcrPull")
    assert first != common.deterministic_guid("other-scope", "principal", "AcrPull")
    assert re.match(r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$", first)
