"""The drift job of the managed runtimes: captured requests -> the serving verdict -> a metric.

SageMaker and Azure ML endpoints route only scoring and health, so nothing can read the serving
app's ``/drift/status`` there. Instead, SageMaker *data capture* (``awsDataCapturePercent`` > 0;
components/aws/sagemaker_endpoint.py) writes the requests to
``s3://<artifact bucket>/data-capture/<endpoint>/<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl``,
one JSON object per request, in the documented capture format
(https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture-endpoint.html,
"View captured data")::

    {"captureData": {"endpointInput": {"observedContentType": "application/json", "mode": "INPUT",
                                       "data": "<payload>", "encoding": "BASE64" | "JSON" | "CSV"},
                     "endpointOutput": {...}},
     "eventMetadata": {"eventId": "...", "inferenceTime": "2026-12-01T10:00:00Z"},
     "eventVersion": "0"}

(with no ``CaptureContentTypeHeader``, as the stack sends, SageMaker base64-encodes every
payload: DataCaptureConfig API reference). ``python -m ml drift-job`` reads the captures of the
last ``--window-minutes``, decodes each payload as the serving app's ``/invocations`` does (the
MLflow scoring protocol: ``dataframe_split``, ``dataframe_records``, ``instances``/``inputs``,
or CSV with a header row), runs the same verdict as serving (``ml.drift.DriftReference`` with
``serving.drift.drift_settings()``: the ``SERVING_DRIFT_*`` variables) against the drift
reference kept with the model (``drift/reference.csv`` inside ``model.tar.gz`` or the MLflow
model), and prints a ``contract.serving.DriftStatus`` as JSON.

``--publish cloudwatch`` puts ``serving_drift_p_value`` (the smallest adjusted p-value, what the
SageMaker-runtime drift alarm watches: ``components.aws.monitoring.DRIFT_NAMESPACE``, dimension
``Endpoint``), ``serving_drift_detected`` (0/1) and ``serving_drift_window_rows`` there with one
``PutMetricData`` call. A window with fewer than ``--min-rows`` rows publishes the row count only
(no verdict on too few rows), so the alarm sees no data rather than a false alarm.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DRIFT_NAMESPACE",
    "CaptureError",
    "DriftJobResult",
    "decode_capture_lines",
    "load_reference",
    "publish_cloudwatch",
    "read_captures",
    "run",
]

log = logging.getLogger("ml.drift_job")

#: components.aws.monitoring.DRIFT_NAMESPACE (the alarm's namespace; the job role may put there).
DRIFT_NAMESPACE = "MLOpsPlatform/Serving"
_SCORING_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
#: ml.train.REFERENCE_IN_MODEL (not imported: the job need not load scikit-learn or MLflow).
REFERENCE_IN_MODEL = "drift/reference.csv"


class CaptureError(ValueError):
    """A capture source or reference that cannot be read (one line)."""


@dataclass(frozen=True)
class DriftJobResult:
    status: dict[str, Any]  # contract.serving.DriftStatus.to_dict()
    records: int  # capture records read
    skipped: int  # records whose payload could not be decoded
    metric_data: list[dict[str, Any]]  # what was (or would be) published


def _records(payload: Any) -> list[dict[str, Any]]:
    """Rows of one scoring payload (the shapes serving.protocols accepts)."""
    if isinstance(payload, list):
        return [r for r in payload if isinstance(r, dict)]
    if not isinstance(payload, dict):
        return []
    keys = [k for k in _SCORING_KEYS if k in payload]
    if not keys:
        return [payload]  # one row, as /predict takes
    value = payload[keys[0]]
    if keys[0] == "dataframe_split":
        cols, data = value.get("columns") or [], value.get("data") or []
        return [dict(zip(cols, row)) for row in data]
    if isinstance(value, dict):  # columns {"name": [...]}
        names = list(value)
        return [dict(zip(names, row)) for row in zip(*(value[n] for n in names))]
    return [r for r in value if isinstance(r, dict)] if isinstance(value, list) else []


def _decode(entry: dict[str, Any]) -> list[dict[str, Any]]:
    data, encoding = entry.get("data", ""), str(entry.get("encoding", "")).upper()
    text = base64.b64decode(data).decode("utf-8") if encoding == "BASE64" else data
    kind = str(entry.get("observedContentType", "")).split(";")[0].strip().lower()
    if kind == "text/csv" or encoding == "CSV":
        return list(csv.DictReader(io.StringIO(text)))
    return _records(json.loads(text))


def decode_capture_lines(lines: Iterable[str]) -> tuple[list[dict[str, Any]], int, int]:
    """(input rows, records read, records skipped) from capture JSONL lines."""
    rows: list[dict[str, Any]] = []
    records = skipped = 0
    for line in lines:
        if not line.strip():
            continue
        records += 1
        try:
            entry = json.loads(line)["captureData"]["endpointInput"]
            rows.extend(_decode(entry))
        except (KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
            skipped += 1
            log.warning("skipping a capture record: %s", str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
    return rows, records, skipped


def _hour_prefixes(since: datetime, until: datetime) -> list[str]:
    """``yyyy/mm/dd/hh`` of every hour the window touches (the capture layout)."""
    out, t = [], since.replace(minute=0, second=0, microsecond=0)
    while t <= until:
        out.append(t.strftime("%Y/%m/%d/%H"))
        t += timedelta(hours=1)
    return out


def read_captures(source: str, *, since: datetime, until: datetime, s3_client: Any | None = None) -> Iterator[str]:
    """Capture lines under ``source`` (a local directory or ``s3://bucket/prefix``) whose files
    sit in an hour folder the window touches and whose events fall in ``[since, until]``."""
    def in_window(line: str) -> bool:
        try:
            when = json.loads(line)["eventMetadata"]["inferenceTime"]
            t = datetime.fromisoformat(when.replace("Z", "+00:00"))
        except (KeyError, TypeError, ValueError):
            return True  # undated: decoded (and counted) rather than silently dropped
        return since <= t <= until

    hours = _hour_prefixes(since, until)
    if source.startswith("s3://"):
        bucket, _, prefix = source[5:].partition("/")
        if s3_client is None:
            import boto3

            s3_client = boto3.client("s3")
        pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix.rstrip("/") + "/" if prefix else "")
        for page in pages:
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if key.endswith(".jsonl") and any(f"/{h}/" in key for h in hours):
                    body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
                    yield from (ln for ln in body.splitlines() if ln.strip() and in_window(ln))
        return
    root = Path(source)
    if not root.is_dir():
        raise CaptureError(f"--captures {source}: not a directory or s3:// prefix")
    for path in sorted(root.rglob("*.jsonl")):
        if any(h in path.relative_to(root).as_posix() for h in hours):
            yield from (ln for ln in path.read_text().splitlines() if ln.strip() and in_window(ln))


def load_reference(reference: str, *, s3_client: Any | None = None, tracking_uri: str | None = None) -> Any:
    """The drift reference kept with the model: a CSV path, an ``s3://.../model.tar.gz`` (the
    SageMaker model package; ``drift/reference.csv`` inside), or an MLflow ``models:/`` URI."""
    from ml.drift import DriftReference

    with tempfile.TemporaryDirectory(prefix="drift-ref-") as tmp:
        if reference.startswith("s3://"):
            bucket, _, key = reference[5:].partition("/")
            if s3_client is None:
                import boto3

                s3_client = boto3.client("s3")
            tarball = Path(tmp) / "model.tar.gz"
            s3_client.download_file(bucket, key, str(tarball))
            with tarfile.open(tarball, "r:gz") as tar:
                try:
                    member = tar.getmember(REFERENCE_IN_MODEL)
                except KeyError:
                    raise CaptureError(f"{reference} has no {REFERENCE_IN_MODEL}") from None
                extracted = tar.extractfile(member)
                path = Path(tmp) / "reference.csv"
                path.write_bytes(extracted.read() if extracted else b"")
        elif reference.startswith("models:/"):
            import mlflow

            model_dir = mlflow.artifacts.download_artifacts(
                artifact_uri=reference, dst_path=tmp, tracking_uri=tracking_uri, registry_uri=tracking_uri)
            path = Path(model_dir) / REFERENCE_IN_MODEL
            if not path.is_file():
                raise CaptureError(f"{reference} carries no {REFERENCE_IN_MODEL}")
        else:
            path = Path(reference)
            if not path.is_file():
                raise CaptureError(f"--reference {reference}: no such file")
        return DriftReference.from_csv(str(path))


def _metric(name: str, value: float, endpoint: str, now: datetime, unit: str = "None") -> dict[str, Any]:
    return {"MetricName": name, "Dimensions": [{"Name": "Endpoint", "Value": endpoint}],
            "Timestamp": now, "Value": float(value), "Unit": unit}


def publish_cloudwatch(metric_data: list[dict[str, Any]], *, client: Any | None = None,
                       namespace: str = DRIFT_NAMESPACE) -> None:
    if client is None:
        import boto3

        client = boto3.client("cloudwatch")
    client.put_metric_data(Namespace=namespace, MetricData=metric_data)


def run(captures: str, reference: str, endpoint: str, *, window_minutes: float = 60.0, min_rows: int = 100,
        now: datetime | None = None, publish: str = "none", s3_client: Any | None = None,
        cloudwatch_client: Any | None = None, tracking_uri: str | None = None) -> DriftJobResult:
    """Read, decide, publish (see the module docstring)."""
    from contract.serving import METRICS, DriftStatus
    from serving.drift import drift_settings

    if publish not in ("none", "cloudwatch"):
        raise CaptureError(f"--publish {publish!r}: allowed values are none, cloudwatch")
    if not endpoint:
        raise CaptureError("--endpoint must name the endpoint (the alarm's Endpoint dimension)")
    now = now or datetime.now(timezone.utc)
    since = now - timedelta(minutes=window_minutes)
    ref = load_reference(reference, s3_client=s3_client, tracking_uri=tracking_uri)
    ref = ref.configured(**drift_settings())
    rows, records, skipped = decode_capture_lines(read_captures(captures, since=since, until=now, s3_client=s3_client))
    frame = pd.DataFrame(rows)
    missing = [f for f in ref.feature_names if f not in frame.columns]
    usable = pd.DataFrame() if missing else frame[ref.feature_names].apply(pd.to_numeric, errors="coerce").dropna()
    report = None
    if len(usable) >= min_rows:
        report = ref.compare(usable.to_numpy(np.float64)).to_dict()
    reason = None
    if missing and rows:
        reason = f"captured requests lack feature(s) {', '.join(missing)}"
    elif report is None:
        reason = f"{len(usable)} usable captured rows in the last {window_minutes:g} minutes (< {min_rows})"
    status = DriftStatus(
        enabled=True, drifted=None if report is None else bool(report["drifted"]),
        n_current=0 if report is None else int(report["n_current"]), window_rows=len(usable),
        window_capacity=len(usable), min_rows=min_rows, rows_seen=len(rows),
        drifted_features=[] if report is None else list(report["drifted_features"]),
        features=list(ref.feature_names), checked_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        reason=reason, error=None, report=report,
    ).to_dict()
    data = [_metric(METRICS["drift_window_rows"], len(usable), endpoint, now, "Count")]
    if report is not None:
        p_min = min(f["adjusted_p_value"] for f in report["features"])
        data += [_metric(METRICS["drift_p_value"], p_min, endpoint, now),
                 _metric(METRICS["drift_detected"], 1.0 if report["drifted"] else 0.0, endpoint, now)]
    if publish == "cloudwatch":
        publish_cloudwatch(data, client=cloudwatch_client)
        log.info("published %s to CloudWatch %s (Endpoint=%s)", ", ".join(d["MetricName"] for d in data),
                 DRIFT_NAMESPACE, endpoint)
    return DriftJobResult(status=status, records=records, skipped=skipped, metric_data=data)
