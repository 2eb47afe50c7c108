"""Two uvicorn workers: /metrics (prometheus_client multiprocess mode) counts every request."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from tests.serving.conftest import metric, serving_process, wait_until
from tests.serving.models import iris_data


def post(url: str, body: object) -> int:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


def predicts_per_process(prom_dir: Path) -> list[float]:
    """/predict 200 counts recorded by each worker process (one counter file per pid)."""
    from prometheus_client.mmap_dict import MmapedDict

    counts = []
    for path in sorted(prom_dir.glob("counter_*.db")):
        total = 0.0
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            _, sample, labels, *_ = json.loads(key)
            if sample == "serving_requests_total" and labels.get("route") == "/predict" and labels.get("status") == "200":
                total += value
        counts.append(total)
    return counts


def test_metrics_sum_requests_over_both_workers(iris_dir: Path, tmp_path: Path):
    prom_dir = tmp_path / "prom"
    prom_dir.mkdir()
    env = {"SERVING_MODEL_URI": str(iris_dir), "SERVING_WORKERS": "2", "PROMETHEUS_MULTIPROC_DIR": str(prom_dir)}
    x, _ = iris_data()
    row = x.iloc[0].to_dict()
    with serving_process(env, tmp_path / "server.log") as url:
        # Each worker loads its own model; both must be ready before counting.
        def both_loaded() -> bool:
            return len(list(prom_dir.glob("gauge_livemin_*.db"))) >= 2 and metric(get(url + "/metrics"), "serving_model_loaded") == 1

        assert wait_until(both_loaded, timeout=90, interval=0.2), sorted(p.name for p in prom_dir.iterdir())
        sent = 0
        # New connection per request: the kernel spreads them over the workers. Keep sending
        # (bounded) until both worker processes have recorded requests.
        while sent < 400:
            assert post(url + "/predict", row) == 200
            sent += 1
            if sent >= 20 and sum(c > 0 for c in predicts_per_process(prom_dir)) >= 2:
                break
        per_process = predicts_per_process(prom_dir)
        assert sum(c > 0 for c in per_process) >= 2, f"only one worker served: {per_process}"
        assert sum(per_process) == sent
        text = get(url + "/metrics")
        assert metric(text, "serving_requests_total", route="/predict", method="POST", status="200") == sent
        assert metric(text, "serving_prediction_value_count") == sent
        assert metric(text, "serving_model_reloads_total") == 2  # one load per worker
        assert metric(text, "serving_model_info", name="iris", alias="") == 1
