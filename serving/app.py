"""The FastAPI application factory.

Run it with ``python -m serving`` (reads ``SERVING_*``), or
``uvicorn --factory serving.app:create_app``. Tests pass settings (and a model source) directly.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from serving.contract import PREDICT_PATH, SAGEMAKER_INVOCATIONS_PATH
from serving.errors import ServerBusy, error_response, install_error_handlers
from serving.metrics import UNMATCHED_ROUTE, Metrics
from serving.model import ModelSource
from serving.probes import ProbeListener
from serving.routes import ROUTERS
from serving.service import InferenceService
from serving.settings import ServingSettings

log = logging.getLogger("serving")


class MetricsMiddleware:
    """Counts every request and times it to the response start (pure ASGI: no body buffering).

    The counter is updated *before* the response leaves, so a client that has its answer can
    rely on the metric already including it.
    """

    def __init__(self, app: Any, metrics: Metrics, static_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.metrics = metrics
        self.static_paths = static_paths  # FastAPI's own pages (/openapi.json, /docs, ...)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        recorded = False

        async def send_wrapper(message: dict[str, Any]) -> None:
            nonlocal recorded
            if message["type"] == "http.response.start" and not recorded:
                recorded = True
                self.metrics.observe_request(
                    self._route(scope), scope["method"], message["status"], time.perf_counter() - start
                )
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            if not recorded:
                self.metrics.observe_request(self._route(scope), scope["method"], 500, time.perf_counter() - start)
            raise

    def _route(self, scope: dict[str, Any]) -> str:
        route = scope.get("route")
        path = getattr(route, "path", None)
        if path:
            return path
        # FastAPI's documentation routes are plain Starlette routes that set no scope["route"]
        return scope["path"] if scope.get("path") in self.static_paths else UNMATCHED_ROUTE


class AdmissionMiddleware:
    """Refuses scoring requests while admission control is full, before routing and before the
    body is read: a refusal costs the event loop a few microseconds, so a client that retries
    at once (a load generator ignoring Retry-After) cannot crowd out the requests in flight.
    The route checks once more right before decoding (``InferenceService.predict_body``)."""

    def __init__(self, app: Any, service: InferenceService, paths: frozenset[str]) -> None:
        self.app = app
        self.service = service
        self.paths = paths

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self.paths:
            try:
                self.service.admit()
            except ServerBusy as busy:
                response = error_response(busy)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(settings: ServingSettings | None = None, *, source: ModelSource | None = None) -> FastAPI:
    settings = settings or ServingSettings()  # type: ignore[call-arg]  (reads SERVING_*)
    metrics = Metrics()
    service = InferenceService(settings, metrics, source)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        probes = None
        if settings.probe_port:
            probes = ProbeListener(settings.host, settings.probe_port, service.readiness)
            app.state.probes = probes
        await service.start()
        if probes is not None:
            probes.start()
        try:
            yield
        finally:
            if probes is not None:
                await probes.stop()
            await service.stop()

    app = FastAPI(
        title="mlops-platform inference",
        version="1",
        summary="One image for Kubernetes, SageMaker and Azure ML.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.service = service
    for router in ROUTERS:
        app.include_router(router)
    install_error_handlers(app)
    static = frozenset(p for p in (app.openapi_url, app.docs_url, app.redoc_url,
                                   app.swagger_ui_oauth2_redirect_url) if p)
    scoring = frozenset((PREDICT_PATH, SAGEMAKER_INVOCATIONS_PATH))
    app.add_middleware(AdmissionMiddleware, service=service, paths=scoring)
    # refused before routing: MetricsMiddleware labels them by their path, which is the route
    app.add_middleware(MetricsMiddleware, metrics=metrics, static_paths=static | scoring)
    _install_model_openapi(app, service)
    return app


def _install_model_openapi(app: FastAPI, service: InferenceService) -> None:
    """The OpenAPI document carries the *served* model's row schema (rebuilt after a swap)."""
    base_openapi = app.openapi
    cache: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        model = service.model
        key = model.ref.version if model else None
        if cache.get("key") != key or "doc" not in cache:
            doc = copy.deepcopy(base_openapi())
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            if model is not None:
                schemas.update(model.schema.openapi_schemas())
                doc["info"]["description"] = (
                    f"Serving model {model.ref.name!r} version {model.ref.version}; "
                    f"features: {', '.join(model.schema.names)}."
                )
            else:  # no model yet: any object, documented as such
                schemas["PredictRow"] = {"type": "object", "description": "no model loaded yet"}
                schemas["PredictBody"] = {
                    "anyOf": [{"$ref": "#/components/schemas/PredictRow"},
                              {"type": "array", "items": {"$ref": "#/components/schemas/PredictRow"}}]
                }
            cache["key"], cache["doc"] = key, doc
        return cache["doc"]

    app.openapi = openapi  # type: ignore[method-assign]
