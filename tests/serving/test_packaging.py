"""What the image installs is enough, and nothing of the infrastructure side leaks in.

* ``serving.contract`` (what Pulumi components import for probes and ports) needs nothing
  beyond the standard library.
* The app runs — import, model load, a prediction, /metrics — with *only* the modules of the
  ``serving`` extra's dependency closure importable (every other installed distribution is
  blocked by an import hook in a subprocess), so the image's ``pip install .[serving]`` is
  sufficient and no Pulumi SDK is loaded.
* The Dockerfile installs exactly that extra, runs as a non-root user and has a HEALTHCHECK.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "serving" / "Dockerfile"


def run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=180)


def test_contract_needs_only_the_standard_library():
    # -S: no site-packages on sys.path at all, so any third-party import would fail.
    code = (
        "import serving, serving.contract as c\n"
        "print(c.HEALTH_LIVE_PATH, c.HEALTH_READY_PATH, c.DEFAULT_PORT, serving.HEALTH_READY_PATH)\n"
        "print(c.AZUREML_ROUTES['readiness_route'], c.SAGEMAKER_ROUTES['invocations'])\n"
    )
    out = subprocess.run([sys.executable, "-S", "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "/health/live /health/ready 8080 /health/ready",
        "{'port': 8080, 'path': '/health/ready'} /invocations",
    ]


_CLOSURE_CHECK = r'''
import asyncio, json, sys
root, model_dir = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
from tests.extra_only import only_extra
allowed, blocked = only_extra(root, "serving", {"serving", "ml", "contract", "tests"})

from serving.app import create_app
from serving.settings import ServingSettings

async def call(app, method, path, body=b""):
    sent = []
    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}
    async def send(message):
        sent.append(message)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": headers, "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:]).decode()

async def main():
    app = create_app(ServingSettings(model_uri=model_dir, poll_interval_s=0))
    async with app.router.lifespan_context(app):
        for _ in range(600):
            if app.state.service.ready:
                break
            await asyncio.sleep(0.05)
        row = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
        predict = await call(app, "POST", "/predict", json.dumps(row).encode())
        metrics = await call(app, "GET", "/metrics")
        model = await call(app, "GET", "/model")
    print(json.dumps({
        "predict": predict, "metrics_status": metrics[0], "model": json.loads(model[1]),
        "pulumi_loaded": sorted(m for m in sys.modules if m.split(".")[0].startswith("pulumi")),
        "blocked": sorted(set(blocked)), "allowed": sorted(allowed),
    }))

asyncio.run(main())
'''


def test_the_serving_extra_alone_runs_the_app_without_pulumi(iris_dir):
    out = run_python(_CLOSURE_CHECK, str(ROOT), str(iris_dir))
    assert out.returncode == 0, out.stderr[-4000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["model"]["loaded"] is True, (result["model"].get("last_error"), result["blocked"])
    status, body = result["predict"]
    assert status == 200, body
    assert json.loads(body)["predictions"] == [0]
    assert result["metrics_status"] == 200
    assert result["pulumi_loaded"] == []
    assert "fastapi" in result["allowed"] and "mlflow-skinny" in result["allowed"]
    assert not any(name.startswith("pulumi") for name in result["allowed"])


def test_the_serving_extra_has_no_pulumi_sdk():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = [re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in extras["serving"]]
    assert not [n for n in names if n.startswith("pulumi") or n == "mlflow"], names


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_dockerfile_is_multi_stage_on_a_pinned_slim_python():
    instructions = dockerfile_instructions()
    base = next(rest for kw, rest in instructions if kw == "ARG" and rest.startswith("BASE_IMAGE="))
    assert re.fullmatch(r"BASE_IMAGE=python:3\.11\.\d+-slim-bookworm", base), base
    stages = [rest for kw, rest in instructions if kw == "FROM"]
    assert any(s.endswith("AS build") for s in stages) and stages[-1].endswith("AS runtime")


def test_dockerfile_installs_only_the_locked_serving_extra_and_the_app_code():
    instructions = dockerfile_instructions()
    runs = " ".join(rest for kw, rest in instructions if kw == "RUN")
    assert ("ARG", "EXTRAS=serving") in instructions
    assert 'uv export --frozen --no-default-groups "$@" --no-emit-project' in runs
    assert "--require-hashes" in runs
    assert "pulumi" not in runs.replace("'pulumi' not in sys.modules", "")
    copies = [rest for kw, rest in instructions if kw == "COPY"]
    assert "serving/ /opt/app/serving/" in copies
    assert "contract/ /opt/app/contract/" in copies  # the stdlib-only serving contract
    assert "ml/drift.py /opt/app/ml/drift.py" in copies
    assert not any(c.startswith(("components", "stacks", "policies", ". ")) for c in copies)


def test_dockerfile_runs_non_root_read_only_friendly_with_a_healthcheck():
    instructions = dockerfile_instructions()
    user = [rest for kw, rest in instructions if kw == "USER"]
    assert user and user[-1].split(":")[0] not in ("0", "root")
    env = " ".join(rest for kw, rest in instructions if kw == "ENV")
    for setting in ("PYTHONDONTWRITEBYTECODE=1", "HOME=/tmp", "TMPDIR=/tmp", "SERVING_PORT=8080"):
        assert setting in env
    health = [rest for kw, rest in instructions if kw == "HEALTHCHECK"]
    assert health and "/health/ready" in health[0]
    assert ("ENTRYPOINT", '["python", "-m", "serving"]') in instructions
    assert ("EXPOSE", "8080") in instructions


def test_python_m_serving_accepts_sagemakers_serve_argument_and_refuses_others():
    import pytest

    from serving.__main__ import main

    with pytest.raises(SystemExit, match="usage: python -m serving"):
        main(["serve", "extra"])
    with pytest.raises(SystemExit, match="usage"):
        main(["train"])
