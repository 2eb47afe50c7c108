"""The inference service (FastAPI under uvicorn): one image for Kubernetes, SageMaker, Azure ML.

This package's ``__init__`` only re-exports the dependency-free contract (ports, paths, settings
variable names), so infrastructure code can ``from serving import HEALTH_READY_PATH`` without
FastAPI or MLflow installed. The app is ``serving.app.create_app``.
"""

from serving.contract import (
    AZUREML_ROUTES,
    DEFAULT_PORT,
    HEALTH_LIVE_PATH,
    HEALTH_READY_PATH,
    METRICS,
    METRICS_PATH,
    PREDICT_PATH,
    SAGEMAKER_ROUTES,
    SETTINGS_ENV,
)

__all__ = [
    "AZUREML_ROUTES",
    "DEFAULT_PORT",
    "HEALTH_LIVE_PATH",
    "HEALTH_READY_PATH",
    "METRICS",
    "METRICS_PATH",
    "PREDICT_PATH",
    "SAGEMAKER_ROUTES",
    "SETTINGS_ENV",
]
