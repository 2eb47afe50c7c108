"""GET /drift/status: the last drift check of the recent-input window."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from serving.contract import DRIFT_STATUS_PATH
from serving.routes.common import service

router = APIRouter(tags=["drift"])


@router.get(DRIFT_STATUS_PATH, summary="Per-feature KS/PSI statistics and the verdict")
async def drift_status(request: Request) -> dict[str, Any]:
    return service(request).drift_status()
