"""The managed runtimes' drift path: SageMaker data-capture files (built in the documented capture
format, https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture-endpoint.html:
one JSON object per request, ``captureData.endpointInput`` with a base64 payload since the stack
sends no CaptureContentTypeHeader, files under ``<endpoint>/<variant>/yyyy/mm/dd/hh/``) in moto's
S3 -> ``python -m ml drift-job`` -> CloudWatch (moto), read back with exactly the namespace,
metric, dimensions, statistic and period of the stack's drift alarm."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import tarfile
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import numpy as np
import pandas as pd
import pytest

from ml import drift_job
from ml.data import load_iris_frame

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
BUCKET, ENDPOINT, VARIANT = "mlops-artifacts-test", "mlops-prod-endpoint", "AllTraffic"


def _capture_line(payload: dict, when: datetime) -> str:
    body = json.dumps(payload).encode()
    return json.dumps({
        "captureData": {
            "endpointInput": {"observedContentType": "application/json", "mode": "INPUT",
                              "data": base64.b64encode(body).decode(), "encoding": "BASE64"},
            "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT",
                               "data": base64.b64encode(b'{"predictions": [0]}').decode(), "encoding": "BASE64"},
        },
        "eventMetadata": {"eventId": str(uuid.uuid4()), "inferenceTime": when.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "eventVersion": "0",
    })


def _requests(frame: pd.DataFrame, rng: np.random.Generator) -> list[dict]:
    """The scoring-protocol shapes /invocations takes, mixed, 1-5 rows each."""
    out, i = [], 0
    while i < len(frame):
        chunk = frame.iloc[i : i + int(rng.integers(1, 6))]
        i += len(chunk)
        kind = i % 3
        if kind == 0:
            out.append({"dataframe_split": {"columns": list(chunk.columns), "data": chunk.to_numpy().tolist()}})
        elif kind == 1:
            out.append({"dataframe_records": chunk.to_dict("records")})
        else:
            out.append({"inputs": {c: chunk[c].tolist() for c in chunk.columns}})
    return out


def _upload_captures(s3, frame: pd.DataFrame, now: datetime, seed: int) -> None:
    rng = np.random.default_rng(seed)
    lines: dict[str, list[str]] = {}
    for req in _requests(frame, rng):
        when = now - timedelta(minutes=float(rng.uniform(1, 55)))
        key = (f"data-capture/{ENDPOINT}/{ENDPOINT}/{VARIANT}/{when:%Y/%m/%d/%H}/"
               f"part-{when.minute // 15}.jsonl")
        lines.setdefault(key, []).append(_capture_line(req, when))
    # Old traffic outside the window must not count.
    old = now - timedelta(hours=5)
    lines[f"data-capture/{ENDPOINT}/{ENDPOINT}/{VARIANT}/{old:%Y/%m/%d/%H}/old.jsonl"] = [
        _capture_line({"dataframe_records": [dict.fromkeys(FEATURES, 99.0)] * 5}, old)]
    for key, body in lines.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body="\n".join(body).encode())


def _model_tarball(reference: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in {"MLmodel": b"flavors: {}\n", "drift/reference.csv": reference.to_csv(index=False).encode()}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _alarm_points(cw, now: datetime) -> tuple[list[float], str, float]:
    """Datapoints read back exactly as the stack's drift alarm queries them, its comparison and threshold."""
    from types import SimpleNamespace

    from components.aws.monitoring import sagemaker_alarms

    settings = SimpleNamespace(latency_p99_seconds=1.0, error_rate=0.05, drift_p_value=0.05)
    (alarm,) = [a for a in sagemaker_alarms(settings, {}, {"Endpoint": ENDPOINT}) if a.role == "drift"]
    (query,) = alarm.queries
    m = query.metric
    got = cw.get_metric_statistics(
        Namespace=m.namespace, MetricName=m.metric_name,
        Dimensions=[{"Name": k, "Value": v} for k, v in m.dimensions.items()],
        StartTime=now - timedelta(seconds=m.period), EndTime=datetime.now(timezone.utc) + timedelta(seconds=60),
        Period=m.period, Statistics=[m.stat],
    )
    assert alarm.evaluation_periods == 1 and m.period >= 3600  # one point per hourly run decides
    return [p[m.stat] for p in got["Datapoints"]], alarm.comparison, alarm.threshold


