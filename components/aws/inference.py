"""InferenceEndpoint on AWS, two runtimes picked from one table:

- ``kubernetes``: the shared serving objects (components/kubernetes/serving.py, unchanged) on EKS,
  HTTPS egress open for S3/STS/MLflow, the ServiceAccount bound through EKS Pod Identity to a
  role that may only read the model artifacts (this bucket, this key) and the MLflow registry;
- ``sagemaker``: components/aws/sagemaker_endpoint.py.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_aws as aws

from ..kubernetes.serving import create_serving
from ..tags import kubernetes_labels
from .common import AwsContext, allow, service_trust
from .sagemaker_endpoint import build_sagemaker
from .training import ARTIFACT_PREFIX, MLFLOW_SERVING_ACTIONS, bucket_statements


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    ctx = AwsContext(component, name, settings)
    return RUNTIMES[settings.runtime](ctx, settings)


def build_kubernetes(ctx: AwsContext, settings: Any) -> dict[str, Any]:
    opts = ctx.options
    for key in ("cluster_name", "artifact_bucket", "kms_key_arn"):
        if not opts.get(key):
            ctx.fail(f"aws.{key}", opts.get(key), "the Cluster/TrainingPlatform output (runtime kubernetes on EKS needs it)")
    role = ctx.role(
        "serving", service_trust(["pods.eks.amazonaws.com"], ("sts:AssumeRole", "sts:TagSession")),
        "Serving pods (EKS Pod Identity): read model artifacts only",
    )
    bucket_arn = pulumi.Output.all(ctx.partition, opts["artifact_bucket"]).apply(lambda a: f"arn:{a[0]}:s3:::{a[1]}")
    statements = [
        # Model versions are MLflow artifacts: the pods read those objects and nothing else.
        *bucket_statements(bucket_arn, write=False, read_prefixes=(ARTIFACT_PREFIX,)),
        allow(["kms:Decrypt", "kms:DescribeKey"], [opts["kms_key_arn"]]),
    ]
    tracking = pulumi.Output.from_input(settings.tracking_uri)
    # The MLflow registry calls model loading makes, when the tracking URI is a SageMaker
    # MLflow ARN (else nothing): read-only, no alias or version changes.
    statements.append(allow(list(MLFLOW_SERVING_ACTIONS), [tracking.apply(lambda t: [t] if t.startswith("arn:") else [])]))
    policy = ctx.role_policy("serving", role, statements)

    # The association first, then the pods: a pod started before it gets no credentials from
    # the Pod Identity agent and never loads a model. create_serving names the ServiceAccount
    # after the endpoint (checked below); the namespace it receives carries the dependency.
    association = aws.eks.PodIdentityAssociation(
        f"{ctx.name}-pod-identity",
        aws.eks.PodIdentityAssociationArgs(
            cluster_name=opts["cluster_name"],
            namespace=settings.namespace,
            service_account=ctx.name,
            role_arn=role.arn,
            tags=ctx.tagged(),
        ),
        opts=ctx.opts(depends_on=[policy]),
    )
    namespace = pulumi.Output.all(settings.namespace, association.id).apply(lambda a: a[0])
    objects = create_serving(ctx.name, ChainMap({"namespace": namespace}, settings), kubernetes_labels(settings.tags),
                             ctx.component, allow_https_egress=True)
    objects.service_account.metadata.apply(lambda m: _same_account(m.name, ctx.name))
    return {
        "url": objects.url,
        "endpoint_name": objects.deployment.metadata.apply(lambda m: m.name),
        "service_account": objects.service_account.metadata.apply(lambda m: m.name),
    }


def _same_account(created: str, associated: str) -> None:
    if created != associated:  # a serving.py naming change, not a user error
        raise pulumi.RunError(f"serving ServiceAccount {created!r} is not the associated {associated!r}")


RUNTIMES: dict[str, Callable[[AwsContext, Any], dict[str, Any]]] = {
    "kubernetes": build_kubernetes,
    "sagemaker": build_sagemaker,
}
