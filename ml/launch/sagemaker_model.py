"""``model.tar.gz`` for the SageMaker serving runtime: package an MLflow model and publish it.

With ``servingRuntime: sagemaker`` the stack declares a SageMaker Model with network isolation
whose ``model_data_url`` is ``s3://<artifact_bucket>/<awsSagemakerModelDataKey>`` (default
``models/demand/champion/model.tar.gz``) and whose container has ``SERVING_MODEL_URI=/opt/ml/model``.
SageMaker extracts the tarball into ``/opt/ml/model`` and the container cannot reach MLflow, so
the tarball carries everything the serving app needs:

- its root *is* the MLflow model directory (``MLmodel``, ``model.skops``, ``input_example.json``,
  ``requirements.txt``, ...), which the app loads as a local path;
- ``drift/reference.csv``: the training run's drift reference (``ml.train.REFERENCE_ARTIFACT``).
  For a local model path the serving app does not look there by itself (it would ask MLflow for
  the run's artifact), so the container must set
  ``SERVING_DRIFT_REFERENCE_PATH=/opt/ml/model/drift/reference.csv`` (``DRIFT_REFERENCE_ENV`` /
  ``drift_reference_path()``).

``publish_model`` uploads it to the artifact bucket encrypted with the stack's KMS key and
records the registered model name, version and run id as object metadata.
"""

from __future__ import annotations

import logging
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml.launch.outputs import StackOutputs
from ml.train import REFERENCE_ARTIFACT

__all__ = [
    "DEFAULT_KEY",
    "DRIFT_REFERENCE_ENV",
    "MODEL_DIR",
    "PackagedModel",
    "drift_reference_path",
    "package_model",
    "publish_model",
]

log = logging.getLogger("ml.launch.sagemaker_model")

#: Where SageMaker extracts model.tar.gz (components/aws/sagemaker_endpoint.MODEL_DIR).
MODEL_DIR = "/opt/ml/model"
#: Default ``awsSagemakerModelDataKey`` of the stack.
DEFAULT_KEY = "models/demand/champion/model.tar.gz"
#: The serving setting the SageMaker container must set to find the packaged drift reference.
DRIFT_REFERENCE_ENV = "SERVING_DRIFT_REFERENCE_PATH"
#: Same pattern the stack config accepts for awsSagemakerModelDataKey.
_KEY = re.compile(r"^[A-Za-z0-9!_.*'()/-]+\.tar\.gz$")
_ALIAS_URI = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[^/@]+)/?$")
_VERSION_URI = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)/?$")


def drift_reference_path(model_dir: str = MODEL_DIR) -> str:
    """Value of ``SERVING_DRIFT_REFERENCE_PATH`` for a tarball extracted at ``model_dir``."""
    return f"{model_dir.rstrip('/')}/{REFERENCE_ARTIFACT}"


@dataclass(frozen=True)
class PackagedModel:
    """What went into a tarball: the exact registered version (None for non-registry URIs)."""

    path: Path
    model_uri: str
    name: str | None
    version: str | None
    run_id: str | None

    def metadata(self) -> dict[str, str]:
        """S3 object metadata (ASCII strings; empty values left out)."""
        values = {
            "model-uri": self.model_uri,
            "model-name": self.name,
            "model-version": self.version,
            "run-id": self.run_id,
        }
        return {k: v for k, v in values.items() if v}


def _resolve(model_uri: str, tracking_uri: str | None) -> tuple[str, str | None, str | None, str | None]:
    """(exact download URI, name, version, run id); an alias is pinned to its version now."""
    from contract.mlflow_clients import client as mlflow_client

    alias = _ALIAS_URI.match(model_uri)
    pinned = _VERSION_URI.match(model_uri)
    if not (alias or pinned):
        return model_uri, None, None, None
    client = mlflow_client(tracking_uri)
    if alias:
        mv = client.get_model_version_by_alias(alias.group("name"), alias.group("alias"))
    else:
        mv = client.get_model_version(pinned.group("name"), pinned.group("version"))
    name, version = mv.name, str(mv.version)
    # The version's own storage location, not ``models:/``: MLflow's models:/ artifact repository
    # reads the process-global registry URI and ignores the one passed to download_artifacts.
    source = client.get_model_version_download_uri(name, version)
    return source, name, version, mv.run_id or None


