"""ml.retrain / `python -m ml retrain-if-drifted` against a stand-in drift endpoint."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from mlflow import MlflowClient

from ml.cli import main
from ml.drift import DriftReference
from serving.contract import DriftStatus
from serving.drift import DriftMonitor
from ml.retrain import ServingUnreachable, fetch_drift_status, retrain_if_drifted


class _Serving:
    """A tiny HTTP server answering GET /drift/status with whatever ``body``/``status`` hold."""

    def __init__(self) -> None:
        self.body: bytes = b"{}"
        self.status = 200
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                owner.requests.append(self.path)
                code, body = (owner.status, owner.body) if self.path == "/drift/status" else (404, b"")
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def serve(self, payload: dict, status: int = 200) -> None:
        self.body, self.status = json.dumps(payload).encode(), status


@pytest.fixture
def serving() -> Iterator[_Serving]:
    stub = _Serving()
    stub.thread.start()
    yield stub
    stub.server.shutdown()
    stub.server.server_close()


NAMES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def _report(shift: float, rows: int = 500) -> dict:
    """The status exactly as serving builds it: its own DriftMonitor over a window of rows."""
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(2_000, 4)) + 5.0
    cur = rng.normal(size=(rows, 4)) + 5.0
    cur[:, 1] += shift
    monitor = DriftMonitor(DriftReference(ref, NAMES), window=500, min_rows=100, env={})
    monitor.record({name: cur[:, j] for j, name in enumerate(NAMES)})
    monitor.check()
    return {"interval_s": 30.0, **monitor.status()}


def _versions(client: MlflowClient, name: str) -> int:
    return len(client.search_model_versions(f"name='{name}'"))


def test_drift_triggers_training_and_says_what_it_did(serving, mlflow_uri, capsys):
    serving.serve(_report(shift=1.0))
    client = MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri)
    name = "iris-retrain"
    code = main(["retrain-if-drifted", "--serving-url", serving.url + "/", "--task", "iris",
                 "--model-name", name, "--tracking-uri", mlflow_uri])
    out = capsys.readouterr().out.strip()
    assert code == 0
    assert serving.requests == ["/drift/status"]
    assert out.startswith("drift in sepal_width over 500 recent rows: trained iris-retrain version 1")
    assert "promoted to champion" in out
    assert _versions(client, name) == 1


def test_no_drift_trains_nothing(serving, mlflow_uri, capsys):
    serving.serve(_report(shift=0.0))
    client = MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri)
    name = "iris-no-retrain"
    code = main(["retrain-if-drifted", "--serving-url", serving.url, "--task", "iris",
                 "--model-name", name, "--tracking-uri", mlflow_uri])
    assert code == 0
    assert capsys.readouterr().out.strip() == "no drift over 500 recent rows; nothing to do"
    assert _versions(client, name) == 0


def test_retrain_calls_training_only_on_drift(serving):
    calls: list[int] = []
    serving.serve(_report(shift=0.0))
    outcome = retrain_if_drifted(serving.url, lambda: calls.append(1))
    assert (outcome.drifted, outcome.result, calls) == (False, None, [])
    assert outcome.message == "no drift over 500 recent rows; nothing to do"


def test_a_window_not_yet_full_is_no_verdict_not_an_error(serving, capsys):
    status = _report(shift=3.0, rows=50)  # below min_rows: serving sends drifted null
    assert status["drifted"] is None and DriftStatus.from_dict(status).window_rows == 50
    serving.serve(status)
    code = main(["retrain-if-drifted", "--serving-url", serving.url, "--task", "iris",
                 "--model-name", "m", "--tracking-uri", "http://127.0.0.1:9"])
    assert code == 0
    assert capsys.readouterr().out.strip() == (
        "no drift verdict yet (window has 50 of the 100 rows a check needs); nothing to do"
    )


def test_drift_inside_the_cooldown_does_not_retrain(serving):
    import time

    serving.serve(_report(shift=1.0))
    calls: list[int] = []
    outcome = retrain_if_drifted(serving.url, lambda: calls.append(1),
                                 last_version_at=lambda: time.time() - 60, cooldown_s=3600)
    assert calls == [] and outcome.result is None
    assert "cooldown 3600s); not retraining" in outcome.message


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"drifted": True}, 500, "answered HTTP 500"),
        ({"features": []}, 200, "unusable drift status: drift status key 'enabled' must be bool"),
        ({**_report(0.0), "drifted": "yes"}, 200, "key 'drifted' must be true, false or null"),
    ],
)
def test_bad_status_answers_are_one_line_errors(serving, payload, status, message):
    serving.serve(payload, status)
    with pytest.raises(ServingUnreachable, match=message):
        fetch_drift_status(serving.url)


def test_non_json_answer_and_bad_url(serving, capsys):
    serving.body, serving.status = b"<html>", 200
    with pytest.raises(ServingUnreachable, match="did not answer JSON"):
        fetch_drift_status(serving.url)
    code = main(["retrain-if-drifted", "--serving-url", "127.0.0.1:8080", "--task", "iris",
                 "--model-name", "m", "--tracking-uri", "http://127.0.0.1:9"])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: serving URL must start with http:// or https://, got '127.0.0.1:8080'"
    )


def test_unreachable_serving_is_one_line(capsys):
    code = main(["retrain-if-drifted", "--serving-url", "http://127.0.0.1:9", "--task", "iris",
                 "--model-name", "m", "--tracking-uri", "http://127.0.0.1:9"])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: cannot reach serving app at http://127.0.0.1:9/drift/status: [Errno 111] Connection refused"
    )
