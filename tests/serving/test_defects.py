"""Issue 18's defects, each reproduced: swap race, TMPDIR growth and re-downloads of a broken
champion, last_error after a rollback, the early row-count refusal."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import threading
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from serving.app import create_app
from serving.metrics import Metrics
from serving.model import ModelRef, load_model
from serving.service import InferenceService
from tests.serving import models
from tests.serving.conftest import metric, served, settings_for, wait_until
from tests.serving.models import IRIS_FEATURES, iris_data


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# -- 1. a request is run by the model that validated it ------------------------------------

def save_iris_with_extra_feature(path: Path) -> Path:
    """An iris model whose signature has a fifth feature the first model's rows lack."""
    from mlflow.models import infer_signature
    from sklearn.ensemble import HistGradientBoostingClassifier

    x, y = iris_data()
    x = x.assign(petal_ratio=x["petal_length"] / x["petal_width"])
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(x, y)
    example = x.head(5)
    mlflow.sklearn.save_model(model, str(path), signature=infer_signature(example, model.predict(example)),
                              input_example=example, serialization_format="cloudpickle", pip_requirements=[])
    return path


def test_requests_queued_across_a_swap_are_run_by_the_model_that_validated_them(iris_dir, tmp_path):
    old = load_model(ModelRef(str(iris_dir), "iris", "1"), max_batch_rows=100)
    new = load_model(ModelRef(str(save_iris_with_extra_feature(tmp_path / "v2")), "iris", "2"), max_batch_rows=100)
    x, _ = iris_data()
    rows = x.head(4).to_dict(orient="records")
    expected = old.pyfunc.predict(x.head(4)).tolist()
    gate, entered = threading.Event(), threading.Event()
    real_predict = old.predict

    def held_predict(frame):  # the first call holds the batcher until the swap is done
        if not entered.is_set():
            entered.set()
            assert gate.wait(30)
        return real_predict(frame)

    old.predict = held_predict  # type: ignore[method-assign]

    async def main():
        service = InferenceService(settings_for(str(iris_dir), microbatch_max_wait_ms=0), Metrics())
        await service.start()
        service.model = old
        try:
            big = [rows[0]] * 200  # > the inline limit: runs in the inference thread
            first = asyncio.ensure_future(service.predict_rows(big, old))
            await asyncio.to_thread(entered.wait, 30)
            queued = [asyncio.ensure_future(service.predict_rows(rows, old)) for _ in range(3)]
            await asyncio.sleep(0.05)
            service._swap(new)  # the alias moved while those requests sit in the queue
            gate.set()
            return await first, await asyncio.gather(*queued)
        finally:
            await service.stop()

    first, queued = asyncio.run(main())
    assert first.model is old
    for result in queued:
        assert result.model is old and result.model.ref.version == "1"
        assert result.predictions.tolist() == expected


def test_the_response_names_the_model_that_predicted(iris_dir):
    with served(create_app(settings_for(iris_dir))) as client:
        rows = iris_data()[0].head(2).to_dict(orient="records")
        r = client.post("/invocations", json={"dataframe_records": rows})
        version = client.get("/model").json()["version"]
        assert (r.headers["x-model-name"], r.headers["x-model-version"]) == ("iris", version)
        r = client.post("/predict", json=rows)
        assert r.json()["model"]["version"] == r.headers["x-model-version"] == version


# -- 2. downloads are owned, deleted, and a failed version is not re-downloaded -------------

def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def test_no_model_copies_pile_up_in_tmpdir_and_a_broken_champion_is_downloaded_once(
    mlflow_uri, tmp_path, monkeypatch
):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))  # what TMPDIR decides
    import serving.service as service_module

    loads: list[str] = []
    real_load = service_module.load_model

    def counting_load(ref, **kwargs):
        loads.append(ref.version)
        return real_load(ref, **kwargs)

    monkeypatch.setattr(service_module, "load_model", counting_load)
    name = unique("tmp")
    v1 = models.register(mlflow_uri, name, "iris", n_estimators=5)
    app = create_app(settings_for(f"models:/{name}@champion", tracking_uri=mlflow_uri))
    with served(app) as client:
        svc = client.app.state.service
        one_copy = tree_bytes(tmp)
        assert one_copy > 0
        v2 = models.register(mlflow_uri, name, "iris", n_estimators=6)
        assert client.portal.call(svc.reload) is True
        assert tree_bytes(tmp) <= one_copy * 1.5  # v1's copy is gone, only v2's remains
        assert [p.name.split("-")[-2] for p in (tmp / "serving-models").iterdir()] == [v2]
        broken = models.register_broken(mlflow_uri, name)
        for _ in range(5):  # five polls
            assert client.portal.call(svc.reload) is False
        assert loads.count(broken) == 1, loads
        assert "not retried" in client.get("/model").json()["last_error"]["error"]
        assert len(list((tmp / "serving-models").iterdir())) == 1  # the failed download is deleted
        assert tree_bytes(tmp) <= one_copy * 1.5
        assert client.get("/model").json()["version"] == v2
    assert v1 != v2


