"""Settings come from SERVING_* once; the contract's names and paths match the app."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from serving import contract
from serving.app import create_app
from serving.settings import ServingSettings


def test_every_setting_has_its_documented_environment_variable():
    assert set(contract.SETTINGS_ENV) == set(ServingSettings.model_fields)
    assert all(var == "SERVING_" + field.upper() for field, var in contract.SETTINGS_ENV.items())


def test_settings_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("SERVING_MODEL_URI", "models:/demand@champion")
    monkeypatch.setenv("SERVING_PORT", "9090")
    monkeypatch.setenv("SERVING_WORKERS", "3")
    monkeypatch.setenv("SERVING_MICROBATCH_MAX_WAIT_MS", "0.5")
    s = ServingSettings()
    assert (s.model_uri, s.port, s.workers, s.microbatch_max_wait_ms) == ("models:/demand@champion", 9090, 3, 0.5)
    assert s.max_batch_rows == 1000 and s.poll_interval_s == 60.0


def test_the_model_uri_is_required(monkeypatch):
    monkeypatch.delenv("SERVING_MODEL_URI", raising=False)
    with pytest.raises(ValidationError, match="model_uri"):
        ServingSettings()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("port", 0, "greater than or equal to 1"),
        ("log_level", "verbose", "'debug', 'info', 'warning' or 'error'"),
        ("drift_min_rows", 5000, "must not exceed drift_window"),
        ("microbatch_max_wait_ms", 1000, "less than or equal to 100"),
    ],
)
def test_bad_settings_are_refused_with_the_field_named(field, value, message):
    with pytest.raises(ValidationError, match=message):
        ServingSettings(model_uri="x", **{field: value})


def test_the_default_port_is_sagemakers():
    assert ServingSettings(model_uri="x").port == contract.DEFAULT_PORT == contract.SAGEMAKER_ROUTES["port"] == 8080


def test_contract_paths_are_routes_of_the_app():
    app = create_app(ServingSettings(model_uri="x"))
    routes = {(m.upper(), path) for path, ops in app.openapi()["paths"].items() for m in ops}
    for path in (contract.HEALTH_LIVE_PATH, contract.HEALTH_READY_PATH, contract.MODEL_PATH,
                 contract.DRIFT_STATUS_PATH, contract.METRICS_PATH, contract.SAGEMAKER_PING_PATH):
        assert ("GET", path) in routes
    for path in (contract.PREDICT_PATH, contract.SAGEMAKER_INVOCATIONS_PATH):
        assert ("POST", path) in routes
    azure = contract.AZUREML_ROUTES
    assert ("GET", azure["liveness_route"]["path"]) in routes
    assert ("GET", azure["readiness_route"]["path"]) in routes
    assert ("POST", azure["scoring_route"]["path"]) in routes
    assert {r["port"] for r in azure.values()} == {contract.DEFAULT_PORT}


def test_routes_package_re_exports_the_target_route_tables():
    from serving import routes

    assert routes.AZUREML_ROUTES is contract.AZUREML_ROUTES
    assert routes.SAGEMAKER_ROUTES is contract.SAGEMAKER_ROUTES


def test_metric_names_in_the_contract_are_what_metrics_exports():
    from serving.metrics import Metrics

    text = Metrics().render().decode()
    for name in contract.METRICS.values():
        assert f"# TYPE {name.removesuffix('_total')}" in text, name
