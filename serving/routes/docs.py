"""Response models for the OpenAPI document (handlers return pre-encoded JSON for speed)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class ModelName(BaseModel):
    name: str
    version: str


class PredictResponse(BaseModel):
    predictions: list[Any]
    model: ModelName


class InvocationsResponse(BaseModel):
    predictions: list[Any]


class HealthResponse(BaseModel):
    status: str
    model_version: str | None = None
    reason: str | None = None


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    reasons = {
        400: "Malformed body (not JSON / CSV, wrong envelope)",
        413: "Body larger than SERVING_MAX_BODY_BYTES",
        415: "Unsupported Content-Type",
        422: "Input does not match the model signature",
        503: "No model loaded yet",
    }
    return {c: {"model": ErrorBody, "description": reasons[c]} for c in codes}
