"""Fixtures for the ml tests: one real MLflow server for the session, stack outputs, and moto on 127.0.0.1."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest


@pytest.fixture
def aws_outputs_dict() -> dict[str, str]:
    """Stack outputs as the aws stack exports them (fake account, region eu-west-1)."""
    return {
        "mlflow_tracking_uri": "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/mlops",
        "training_image_uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlops-train:1.0.0",
        "training_role_arn": "arn:aws:iam::123456789012:role/mlops-sagemaker-exec",
        "artifact_bucket": "mlops-artifacts-abc123",
        "kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
        "aws_region": "eu-west-1",
    }


@pytest.fixture
def azure_outputs_dict() -> dict[str, str]:
    """Stack outputs as the azure stack exports them."""
    return {
        "mlflow_tracking_uri": "azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/"
        "00000000-0000-0000-0000-000000000000/resourceGroups/mlops-rg/providers/"
        "Microsoft.MachineLearningServices/workspaces/mlops-ws",
        "training_image_uri": "mlopsacr.azurecr.io/mlops-train:1.0.0",
        "azure_subscription_id": "00000000-0000-0000-0000-000000000000",
        "azure_resource_group": "mlops-rg",
        "azureml_workspace_name": "mlops-ws",
        "azureml_compute_name": "cpu-cluster",
    }


@pytest.fixture
def moto_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's server on 127.0.0.1 with fake credentials; every boto3 client is pointed at it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto keeps its backends per process: start every test from an empty account.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10)
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": endpoint,
        "SAGEMAKER_VALIDATE_ROLE": "false",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield endpoint
    server.stop()
