"""Canary rollout on the kubernetes runtime: bake the ``challenger`` and promote or roll it back
from the same Prometheus rules the platform alerts on.

The retraining pipeline (ml.pipeline) registers a candidate that beats the champion under the
``challenger`` alias (ml.train, ``alias="challenger"``). A canary Deployment (same image,
``SERVING_MODEL_URI`` ``models:/<name>@challenger``) behind the endpoint's Service serves it to
its share of the traffic. :func:`bake` then polls Prometheus's HTTP API
(``GET <prometheus>/api/v1/query``) for the canary pods' series over the bake time:

* the 5xx ratio (``components.kubernetes.alerts.error_ratio_expr`` scoped to the canary pods)
  above ``max_error_rate``, or the p99 latency (``latency_quantile_expr``) above
  ``max_latency_p99_s``: **rolled back** at once;
* the bake time over (and at least ``min_checks`` checks made) with at least one sample of
  canary traffic and no breach (and the last query answered): **promoted**;
* no canary traffic, or Prometheus never answering, by the end of the bake: rolled back (nothing
  shows the candidate is safe).

Both moves run under the gate's promotion lock (ml.gate.PromotionLock) and are compare-and-set:
the champion must still be the version the challenger was measured against and the challenger
still the candidate, else ``PromotionAborted`` and nothing moves. Promotion sets ``champion`` to
the candidate (``challenger`` stays on it). Rollback points ``challenger`` back at the
champion's version: the candidate stops being the challenger and the canary pods hot-swap to the
champion (the serving app never unloads a loaded model on a missing alias, so deleting the alias
would leave the rolled-back model serving its share). Any registry error other than "alias not
found" raises ``PromotionAborted``: it never promotes. Decisions are tagged on the version
(``canary.decision``, ``canary.reason``, ``promotion.decision``) and logged.

When ``challenger`` is unset or equals ``champion`` there is nothing to bake (``idle``).
"""

from __future__ import annotations

import json
import logging
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ml.gate import PromotionAborted, PromotionLock, is_no_champion

__all__ = ["CanaryConfig", "CanaryOutcome", "PrometheusError", "bake", "query_prometheus"]

log = logging.getLogger("ml.canary")

CHAMPION = "champion"
CHALLENGER = "challenger"


class PrometheusError(ConnectionError):
    """Prometheus could not be queried or answered something that is not a result."""


@dataclass(frozen=True)
class CanaryConfig:
    """How a canary bakes; see the module docstring."""

    prometheus_url: str
    error_query: str
    latency_query: str
    max_error_rate: float
    max_latency_p99_s: float
    bake_s: float = 1800.0
    poll_s: float = 30.0
    timeout_s: float = 10.0
    require_traffic: bool = True
    #: Checks before a promotion, however late the bake started: one point is not a trend.
    min_checks: int = 2

    def __post_init__(self) -> None:
        if not self.prometheus_url.startswith(("http://", "https://")):
            raise ValueError(f"canary prometheus_url must start with http:// or https://, got {self.prometheus_url!r}")
        for key in ("error_query", "latency_query"):
            if not getattr(self, key).strip():
                raise ValueError(f"canary {key} must be a PromQL expression, got an empty string")
        if not 0.0 <= self.max_error_rate <= 1.0:
            raise ValueError(f"canary max_error_rate must be within [0, 1], got {self.max_error_rate}")
        if not self.max_latency_p99_s > 0:
            raise ValueError(f"canary max_latency_p99_s must be > 0, got {self.max_latency_p99_s}")
        if not self.bake_s >= 0 or not self.poll_s > 0:
            raise ValueError(f"canary bake_s must be >= 0 and poll_s > 0, got {self.bake_s} and {self.poll_s}")


@dataclass(frozen=True)
class CanaryOutcome:
    decision: str  # promoted | rolled back | idle
    version: str | None
    champion_version: str | None  # holding champion after the decision
    reason: str
    samples: int = 0


