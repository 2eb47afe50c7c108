"""Scheduled retraining for ``servingRuntime: sagemaker``: an EventBridge Scheduler schedule
whose universal target calls SageMaker ``CreateTrainingJob`` on ``trainingSchedule``.

The job runs ``python -m ml pipeline --trigger schedule ...`` (ml/pipeline.py) in the training
image as the stack's SageMaker execution role: recent data, the same promotion gate, no
duplicate versions, a cooldown. The job name carries the invocation's
``<aws.scheduler.execution-id>`` (unique per attempt; SageMaker puts it in
``TRAINING_JOB_NAME``, which ml.train uses as the job key). Volumes and output use the artifact
key; ``ML_IMAGE_URI`` is the image (lineage). The drift trigger is not scheduled here: a
SageMaker endpoint routes only scoring and health, so there is no ``/drift/status`` to read.

The scheduler's own role trusts ``scheduler.amazonaws.com`` for this account and may only
create (and tag) training jobs named with this stack's prefix and pass the execution role to
SageMaker. Not verified on AWS (nothing can be deployed from here).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from ..kubernetes.retrain import eventbridge_cron, model_name
from .common import AwsContext, allow, service_trust

EXECUTION_ID = "<aws.scheduler.execution-id>"
TARGET_ARN = "arn:aws:scheduler:::aws-sdk:sagemaker:createTrainingJob"
INSTANCE_TYPE = "ml.m5.large"  # EBS-backed: VolumeKmsKeyId is accepted
MAX_RUNTIME_S = 3600
VOLUME_GB = 30


def job_prefix(ctx: AwsContext) -> str:
    """Training job names: ``<prefix>-<execution id>`` (at most 63 characters)."""
    return ctx.cloud("sagemaker", "retrain")[:46].rstrip("-")


def training_job_request(prefix: str, role_arn: str, image: str, tracking_uri: str, bucket: str,
                         key_arn: str, settings: Any) -> dict[str, Any]:
    """The CreateTrainingJob request the schedule sends (pure data; botocore validates it in tests)."""
    args = ["pipeline", "--trigger", "schedule", "--task", settings.retrain_task,
            "--model-name", model_name(settings.model_uri),
            "--cooldown", str(int(settings.retrain_cooldown_minutes) * 60)]
    if settings.retrain_data_uri:
        args += ["--data-uri", settings.retrain_data_uri]
    return {
        "TrainingJobName": f"{prefix}-{EXECUTION_ID}",
        "RoleArn": role_arn,
        "AlgorithmSpecification": {
            "TrainingImage": image,
            "TrainingInputMode": "File",
            "ContainerEntrypoint": ["python", "-m", "ml"],
            "ContainerArguments": args,
        },
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/training-output", "KmsKeyId": key_arn},
        "ResourceConfig": {"InstanceType": INSTANCE_TYPE, "InstanceCount": 1, "VolumeSizeInGB": VOLUME_GB,
                           "VolumeKmsKeyId": key_arn},
        "StoppingCondition": {"MaxRuntimeInSeconds": MAX_RUNTIME_S},
        "Environment": {"MLFLOW_TRACKING_URI": tracking_uri, "MLFLOW_EXPERIMENT_NAME": model_name(settings.model_uri),
                        "ML_IMAGE_URI": image},
        "EnableInterContainerTrafficEncryption": True,
    }


def create_schedule(ctx: AwsContext, settings: Any, execution_role: aws.iam.Role, bucket: aws.s3.Bucket,
                    key: aws.kms.Key, tracking_uri: pulumi.Input[str]) -> aws.scheduler.Schedule | None:
    """The schedule and its role, or None (runtime not sagemaker, or no schedule)."""
    if settings.runtime != "sagemaker" or not settings.retrain_schedule:
        return None
    prefix = job_prefix(ctx)
    trust = service_trust(["scheduler.amazonaws.com"], condition={"StringEquals": {"aws:SourceAccount": ctx.account_id}})
    role = ctx.role("retrain-scheduler", trust, "EventBridge Scheduler: starts the scheduled retraining job")
    jobs = ctx.arn("sagemaker", f"training-job/{prefix}-*")
    ctx.role_policy("retrain-scheduler", role, [
        allow(["sagemaker:CreateTrainingJob", "sagemaker:AddTags"], [jobs]),
        allow(["iam:PassRole"], [execution_role.arn],
              Condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}),
    ])
    request = pulumi.Output.all(execution_role.arn, settings.training_image, tracking_uri, bucket.bucket, key.arn).apply(
        lambda a: json.dumps(training_job_request(prefix, a[0], a[1], a[2], a[3], a[4], settings))
    )
    return aws.scheduler.Schedule(
        f"{ctx.name}-retrain",
        aws.scheduler.ScheduleArgs(
            name=ctx.cloud("aws", "retrain"),
            description="Scheduled retraining pipeline (python -m ml pipeline --trigger schedule)",
            schedule_expression=eventbridge_cron(settings.retrain_schedule),
            schedule_expression_timezone="UTC",
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            state="ENABLED",
            target=aws.scheduler.ScheduleTargetArgs(
                arn=TARGET_ARN,
                role_arn=role.arn,
                input=request,
                # A failed start is not retried: the next scheduled run comes, and a second
                # concurrent job would only race the first for the promotion lock.
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(maximum_retry_attempts=0),
            ),
        ),
        opts=ctx.opts(),
    )
