"""Every route of the app on a real (small) MLflow model, and /metrics counting them."""

from __future__ import annotations

import re
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from serving.app import create_app
from tests.serving.conftest import metric, reference_of, served, settings_for
from tests.serving.models import DEMAND_FEATURES, IRIS_FEATURES, demand_data, iris_data


@pytest.fixture(scope="module")
def iris_client(iris_dir: Path):
    app = create_app(settings_for(iris_dir, drift_reference_path=reference_of(iris_dir)))
    with served(app) as client:
        yield client


@pytest.fixture(scope="module")
def iris_pyfunc(iris_dir: Path):
    return mlflow.pyfunc.load_model(str(iris_dir))


@pytest.fixture(scope="module")
def demand_client(demand_dir: Path):
    with served(create_app(settings_for(demand_dir))) as client:
        yield client


def test_liveness_answers_200(iris_client):
    assert iris_client.get("/health/live").json() == {"status": "alive"}


def test_readiness_and_ping_name_the_served_version(iris_client):
    version = iris_client.get("/model").json()["version"]
    for path in ("/health/ready", "/ping"):
        r = iris_client.get(path)
        assert (r.status_code, r.json()) == (200, {"status": "ready", "model_version": version})


def test_predict_one_row_matches_pyfunc(iris_client, iris_pyfunc):
    x, _ = iris_data()
    row = x.iloc[100].to_dict()
    r = iris_client.post("/predict", json=row)
    assert r.status_code == 200, r.text
    assert r.json()["predictions"] == iris_pyfunc.predict(x.iloc[[100]]).tolist()
    assert r.json()["model"]["name"] == "iris"


def test_predict_batch_matches_pyfunc_in_order(iris_client, iris_pyfunc):
    x, _ = iris_data()
    batch = x.sample(n=40, random_state=3)
    r = iris_client.post("/predict", json=batch.to_dict(orient="records"))
    assert r.status_code == 200, r.text
    assert r.json()["predictions"] == iris_pyfunc.predict(batch).tolist()


def test_model_route_describes_name_version_signature_and_load_time(iris_client, iris_dir):
    body = iris_client.get("/model").json()
    assert body["loaded"] is True
    assert body["name"] == "iris"
    assert body["uri"] == str(iris_dir)
    assert [c["name"] for c in body["signature"]["inputs"]] == IRIS_FEATURES
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", body["loaded_at"])
    assert body["last_error"] is None
    assert body["fast_path"] is True
    assert body["drift_reference"]["features"] == IRIS_FEATURES


def test_openapi_shows_the_model_features_and_types(iris_client, demand_client):
    iris_row = iris_client.get("/openapi.json").json()["components"]["schemas"]["PredictRow"]
    assert list(iris_row["properties"]) == IRIS_FEATURES
    assert {p["type"] for p in iris_row["properties"].values()} == {"number"}
    assert iris_row["additionalProperties"] is False
    demand_row = demand_client.get("/openapi.json").json()["components"]["schemas"]["PredictRow"]
    types = {name: p["type"] for name, p in demand_row["properties"].items()}
    assert types == {**{n: "integer" for n in DEMAND_FEATURES}, "price": "number"}
    assert sorted(demand_row["required"]) == sorted(DEMAND_FEATURES)


def scoring_bodies(frame: pd.DataFrame) -> dict[str, dict]:
    records = frame.to_dict(orient="records")
    return {
        "dataframe_split": {"dataframe_split": {"columns": list(frame.columns), "data": frame.to_numpy().tolist()}},
        "dataframe_records": {"dataframe_records": records},
        "instances": {"instances": records},
        "inputs_records": {"inputs": records, "params": {}},
        "inputs_columns": {"inputs": {c: frame[c].tolist() for c in frame.columns}},
    }


