"""Wire formats: request bodies in, JSON out. Pure functions, no model and no HTTP framework.

``/predict``: the body is one row (JSON object) or a batch (JSON array) — decoded by the model's
``RowSchema`` directly; the answer is ``{"predictions": [...], "model": {"name", "version"}}``.

``/invocations`` (SageMaker, Azure ML scoring route): the MLflow scoring protocol.
``application/json`` with exactly one of

* ``dataframe_split``: ``{"columns": [...], "data": [[...], ...]}`` (``index`` ignored),
* ``dataframe_records``: ``[{...}, ...]``,
* ``instances`` / ``inputs``: records ``[{...}, ...]`` or columns ``{"name": [...], ...}``,

plus an optional ``params`` object (accepted only empty: these models take no parameters); or
``text/csv`` with a header row. The answer is ``{"predictions": [...]}``, as MLflow's own
scoring server answers.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import numpy as np

from serving.errors import InvalidInput, MalformedBody, UnsupportedMediaType
from serving.schema import RowSchema

SCORING_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
JSON_TYPES = ("application/json",)
CSV_TYPES = ("text/csv",)


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_json_media(content_type: str | None) -> None:
    mt = media_type(content_type)
    if mt and mt not in JSON_TYPES and not mt.endswith("+json"):
        raise UnsupportedMediaType(f"send application/json, not {mt}")


def decode_invocation(body: bytes, content_type: str | None, schema: RowSchema) -> list[dict[str, Any]]:
    """Rows from a scoring-protocol body, validated by ``schema``."""
    mt = media_type(content_type)
    if mt in CSV_TYPES:
        return schema.validate_rows(_csv_records(body, schema), lax=True)
    if mt and mt not in JSON_TYPES and not mt.endswith("+json"):
        raise UnsupportedMediaType(f"send application/json or text/csv, not {mt}")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MalformedBody(f"body is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(payload, dict):
        raise MalformedBody(f"the JSON body must be an object with one of: {', '.join(SCORING_KEYS)}")
    present = [k for k in SCORING_KEYS if k in payload]
    unknown = sorted(set(payload) - set(SCORING_KEYS) - {"params"})
    if len(present) != 1 or unknown:
        found = ", ".join(sorted(payload)) or "nothing"
        raise MalformedBody(f"expected exactly one of {', '.join(SCORING_KEYS)} (and optional params); got {found}")
    params = payload.get("params")
    if params not in (None, {}):
        raise InvalidInput("this model takes no params")
    key = present[0]
    value = payload[key]
    # the row count is known before any row is built or validated
    if key == "dataframe_split" and isinstance(value, dict):
        schema.check_row_count(value.get("data"), "dataframe_split rows")
    elif isinstance(value, list):
        schema.check_row_count(value, f"{key} rows")
    elif isinstance(value, dict) and value:
        schema.check_row_count(next(iter(value.values())), f"{key} values per column")
    if key == "dataframe_split":
        records = _split_records(value)
    elif key == "dataframe_records":
        records = value
    else:
        records = _columns_records(value) if isinstance(value, dict) else value
    return schema.validate_rows(records)


def _split_records(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, dict) or not isinstance(value.get("columns"), list) or not isinstance(value.get("data"), list):
        raise MalformedBody('dataframe_split must be {"columns": [...], "data": [[...], ...]}')
    columns = value["columns"]
    if not all(isinstance(c, str) for c in columns) or len(set(columns)) != len(columns):
        raise InvalidInput("dataframe_split columns must be distinct strings")
    records = []
    for i, row in enumerate(value["data"]):
        if not isinstance(row, list) or len(row) != len(columns):
            raise InvalidInput(f"dataframe_split data[{i}] must be a list of {len(columns)} values")
        records.append(dict(zip(columns, row, strict=True)))
    return records


def _columns_records(value: dict[str, Any]) -> list[dict[str, Any]]:
    lengths = {len(v) if isinstance(v, list) else -1 for v in value.values()}
    if not value or -1 in lengths or len(lengths) != 1:
        raise InvalidInput("columnar inputs must map each feature name to a list, all of one length")
    names = list(value)
    return [dict(zip(names, vals, strict=True)) for vals in zip(*value.values(), strict=True)]


def _csv_records(body: bytes, schema: RowSchema) -> list[dict[str, Any]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody("CSV body is not UTF-8") from None
    if '"' not in text:  # no quoted fields: one row per line, countable before parsing
        lines = text.count("\n") + (0 if text.endswith("\n") else 1) - 1
        if lines > schema.max_batch_rows:
            raise InvalidInput(f"{lines} CSV rows in one request; at most {schema.max_batch_rows} are allowed "
                               "(SERVING_MAX_BATCH_ROWS)")
    try:
        reader = csv.DictReader(io.StringIO(text), strict=True)
        header = reader.fieldnames or []
        if header and not set(header) & set(schema.names):
            raise InvalidInput(
                "text/csv needs a header row naming the features "
                f"({','.join(schema.names)}); the first line was {','.join(header)[:200]!r}"
            )
        rows = []
        for i, row in enumerate(reader):
            if None in row or None in row.values():
                raise InvalidInput(f"CSV line {i + 2} has a different number of fields than the header")
            if i >= schema.max_batch_rows:
                raise InvalidInput(f"more than {schema.max_batch_rows} CSV rows")
            # An empty field is a missing value: drop it so optional features may be absent.
            rows.append({k: v for k, v in row.items() if v != ""})
    except csv.Error as exc:
        raise MalformedBody(f"body is not valid CSV: {exc}") from None
    return rows


def encode_predictions(values: np.ndarray, **extra: Any) -> bytes:
    """``{"predictions": [...], **extra}`` as JSON bytes (numpy scalars become plain numbers)."""
    preds = values.tolist()
    return json.dumps({"predictions": preds, **extra}, allow_nan=False, default=str).encode()
