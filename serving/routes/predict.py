"""POST /predict: one row or a batch, validated against the served model's signature."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from serving.contract import PREDICT_PATH
from serving.protocols import check_json_media, encode_predictions
from serving.routes.common import model_headers, read_body, service
from serving.routes.docs import PredictResponse, errors

router = APIRouter(tags=["predict"])

#: Replaced in the OpenAPI document by the served model's ``PredictBody`` (see serving.app).
PREDICT_BODY_REF = {"$ref": "#/components/schemas/PredictBody"}


@router.post(
    PREDICT_PATH,
    response_model=PredictResponse,
    responses=errors(400, 413, 415, 422, 503),
    summary="Predict one row (object) or a batch (array of objects)",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": PREDICT_BODY_REF}}}
    },
)
async def predict(request: Request) -> Response:
    check_json_media(request.headers.get("content-type"))
    svc = service(request)
    svc.current()  # 503 before reading a body we cannot use
    result = await svc.predict_body(await read_body(request))
    ref = result.model.ref
    body = encode_predictions(result.predictions, model={"name": ref.name, "version": ref.version})
    return Response(body, media_type="application/json", headers=model_headers(ref.name, ref.version))
