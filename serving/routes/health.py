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
    svc = service(request)
    model = svc.model
    if model is None:
        return JSONResponse({"status": "loading", "model_version": None}, status_code=503)
    return JSONResponse({"status": "ready", "model_version": model.ref.version})


@router.get(
    HEALTH_READY_PATH,
    response_model=HealthResponse,
    responses={503: {"model": HealthResponse, "description": "No model loaded yet"}},
    summary="A verified model is loaded",
)
async def ready(request: Request) -> JSONResponse:
    return readiness(request)
