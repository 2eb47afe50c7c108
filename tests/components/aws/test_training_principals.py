"""Issue 12 items 12 and 13 on the training side of the AWS plan:

- the launcher's SageMaker VpcConfig: ``training_subnet_ids`` / ``training_security_group_ids``
  are real stack outputs of ``build_platform`` (read through the stack program under mocks, then
  the launcher's own parser and job builder), naming the private subnets and the jobs' group;
- promotion by its own principal: ``@champion`` moves (SetRegisteredModelAlias,
  DeleteRegisteredModelAlias) are in exactly one policy, the promotion role's, which the
  deployer role (CI) assumes; the training role has none, and cannot assume the promotion role.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import of_type, one
from tests.ml.conftest import moto_endpoint  # noqa: F401  (moto on 127.0.0.1 for the launcher)
from tests.stacks.test_outputs import exported

ALIAS_MOVES = ("sagemaker-mlflow:SetRegisteredModelAlias", "sagemaker-mlflow:DeleteRegisteredModelAlias")


@pytest.fixture(scope="module")
def prod_outputs():
    return exported("prod")


def test_the_launcher_finds_the_training_vpc_config_in_the_stack_outputs(prod_outputs):
    from ml.launch.outputs import StackOutputs

    outputs, records = prod_outputs
    parsed = StackOutputs.from_mapping({k: v for k, v in outputs.items() if isinstance(v, (str, int, list))})
    subnets = parsed.training_subnet_ids.split(",")
    groups = parsed.training_security_group_ids.split(",")
    private = sorted(r["name"] for r in of_type(records, "aws:ec2/subnet:Subnet") if "private" in r["name"])
    # Under the mocks a resource's id is its logical name.
    assert sorted(subnets) == private and len(private) == 3, (subnets, private)
    (sg,) = [r for r in of_type(records, "aws:ec2/securityGroup:SecurityGroup") if r["name"] == "training-jobs-sg"]
    assert groups == [sg["name"]], groups


def test_the_launchers_job_gets_that_vpc_config(prod_outputs, moto_endpoint):  # noqa: F811
    """The SageMaker launcher (ml/launch/aws.py) submits its job from these outputs (to moto on
    127.0.0.1): the request's VpcConfig names the exported subnets and group."""
    import boto3

    from ml.launch import LaunchConfig
    from ml.launch import aws as launcher
    from ml.launch.outputs import StackOutputs

    outputs, _ = prod_outputs
    values = {k: v for k, v in outputs.items() if isinstance(v, (str, int, list))}
    values["training_image_uri"] = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/training:ctx-1"
    parsed = StackOutputs.from_mapping(values)
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket=parsed.artifact_bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    session = boto3.Session(region_name="eu-west-1")
    captured: list[dict] = []
    session.events.register("provide-client-params.sagemaker.CreateTrainingJob",
                            lambda params, **_: captured.append(dict(params)))
    launcher.submit(parsed, LaunchConfig(), boto_session=session)
    (request,) = captured
    assert sorted(request["VpcConfig"]["Subnets"]) == sorted(parsed.training_subnet_ids.split(","))
    assert request["VpcConfig"]["SecurityGroupIds"] == parsed.training_security_group_ids.split(",")
    assert request["RoleArn"] == parsed.training_role_arn


def test_the_jobs_security_group_admits_only_its_own_instances(prod_outputs):
    _, records = prod_outputs
    sg = one(records, "aws:ec2/securityGroup:SecurityGroup", "training-jobs-sg")["inputs"]
    assert [i.get("self") for i in sg["ingress"]] == [True] and not any(i.get("cidrBlocks") for i in sg["ingress"])
    open_egress = [e for e in sg["egress"] if e.get("cidrBlocks")]
    assert [(e["fromPort"], e["toPort"], e["protocol"]) for e in open_egress] == [(443, 443, "tcp")]


def _policies(records):
    return {r["name"]: json.loads(r["inputs"]["policy"]) for r in of_type(records, "aws:iam/rolePolicy:RolePolicy")}


def _grants(doc, action):
    return [s for s in doc["Statement"] if s["Effect"] == "Allow" and action in s["Action"]]


@pytest.mark.parametrize("runtime", ["kubernetes", "sagemaker"])
def test_only_the_promotion_role_moves_champion(capture, runtime):
    records = capture("prod", {"servingRuntime": runtime})
    holders = {name for name, doc in _policies(records).items() for a in ALIAS_MOVES if _grants(doc, a)}
    assert holders == {"training-promotion-policy"}, holders
    execution = _policies(records)["training-execution-policy"]
    assert not any(a.startswith("sagemaker-mlflow:") and "Alias" in a and "Get" not in a
                   for s in execution["Statement"] for a in s["Action"])
    # The training role cannot become the promotion role either.
    assert not any(_grants(execution, a) for a in ("sts:AssumeRole", "iam:PassRole"))


def test_the_promotion_role_is_assumed_by_the_deployer_not_by_training(capture):
    records = capture("prod")
    trust = json.loads(one(records, "aws:iam/role:Role", "training-promotion-role")["inputs"]["assumeRolePolicy"])
    principals = [p for s in trust["Statement"] for p in (s["Principal"]["AWS"] if isinstance(s["Principal"]["AWS"], list)
                                                           else [s["Principal"]["AWS"]])]
    assert principals == ["arn:aws:iam::111122223333:role/mlops-platform-deployer"]
    assert not any("Service" in s["Principal"] for s in trust["Statement"])  # no SageMaker job assumes it
    doc = _policies(records)["training-promotion-policy"]
    assert not any(a.startswith("s3:Put") or a.startswith("s3:Delete") for s in doc["Statement"] for a in s["Action"])


def test_the_promotion_role_arn_is_exported(prod_outputs):
    outputs, records = prod_outputs
    role = one(records, "aws:iam/role:Role", "training-promotion-role")["inputs"]["name"]
    assert outputs["promotion_role_arn"] == f"arn:aws:iam::111122223333:role/{role}"