def _reset(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Reproducible, owner-free entries (the container user owns nothing in the tarball)."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    info.mode = 0o755 if info.isdir() else 0o644
    return info


def _write_tarball(root: Path, out_path: Path) -> None:
    """gzip tar of everything under ``root`` with ``root`` itself as the archive root."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".partial")
    with tarfile.open(tmp, "w:gz") as tar:
        for path in sorted(root.rglob("*")):
            if path.is_symlink():
                raise ValueError(f"model directory contains a symlink: {path.relative_to(root)}")
            tar.add(path, arcname=path.relative_to(root).as_posix(), recursive=False, filter=_reset)
    tmp.replace(out_path)


def package_model(model_uri: str, out_path: str | Path, *, tracking_uri: str | None = None) -> Path:
    """Download ``model_uri`` and write ``out_path`` (gzip tar, root = MLflow model directory,
    plus the run's ``drift/reference.csv``). Returns ``out_path``; see the module doc."""
    return _package(model_uri, Path(out_path), tracking_uri=tracking_uri).path


def _package(model_uri: str, out_path: Path, *, tracking_uri: str | None) -> PackagedModel:
    import mlflow

    if not model_uri:
        raise ValueError("model_uri must not be empty")
    exact, name, version, run_id = _resolve(model_uri, tracking_uri)
    with tempfile.TemporaryDirectory(prefix="sagemaker-model-") as tmp:
        root = Path(tmp) / "model"
        log.info("downloading %s (%s)", model_uri, exact)
        local = Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=exact, dst_path=str(root), tracking_uri=tracking_uri, registry_uri=tracking_uri
            )
        )
        if local != root:  # the repository may return a subdirectory of dst_path
            shutil.copytree(local, Path(tmp) / "flat")
            root = Path(tmp) / "flat"
        if not (root / "MLmodel").is_file():
            raise ValueError(f"{model_uri} is not an MLflow model directory (no MLmodel file)")
        import yaml

        mlmodel = yaml.safe_load((root / "MLmodel").read_text()) or {}
        if run_id is None:
            run_id = mlmodel.get("run_id") or None
        elif not mlmodel.get("run_id"):
            # A model logged as run artifacts has no run_id in MLmodel: record the source run so
            # the served model names it, as on the other runtimes.
            mlmodel["run_id"] = run_id
            (root / "MLmodel").write_text(yaml.safe_dump(mlmodel, sort_keys=False))
        if name and version and not (root / "registered_model_meta").exists():
            # What MLflow writes beside MLmodel when it downloads a registered version: serving
            # labels the model by it, so every runtime names the same model alike.
            (root / "registered_model_meta").write_text(
                yaml.safe_dump({"model_name": name, "model_version": version}))
        if run_id is None:
            raise ValueError(f"{model_uri} has no source run, so no drift reference to package")
        target = root / REFERENCE_ARTIFACT
        if target.exists():
            # ml.train keeps the drift reference inside the model: it ships as it is.
            log.info("the model carries its own drift reference (%s)", REFERENCE_ARTIFACT)
        else:
            log.info("downloading the drift reference of run %s", run_id)
            reference = Path(
                mlflow.artifacts.download_artifacts(
                    run_id=run_id, artifact_path=REFERENCE_ARTIFACT, dst_path=str(Path(tmp) / "reference"),
                    tracking_uri=tracking_uri,
                )
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(reference, target)
        _write_tarball(root, out_path)
    size = out_path.stat().st_size
    log.info("wrote %s (%.1f KiB)", out_path, size / 1024)
    return PackagedModel(out_path, model_uri, name, version, run_id)


def publish_model(
    outputs: StackOutputs,
    model_uri: str,
    *,
    key: str = DEFAULT_KEY,
    s3_client: Any | None = None,
    tracking_uri: str | None = None,
) -> str:
    """Package ``model_uri`` and upload it to ``s3://{artifact_bucket}/{key}`` with SSE-KMS under
    the stack's ``kms_key_arn``; returns that S3 URI. ``tracking_uri`` defaults to the stack's
    ``mlflow_tracking_uri``. ``key`` must equal the stack's ``awsSagemakerModelDataKey``."""
    return _publish(outputs, model_uri, key=key, s3_client=s3_client, tracking_uri=tracking_uri)[0]


def _publish(
    outputs: StackOutputs,
    model_uri: str,
    *,
    key: str,
    s3_client: Any | None,
    tracking_uri: str | None,
) -> tuple[str, PackagedModel]:
    outputs.require("artifact_bucket", "kms_key_arn", purpose="publishing the SageMaker model")
    if not _KEY.match(key or "") or key.startswith("/") or "//" in key:
        raise ValueError(f"bad S3 key {key!r}: expected a relative path ending in .tar.gz, like {DEFAULT_KEY}")
    tracking_uri = tracking_uri or outputs.mlflow_tracking_uri
    bucket = outputs.artifact_bucket
    with tempfile.TemporaryDirectory(prefix="sagemaker-publish-") as tmp:
        packaged = _package(model_uri, Path(tmp) / "model.tar.gz", tracking_uri=tracking_uri)
        if s3_client is None:
            import boto3

            s3_client = boto3.client("s3", region_name=outputs.aws_region)
        log.info("uploading to s3://%s/%s (SSE-KMS)", bucket, key)
        s3_client.upload_file(
            str(packaged.path),
            bucket,
            key,
            ExtraArgs={
                "ServerSideEncryption": "aws:kms",
                "SSEKMSKeyId": outputs.kms_key_arn,
                "ContentType": "application/gzip",
                "Metadata": packaged.metadata(),
            },
        )
    return f"s3://{bucket}/{key}", packaged
