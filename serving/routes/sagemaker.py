"""SageMaker's container contract on the same app: GET /ping and POST /invocations.

/invocations speaks the MLflow scoring protocol (JSON or CSV; see serving.protocols) and is also
the Azure ML scoring route; /ping answers like /health/ready.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from serving.contract import SAGEMAKER_INVOCATIONS_PATH, SAGEMAKER_PING_PATH
from serving.protocols import SCORING_KEYS, encode_predictions
from serving.routes.common import model_headers, read_body, service
from serving.routes.docs import HealthResponse, InvocationsResponse, errors
from serving.routes.health import readiness

router = APIRouter(tags=["sagemaker"])

_RECORDS = {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/PredictRow"}}
INVOCATIONS_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["dataframe_split"],
                        "additionalProperties": False,
                        "properties": {
                            "dataframe_split": {
                                "type": "object",
                                "required": ["columns", "data"],
                                "properties": {
                                    "columns": {"type": "array", "items": {"type": "string"}},
                                    "data": {"type": "array", "items": {"type": "array"}},
                                },
                            },
                            "params": {"type": "object", "maxProperties": 0},
                        },
                    },
                    *(
                        {
                            "type": "object",
                            "required": [key],
                            "additionalProperties": False,
                            "properties": {key: _RECORDS, "params": {"type": "object", "maxProperties": 0}},
                        }
                        for key in SCORING_KEYS[1:]
                    ),
                ]
            }
        },
        "text/csv": {"schema": {"type": "string", "description": "CSV with a header row"}},
    },
}


@router.get(
    SAGEMAKER_PING_PATH,
    response_model=HealthResponse,
    responses={503: {"model": HealthResponse, "description": "No model loaded yet"}},
    summary="SageMaker health check (= /health/ready)",
)
async def ping(request: Request) -> JSONResponse:
    return readiness(request)


@router.post(
    SAGEMAKER_INVOCATIONS_PATH,
    response_model=InvocationsResponse,
    responses=errors(400, 413, 415, 422, 503),
    summary="MLflow scoring protocol (SageMaker invocations, Azure ML scoring route)",
    openapi_extra={"requestBody": INVOCATIONS_BODY},
)
async def invocations(request: Request) -> Response:
    svc = service(request)
    svc.current()  # 503 before reading a body we cannot use
    result = await svc.predict_invocation(await read_body(request), request.headers.get("content-type"))
    ref = result.model.ref
    return Response(encode_predictions(result.predictions), media_type="application/json",
                    headers=model_headers(ref.name, ref.version))
