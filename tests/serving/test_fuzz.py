"""Fuzz the running app over its own OpenAPI document (schemathesis): never a 5xx.

The server is a real ``python -m serving`` process with the demand model (integer and float
features). Every operation gets positive cases (valid per the schema) and negative cases
(schema violations, for the operations that take input), a bounded number of each, so the run stays well under a minute.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.serving.conftest import metric, serving_process

EXAMPLES = {GenerationMode.POSITIVE: 100, GenerationMode.NEGATIVE: 150}


@pytest.fixture(scope="module")
def server_url(demand_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    env = {"SERVING_MODEL_URI": str(demand_dir), "SERVING_MAX_BATCH_ROWS": "20",
           "SERVING_MAX_BODY_BYTES": "65536", "SERVING_LOG_LEVEL": "warning"}
    with serving_process(env, tmp_path_factory.mktemp("fuzz") / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def schema(server_url: str):
    return schemathesis.openapi.from_url(f"{server_url}/openapi.json")


def test_the_schema_documents_every_route_with_the_model_features(schema):
    paths = set(schema.raw_schema["paths"])
    assert paths == {"/health/live", "/health/ready", "/predict", "/model", "/drift/status", "/metrics",
                     "/ping", "/invocations"}
    row = schema.raw_schema["components"]["schemas"]["PredictRow"]
    assert set(row["properties"]) == {"store_id", "item_id", "day_of_week", "day_of_year", "price", "promo"}


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda m: m.value)
def test_no_operation_answers_5xx(schema, server_url, mode):
    seen: dict[int, int] = {}
    predict_codes: set[int] = set()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 8
    if mode is GenerationMode.NEGATIVE:  # GETs without parameters have nothing to violate
        operations = [op for op in operations if op.method.upper() == "POST"]
        assert {op.path for op in operations} == {"/predict", "/invocations"}
    for operation in operations:
        @settings(max_examples=EXAMPLES[mode], deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case):
            response = case.call(base_url=server_url, timeout=10)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            if case.path == "/predict":
                predict_codes.add(response.status_code)
            case.validate_response(response, checks=[not_a_server_error])
            assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text[:300]}"

        fuzz()
    assert sum(seen.values()) >= len(operations)
    if mode is GenerationMode.NEGATIVE:
        assert any(400 <= code < 500 for code in seen), seen
    else:  # data valid per the published schema is accepted by /predict
        assert 200 in predict_codes, predict_codes
    import urllib.request

    with urllib.request.urlopen(f"{server_url}/metrics", timeout=10) as r:
        text = r.read().decode()
    assert 'status="500"' not in text
    assert metric(text, "serving_model_loaded") == 1
