"""Domain exceptions of the serving app and their HTTP mapping, in one place.

Services raise these; ``install_error_handlers`` maps each class to one handler. Every error
answer has the same JSON shape::

    {"error": {"code": "invalid_input", "message": "...", "details": [...]}}

Bad input is always a 4xx with a reason; only a fault of the server itself is a 5xx.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("serving")


class ServingError(Exception):
    """Base class: an HTTP status, a stable machine-readable code and a human message."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, details: list[Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"error": error}


class MalformedBody(ServingError):
    """The body cannot be decoded (not JSON, not CSV, wrong envelope)."""

    status_code = 400
    code = "malformed_body"


class InvalidInput(ServingError):
    """The body decodes but does not match the model's signature (names, types, NaN, size)."""

    status_code = 422
    code = "invalid_input"


class ModelRejectedInput(InvalidInput):
    """The input matched the signature but the model raised ``ValueError``/``TypeError`` on it."""

    code = "model_rejected_input"


class PayloadTooLarge(ServingError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(ServingError):
    status_code = 415
    code = "unsupported_media_type"


class ModelNotReady(ServingError):
    """No model is loaded yet (startup, or every load so far failed)."""

    status_code = 503
    code = "model_not_ready"


class ServerBusy(ServingError):
    """Admission control: more rows are in flight than ``SERVING_MAX_INFLIGHT_ROWS`` (retry)."""

    status_code = 503
    code = "server_busy"


class PredictionFailed(ServingError):
    """The model failed on input it should accept: a server fault."""

    status_code = 500
    code = "prediction_failed"


class ModelLoadError(Exception):
    """Loading or verifying a model version failed (kept in /model; never reaches a client)."""


class ModelNotFound(ModelLoadError):
    """The registry answered *definitively* that the model or its alias does not exist (yet)."""


def validation_details(errors: list[dict[str, Any]], limit: int = 20) -> list[dict[str, Any]]:
    """pydantic errors reduced to JSON-safe ``{"loc", "msg", "type"}`` entries (first ``limit``)."""
    out = []
    for err in errors[:limit]:
        out.append(
            {
                "loc": [p if isinstance(p, (int, str)) else str(p) for p in err.get("loc", ())],
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
        )
    return out


def error_response(error: ServingError) -> Any:
    from starlette.responses import JSONResponse

    headers = (
        {"Retry-After": "5"} if isinstance(error, ModelNotReady)
        else {"Retry-After": "1"} if isinstance(error, ServerBusy) else None
    )
    return JSONResponse(error.body(), status_code=error.status_code, headers=headers)


def install_error_handlers(app: Any) -> None:
    """Register one handler per concern: domain errors, FastAPI's validation, HTTP, the rest."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    async def on_serving_error(request: Request, exc: ServingError) -> Any:
        if exc.status_code >= 500 and not isinstance(exc, ServerBusy):  # busy: counted in metrics, not logged per request
            log.error("%s %s: %s", request.method, request.url.path, exc.message)
        return error_response(exc)

    async def on_request_validation(request: Request, exc: RequestValidationError) -> Any:
        return error_response(
            InvalidInput("request does not match the API", validation_details(list(exc.errors())))
        )

    async def on_http(request: Request, exc: HTTPException) -> Any:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        body = {"error": {"code": code, "message": str(exc.detail)}}
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    async def on_unexpected(request: Request, exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(ServingError("internal error; see the server log"))

    app.add_exception_handler(ServingError, on_serving_error)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
