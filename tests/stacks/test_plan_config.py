"""The offline plan reads config as the Pulumi engine does: provider keys in a stack file are the
provider's (not unknown project keys), ``--set`` takes bare or project-prefixed keys alike, and a
malformed ``--set`` is one line, not a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import stacks.plan as plan


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project dir with the real Pulumi.yaml and the dev stack file plus provider keys."""
    shutil.copy(plan.ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    dev = (plan.ROOT / "Pulumi.dev.yaml").read_text()
    (tmp_path / "Pulumi.devp.yaml").write_text(
        dev.rstrip("\n") + "\n  aws:region: us-east-1\n  kubernetes:enableServerSideApply: \"true\"\n"
    )
    monkeypatch.setattr(plan, "ROOT", tmp_path)
    return tmp_path


def test_provider_keys_in_a_stack_file_are_the_providers(project: Path) -> None:
    assert "aws:region" not in plan.stack_config("devp")
    assert plan.provider_config("devp") == {"aws:region": "us-east-1", "kubernetes:enableServerSideApply": "true"}
    resources = plan.capture("devp")
    assert any(r["type"] == "kubernetes:apps/v1:Deployment" for r in resources)


def test_set_accepts_the_project_prefix_and_provider_keys(project: Path) -> None:
    bare = plan.stack_config("devp", plan.parse_overrides(["servingMinReplicas=3"]))
    prefixed = plan.stack_config("devp", plan.parse_overrides(["mlops-platform:servingMinReplicas=3"]))
    assert bare == prefixed and bare["servingMinReplicas"] == "3"
    assert "mlops-platform:servingMinReplicas" not in prefixed
    assert plan.provider_config("devp", plan.parse_overrides(["aws:region=eu-central-1"]))["aws:region"] == "eu-central-1"


@pytest.mark.parametrize("item", ["servingMinReplicas", "=3", ""])
def test_malformed_set_is_one_line(item: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        plan.main(["dev", "--set", item])
    message = str(exc.value)
    assert "expected KEY=VALUE" in message and "\n" not in message
