"""The wheel installs only the distinctive import path ``mlops_platform``: no generic top-level
package (``components``, ``stacks``, ``ml``, ``serving``, ``policies``, ``contract``) that would
clash with another team's folder of the same name in site-packages."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_has_no_generic_top_level_package(installed_wheel: tuple[Path, Path]) -> None:
    wheel, python = installed_wheel
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"mlops_platform"}

    # Installed, a module that reads the serving contract imports through mlops_platform only,
    # and the generic names are not importable from the wheel.
    probe = subprocess.run([str(python), "-c", (
        "import importlib.util as u\n"
        "from mlops_platform.components import targets\n"
        "m = targets.load_backend('inference', 'local')\n"
        "import mlops_platform.components.kubernetes.serving as s\n"
        "print(m.__name__, s.ENV_MODEL_URI)\n"
        "print([n for n in ('components', 'contract', 'stacks', 'ml', 'serving', 'policies') if u.find_spec(n)])\n"
    )], capture_output=True, text=True, timeout=300, cwd=wheel.parent)
    assert probe.returncode == 0, probe.stderr[-2000:]
    from contract.serving import MODEL_URI_ENV

    assert probe.stdout.splitlines() == [f"mlops_platform.components.local.inference {MODEL_URI_ENV}", "[]"]
