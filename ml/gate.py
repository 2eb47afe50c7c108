"""The promotion gate's parts: what counts as "no champion", the significance test, the registry
lock that makes promotion compare-and-set, which node of a multi-node job may register, and the
recovery of runs a killed training left behind.

Everything takes an explicit ``MlflowClient``; nothing here touches MLflow's process-global
tracking URI or active run.

No champion
    Only a JSON error *from the MLflow server* saying the registered model does not exist
    (``RESOURCE_DOES_NOT_EXIST``) or the alias is not set (``INVALID_PARAMETER_VALUE`` "Registered
    model alias ... not found.") means "no champion yet". Any other failure (403, 429, 5xx after
    MLflow's retries, a proxy's HTML page, a refused connection) raises ``PromotionAborted``: the
    gate fails closed and the alias stays where it is.
Significance (``GateConfig``)
    Both models are scored on the same frozen held-out rows; ``d_i = loss_champion_i -
    loss_candidate_i`` (0/1 error for classification, absolute error for regression; positive
    means the candidate is better on that row). ``"bootstrap"`` (default): a paired bootstrap of
    the mean of ``d`` (``n_boot`` resamples, seeded), promote when the one-sided lower
    ``1 - alpha`` bound exceeds ``min_improvement``. ``"t-test"``: ``scipy.stats.ttest_rel`` of
    the two loss vectors, one-sided, promote when ``p < alpha`` and the mean gain exceeds
    ``min_improvement``. ``"none"``: promote when the mean gain exceeds ``min_improvement``
    (the old rule; for experiments only).
Lock
    ``PromotionLock`` is a registered model named ``<model>.promotion-lock``: creating a
    registered model is atomic on the server (a unique name), so exactly one holder at a time.
    Its tags say who holds it and until when (``ttl_s``); an expired lock (its holder died) is
    taken over. Under the lock the gate re-reads the alias, scores, decides and moves the alias.
Primary node
    SageMaker writes ``/opt/ml/input/config/resourceconfig.json`` (``current_host``, ``hosts``)
    into every training container; Azure ML and torch-style launchers set ``NODE_RANK`` /
    ``RANK`` / ``OMPI_COMM_WORLD_RANK``. Only the first host / rank 0 trains and registers.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "GATE_TESTS",
    "GateConfig",
    "PromotionAborted",
    "PromotionLock",
    "PromotionRefused",
    "Significance",
    "is_no_champion",
    "primary_node",
    "significance",
]

log = logging.getLogger("ml.gate")

GATE_TESTS = ("bootstrap", "t-test", "none")
LOCK_SUFFIX = ".promotion-lock"
SAGEMAKER_RESOURCE_CONFIG = "/opt/ml/input/config/resourceconfig.json"


class PromotionAborted(RuntimeError):
    """The gate could not decide safely (registry error, champion not scorable); alias untouched."""


class PromotionRefused(ValueError):
    """The candidate does not fit the registered model (another task or input signature)."""


@dataclass(frozen=True)
class GateConfig:
    """How the gate decides; logged with every decision."""

    test: str = "bootstrap"
    alpha: float = 0.05
    n_boot: int = 2000
    min_improvement: float = 0.0
    lock_ttl_s: float = 900.0
    lock_wait_s: float = 600.0

    def __post_init__(self) -> None:
        if self.test not in GATE_TESTS:
            raise ValueError(f"gate test must be one of {', '.join(GATE_TESTS)}; got {self.test!r}")
        if not 0.0 < self.alpha < 1.0:
            raise ValueError(f"gate alpha must be within (0, 1), got {self.alpha}")
        if self.n_boot < 100:
            raise ValueError(f"gate n_boot must be >= 100, got {self.n_boot}")
        if not self.min_improvement >= 0.0:
            raise ValueError(f"min_improvement must be >= 0, got {self.min_improvement}")


@dataclass(frozen=True)
class Significance:
    """Outcome of the paired comparison on the shared rows (gain: positive = candidate better)."""

    test: str
    n_rows: int
    mean_gain: float
    ci_low: float  # one-sided lower bound of the gain (-inf for "none"/t-test without CI)
    p_value: float  # one-sided, H0: gain <= 0 (nan for "none")
    significant: bool

    def tags(self) -> dict[str, str]:
        return {
            "promotion.test": self.test,
            "promotion.n_rows": str(self.n_rows),
            "promotion.mean_gain": repr(self.mean_gain),
            "promotion.ci_low": repr(self.ci_low),
            "promotion.p_value": repr(self.p_value),
        }


def significance(
    champion_loss: np.ndarray, candidate_loss: np.ndarray, config: GateConfig, *, seed: int = 0
) -> Significance:
    """Paired comparison of per-row losses on the same rows; see the module docstring."""
    a = np.asarray(champion_loss, dtype=np.float64).reshape(-1)
    b = np.asarray(candidate_loss, dtype=np.float64).reshape(-1)
    if a.shape != b.shape or a.size < 2:
        raise ValueError(f"paired losses need the same rows (>= 2); got {a.size} and {b.size}")
    gain = a - b
    mean = float(gain.mean())
    if config.test == "none":
        return Significance("none", a.size, mean, float("-inf"), float("nan"), mean > config.min_improvement)
    if config.test == "t-test":
        from scipy import stats

        if np.all(gain == gain[0]):  # no variance: the t statistic is undefined
            p = 0.0 if gain[0] > 0 else 1.0
        else:
            p = float(stats.ttest_rel(a, b, alternative="greater").pvalue)
        sd = float(gain.std(ddof=1)) / np.sqrt(a.size)
        low = mean - float(stats.t.ppf(1 - config.alpha, a.size - 1)) * sd
        return Significance("t-test", a.size, mean, low, p, p < config.alpha and mean > config.min_improvement)
    rng = np.random.default_rng(seed)
    n = a.size
    means = np.empty(config.n_boot)
    # Resample rows (pairs stay together) in chunks to bound memory.
    chunk = max(1, 2_000_000 // n)
    for start in range(0, config.n_boot, chunk):
        stop = min(config.n_boot, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = gain[idx].mean(axis=1)
    low = float(np.quantile(means, config.alpha))
    p = float((np.count_nonzero(means <= 0.0) + 1) / (config.n_boot + 1))
    return Significance("bootstrap", n, mean, low, p, low > config.min_improvement)


def is_no_champion(exc: BaseException) -> bool:
    """True only for the server's own "model not found" / "alias not found" answers."""
    from mlflow.exceptions import RestException

    if not isinstance(exc, RestException):
        return False  # status-derived errors (HTML 404 from a proxy, 403, 5xx) are not answers
    code = getattr(exc, "error_code", "")
    message = str(getattr(exc, "message", exc))
    if code == "RESOURCE_DOES_NOT_EXIST" and "registered model" in message.lower():
        return True
    return code == "INVALID_PARAMETER_VALUE" and "alias" in message and "not found" in message


