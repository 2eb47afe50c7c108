"""The first-model bootstrap against a real MLflow server (and a fault proxy in front of it).

SERVING_READY_WITHOUT_MODEL: an empty registry (or an unset alias) is ``awaiting_model`` —
ready for the probes, 503 on scoring, ``serving_model_loaded`` 0 — and the first champion
registered is loaded without a restart. Any other registry error is not ready with
``last_error`` set on the first attempt (MLflow's own ~260 s of HTTP retries are off).
"""

from __future__ import annotations

import uuid

import mlflow
import pytest

from serving.app import create_app
from serving.contract import READY_WITHOUT_MODEL_ENV, SETTINGS_ENV, STATUS_AWAITING_MODEL
from tests.mlflow_server import free_port
from tests.serving import models
from tests.serving.conftest import metric, served, settings_for, wait_until
from tests.serving.faults import FaultProxy
from tests.serving.models import iris_data

ROWS = iris_data()[0].head(3).to_dict(orient="records")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def bootstrap_app(uri: str, tracking_uri: str, **overrides):
    return create_app(settings_for(uri, tracking_uri=tracking_uri, ready_without_model=True,
                                   poll_interval_s=0.2, **overrides))


def test_the_contract_names_the_variable():
    assert SETTINGS_ENV["ready_without_model"] == READY_WITHOUT_MODEL_ENV == "SERVING_READY_WITHOUT_MODEL"


def assert_awaiting(client, uri: str) -> None:
    for path in ("/health/ready", "/ping"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text)
        assert r.json()["status"] == STATUS_AWAITING_MODEL
        assert uri in r.json()["reason"]
    assert client.get("/health/live").status_code == 200
    for r in (client.post("/predict", json=ROWS), client.post("/invocations", json={"dataframe_records": ROWS})):
        assert r.status_code == 503, r.text
        error = r.json()["error"]
        assert error["code"] == "model_not_ready"
        assert uri in error["message"] and "\n" not in error["message"]
    text = client.get("/metrics").text
    assert "serving_model_loaded 0.0" in text
    assert metric(text, "serving_model_reload_failures_total") == 0
    body = client.get("/model").json()
    assert (body["loaded"], body["status"], body["last_error"]) == (False, STATUS_AWAITING_MODEL, None)


def test_an_empty_registry_awaits_then_loads_the_first_champion_without_restart(mlflow_uri):
    name = unique("first")
    uri = f"models:/{name}@champion"
    with served(bootstrap_app(uri, mlflow_uri), ready=False) as client:
        assert wait_until(lambda: client.get("/model").json()["status"] == STATUS_AWAITING_MODEL, timeout=30)
        assert_awaiting(client, uri)
        version = models.register(mlflow_uri, name, "iris", n_estimators=5)
        assert wait_until(lambda: client.get("/health/ready").json()["status"] == "ready", timeout=60)
        assert client.get("/health/ready").json() == {"status": "ready", "model_version": version}
        expected = mlflow.pyfunc.load_model(f"models:/{name}/{version}").predict(iris_data()[0].head(3)).tolist()
        r = client.post("/predict", json=ROWS)
        assert (r.status_code, r.json()["predictions"]) == (200, expected)
        assert "serving_model_loaded 1.0" in client.get("/metrics").text


def test_a_registered_model_without_the_alias_awaits_until_the_alias_is_set(mlflow_uri):
    name = unique("noalias")
    version = models.register(mlflow_uri, name, "iris", n_estimators=5, alias=None)
    uri = f"models:/{name}@champion"
    with served(bootstrap_app(uri, mlflow_uri), ready=False) as client:
        assert wait_until(lambda: client.get("/model").json()["status"] == STATUS_AWAITING_MODEL, timeout=30)
        assert_awaiting(client, uri)
        mlflow.MlflowClient(mlflow_uri, mlflow_uri).set_registered_model_alias(name, "champion", version)
        assert wait_until(lambda: client.get("/health/ready").json().get("model_version") == version, timeout=60)


def test_a_later_not_found_never_unloads_the_served_model(mlflow_uri):
    name = unique("kept")
    version = models.register(mlflow_uri, name, "iris", n_estimators=5)
    app = create_app(settings_for(f"models:/{name}@champion", tracking_uri=mlflow_uri, ready_without_model=True))
    with served(app) as client:
        mlflow.MlflowClient(mlflow_uri, mlflow_uri).delete_registered_model_alias(name, "champion")
        assert client.portal.call(client.app.state.service.reload) is False
        body = client.get("/model").json()
        assert (body["status"], body["version"]) == ("ready", version)
        assert "not found" in body["last_error"]["error"]
        assert client.post("/predict", json=ROWS).status_code == 200
        assert client.get("/health/ready").json()["status"] == "ready"


