"""GET /metrics: Prometheus text exposition (all workers in multiprocess mode)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from serving.contract import METRICS_PATH

router = APIRouter(tags=["metrics"])


@router.get(
    METRICS_PATH,
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    m = request.app.state.metrics
    return Response(m.render(), media_type=m.content_type)
