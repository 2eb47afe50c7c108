"""Model lifecycle against a real MLflow server: load by alias, reload, failed reloads."""

from __future__ import annotations

import uuid

import mlflow
import pytest

from serving.app import create_app
from tests.serving import models
from tests.serving.conftest import metric, served, settings_for, wait_until
from tests.serving.faults import FaultProxy
from tests.serving.models import iris_data


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def reload(client) -> bool:
    """Run one reload on the app's own event loop (what the poller does), return swapped?"""
    return client.portal.call(client.app.state.service.reload)


def test_loads_the_champion_with_its_run_drift_reference(mlflow_uri):
    name = unique("iris")
    version = models.register(mlflow_uri, name, "iris")
    app = create_app(settings_for(f"models:/{name}@champion", tracking_uri=mlflow_uri))
    with served(app) as client:
        body = client.get("/model").json()
        assert (body["name"], body["version"], body["alias"]) == (name, version, "champion")
        assert body["run_id"]
        assert body["drift_reference"] == {"rows": 150, "features": models.IRIS_FEATURES}
        assert client.get("/health/ready").json() == {"status": "ready", "model_version": version}


def test_new_champion_is_verified_and_swapped_in_and_old_stays_until_then(mlflow_uri):
    name = unique("iris")
    v1 = models.register(mlflow_uri, name, "iris", n_estimators=5)
    app = create_app(settings_for(f"models:/{name}@champion", tracking_uri=mlflow_uri))
    x, _ = iris_data()
    with served(app) as client:
        assert reload(client) is False  # same version: nothing to do
        v2 = models.register(mlflow_uri, name, "iris", n_estimators=30, seed=1)
        assert client.get("/model").json()["version"] == v1
        assert reload(client) is True
        body = client.get("/model").json()
        assert (body["version"], body["reloads"], body["last_error"]) == (v2, 2, None)
        expected = mlflow.pyfunc.load_model(f"models:/{name}/{v2}").predict(x.head(20)).tolist()
        got = client.post("/predict", json=x.head(20).to_dict(orient="records")).json()
        assert (got["predictions"], got["model"]["version"]) == (expected, v2)
        text = client.get("/metrics").text
        assert metric(text, "serving_model_info", name=name, version=v2, alias="champion") == 1
        assert metric(text, "serving_model_info", name=name, version=v1, alias="champion") == 0
        assert metric(text, "serving_model_reloads_total") == 2


def test_failed_reload_keeps_the_old_model_and_reports_the_error(mlflow_uri):
    name = unique("iris")
    good = models.register(mlflow_uri, name, "iris", n_estimators=5)
    app = create_app(settings_for(f"models:/{name}@champion", tracking_uri=mlflow_uri))
    x, _ = iris_data()
    with served(app) as client:
        before = client.post("/predict", json=x.head(5).to_dict(orient="records")).json()["predictions"]
        broken = models.register_broken(mlflow_uri, name)
        assert reload(client) is False
        body = client.get("/model").json()
        assert body["version"] == good
        assert body["last_error"]["version"] == broken
        assert "verification on the input example failed" in body["last_error"]["error"]
        assert body["reload_failures"] == 1
        text = client.get("/metrics").text
        assert metric(text, "serving_model_reload_failures_total") == 1
        assert metric(text, "serving_model_info", name=name, version=good, alias="champion") == 1
        r = client.post("/predict", json=x.head(5).to_dict(orient="records"))
        assert (r.status_code, r.json()["predictions"]) == (200, before)
        assert client.get("/health/ready").status_code == 200


def test_background_poller_picks_up_a_new_champion(mlflow_uri):
    name = unique("iris")
    models.register(mlflow_uri, name, "iris", n_estimators=5)
    app = create_app(settings_for(f"models:/{name}@champion", tracking_uri=mlflow_uri, poll_interval_s=0.2))
    with served(app) as client:
        v2 = models.register(mlflow_uri, name, "iris", n_estimators=6)
        assert wait_until(lambda: client.get("/model").json()["version"] == v2, timeout=60), client.get("/model").json()


def test_without_a_model_the_app_is_live_not_ready_and_says_why(mlflow_uri):
    name = unique("missing")
    app = create_app(settings_for(f"models:/{name}@champion", tracking_uri=mlflow_uri))
    with served(app, ready=False) as client:
        assert wait_until(lambda: client.get("/model").json()["last_error"] is not None)
        assert client.get("/health/live").status_code == 200
        for path in ("/health/ready", "/ping"):
            assert client.get(path).status_code == 503
        body = client.get("/model").json()
        assert body["loaded"] is False
        assert f"cannot resolve models:/{name}@champion" in body["last_error"]["error"]
        r = client.post("/predict", json={"a": 1})
        assert (r.status_code, r.json()["error"]["code"]) == (503, "model_not_ready")
        assert r.headers["retry-after"] == "5"
        assert client.post("/invocations", json={"instances": [{"a": 1}]}).status_code == 503
        text = client.get("/metrics").text
        assert metric(text, "serving_model_reload_failures_total") >= 1
        assert metric(text, "serving_model_loaded") == 0
        assert client.get("/drift/status").json()["enabled"] is False
        # the model appears: the next attempt loads it and the app turns ready
        version = models.register(mlflow_uri, name, "iris", n_estimators=5)
        reload(client)
        assert client.get("/health/ready").json() == {"status": "ready", "model_version": version}


def test_a_pinned_version_uri_is_served_and_never_polled(mlflow_uri):
    name = unique("iris")
    v1 = models.register(mlflow_uri, name, "iris", n_estimators=5, alias=None)
    app = create_app(settings_for(f"models:/{name}/{v1}", tracking_uri=mlflow_uri, poll_interval_s=0.1))
    with served(app) as client:
        body = client.get("/model").json()
        assert (body["version"], body["alias"], body["poll_interval_s"]) == (v1, None, None)


def test_a_pinned_version_makes_no_registry_call_after_loading_while_an_alias_is_polled(mlflow_uri):
    """Behaviour, not the app's own report: every registry call goes through a proxy that
    counts them. The alias app (same poll interval, same proxy setup) shows the count growing;
    the pinned app's count stays where it was once the model was loaded."""
    import time

    name = unique("iris")
    v1 = models.register(mlflow_uri, name, "iris", n_estimators=5)
    polls = 10
    for uri, polled in ((f"models:/{name}@champion", True), (f"models:/{name}/{v1}", False)):
        with FaultProxy(mlflow_uri) as proxy:
            app = create_app(settings_for(uri, tracking_uri=proxy.url, poll_interval_s=0.1))
            with served(app) as client:
                loaded = proxy.requests
                assert loaded > 0, "the model did not come through the registry proxy"
                if polled:
                    assert wait_until(lambda: proxy.requests >= loaded + 3, timeout=30), proxy.requests
                else:
                    time.sleep(polls * 0.1)  # ten poll intervals
                    assert proxy.requests == loaded, f"{uri}: {proxy.requests - loaded} registry calls after loading"
                    assert client.get("/model").json()["version"] == v1


@pytest.mark.parametrize("uri", ["/nonexistent/model/dir"])
def test_a_missing_local_path_is_not_ready_with_the_load_error(uri):
    with served(create_app(settings_for(uri)), ready=False) as client:
        assert wait_until(lambda: client.get("/model").json()["last_error"] is not None)
        assert "cannot load /nonexistent/model/dir" in client.get("/model").json()["last_error"]["error"]
        assert client.get("/health/ready").status_code == 503
