"""Request validation generated from the model's MLflow signature.

A column-based signature (``ColSpec`` inputs) becomes a pydantic ``TypedDict`` named
``PredictRow`` with one field per feature: real names, JSON types, ``extra="forbid"`` (an
unknown name is an error), strict types (``"1.5"`` is not a number, ``2.5`` not an integer but
``2.0`` is, as in JSON Schema; ``true`` and ``"2"`` are not integers), finite numbers only (no NaN/Infinity), integers inside the column's
range, optional columns only where the signature says ``required: false``. The same types feed
the OpenAPI document, so ``/docs`` shows the features of the model actually being served.

CSV bodies carry strings; they go through a lax twin of the row type (``"1.5"`` is accepted as a
number there, but still never NaN).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError
from typing_extensions import NotRequired, TypedDict

from serving.errors import InvalidInput, MalformedBody, ModelLoadError, validation_details


def _whole_number_only(value: Any) -> Any:
    """Integers as JSON Schema defines them: ``2`` and ``2.0`` yes; ``"2"``, ``true`` no."""
    if isinstance(value, (str, bytes, bool)):
        raise ValueError("Input should be a valid integer")
    return value


# MLflow ColSpec type -> (python annotation, numpy dtype). Integer fields are validated laxly
# (``2.0`` -> 2, ``2.5`` refused) behind a guard that refuses strings and booleans.
_WHOLE = BeforeValidator(_whole_number_only)
_INT32 = Field(ge=-(2**31), le=2**31 - 1, strict=False)
_INT64 = Field(ge=-(2**63), le=2**63 - 1, strict=False)
_FINITE = Field(allow_inf_nan=False)
_FLOAT32 = Field(allow_inf_nan=False, ge=-3.4e38, le=3.4e38)
_TYPES: dict[str, tuple[Any, str]] = {
    "double": (Annotated[float, _FINITE], "float64"),
    "float": (Annotated[float, _FLOAT32], "float32"),
    "long": (Annotated[int, _WHOLE, _INT64], "int64"),
    "integer": (Annotated[int, _WHOLE, _INT32], "int32"),
    "boolean": (bool, "bool"),
    "string": (Annotated[str, Field(max_length=10_000)], "object"),
    "datetime": (dt.datetime, "datetime64[ns]"),
}


@dataclass(frozen=True)
class Feature:
    """One model input column."""

    name: str
    type: str  # MLflow ColSpec type name
    required: bool = True

    @property
    def numeric(self) -> bool:
        return self.type in ("double", "float", "long", "integer", "boolean")

    @property
    def dtype(self) -> str:
        return _TYPES[self.type][1]


def features_from_signature(signature: Any) -> list[Feature]:
    """The signature's input columns; raises ``ModelLoadError`` for what /predict cannot serve."""
    if signature is None or signature.inputs is None:
        raise ModelLoadError("the model has no input signature; log it with signature=...")
    feats = []
    for spec in signature.inputs.to_dict():
        name = spec.get("name")
        kind = spec.get("type")
        if spec.get("type") == "tensor" or name is None:
            raise ModelLoadError("only column-based (named) signatures are supported, not tensors")
        if kind not in _TYPES:
            raise ModelLoadError(f"feature {name!r} has unsupported signature type {kind!r}")
        feats.append(Feature(str(name), str(kind), bool(spec.get("required", True))))
    if not feats:
        raise ModelLoadError("the model's input signature has no columns")
    return feats


