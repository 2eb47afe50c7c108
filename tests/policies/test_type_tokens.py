"""Every resource type token the policy pack names is one the provider SDKs really register: a
misspelled token would make a rule silently match nothing. The oracle is each installed SDK's own
resource-module table (``_utilities.register(resource_modules=...)`` in its ``__init__``)."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from functools import cache
from pathlib import Path

import pytest

POLICIES = Path(__file__).resolve().parents[2] / "policies"
TOKEN = re.compile(r"^(aws|azure-native|kubernetes|docker):[A-Za-z0-9./-]+:[A-Z][A-Za-z0-9]*$")
SDKS = {"aws": "pulumi_aws", "azure-native": "pulumi_azure_native", "kubernetes": "pulumi_kubernetes",
        "docker": "pulumi_docker"}


@cache
def registered(package: str) -> frozenset[str]:
    spec = importlib.util.find_spec(SDKS[package])
    assert spec and spec.origin, f"{SDKS[package]} is not installed"
    text = Path(spec.origin).read_text()
    table = re.search(r'resource_modules="""(.*?)"""', text, re.S)
    assert table, f"{SDKS[package]} has no resource module table"
    return frozenset(token for module in json.loads(table.group(1)) for token in module["classes"])


def tokens_in_policies() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(POLICIES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and TOKEN.match(node.value):
                found.append((str(path.relative_to(POLICIES)), node.lineno, node.value))
    return found


def test_the_pack_names_tokens_of_every_provider():
    packages = {token.split(":", 1)[0] for _, _, token in tokens_in_policies()}
    assert {"aws", "azure-native", "kubernetes"} <= packages


@pytest.mark.parametrize(("path", "line", "token"), tokens_in_policies(), ids=lambda v: str(v))
def test_every_policy_type_token_is_registered_by_its_sdk(path, line, token):
    package = token.split(":", 1)[0]
    assert token in registered(package), f"{path}:{line}: {token!r} is not a {SDKS[package]} resource type"
