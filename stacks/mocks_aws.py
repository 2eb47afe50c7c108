"""Mocked outputs of AWS resources and invokes (loaded by stacks/mocks.py).

Plausible, deterministic values: account 111122223333 (the AWS documentation account), region
eu-west-1 unless the inputs say otherwise, ARNs built from the resource's name so tests can
assert that a policy names *this* bucket or *this* key rather than ``*``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

ACCOUNT = "111122223333"
REGION = "eu-west-1"
PARTITION = "aws"
ZONE_LETTERS = "abcdef"

Args = pulumi.runtime.MockResourceArgs


def _region(args: Args) -> str:
    return args.inputs.get("region") or REGION


def _arn(service: str, resource: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:{PARTITION}:{service}:{region}:{account}:{resource}"


def _named(args: Args, key: str = "name") -> str:
    """The cloud name the program gave, or what a name_prefix would become, or the logical name."""
    if args.inputs.get(key):
        return str(args.inputs[key])
    if args.inputs.get(f"{key}Prefix"):
        return f"{args.inputs[f'{key}Prefix']}20261124000000000000000001"
    return args.name


def _simple(service: str, kind: str, key: str = "name", regional: bool = True) -> Callable[[Args], dict[str, Any]]:
    def outputs(args: Args) -> dict[str, Any]:
        return {"arn": _arn(service, f"{kind}/{_named(args, key)}", _region(args) if regional else "")}

    return outputs


def _vpc(args: Args) -> dict[str, Any]:
    return {"arn": _arn("ec2", f"vpc/{args.name}", _region(args)), "defaultSecurityGroupId": f"sg-{args.name}",
            "mainRouteTableId": f"rtb-{args.name}", "ownerId": ACCOUNT}


def _role(args: Args) -> dict[str, Any]:
    name = _named(args)
    return {"arn": f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}", "name": name, "uniqueId": f"AROA{args.name.upper()[:16]}"}


def _key(args: Args) -> dict[str, Any]:
    key_id = f"mrk-{args.name}"
    return {"arn": _arn("kms", f"key/{key_id}", _region(args)), "keyId": key_id}


def _log_group(args: Args) -> dict[str, Any]:
    return {"arn": _arn("logs", f"log-group:{_named(args)}", _region(args))}


def _bucket(args: Args) -> dict[str, Any]:
    name = _named(args, "bucket")
    return {
        "arn": f"arn:{PARTITION}:s3:::{name}",
        "bucket": name,
        "bucketDomainName": f"{name}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{name}.s3.{_region(args)}.amazonaws.com",
    }


def _repository(args: Args) -> dict[str, Any]:
    name = _named(args)
    return {
        "arn": _arn("ecr", f"repository/{name}", _region(args)),
        "registryId": ACCOUNT,
        "repositoryUrl": f"{ACCOUNT}.dkr.ecr.{_region(args)}.amazonaws.com/{name}",
    }


def _cluster(args: Args) -> dict[str, Any]:
    name = _named(args)
    oidc = f"https://oidc.eks.{_region(args)}.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"
    vpc = dict(args.inputs.get("vpcConfig") or {})
    vpc.setdefault("clusterSecurityGroupId", f"sg-{args.name}-cluster")
    return {
        "arn": _arn("eks", f"cluster/{name}", _region(args)),
        "endpoint": f"https://0123456789ABCDEF0123456789ABCDEF.gr7.{_region(args)}.eks.amazonaws.com",
        "certificateAuthority": {"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCm1vY2sKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="},
        "identities": [{"oidcs": [{"issuer": oidc}]}],
        "vpcConfig": vpc,
        "status": "ACTIVE",
    }


def _node_group(args: Args) -> dict[str, Any]:
    name = _named(args, "nodeGroupName")
    return {"arn": _arn("eks", f"nodegroup/{args.inputs.get('clusterName')}/{name}/0", _region(args)), "nodeGroupName": name,
            # EKS names the group's Auto Scaling group eks-<group>-<uuid>.
            "resources": [{"autoscalingGroups": [{"name": f"eks-{name}-0123abcd"}]}]}


def _launch_template(args: Args) -> dict[str, Any]:
    return {"arn": _arn("ec2", f"launch-template/lt-{args.name}", _region(args)), "latestVersion": 1}


def _sagemaker(kind: str) -> Callable[[Args], dict[str, Any]]:
    def outputs(args: Args) -> dict[str, Any]:
        name = _named(args)
        return {"arn": _arn("sagemaker", f"{kind}/{name}", _region(args)), "name": name}

    return outputs


def _mlflow(args: Args) -> dict[str, Any]:
    name = args.inputs.get("trackingServerName") or args.name
    return {
        "arn": _arn("sagemaker", f"mlflow-tracking-server/{name}", _region(args)),
        "trackingServerUrl": f"https://t-{name}.{_region(args)}.experiments.sagemaker.aws",
    }


def _model_package_group(args: Args) -> dict[str, Any]:
    name = args.inputs.get("modelPackageGroupName") or args.name
    return {"arn": _arn("sagemaker", f"model-package-group/{name}", _region(args))}


def _topic(args: Args) -> dict[str, Any]:
    return {"arn": _arn("sns", _named(args), _region(args))}


def _alarm(args: Args) -> dict[str, Any]:
    return {"arn": _arn("cloudwatch", f"alarm:{_named(args, 'name')}", _region(args))}


def _dashboard(args: Args) -> dict[str, Any]:
    return {"dashboardArn": f"arn:{PARTITION}:cloudwatch::{ACCOUNT}:dashboard/{args.inputs.get('dashboardName')}"}


RESOURCE_OUTPUTS: dict[str, Callable[[Args], dict[str, Any]]] = {
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/subnet:Subnet": _simple("ec2", "subnet"),
    "aws:ec2/securityGroup:SecurityGroup": _simple("ec2", "security-group"),
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
    "aws:ec2/natGateway:NatGateway": _simple("ec2", "natgateway"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": _simple("ec2", "vpc-endpoint"),
    "aws:iam/role:Role": _role,
    "aws:kms/key:Key": _key,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:ecr/repository:Repository": _repository,
    "aws:eks/cluster:Cluster": _cluster,
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    # An association made long ago: the plan never waits out the propagation window.
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": lambda args: {"associatedAt": "2026-11-24T00:00:00Z"},
    "aws:sagemaker/model:Model": _sagemaker("model"),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": _sagemaker("endpoint-config"),
    "aws:sagemaker/endpoint:Endpoint": _sagemaker("endpoint"),
    "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": _mlflow,
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": _model_package_group,
    "aws:sns/topic:Topic": _topic,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
}


def _caller_identity(args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
    return {
        "accountId": ACCOUNT,
        "arn": f"arn:{PARTITION}:sts::{ACCOUNT}:assumed-role/mlops-platform-deployer/ci",
        "userId": "AROAEXAMPLE:ci",
        "id": ACCOUNT,
    }


def _zones(args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
    region = args.args.get("region") or REGION
    # Returned out of letter order on purpose: the backend must not depend on list position.
    letters = sorted(ZONE_LETTERS, key=lambda c: (ord(c) * 7) % 5)
    return {
        "id": region,
        "names": [f"{region}{c}" for c in letters],
        "zoneIds": [f"euw1-az{ZONE_LETTERS.index(c) + 1}" for c in letters],
        "groupNames": [region] * len(letters),
    }


def _ecr_token(args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
    return {
        "id": REGION,
        "authorizationToken": "QVdTOm1vY2stcGFzc3dvcmQ=",
        "userName": "AWS",
        "password": "mock-password",
        "proxyEndpoint": f"https://{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com",
        "expiresAt": "2026-11-25T00:00:00Z",
    }


CALLS: dict[str, Callable[[pulumi.runtime.MockCallArgs], dict[str, Any]]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getPartition:getPartition": lambda args: {"id": PARTITION, "partition": PARTITION, "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws"},
    "aws:index/getRegion:getRegion": lambda args: {"id": REGION, "name": REGION, "region": REGION, "endpoint": f"ec2.{REGION}.amazonaws.com", "description": "Europe (Ireland)"},
    "aws:index/getAvailabilityZones:getAvailabilityZones": _zones,
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": _ecr_token,
}
