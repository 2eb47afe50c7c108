"""TrainingPlatform on AWS: the artifact bucket, the SageMaker execution role scoped to it, a
model package group and the SageMaker managed MLflow tracking server (MLflow is the registry).

Every policy names its resources: this bucket, this key, these ECR repositories, these log
groups, this tracking server. The two exceptions are actions AWS authorises on no resource
(``ecr:GetAuthorizationToken``, ``cloudwatch:PutMetricData``), each commented where granted.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from .schedule import create_schedule
from .common import KEY_USE_ACTIONS, AwsContext, allow, policy_document, service_trust

ARTIFACT_PREFIX = "mlflow"
#: Prefixes a training job writes (MLflow artifacts, spot checkpoints, SageMaker's output path;
#: ml/launch/aws.py). The served ``models/`` prefix is not among them: a training job cannot
#: overwrite what serving runs.
TRAINING_WRITE_PREFIXES = (ARTIFACT_PREFIX, "checkpoints", "training-output")
#: The tracking server's MLflow, pinned to the locked client's major.minor (uv.lock's
#: mlflow-skinny of the aws-runtime images; tests/components/aws/test_training_aws.py checks).
MLFLOW_SERVER_VERSION = "3.17"
#: What training code needs from MLflow (sagemaker-mlflow actions; Service Authorization
#: Reference, "Amazon SageMaker with MLflow"). AccessUI is left out: it takes no resource.
MLFLOW_READ_ACTIONS = tuple(
    f"sagemaker-mlflow:{a}"
    for a in (
        "GetExperiment", "GetExperimentByName", "SearchExperiments", "GetRun", "SearchRuns", "GetMetricHistory",
        "ListArtifacts", "GetRegisteredModel", "SearchRegisteredModels", "GetModelVersion", "SearchModelVersions",
        "GetLatestModelVersions", "GetModelVersionByAlias", "GetDownloadURIForModelVersionArtifacts",
    )
)
MLFLOW_WRITE_ACTIONS = MLFLOW_READ_ACTIONS + tuple(
    f"sagemaker-mlflow:{a}"
    for a in (
        "CreateExperiment", "UpdateExperiment", "SetExperimentTag", "CreateRun", "UpdateRun", "LogMetric",
        "LogBatch", "LogModel", "LogInputs", "LogParam", "SetTag", "DeleteTag", "CreateRegisteredModel",
        "UpdateRegisteredModel", "SetRegisteredModelTag", "CreateModelVersion", "UpdateModelVersion",
        "SetModelVersionTag",
        # MLflow 3 LoggedModels: log_model finalizes and tags one, then logs outputs (creation
        # has no action of its own in the Service Authorization Reference; docs/aws.md check).
        "GetLoggedModel", "FinalizeLoggedModel", "SearchLoggedModels",
        "SetLoggedModelTags", "LogLoggedModelParams", "LogOutputs", "ListLoggedModelArtifacts",
    )
)
#: What only the promotion principal may do: move (or drop) ``@champion`` and record the
#: decision. The training role has none of these: a training job cannot take over serving.
MLFLOW_PROMOTION_ACTIONS = tuple(
    f"sagemaker-mlflow:{a}"
    for a in ("SetRegisteredModelAlias", "DeleteRegisteredModelAlias", "SetModelVersionTag",
              # The promotion lock (ml/gate.py PromotionLock) is a registered model created and
              # deleted around the compare-and-set.
              "CreateRegisteredModel", "DeleteRegisteredModel", "SetRegisteredModelTag")
)
#: What the serving pods call to load ``models:/<name>@<alias>`` and its run's drift reference.
MLFLOW_SERVING_ACTIONS = tuple(
    f"sagemaker-mlflow:{a}"
    for a in (
        "GetRegisteredModel", "GetModelVersion", "GetModelVersionByAlias", "GetDownloadURIForModelVersionArtifacts",
        "GetRun", "ListArtifacts", "GetLoggedModel", "ListLoggedModelArtifacts",
    )
)
ECR_PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability")
LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams")
TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"  # fixed by SageMaker
TRAINING_METRICS_NAMESPACE = "/aws/sagemaker/TrainingJobs"


def repository_arns(urls: dict[str, str], partition: str) -> list[str]:
    """``<acct>.dkr.ecr.<region>.amazonaws.com/<name>`` -> ``arn:<p>:ecr:<region>:<acct>:repository/<name>``."""
    arns = []
    for url in (urls or {}).values():
        host, _, repo = url.partition("/")
        account, _, _, region = host.split(".")[:4]
        arns.append(f"arn:{partition}:ecr:{region}:{account}:repository/{repo}")
    return sorted(arns)


def bucket_statements(bucket_arn: pulumi.Input[str], write: bool,
                      write_prefixes: tuple[str, ...] = ("",), read_prefixes: tuple[str, ...] = ("",)) -> list[dict[str, Any]]:
    """List the bucket, read objects under ``read_prefixes`` and, with ``write``, write under
    ``write_prefixes`` only ("" is the whole bucket)."""
    def under(prefixes: tuple[str, ...]) -> pulumi.Output[list[str]]:
        return pulumi.Output.from_input(bucket_arn).apply(
            lambda arn: [f"{arn}/{p}/*" if p else f"{arn}/*" for p in prefixes])

    statements = [
        allow(["s3:ListBucket", "s3:GetBucketLocation"], [bucket_arn]),
        allow(["s3:GetObject", "s3:GetObjectVersion"], [under(read_prefixes)]),
    ]
    if write:
        statements.append(allow(["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], [under(write_prefixes)]))
    return statements


#: ENI management for training jobs in the VPC (SageMaker Developer Guide, "Give SageMaker
#: training jobs access to resources in your Amazon VPC"). Describe* takes no resource.
EC2_DESCRIBE_ACTIONS = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions",
                        "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups")


def vpc_statements(ctx: AwsContext, vpc_id: pulumi.Input[str], subnet_ids: pulumi.Input[list[str]],
                   group_arns: list[pulumi.Input[str]]) -> list[dict[str, Any]]:
    """Create and delete ENIs (and their permission for SageMaker) in this VPC only."""
    subnets = pulumi.Output.all(pulumi.Output.from_input(subnet_ids), ctx.partition, ctx.account_id).apply(
        lambda a: [f"arn:{a[1]}:ec2:{ctx.region}:{a[2]}:subnet/{s}" for s in (a[0] or [])])
    vpc_arn = pulumi.Output.from_input(vpc_id).apply(lambda v: ctx.arn("ec2", f"vpc/{v}"))
    enis = ctx.arn("ec2", "network-interface/*")
    in_vpc = {"ArnEquals": {"ec2:Vpc": vpc_arn}}
    return [
        allow(list(EC2_DESCRIBE_ACTIONS), ["*"]),
        allow(["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"], [subnets, *group_arns, enis], Condition=in_vpc),
        allow(["ec2:CreateNetworkInterfacePermission"], [enis], Condition={
            "StringEquals": {"ec2:AuthorizedService": "sagemaker.amazonaws.com"}, **in_vpc}),
        allow(["ec2:DeleteNetworkInterfacePermission"], [enis], Condition=in_vpc),
    ]


def _training_security_group(ctx: AwsContext, settings: Any) -> aws.ec2.SecurityGroup | None:
    """The training jobs' security group (the launcher's VpcConfig): HTTPS out (S3 gateway and
    interface endpoints, MLflow, ECR), and all traffic between the job's own instances, which
    distributed training needs (SageMaker Developer Guide, "Configure the VPC security group")."""
    if not settings.network_id:
        return None
    sg = aws.ec2.SecurityGroup(
        f"{ctx.name}-jobs-sg",
        aws.ec2.SecurityGroupArgs(
            name=ctx.cloud("aws", "training-jobs"),
            description="SageMaker training jobs: HTTPS out, and traffic between a job's instances",
            vpc_id=settings.network_id,
            ingress=[aws.ec2.SecurityGroupIngressArgs(protocol="-1", from_port=0, to_port=0, self=True,
                                                      description="between the instances of one job")],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=443, to_port=443, cidr_blocks=["0.0.0.0/0"],
                                                description="HTTPS to AWS APIs and MLflow"),
                aws.ec2.SecurityGroupEgressArgs(protocol="-1", from_port=0, to_port=0, self=True,
                                                description="between the instances of one job"),
            ],
            tags=ctx.tagged(f"{ctx.name}-jobs"),
        ),
        opts=ctx.opts(),
    )
    return sg


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    ctx = AwsContext(component, name, settings)
    key = ctx.kms_key("artifacts", "ML artifacts: bucket, training volumes, MLflow")
    bucket = _bucket(ctx, key)
    group = aws.sagemaker.ModelPackageGroup(
        f"{name}-models",
        aws.sagemaker.ModelPackageGroupArgs(
            model_package_group_name=ctx.cloud("sagemaker", "models"),
            model_package_group_description="Models registered from MLflow (champion/challenger)",
            tags=ctx.tagged(),
        ),
        opts=ctx.data_opts(),
    )
    tracking = _mlflow(ctx, bucket, key, group) if ctx.options["enable_mlflow"] else None
    jobs_sg = _training_security_group(ctx, settings)
    role = _execution_role(ctx, settings, bucket, key, tracking, jobs_sg)
    promotion = _promotion_role(ctx, bucket, key, tracking)
    # Extras the stack exports (stacks/config_aws.py exports): the launcher's VpcConfig and the
    # principal that moves @champion. Not facade outputs: only this backend has them.
    component.aws_exports = {
        "training_subnet_ids": pulumi.Output.from_input(settings.private_subnet_ids if jobs_sg else []),
        "training_security_group_ids": [jobs_sg.id] if jobs_sg else [],
        "promotion_role_arn": promotion.arn,
    }
    # servingRuntime sagemaker: the retraining schedule (EventBridge Scheduler -> training job).
    create_schedule(ctx, settings, role, bucket, key, tracking.arn if tracking else "")
    return {
        "tracking_uri": tracking.arn if tracking else "",
        "artifact_store_uri": bucket.bucket.apply(lambda b: f"s3://{b}/{ARTIFACT_PREFIX}"),
        "artifact_bucket": bucket.bucket,
        "execution_role": role.arn,
        "kms_key_arn": key.arn,
        "model_package_group": group.model_package_group_name,
    }


def _bucket(ctx: AwsContext, key: aws.kms.Key) -> aws.s3.Bucket:
    name = ctx.name
    bucket = aws.s3.Bucket(
        f"{name}-artifacts",
        # Salted with the account: bucket names are global across all AWS accounts.
        aws.s3.BucketArgs(bucket=ctx.salted("s3", "artifacts"), force_destroy=not ctx.protect, tags=ctx.tagged()),
        opts=ctx.data_opts(),
    )
    aws.s3.BucketPublicAccessBlock(
        f"{name}-artifacts-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=ctx.opts(),
    )
    aws.s3.BucketOwnershipControls(
        f"{name}-artifacts-ownership",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),  # ACLs off
        opts=ctx.opts(),
    )
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-artifacts-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=key.arn
                ),
                bucket_key_enabled=True,  # one KMS call per object batch, not per object
            )
        ],
        opts=ctx.opts(),
    )
    aws.s3.BucketVersioning(
        f"{name}-artifacts-versioning",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
        opts=ctx.opts(),
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-artifacts-lifecycle",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-noncurrent-versions",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=ctx.options["noncurrent_version_days"]
                ),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=7
                ),
            )
        ],
        opts=ctx.opts(),
    )
    objects = bucket.arn.apply(lambda arn: f"{arn}/*")
    aws.s3.BucketPolicy(
        f"{name}-artifacts-policy",
        bucket=bucket.id,
        policy=policy_document(
            [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket.arn, objects],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
                {
                    "Sid": "DenyOutdatedTls",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket.arn, objects],
                    "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
                },
            ]
        ),
        opts=ctx.opts(),
    )
    return bucket


def _mlflow(
    ctx: AwsContext, bucket: aws.s3.Bucket, key: aws.kms.Key, group: aws.sagemaker.ModelPackageGroup
) -> aws.sagemaker.MlflowTrackingServer:
    """SageMaker managed MLflow: the server's role reads and writes the artifact prefix only."""
    trust = service_trust(["sagemaker.amazonaws.com"], condition={"StringEquals": {"aws:SourceAccount": ctx.account_id}})
    role = ctx.role("mlflow", trust, "SageMaker managed MLflow tracking server")
    # Automatic model registration creates one model package group per registered model
    # (named after it, with a suffix) and copies each MLflow version in: it needs
    # CreateModelPackageGroup, on this account's groups and packages.
    groups = ctx.arn("sagemaker", "model-package-group/*")
    packages = ctx.arn("sagemaker", "model-package/*")
    policy = ctx.role_policy(
        "mlflow",
        role,
        [
            *bucket_statements(bucket.arn, write=True, write_prefixes=(ARTIFACT_PREFIX,), read_prefixes=(ARTIFACT_PREFIX,)),
            allow(list(KEY_USE_ACTIONS), [key.arn]),
            allow(
                ["sagemaker:CreateModelPackageGroup", "sagemaker:DescribeModelPackageGroup",
                 "sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage",
                 "sagemaker:ListModelPackages", "sagemaker:AddTags"],
                [group.arn, groups, packages],
            ),
        ],
    )
    return aws.sagemaker.MlflowTrackingServer(
        f"{ctx.name}-mlflow",
        aws.sagemaker.MlflowTrackingServerArgs(
            tracking_server_name=ctx.cloud("sagemaker", "mlflow"),
            artifact_store_uri=bucket.bucket.apply(lambda b: f"s3://{b}/{ARTIFACT_PREFIX}"),
            role_arn=role.arn,
            tracking_server_size=ctx.options["mlflow_server_size"],
            automatic_model_registration=True,
            mlflow_version=ctx.options["mlflow_server_version"] or MLFLOW_SERVER_VERSION,
            weekly_maintenance_window_start="Sun:03:00",
            tags=ctx.tagged(),
        ),
        # IAM is eventually consistent: the server checks its role's access to the bucket.
        opts=ctx.opts(depends_on=[policy]),
    )


