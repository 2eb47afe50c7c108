"""Wheel build hook: ship only the distinctive import path ``mlops_platform``.

The repository imports ``components`` and ``contract`` as top-level packages; a wheel that
installed them (or ``stacks``, ``ml``, ``serving``, ``policies``) into site-packages would clash
with other teams' folders of the same name. The wheel therefore carries ``mlops_platform/components``
and ``mlops_platform/contract`` only, with the absolute ``contract``/``components`` imports of the
copied modules rewritten to ``mlops_platform.…`` (relative imports are left as they are).
The images do not use the wheel (their Dockerfiles copy the sources they need).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SHIPPED = ("components", "contract")
_ABSOLUTE = re.compile(rf"^(\s*)(from|import) ({'|'.join(SHIPPED)})(?=[\s.])", re.MULTILINE)


def rewrite(source: str) -> str:
    """``from contract.serving import X`` -> ``from mlops_platform.contract.serving import X``."""
    return _ABSOLUTE.sub(lambda m: f"{m[1]}{m[2]} mlops_platform.{m[3]}", source)


class DistinctivePathHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        self._tmp = tempfile.TemporaryDirectory(prefix="mlops-wheel-")
        out = Path(self._tmp.name)
        for package in SHIPPED:
            for path in sorted((root / package).rglob("*")):
                if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
                    continue
                rel = path.relative_to(root)
                source = path
                if path.suffix == ".py":
                    source = out / rel
                    source.parent.mkdir(parents=True, exist_ok=True)
                    source.write_text(rewrite(path.read_text()))
                build_data["force_include"][str(source)] = f"mlops_platform/{rel.as_posix()}"

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            tmp.cleanup()
