"""Bad input is a 4xx with a reason, never a 5xx: names, types, NaN, sizes, encodings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from serving.app import create_app
from tests.serving.conftest import served, settings_for

MAX_ROWS = 50
MAX_BYTES = 16 * 1024
GOOD = {"store_id": 3, "item_id": 7, "day_of_week": 2, "day_of_year": 100, "price": 9.5, "promo": 0}


def row(**changes):
    out = {**GOOD, **changes}
    return {k: v for k, v in out.items() if v is not ...}


@pytest.fixture(scope="module")
def client(demand_dir: Path):
    app = create_app(settings_for(demand_dir, max_batch_rows=MAX_ROWS, max_body_bytes=MAX_BYTES))
    with served(app) as c:
        yield c


def test_the_good_row_is_accepted(client):
    r = client.post("/predict", json=GOOD)
    assert r.status_code == 200, r.text
    assert isinstance(r.json()["predictions"][0], float)


def test_whole_floats_are_integers_as_in_json_schema(client):
    as_float = {k: float(v) for k, v in GOOD.items()}
    assert client.post("/predict", json=as_float).json()["predictions"] == client.post("/predict", json=GOOD).json()["predictions"]


JSON_CASES = {
    "unknown feature name": (row(colour=1), 422, "invalid_input", "colour"),
    "missing feature": (row(price=...), 422, "invalid_input", "price"),
    "string for a number": (row(price="9.5"), 422, "invalid_input", "price"),
    "bool for an integer": (row(promo=True), 422, "invalid_input", "promo"),
    "fraction for an integer": (row(store_id=2.5), 422, "invalid_input", "store_id"),
    "null for a required feature": (row(price=None), 422, "invalid_input", "price"),
    "integer beyond int64": (row(item_id=2**70), 422, "invalid_input", "item_id"),
    "empty batch": ([], 422, "invalid_input", "at least 1"),
    "batch over the maximum": ([GOOD] * (MAX_ROWS + 1), 422, "invalid_input", f"at most {MAX_ROWS}"),
    "JSON scalar": (5, 422, "invalid_input", ""),
    "JSON string": ("hello", 422, "invalid_input", ""),
    "array of non-objects": ([1, 2], 422, "invalid_input", "object"),
    "nested wrong type": ([GOOD, [GOOD]], 422, "invalid_input", "1"),
}


@pytest.mark.parametrize("case", list(JSON_CASES))
def test_predict_rejects_bad_json_input_with_a_reason(client, case):
    body, status, code, mentions = JSON_CASES[case]
    r = client.post("/predict", json=body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code
    assert mentions in error["message"] + json.dumps(error.get("details", []))


RAW_CASES = {
    "NaN literal": (b'{"store_id":3,"item_id":7,"day_of_week":2,"day_of_year":100,"price":NaN,"promo":0}', 422, "invalid_input"),
    "Infinity literal": (b'{"store_id":3,"item_id":7,"day_of_week":2,"day_of_year":100,"price":Infinity,"promo":0}', 422, "invalid_input"),
    "overflowing float": (b'{"store_id":3,"item_id":7,"day_of_week":2,"day_of_year":100,"price":1e999,"promo":0}', 422, "invalid_input"),
    "not JSON": (b"store_id=3&price=9.5", 400, "malformed_body"),
    "truncated JSON": (b'{"store_id": 3, "item_id"', 400, "malformed_body"),
    "invalid UTF-8": (b'{"store_id": "\xff\xfe"}', 400, "malformed_body"),
    "deeply nested": (b"[" * 5000 + b"]" * 5000, 400, "malformed_body"),
}


@pytest.mark.parametrize("case", list(RAW_CASES))
def test_predict_rejects_malformed_bodies(client, case):
    body, status, code = RAW_CASES[case]
    r = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["message"]


def test_empty_body_is_400(client):
    r = client.post("/predict", content=b"", headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "malformed_body")


def test_wrong_content_type_is_415(client):
    r = client.post("/predict", content=json.dumps(GOOD), headers={"Content-Type": "application/xml"})
    assert (r.status_code, r.json()["error"]["code"]) == (415, "unsupported_media_type")


def test_huge_body_with_content_length_is_413_before_reading(client):
    body = json.dumps([GOOD] * 400).encode()
    assert len(body) > MAX_BYTES
    r = client.post("/predict", content=body, headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()["error"]["code"]) == (413, "payload_too_large")
    assert str(MAX_BYTES) in r.json()["error"]["message"]


def test_huge_chunked_body_without_content_length_is_413(client):
    def chunks():
        for _ in range(64):
            yield b" " * 1024

    r = client.post("/predict", content=chunks(), headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()["error"]["code"]) == (413, "payload_too_large")


SPLIT = {"columns": list(GOOD), "data": [list(GOOD.values())]}
INVOCATION_CASES = {
    "two protocol keys": ({"dataframe_split": SPLIT, "instances": [GOOD]}, 400, "malformed_body"),
    "no protocol key": ({"rows": [GOOD]}, 400, "malformed_body"),
    "unknown extra key": ({"instances": [GOOD], "extra": 1}, 400, "malformed_body"),
    "top-level array": ([GOOD], 400, "malformed_body"),
    "split without data": ({"dataframe_split": {"columns": list(GOOD)}}, 400, "malformed_body"),
    "split ragged row": ({"dataframe_split": {"columns": list(GOOD), "data": [[1, 2]]}}, 422, "invalid_input"),
    "split duplicate columns": ({"dataframe_split": {"columns": ["price", "price"], "data": [[1, 2]]}}, 422, "invalid_input"),
    "split wrong type": ({"dataframe_split": {"columns": list(GOOD), "data": [["a"] * 6]}}, 422, "invalid_input"),
    "records empty": ({"dataframe_records": []}, 422, "invalid_input"),
    "records over maximum": ({"dataframe_records": [GOOD] * (MAX_ROWS + 1)}, 422, "invalid_input"),
    "columns of unequal length": ({"inputs": {"price": [1.0, 2.0], "promo": [0]}}, 422, "invalid_input"),
    "instances NaN": ({"instances": [row(price=float("nan"))]}, 422, "invalid_input"),
    "non-empty params": ({"instances": [GOOD], "params": {"k": 1}}, 422, "invalid_input"),
}


@pytest.mark.parametrize("case", list(INVOCATION_CASES))
def test_invocations_rejects_bad_scoring_requests(client, case):
    body, status, code = INVOCATION_CASES[case]
    r = client.post("/invocations", content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["message"]


CSV_HEADER = ",".join(GOOD)
CSV_CASES = {
    "text in a number column": f"{CSV_HEADER}\n3,7,2,100,cheap,0\n",
    "nan in a number column": f"{CSV_HEADER}\n3,7,2,100,nan,0\n",
    "ragged line": f"{CSV_HEADER}\n3,7,2\n",
    "too many fields": f"{CSV_HEADER}\n3,7,2,100,9.5,0,1\n",
    "unknown column": f"{CSV_HEADER},colour\n3,7,2,100,9.5,0,1\n",
    "header only": f"{CSV_HEADER}\n",
    "over the maximum": f"{CSV_HEADER}\n" + "3,7,2,100,9.5,0\n" * (MAX_ROWS + 1),
}


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_invocations_rejects_bad_csv(client, case):
    r = client.post("/invocations", content=CSV_CASES[case], headers={"Content-Type": "text/csv"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"]


def test_invocations_non_utf8_csv_is_400(client):
    r = client.post("/invocations", content=b"\xff\xfe\x00", headers={"Content-Type": "text/csv"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "malformed_body")


def test_invocations_unsupported_content_type_is_415(client):
    r = client.post("/invocations", content=b"x", headers={"Content-Type": "application/octet-stream"})
    assert (r.status_code, r.json()["error"]["code"]) == (415, "unsupported_media_type")


def test_bad_requests_leave_the_service_healthy(client):
    for body in JSON_CASES.values():
        client.post("/predict", json=body[0])
    r = client.post("/predict", json=[GOOD] * 3)
    assert r.status_code == 200
    assert len(r.json()["predictions"]) == 3
    text = client.get("/metrics").text
    assert 'status="500"' not in text