def test_without_the_setting_an_empty_registry_is_not_ready(mlflow_uri):
    name = unique("strict")
    app = create_app(settings_for(f"models:/{name}@champion", tracking_uri=mlflow_uri))
    with served(app, ready=False) as client:
        assert wait_until(lambda: client.get("/model").json()["last_error"] is not None, timeout=30)
        r = client.get("/health/ready")
        assert (r.status_code, r.json()["status"]) == (503, "loading")
        assert "not found" in r.json()["reason"]


@pytest.mark.parametrize("status", [403, 500, 503])
def test_registry_errors_other_than_not_found_are_not_ready_with_the_error_at_once(mlflow_uri, status):
    name = unique("fault")
    with FaultProxy(mlflow_uri) as proxy:
        proxy.fail_with = status
        with served(bootstrap_app(f"models:/{name}@champion", proxy.url), ready=False) as client:
            # at once: the first attempt reports (MLflow alone would retry 5xx for ~260 s)
            assert wait_until(lambda: client.get("/model").json()["last_error"] is not None, timeout=20)
            body = client.get("/model").json()
            assert body["status"] == "loading"
            assert str(status) in body["last_error"]["error"]
            for path in ("/health/ready", "/ping"):
                assert client.get(path).status_code == 503
            assert client.post("/predict", json=ROWS).status_code == 503
            assert metric(client.get("/metrics").text, "serving_model_reload_failures_total") >= 1
            # the registry recovers, still empty: awaiting; then a champion appears: loaded
            proxy.fail_with = None
            assert wait_until(lambda: client.get("/model").json()["status"] == STATUS_AWAITING_MODEL, timeout=60)
            version = models.register(mlflow_uri, name, "iris", n_estimators=5)
            assert wait_until(lambda: client.get("/health/ready").json().get("model_version") == version, timeout=60)


def test_a_registry_that_refuses_connections_is_not_ready_at_once():
    dead = f"http://127.0.0.1:{free_port()}"
    with served(bootstrap_app("models:/any@champion", dead), ready=False) as client:
        assert wait_until(lambda: client.get("/model").json()["last_error"] is not None, timeout=20)
        assert client.get("/health/ready").status_code == 503
        assert client.get("/model").json()["status"] == "loading"


def test_a_malformed_model_uri_is_not_ready():
    with served(create_app(settings_for("models:/", ready_without_model=True)), ready=False) as client:
        assert wait_until(lambda: client.get("/model").json()["last_error"] is not None, timeout=20)
        assert client.get("/health/ready").status_code == 503


def test_mlflow_requests_log_no_header_provider_warning(caplog):
    """The repeated "list index out of range" warning came from the sagemaker-mlflow plugin's
    header provider parsing an http:// tracking URI as an ARN; ARNs still get its header."""
    from mlflow.tracking.request_header.registry import resolve_request_headers

    from serving.model import ModelSource

    previous = mlflow.get_tracking_uri()
    try:
        ModelSource("models:/x@champion", "http://127.0.0.1:5000")._client()
        mlflow.set_tracking_uri("http://127.0.0.1:5000")
        with caplog.at_level("WARNING"):
            headers = resolve_request_headers()
        assert "list index out of range" not in caplog.text and "request headers" not in caplog.text
        assert not any(k.startswith("x-mlflow-sm") for k in headers)
        arn = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/demo"
        mlflow.set_tracking_uri(arn)
        assert resolve_request_headers()["x-mlflow-sm-tracking-server-arn"] == arn
    finally:
        mlflow.set_tracking_uri(previous)


def test_an_explicit_sagemaker_client_routes_with_its_arn_and_a_second_arn_is_refused(monkeypatch):
    """No process-global MLflow state: a client made for a SageMaker ARN in a process whose global
    URI is something else must still send the ARN routing header (the plugin reads only the global
    URI), and a second, different ARN in the same process is refused in one line."""
    from mlflow.tracking.request_header.registry import resolve_request_headers

    import contract.mlflow_clients as clients

    monkeypatch.setattr(clients, "_explicit_arn", None)
    previous = mlflow.get_tracking_uri()
    try:
        mlflow.set_tracking_uri("http://127.0.0.1:5000")
        clients.client("http://127.0.0.1:5000")
        assert not any(k.startswith("x-mlflow-sm") for k in resolve_request_headers())
        arn = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/platform"
        clients.client(arn)
        assert resolve_request_headers()["x-mlflow-sm-tracking-server-arn"] == arn
        clients.client(arn)  # the same ARN again is fine
        other = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/other"
        with pytest.raises(clients.MlflowClientError, match="two SageMaker tracking servers in one process"):
            clients.client(other)
    finally:
        mlflow.set_tracking_uri(previous)