def query_prometheus(base_url: str, expr: str, *, timeout: float = 10.0) -> float | None:
    """The largest value of an instant query, or None when the result is empty (no series: no
    traffic). ``PrometheusError`` on anything that is not a successful vector/scalar answer."""
    url = base_url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            body = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise PrometheusError(f"Prometheus at {base_url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise PrometheusError(f"cannot reach Prometheus at {base_url}: {getattr(exc, 'reason', exc)}") from None
    except ValueError:
        raise PrometheusError(f"Prometheus at {base_url} did not answer JSON") from None
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error") if isinstance(body, dict) else None
        raise PrometheusError(f"Prometheus query failed: {error or 'status is not success'}")
    data = body.get("data") or {}
    kind, result = data.get("resultType"), data.get("result")
    try:
        if kind == "scalar":
            values = [float(result[1])]
        elif kind == "vector":
            values = [float(sample["value"][1]) for sample in result]
        else:
            raise PrometheusError(f"Prometheus answered a {kind!r} result; expected a vector")
    except (TypeError, KeyError, IndexError, ValueError):
        raise PrometheusError("Prometheus answered a malformed result") from None
    values = [v for v in values if not math.isnan(v)]  # 0/0: no requests in the window
    return max(values) if values else None


def _alias(client: Any, model_name: str, alias: str) -> Any | None:
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(model_name, alias)
    except MlflowException as exc:
        if is_no_champion(exc):
            return None
        raise PromotionAborted(f"cannot read {model_name}@{alias}: {_line(exc)}") from None


def _line(exc: BaseException) -> str:
    return (str(exc).strip() or type(exc).__name__).splitlines()[0][:300]


def _decide(client: Any, model_name: str, version: str, champion: str, promote: bool, reason: str,
            lock_ttl_s: float, lock_wait_s: float) -> None:
    """Move the aliases under the promotion lock, compare-and-set, and record the decision."""
    from mlflow.exceptions import MlflowException

    try:
        with PromotionLock(client, model_name, ttl_s=lock_ttl_s, wait_s=lock_wait_s):
            now_champion = _alias(client, model_name, CHAMPION)
            now_challenger = _alias(client, model_name, CHALLENGER)
            if now_champion is None or now_champion.version != champion:
                raise PromotionAborted(
                    f"{CHAMPION} moved from v{champion} to "
                    f"{'nothing' if now_champion is None else 'v' + now_champion.version} during the bake; not changed"
                )
            if now_challenger is None or now_challenger.version != version:
                raise PromotionAborted(f"{CHALLENGER} no longer points at v{version}; not changed")
            if promote:
                client.set_registered_model_alias(model_name, CHAMPION, version)
            else:
                client.set_registered_model_alias(model_name, CHALLENGER, champion)
            decision = "promoted" if promote else "rolled back"
            for key, value in {"canary.decision": decision, "canary.reason": reason,
                               "promotion.decision": "promoted" if promote else "rolled_back",
                               "promotion.reason": f"canary: {reason}",
                               "promotion.champion_after": version if promote else champion}.items():
                client.set_model_version_tag(model_name, version, key, value)
    except MlflowException as exc:
        raise PromotionAborted(f"canary decision on {model_name} v{version} not applied: {_line(exc)}") from None


def bake(client: Any, model_name: str, config: CanaryConfig, *, sleep: Callable[[float], None] = time.sleep,
         clock: Callable[[], float] = time.time, lock_ttl_s: float = 900.0, lock_wait_s: float = 600.0) -> CanaryOutcome:
    """Bake the current challenger of ``model_name`` and promote or roll it back (module docstring).

    The bake time counts from the version's ``canary.started`` tag (set when it became the
    challenger), so a controller that restarts resumes the same bake instead of starting over.
    """
    challenger = _alias(client, model_name, CHALLENGER)
    champion = _alias(client, model_name, CHAMPION)
    if challenger is None:
        return CanaryOutcome("idle", None, champion.version if champion else None, f"no {CHALLENGER} of {model_name}")
    if champion is None:
        raise PromotionAborted(f"{model_name}@{CHALLENGER} is v{challenger.version} but there is no {CHAMPION}")
    version = str(challenger.version)
    if version == str(champion.version):
        return CanaryOutcome("idle", version, version, f"{CHALLENGER} is the {CHAMPION} (v{version}): nothing to bake")
    tags = challenger.tags or {}
    try:
        started = float(tags.get("canary.started", ""))
    except ValueError:
        started = clock()
        client.set_model_version_tag(model_name, version, "canary.started", repr(started))
    measured_against = tags.get("canary.champion_version") or str(champion.version)
    log.info("baking %s v%s against %s v%s for %.0fs (error ratio <= %g, p99 <= %gs)", model_name, version,
             CHAMPION, champion.version, config.bake_s, config.max_error_rate, config.max_latency_p99_s)
    samples = checks = 0
    last_error: str | None = None
    breach: str | None = None
    while True:
        checks += 1
        try:
            errors = query_prometheus(config.prometheus_url, config.error_query, timeout=config.timeout_s)
            latency = query_prometheus(config.prometheus_url, config.latency_query, timeout=config.timeout_s)
            last_error = None
        except PrometheusError as exc:
            last_error = str(exc)
            log.warning("canary of %s v%s: %s", model_name, version, exc)
            errors = latency = None
        if errors is not None:
            samples += 1
            if errors > config.max_error_rate:
                breach = f"5xx ratio {errors:.4g} above {config.max_error_rate:g}"
        if breach is None and latency is not None and latency > config.max_latency_p99_s:
            breach = f"p99 latency {latency:.4g}s above {config.max_latency_p99_s:g}s"
        elapsed = clock() - started
        if breach or (elapsed >= config.bake_s and checks >= config.min_checks):
            break
        sleep(max(0.0, min(config.poll_s, config.bake_s - elapsed)) if elapsed < config.bake_s else config.poll_s)
    if breach:
        promote, reason = False, f"v{version} rolled back after {elapsed:.0f}s of canary: {breach}"
    elif last_error is not None:
        promote, reason = False, f"v{version} rolled back: the last canary check failed ({last_error})"
    elif samples == 0 and config.require_traffic:
        promote, reason = False, f"v{version} rolled back: no canary traffic in {elapsed:.0f}s, nothing shows it is safe"
    else:
        promote, reason = True, (f"v{version} promoted after {elapsed:.0f}s of canary: 5xx ratio and p99 latency "
                                 f"within bounds in {samples} checks")
    _decide(client, model_name, version, measured_against, promote, reason, lock_ttl_s, lock_wait_s)
    (log.info if promote else log.warning)("canary of %s: %s", model_name, reason)
    return CanaryOutcome("promoted" if promote else "rolled back", version,
                         version if promote else measured_against, reason, samples)
