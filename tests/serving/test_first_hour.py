"""Issue 17's serving items: one-line settings errors from ``python -m serving``, route labels
of FastAPI's own pages, the registered name/version of a registry-downloaded (SageMaker-packed)
model directory."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import mlflow
import pytest

from serving.app import create_app
from tests.serving import models
from tests.serving.conftest import ROOT, metric, served, settings_for


def run_main(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SERVING_")}
    return subprocess.run([sys.executable, "-m", "serving"], env={**clean, "PYTHONPATH": str(ROOT), **env},
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("env", "variable", "words"),
    [
        ({}, "SERVING_MODEL_URI", "is required"),
        ({"SERVING_MODEL_URI": "x", "SERVING_PORT": "abc"}, "SERVING_PORT", "'abc'"),
        ({"SERVING_MODEL_URI": "x", "SERVING_LOG_LEVEL": "verbose"}, "SERVING_LOG_LEVEL", "'debug', 'info'"),
        ({"SERVING_MODEL_URI": "x", "SERVING_READY_WITHOUT_MODEL": "maybe"}, "SERVING_READY_WITHOUT_MODEL", "'maybe'"),
    ],
)
def test_a_bad_serving_variable_is_one_line_naming_it(env, variable, words):
    res = run_main(env)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert variable in lines[0] and words in lines[0]
    assert "Traceback" not in res.stderr and "pydantic" not in res.stderr


def test_fastapis_own_pages_get_their_route_label(iris_dir):
    with served(create_app(settings_for(iris_dir))) as client:
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert client.get(path).status_code == 200
        client.get("/no/such/page")
        text = client.get("/metrics").text
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert metric(text, "serving_requests_total", route=path, method="GET", status="200") == 1
        assert metric(text, "serving_requests_total", route="<unmatched>", method="GET", status="404") == 1


def test_a_model_downloaded_from_the_registry_reports_its_registered_name_and_version(mlflow_uri, tmp_path):
    name = f"demand-{uuid.uuid4().hex[:8]}"
    version = models.register(mlflow_uri, name, "iris", n_estimators=5)
    # what the SageMaker packer tars up: the registry download of models:/<name>/<version>
    local = mlflow.artifacts.download_artifacts(f"models:/{name}/{version}", dst_path=str(tmp_path / "pkg"),
                                                tracking_uri=mlflow_uri)
    assert os.path.exists(os.path.join(local, "registered_model_meta"))
    with served(create_app(settings_for(local))) as client:
        body = client.get("/model").json()
        assert (body["name"], body["version"]) == (name, version)
        assert metric(client.get("/metrics").text, "serving_model_info", name=name, version=version) == 1
