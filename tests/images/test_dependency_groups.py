"""Each image's dependency group installs on its own and imports its entry point, without the
Pulumi SDKs: the same install the Dockerfiles do (``uv export --frozen --extra <group>`` from
uv.lock, then the sources they copy), into a clean virtual environment, imported from outside
the checkout. uv's cache keeps this to seconds after the first run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: extra -> modules that must import (the image's entry point), first one present wins.
GROUPS = {
    "ml": ("ml.train",),
    "serving": ("serving.app", "serving.main"),
}
#: extra -> the repository paths its Dockerfile copies into the image (the wheel ships only the
#: library, ``mlops_platform``; the images carry their sources).
SOURCES = {
    "ml": ("ml", "contract", "serving/__init__.py", "serving/contract.py", "serving/drift.py"),
    "serving": ("serving", "contract", "ml/drift.py"),
}
#: Must NOT be importable in either image.
FORBIDDEN = ("pulumi", "pulumi_aws", "pulumi_azure_native", "pulumi_kubernetes", "pulumi_docker")


def _uv() -> str:
    uv = shutil.which("uv")
    assert uv, "uv is not installed (scripts/bootstrap.sh installs it)"
    return uv


def _run(cmd: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.parametrize("extra", sorted(GROUPS))
def test_group_installs_alone_and_imports_its_entry_point_without_pulumi(extra, tmp_path_factory):
    modules = [m for m in GROUPS[extra] if (ROOT / (m.replace(".", "/") + ".py")).is_file()]
    assert modules, f"no entry point of {extra!r} in the checkout ({', '.join(GROUPS[extra])})"
    uv = _uv()
    work = tmp_path_factory.mktemp(f"venv-{extra}")
    venv = work / "venv"
    python = venv / "bin" / "python"
    requirements = work / "requirements.txt"
    steps = [
        [uv, "export", "--frozen", "--no-default-groups", "--extra", extra, "--no-emit-project",
         "--format", "requirements-txt", "--output-file", str(requirements)],
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        [uv, "pip", "install", "--quiet", "--python", str(python), "--require-hashes", "-r", str(requirements)],
    ]
    for cmd in steps:
        result = _run(cmd, cwd=ROOT)
        assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stderr[-3000:]}"
    app = work / "app"
    for rel in SOURCES[extra]:
        src, dst = ROOT / rel, app / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "Dockerfile"))
        else:
            shutil.copy(src, dst)
    for package in ("ml", "serving"):
        (app / package).mkdir(exist_ok=True)
        (app / package / "__init__.py").touch()
    probe = (
        f"import sys; sys.path.insert(0, {str(app)!r})\n"
        "import importlib, importlib.util, sys\n"
        f"importlib.import_module({modules[0]!r})\n"
        f"present = [m for m in {FORBIDDEN!r} if importlib.util.find_spec(m)]\n"
        "assert not present, present\n"
        "print('ok', sys.prefix)\n"
    )
    # From outside the checkout, so only the image's sources and the group's packages count.
    result = _run([str(python), "-c", probe], cwd=work, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("ok " + str(venv))
