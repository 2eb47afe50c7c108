"""Fixtures for the serving tests: small real models, a real MLflow server, running apps.

Scopes: models and the MLflow server are session-scoped; each test module builds its own app.
``served(app)`` runs the app's lifespan in a TestClient and waits (bounded) for readiness.
``serving_process(...)`` runs ``python -m serving`` as a subprocess on a free 127.0.0.1 port.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mlflow_server import free_port, stop_process_group
from tests.serving import models

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def iris_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return models.save("iris", tmp_path_factory.mktemp("models") / "iris")


@pytest.fixture(scope="session")
def demand_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return models.save("demand", tmp_path_factory.mktemp("models") / "demand")


def reference_of(model_dir: Path) -> str:
    return str(model_dir.parent / f"{model_dir.name}-reference.csv")


def settings_for(model_uri: str | Path, **overrides: Any) -> Any:
    """Settings for a test app: no background polling or drift checks unless asked for."""
    from serving.settings import ServingSettings

    values: dict[str, Any] = {
        "model_uri": str(model_uri),
        "poll_interval_s": 0,
        "drift_interval_s": 3600,
        "drift_min_rows": 20,
    }
    values.update(overrides)
    return ServingSettings(**values)


def wait_until(predicate: Any, timeout: float = 60.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


@contextlib.contextmanager
def served(app: Any, *, ready: bool = True) -> Iterator[Any]:
    """A TestClient with the lifespan running; waits for /health/ready when ``ready``."""
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as client:
        if ready:
            ok = wait_until(lambda: client.get("/health/ready").status_code == 200)
            assert ok, f"app not ready: {client.get('/model').json()}"
        yield client


@contextlib.contextmanager
def serving_process(env: dict[str, str], log_path: Path, timeout: float = 240.0) -> Iterator[str]:
    """``python -m serving`` with ``SERVING_*`` from ``env``; yields its base URL once ready."""
    port = free_port()
    full_env = dict(os.environ, SERVING_HOST="127.0.0.1", SERVING_PORT=str(port), PYTHONPATH=str(ROOT))
    full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    full_env.update(env)
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "serving"], env=full_env, cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            def up() -> bool:
                assert proc.poll() is None, f"server exited:\n{log_path.read_text()[-3000:]}"
                with contextlib.suppress(urllib.error.URLError, OSError):
                    with urllib.request.urlopen(url + "/health/ready", timeout=2) as r:
                        return r.status == 200
                return False

            assert wait_until(up, timeout=timeout, interval=0.2), f"not ready:\n{log_path.read_text()[-3000:]}"
            yield url
        finally:
            stop_process_group(proc, grace=20)


def metric(text: str, metric_name: str, /, **labels: str) -> float:
    """The value of one sample in Prometheus text (0.0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(metric_name):
            continue
        m = re.match(r"^([a-zA-Z_:][\w:]*)(\{([^}]*)\})? (\S+)$", line)
        if not m or m.group(1) != metric_name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(m.group(4))
    return 0.0
