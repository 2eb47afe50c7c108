"""ml.launch: stack outputs, the Kubernetes Job, the SageMaker request (moto on 127.0.0.1) and
the Azure ML job (round-tripped through azure.ai.ml.load_job)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import yaml

from ml.cli import main
from ml.launch import LaunchConfig, LaunchOptions, OutputsError, StackOutputs, launch, load_outputs
from ml.launch import aws as aws_launch
from ml.launch import azure as azure_launch
from ml.launch import local as local_launch

# --- stack outputs -------------------------------------------------------------------------


def test_outputs_file_is_read_and_unknown_keys_ignored(tmp_path, aws_outputs_dict):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**aws_outputs_dict, "kubeconfig": "[secret]", "endpoint_url": "x"}))
    outputs = load_outputs(outputs_file=path)
    assert outputs.training_role_arn == aws_outputs_dict["training_role_arn"]
    assert outputs.azureml_compute_name is None
    outputs.require("kms_key_arn", "artifact_bucket", purpose="test")


def test_missing_and_secret_outputs_are_named(aws_outputs_dict):
    # The stacks export "" for outputs a target does not have; that counts as missing too.
    values = {**aws_outputs_dict, "kms_key_arn": "[secret]", "training_image_uri": ""}
    del values["training_role_arn"]
    with pytest.raises(OutputsError) as err:
        aws_launch.build_trainer(StackOutputs.from_mapping(values), LaunchConfig())
    assert str(err.value).startswith(
        "stack outputs lack training_image_uri, training_role_arn, kms_key_arn "
        "(needed for a SageMaker training job)"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "stack outputs must be a JSON object, got list"),
        ("{not json", "is not valid JSON"),
        ('{"artifact_bucket": {"name": "b"}}', "stack output 'artifact_bucket' must be a string, got dict"),
    ],
)
def test_malformed_outputs_files(tmp_path, content, message):
    path = tmp_path / "outputs.json"
    path.write_text(content)
    with pytest.raises(OutputsError, match=message):
        load_outputs(outputs_file=path)


def _fake_pulumi(tmp_path: Path, script: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "pulumi"
    exe.write_text("#!/bin/sh\n" + script)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    return bindir


def test_outputs_come_from_pulumi_stack_output(tmp_path, monkeypatch, azure_outputs_dict):
    args_file = tmp_path / "args"
    body = json.dumps(azure_outputs_dict)
    _fake_pulumi(tmp_path, f"echo \"$@\" > {args_file}\ncat <<'EOF'\n{body}\nEOF\n", monkeypatch)
    outputs = load_outputs(stack="prod-azure")
    assert args_file.read_text().split() == ["stack", "output", "--json", "--stack", "prod-azure"]
    assert outputs.azureml_workspace_name == "mlops-ws"


def test_pulumi_failure_is_reported_with_its_last_line(tmp_path, monkeypatch):
    _fake_pulumi(tmp_path, "echo 'warning: x' >&2\necho 'error: no stack named nope' >&2\nexit 255\n",
                 monkeypatch)
    with pytest.raises(OutputsError, match="'pulumi stack output --stack nope' failed: error: no stack named nope"):
        load_outputs(stack="nope")


def test_launch_config_enforces_spot_wait_and_names():
    with pytest.raises(ValueError, match=r"max_wait_seconds \(100\) must be >= max_run_seconds \(3600\)"):
        LaunchConfig(max_wait_seconds=100)
    assert LaunchConfig(use_spot=False, max_wait_seconds=100).max_wait_seconds == 100
    with pytest.raises(ValueError, match="job_name 'Train_Job' must be"):
        LaunchConfig(job_name="Train_Job")
    assert LaunchConfig(task="iris", model_name="flowers", rows=100, seed=3).train_command() == (
        "python -m ml train --task iris --model-name flowers --rows 100 --seed 3"
    )


# --- local ---------------------------------------------------------------------------------


def test_kubernetes_job_is_hardened_and_schema_valid(tmp_path):
    outputs = StackOutputs(
        mlflow_tracking_uri="http://mlflow.mlops.svc.cluster.local:5000",
        training_image_uri="registry.local/mlops-train:dev",
        namespace="mlops",
    )
    path = tmp_path / "job.yaml"
    message = launch("local", outputs, LaunchConfig(task="iris", model_name="iris"),
                     LaunchOptions(manifest_path=str(path)))
    assert message == f"wrote Kubernetes Job 'mlops-train' to {path} (kubectl apply -f {path})"
    job = yaml.safe_load(path.read_text())
    assert (job["apiVersion"], job["kind"], job["metadata"]["namespace"]) == ("batch/v1", "Job", "mlops")
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "registry.local/mlops-train:dev"
    assert container["command"] == ["python", "-m", "ml", "train", "--task", "iris", "--model-name", "iris", "--seed", "0"]
    assert {"name": "MLFLOW_TRACKING_URI", "value": outputs.mlflow_tracking_uri} in container["env"]
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] and sc["runAsUser"] > 0
    assert sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"]
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert set(container["resources"]) == {"requests", "limits"}
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp", "/home/train"}
    assert pod["restartPolicy"] == "Never" and pod["automountServiceAccountToken"] is False

    import kubernetes_validate

    kubernetes_validate.validate(job, "1.30", strict=True)


def test_kubernetes_job_needs_image_and_namespace():
    with pytest.raises(OutputsError, match="stack outputs lack training_image_uri, namespace"):
        local_launch.job_manifest(StackOutputs(mlflow_tracking_uri="http://x"), LaunchConfig())


def test_local_launch_trains_in_process(mlflow_uri, tmp_path, capsys):
    outputs_file = tmp_path / "dev.json"
    outputs_file.write_text(json.dumps({"mlflow_tracking_uri": mlflow_uri, "namespace": "mlops"}))
    code = main(["launch", "--target", "local", "--outputs-file", str(outputs_file),
                 "--task", "iris", "--model-name", "iris-local"])
    out = capsys.readouterr().out.strip()
    assert code == 0
    assert out.startswith("trained iris-local version 1 (run ") and "promoted to champion" in out


# --- aws -----------------------------------------------------------------------------------




def _submit_and_capture(outputs_dict: dict[str, str], config: LaunchConfig) -> tuple[str, dict]:
    import boto3

    region = outputs_dict["aws_region"]
    boto3.client("s3", region_name=region).create_bucket(
        Bucket=outputs_dict["artifact_bucket"],
        CreateBucketConfiguration={"LocationConstraint": region},
    )
    session = boto3.Session(region_name=region)
    captured: list[dict] = []
    session.events.register(
        "provide-client-params.sagemaker.CreateTrainingJob",
        lambda params, **_: captured.append(dict(params)),
    )
    name = aws_launch.submit(StackOutputs.from_mapping(outputs_dict), config, boto_session=session)
    assert len(captured) == 1
    return name, captured[0]


def test_sagemaker_request_names_role_image_bucket_key_and_spot(moto_endpoint, aws_outputs_dict):
    import boto3

    name, request = _submit_and_capture(aws_outputs_dict, LaunchConfig(rows=50_000, max_wait_seconds=5_400))
    o = aws_outputs_dict
    assert request["TrainingJobName"] == name and name.startswith("mlops-train-")
    assert request["RoleArn"] == o["training_role_arn"]
    assert request["AlgorithmSpecification"]["TrainingImage"] == o["training_image_uri"]
    assert request["OutputDataConfig"] == {
        "S3OutputPath": f"s3://{o['artifact_bucket']}/training-output",
        "KmsKeyId": o["kms_key_arn"],
        "CompressionType": "GZIP",
    }
    assert request["ResourceConfig"]["VolumeKmsKeyId"] == o["kms_key_arn"]
    assert request["ResourceConfig"]["InstanceType"] == "ml.m5.large"
    assert request["EnableManagedSpotTraining"] is True
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 5400}
    assert request["CheckpointConfig"]["S3Uri"].startswith(f"s3://{o['artifact_bucket']}/checkpoints/mlops-train/")
    assert request["CheckpointConfig"]["LocalPath"] == "/opt/ml/checkpoints"
    assert request["Environment"]["MLFLOW_TRACKING_URI"] == o["mlflow_tracking_uri"]
    (channel,) = request["InputDataConfig"]
    assert channel["DataSource"]["S3DataSource"]["S3Uri"].startswith(f"s3://{o['artifact_bucket']}/training-code/")

    # What the (moto) service stored agrees, and the staged code runs our CLI.
    region = o["aws_region"]
    job = boto3.client("sagemaker", region_name=region).describe_training_job(TrainingJobName=name)
    assert job["RoleArn"] == o["training_role_arn"]
    assert job["EnableManagedSpotTraining"] is True
    assert job["OutputDataConfig"]["KmsKeyId"] == o["kms_key_arn"]
    s3 = boto3.client("s3", region_name=region)
    keys = [obj["Key"] for obj in s3.list_objects_v2(Bucket=o["artifact_bucket"])["Contents"]]
    (source_key,) = [k for k in keys if k.endswith("sourcecode.json")]
    source = json.loads(s3.get_object(Bucket=o["artifact_bucket"], Key=source_key)["Body"].read())
    assert source["command"] == "python -m ml train --task demand --model-name demand --rows 50000 --seed 0"


def test_sagemaker_on_demand_without_checkpoints(moto_endpoint, aws_outputs_dict):
    _, request = _submit_and_capture(aws_outputs_dict, LaunchConfig(use_spot=False, checkpoint=False))
    assert request["EnableManagedSpotTraining"] is False
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert "CheckpointConfig" not in request


def test_aws_launch_through_the_cli(moto_endpoint, aws_outputs_dict, tmp_path, capsys):
    import boto3

    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket=aws_outputs_dict["artifact_bucket"],
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )
    outputs_file = tmp_path / "prod.json"
    outputs_file.write_text(json.dumps(aws_outputs_dict))
    code = main(["launch", "--target", "aws", "--outputs-file", str(outputs_file), "--no-spot"])
    out = capsys.readouterr().out.strip()
    assert code == 0
    assert out.startswith("submitted SageMaker training job mlops-train-") and out.endswith(" in eu-west-1")
    name = out.split()[4]
    job = boto3.client("sagemaker", region_name="eu-west-1").describe_training_job(TrainingJobName=name)
    assert job["EnableManagedSpotTraining"] is False


def test_local_storage_instance_gets_no_volume_kms_key_and_the_vpc_is_the_stacks(moto_endpoint, aws_outputs_dict):
    # ml.g4dn.xlarge has NVMe instance storage: SageMaker refuses VolumeKmsKeyId there
    # (oracle: the sagemaker SDK's instance_supports_kms, not a list of ours).
    from sagemaker.core.common_utils import instance_supports_kms

    assert not instance_supports_kms("ml.g4dn.xlarge")
    outputs = {**aws_outputs_dict, "training_subnet_ids": ["subnet-a", "subnet-b"],
               "training_security_group_ids": "sg-1"}
    _, request = _submit_and_capture(outputs, LaunchConfig(instance_type="ml.g4dn.xlarge"))
    assert "VolumeKmsKeyId" not in request["ResourceConfig"]
    assert request["OutputDataConfig"]["KmsKeyId"] == aws_outputs_dict["kms_key_arn"]
    assert request["VpcConfig"] == {"Subnets": ["subnet-a", "subnet-b"], "SecurityGroupIds": ["sg-1"]}
    assert request["Environment"]["ML_JOB_KEY"].startswith("mlops-train-")
    assert request["Environment"]["ML_IMAGE_URI"] == aws_outputs_dict["training_image_uri"]


def test_misspelt_instance_type_is_one_line_before_any_aws_call(tmp_path, aws_outputs_dict, capsys):
    import botocore.session

    allowed = botocore.session.get_session().get_service_model("sagemaker").shape_for("TrainingInstanceType").enum
    assert "ml.m5.large" in allowed and "ml.m5.lage" not in allowed
    outputs_file = tmp_path / "prod.json"
    outputs_file.write_text(json.dumps(aws_outputs_dict))
    code = main(["launch", "--target", "aws", "--outputs-file", str(outputs_file), "--instance-type", "ml.m5.lage"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: --instance-type 'ml.m5.lage' is not a SageMaker training instance type; did you mean ml.m5.large")


def test_an_aws_error_during_launch_is_one_line_exit_2(moto_endpoint, aws_outputs_dict, tmp_path, capsys):
    # No artifact bucket in the (moto) account: the SDK's upload fails with a ClientError.
    outputs_file = tmp_path / "prod.json"
    outputs_file.write_text(json.dumps(aws_outputs_dict))
    code = main(["launch", "--target", "aws", "--outputs-file", str(outputs_file)])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith("error: aws launch failed: ") and "Traceback" not in captured.err


# --- azure ---------------------------------------------------------------------------------


def test_azure_job_round_trips_through_load_job(tmp_path, azure_outputs_dict):
    from azure.ai.ml import load_job

    outputs = StackOutputs.from_mapping(azure_outputs_dict)
    config = LaunchConfig(task="demand", model_name="demand", rows=200_000, seed=4, max_run_seconds=1800)
    path = azure_launch.dump_job(azure_launch.build_job(outputs, config), tmp_path / "job.yaml")
    raw = yaml.safe_load(path.read_text())
    assert raw["type"] == "command"
    loaded = load_job(path)
    assert loaded.command == "python -m ml train --task demand --model-name demand --rows 200000 --seed 4"
    assert loaded.compute == "cpu-cluster"
    assert loaded.environment.image == "mlopsacr.azurecr.io/mlops-train:1.0.0"
    assert loaded.environment_variables["MLFLOW_TRACKING_URI"] == azure_outputs_dict["mlflow_tracking_uri"]
    assert loaded.experiment_name == "demand"
    assert loaded.limits.timeout == 1800
    assert loaded.tags["task"] == "demand"


def test_azure_dry_run_through_the_cli_writes_the_job(tmp_path, azure_outputs_dict, capsys):
    from azure.ai.ml import load_job

    outputs_file = tmp_path / "azure.json"
    outputs_file.write_text(json.dumps(azure_outputs_dict))
    job_file = tmp_path / "out" / "job.yaml"
    code = main(["launch", "--target", "azure", "--outputs-file", str(outputs_file), "--task", "iris",
                 "--job-file", str(job_file), "--dry-run"])
    assert code == 0
    assert capsys.readouterr().out.strip() == f"wrote {job_file}; dry run: Azure ML job not submitted"
    assert load_job(job_file).command.startswith("python -m ml train --task iris --model-name iris")


def test_azure_needs_workspace_outputs(azure_outputs_dict):
    values = dict(azure_outputs_dict)
    del values["azureml_compute_name"], values["azure_resource_group"]
    with pytest.raises(OutputsError, match="lack azure_resource_group, azureml_compute_name"):
        azure_launch.build_job(StackOutputs.from_mapping(values), LaunchConfig())


def test_cli_launch_errors_are_one_line(tmp_path, capsys):
    assert main(["launch", "--target", "aws", "--outputs-file", str(tmp_path / "none.json")]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"error: outputs file not found: {tmp_path / 'none.json'}"
    with pytest.raises(SystemExit):
        main(["launch", "--target", "gcp", "--stack", "dev"])
