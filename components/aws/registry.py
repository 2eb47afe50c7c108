"""Registry on AWS: one ECR repository per image, scanned on push, IMMUTABLE tags, encrypted with
a customer key, a lifecycle policy, and a repository policy granting pull to the node role.

The SageMaker execution role pulls through its own identity policy, which names these
repositories (components/aws/training.py): same-account access needs only one of the two, and
the role does not exist yet when the registry is created.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from .common import AwsContext, policy_document

PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")


def lifecycle_policy(untagged_days: int, keep_last: int) -> str:
    """Expire untagged images after ``untagged_days``; keep the newest ``keep_last`` images."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"Expire untagged images after {untagged_days} days",
                    "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": untagged_days},
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"Keep the last {keep_last} images",
                    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep_last},
                    "action": {"type": "expire"},
                },
            ]
        }
    )


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    ctx = AwsContext(component, name, settings)
    key = ctx.kms_key("registry", "ECR images")
    principals = [p for p in [settings.node_identity, *ctx.options["pull_principal_arns"]] if p]
    urls: dict[str, pulumi.Output[str]] = {}
    for image in settings.repositories:
        repo = aws.ecr.Repository(
            f"{name}-{image}",
            aws.ecr.RepositoryArgs(
                name=ctx.cloud("ecr", image),
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                encryption_configurations=[
                    aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=key.arn)
                ],
                # A protected registry keeps its images; dev may delete a repository that has some.
                force_delete=not ctx.protect,
                tags=ctx.tagged(),
            ),
            opts=ctx.data_opts(),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-{image}-lifecycle",
            aws.ecr.LifecyclePolicyArgs(
                repository=repo.name,
                policy=lifecycle_policy(settings.untagged_expiry_days, settings.keep_last_images),
            ),
            opts=ctx.opts(),
        )
        if principals:
            aws.ecr.RepositoryPolicy(
                f"{name}-{image}-policy",
                aws.ecr.RepositoryPolicyArgs(
                    repository=repo.name,
                    policy=policy_document(
                        [
                            {
                                "Sid": "PullByPlatformRoles",
                                "Effect": "Allow",
                                "Principal": {"AWS": principals},
                                "Action": list(PULL_ACTIONS),
                            }
                        ]
                    ),
                ),
                opts=ctx.opts(),
            )
        urls[image] = repo.repository_url
    registry_url = ctx.account_id.apply(lambda account: f"{account}.dkr.ecr.{ctx.region}.amazonaws.com")
    return {
        "registry_url": registry_url,
        "repository_urls": pulumi.Output.all(**urls) if urls else {},
        "registry_id": ctx.account_id,
    }
