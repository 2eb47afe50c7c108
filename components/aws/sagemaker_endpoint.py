"""InferenceEndpoint, ``runtime: sagemaker``: Model + EndpointConfiguration + Endpoint +
Application Auto Scaling, for components/aws/inference.py.

Changing the model or the instance type rolls out instead of failing: the Model and the
EndpointConfiguration get generated names, so Pulumi creates the new ones before deleting the
old (its default), and the Endpoint (fixed name) updates in place with SageMaker's blue/green
deployment, rolling back by itself when the 5xx alarm fires during the bake time.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from contract.serving import DEFAULT_PORT as SERVING_PORT
from contract.serving import DRIFT_REFERENCE_PATH_ENV as ENV_DRIFT_REFERENCE_PATH
from contract.serving import MODEL_URI_ENV as ENV_MODEL_URI
from contract.serving import PORT_ENV as ENV_PORT
from contract.serving import SAGEMAKER_INVOCATIONS_PATH, SAGEMAKER_MODEL_DIR
from .common import AwsContext, allow, service_trust
from .training import ECR_PULL_ACTIONS

#: Where SageMaker unpacks ``model.tar.gz`` in the container (the app serves a local path).
MODEL_DIR = SAGEMAKER_MODEL_DIR
SAGEMAKER_NAMESPACE = "AWS/SageMaker"
ROLLBACK_WAIT_SECONDS = 600  # canary bake time watched by the rollback alarm
CANARY_PERCENT = 10
#: ENI management for models in a VPC. Describe* takes no resource (Service Authorization
#: Reference, Amazon EC2): those are granted on "*"; creating/deleting ENIs is limited below.
EC2_DESCRIBE_ACTIONS = ("ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions",
                        "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups")
EC2_ENI_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface")
#: One production variant, always this name: SageMaker's blue/green update needs the variant
#: name to stay the same across endpoint configurations (a new instance type is a new
#: configuration of the same variant), and the autoscaling target is keyed on it.
VARIANT_NAME = "primary"
#: Tag on the scalable target naming the instance type it was registered for.
ROLLOUT_TAG = "mlops-platform/instance-type"


def variant_name(instance_type: str = "") -> str:
    """The production variant's name (fixed; the instance type does not rename it)."""
    return VARIANT_NAME


def invocation_url(region: str, endpoint: str) -> str:
    return f"https://runtime.sagemaker.{region}.amazonaws.com/endpoints/{endpoint}{SAGEMAKER_INVOCATIONS_PATH}"


