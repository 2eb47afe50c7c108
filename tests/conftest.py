"""Shared fixtures: the capture harness (Pulumi mocks, keyed by type token) and helpers to find
captured resources. Assertion messages carry the URN so a failure says which resource."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # tests import the project packages from the checkout
    sys.path.insert(0, str(ROOT))

from tests.mlflow_server import SERVER_ENV, mlflow_server  # noqa: E402

# MLflow clients in the test process send no telemetry either.
os.environ.update({k: v for k, v in SERVER_ENV.items() if "TELEMETRY" in k or k == "DO_NOT_TRACK"})

Resources = list[dict[str, Any]]


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(wheel, python): the project's wheel built once per session with ``uv build`` and installed
    with its ``infra`` extra into a fresh venv, as another team would consume the library."""
    import shutil
    import subprocess

    uv = shutil.which("uv")
    assert uv, "uv is not installed (scripts/bootstrap.sh installs it)"
    work = tmp_path_factory.mktemp("wheel")

    def run(*cmd: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=work)

    built = run(uv, "build", "--wheel", "-o", str(work / "dist"), str(ROOT))
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (work / "dist").glob("*.whl")
    venv = work / "venv"
    assert run(uv, "venv", "-q", "--python", sys.executable, str(venv)).returncode == 0
    installed = run(uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), f"{wheel}[infra]")
    assert installed.returncode == 0, installed.stderr[-2000:]
    return wheel, venv / "bin" / "python"


@pytest.fixture(scope="session")
def mlflow_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URI of one real ``mlflow server`` (sqlite + proxied artifacts) on 127.0.0.1 for the
    whole session, shared by tests/ml and tests/serving."""
    with mlflow_server(tmp_path_factory.mktemp("mlflow")) as uri:
        yield uri


def of_type(resources: Resources, type_token: str) -> Resources:
    """All captured resources of one type token."""
    return [r for r in resources if r["type"] == type_token]


def one(resources: Resources, type_token: str, name: str) -> dict[str, Any]:
    """The captured resource with this type and logical name (fails listing what exists)."""
    found = [r for r in resources if r["type"] == type_token and r["name"] == name]
    assert len(found) == 1, f"{type_token} {name!r}: found {[r['name'] for r in of_type(resources, type_token)]}"
    return found[0]


def ints(value: Any) -> Any:
    """Mocks return numbers as floats; turn integral floats back into ints (as YAML would)."""
    if isinstance(value, dict):
        return {k: ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [ints(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@pytest.fixture(scope="session")
def capture() -> Callable[..., Resources]:
    """``capture(stack, overrides=None)``: the harness, memoised per (stack, overrides)."""
    from stacks.plan import capture as run

    cache: dict[tuple, Resources] = {}

    def _capture(stack: str, overrides: dict[str, Any] | None = None) -> Resources:
        key = (stack, tuple(sorted((overrides or {}).items())))
        if key not in cache:
            cache[key] = run(stack, overrides)
        return cache[key]

    return _capture


@pytest.fixture(scope="session")
def dev(capture) -> Resources:
    return capture("dev")