def _promotion_role(ctx: AwsContext, bucket: aws.s3.Bucket, key: aws.kms.Key,
                    tracking: aws.sagemaker.MlflowTrackingServer | None) -> aws.iam.Role:
    """The one principal that moves ``@champion``: assumed by the promotion step (CI, as the
    deployer role or ``aws.promotion_principal_arns``), never by a training job. It reads the
    artifacts to score candidate and champion on the held-out set, and writes nothing to S3."""
    principals = list(ctx.options["promotion_principal_arns"]) or [ctx.account_root]
    trust = policy_document([{"Effect": "Allow", "Principal": {"AWS": principals},
                              "Action": ["sts:AssumeRole", "sts:TagSession"]}])
    role = ctx.role("promotion", trust, "Model promotion: moves @champion in the MLflow registry")
    statements = [
        *bucket_statements(bucket.arn, write=False, read_prefixes=(ARTIFACT_PREFIX,)),
        allow(["kms:Decrypt", "kms:DescribeKey"], [key.arn]),
    ]
    if tracking is not None:
        statements.append(allow([*MLFLOW_READ_ACTIONS, *MLFLOW_PROMOTION_ACTIONS], [tracking.arn]))
    ctx.role_policy("promotion", role, statements)
    return role


def _execution_role(
    ctx: AwsContext, settings: Any, bucket: aws.s3.Bucket, key: aws.kms.Key,
    tracking: aws.sagemaker.MlflowTrackingServer | None, jobs_sg: aws.ec2.SecurityGroup | None = None,
) -> aws.iam.Role:
    trust = service_trust(["sagemaker.amazonaws.com"], condition={"StringEquals": {"aws:SourceAccount": ctx.account_id}})
    role = ctx.role("execution", trust, "SageMaker training jobs and models")
    repos = pulumi.Output.all(pulumi.Output.from_input(settings.repository_urls or {}), ctx.partition).apply(
        lambda a: repository_arns(a[0], a[1])
    )
    group_arn = ctx.arn("logs", f"log-group:{TRAINING_LOG_GROUP}")
    streams = ctx.arn("logs", f"log-group:{TRAINING_LOG_GROUP}:log-stream:*")
    statements = [
        # Reads the whole bucket (data, MLflow artifacts); writes only its own prefixes.
        *bucket_statements(bucket.arn, write=True, write_prefixes=TRAINING_WRITE_PREFIXES),
        # Training volumes and outputs encrypted with the artifact key; grants only for AWS resources.
        allow(list(KEY_USE_ACTIONS), [key.arn]),
        allow(["kms:CreateGrant"], [key.arn], Condition={"Bool": {"kms:GrantIsForAWSResource": "true"}}),
        allow(list(ECR_PULL_ACTIONS), [repos]),
        # No resource-level support: GetAuthorizationToken is account-wide (Service
        # Authorization Reference, Amazon ECR); pulls themselves are limited to the repositories above.
        allow(["ecr:GetAuthorizationToken"], ["*"]),
        allow(list(LOG_ACTIONS), [group_arn, streams]),
        # No resource-level support: PutMetricData takes no resource; pinned to SageMaker's namespace.
        allow(["cloudwatch:PutMetricData"], ["*"],
              Condition={"StringEquals": {"cloudwatch:namespace": TRAINING_METRICS_NAMESPACE}}),
    ]
    if tracking is not None:
        statements.append(allow(list(MLFLOW_WRITE_ACTIONS), [tracking.arn]))
    if jobs_sg is not None:
        # Jobs in the VPC (the launcher's VpcConfig): SageMaker makes their ENIs as this role.
        statements += vpc_statements(ctx, settings.network_id, settings.private_subnet_ids, [jobs_sg.arn])
    ctx.role_policy("execution", role, statements)
    return role