class RowSchema:
    """Validators and the OpenAPI schema for one model's inputs."""

    def __init__(self, features: list[Feature], max_batch_rows: int) -> None:
        self.features = features
        self.names = [f.name for f in features]
        self.max_batch_rows = max_batch_rows
        # Shortest JSON a row can be ({"name":0,...} over the required features, plus a comma):
        # a body shorter than max_batch_rows of those cannot carry too many rows.
        required = [f for f in features if f.required]
        self.min_row_bytes = 3 + sum(len(json.dumps(f.name)) + 2 for f in required)
        self.row_type = _row_typeddict(features, strict=True)
        lax_row = _row_typeddict(features, strict=False)
        batch = Annotated[list[self.row_type], Field(min_length=1, max_length=max_batch_rows)]  # type: ignore[name-defined]
        self.body_adapter: TypeAdapter[Any] = TypeAdapter(self.row_type | batch)  # type: ignore[operator]
        self.rows_adapter: TypeAdapter[Any] = TypeAdapter(batch)
        self.row_adapter: TypeAdapter[Any] = TypeAdapter(self.row_type)
        self.lax_rows_adapter: TypeAdapter[Any] = TypeAdapter(
            Annotated[list[lax_row], Field(min_length=1, max_length=max_batch_rows)]  # type: ignore[valid-type]
        )

    # -- validation --------------------------------------------------------------------------

    def parse_predict_body(self, body: bytes) -> list[dict[str, Any]]:
        """A ``/predict`` body: one JSON object (one row) or a JSON array of rows."""
        # Pick the shape by the first byte so errors name the right place (no union noise).
        head = body.lstrip()[:1]
        if head == b"[" and len(body) > self.max_batch_rows * self.min_row_bytes:
            self.check_row_count(_json(body))
        adapter = self.rows_adapter if head == b"[" else self.row_adapter if head == b"{" else self.body_adapter
        try:
            value = adapter.validate_json(body)
        except ValidationError as exc:
            raise _as_domain_error(exc) from None
        return [value] if isinstance(value, dict) else value

    def check_row_count(self, rows: Any, what: str = "rows") -> None:
        """Refuse more than ``max_batch_rows`` before any row is validated or built."""
        if isinstance(rows, list) and len(rows) > self.max_batch_rows:
            raise InvalidInput(f"{len(rows)} {what} in one request; at most {self.max_batch_rows} are allowed "
                               "(SERVING_MAX_BATCH_ROWS)")

    def validate_rows(self, rows: Any, *, lax: bool = False) -> list[dict[str, Any]]:
        """Already-decoded rows (scoring protocol, CSV) against the same rules."""
        adapter = self.lax_rows_adapter if lax else self.rows_adapter
        try:
            return adapter.validate_python(rows)
        except ValidationError as exc:
            raise _as_domain_error(exc) from None

    # -- conversion --------------------------------------------------------------------------

    def to_frame(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        """Validated rows as a frame with the signature's column order and dtypes."""
        return pd.DataFrame(self.to_columns(rows), copy=False)

    def to_columns(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """Validated rows as one array (or Series, for optional columns) per feature."""
        data: dict[str, Any] = {}
        for f in self.features:
            values = [r.get(f.name) for r in rows]
            if not f.required and any(v is None for v in values):
                data[f.name] = pd.Series(values, dtype="object" if f.type == "string" else None)
                continue
            data[f.name] = np.array(values, dtype=f.dtype)
        return data

    # -- OpenAPI -----------------------------------------------------------------------------

    def openapi_schemas(self) -> dict[str, Any]:
        """``components.schemas`` entries: ``PredictRow`` and ``PredictBody``."""
        ref = "#/components/schemas/{model}"
        body = self.body_adapter.json_schema(ref_template=ref)
        defs = body.pop("$defs", {})
        body["title"] = "PredictBody"
        body["description"] = (
            f"One row (an object) or a batch of 1..{self.max_batch_rows} rows (an array)."
        )
        return {**defs, "PredictBody": body}


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MalformedBody(f"body is not valid JSON: {str(exc)[:200]}") from None


def _row_typeddict(features: list[Feature], *, strict: bool) -> Any:
    fields: dict[str, Any] = {}
    for f in features:
        annotation = _TYPES[f.type][0]
        fields[f.name] = annotation if f.required else NotRequired[annotation | None]
    row = TypedDict("PredictRow" if strict else "PredictRowText", fields)  # type: ignore[misc]
    row.__pydantic_config__ = ConfigDict(  # type: ignore[attr-defined]
        extra="forbid", strict=strict, title="PredictRow", str_max_length=10_000
    )
    return row


def _as_domain_error(exc: ValidationError) -> Exception:
    errors = exc.errors(include_url=False)
    if any(e.get("type") == "json_invalid" for e in errors):
        return MalformedBody(f"body is not valid JSON: {errors[0].get('msg', '')}")
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "body"
    return InvalidInput(
        f"{len(errors)} problem(s) in the input; first at {where}: {first.get('msg', '')}",
        validation_details(errors),
    )
