"""Every resource type token the rules name exists in the installed provider SDKs.

The oracle is the SDKs' own registration: importing pulumi_aws / pulumi_azure_native /
pulumi_kubernetes registers every resource module with the Pulumi runtime, each with a map
``{type token: class name}`` (what the engine uses to rehydrate resources). A misspelled token
in a rule (``aws:sns/topic:Topics``) matches no resource, so the rule passes everything: this
test is what catches it.
"""

from __future__ import annotations

import functools
import importlib
import re
from pathlib import Path

import pulumi.runtime.rpc as rpc
import pytest

from policies.lib.rule import ANY_TYPE, declared_types
from policies.registry import ALL_POLICIES

ROOT = Path(__file__).resolve().parents[2]
SDKS = ("pulumi_aws", "pulumi_azure_native", "pulumi_kubernetes")
TOKEN = re.compile(r'"((?:aws|azure-native|kubernetes):[A-Za-z0-9./-]+:[A-Z][A-Za-z0-9]*)"')


@functools.lru_cache(maxsize=1)
def sdk_tokens() -> frozenset[str]:
    for sdk in SDKS:
        importlib.import_module(sdk)
    tokens: set[str] = set()
    for modules in rpc._RESOURCE_MODULES.values():  # noqa: SLF001 - the SDKs' registration is the oracle
        for module in modules:
            tokens |= set(getattr(module, "mod_info", {}).get("classes", {}))
    return frozenset(tokens)


def test_the_sdks_register_thousands_of_tokens_including_known_ones():
    tokens = sdk_tokens()
    assert len(tokens) > 3000
    assert {"aws:s3/bucket:Bucket", "azure-native:storage:StorageAccount", "kubernetes:apps/v1:Deployment"} <= tokens
    assert "aws:sns/topic:Topics" not in tokens  # a misspelling is not registered


@pytest.mark.parametrize("policy", ALL_POLICIES, ids=[p.name for p in ALL_POLICIES])
def test_every_declared_type_exists_in_the_provider_sdks(policy):
    declared = declared_types(policy.name)
    if declared == (ANY_TYPE,):
        assert policy.name == "required-tags"
        return
    assert sorted(set(declared) - sdk_tokens()) == []


def test_every_token_written_in_the_pack_exists_in_the_provider_sdks():
    written = {m for path in (ROOT / "policies").rglob("*.py") for m in TOKEN.findall(path.read_text(encoding="utf-8"))}
    assert len(written) > 50
    assert sorted(written - sdk_tokens()) == []


def test_only_required_tags_applies_to_every_type():
    assert [p.name for p in ALL_POLICIES if ANY_TYPE in declared_types(p.name)] == ["required-tags"]
