"""aws-only stack keys (prefix ``aws``) and how they map onto the components' ``aws`` options.

Three functions, each dispatched from stacks/config.py through a table (no target if/else):
- :func:`component_options`: settings -> each component's ``aws`` options;
- :func:`component_wiring`: outputs of earlier components an aws backend needs (artifact
  bucket, cluster name...) -> more ``aws`` options;
- :func:`exports`: extra stack outputs on aws (``aws_region`` for the ML launcher).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import pulumi
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from .values import split

ROLE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$")
INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")


class AwsSettings(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    aws_region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$")] = "eu-west-1"
    aws_account_id: Annotated[str, Field(pattern=r"^([0-9]{12})?$")] = ""
    aws_deployer_role_arn: str = ""
    aws_public_api_cidrs: str = ""
    aws_api_runner_cidrs: str = ""
    aws_api_runner_security_group_ids: Annotated[str, Field(pattern=r"^(sg-[0-9a-f]{8,17})?(,\s*sg-[0-9a-f]{8,17})*$")] = ""
    aws_spot_instance_types: str = ""
    aws_spot_max_count: Annotated[int, Field(ge=1, le=100)] = 4
    aws_node_disk_size_gib: Annotated[int, Field(ge=20, le=1000)] = 50
    aws_enable_mlflow: bool = True
    aws_mlflow_server_size: Literal["Small", "Medium", "Large"] = "Small"
    aws_sagemaker_instance_type: Annotated[str, Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")] = "ml.m5.large"
    aws_sagemaker_model_data_key: Annotated[str, Field(pattern=r"^[A-Za-z0-9!_.*'()/-]+\.tar\.gz$")] = (
        "models/demand/champion/model.tar.gz"
    )
    aws_sagemaker_data_capture_percent: Annotated[int, Field(ge=0, le=100)] = 0
    aws_sagemaker_invocations_per_instance: Annotated[int, Field(ge=1, le=100000)] = 100
    aws_sagemaker_rollout_instance_count: Annotated[int, Field(ge=0, le=1000)] = 0

    @field_validator("aws_deployer_role_arn")
    @classmethod
    def _role_arn(cls, value: str) -> str:
        if value and not ROLE_ARN.match(value):
            raise ValueError("an IAM role ARN, e.g. arn:aws:iam::111122223333:role/mlops-platform-deployer")
        return value

    @field_validator("aws_public_api_cidrs", "aws_api_runner_cidrs")
    @classmethod
    def _cidrs(cls, value: str) -> str:
        for item in split(value):
            try:
                net = ipaddress.ip_network(item, strict=True)
            except ValueError:
                net = None
            if net is None or net.prefixlen == 0:
                raise ValueError("comma-separated CIDRs such as 203.0.113.0/24 (never 0.0.0.0/0); empty: public endpoint off")
        return value

    @field_validator("aws_spot_instance_types")
    @classmethod
    def _instance_types(cls, value: str) -> str:
        if any(not INSTANCE_TYPE.match(item) for item in split(value)):
            raise ValueError("comma-separated EC2 instance types such as m6i.large,m5.large; empty: no spot group")
        return value

    @model_validator(mode="after")
    def _deployer_required(self) -> "AwsSettings":
        if getattr(self, "target", None) == "aws" and not self.aws_deployer_role_arn:
            from .config import _KeyError  # config imports this module: import late

            raise _KeyError(
                "awsDeployerRoleArn", self.aws_deployer_role_arn,
                "the ARN of the IAM role that runs `pulumi up` (required for target aws: it is "
                "the EKS cluster admin), e.g. arn:aws:iam::111122223333:role/mlops-platform-deployer",
            )
        return self


CONCERNS = ("network", "cluster", "registry", "training", "inference", "monitoring")


def component_options(settings: Any) -> dict[str, dict[str, Any]]:
    """The ``aws`` argument of each component, by concern."""
    s = settings
    common = {"region": s.aws_region, "account_id": s.aws_account_id}
    return {
        "network": {**common, "flow_log_retention_days": s.log_retention_days, "protect_data": s.protect_data},
        "cluster": {
            **common,
            "deployer_role_arn": s.aws_deployer_role_arn,
            "public_access_cidrs": split(s.aws_public_api_cidrs),
            "api_runner_cidrs": split(s.aws_api_runner_cidrs),
            "api_runner_security_group_ids": split(s.aws_api_runner_security_group_ids),
            "spot_instance_types": split(s.aws_spot_instance_types),
            "spot_max_count": s.aws_spot_max_count,
            "node_disk_size_gib": s.aws_node_disk_size_gib,
            "log_retention_days": s.log_retention_days,
        },
        "registry": dict(common),
        "training": {
            **common,
            "enable_mlflow": s.aws_enable_mlflow,
            "mlflow_server_size": s.aws_mlflow_server_size,
            # CI promotes as the deployer role; training jobs never move @champion.
            "promotion_principal_arns": [s.aws_deployer_role_arn] if s.aws_deployer_role_arn else [],
        },
        "inference": {
            **common,
            "instance_type": s.aws_sagemaker_instance_type,
            "model_data_key": s.aws_sagemaker_model_data_key,
            "data_capture_percent": s.aws_sagemaker_data_capture_percent,
            "invocations_per_instance": s.aws_sagemaker_invocations_per_instance,
            "rollout_instance_count": s.aws_sagemaker_rollout_instance_count,
        },
        "monitoring": dict(common),
    }


def component_wiring(concern: str, upstream: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs of earlier components (by role: network, cluster, training) an aws backend needs."""
    if concern == "inference":
        network, cluster, training = upstream["network"], upstream["cluster"], upstream["training"]
        return {
            "cluster_name": cluster.cluster_name,
            "artifact_bucket": training.artifact_bucket,
            "kms_key_arn": training.kms_key_arn,
            "execution_role_arn": training.execution_role,
            "network_id": network.network_id,
            "subnet_ids": network.private_subnet_ids,
        }
    if concern == "monitoring":
        # The Alertmanager's Pod Identity association (servingRuntime kubernetes); the
        # SageMaker endpoint's production variant its alarms watch (servingRuntime sagemaker).
        return {"cluster_name": upstream["cluster"].cluster_name,
                "variant_name": upstream["endpoint"].sagemaker_variant_name}
    return {}


def exports(settings: Any, **upstream: Any) -> dict[str, pulumi.Input[Any]]:
    """Stack outputs only aws has: ``aws_region``, and from the training backend the launcher's
    VpcConfig (``training_subnet_ids``, ``training_security_group_ids``) and the promotion
    role (``promotion_role_arn``)."""
    training = upstream.get("training")
    return {"aws_region": settings.aws_region, **dict(getattr(training, "aws_exports", None) or {})}