@pytest.mark.parametrize("kind", list(scoring_bodies(iris_data()[0].head(1))))
def test_invocations_json_formats_match_pyfunc(iris_client, iris_pyfunc, kind):
    x, _ = iris_data()
    frame = x.iloc[[0, 60, 120]]
    r = iris_client.post("/invocations", json=scoring_bodies(frame)[kind])
    assert r.status_code == 200, r.text
    assert r.json() == {"predictions": iris_pyfunc.predict(frame).tolist()}


def test_invocations_csv_matches_pyfunc(iris_client, iris_pyfunc):
    x, _ = iris_data()
    frame = x.iloc[[5, 75, 145]]
    r = iris_client.post("/invocations", content=frame.to_csv(index=False),
                         headers={"Content-Type": "text/csv; charset=utf-8"})
    assert r.status_code == 200, r.text
    assert r.json() == {"predictions": iris_pyfunc.predict(frame).tolist()}


def test_demand_integer_columns_round_trip(demand_client, demand_dir):
    x, _ = demand_data()
    frame = x.head(7)
    expected = mlflow.pyfunc.load_model(str(demand_dir)).predict(frame)
    body = {"dataframe_split": {"columns": list(frame.columns), "data": frame.astype(object).to_numpy().tolist()}}
    r = demand_client.post("/invocations", json=body)
    assert r.status_code == 200, r.text
    assert np.array_equal(np.asarray(r.json()["predictions"]), expected)


def test_metrics_count_requests_latency_predictions_and_model(iris_client):
    before = iris_client.get("/metrics").text
    x, _ = iris_data()
    for i in range(3):
        assert iris_client.post("/predict", json=x.iloc[i * 10 : i * 10 + 4].to_dict(orient="records")).status_code == 200
    assert iris_client.post("/predict", json={"nope": 1}).status_code == 422
    after = iris_client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    text = after.text

    def delta(name: str, /, **labels: str) -> float:
        return metric(text, name, **labels) - metric(before, name, **labels)

    assert delta("serving_requests_total", route="/predict", method="POST", status="200") == 3
    assert delta("serving_requests_total", route="/predict", method="POST", status="422") == 1
    assert delta("serving_request_duration_seconds_count", route="/predict", method="POST") == 4
    assert delta("serving_prediction_value_count") == 12
    assert delta("serving_predict_batch_rows_sum") == 12
    version = iris_client.get("/model").json()["version"]
    assert metric(text, "serving_model_info", name="iris", version=version) == 1
    assert metric(text, "serving_model_loaded") == 1
    assert "serving_model_reload_failures_total 0.0" in text


def test_prediction_histogram_buckets_hold_the_predicted_values(iris_client, iris_pyfunc):
    x, _ = iris_data()
    before = iris_client.get("/metrics").text
    rows = x.iloc[[0, 1, 2, 100, 101]]  # setosa x3 (class 0), virginica x2 (class 2)
    preds = iris_pyfunc.predict(rows)
    assert iris_client.post("/predict", json=rows.to_dict(orient="records")).status_code == 200
    text = iris_client.get("/metrics").text
    for bound in ("0.0", "1.0", "2.0"):
        expected = int((preds <= float(bound)).sum())
        got = metric(text, "serving_prediction_value_bucket", le=bound) - metric(before, "serving_prediction_value_bucket", le=bound)
        assert got == expected, f"bucket le={bound}"
    got_sum = metric(text, "serving_prediction_value_sum") - metric(before, "serving_prediction_value_sum")
    assert got_sum == float(preds.sum())


def test_unknown_routes_are_404_and_share_one_metric_label(iris_client):
    for path in ("/nope", "/predict/extra", "/a/b/c"):
        r = iris_client.get(path)
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"
    text = iris_client.get("/metrics").text
    assert metric(text, "serving_requests_total", route="<unmatched>", method="GET", status="404") >= 3
    assert "/a/b/c" not in text


def test_wrong_method_is_405(iris_client):
    r = iris_client.get("/predict")
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"
