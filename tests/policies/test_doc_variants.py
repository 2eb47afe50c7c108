"""Every stack config variant the docs describe (README.md, docs/*.md, policies/README.md) has
zero mandatory violations: the variants are read from the docs (tests/policies/doc_variants.py),
captured with the offline plan and run through the pack, as ``python -m stacks.plan <stack>
--set ...`` does."""

from __future__ import annotations

import textwrap

import pytest

from policies.runner import evaluate, format_verdicts, has_mandatory
from stacks.plan import capture, stack_config
from tests.policies.doc_variants import DocVariantError, Variant, variants

VARIANTS = variants()


def test_the_docs_describe_the_variants_the_issue_names():
    """The reader finds the variants we know the docs describe (so an empty list cannot pass)."""
    found = {(v.stack, v.overrides) for v in VARIANTS}
    assert ("prod", (("servingRuntime", "sagemaker"),)) in found
    assert ("prod-azure", (("servingRuntime", "kubernetes"),)) in found
    assert ("prod-azure", (("azureGreenImage", "mlopsacr.azurecr.io/serving:v2"), ("azureTrafficBlue", "0"),
                           ("azureTrafficGreen", "100"))) in found


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_documented_variant_has_no_mandatory_violation(variant: Variant):
    overrides = dict(variant.overrides)
    violations = evaluate(capture(variant.stack, overrides), stack_config(variant.stack, overrides))
    assert not has_mandatory(violations), f"{variant.where}:\n{format_verdicts(violations)}"


def _doc(tmp_path, text: str):
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "Pulumi.prod.yaml").write_text("config: {}\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "new.md").write_text(textwrap.dedent(text))
    return variants(tmp_path)


def test_a_newly_documented_variant_is_picked_up(tmp_path):
    found = _doc(tmp_path, """\
        Set it with `pulumi config set -s prod servingMinReplicas 3`.

        ```bash
        pulumi config set -s prod awsRegion eu-central-1
        pulumi up -s prod
        pulumi config set mlops-platform:servingRuntime sagemaker   # still prod
        pulumi up -s prod
        uv run python -m stacks.plan dev --set buildImages=false
        ```
        """)
    assert [(v.stack, v.overrides, v.where) for v in found] == [
        ("prod", (("servingMinReplicas", "3"),), "docs/new.md:1"),
        ("prod", (("awsRegion", "eu-central-1"),), "docs/new.md:5"),
        ("prod", (("awsRegion", "eu-central-1"), ("servingRuntime", "sagemaker")), "docs/new.md:7"),
        ("dev", (("buildImages", "false"),), "docs/new.md:8"),
    ]


def test_an_unknown_placeholder_is_one_clear_error(tmp_path):
    with pytest.raises(DocVariantError, match=r"docs/new.md:1: placeholder '<bucket>' has no sample value"):
        _doc(tmp_path, "`pulumi config set -s prod awsArtifactBucket <bucket>`\n")


def test_a_variant_on_a_stack_that_is_not_shipped_is_an_error(tmp_path):
    with pytest.raises(DocVariantError, match=r"stack 'qa' is not shipped"):
        _doc(tmp_path, "`pulumi config set -s qa servingMinReplicas 2`\n")
