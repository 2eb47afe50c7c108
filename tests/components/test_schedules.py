"""Scheduled retraining on the managed runtimes, as the stacks declare it (Pulumi mocks):
EventBridge Scheduler -> SageMaker CreateTrainingJob (servingRuntime sagemaker) and an Azure ML
Schedule of a command job (servingRuntime azureml).

Oracles: botocore's SageMaker service model (the request's shape, required members, the job
name's pattern and length), the real ``python -m ml`` parser for what the jobs run, the policy
pack, and EventBridge's documented cron rules (six fields, ``?`` in one day field, 1-7 = SUN-SAT).
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex

import botocore.session
import pytest
from botocore.validate import ParamValidator

from components.kubernetes.retrain import eventbridge_cron
from ml.cli import _parser
from policies.runner import evaluate, format_verdicts
from stacks.plan import capture, stack_config
from tests.conftest import of_type

SAGEMAKER = {"servingRuntime": "sagemaker", "trainingSchedule": "0 3 * * 1-5", "trainingDataUri": "s3://b/recent.csv"}
AZUREML = {"trainingSchedule": "30 2 * * *"}
SCHEDULE = "aws:scheduler/schedule:Schedule"
AML_SCHEDULE = "azure-native:machinelearningservices:Schedule"
#: The example execution id in the EventBridge Scheduler user guide ("Adding context attributes").
EXECUTION_ID = "d32c5kddcf5bb8c3"


@pytest.fixture(scope="module")
def sagemaker() -> list[dict]:
    return capture("prod", SAGEMAKER)


@pytest.fixture(scope="module")
def azureml() -> list[dict]:
    return capture("prod-azure", AZUREML)


def _request(resources: list[dict]) -> dict:
    (schedule,) = of_type(resources, SCHEDULE)
    return json.loads(schedule["inputs"]["target"]["input"].replace("<aws.scheduler.execution-id>", EXECUTION_ID))


def test_the_schedule_starts_a_training_job_botocore_accepts(sagemaker):
    (schedule,) = of_type(sagemaker, SCHEDULE)
    inputs = schedule["inputs"]
    assert inputs["target"]["arn"] == "arn:aws:scheduler:::aws-sdk:sagemaker:createTrainingJob"
    assert inputs["scheduleExpression"] == "cron(0 3 ? * 2-6 *)" and inputs["scheduleExpressionTimezone"] == "UTC"
    request = _request(sagemaker)
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("CreateTrainingJob").input_shape
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()
    name_shape = model.shape_for("TrainingJobName")
    assert re.fullmatch(name_shape.metadata["pattern"], request["TrainingJobName"])
    assert len(request["TrainingJobName"]) <= name_shape.metadata["max"]
    # EBS-backed instance: SageMaker accepts VolumeKmsKeyId for it.
    assert request["ResourceConfig"]["InstanceType"] in model.shape_for("TrainingInstanceType").enum


def test_the_job_runs_the_pipeline_the_cli_accepts(sagemaker):
    request = _request(sagemaker)
    spec = request["AlgorithmSpecification"]
    assert spec["ContainerEntrypoint"] == ["python", "-m", "ml"]
    args = _parser().parse_args(spec["ContainerArguments"])
    assert (args.command, args.trigger, args.model_name, args.data_uri) == ("pipeline", "schedule", "demand", "s3://b/recent.csv")
    env = request["Environment"]
    assert env["ML_IMAGE_URI"] == spec["TrainingImage"] and "@sha256:" in spec["TrainingImage"]
    assert env["MLFLOW_TRACKING_URI"].startswith("arn:aws:sagemaker:")


def test_the_scheduler_role_may_only_start_these_jobs_and_pass_the_execution_role(sagemaker):
    roles = {r["name"]: r for r in of_type(sagemaker, "aws:iam/role:Role")}
    trust = json.loads(roles["training-retrain-scheduler-role"]["inputs"]["assumeRolePolicy"])
    assert [s["Principal"]["Service"] for s in trust["Statement"]] in (["scheduler.amazonaws.com"], [["scheduler.amazonaws.com"]])
    policy = next(r for r in of_type(sagemaker, "aws:iam/rolePolicy:RolePolicy") if r["name"] == "training-retrain-scheduler-policy")
    statements = json.loads(policy["inputs"]["policy"])["Statement"]
    actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == ["iam:PassRole", "sagemaker:AddTags", "sagemaker:CreateTrainingJob"]
    request = _request(sagemaker)
    job_arn = f"arn:aws:sagemaker:eu-west-1:111122223333:training-job/{request['TrainingJobName']}"
    create = next(s for s in statements if "sagemaker:CreateTrainingJob" in s["Action"])
    resources = [create["Resource"]] if isinstance(create["Resource"], str) else create["Resource"]
    assert any(fnmatch.fnmatchcase(job_arn, r) for r in resources), (job_arn, resources)
    assert not any(fnmatch.fnmatchcase(job_arn.replace("retrain", "other"), r) for r in resources)
    pass_role = next(s for s in statements if s["Action"] in ("iam:PassRole", ["iam:PassRole"]))
    assert pass_role["Resource"] in (request["RoleArn"], [request["RoleArn"]])
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def test_the_policy_pack_finds_nothing_on_the_scheduled_stacks(sagemaker, azureml):
    for resources, stack, overrides in ((sagemaker, "prod", SAGEMAKER), (azureml, "prod-azure", AZUREML)):
        violations = evaluate(resources, stack_config(stack, overrides))
        assert not violations, format_verdicts(violations)


def test_runtime_kubernetes_schedules_a_cronjob_not_a_managed_schedule():
    resources = capture("prod", {"trainingSchedule": "0 3 * * *"})
    assert not of_type(resources, SCHEDULE)
    assert [r["name"] for r in of_type(resources, "kubernetes:batch/v1:CronJob")] == ["serving-retrain"]


def test_no_schedule_no_managed_schedule():
    assert not of_type(capture("prod", {"servingRuntime": "sagemaker"}), SCHEDULE)
    assert not of_type(capture("prod-azure"), AML_SCHEDULE)


def test_the_azure_ml_schedule_creates_the_pipeline_job_on_the_cluster(azureml):
    (schedule,) = of_type(azureml, AML_SCHEDULE)
    props = schedule["inputs"]["properties"]
    assert props["trigger"] == {"triggerType": "Cron", "expression": "30 2 * * *", "timeZone": "UTC"}
    job = props["action"]["jobDefinition"]
    assert props["action"]["actionType"] == "CreateJob" and job["jobType"] == "Command"
    argv = shlex.split(job["command"])
    assert argv[:3] == ["python", "-m", "ml"]
    args = _parser().parse_args(argv[3:])
    assert (args.command, args.trigger, args.model_name) == ("pipeline", "schedule", "demand")
    # Under mocks a resource's id is its logical name: the job points at these two resources.
    computes = {r["name"]: r for r in of_type(azureml, "azure-native:machinelearningservices:Compute")}
    assert computes[job["computeId"]]["inputs"]["properties"]["computeType"] == "AmlCompute"
    envs = {r["name"]: r for r in of_type(azureml, "azure-native:machinelearningservices:EnvironmentVersion")}
    image = envs[job["environmentId"]]["inputs"]["properties"]["image"]
    assert image == job["environmentVariables"]["ML_IMAGE_URI"] and "training" in image
    assert job["identity"] == {"identityType": "Managed"}
    assert job["environmentVariables"]["MLFLOW_TRACKING_URI"].startswith("azureml://")


@pytest.mark.parametrize(("cron", "eventbridge"), [
    # EventBridge's documented forms (Amazon EventBridge Scheduler User Guide, "cron expressions").
    ("0 10 * * *", "cron(0 10 * * ? *)"),
    ("15 12 * * *", "cron(15 12 * * ? *)"),
    ("0 18 * * 1-5", "cron(0 18 ? * 2-6 *)"),
    ("0 8 1 * *", "cron(0 8 1 * ? *)"),
    ("0/10 * * * 1-5", "cron(0/10 * ? * 2-6 *)"),
    ("0 9 * * 0,6", "cron(0 9 ? * 1,7 *)"),
    ("0 9 * * SUN", "cron(0 9 ? * SUN *)"),
    ("@daily", "cron(0 0 * * ? *)"),
])
def test_cron_becomes_the_eventbridge_form(cron, eventbridge):
    assert eventbridge_cron(cron) == eventbridge


def test_eventbridge_cannot_restrict_both_day_fields():
    with pytest.raises(ValueError, match="both day of month and day of week"):
        eventbridge_cron("0 3 1 * 1")


def test_a_schedule_eventbridge_cannot_express_is_one_line_naming_the_key():
    from stacks.config import ConfigError

    with pytest.raises(ConfigError) as exc:
        capture("prod", {"servingRuntime": "sagemaker", "trainingSchedule": "0 3 1 * 1"})
    message = str(exc.value)
    assert message.startswith("mlops-platform:trainingSchedule:") and "\n" not in message
    assert "EventBridge" in message
