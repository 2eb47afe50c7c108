"""Thin routers, one per domain; each only awaits the service layer.

``AZUREML_ROUTES`` and ``SAGEMAKER_ROUTES`` are re-exported from ``serving.contract`` (import
them from there in code that must not depend on FastAPI).
"""

from __future__ import annotations

from serving.contract import AZUREML_ROUTES, SAGEMAKER_ROUTES
from serving.routes import drift, health, metrics, model, predict, sagemaker

ROUTERS = (health.router, predict.router, model.router, drift.router, metrics.router, sagemaker.router)

__all__ = ["AZUREML_ROUTES", "ROUTERS", "SAGEMAKER_ROUTES"]
