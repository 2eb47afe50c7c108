"""With only the ``[infra]`` extra installed, a cloud target fails with one line naming the extra
to install, not a raw ModuleNotFoundError. Every installed distribution outside the ``infra``
extra's dependency closure is hidden by an import hook in a subprocess (as on a machine where
``pip install 'mlops-platform[infra]'`` is all there is)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_ONLY_INFRA = r'''
import sys
root, stack = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
from tests.extra_only import only_extra
_, hidden = only_extra(root, "infra", {"components", "stacks", "policies", "contract", "serving", "ml",
                                        "mlops_platform", "tests"})

from stacks.plan import main
rc = main([stack, "--summary", "--no-policies"])
print("HIDDEN", sorted(hidden), file=sys.stderr)
sys.exit(rc)
'''


def run_with_only_infra(stack: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _ONLY_INFRA, str(ROOT), stack], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(("stack", "target", "module"), [("prod", "aws", "pulumi_aws"),
                                                          ("prod-azure", "azure", "pulumi_azure_native")])
def test_a_cloud_target_without_its_extra_is_one_line_naming_the_extra(stack: str, target: str, module: str) -> None:
    out = run_with_only_infra(stack)
    assert out.returncode == 2, out.stderr[-2000:]
    errors = [line for line in out.stderr.splitlines() if not line.startswith("HIDDEN")]
    assert len(errors) == 1, out.stderr[-2000:]
    assert errors[0].startswith(f"error: target: {target!r} needs the {target} extra")
    assert f"pip install 'mlops-platform[{target}]'" in errors[0] and module in errors[0]
    assert "Traceback" not in out.stderr and "ModuleNotFoundError" not in out.stderr
    assert module in out.stderr.splitlines()[-1]  # the hook really hid the provider SDK


def test_the_local_target_runs_with_only_the_infra_extra() -> None:
    out = run_with_only_infra("dev")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "resources" in out.stdout


def test_every_extra_named_in_the_message_exists_in_pyproject() -> None:
    import tomllib

    from components.targets import EXTRAS, TARGETS

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(EXTRAS) == set(TARGETS) and set(EXTRAS.values()) <= set(extras)
