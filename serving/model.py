"""The model adapter: resolve, load, verify and predict. No HTTP here.

``ModelSource`` turns the configured URI into an exact ``ModelRef`` (for ``models:/<name>@<alias>``
it asks the registry which version holds the alias, which is what the reload poller compares).
``load_model`` loads that version as an MLflow pyfunc, builds the request schema from its
signature, loads the drift reference, and *verifies* it on its own input example before anyone
may swap it in. ``ServedModel.predict`` takes a frame already validated by the schema.

Fast path: for the sklearn flavor the adapter calls the fitted estimator directly
(``PyFuncModel.get_raw_model()``), because the request schema has already done what pyfunc's
schema enforcement does (names, types, order). Verification checks that the fast path and the
pyfunc path give identical predictions on the input example, and falls back to pyfunc if not.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from contract.mlflow_clients import client as mlflow_client
from contract.mlflow_clients import scope_sagemaker_headers
from serving.errors import ModelLoadError, ModelNotFound
from serving.schema import Feature, RowSchema, features_from_signature

log = logging.getLogger("serving.model")

REFERENCE_ARTIFACT = "drift/reference.csv"  # written by ml.train (its REFERENCE_ARTIFACT)
_ALIAS_URI = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[^/@]+)/?$")
_VERSION_URI = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)/?$")


@dataclass(frozen=True)
class ModelRef:
    """An exact model to load: ``load_uri`` never moves (a version or a path)."""

    load_uri: str
    name: str
    version: str
    alias: str | None = None
    run_id: str | None = None


class ModelSource:
    """Where the model comes from: a registry alias (polled), a pinned version, or a path."""

    def __init__(self, uri: str, tracking_uri: str | None = None) -> None:
        self.uri = uri
        self.tracking_uri = tracking_uri
        alias = _ALIAS_URI.match(uri)
        version = _VERSION_URI.match(uri)
        self.name = (alias or version).group("name") if (alias or version) else _path_name(uri)
        self.path_meta = {} if (alias or version) else _registered_meta(uri)
        if self.path_meta.get("model_name"):
            self.name = str(self.path_meta["model_name"])
        self.alias = alias.group("alias") if alias else None
        self.pinned_version = version.group("version") if version else None
        self.movable = alias is not None  # only an alias can point somewhere else later

    def _client(self) -> Any:
        return mlflow_client(self.tracking_uri)

    def resolve(self) -> ModelRef:
        """The exact version behind the URI right now (one registry call for an alias).

        Raises ``ModelNotFound`` when the registry says the model or alias does not exist, and
        ``ModelLoadError`` for anything else. The registry call is made *without* MLflow's own
        HTTP retries (7 retries with backoff, ~260 s before a wrong URI or a 5xx surfaces):
        the caller retries with its own backoff and reports each failure at once.
        """
        try:
            if self.alias is not None or self.pinned_version is not None:
                with _registry_fail_fast():
                    return self._resolve_registered()
        except Exception as exc:  # registry unreachable, alias missing, ...
            kind = ModelNotFound if _definitely_missing(exc) else ModelLoadError
            raise kind(f"cannot resolve {self.uri}: {_one_line(exc)}") from exc
        version = self.path_meta.get("model_version")
        version = str(version) if version not in (None, "") else _path_version(self.uri)
        return ModelRef(self.uri, self.name, version, None, _path_run_id(self.uri))

    def _resolve_registered(self) -> ModelRef:
        if self.alias is not None:
            mv = self._client().get_model_version_by_alias(self.name, self.alias)
            return ModelRef(f"models:/{self.name}/{mv.version}", self.name, str(mv.version), self.alias, mv.run_id)
        mv = self._client().get_model_version(self.name, self.pinned_version)
        return ModelRef(self.uri, self.name, str(mv.version), None, mv.run_id)


def quiet_sagemaker_header_provider() -> None:
    """Scope the sagemaker-mlflow plugin's request headers to SageMaker ARNs (see
    :mod:`contract.mlflow_clients`): no "list index out of range" on other URIs."""
    scope_sagemaker_headers()


#: MLflow's answer when a registered model or version does not exist.
_NOT_FOUND_CODE = "RESOURCE_DOES_NOT_EXIST"
#: An unset alias is INVALID_PARAMETER_VALUE "Registered model alias <a> not found." (MLflow 3.x
#: SQL store); the message is the only thing telling it from a malformed request.
_ALIAS_NOT_FOUND = re.compile(r"\bRegistered model alias \S+ not found\b")


def _definitely_missing(exc: BaseException) -> bool:
    """True only for the registry's own "does not exist" answers, never for transport errors,
    HTTP errors without an MLflow error body (a proxy's 403/404/5xx), or malformed URIs."""
    from mlflow.exceptions import MlflowException

    if not isinstance(exc, MlflowException):
        return False
    code = getattr(exc, "error_code", None)
    if code == _NOT_FOUND_CODE:
        return True
    return code == "INVALID_PARAMETER_VALUE" and bool(_ALIAS_NOT_FOUND.search(str(getattr(exc, "message", exc))))


_FAIL_FAST_ENV = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "15"}
_env_lock = threading.Lock()


