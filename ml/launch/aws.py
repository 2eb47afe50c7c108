"""SageMaker training job through the sagemaker v3 SDK (``sagemaker.train.ModelTrainer``).

The job runs ``python -m ml train ...`` (``SourceCode(command=...)``) in the training image from
the stack outputs, as the stack's execution role, with:

- output to ``s3://<artifact_bucket>/training-output`` encrypted with the stack's KMS key, and
  the same key on the training volume;
- managed spot training and ``MaxWaitTimeInSeconds`` from ``LaunchConfig``;
- checkpoints synced to ``s3://<artifact_bucket>/checkpoints/<job_name>/<launch id>`` (the demand
  model trains in minutes and simply restarts after a spot interruption; the synced directory is
  where longer trainings keep state, ``/opt/ml/checkpoints`` in the container);
- ``MLFLOW_TRACKING_URI`` set to the stack's tracking URI (for SageMaker managed MLflow that is
  the tracking server ARN; the image then needs the ``sagemaker-mlflow`` plugin).

- the instance type checked against botocore's SageMaker service model (``TrainingInstanceType``),
  and ``VolumeKmsKeyId`` left out for instance types with local (NVMe) storage, which SageMaker
  refuses it for (``sagemaker.core.common_utils.instance_supports_kms`` decides; their local
  volumes are encrypted by the instance's hardware);
- ``VpcConfig`` from the stack's ``training_subnet_ids`` / ``training_security_group_ids``
  outputs when the stack exports them (a job outside the VPC is refused by
  ``sagemaker:VpcSubnets`` SCPs);
- ``ML_JOB_KEY`` (one key across spot restarts: the gate then never registers twice) and
  ``ML_IMAGE_URI`` (lineage) in the environment.

- checkpoints: ``python -m ml train`` writes them to ``/opt/ml/checkpoints`` (``ml.checkpoint``:
  it uses that directory when ``TRAINING_JOB_NAME`` is set and the directory exists, i.e. when
  ``CheckpointConfig`` was sent); SageMaker syncs it to the S3 prefix above and restores it on a
  managed-spot restart, and with ``ML_JOB_KEY`` unchanged the restart resumes the fit, or the
  gate of the version it already registered, instead of registering again.

The container contract, as read from the installed SDK (sagemaker-train; not verified on AWS,
nothing can be deployed from here):

- ``ModelTrainer`` with ``SourceCode(command=...)`` replaces the image's ENTRYPOINT: the request
  carries ``ContainerEntrypoint=["/bin/bash"]`` and ``ContainerArguments=["-c", "chmod +x
  /opt/ml/input/data/sm_drivers/sm_train.sh && /opt/ml/input/data/sm_drivers/sm_train.sh"]``
  (``sagemaker.train.constants.DEFAULT_CONTAINER_ENTRYPOINT/ARGUMENTS``). The image needs
  ``/bin/bash`` (Debian bases have it).
- ``sm_train.sh`` (``sagemaker.train.templates.TRAIN_SCRIPT_TEMPLATE``) requires ``python3`` or
  ``python`` *and* ``pip3`` or ``pip`` on ``PATH`` (``check_python``), runs the SDK's
  ``scripts/environment.py`` (stdlib only) with that python, which writes
  ``/opt/ml/input/sm_training.env``, then ``eval``\ s our command from a quoted heredoc
  (tests/ml/test_job_command.py reads it back from the staged script and runs it in the aws
  image's locked environment). Our ``/opt/venv`` (a ``uv venv``) has no pip, so ``pip3`` must
  come from ``BASE_IMAGE`` (the default ``python:3.11-slim`` has ``/usr/local/bin/pip3``).
- The image runs as ``USER 10001``. ``chmod +x`` on the staged driver succeeds only for the
  file's owner or root, and ``sm_training.env`` needs ``/opt/ml/input`` writable by that user.
  SageMaker's documentation does not say which user owns the channel files and ``/opt/ml`` for a
  non-root image user; if they are root's, the job fails before our command runs, with
  "Operation not permitted" in its log. This is the one contract point that cannot be checked
  here; if it fails, build the aws training image with a root ``USER`` (Kubernetes Jobs set their
  own ``runAsUser``) rather than dropping the SDK driver.

The SDK stages its small driver scripts under ``s3://<artifact_bucket>/training-code/``, so the
caller needs write access to the artifact bucket (the bucket's default encryption applies).
Without credentials the SDK wants ``SAGEMAKER_VALIDATE_ROLE=false`` and a region; the region
comes from the stack outputs here.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from ml.launch.config import LaunchConfig
from ml.launch.outputs import REQUIRED_KEYS, StackOutputs

__all__ = ["build_trainer", "submit"]

CHECKPOINT_LOCAL_PATH = "/opt/ml/checkpoints"
CODE_PREFIX = "training-code"
OUTPUT_PREFIX = "training-output"


def _session(outputs: StackOutputs, boto_session: Any | None) -> Any:
    import boto3
    from sagemaker.core.helper.session_helper import Session

    boto_session = boto_session or boto3.Session(region_name=outputs.aws_region)
    return Session(
        boto_session=boto_session,
        default_bucket=outputs.artifact_bucket,
        default_bucket_prefix=CODE_PREFIX,
    )


def check_instance_type(instance_type: str) -> None:
    """``ValueError`` in one line unless botocore's SageMaker model lists ``instance_type``."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    allowed = model.shape_for("TrainingInstanceType").enum
    if instance_type not in allowed:
        import difflib

        near = difflib.get_close_matches(instance_type, allowed, n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise ValueError(f"--instance-type {instance_type!r} is not a SageMaker training instance type{hint}")


def build_trainer(
    outputs: StackOutputs, config: LaunchConfig, *, boto_session: Any | None = None
) -> Any:
    """A configured ``ModelTrainer`` (nothing is submitted)."""
    from sagemaker.core.shapes.shapes import CheckpointConfig, OutputDataConfig, StoppingCondition
    from sagemaker.core.training.configs import Compute, SourceCode
    from sagemaker.train import ModelTrainer

    from sagemaker.core.common_utils import instance_supports_kms
    from sagemaker.core.training.configs import Networking

    outputs.require(*REQUIRED_KEYS["aws"], purpose="a SageMaker training job")
    check_instance_type(config.instance_type)
    subnets = [s for s in (outputs.training_subnet_ids or "").split(",") if s]
    groups = [g for g in (outputs.training_security_group_ids or "").split(",") if g]
    if bool(subnets) != bool(groups):
        raise ValueError("stack outputs training_subnet_ids and training_security_group_ids must be given together")
    networking = Networking(subnets=subnets, security_group_ids=groups) if subnets else None
    bucket = outputs.artifact_bucket
    stopping = StoppingCondition(max_runtime_in_seconds=config.max_run_seconds)
    if config.use_spot:
        stopping = StoppingCondition(
            max_runtime_in_seconds=config.max_run_seconds,
            max_wait_time_in_seconds=config.max_wait_seconds,
        )
    # One checkpoint prefix per launch: a spot restart of this job resumes from it, and a later
    # launch never picks up another job's state. (The SDK names the job only at submission.)
    launch_id = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:8]
    checkpoint = (
        CheckpointConfig(
            s3_uri=f"s3://{bucket}/checkpoints/{config.job_name}/{launch_id}",
            local_path=CHECKPOINT_LOCAL_PATH,
        )
        if config.checkpoint
        else None
    )
    return ModelTrainer(
        sagemaker_session=_session(outputs, boto_session),
        role=outputs.training_role_arn,
        base_job_name=config.job_name,
        training_image=outputs.training_image_uri,
        source_code=SourceCode(command=config.train_command()),
        compute=Compute(
            instance_type=config.instance_type,
            instance_count=config.instance_count,
            volume_size_in_gb=config.volume_size_gb,
            volume_kms_key_id=outputs.kms_key_arn if instance_supports_kms(config.instance_type) else None,
            enable_managed_spot_training=config.use_spot,
        ),
        stopping_condition=stopping,
        output_data_config=OutputDataConfig(
            s3_output_path=f"s3://{bucket}/{OUTPUT_PREFIX}",
            kms_key_id=outputs.kms_key_arn,
            compression_type="GZIP",
        ),
        checkpoint_config=checkpoint,
        networking=networking,
        environment={
            "MLFLOW_TRACKING_URI": outputs.mlflow_tracking_uri,
            "MLFLOW_EXPERIMENT_NAME": config.model_name,
            "ML_JOB_KEY": f"{config.job_name}-{launch_id}",
            "ML_IMAGE_URI": outputs.training_image_uri,
        },
    )


def submit(
    outputs: StackOutputs, config: LaunchConfig, *, boto_session: Any | None = None
) -> str:
    """Create the training job without waiting for it; returns the job name."""
    trainer = build_trainer(outputs, config, boto_session=boto_session)
    trainer.train(wait=False, logs=False)
    return str(trainer._latest_training_job.training_job_name)