def primary_node(env: dict[str, str] | None = None, resource_config: str = SAGEMAKER_RESOURCE_CONFIG) -> tuple[bool, str]:
    """(is this the node that trains and registers?, one phrase saying why)."""
    env = dict(os.environ if env is None else env)
    path = Path(resource_config)
    if path.is_file():
        try:
            config = json.loads(path.read_text())
            hosts = sorted(config["hosts"])
            current = config["current_host"]
        except (ValueError, KeyError, TypeError) as exc:
            raise PromotionAborted(f"{resource_config} is not a SageMaker resource config: {exc}") from None
        return current == hosts[0], f"SageMaker host {current} of {', '.join(hosts)}"
    for key in ("NODE_RANK", "RANK", "OMPI_COMM_WORLD_RANK", "AZUREML_NODE_RANK"):
        if env.get(key, "").strip():
            rank = env[key].strip()
            return rank == "0", f"{key}={rank}"
    return True, "single node"


class PromotionLock:
    """A registry-wide mutex per model name (see the module docstring). Context manager."""

    def __init__(self, client: Any, model_name: str, *, ttl_s: float = 900.0, wait_s: float = 600.0,
                 poll_s: float = 0.5, job: str = "") -> None:
        self.client = client
        self.name = model_name + LOCK_SUFFIX
        self.ttl_s = ttl_s
        self.wait_s = wait_s
        self.poll_s = poll_s
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        # A retry of a job runs only once its previous attempt has ended, so a lock tagged with
        # this job's key was left by that attempt (killed while holding it): take it over at once
        # instead of waiting out its TTL.
        self.job = job
        self.held = False

    def _try_create(self) -> bool:
        from mlflow.exceptions import MlflowException

        try:
            self.client.create_registered_model(
                self.name,
                tags={"lock.owner": self.owner, "lock.expires": repr(time.time() + self.ttl_s),
                      "lock.job": self.job},
                description="promotion lock held by ml.train while it moves the champion alias",
            )
            return True
        except MlflowException as exc:
            if getattr(exc, "error_code", "") == "RESOURCE_ALREADY_EXISTS":
                return False
            raise PromotionAborted(f"cannot take the promotion lock {self.name}: {exc}") from None

    def _expired(self) -> bool:
        from mlflow.exceptions import MlflowException

        try:
            tags = self.client.get_registered_model(self.name).tags
        except MlflowException as exc:
            if is_no_champion(exc):
                return False  # released meanwhile: just retry the create
            raise PromotionAborted(f"cannot read the promotion lock {self.name}: {exc}") from None
        if self.job and tags.get("lock.job") == self.job:
            return True
        try:
            return float(tags.get("lock.expires", "0")) < time.time()
        except ValueError:
            return True

    def acquire(self) -> None:
        deadline = time.monotonic() + self.wait_s
        while True:
            if self._try_create():
                self.held = True
                return
            if self._expired():
                log.warning("taking over the expired promotion lock %s", self.name)
                self._delete()
                continue
            if time.monotonic() >= deadline:
                raise PromotionAborted(
                    f"promotion lock {self.name} still held after {self.wait_s:.0f}s; alias left in place"
                )
            time.sleep(self.poll_s)

    def _delete(self) -> None:
        from mlflow.exceptions import MlflowException

        try:
            self.client.delete_registered_model(self.name)
        except MlflowException as exc:
            if not is_no_champion(exc):
                raise

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        try:
            tags = self.client.get_registered_model(self.name).tags
            if tags.get("lock.owner") == self.owner:
                self._delete()
        except Exception as exc:  # the TTL frees it anyway
            log.warning("could not release promotion lock %s: %s", self.name, exc)

    def __enter__(self) -> PromotionLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
