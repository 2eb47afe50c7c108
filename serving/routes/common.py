"""Helpers shared by the routers: the service from the app state, a bounded body read."""

from __future__ import annotations

from fastapi import Request

from serving.errors import MalformedBody, PayloadTooLarge
from serving.service import InferenceService


def service(request: Request) -> InferenceService:
    return request.app.state.service


#: Response headers naming the model version that computed the predictions (on /predict the
#: body says it too; /invocations keeps MLflow's {"predictions": [...]} body).
MODEL_NAME_HEADER = "x-model-name"
MODEL_VERSION_HEADER = "x-model-version"


def model_headers(name: str, version: str) -> dict[str, str]:
    return {MODEL_NAME_HEADER: name.encode("ascii", "replace").decode(), MODEL_VERSION_HEADER: version}


async def read_body(request: Request) -> bytes:
    """The request body, refused with 413 past ``max_body_bytes`` (checked before reading when
    Content-Length is sent, and while streaming when it is not)."""
    limit = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise MalformedBody("Content-Length is not a number") from None
        if size > limit:
            raise PayloadTooLarge(f"body of {size} bytes exceeds the limit of {limit} bytes")
        body = await request.body()
    else:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"body exceeds the limit of {limit} bytes")
            chunks.append(chunk)
        body = b"".join(chunks)
    if not body:
        raise MalformedBody("the request body is empty")
    return body
