"""Scheduled retraining for ``servingRuntime: azureml``: an Azure ML ``Schedule`` in the
workspace that creates a command job on ``trainingSchedule``.

The job runs ``python -m ml pipeline --trigger schedule ...`` (ml/pipeline.py) in an Azure ML
environment made from the training image, on the workspace's compute cluster, as the cluster's
managed identity (the one holding the storage grants): recent data, the same promotion gate, no
duplicate versions, a cooldown. Azure ML sets ``AZUREML_RUN_ID`` in the job, which ml.train uses
as the job key; ``ML_IMAGE_URI`` is the image (lineage). The trigger is a 5-field cron in UTC, the
same expression the Kubernetes CronJob takes. The drift trigger is not scheduled here: a managed
online endpoint routes only scoring and health (no ``/drift/status``).
Not verified on Azure (nothing can be deployed from here).
"""

from __future__ import annotations

import re
import shlex
from typing import Any

import pulumi
import pulumi_azure_native.machinelearningservices as ml

from ..kubernetes.retrain import model_name, normalise_cron
from .common import opts

ENVIRONMENT = "mlops-training"
TIMEOUT = "PT2H"


def environment_version(image: str) -> str:
    """The environment version of an image: its digest's first 12 hex digits, else its tag."""
    raw = image.rsplit("@sha256:", 1)[1][:12] if "@sha256:" in image else image.rsplit(":", 1)[-1]
    return re.sub(r"[^A-Za-z0-9._-]", "-", raw)[:30] or "1"


def pipeline_command(settings: Any) -> str:
    """The job's command line."""
    args = ["python", "-m", "ml", "pipeline", "--trigger", "schedule", "--task", settings.retrain_task,
            "--model-name", model_name(settings.model_uri),
            "--cooldown", str(int(settings.retrain_cooldown_minutes) * 60)]
    if settings.retrain_data_uri:
        args += ["--data-uri", settings.retrain_data_uri]
    return shlex.join(args)


def create_schedule(component: Any, name: str, settings: Any, where: Any, workspace: ml.Workspace,
                    compute: ml.Compute, tracking_uri: pulumi.Input[str]) -> ml.Schedule | None:
    """The environment and the schedule, or None (runtime not azureml, or no schedule)."""
    if settings.runtime != "azureml" or not settings.retrain_schedule:
        return None
    container = ml.EnvironmentContainer(
        f"{name}-training-env",
        ml.EnvironmentContainerArgs(
            resource_group_name=where.resource_group,
            workspace_name=workspace.name,
            name=ENVIRONMENT,
            properties=ml.EnvironmentContainerPropertiesArgs(description="The platform's training image"),
        ),
        opts=opts(component),
    )
    # One environment version per image: a new image (new digest or tag) is a new version.
    version = pulumi.Output.from_input(settings.training_image).apply(environment_version)
    environment = ml.EnvironmentVersion(
        f"{name}-training-env-version",
        ml.EnvironmentVersionArgs(
            resource_group_name=where.resource_group,
            workspace_name=workspace.name,
            name=container.name,
            version=version,
            properties=ml.EnvironmentVersionPropertiesArgs(image=settings.training_image, os_type="Linux"),
        ),
        opts=opts(component),
    )
    return ml.Schedule(
        f"{name}-retrain",
        ml.ScheduleArgs(
            resource_group_name=where.resource_group,
            workspace_name=workspace.name,
            name="mlops-retrain",
            properties=ml.SchedulePropertiesArgs(
                display_name="Scheduled retraining pipeline",
                description="python -m ml pipeline --trigger schedule (ml/pipeline.py)",
                is_enabled=True,
                trigger=ml.CronTriggerArgs(trigger_type="Cron", expression=normalise_cron(settings.retrain_schedule),
                                           time_zone="UTC"),
                action=ml.JobScheduleActionArgs(
                    action_type="CreateJob",
                    job_definition=ml.CommandJobArgs(
                        job_type="Command",
                        command=pipeline_command(settings),
                        environment_id=environment.id,
                        compute_id=compute.id,
                        experiment_name=model_name(settings.model_uri),
                        identity=ml.ManagedIdentityArgs(identity_type="Managed"),
                        environment_variables=pulumi.Output.all(tracking_uri, settings.training_image).apply(
                            lambda a: {"MLFLOW_TRACKING_URI": a[0], "ML_IMAGE_URI": a[1]}),
                        limits=ml.CommandJobLimitsArgs(job_limits_type="Command", timeout=TIMEOUT),
                    ),
                ),
            ),
        ),
        opts=opts(component),
    )
