"""What to train and on what resources: one config shared by every launcher target."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

__all__ = ["LaunchConfig"]

_JOB_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")


@dataclass(frozen=True)
class LaunchConfig:
    """Training job settings. Defaults are small and cheap; every field is a CLI flag.

    task, model_name, rows, seed
        Passed to ``python -m ml train`` inside the job (``rows`` None = the task's default).
    job_name
        Prefix of the job name (lower-case letters, digits, ``-``; <= 40 chars, so SageMaker's
        timestamp suffix and Kubernetes' 63-char limit both fit).
    instance_type, instance_count, volume_size_gb
        SageMaker compute (``ml.m5.large`` is the cheapest general-purpose CPU instance that
        trains the demand task in minutes).
    use_spot, max_run_seconds, max_wait_seconds
        Managed spot training (on by default: up to ~70% cheaper; SageMaker resumes from the
        checkpoint after an interruption). ``max_wait_seconds`` includes waiting for capacity and
        must be >= ``max_run_seconds`` when spot is on (a SageMaker rule, enforced here).
    checkpoint
        Sync ``/opt/ml/checkpoints`` to ``s3://<artifact_bucket>/checkpoints/<job_name>/<launch id>``.
    cpu_request, memory_request, cpu_limit, memory_limit
        Kubernetes Job container resources.
    """

    task: str = "demand"
    model_name: str = "demand"
    rows: int | None = None
    seed: int = 0
    job_name: str = "mlops-train"
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    volume_size_gb: int = 30
    use_spot: bool = True
    max_run_seconds: int = 3600
    max_wait_seconds: int = 7200
    checkpoint: bool = True
    cpu_request: str = "500m"
    memory_request: str = "1Gi"
    cpu_limit: str = "2"
    memory_limit: str = "4Gi"

    def __post_init__(self) -> None:
        if not _JOB_NAME.match(self.job_name):
            raise ValueError(
                f"job_name {self.job_name!r} must be 1-40 lower-case letters, digits or '-', "
                "starting and ending with a letter or digit"
            )
        if self.instance_count < 1:
            raise ValueError(f"instance_count must be >= 1, got {self.instance_count}")
        if self.max_run_seconds < 1:
            raise ValueError(f"max_run_seconds must be >= 1, got {self.max_run_seconds}")
        if self.use_spot and self.max_wait_seconds < self.max_run_seconds:
            raise ValueError(
                f"max_wait_seconds ({self.max_wait_seconds}) must be >= max_run_seconds "
                f"({self.max_run_seconds}) when use_spot is on"
            )
        if self.rows is not None and self.rows < 10:
            raise ValueError(f"rows must be >= 10, got {self.rows}")

    def train_argv(self) -> list[str]:
        """The command the job runs (the tracking URI comes from MLFLOW_TRACKING_URI)."""
        argv = ["python", "-m", "ml", "train", "--task", self.task, "--model-name", self.model_name]
        if self.rows is not None:
            argv += ["--rows", str(self.rows)]
        argv += ["--seed", str(self.seed)]
        return argv

    def train_command(self) -> str:
        """``train_argv`` as one shell-quoted string (SageMaker and Azure ML take a string)."""
        return shlex.join(self.train_argv())