def build_sagemaker(ctx: AwsContext, settings: Any) -> dict[str, Any]:
    opts = ctx.options
    for key in ("execution_role_arn", "artifact_bucket", "kms_key_arn", "subnet_ids", "network_id"):
        if not opts.get(key):
            ctx.fail(f"aws.{key}", opts.get(key), "the TrainingPlatform/Network output (runtime sagemaker needs it)")
    name = ctx.name
    endpoint_name = ctx.cloud("sagemaker", "endpoint")
    instance_type = opts["instance_type"]
    variant = variant_name(instance_type)
    bucket = pulumi.Output.from_input(opts["artifact_bucket"])

    sg = aws.ec2.SecurityGroup(
        f"{name}-model-sg",
        aws.ec2.SecurityGroupArgs(
            name=ctx.cloud("aws", "model"),
            description="SageMaker model containers: no inbound; HTTPS out to S3/ECR endpoints",
            vpc_id=opts["network_id"],
            ingress=[],
            egress=[aws.ec2.SecurityGroupEgressArgs(protocol="tcp", from_port=443, to_port=443,
                                                    cidr_blocks=["0.0.0.0/0"], description="HTTPS to AWS APIs")],
            tags=ctx.tagged(f"{name}-model"),
        ),
        opts=ctx.opts(),
    )
    role, access = _inference_role(ctx, settings, opts, endpoint_name, sg)
    model = aws.sagemaker.Model(
        f"{name}-model",
        aws.sagemaker.ModelArgs(
            # Its own role, not the training role: a training job cannot take over serving.
            execution_role_arn=role.arn,
            primary_container=aws.sagemaker.ModelPrimaryContainerArgs(
                image=settings.image,
                model_data_url=bucket.apply(lambda b: f"s3://{b}/{opts['model_data_key']}"),
                # Network isolation: the drift reference travels inside model.tar.gz
                # (`python -m ml publish-sagemaker-model`), not from MLflow.
                environment={
                    ENV_MODEL_URI: MODEL_DIR,
                    ENV_PORT: str(SERVING_PORT),
                    ENV_DRIFT_REFERENCE_PATH: f"{MODEL_DIR}/drift/reference.csv",
                },
            ),
            # The container gets no network at all: the model comes in as model.tar.gz.
            enable_network_isolation=True,
            vpc_config=aws.sagemaker.ModelVpcConfigArgs(subnets=opts["subnet_ids"], security_group_ids=[sg.id]),
            tags=ctx.tagged(),
        ),
        # CreateModel checks ModelDataUrl and the image with this role: the policy must exist
        # first (IAM is eventually consistent; docs/aws.md has the sandbox check).
        opts=ctx.opts(depends_on=[access]),
    )
    count = int(opts["rollout_instance_count"]) or settings.min_replicas
    if not settings.min_replicas <= count <= settings.max_replicas:
        ctx.fail("aws.rollout_instance_count", count,
                 f"0 (min_replicas) or a count between min_replicas ({settings.min_replicas}) and max_replicas ({settings.max_replicas})")
    percent = int(opts["data_capture_percent"])
    config = aws.sagemaker.EndpointConfiguration(
        f"{name}-endpoint-config",
        aws.sagemaker.EndpointConfigurationArgs(
            # Generated name: a changed model or instance type makes a new configuration first.
            name_prefix=ctx.cloud("aws_prefix", "endpoint") + "-",
            kms_key_arn=opts["kms_key_arn"],
            production_variants=[
                aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                    variant_name=variant,
                    model_name=model.name,
                    instance_type=instance_type,
                    initial_instance_count=count,
                    initial_variant_weight=1,
                )
            ],
            data_capture_config=aws.sagemaker.EndpointConfigurationDataCaptureConfigArgs(
                enable_capture=True,
                initial_sampling_percentage=percent,
                destination_s3_uri=bucket.apply(lambda b: f"s3://{b}/data-capture/{endpoint_name}"),
                kms_key_id=opts["kms_key_arn"],
                capture_options=[
                    aws.sagemaker.EndpointConfigurationDataCaptureConfigCaptureOptionArgs(capture_mode=mode)
                    for mode in ("Input", "Output")
                ],
            ) if percent > 0 else None,
            tags=ctx.tagged(),
        ),
        opts=ctx.opts(),
    )
    rollback = aws.cloudwatch.MetricAlarm(
        f"{name}-rollback-alarm",
        aws.cloudwatch.MetricAlarmArgs(
            name=ctx.cloud("aws", "endpoint-5xx-rollback"),
            alarm_description="Rolls a SageMaker blue/green deployment back on 5xx errors during the bake time",
            namespace=SAGEMAKER_NAMESPACE,
            metric_name="Invocation5XXErrors",
            dimensions={"EndpointName": endpoint_name, "VariantName": variant},
            statistic="Sum",
            period=60,
            evaluation_periods=2,
            datapoints_to_alarm=1,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            tags=ctx.tagged(),
        ),
        opts=ctx.opts(),
    )
    # Instance-type rollouts. SageMaker refuses an UpdateEndpoint that changes the instance type
    # of a variant registered with Application Auto Scaling (SageMaker Developer Guide, "Update
    # endpoints that use auto scaling": deregister the scalable target and delete its policies
    # first, update, then register again). This parameter records the rolled-out type and is
    # replaced delete-before-replace when it changes; the scalable target and its policy depend
    # on it (their ForceNew resource id) and are replaced with it, so the engine deletes them
    # first (replaced dependents of a delete-before-replace resource go before it), then updates
    # the endpoint (which waits for the parameter), then registers them again once it is InService.
    rollout = aws.ssm.Parameter(
        f"{name}-rollout",
        aws.ssm.ParameterArgs(
            name=f"/mlops/{endpoint_name}/instance-type",
            type="String",
            value=instance_type,
            description="Instance type the endpoint's autoscaling was registered for",
            tags=ctx.tagged(),
        ),
        opts=ctx.opts(replace_on_changes=["value"], delete_before_replace=True),
    )
    endpoint = aws.sagemaker.Endpoint(
        f"{name}-endpoint",
        aws.sagemaker.EndpointArgs(
            name=endpoint_name,
            endpoint_config_name=config.name,
            deployment_config=aws.sagemaker.EndpointDeploymentConfigArgs(
                blue_green_update_policy=aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyArgs(
                    traffic_routing_configuration=aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationArgs(
                        type="CANARY",
                        canary_size=aws.sagemaker.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationCanarySizeArgs(
                            type="CAPACITY_PERCENT", value=CANARY_PERCENT
                        ),
                        wait_interval_in_seconds=ROLLBACK_WAIT_SECONDS,
                    ),
                    termination_wait_in_seconds=300,
                    maximum_execution_timeout_in_seconds=3600,
                ),
                auto_rollback_configuration=aws.sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationArgs(
                    alarms=[aws.sagemaker.EndpointDeploymentConfigAutoRollbackConfigurationAlarmArgs(alarm_name=rollback.name)]
                ),
            ),
            tags=ctx.tagged(),
        ),
        opts=ctx.opts(depends_on=[rollout]),
    )
    _autoscaling(ctx, settings, endpoint, variant, rollout)
    return {
        "url": endpoint.name.apply(lambda n: invocation_url(ctx.region, n)),
        "endpoint_name": endpoint.name,
        "sagemaker_variant_name": config.production_variants.apply(lambda v: v[0].variant_name),
    }


