"""Two real uvicorn workers share one drift window and one verdict: every /drift/status answer,
whichever worker gives it, counts every row sent to either worker."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from ml.drift import DriftReference
from serving.drift import DriftMonitor, SharedRingBuffer
from tests.serving.conftest import metric, reference_of, serving_process, wait_until
from tests.serving.models import IRIS_FEATURES, iris_data


def _post(url: str, body: object) -> int:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def _per_process(prom_dir: Path, route: str) -> list[float]:
    """200 responses on ``route`` counted by each worker process (one counter file per pid)."""
    from prometheus_client.mmap_dict import MmapedDict

    counts = []
    for path in sorted(prom_dir.glob("counter_*.db")):
        total = 0.0
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            _, sample, labels, *_ = json.loads(key)
            if sample == "serving_requests_total" and labels.get("route") == route and labels.get("status") == "200":
                total += value
        counts.append(total)
    return counts


@pytest.mark.timeout(1800)  # several real trainings/processes; the machine is shared
def test_two_workers_report_one_shared_window_and_verdict(iris_dir: Path, tmp_path: Path):
    prom_dir = tmp_path / "prom"
    prom_dir.mkdir()
    env = {
        "SERVING_MODEL_URI": str(iris_dir), "SERVING_WORKERS": "2", "PROMETHEUS_MULTIPROC_DIR": str(prom_dir),
        "SERVING_DRIFT_REFERENCE_PATH": reference_of(iris_dir), "SERVING_DRIFT_WINDOW": "1000",
        "SERVING_DRIFT_MIN_ROWS": "20", "SERVING_DRIFT_INTERVAL_S": "0.5",
    }
    x, _ = iris_data()
    shifted = x.copy()
    shifted["petal_length"] = shifted["petal_length"] + 3.0  # far outside the reference
    rows = [shifted.iloc[i % len(shifted)].to_dict() for i in range(120)]
    with serving_process(env, tmp_path / "server.log", timeout=900) as url:
        def both_loaded() -> bool:  # serving_model_loaded is livemin: 1 only when every worker loaded
            with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
                text = r.read().decode()
            return len(list(prom_dir.glob("gauge_livemin_*.db"))) >= 2 and metric(text, "serving_model_loaded") == 1

        assert wait_until(both_loaded, timeout=600, interval=0.5)
        sent = 0
        # A new connection per request: the kernel spreads them over the two workers.
        for row in rows:
            assert _post(url + "/predict", row) == 200
            sent += 1
        served = _per_process(prom_dir, "/predict")
        assert sum(c > 0 for c in served) == 2, f"only one worker served /predict: {served}"

        def settled() -> bool:
            status = _get_json(url + "/drift/status")
            return status["n_current"] == sent and status["window_rows"] == sent

        assert wait_until(settled, timeout=60, interval=0.3), _get_json(url + "/drift/status")
        answers = []
        for _ in range(400):  # bounded: until both workers have answered several times
            answers.append(_get_json(url + "/drift/status"))
            if len(answers) >= 20 and sum(c >= 3 for c in _per_process(prom_dir, "/drift/status")) == 2:
                break
        counts = _per_process(prom_dir, "/drift/status")
        assert sum(c >= 3 for c in counts) == 2, f"only one worker answered /drift/status: {counts}"
        for status in answers:
            assert status["window_rows"] == sent and status["rows_seen"] == sent
            assert status["n_current"] == sent  # the check saw both workers' rows
            assert status["drifted"] is True and "petal_length" in status["drifted_features"]
        assert len({json.dumps(a["report"], sort_keys=True) for a in answers[-10:]}) == 1


def test_monitors_sharing_a_directory_share_the_window_and_last_check(tmp_path: Path):
    x, _ = iris_data()
    reference = DriftReference(x.to_numpy(), IRIS_FEATURES)
    a = DriftMonitor(reference, window=50, min_rows=20, shared_dir=str(tmp_path))
    b = DriftMonitor(reference, window=50, min_rows=20, shared_dir=str(tmp_path))
    alone = DriftMonitor(reference, window=50, min_rows=20, env={})
    cols = {name: x[name].to_numpy()[:30] for name in IRIS_FEATURES}
    a.record(cols)
    b.record({name: x[name].to_numpy()[30:60] for name in IRIS_FEATURES})
    alone.record(cols)
    assert len(a.buffer) == len(b.buffer) == 50 and a.buffer.total == 60 and len(alone.buffer) == 30
    np.testing.assert_array_equal(a.buffer.snapshot(), x.to_numpy()[10:60])
    assert b.check() is not None
    assert a.status()["report"] == b.status()["report"] and a.status()["n_current"] == 50
    # Another window size or reference is another window.
    c = DriftMonitor(reference, window=40, min_rows=20, shared_dir=str(tmp_path))
    assert len(c.buffer) == 0


def test_shared_ring_buffer_keeps_the_last_rows_across_handles(tmp_path: Path):
    path = tmp_path / "ring.bin"
    one, two = SharedRingBuffer(path, 5, 2), SharedRingBuffer(path, 5, 2)
    expected = []
    for i, size in enumerate([2, 3, 4, 7, 1]):
        block = np.arange(size * 2, dtype=np.float64).reshape(size, 2) + 100 * i
        (one if i % 2 else two).add(block)
        expected = (expected + block.tolist())[-5:]
        assert one.snapshot().tolist() == two.snapshot().tolist() == expected
    assert one.total == two.total == 17
    # A file of another shape is reset, not misread.
    other = SharedRingBuffer(path, 3, 2)
    assert len(other) == 0 and other.snapshot().shape == (0, 2)