@pytest.fixture
def aws(moto_endpoint):
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return s3, boto3.client("cloudwatch", region_name="eu-west-1")


@pytest.mark.parametrize("case", ["calm", "shifted"])
def test_drift_job_reads_captures_and_publishes_what_the_alarm_watches(aws, case, tmp_path):
    s3, cw = aws
    iris = load_iris_frame()[FEATURES]
    rng = np.random.default_rng(1)
    reference = iris.sample(n=150, random_state=0)
    s3.put_object(Bucket=BUCKET, Key="models/iris/model.tar.gz", Body=_model_tarball(reference))
    live = iris.sample(n=400, replace=True, random_state=2).reset_index(drop=True)
    live = live + rng.normal(0, 0.01, live.shape)  # resampled iris: the reference's distribution
    if case == "shifted":
        live["petal_length"] += 1.5
    now = datetime.now(timezone.utc).replace(microsecond=0)
    _upload_captures(s3, live, now, seed=3)

    # The job's code in-process (the CLI's own path is the subprocess test below); a window
    # wide enough for a slow machine between upload and run; the 5-hour-old capture stays out.
    result = drift_job.run(f"s3://{BUCKET}/data-capture/{ENDPOINT}/", f"s3://{BUCKET}/models/iris/model.tar.gz",
                           ENDPOINT, window_minutes=180, publish="cloudwatch", s3_client=s3, cloudwatch_client=cw)
    status = {**result.status, "skipped": result.skipped}
    assert status["n_current"] == 400 and status["skipped"] == 0  # the 5 old rows were left out
    assert status["drifted"] is (case == "shifted")
    if case == "shifted":
        assert status["drifted_features"] == ["petal_length"]

    points, comparison, threshold = _alarm_points(cw, now)
    assert len(points) == 1
    assert comparison == "LessThanThreshold"
    fires = points[0] < threshold
    assert fires is (case == "shifted")
    p_min = min(f["adjusted_p_value"] for f in status["report"]["features"])
    assert points[0] == pytest.approx(p_min)


def test_too_few_captured_rows_publish_no_verdict(aws, tmp_path):
    s3, cw = aws
    iris = load_iris_frame()[FEATURES]
    reference = tmp_path / "reference.csv"
    iris.to_csv(reference, index=False)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    _upload_captures(s3, iris.head(30), now, seed=4)
    result = drift_job.run(f"s3://{BUCKET}/data-capture/{ENDPOINT}", str(reference), ENDPOINT, min_rows=100,
                           publish="cloudwatch", now=now, s3_client=s3, cloudwatch_client=cw)
    assert result.status["drifted"] is None and "30 usable captured rows" in result.status["reason"]
    assert [d["MetricName"] for d in result.metric_data] == ["serving_drift_window_rows"]
    points, _, _ = _alarm_points(cw, now)
    assert points == []  # no p-value: the alarm sees missing data, not a false alarm


def test_capture_decoding_covers_csv_json_and_bad_records():
    when = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)
    csv_line = json.dumps({"captureData": {"endpointInput": {
        "observedContentType": "text/csv", "mode": "INPUT", "encoding": "CSV",
        "data": "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n"}},
        "eventMetadata": {"inferenceTime": "2026-12-01T10:00:00Z"}})
    json_line = _capture_line({"instances": [dict(zip(FEATURES, [6.0, 3.0, 4.5, 1.5]))]}, when)
    rows, records, skipped = drift_job.decode_capture_lines([csv_line, json_line, "{not json", ""])
    assert (records, skipped) == (3, 1)
    assert [float(r["petal_length"]) for r in rows] == [1.4, 4.5]


def test_the_reference_lives_where_training_puts_it():
    from ml.train import REFERENCE_IN_MODEL

    assert drift_job.REFERENCE_IN_MODEL == REFERENCE_IN_MODEL


def test_drift_job_cli_bad_input_is_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "ml", "drift-job", "--captures", str(tmp_path / "nope"), "--reference",
         str(tmp_path / "ref.csv"), "--endpoint", ENDPOINT],
        capture_output=True, text=True, timeout=900, cwd=ROOT, check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("error: --reference")
    assert "Traceback" not in proc.stderr
