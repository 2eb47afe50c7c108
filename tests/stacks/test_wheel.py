"""The wheel installs only the distinctive import path ``mlops_platform``: no generic top-level
package (``components``, ``stacks``, ``ml``, ``serving``, ``policies``, ``contract``) that would
clash with another team's folder of the same name in site-packages."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_has_no_generic_top_level_package(tmp_path: Path) -> None:
    uv = shutil.which("uv")
    assert uv, "uv is not installed (scripts/bootstrap.sh installs it)"
    run = lambda *cmd: subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)  # noqa: E731
    built = run(uv, "build", "--wheel", "-o", str(tmp_path / "dist"), str(ROOT))
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"mlops_platform"}

    # Installed, a module that reads the serving contract imports through mlops_platform only,
    # and the generic names are not importable from the wheel.
    venv = tmp_path / "venv"
    assert run(uv, "venv", "-q", "--python", sys.executable, str(venv)).returncode == 0
    installed = run(uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), f"{wheel}[infra]")
    assert installed.returncode == 0, installed.stderr[-2000:]
    probe = run(str(venv / "bin" / "python"), "-c", (
        "import importlib.util as u\n"
        "from mlops_platform.components import targets\n"
        "m = targets.load_backend('inference', 'local')\n"
        "import mlops_platform.components.kubernetes.serving as s\n"
        "print(m.__name__, s.ENV_MODEL_URI)\n"
        "print([n for n in ('components', 'contract', 'stacks', 'ml', 'serving', 'policies') if u.find_spec(n)])\n"
    ))
    assert probe.returncode == 0, probe.stderr[-2000:]
    from contract.serving import MODEL_URI_ENV

    assert probe.stdout.splitlines() == [f"mlops_platform.components.local.inference {MODEL_URI_ENV}", "[]"]