@contextlib.contextmanager
def _registry_fail_fast() -> Iterator[None]:
    """MLflow reads its retry/timeout variables per request: set them for this call only (a
    value the operator set is kept). Serialised: registry calls are one at a time anyway."""
    with _env_lock:
        saved = {k: os.environ.get(k) for k in _FAIL_FAST_ENV}
        for key, value in _FAIL_FAST_ENV.items():
            if saved[key] is None:
                os.environ[key] = value
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)


@dataclass
class ServedModel:
    """A loaded, verified model and everything derived from it."""

    ref: ModelRef
    features: list[Feature]
    schema: RowSchema
    signature: dict[str, Any]
    pyfunc: Any
    estimator: Any | None  # fast path (sklearn flavor), None -> pyfunc.predict
    input_example: pd.DataFrame
    drift_reference: Any | None = None  # ml.drift.DriftReference
    drift_reference_error: str | None = None
    loaded_at: float = field(default_factory=time.time)
    local_dir: str | None = None  # the download directory this version owns (deleted with it)

    def discard(self) -> None:
        """Delete this version's downloaded artifacts (the loaded model stays in memory)."""
        if self.local_dir:
            shutil.rmtree(self.local_dir, ignore_errors=True)
            self.local_dir = None

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        out = self.estimator.predict(frame) if self.estimator is not None else self.pyfunc.predict(frame)
        return _as_array(out)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.ref.name,
            "version": self.ref.version,
            "alias": self.ref.alias,
            "uri": self.ref.load_uri,
            "run_id": self.ref.run_id,
            "loaded_at": _iso(self.loaded_at),
            "signature": self.signature,
            "fast_path": self.estimator is not None,
            "drift_reference": None if self.drift_reference is None else {
                "rows": self.drift_reference.n_reference,
                "features": self.drift_reference.feature_names,
            },
            "drift_reference_error": self.drift_reference_error,
        }


DOWNLOAD_PREFIX = "serving-model-"


def default_download_dir() -> str:
    return os.path.join(tempfile.gettempdir(), "serving-models")


def clear_downloads(download_dir: str) -> None:
    """Remove version directories a previous process left (an emptyDir survives restarts)."""
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(download_dir):
            if entry.name.startswith(DOWNLOAD_PREFIX):
                shutil.rmtree(entry.path, ignore_errors=True)


def _is_remote(uri: str) -> bool:
    return uri.startswith(("models:/", "runs:/")) or "://" in uri