# -- 3. last_error is cleared by a rollback to the served version ---------------------------

def test_last_error_is_cleared_when_the_alias_rolls_back_to_the_served_version(mlflow_uri):
    name = unique("rollback")
    good = models.register(mlflow_uri, name, "iris", n_estimators=5)
    app = create_app(settings_for(f"models:/{name}@champion", tracking_uri=mlflow_uri))
    with served(app) as client:
        models.register_broken(mlflow_uri, name)
        assert client.portal.call(client.app.state.service.reload) is False
        assert client.get("/model").json()["last_error"] is not None
        mlflow.MlflowClient(mlflow_uri, mlflow_uri).set_registered_model_alias(name, "champion", good)
        assert client.portal.call(client.app.state.service.reload) is False
        body = client.get("/model").json()
        assert (body["version"], body["last_error"]) == (good, None)


# -- 4. too many rows are refused before any row is validated -------------------------------

@pytest.fixture(scope="module")
def iris_client(iris_dir):
    with served(create_app(settings_for(iris_dir, max_batch_rows=1000))) as client:
        yield client


def big_bodies(n: int) -> dict[str, tuple[bytes, str]]:
    row = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
    values = list(row.values())
    csv_body = ",".join(IRIS_FEATURES) + "\n" + "\n".join(",".join(map(str, values)) for _ in range(n)) + "\n"
    return {
        "predict": (json.dumps([row] * n).encode(), "/predict"),
        "records": (json.dumps({"dataframe_records": [row] * n}).encode(), "/invocations"),
        "split": (json.dumps({"dataframe_split": {"columns": IRIS_FEATURES, "data": [values] * n}}).encode(), "/invocations"),
        "columns": (json.dumps({"inputs": {k: [v] * n for k, v in row.items()}}).encode(), "/invocations"),
        "csv": (csv_body.encode(), "/invocations"),
    }


@pytest.mark.parametrize("kind", ["predict", "records", "split", "columns", "csv"])
def test_too_many_rows_are_refused_before_validation(iris_client, monkeypatch, kind):
    from pydantic import TypeAdapter

    validated: list[int] = []
    for method in ("validate_python", "validate_json"):
        real = getattr(TypeAdapter, method)

        def spy(self, value, *a, _real=real, **k):
            validated.append(1)
            return _real(self, value, *a, **k)

        monkeypatch.setattr(TypeAdapter, method, spy)
    body, path = big_bodies(20_000)[kind]
    ctype = "text/csv" if kind == "csv" else "application/json"
    r = iris_client.post(path, content=body, headers={"content-type": ctype})
    assert r.status_code == 422, r.text
    assert "20000" in r.json()["error"]["message"] and "1000" in r.json()["error"]["message"]
    assert validated == []  # refused on the count, no row validated
    ok_body, _ = big_bodies(1000)[kind]
    assert iris_client.post(path, content=ok_body, headers={"content-type": ctype}).status_code == 200


def test_a_headerless_csv_gets_a_clear_4xx(iris_client):
    r = iris_client.post("/invocations", content=b"5.1,3.5,1.4,0.2\n6.2,2.9,4.3,1.3\n",
                         headers={"content-type": "text/csv"})
    assert r.status_code == 422
    message = r.json()["error"]["message"]
    assert "header row" in message and "sepal_length" in message and "5.1,3.5,1.4,0.2" in message


# -- 5. probes never wait behind inference; admission bounds what the server accepts --------

