"""The command each managed training job declares, run in that target's image environment.

For SageMaker the command is read back from the driver script the SDK stages in S3 (moto):
``sm_train.sh`` carries it in a quoted heredoc and ``eval``s it, so this is the exact text the
container runs. For Azure ML it is the ``CommandJob``'s ``command``. Each runs in a scratch
virtual environment built as ml/Dockerfile builds ``/opt/venv`` (``uv export --frozen`` of the
``ml`` extra plus the target's runtime extra, hashes required) with the image's sources on
``PYTHONPATH``, and the job's own environment variables:

1. against a local MLflow server: the job trains and registers (the job key it declares lands
   on the run);
2. with the job's real tracking URI (SageMaker ARN / ``azureml://``), no network: the job gets
   past argument parsing and MLflow store resolution and fails at its first MLflow request,
   as one line, exit 2;
3. the negative control: the ``ml`` environment without the runtime extra refuses the same URI
   as an unsupported store — what every cloud job did before the extras.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import boto3
import pytest
from mlflow import MlflowClient

from ml.launch import LaunchConfig, StackOutputs
from ml.launch import azure as azure_launch
from tests.images.test_dependency_groups import SOURCES
from tests.images.test_runtime_extras import _environment
from tests.ml.test_launch import _submit_and_capture

ROOT = Path(__file__).resolve().parents[2]
_HEREDOC = re.compile(r"<<'SAGEMAKER_BASE_COMMAND_EOF'\n(?P<cmd>.*?)\nSAGEMAKER_BASE_COMMAND_EOF", re.S)
UNSUPPORTED = "UnsupportedModelRegistryStoreURIException"


@pytest.fixture(scope="module")
def envs(tmp_path_factory):
    """extras -> (python, app dir): built once per module (each build is a full locked install)."""
    built: dict[tuple[str, ...], tuple[Path, Path]] = {}

    def get(extras: tuple[str, ...]) -> tuple[Path, Path]:
        if extras not in built:
            python, work = _environment(tmp_path_factory, extras)
            app = work / "app"
            for rel in SOURCES["ml"]:  # what the Dockerfile COPYs into /app
                src, dst = ROOT / rel, app / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                if src.is_dir():
                    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(src, dst)
            built[extras] = (python, app)
        return built[extras]

    return get


def _run_job(command: str, job_env: dict[str, str], python: Path, app: Path, cwd: Path,
             **overrides: str) -> subprocess.CompletedProcess[str]:
    """``command`` through ``sh -c`` (as the SageMaker driver's eval and Azure ML run it) with the
    image's PATH/PYTHONPATH and the job's environment (plus ``overrides``)."""
    env = {
        "PATH": f"{python.parent}:/usr/bin:/bin", "PYTHONPATH": str(app), "HOME": str(cwd),
        "PYTHONDONTWRITEBYTECODE": "1",
        # No network here: fail fast at the first request instead of retrying for minutes.
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_MAX_ATTEMPTS": "1",
        "AZURE_CLIENT_ID": "00000000-0000-0000-0000-000000000001", "AZURE_TENANT_ID": "00000000-0000-0000-0000-000000000002",
        "AZURE_CLIENT_SECRET": "testing",
        **{k: v for k, v in os.environ.items() if k in ("SSL_CERT_FILE", "TMPDIR")},
        **job_env, **overrides,
    }
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["/bin/sh", "-c", command], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=900, check=False)


def _sagemaker_job(aws_outputs_dict: dict[str, str], config: LaunchConfig) -> tuple[str, dict[str, str]]:
    """(the command in the staged sm_train.sh, the job's Environment) of a submitted job."""
    _, request = _submit_and_capture(aws_outputs_dict, config)
    s3 = boto3.client("s3", region_name=aws_outputs_dict["aws_region"])
    bucket = aws_outputs_dict["artifact_bucket"]
    (key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"] if o["Key"].endswith("/sm_train.sh")]
    script = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    match = _HEREDOC.search(script)
    assert match, script[-2000:]
    return match.group("cmd"), dict(request["Environment"])


def _last_line(proc: subprocess.CompletedProcess[str]) -> str:
    return (proc.stderr.strip().splitlines() or [""])[-1]


@pytest.mark.timeout(3600)  # three locked environments are built; the machine is shared
def test_sagemaker_job_command_runs_in_the_aws_image_environment(moto_endpoint, aws_outputs_dict, envs,
                                                               mlflow_uri, tmp_path):
    config = LaunchConfig(task="iris", model_name="iris-sagemaker-job")
    command, job_env = _sagemaker_job(aws_outputs_dict, config)
    assert command == config.train_command()
    python, app = envs(("ml", "aws-runtime"))

    trained = _run_job(command, job_env, python, app, tmp_path / "ok", MLFLOW_TRACKING_URI=mlflow_uri)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "iris-sagemaker-job version 1" in trained.stdout
    client = MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri)
    (version,) = client.search_model_versions("name = 'iris-sagemaker-job'")
    assert client.get_run(version.run_id).data.tags["ml.job_key"] == job_env["ML_JOB_KEY"]

    # The job's own URI (the SageMaker MLflow ARN) resolves with sagemaker-mlflow; it fails only
    # at the first request (no network), as one line.
    cloud = _run_job(command, job_env, python, app, tmp_path / "cloud")
    assert cloud.returncode == 2, cloud.stderr[-3000:]
    assert _last_line(cloud).startswith("error: ") and UNSUPPORTED not in cloud.stderr
    assert "Traceback" not in cloud.stderr

    # Without the aws-runtime extra the same job cannot even pick an MLflow store.
    bare_python, bare_app = envs(("ml",))
    bare = _run_job(command, job_env, bare_python, bare_app, tmp_path / "bare")
    assert bare.returncode == 2 and ("unsupported" in _last_line(bare).lower() or UNSUPPORTED in bare.stderr), bare.stderr[-3000:]


@pytest.mark.timeout(3600)
def test_azureml_job_command_runs_in_the_azure_image_environment(azure_outputs_dict, envs, mlflow_uri, tmp_path):
    config = LaunchConfig(task="iris", model_name="iris-azureml-job")
    job = azure_launch.build_job(StackOutputs.from_mapping(azure_outputs_dict), config)
    command, job_env = job.command, dict(job.environment_variables)
    assert job_env["MLFLOW_TRACKING_URI"].startswith("azureml://")
    python, app = envs(("ml", "azure-runtime"))

    trained = _run_job(command, job_env, python, app, tmp_path / "ok", MLFLOW_TRACKING_URI=mlflow_uri)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "iris-azureml-job version 1" in trained.stdout

    cloud = _run_job(command, job_env, python, app, tmp_path / "cloud")
    assert cloud.returncode != 0, cloud.stderr[-3000:]
    assert UNSUPPORTED not in cloud.stderr and "No module named" not in cloud.stderr, cloud.stderr[-3000:]

    bare_python, bare_app = envs(("ml",))
    bare = _run_job(command, job_env, bare_python, bare_app, tmp_path / "bare")
    assert bare.returncode == 2 and ("unsupported" in _last_line(bare).lower() or UNSUPPORTED in bare.stderr), bare.stderr[-3000:]
