"""Azure ML command job (azure-ai-ml ``command(...)``) on the workspace's compute cluster.

The job runs ``python -m ml train ...`` in an environment built from the stack's training image,
on ``azureml_compute_name``, with ``MLFLOW_TRACKING_URI`` set to the stack's tracking URI (the
workspace's ``azureml://`` MLflow URI; the image then needs ``azureml-mlflow``), the run time
capped by ``LaunchConfig.max_run_seconds``. ``build_job`` works offline; ``dump_job`` writes the
YAML that ``az ml job create --file`` and ``azure.ai.ml.load_job`` accept; ``submit`` needs
``azure-identity`` credentials (``DefaultAzureCredential``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ml.launch.config import LaunchConfig
from ml.launch.outputs import REQUIRED_KEYS, StackOutputs

__all__ = ["build_job", "dump_job", "submit"]


def build_job(outputs: StackOutputs, config: LaunchConfig) -> Any:
    """The ``CommandJob`` for this training (nothing is contacted)."""
    from azure.ai.ml import command
    from azure.ai.ml.entities import Environment

    outputs.require(*REQUIRED_KEYS["azure"], purpose="an Azure ML command job")
    node = command(
        command=config.train_command(),
        environment=Environment(image=outputs.training_image_uri),
        compute=outputs.azureml_compute_name,
        environment_variables={
            "MLFLOW_TRACKING_URI": outputs.mlflow_tracking_uri,
            "MLFLOW_EXPERIMENT_NAME": config.model_name,
        },
        experiment_name=config.model_name,
        display_name=config.job_name,
        tags={"task": config.task, "model_name": config.model_name, "launched_by": "ml.launch"},
        instance_count=config.instance_count,
    )
    node.set_limits(timeout=config.max_run_seconds)
    return node._to_job()


def dump_job(job: Any, path: str | Path) -> Path:
    """Write the job as Azure ML YAML (the ``az ml job create --file`` format)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    job.dump(path)
    return path


def submit(outputs: StackOutputs, config: LaunchConfig, *, credential: Any | None = None) -> str:
    """Submit the job to the stack's workspace; returns the job's name."""
    from azure.ai.ml import MLClient

    job = build_job(outputs, config)
    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    client = MLClient(
        credential,
        subscription_id=outputs.azure_subscription_id,
        resource_group_name=outputs.azure_resource_group,
        workspace_name=outputs.azureml_workspace_name,
    )
    return str(client.jobs.create_or_update(job).name)