@contextlib.contextmanager
def uvicorn_thread(app):
    """The app under a real uvicorn server (own thread and event loop) on a free port."""
    import uvicorn

    from tests.mlflow_server import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", access_log=False))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    try:
        assert wait_until(lambda: server.started, timeout=60), "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def get(url: str, timeout: float = 5.0) -> tuple[int, dict, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, json.loads(r.read()), dict(r.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), dict(err.headers)


def post(url: str, body: object, timeout: float = 30.0) -> tuple[int, dict, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read()), dict(r.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read()), dict(err.headers)


def hold_model(app, wait_s: float = 60.0):
    """Make the served model's predict block until the returned Event is set."""
    model = app.state.service.model
    real, gate, calls = model.predict, threading.Event(), []

    def held(frame):
        calls.append(len(frame))
        assert gate.wait(wait_s)
        return real(frame)

    model.predict = held  # type: ignore[method-assign]
    return gate, calls


def test_the_probe_port_answers_while_the_event_loop_itself_is_blocked(iris_dir):
    from tests.mlflow_server import free_port

    app = create_app(settings_for(iris_dir, probe_port=free_port(), microbatch_max_wait_ms=0))
    with uvicorn_thread(app) as url:
        probes = f"http://127.0.0.1:{app.state.settings.probe_port}"
        assert wait_until(lambda: get(url + "/health/ready")[0] == 200)
        gate, calls = hold_model(app)
        row = iris_data()[0].head(1).to_dict(orient="records")
        pool = ThreadPoolExecutor(2)
        try:
            # one row runs on the event loop: the loop is blocked until the gate opens
            pending = pool.submit(post, url + "/predict", row)
            assert wait_until(lambda: calls == [1], timeout=30)
            with pytest.raises((TimeoutError, urllib.error.URLError)):
                urllib.request.urlopen(url + "/health/ready", timeout=1)  # the main port cannot answer now
            for path, status in (("/health/ready", "ready"), ("/ping", "ready"), ("/health/live", "alive")):
                code, body, _ = get(probes + path, timeout=5)
                assert (code, body["status"]) == (200, status), (path, body)
            assert get(probes + "/predict")[0] == 404  # probes only
        finally:
            gate.set()
            pool.shutdown(wait=True)
        code, body, _ = pending.result()
        assert code == 200 and len(body["predictions"]) == 1


def test_load_beyond_the_inflight_bound_is_refused_at_once_and_the_probes_keep_answering(iris_dir):
    app = create_app(settings_for(iris_dir, max_inflight_rows=300, microbatch_max_wait_ms=0))
    x, _ = iris_data()
    big = x.sample(n=200, replace=True, random_state=0).to_dict(orient="records")  # > inline: inference thread
    with uvicorn_thread(app) as url:
        assert wait_until(lambda: get(url + "/health/ready")[0] == 200)
        expected = app.state.service.model.pyfunc.predict(pd.DataFrame(big)).tolist()
        gate, calls = hold_model(app)
        pool = ThreadPoolExecutor(2)
        try:
            first = pool.submit(post, url + "/invocations", {"dataframe_records": big})
            assert wait_until(lambda: calls == [200], timeout=30)  # running, blocked in the model
            second = pool.submit(post, url + "/invocations", {"dataframe_records": big})
            assert wait_until(lambda: app.state.service.inflight_rows == 400, timeout=30)  # admitted, queued
            for path in ("/invocations", "/predict"):
                code, body, headers = post(url + path, {"dataframe_records": big} if path == "/invocations" else big,
                                           timeout=5)
                assert code == 503, body
                assert body["error"]["code"] == "server_busy"
                assert "SERVING_MAX_INFLIGHT_ROWS" in body["error"]["message"] and "300" in body["error"]["message"]
                assert headers.get("retry-after") == "1"
            version = app.state.service.model.ref.version
            assert get(url + "/health/ready", timeout=2)[:2] == (200, {"status": "ready", "model_version": version})
            with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
                text = r.read().decode()
            for path in ("/invocations", "/predict"):  # refused before routing, still counted by route
                assert metric(text, "serving_requests_total", route=path, method="POST", status="503") == 1
        finally:
            gate.set()
            pool.shutdown(wait=True)
        for fut in (first, second):
            code, body, _ = fut.result()
            assert code == 200 and body["predictions"] == expected
        assert app.state.service.inflight_rows == 0
        assert post(url + "/invocations", {"dataframe_records": big})[0] == 200
