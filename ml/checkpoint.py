"""Training checkpoints: resume a killed or spot-interrupted training instead of rerunning it.

Where (``checkpoint_dir``): ``--checkpoint-dir`` / ``train(checkpoint_dir=...)``, else
``ML_CHECKPOINT_DIR``, else ``/opt/ml/checkpoints`` inside a SageMaker training job (the
directory SageMaker syncs to ``CheckpointConfig.S3Uri`` and restores on a managed-spot restart),
else none (no checkpoints: the fit runs in one piece as before). On Azure ML or a Kubernetes Job,
point ``ML_CHECKPOINT_DIR`` at storage that outlives the attempt (a mounted output / a volume).

What is kept, each write atomic (temp file + ``os.replace``), in ``state.json`` and
``model.skops``:

- while fitting: the partly fitted pipeline every ``chunk`` boosting iterations / trees. The
  estimator is grown with scikit-learn's ``warm_start`` (``max_iter`` for HistGradientBoosting,
  ``n_estimators`` for forests) in fixed chunks, so a resumed fit is the same computation as an
  uninterrupted checkpointed one: it starts from the saved model at the saved iteration;
- ``fitted``: the final pipeline;
- ``logging``: the MLflow run the attempt created (so a restart can tell whether that run already
  registered a version);
- ``registered``: the model version. A restart then goes straight to the promotion gate with that
  version: the job registers exactly once.

The state carries a fingerprint of the job (task, model name, seed, rows, parameters, data,
job key). A checkpoint with another fingerprint belongs to another training and is ignored (and
overwritten); so is one that cannot be read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "CHECKPOINT_ENV",
    "SAGEMAKER_CHECKPOINT_DIR",
    "Checkpoint",
    "checkpoint_dir",
    "fingerprint",
    "fit",
]

log = logging.getLogger("ml.checkpoint")

CHECKPOINT_ENV = "ML_CHECKPOINT_DIR"
#: ``CheckpointConfig.LocalPath`` the launcher sends (ml.launch.aws.CHECKPOINT_LOCAL_PATH).
SAGEMAKER_CHECKPOINT_DIR = "/opt/ml/checkpoints"
STATE_FILE = "state.json"
MODEL_FILE = "model.skops"
#: Checkpoints per fit (the chunk is the iteration/tree budget divided by this).
CHUNKS = 10
_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")
_TRUSTED_EXTRA = frozenset({"functools.partial"})


def checkpoint_dir(explicit: str | os.PathLike[str] | None = None,
                   env: Mapping[str, str] | None = None) -> Path | None:
    """The checkpoint directory for this process (see the module docstring), or None."""
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if env.get(CHECKPOINT_ENV):
        return Path(env[CHECKPOINT_ENV])
    # SageMaker sets TRAINING_JOB_NAME and creates LocalPath only when CheckpointConfig is sent.
    if env.get("TRAINING_JOB_NAME") and Path(SAGEMAKER_CHECKPOINT_DIR).is_dir():
        return Path(SAGEMAKER_CHECKPOINT_DIR)
    return None


def fingerprint(**parts: Any) -> str:
    """A stable digest of what defines one training (JSON of the parts; frames by content)."""
    import pandas as pd

    def norm(value: Any) -> Any:
        if isinstance(value, pd.DataFrame):
            hashed = pd.util.hash_pandas_object(value, index=False).to_numpy()
            return {"frame": hashlib.sha256(hashed.tobytes()).hexdigest(), "columns": list(map(str, value.columns))}
        if isinstance(value, Mapping):
            return {str(k): norm(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
        if isinstance(value, (list, tuple)):
            return [norm(v) for v in value]
        return value if value is None or isinstance(value, (bool, int, float, str)) else repr(value)

    return hashlib.sha256(json.dumps(norm(parts), sort_keys=True).encode()).hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class Checkpoint:
    """The checkpoint of one training in ``root`` (created on first write)."""

    def __init__(self, root: str | os.PathLike[str], key: str) -> None:
        self.root = Path(root)
        self.key = key
        self.state: dict[str, Any] = {}
        path = self.root / STATE_FILE
        if not path.is_file():
            return
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable checkpoint %s: %s", path, exc)
            return
        if not isinstance(state, dict) or state.get("fingerprint") != key:
            log.warning("ignoring the checkpoint in %s: it belongs to another training", self.root)
            return
        if not (self.root / MODEL_FILE).is_file():
            log.warning("ignoring the checkpoint in %s: its model file is missing", self.root)
            return
        self.state = state

    @property
    def stage(self) -> str | None:
        return self.state.get("stage")

    def mark(self, stage: str, **fields: Any) -> None:
        """Record ``stage`` (and fields such as ``run_id``, ``version``) atomically."""
        self.state = {**self.state, **fields, "stage": stage, "fingerprint": self.key}
        _atomic_write(self.root / STATE_FILE, json.dumps(self.state, indent=1).encode())

    def save_model(self, pipeline: Any, stage: str, **fields: Any) -> None:
        """The (partly) fitted pipeline, then the state naming it (so the state never points
        at a model that is not fully written)."""
        import skops.io as sio

        _atomic_write(self.root / MODEL_FILE, sio.dumps(pipeline))
        self.mark(stage, **fields)

    def load_model(self) -> Any:
        """The saved pipeline; refuses types outside sklearn/numpy/scipy."""
        import skops.io as sio

        data = (self.root / MODEL_FILE).read_bytes()
        untrusted = sio.get_untrusted_types(data=data)
        foreign = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES) and t not in _TRUSTED_EXTRA]
        if foreign:
            raise ValueError(f"checkpoint {self.root / MODEL_FILE} holds foreign types: {', '.join(foreign)}")
        return sio.loads(data, trusted=untrusted)


def _budget_param(estimator: Any) -> str | None:
    params = estimator.get_params(deep=False)
    if "warm_start" not in params:
        return None
    for name in ("max_iter", "n_estimators"):
        if isinstance(params.get(name), int) and params[name] > 1:
            return name
    return None


def _grown(estimator: Any, param: str) -> int:
    """Iterations / trees the estimator holds now (0 when unfitted)."""
    if param == "max_iter":
        return int(getattr(estimator, "n_iter_", 0))
    return len(getattr(estimator, "estimators_", []))


def fit(pipeline: Any, x: Any, y: Any, ckpt: Checkpoint | None) -> Any:
    """Fit ``pipeline`` on ``(x, y)``; with ``ckpt``, in checkpointed chunks and from where a
    previous attempt stopped. Returns the fitted pipeline (the resumed object when resuming)."""
    estimator = pipeline.steps[-1][1]
    param = _budget_param(estimator)
    if ckpt is not None and ckpt.stage in ("fitted", "logging", "registered", "done"):
        log.info("resuming: the checkpoint in %s holds the fitted model; not fitting again", ckpt.root)
        return ckpt.load_model()
    if ckpt is None or param is None:
        pipeline.fit(x, y)
        if ckpt is not None:
            ckpt.save_model(pipeline, "fitted")
        return pipeline
    total = int(estimator.get_params(deep=False)[param])
    chunk = max(1, -(-total // CHUNKS))
    done = 0
    if ckpt.stage == "fitting":
        pipeline = ckpt.load_model()
        estimator = pipeline.steps[-1][1]
        done = int(ckpt.state.get("iterations", 0))
        log.info("resuming the fit from the checkpoint in %s at %s=%d of %d", ckpt.root, param, done, total)
    name = pipeline.steps[-1][0]
    while done < total:
        target = min(total, done + chunk)
        pipeline.set_params(**{f"{name}__warm_start": True, f"{name}__{param}": target})
        pipeline.fit(x, y)
        grown = _grown(pipeline.steps[-1][1], param)
        stopped = param == "max_iter" and grown < target  # early stopping ended the fit
        done = total if stopped else target
        if done >= total:
            # The final model carries the parameters of a plain fit: no warm start.
            pipeline.set_params(**{f"{name}__warm_start": False, f"{name}__{param}": total})
        ckpt.save_model(pipeline, "fitting" if done < total else "fitted", iterations=done, total=total)
        log.info("      checkpoint: %s=%d of %d%s", param, grown, total, " (early stop)" if stopped else "")
    return pipeline
