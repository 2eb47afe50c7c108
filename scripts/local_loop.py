"""The local loop, end to end on this machine (the README's main job).

    uv sync --all-extras && uv run python scripts/local_loop.py

1. starts an MLflow server on 127.0.0.1 (free port, sqlite + artifacts in a temp dir);
2. trains the demand model with ``ml.train`` and registers it as the ``champion``;
3. starts the serving app (``python -m serving``) on ``models:/demand@champion``;
4. sends predictions: first rows like the training data, then shifted ones (higher prices, every
   item on promotion), and prints ``/drift/status`` after each phase;
5. prints an excerpt of ``/metrics``;
6. prints the offline plan summary of the dev stack (``python -m stacks.plan dev --summary``);
7. stops everything it started (also on Ctrl-C or an error), with bounded waits.

Nothing leaves 127.0.0.1. Options: ``--rows`` (training rows), ``--keep`` (keep the temp dir).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.mlflow_server import free_port, stop_process_group  # noqa: E402  (process helpers shared with the tests)

MODEL_NAME = "demand"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def http(method: str, url: str, body: Any = None, timeout: float = 30) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read().decode()
            status = r.status
    except urllib.error.HTTPError as e:
        raw, status = e.read().decode(), e.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


@contextlib.contextmanager
def serving_app(env: dict[str, str], log_path: Path):
    port = free_port()
    full_env = dict(os.environ, PYTHONPATH=str(ROOT), SERVING_HOST="127.0.0.1", SERVING_PORT=str(port), **env)
    full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "serving"], cwd=ROOT, env=full_env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            def ready() -> bool:
                if proc.poll() is not None:
                    raise RuntimeError(f"serving app exited ({proc.returncode}); log:\n{log_path.read_text()[-3000:]}")
                with contextlib.suppress(urllib.error.URLError, OSError):
                    return http("GET", url + "/health/ready", timeout=2)[0] == 200
                return False

            wait_for(ready, 180, "the serving app to load the champion")
            yield url
        finally:
            say("stopping the serving app")
            stop_process_group(proc, grace=20)


def rows_for(frame: Any) -> list[dict[str, Any]]:
    from ml.data import DEMAND_FEATURES

    return json.loads(frame[list(DEMAND_FEATURES)].to_json(orient="records"))


def send(url: str, rows: list[dict[str, Any]], batch: int = 50) -> list[float]:
    predictions: list[float] = []
    for i in range(0, len(rows), batch):
        status, body = http("POST", url + "/predict", rows[i : i + batch])
        if status != 200:
            raise RuntimeError(f"/predict answered {status}: {body}")
        predictions += body["predictions"]
    return predictions


def drift_after_next_check(url: str) -> dict[str, Any]:
    """Wait (bounded) for a drift check newer than now, return /drift/status."""
    before = http("GET", url + "/drift/status")[1]
    seen = before.get("rows_seen")
    checked = before.get("checked_at")

    def newer() -> bool:
        status = http("GET", url + "/drift/status")[1]
        return status.get("report") is not None and (status.get("checked_at") != checked or seen is None)

    time.sleep(1.1)  # checked_at has one-second resolution
    wait_for(newer, 30, "a drift check")
    return http("GET", url + "/drift/status")[1]


def print_drift(status: dict[str, Any]) -> None:
    report = status["report"]
    verdict = "DRIFT" if report["drifted"] else "no drift"
    print(f"    verdict: {verdict}  (window {status['window_rows']} rows vs reference {report['n_reference']} rows,"
          f" correction {report['correction']}, p < {report['p_threshold']} or PSI > {report['psi_threshold']})")
    print(f"    {'feature':12s} {'KS':>6s} {'adj. p':>10s} {'PSI':>8s}  drifted")
    for f in report["features"]:
        print(f"    {f['name']:12s} {f['ks_statistic']:6.3f} {f['adjusted_p_value']:10.3g} {f['psi']:8.3f}  {f['drifted']}")


def print_metrics_excerpt(url: str) -> None:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    keep = ("serving_requests_total{", "serving_request_duration_seconds_count", "serving_request_duration_seconds_sum",
            "serving_prediction_value_count", "serving_predict_batch_rows_count", "serving_drift_detected",
            "serving_drift_p_value", "serving_model_info", "serving_model_reload_failures_total")
    for line in text.splitlines():
        if line.startswith(keep):
            print(f"    {line}")


def plan_summary() -> None:
    try:
        out = subprocess.run([sys.executable, "-m", "stacks.plan", "dev", "--summary"], cwd=ROOT,
                             capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        print("    (stacks.plan did not finish within 600 s; skipped)")
        return
    if out.returncode != 0 and "No module named" in out.stderr:
        print("    (the offline plan is not available in this checkout: python -m stacks.plan not found)")
        return
    for line in (out.stdout or "").splitlines():
        print(f"    {line}")
    if out.returncode != 0:
        print(f"    (python -m stacks.plan dev --summary exited with {out.returncode}: {out.stderr.strip()[-500:]})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=30_000, help="training rows of the demand set (default 30000)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (MLflow db, logs)")
    args = parser.parse_args()

    from ml.data import generate_demand
    from ml.train import train
    from tests.mlflow_server import SERVER_ENV, start_mlflow_server

    # Nothing the demo starts talks beyond 127.0.0.1: MLflow telemetry off in this process (the
    # training client) and in the serving app it starts, as in the MLflow server.
    os.environ.update(SERVER_ENV)
    # The demo prints its own one-line summaries: no per-run URL lines or artifact progress bars.
    os.environ.update(MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT="true", MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="false")
    work = Path(tempfile.mkdtemp(prefix="mlops-local-loop-"))
    stop_mlflow = None
    try:
        say(f"starting an MLflow server (sqlite + artifacts in {work})")
        uri, stop_mlflow = start_mlflow_server(work / "mlflow", timeout=120)
        print(f"    tracking URI {uri}")

        say(f"training the {MODEL_NAME} model on {args.rows} rows and registering it")
        result = train("demand", uri, MODEL_NAME, rows=args.rows, seed=0)
        print(f"    version {result.version}: {result.metric_name}={result.metric_value:.3f}; {result.reason}")
        if result.champion_version is None:
            raise RuntimeError("no champion after training; cannot serve")

        say(f"starting the serving app on models:/{MODEL_NAME}@champion")
        env = {
            "SERVING_MODEL_URI": f"models:/{MODEL_NAME}@champion",
            "SERVING_TRACKING_URI": uri,
            "SERVING_DRIFT_WINDOW": "500",
            "SERVING_DRIFT_MIN_ROWS": "200",
            "SERVING_DRIFT_INTERVAL_S": "1",
            "SERVING_POLL_INTERVAL_S": "10",
            "SERVING_LOG_LEVEL": "warning",
        }
        with serving_app(env, work / "serving.log") as url:
            model = http("GET", url + "/model")[1]
            print(f"    {url}: serving {model['name']} version {model['version']} "
                  f"(features: {', '.join(c['name'] for c in model['signature']['inputs'])})")

            # New rows from the same generator, over the days training saw (ml.tasks holds out
            # the last 20% of days, so the reference has no late-year days of the second year).
            pool = generate_demand(rows=1_000, seed=123)
            fresh = pool[pool["date"] <= pool["date"].quantile(0.8)].sample(n=500, random_state=0)
            say("sending 500 rows like the training data")
            preds = send(url, rows_for(fresh))
            print(f"    first predictions: {[round(p, 2) for p in preds[:5]]}")
            print("    /drift/status:")
            print_drift(drift_after_next_check(url))

            shifted = fresh.assign(price=fresh["price"] * 1.8, promo=1)
            say("sending 500 shifted rows (prices x1.8, every item on promotion)")
            send(url, rows_for(shifted))
            print("    /drift/status:")
            print_drift(drift_after_next_check(url))

            say("metrics excerpt (GET /metrics)")
            print_metrics_excerpt(url)

        say("offline plan of the dev stack (python -m stacks.plan dev --summary)")
        plan_summary()
        say("done")
        return 0
    finally:
        if stop_mlflow is not None:
            say("stopping the MLflow server")
            stop_mlflow()
        if args.keep:
            print(f"    kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