def load_model(
    ref: ModelRef,
    *,
    max_batch_rows: int,
    tracking_uri: str | None = None,
    drift_reference_path: str | None = None,
    download_dir: str | None = None,
) -> ServedModel:
    """Load ``ref``, build its schema, load its drift reference and verify it; see the module doc.

    A registry or run URI is downloaded into a directory of its own under ``download_dir``
    (MLflow's default is a fresh temp dir per load that nobody deletes); it is deleted here when
    the load fails, and by ``ServedModel.discard`` when the version is replaced. A local model
    directory is loaded in place.
    """
    import mlflow

    quiet_sagemaker_header_provider()
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
    local_dir = None
    if _is_remote(ref.load_uri):
        root = download_dir or default_download_dir()
        os.makedirs(root, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{ref.name}-{ref.version}")[:80]
        local_dir = tempfile.mkdtemp(prefix=f"{DOWNLOAD_PREFIX}{safe}-", dir=root)
    try:
        return _load(ref, local_dir, max_batch_rows, tracking_uri, drift_reference_path)
    except BaseException:
        if local_dir:
            shutil.rmtree(local_dir, ignore_errors=True)
        raise


def _load(
    ref: ModelRef, local_dir: str | None, max_batch_rows: int, tracking_uri: str | None,
    drift_reference_path: str | None,
) -> ServedModel:
    import mlflow

    try:
        pyfunc = mlflow.pyfunc.load_model(ref.load_uri, dst_path=local_dir)
    except Exception as exc:
        raise ModelLoadError(f"cannot load {ref.load_uri}: {_one_line(exc)}") from exc
    signature = pyfunc.metadata.signature
    features = features_from_signature(signature)
    schema = RowSchema(features, max_batch_rows)
    try:
        example = pyfunc.input_example
    except Exception as exc:
        raise ModelLoadError(f"cannot read the input example of {ref.load_uri}: {_one_line(exc)}") from exc
    if not isinstance(example, pd.DataFrame) or example.empty:
        raise ModelLoadError(f"{ref.load_uri} has no tabular input example to verify it on")
    estimator = _fast_path(pyfunc)
    model = ServedModel(
        ref=ref,
        features=features,
        schema=schema,
        signature=_signature_dict(signature),
        pyfunc=pyfunc,
        estimator=estimator,
        input_example=example,
        local_dir=local_dir,
    )
    verify(model)
    model.drift_reference, model.drift_reference_error = _drift_reference(
        model, drift_reference_path, tracking_uri
    )
    return model


def verify(model: ServedModel) -> None:
    """Predict the input example through the request schema; compare with pyfunc's answer."""
    example = model.input_example
    try:
        rows = model.schema.validate_rows(example.to_dict(orient="records"), lax=True)
        frame = model.schema.to_frame(rows)
        expected = _as_array(model.pyfunc.predict(example))
        got = model.predict(frame)
    except Exception as exc:
        raise ModelLoadError(f"verification on the input example failed: {_one_line(exc)}") from exc
    if got.shape[0] != len(example) or expected.shape[0] != len(example):
        raise ModelLoadError(
            f"verification: {len(example)} example rows gave {got.shape[0]} predictions"
        )
    if model.estimator is not None and not _same(got, expected):
        log.warning("fast path disagrees with pyfunc on the input example; using pyfunc.predict")
        model.estimator = None


def _fast_path(pyfunc: Any) -> Any | None:
    if getattr(pyfunc, "loader_module", None) != "mlflow.sklearn":
        return None
    try:
        raw = pyfunc.get_raw_model()
    except Exception:
        return None
    # pyfunc_predict_fn other than "predict" (e.g. predict_proba) -> stay on pyfunc.
    flavor = pyfunc.metadata.flavors.get("sklearn", {})
    if flavor.get("pyfunc_predict_fn", "predict") != "predict" or not hasattr(raw, "predict"):
        return None
    return raw


def _drift_reference(
    model: ServedModel, path: str | None, tracking_uri: str | None
) -> tuple[Any | None, str | None]:
    """The drift reference (numeric model features found in the CSV), or why there is none."""
    from ml.drift import DriftReference

    try:
        if path is None:
            if not model.ref.run_id:
                return None, "no drift reference: the model has no run and SERVING_DRIFT_REFERENCE_PATH is unset"
            import mlflow

            dst = None
            if model.local_dir:
                dst = os.path.join(model.local_dir, "drift")
                os.makedirs(dst, exist_ok=True)
            path = mlflow.artifacts.download_artifacts(
                run_id=model.ref.run_id, artifact_path=REFERENCE_ARTIFACT, tracking_uri=tracking_uri,
                dst_path=dst,
            )
        frame = pd.read_csv(path)
        names = [f.name for f in model.features if f.numeric and f.name in frame.columns]
        if not names:
            return None, f"the drift reference {path} has none of the model's numeric features"
        return DriftReference(frame[names].to_numpy(dtype=np.float64), names), None
    except Exception as exc:
        return None, f"no drift reference: {_one_line(exc)}"


def _signature_dict(signature: Any) -> dict[str, Any]:
    import json

    out = {}
    for key, value in signature.to_dict().items():
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        out[key] = value
    return out


def _as_array(out: Any) -> np.ndarray:
    if isinstance(out, pd.DataFrame):
        out = out.iloc[:, 0] if out.shape[1] == 1 else out
    return np.asarray(out)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        return bool(np.allclose(a.astype(np.float64), b.astype(np.float64), rtol=1e-9, atol=0, equal_nan=True))
    return bool(np.array_equal(a, b))


def _path_name(uri: str) -> str:
    return Path(uri.rstrip("/")).name or uri


def _registered_meta(uri: str) -> dict[str, Any]:
    """``registered_model_meta`` of a model downloaded from the registry (MLflow writes it
    beside MLmodel; a SageMaker model tarball packed from ``models:/<name>/<v>`` carries it):
    the registered name and version, so every runtime labels the model alike."""
    try:
        import yaml

        meta = yaml.safe_load((Path(uri) / "registered_model_meta").read_text()) or {}
        return meta if isinstance(meta, dict) else {}
    except Exception:
        return {}


def _path_version(uri: str) -> str:
    """A local model has no registry version: use its MLmodel's model_uuid (or 'local')."""
    meta = _mlmodel(uri)
    return str(meta.get("model_uuid") or meta.get("model_id") or "local")


def _path_run_id(uri: str) -> str | None:
    return _mlmodel(uri).get("run_id")


def _mlmodel(uri: str) -> dict[str, Any]:
    try:
        import yaml

        return yaml.safe_load((Path(uri) / "MLmodel").read_text()) or {}
    except Exception:
        return {}


def _one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:500]


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
