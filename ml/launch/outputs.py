"""The stack outputs the launchers read: one small typed interface.

Source: ``pulumi stack output --json --stack <name>`` (run for you by ``load_outputs``) or a JSON
file with the same keys (``--outputs-file``). Extra keys are ignored. Keys, and which targets
need them:

=========================  =================  ==================================================
key                        needed by          meaning
=========================  =================  ==================================================
``mlflow_tracking_uri``    local, aws, azure  MLflow tracking URI the job logs to (k8s Service URL,
                                              SageMaker managed MLflow ARN, AML workspace URI)
``training_image_uri``     aws, azure,        container image holding this repository with the
                           local manifest     ``ml`` extra installed (``python -m ml`` works)
``namespace``              local manifest     Kubernetes namespace for the training Job
``training_role_arn``      aws                SageMaker execution role
``artifact_bucket``        aws                S3 bucket name for code, output and checkpoints
``kms_key_arn``            aws                KMS key for the output and the training volume
``aws_region``             aws                region of the SageMaker job
``azure_subscription_id``  azure              subscription of the AML workspace
``azure_resource_group``   azure              resource group of the AML workspace
``azureml_workspace_name`` azure              AML workspace
``azureml_compute_name``   azure              AML compute cluster the command job runs on
=========================  =================  ==================================================

A value Pulumi hides as a secret (``"[secret]"``) counts as missing: none of these should be
secret; the message says so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

__all__ = ["REQUIRED_KEYS", "OutputsError", "StackOutputs", "load_outputs"]


class OutputsError(ValueError):
    """Stack outputs could not be read, or lack what a target needs."""


@dataclass(frozen=True)
class StackOutputs:
    """Stack outputs relevant to training; every field is optional until a target requires it."""

    mlflow_tracking_uri: str | None = None
    training_image_uri: str | None = None
    namespace: str | None = None
    training_role_arn: str | None = None
    artifact_bucket: str | None = None
    kms_key_arn: str | None = None
    aws_region: str | None = None
    azure_subscription_id: str | None = None
    azure_resource_group: str | None = None
    azureml_workspace_name: str | None = None
    azureml_compute_name: str | None = None
    #: aws: comma-separated private subnets / security groups for the job's VpcConfig.
    training_subnet_ids: str | None = None
    training_security_group_ids: str | None = None

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> StackOutputs:
        """Build from a dict of outputs; unknown keys are ignored, values must be strings."""
        if not isinstance(values, dict):
            raise OutputsError(f"stack outputs must be a JSON object, got {type(values).__name__}")
        kwargs: dict[str, str | None] = {}
        for f in fields(cls):
            value = values.get(f.name)
            if value is None or value == "[secret]":
                kwargs[f.name] = None
            elif isinstance(value, (str, int)):
                kwargs[f.name] = str(value)
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                kwargs[f.name] = ",".join(value) or None
            else:
                raise OutputsError(f"stack output {f.name!r} must be a string, got {type(value).__name__}")
        return cls(**kwargs)

    def require(self, *keys: str, purpose: str) -> None:
        """Raise ``OutputsError`` naming every key in ``keys`` that is missing."""
        missing = [k for k in keys if not getattr(self, k)]
        if missing:
            raise OutputsError(
                f"stack outputs lack {', '.join(missing)} (needed for {purpose}); export them from "
                "the stack or add them to the --outputs-file (secret outputs count as missing)"
            )


#: Keys each launcher target needs (the local manifest additionally needs image + namespace).
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "local": ("mlflow_tracking_uri",),
    "local-manifest": ("mlflow_tracking_uri", "training_image_uri", "namespace"),
    "aws": (
        "mlflow_tracking_uri",
        "training_image_uri",
        "training_role_arn",
        "artifact_bucket",
        "kms_key_arn",
        "aws_region",
    ),
    "azure": (
        "mlflow_tracking_uri",
        "training_image_uri",
        "azure_subscription_id",
        "azure_resource_group",
        "azureml_workspace_name",
        "azureml_compute_name",
    ),
}


def _from_pulumi(stack: str, cwd: str | None) -> dict[str, Any]:
    exe = shutil.which("pulumi")
    if exe is None:
        raise OutputsError("the pulumi CLI is not on PATH; pass --outputs-file with the stack outputs as JSON")
    try:
        proc = subprocess.run(
            [exe, "stack", "output", "--json", "--stack", stack],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=cwd,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise OutputsError(f"'pulumi stack output' for stack {stack!r} timed out") from None
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or ["no error output"])[-1]
        raise OutputsError(f"'pulumi stack output --stack {stack}' failed: {detail}")
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise OutputsError(f"'pulumi stack output' did not print JSON: {exc}") from None


def load_outputs(
    *, stack: str | None = None, outputs_file: str | Path | None = None, cwd: str | None = None
) -> StackOutputs:
    """Read outputs from ``outputs_file`` if given, else from ``pulumi stack output`` for ``stack``."""
    if outputs_file is not None:
        path = Path(outputs_file)
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raise OutputsError(f"outputs file not found: {path}") from None
        except json.JSONDecodeError as exc:
            raise OutputsError(f"outputs file {path} is not valid JSON: {exc}") from None
        return StackOutputs.from_mapping(raw)
    if not stack:
        raise OutputsError("name a stack (--stack) or an outputs file (--outputs-file)")
    return StackOutputs.from_mapping(_from_pulumi(stack, cwd))
