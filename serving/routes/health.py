"""Liveness and readiness (Kubernetes probes; Azure ML liveness/readiness routes)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from serving.contract import HEALTH_LIVE_PATH, HEALTH_READY_PATH
from serving.routes.common import service
from serving.routes.docs import HealthResponse

router = APIRouter(tags=["health"])


@router.get(HEALTH_LIVE_PATH, response_model=HealthResponse, summary="The process serves HTTP")
async def live() -> JSONResponse:
    return JSONResponse({"status": "alive"})


def readiness(request: Request) -> JSONResponse:
    """200 ``ready`` with a model; 200 ``awaiting_model`` while the registry has none yet (with
    ``SERVING_READY_WITHOUT_MODEL``); else 503 ``loading`` with the last error as the reason."""
    status, body = service(request).readiness()
    return JSONResponse(body, status_code=status)


@router.get(
    HEALTH_READY_PATH,
    response_model=HealthResponse,
    responses={503: {"model": HealthResponse, "description": "No model loaded yet"}},
    summary="A verified model is loaded (or, with SERVING_READY_WITHOUT_MODEL, none exists yet)",
)
async def ready(request: Request) -> JSONResponse:
    return readiness(request)
