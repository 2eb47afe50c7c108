"""The canary rollout for real: a real MLflow server, two real serving apps (``@champion`` and
``@challenger``, as the stable and canary Deployments run them) and a stand-in Prometheus HTTP
API on 127.0.0.1 answering the canary's error-ratio and latency queries.

A bad error rate or latency rolls the candidate back (champion unchanged, the challenger alias
back on the champion so the canary app serves the champion again, reason tagged and logged); a
clean bake promotes it (the stable app hot-swaps to it); a registry error never promotes.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from mlflow import MlflowClient

from components.kubernetes.alerts import Scope, error_ratio_expr, latency_quantile_expr
from ml.canary import CanaryConfig, PrometheusError, bake, query_prometheus
from ml.cli import main
from ml.gate import PromotionAborted
from ml.pipeline import run_pipeline
from ml.tasks import get_task
from ml.train import train
from serving.app import create_app
from tests.ml.faultproxy import FaultProxy
from tests.serving.conftest import served, settings_for, wait_until

SCOPE = Scope("mlops", "serving", pod="serving-canary-.*")
ERROR_Q = error_ratio_expr(SCOPE)
LATENCY_Q = latency_quantile_expr(SCOPE, 0.99)
WEAK = {"max_depth": 1, "n_estimators": 1}


class FakePrometheus:
    """GET /api/v1/query answering ``values[query]`` (None: an empty vector, i.e. no traffic),
    or HTTP ``status`` when it is not 200. ``on_query`` runs before each answer."""

    def __init__(self) -> None:
        self.values: dict[str, float | None] = {}
        self.status = 200
        self.queries: list[str] = []
        self.on_query: Callable[[], None] = lambda: None
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                parsed = urllib.parse.urlparse(self.path)
                query = urllib.parse.parse_qs(parsed.query).get("query", [""])[0]
                owner.queries.append(query)
                owner.on_query()
                if parsed.path != "/api/v1/query" or owner.status != 200:
                    code, body = (owner.status if owner.status != 200 else 404), b"unavailable"
                else:
                    value = owner.values.get(query)
                    result = [] if value is None else [{"metric": {"service": "serving"}, "value": [1.0, repr(value)]}]
                    code, body = 200, json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    fake = FakePrometheus()
    yield fake
    fake.close()


def config(url: str, **overrides) -> CanaryConfig:
    values = {"prometheus_url": url, "error_query": ERROR_Q, "latency_query": LATENCY_Q,
              "max_error_rate": 0.05, "max_latency_p99_s": 0.5, "bake_s": 1.5, "poll_s": 0.25}
    values.update(overrides)
    return CanaryConfig(**values)


@pytest.fixture(autouse=True)
def patient_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process serving apps turn MLflow's retries off process-wide around their own
    registry calls unless the operator set them; set them, so the controller's calls in this
    same process keep MLflow's usual retries on a loaded machine (separate pods in a cluster)."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "5")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "120")


@pytest.fixture
def recent_csv(tmp_path: Path) -> str:
    """Recent labelled rows (iris rows, shuffled, outside the frozen held-out set)."""
    path = tmp_path / "recent.csv"
    get_task("iris").load(None, 0).sample(frac=1.0, random_state=1).to_csv(path, index=False)
    return str(path)


def champion_v1(uri: str, name: str) -> str:
    """A deliberately weak first version: champion (and, idle, challenger) v1."""
    result = train("iris", uri, name, params=WEAK, alias="challenger")
    assert result.promoted and result.version == "1", result
    return result.version


def aliases(client: MlflowClient, name: str) -> dict[str, str]:
    return {a: client.get_model_version_by_alias(name, a).version for a in ("champion", "challenger")}


def app_version(client) -> str | None:
    body = client.get("/health/ready").json()
    return body.get("model_version")


def two_apps(uri: str, name: str):
    common = {"tracking_uri": uri, "ready_without_model": True, "poll_interval_s": 0.2}
    stable = create_app(settings_for(f"models:/{name}@champion", **common))
    canary = create_app(settings_for(f"models:/{name}@challenger", **common))
    return served(stable), served(canary)


def test_a_bad_error_rate_rolls_the_candidate_back(mlflow_uri, prometheus, recent_csv, caplog):
    name = f"canary-bad-{uuid.uuid4().hex[:6]}"
    client = MlflowClient(mlflow_uri, mlflow_uri)
    champion_v1(mlflow_uri, name)
    stable_cm, canary_cm = two_apps(mlflow_uri, name)
    with stable_cm as stable, canary_cm as canary:
        assert app_version(stable) == app_version(canary) == "1"
        seen: list[str | None] = []
        # When the controller first looks, the canary app must already serve the candidate.
        prometheus.on_query = lambda: seen.append(
            "2" if wait_until(lambda: app_version(canary) == "2", timeout=30) else app_version(canary))
        prometheus.values = {ERROR_Q: 0.4, LATENCY_Q: 0.05}
        with caplog.at_level(logging.WARNING, logger="ml.canary"):
            outcome = run_pipeline(task="iris", tracking_uri=mlflow_uri, model_name=name, trigger="schedule",
                                   data_uri=recent_csv, cooldown_s=0, canary=config(prometheus.url))
        assert outcome.result.decision == "challenger" and outcome.result.version == "2"
        assert seen[0] == "2", "the canary app never served the challenger"
        assert outcome.canary.decision == "rolled back"
        assert "5xx ratio 0.4 above 0.05" in outcome.canary.reason
        assert aliases(client, name) == {"champion": "1", "challenger": "1"}
        tags = client.get_model_version(name, "2").tags
        assert tags["canary.decision"] == "rolled back" and "5xx ratio" in tags["canary.reason"]
        assert tags["promotion.decision"] == "rolled_back"
        assert any("5xx ratio 0.4" in r.getMessage() for r in caplog.records)
        # The canary pods stop serving the rolled-back model: they hot-swap back to v1.
        assert wait_until(lambda: app_version(canary) == "1", timeout=30)
        assert app_version(stable) == "1"
    assert set(prometheus.queries) == {ERROR_Q, LATENCY_Q}


def test_a_bad_latency_rolls_back_and_a_clean_bake_promotes(mlflow_uri, prometheus, recent_csv):
    name = f"canary-good-{uuid.uuid4().hex[:6]}"
    client = MlflowClient(mlflow_uri, mlflow_uri)
    champion_v1(mlflow_uri, name)
    prometheus.values = {ERROR_Q: 0.0, LATENCY_Q: 2.5}
    slow = run_pipeline(task="iris", tracking_uri=mlflow_uri, model_name=name, trigger="schedule",
                        data_uri=recent_csv, rows=100, cooldown_s=0, canary=config(prometheus.url))
    assert slow.canary.decision == "rolled back" and "p99 latency 2.5s above 0.5s" in slow.canary.reason
    assert aliases(client, name) == {"champion": "1", "challenger": "1"}

    stable_cm, canary_cm = two_apps(mlflow_uri, name)
    with stable_cm as stable, canary_cm as canary:
        prometheus.values = {ERROR_Q: 0.01, LATENCY_Q: 0.12}
        # The bake counts from when the gate set the challenger; it still makes min_checks (2).
        good = run_pipeline(task="iris", tracking_uri=mlflow_uri, model_name=name, trigger="schedule",
                            data_uri=recent_csv, rows=90, cooldown_s=0,
                            canary=config(prometheus.url, bake_s=3.0, poll_s=0.5))
        assert good.result.decision == "challenger" and good.result.version == "3"
        assert good.canary.decision == "promoted", good.canary
        assert good.canary.samples >= 2  # it kept checking over the bake time
        assert aliases(client, name) == {"champion": "3", "challenger": "3"}
        assert client.get_model_version(name, "3").tags["promotion.decision"] == "promoted"
        assert wait_until(lambda: app_version(stable) == "3", timeout=30)
        assert wait_until(lambda: app_version(canary) == "3", timeout=30)


def test_no_traffic_or_no_prometheus_never_promotes(mlflow_uri, prometheus, recent_csv):
    name = f"canary-quiet-{uuid.uuid4().hex[:6]}"
    client = MlflowClient(mlflow_uri, mlflow_uri)
    champion_v1(mlflow_uri, name)
    prometheus.values = {}  # empty vectors: nobody sent the canary a request
    quiet = run_pipeline(task="iris", tracking_uri=mlflow_uri, model_name=name, trigger="schedule",
                         data_uri=recent_csv, cooldown_s=0, canary=config(prometheus.url, bake_s=0.5))
    assert quiet.canary.decision == "rolled back" and "no canary traffic" in quiet.canary.reason
    prometheus.status = 503
    down = run_pipeline(task="iris", tracking_uri=mlflow_uri, model_name=name, trigger="schedule",
                        data_uri=recent_csv, rows=95, cooldown_s=0, canary=config(prometheus.url, bake_s=0.5))
    assert down.canary.decision == "rolled back" and "HTTP 503" in down.canary.reason
    assert aliases(client, name) == {"champion": "1", "challenger": "1"}


def test_a_registry_error_during_the_decision_never_promotes(mlflow_uri, prometheus, recent_csv):
    name = f"canary-403-{uuid.uuid4().hex[:6]}"
    client = MlflowClient(mlflow_uri, mlflow_uri)
    champion_v1(mlflow_uri, name)
    result = train("iris", mlflow_uri, name, data=get_task("iris").load(None, 0).sample(n=100, random_state=1), alias="challenger")
    assert result.decision == "challenger"
    with FaultProxy(mlflow_uri) as proxy:
        proxy_client = MlflowClient(proxy.uri, proxy.uri)
        # The bake has read both aliases; from its first Prometheus check on, alias reads are 403.
        prometheus.on_query = lambda: proxy.inject(403, "registered-models/alias", "GET")
        prometheus.values = {ERROR_Q: 0.0, LATENCY_Q: 0.01}
        with pytest.raises(PromotionAborted, match="403"):
            bake(proxy_client, name, config(prometheus.url, bake_s=0.3))
        assert proxy.hits >= 1
    assert aliases(client, name) == {"champion": "1", "challenger": "2"}
    assert "canary.decision" not in client.get_model_version(name, "2").tags
    # The lock was released: once the registry answers again, the same bake resumes and decides.
    prometheus.on_query = lambda: None
    assert bake(client, name, config(prometheus.url, bake_s=0.3)).decision == "promoted"
    assert aliases(client, name) == {"champion": "2", "challenger": "2"}


def test_a_candidate_arriving_during_a_bake_is_not_considered(mlflow_uri, recent_csv):
    name = f"canary-busy-{uuid.uuid4().hex[:6]}"
    client = MlflowClient(mlflow_uri, mlflow_uri)
    champion_v1(mlflow_uri, name)
    assert train("iris", mlflow_uri, name, data=get_task("iris").load(None, 0).sample(n=100, random_state=1),
                 alias="challenger").decision == "challenger"
    late = train("iris", mlflow_uri, name, data=get_task("iris").load(None, 0).sample(n=90, random_state=2), alias="challenger")
    assert late.decision == "rejected" and "still in its canary" in late.reason
    assert aliases(client, name) == {"champion": "1", "challenger": "2"}


def test_query_prometheus_reads_vectors_and_refuses_what_is_not_a_result(prometheus):
    prometheus.values = {"up": 0.25}
    assert query_prometheus(prometheus.url, "up") == 0.25
    assert query_prometheus(prometheus.url, "absent_series") is None
    prometheus.status = 500
    with pytest.raises(PrometheusError, match="HTTP 500"):
        query_prometheus(prometheus.url, "up")
    with pytest.raises(PrometheusError, match="cannot reach Prometheus"):
        query_prometheus("http://127.0.0.1:9", "up", timeout=2)


def test_the_canary_cli_is_one_line_on_bad_input(capsys, mlflow_uri):
    code = main(["canary", "--model-name", "x", "--tracking-uri", mlflow_uri, "--prometheus-url", "ftp://p",
                 "--error-query", ERROR_Q, "--latency-query", LATENCY_Q])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error: canary prometheus_url must start with http")
