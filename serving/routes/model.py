"""GET /model: what is being served, and the last reload error."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from serving.contract import MODEL_PATH
from serving.routes.common import service

router = APIRouter(tags=["model"])


@router.get(MODEL_PATH, summary="Name, version, alias, signature, loaded-at, last reload error")
async def model(request: Request) -> dict[str, Any]:
    return service(request).model_status()
