"""ml.launch.sagemaker_model: a real trained model from the MLflow server fixture is packaged as
model.tar.gz, extracted and loaded by the serving app's own adapter as a local path (as at
/opt/ml/model), and published to moto's S3 server on 127.0.0.1 with SSE-KMS and metadata."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from ml.cli import main
from ml.launch import OutputsError, StackOutputs
from ml.launch.sagemaker_model import DRIFT_REFERENCE_ENV, drift_reference_path, package_model, publish_model
from ml.train import REFERENCE_ARTIFACT, train

MODEL_NAME = "demand-sagemaker"
BUCKET = "mlops-artifacts-abc123"
KMS = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"


@pytest.fixture(scope="module")
def trained(mlflow_uri: str):
    result = train("demand", mlflow_uri, MODEL_NAME, rows=2_000, seed=7)
    assert result.promoted
    return result


@pytest.fixture(scope="module")
def tarball(trained, mlflow_uri, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pkg") / "model.tar.gz"
    assert package_model(f"models:/{MODEL_NAME}@champion", out, tracking_uri=mlflow_uri) == out
    return out


@pytest.fixture
def moto_s3(moto_endpoint: str) -> Iterator[str]:
    """moto's server on 127.0.0.1 (tests/ml/conftest.py) with the bucket made."""
    import boto3

    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    yield moto_endpoint


def _outputs(mlflow_uri: str, **drop_or_change) -> dict[str, str]:
    values = {
        "mlflow_tracking_uri": mlflow_uri,
        "artifact_bucket": BUCKET,
        "kms_key_arn": KMS,
        "aws_region": "eu-west-1",
    }
    values.update(drop_or_change)
    return {k: v for k, v in values.items() if v is not None}


def test_tarball_root_is_the_model_directory_plus_drift_reference(tarball):
    with tarfile.open(tarball, "r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
    names = set(members)
    assert {"MLmodel", "model.skops", "requirements.txt", "input_example.json", REFERENCE_ARTIFACT} <= names
    assert not any(n.startswith(("/", "model/", "./")) or ".." in n.split("/") for n in names)
    assert all(m.uid == 0 and m.uname == "" and (m.isfile() or m.isdir()) for m in members.values())
    assert drift_reference_path() == "/opt/ml/model/drift/reference.csv"


def test_extracted_tarball_serves_through_the_serving_adapter(tarball, trained, tmp_path):
    from serving.model import ModelSource, load_model

    model_dir = tmp_path / "opt-ml-model"  # stands in for /opt/ml/model
    with tarfile.open(tarball, "r:gz") as tar:
        tar.extractall(model_dir, filter="data")
    source = ModelSource(str(model_dir))  # SERVING_MODEL_URI=/opt/ml/model, no tracking URI
    assert not source.movable
    ref = source.resolve()
    assert ref.run_id == trained.run_id
    # The endpoint sets SERVING_DRIFT_REFERENCE_PATH=/opt/ml/model/drift/reference.csv.
    model = load_model(ref, max_batch_rows=100, drift_reference_path=str(model_dir / REFERENCE_ARTIFACT))
    row = model.input_example.iloc[:1].to_dict(orient="records")
    prediction = model.predict(model.schema.to_frame(model.schema.validate_rows(row, lax=True)))
    assert prediction.shape == (1,) and pd.notna(prediction[0])
    assert model.drift_reference is not None and model.drift_reference_error is None
    reference = pd.read_csv(model_dir / REFERENCE_ARTIFACT)
    assert model.drift_reference.n_reference == len(reference) > 0


def test_publish_uploads_with_sse_kms_and_metadata(moto_s3, trained, mlflow_uri):
    import boto3

    outputs = StackOutputs.from_mapping(_outputs(mlflow_uri))
    uri = publish_model(outputs, f"models:/{MODEL_NAME}@champion")
    assert uri == f"s3://{BUCKET}/models/demand/champion/model.tar.gz"
    head = boto3.client("s3", region_name="eu-west-1").head_object(
        Bucket=BUCKET, Key="models/demand/champion/model.tar.gz"
    )
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == KMS
    assert head["Metadata"] == {
        "model-uri": f"models:/{MODEL_NAME}@champion",
        "model-name": MODEL_NAME,
        "model-version": trained.version,
        "run-id": trained.run_id,
    }


def test_cli_publishes_with_a_custom_key(moto_s3, trained, mlflow_uri, tmp_path, capsys):
    import boto3

    outputs_file = tmp_path / "prod.json"
    outputs_file.write_text(json.dumps(_outputs(mlflow_uri)))
    key = "models/demand/v1/model.tar.gz"
    code = main(["publish-sagemaker-model", "--outputs-file", str(outputs_file),
                 "--model-uri", f"models:/{MODEL_NAME}/{trained.version}", "--key", key])
    out = capsys.readouterr().out.strip()
    assert code == 0, out
    assert out == (f"published {MODEL_NAME} version {trained.version} (run {trained.run_id}) "
                   f"to s3://{BUCKET}/{key}")
    head = boto3.client("s3", region_name="eu-west-1").head_object(Bucket=BUCKET, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms" and head["Metadata"]["run-id"] == trained.run_id


def test_missing_outputs_and_bad_input_are_one_line_errors(mlflow_uri, tmp_path, capsys):
    with pytest.raises(OutputsError, match="lack kms_key_arn"):
        publish_model(StackOutputs.from_mapping(_outputs(mlflow_uri, kms_key_arn=None)), "models:/x@champion")

    def run(outputs: dict[str, str], *extra: str) -> str:
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps(outputs))
        assert main(["publish-sagemaker-model", "--outputs-file", str(path), *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        return err[-1]

    assert run(_outputs(mlflow_uri, artifact_bucket="[secret]")).startswith(
        "error: stack outputs lack artifact_bucket (needed for publishing the SageMaker model)"
    )
    assert run(_outputs(mlflow_uri), "--key", "/models/model.zip").startswith("error: bad S3 key '/models/model.zip'")
    assert run(_outputs(mlflow_uri), "--model-uri", "models:/no-such-model@champion").startswith("error: ")
    assert run(_outputs("http://127.0.0.1:9")) .startswith("error: cannot reach MLflow tracking server")
    assert main(["publish-sagemaker-model", "--outputs-file", str(tmp_path / "none.json")]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"error: outputs file not found: {tmp_path / 'none.json'}"
    with pytest.raises(SystemExit):
        main(["publish-sagemaker-model", "--model-uri", "models:/demand@champion"])  # no --stack/--outputs-file


def test_env_var_name_matches_the_serving_setting():
    from serving.settings import ServingSettings

    settings = ServingSettings(model_uri="/opt/ml/model", drift_reference_path=drift_reference_path())
    assert DRIFT_REFERENCE_ENV == "SERVING_" + "drift_reference_path".upper()
    assert settings.drift_reference_path == "/opt/ml/model/drift/reference.csv"