def _repository_arn(image: str, partition: str) -> list[str]:
    """``<acct>.dkr.ecr.<region>.amazonaws.com/<repo>[@sha256:..|:tag]`` -> its repository ARN."""
    host, _, rest = image.partition("/")
    parts = host.split(".")
    if len(parts) < 4 or parts[1:3] != ["dkr", "ecr"] or not rest:
        return []
    repo = rest.split("@", 1)[0].split(":", 1)[0]
    return [f"arn:{partition}:ecr:{parts[3]}:{parts[0]}:repository/{repo}"]


def _inference_role(ctx: AwsContext, settings: Any, opts: Any, endpoint_name: str,
                    sg: aws.ec2.SecurityGroup) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    """The SageMaker Model's own role: pull the serving image, read the one served tarball,
    decrypt it, write its endpoint's logs, and manage ENIs for SageMaker in this VPC only."""
    trust = service_trust(["sagemaker.amazonaws.com"], condition={"StringEquals": {"aws:SourceAccount": ctx.account_id}})
    role = ctx.role("inference", trust, "SageMaker endpoint model (serving only)")
    subnets = pulumi.Output.from_input(opts["subnet_ids"]).apply(lambda ids: list(ids))
    subnet_arns = pulumi.Output.all(subnets, ctx.partition, ctx.account_id).apply(
        lambda a: [f"arn:{a[1]}:ec2:{ctx.region}:{a[2]}:subnet/{s}" for s in a[0]]
    )
    vpc_arn: pulumi.Output[str] = pulumi.Output.from_input(opts["network_id"]).apply(lambda v: ctx.arn("ec2", f"vpc/{v}"))
    enis = ctx.arn("ec2", "network-interface/*")
    key = opts["model_data_key"]
    tarball = pulumi.Output.all(ctx.partition, opts["artifact_bucket"]).apply(lambda a: f"arn:{a[0]}:s3:::{a[1]}/{key}")
    repos = pulumi.Output.all(pulumi.Output.from_input(settings.image), ctx.partition).apply(
        lambda a: _repository_arn(a[0], a[1]))
    group = f"/aws/sagemaker/Endpoints/{endpoint_name}"
    policy = ctx.role_policy("inference", role, [
        allow(list(EC2_DESCRIBE_ACTIONS), ["*"]),
        allow(list(EC2_ENI_ACTIONS), [subnet_arns, sg.arn, enis], Condition={"ArnEquals": {"ec2:Vpc": vpc_arn}}),
        # ENI permissions only for SageMaker, only in this VPC (not on every ENI of the region).
        allow(["ec2:CreateNetworkInterfacePermission"], [enis], Condition={
            "StringEquals": {"ec2:AuthorizedService": "sagemaker.amazonaws.com"},
            "ArnEquals": {"ec2:Vpc": vpc_arn},
        }),
        allow(["ec2:DeleteNetworkInterfacePermission"], [enis], Condition={"ArnEquals": {"ec2:Vpc": vpc_arn}}),
        allow(["s3:GetObject"], [tarball]),
        allow(["kms:Decrypt", "kms:DescribeKey"], [opts["kms_key_arn"]]),
        allow(list(ECR_PULL_ACTIONS), [repos]),
        # No resource-level support (Service Authorization Reference, Amazon ECR).
        allow(["ecr:GetAuthorizationToken"], ["*"]),
        allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
              [ctx.arn("logs", f"log-group:{group}"), ctx.arn("logs", f"log-group:{group}:log-stream:*")]),
    ])
    return role, policy


def _autoscaling(ctx: AwsContext, settings: Any, endpoint: aws.sagemaker.Endpoint, variant: str,
                 rollout: aws.ssm.Parameter) -> None:
    # The resource id (a ForceNew input) also waits for the rollout record: when the record is
    # replaced delete-before-replace, the engine treats it as unknown, finds that the target and
    # its policy must be replaced, and deletes them before the record, i.e. before the endpoint
    # update. (replaceOnChanges alone would not do: the engine's dependent-replacement check asks
    # the provider's diff, which honours ForceNew inputs only.)
    resource_id = pulumi.Output.all(endpoint.name, rollout.value).apply(lambda a: f"endpoint/{a[0]}/variant/{variant}")
    target = aws.appautoscaling.Target(
        f"{ctx.name}-scaling-target",
        aws.appautoscaling.TargetArgs(
            service_namespace="sagemaker",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            resource_id=resource_id,
            min_capacity=settings.min_replicas,
            max_capacity=settings.max_replicas,
            # Which instance type it was registered for (visible in the console).
            tags=rollout.value.apply(lambda t: {**ctx.tagged(), ROLLOUT_TAG: t}),
        ),
        opts=ctx.opts(delete_before_replace=True),
    )
    aws.appautoscaling.Policy(
        f"{ctx.name}-scaling-policy",
        aws.appautoscaling.PolicyArgs(
            name=ctx.cloud("aws", "invocations"),
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            scalable_dimension=target.scalable_dimension,
            resource_id=target.resource_id,
            target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                target_value=ctx.options["invocations_per_instance"],
                predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="SageMakerVariantInvocationsPerInstance"
                ),
                scale_in_cooldown=300,
                scale_out_cooldown=60,
            ),
        ),
        # A fixed name: the old policy must go before its replacement is put.
        opts=ctx.opts(delete_before_replace=True),
    )
