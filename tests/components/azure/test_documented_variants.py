"""Every configuration docs/azure.md tells a user to run is a plan with zero policy violations.

The variants are read from the document itself, so a command added or changed there is checked
without editing this test:

* every ``python -m stacks.plan prod-azure [--set K=V ...]`` line (parsed with the CLI's own
  ``--set`` parser);
* every ``sh`` block of ``pulumi config set mlops-platform:K V`` lines, as the config stands at
  each ``pulumi up`` in the block and at its end (settings accumulate, as they do on a stack);
* every inline ``pulumi config set mlops-platform:K V``.

Placeholders (``<your-ip>``, ``<acr>``…) get concrete sample values; one the table does not know
fails the test. The targeted ``pulumi up --target '<glob>'`` of the landing-zone step must select
exactly the Network component and its children, none of which may depend on anything outside.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.components.azure.test_role_assignments import acr_name

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "azure.md"
STACK = "prod-azure"
KEY = "mlops-platform:"


def placeholders(acr: str) -> dict[str, str]:
    return {
        "<your-ip>": "203.0.113.7",
        "<group-object-id>": "5f3b2c1e-8a4d-4e6f-9b0a-1c2d3e4f5a6b",
        "<acr>": acr,
        "<new>": "0.2.0",
    }


def _value(raw: str, acr: str) -> str:
    for marker, sample in placeholders(acr).items():
        raw = raw.replace(marker, sample)
    if re.search(r"<[^>]+>", raw):
        raise AssertionError(f"docs/azure.md: placeholder in {raw!r} has no sample value in this test")
    return raw


def documented_variants(acr: str, text: str | None = None) -> dict[str, dict[str, str]]:
    from stacks.plan import parse_overrides

    text = DOC.read_text() if text is None else text
    found: dict[str, dict[str, str]] = {}
    for tail in re.findall(rf"python -m stacks\.plan {STACK}([^\n#`]*)", text):
        sets = re.findall(r"--set\s+(\S+)", tail)
        found[f"plan{tail.rstrip()}"] = {k: _value(v, acr) for k, v in parse_overrides(sets).items()}
    for number, block in enumerate(re.findall(r"```sh\n(.*?)```", text, re.S)):
        current: dict[str, str] = {}
        ups = 0
        for line in block.splitlines():
            setting = re.match(rf"\s*pulumi config set {KEY}(\S+)\s+(\S+)", line)
            if setting:
                current[setting[1]] = _value(setting[2], acr)
            elif re.match(r"\s*pulumi up\b", line) and current:
                ups += 1
                found[f"block {number}, pulumi up {ups}"] = dict(current)
        if current:
            found[f"block {number}, end"] = dict(current)
    for key, value in re.findall(rf"`pulumi config set {KEY}(\S+) ([^`\s]+)`", text):
        found[f"inline {key}"] = {key: _value(value, acr)}
    return found


@pytest.fixture(scope="module")
def variants(capture) -> dict[str, dict[str, str]]:
    return documented_variants(acr_name(capture))


def test_the_document_yields_the_variants_it_describes(variants):
    settings = [v for v in variants.values()]
    assert {"servingRuntime": "kubernetes"} in settings
    assert any(v.get("azureTrafficGreen") == "100" and "azureGreenImage" in v for v in settings)
    assert any(v.get("azurePrivateEndpoints") == "false" for v in settings)
    assert any("azureNameSalt" in v for v in settings)
    assert any(v.get("azureDeployerPrincipalType") == "User" for v in settings)


def test_the_parser_accumulates_a_block_and_refuses_an_unknown_placeholder():
    text = ("```sh\npulumi config set mlops-platform:a 1\npulumi up\npulumi config set mlops-platform:b <acr>\n```\n"
            "uv run python -m stacks.plan prod-azure --set c=3\n")
    assert documented_variants("reg1", text) == {
        "plan --set c=3": {"c": "3"}, "block 0, pulumi up 1": {"a": "1"}, "block 0, end": {"a": "1", "b": "reg1"}}
    with pytest.raises(AssertionError, match="placeholder"):
        documented_variants("reg1", "`pulumi config set mlops-platform:x <mystery>`")


def pytest_generate_tests(metafunc):
    """One test per documented variant, named as found in the document (names do not depend on
    the ACR name, which is only known from a plan)."""
    if "documented" in metafunc.fixturenames:
        names = list(documented_variants("acr"))
        metafunc.parametrize("documented", names)


def test_every_documented_variant_has_zero_policy_violations(capture, variants, documented):
    from policies.runner import evaluate, format_verdicts
    from stacks.plan import stack_config

    overrides = variants[documented]
    resources = capture(STACK, overrides)
    assert resources
    violations = evaluate(resources, stack_config=stack_config(STACK, overrides))
    assert not violations, format_verdicts(violations)


def _engine_urn(urn: str) -> str:
    """The engine leaves the root stack's type out of its children's URNs; the mocks keep it."""
    return urn.replace("::pulumi:pulumi:Stack$", "::")


def _glob(pattern: str) -> re.Pattern[str]:
    """Pulumi's --target globs: ``**`` any characters, ``*`` any within a ``::`` segment."""
    parts = re.split(r"(\*\*|\*)", pattern)
    return re.compile("".join(".*" if p == "**" else "(?:(?!::).)*" if p == "*" else re.escape(p) for p in parts))


def test_the_landing_zone_target_selects_the_network_tree_and_nothing_it_needs_is_outside(capture):
    (target,) = re.findall(r"pulumi up --target '([^']+)'", DOC.read_text())
    resources = capture(STACK)
    by_urn = {_engine_urn(r["urn"]): r for r in resources}
    pattern = _glob(target)
    selected = {urn for urn in by_urn if pattern.fullmatch(urn)}
    (network,) = [urn for urn, r in by_urn.items() if r["type"] == "mlops:index:Network"]

    def in_tree(urn: str) -> bool:
        while urn:
            if urn == network:
                return True
            parent = by_urn.get(urn, {}).get("parent")
            urn = _engine_urn(parent) if parent else ""
        return False

    assert selected == {urn for urn in by_urn if in_tree(urn)}
    outside = {(urn, _engine_urn(dep)) for urn in selected for dep in by_urn[urn]["dependencies"]
               if _engine_urn(dep) not in selected and not _engine_urn(dep).split("::")[2].startswith("pulumi:providers:")}
    assert not outside


def test_the_documented_request_is_answered_by_the_serving_app_with_a_demand_model(tmp_path):
    """Step 8's request.json, posted to the app's AML scoring route with a real ``demand`` model
    (the launcher's default task), gets one prediction."""
    import json

    from contract.serving import AZUREML_ROUTES
    from serving.app import create_app
    from tests.serving import models
    from tests.serving.conftest import served, settings_for

    (body,) = re.findall(r"^`request\.json`.*?```json\n(.*?)```", DOC.read_text(), re.S | re.M)
    request = json.loads(body)
    route = AZUREML_ROUTES["scoring_route"]["path"]
    with served(create_app(settings_for(models.save("demand", tmp_path / "demand")))) as client:
        answer = client.post(route, json=request)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["predictions"]) == len(request["dataframe_records"]) == 1
