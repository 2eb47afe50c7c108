"""The ring buffer, the drift monitor, and drift in /drift/status and /metrics."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ml.drift import DriftReference
from serving.app import create_app
from serving.drift import DriftMonitor, RingBuffer
from tests.serving.conftest import metric, reference_of, served, settings_for
from tests.serving.models import IRIS_FEATURES, iris_data


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(1, 12),
    blocks=st.lists(st.integers(0, 30), max_size=12),
)
def test_ring_buffer_keeps_the_last_rows_in_arrival_order(capacity, blocks):
    buf = RingBuffer(capacity, 2)
    expected: deque[tuple[float, float]] = deque(maxlen=capacity)
    counter = 0
    for size in blocks:
        block = np.array([[counter + i, -(counter + i)] for i in range(size)], dtype=np.float64).reshape(size, 2)
        counter += size
        buf.add(block)
        expected.extend(map(tuple, block))
        assert len(buf) == len(expected)
    assert buf.total == counter
    assert buf.snapshot().tolist() == [list(r) for r in expected]


def test_ring_buffer_memory_is_fixed():
    buf = RingBuffer(100, 3)
    storage = buf._data
    for _ in range(50):
        buf.add(np.ones((7, 3)))
    assert buf._data is storage and storage.shape == (100, 3)
    assert len(buf) == 100


def test_ring_buffer_rejects_empty_shapes():
    with pytest.raises(ValueError, match="capacity and width"):
        RingBuffer(0, 3)


def iris_columns(frame):
    return {name: frame[name].to_numpy() for name in frame.columns}


def test_monitor_finds_no_drift_on_reference_like_inputs_and_drift_on_shifted_ones():
    x, _ = iris_data()
    reference = DriftReference(x.to_numpy(), IRIS_FEATURES)
    calm = DriftMonitor(reference, window=300, min_rows=20)
    calm.record(iris_columns(x.sample(n=150, random_state=0)))
    report = calm.check()
    assert report is not None and report["drifted"] is False

    shifted = DriftMonitor(reference, window=300, min_rows=20)
    moved = x.sample(n=150, random_state=0).assign(petal_length=lambda f: f["petal_length"] + 3.0)
    shifted.record(iris_columns(moved))
    report = shifted.check()
    assert report["drifted"] is True
    assert report["drifted_features"] == ["petal_length"]


def test_monitor_waits_for_min_rows_and_skips_non_finite_rows():
    x, _ = iris_data()
    monitor = DriftMonitor(DriftReference(x.to_numpy(), IRIS_FEATURES), window=100, min_rows=30)
    cols = iris_columns(x.head(29))
    cols["sepal_length"] = cols["sepal_length"].copy()
    monitor.record(cols)
    assert monitor.check() is None
    assert monitor.status()["drifted"] is None
    nan_cols = iris_columns(x.head(5))
    nan_cols["sepal_width"] = np.full(5, np.nan)
    monitor.record(nan_cols)
    assert monitor.status()["window_rows"] == 29
    monitor.record(iris_columns(x.iloc[[40]]))
    assert monitor.check() is not None


def test_monitor_without_reference_says_why():
    monitor = DriftMonitor(None, window=100, min_rows=20, reason="no drift reference: missing")
    monitor.record({"a": np.ones(3)})
    assert monitor.check() is None
    status = monitor.status()
    assert (status["enabled"], status["reason"]) == (False, "no drift reference: missing")


@pytest.fixture(scope="module")
def client(iris_dir: Path):
    app = create_app(settings_for(iris_dir, drift_reference_path=reference_of(iris_dir), drift_window=200))
    with served(app) as c:
        yield c


def check(client):
    return client.portal.call(client.app.state.service.check_drift)


def test_drift_status_and_metrics_show_shifted_inputs(client):
    x, _ = iris_data()
    status = client.get("/drift/status").json()
    assert (status["enabled"], status["features"], status["window_capacity"]) == (True, IRIS_FEATURES, 200)
    calm = x.sample(n=120, random_state=1)
    assert client.post("/predict", json=calm.to_dict(orient="records")).status_code == 200
    assert check(client)["drifted"] is False
    assert client.get("/drift/status").json()["drifted"] is False
    assert metric(client.get("/metrics").text, "serving_drift_detected") == 0

    moved = x.sample(n=150, random_state=2).assign(sepal_width=lambda f: f["sepal_width"] * 2)
    for i in range(0, 150, 50):  # several requests, as traffic would arrive
        assert client.post("/predict", json=moved.iloc[i : i + 50].to_dict(orient="records")).status_code == 200
    report = check(client)
    status = client.get("/drift/status").json()
    assert status["drifted"] is True and "sepal_width" in report["drifted_features"]
    assert status["window_rows"] == 200 and status["rows_seen"] >= 270
    assert status["checked_at"] is not None
    text = client.get("/metrics").text
    assert metric(text, "serving_drift_detected") == 1
    assert metric(text, "serving_drift_window_rows") == 200
    by_name = {f["name"]: f for f in report["features"]}
    assert metric(text, "serving_drift_p_value", feature="sepal_width") == pytest.approx(by_name["sepal_width"]["adjusted_p_value"])
    assert metric(text, "serving_drift_psi", feature="sepal_width") == pytest.approx(by_name["sepal_width"]["psi"])
    assert metric(text, "serving_drift_ks_statistic", feature="sepal_width") == pytest.approx(by_name["sepal_width"]["ks_statistic"])


def test_the_periodic_check_runs_by_itself(iris_dir: Path):
    from tests.serving.conftest import wait_until

    app = create_app(settings_for(iris_dir, drift_reference_path=reference_of(iris_dir), drift_interval_s=0.1))
    with served(app) as c:
        x, _ = iris_data()
        assert c.post("/predict", json=x.head(40).to_dict(orient="records")).status_code == 200
        assert wait_until(lambda: c.get("/drift/status").json()["report"] is not None, timeout=30)


def test_verdict_thresholds_come_from_serving_settings_and_bad_values_are_one_line():
    from serving.contract import DriftStatus

    x, _ = iris_data()
    reference = DriftReference(x.to_numpy(), IRIS_FEATURES)
    monitor = DriftMonitor(reference, window=300, min_rows=20,
                           env={"SERVING_DRIFT_P_THRESHOLD": "0.01", "SERVING_DRIFT_CORRECTION": "bonferroni"})
    assert (monitor.reference.p_threshold, monitor.reference.correction) == (0.01, "bonferroni")
    moved = x.sample(n=150, random_state=1).assign(sepal_width=lambda d: d.sepal_width + 1.0)
    monitor.record(iris_columns(moved))
    monitor.check()
    status = DriftStatus.from_dict(monitor.status())  # the shape serving sends is the shared model
    assert status.drifted is True and status.n_current == 150 and "sepal_width" in status.drifted_features
    bad = DriftMonitor(reference, window=300, min_rows=20, env={"SERVING_DRIFT_P_THRESHOLD": "5%"})
    assert bad.status()["enabled"] is False
    assert bad.status()["reason"] == "drift disabled: SERVING_DRIFT_P_THRESHOLD='5%': must be a number within (0, 1)"
    worse = DriftMonitor(reference, window=300, min_rows=20, env={"SERVING_DRIFT_CORRECTION": "fdr"})
    assert worse.status()["reason"] == (
        "drift disabled: SERVING_DRIFT_CORRECTION='fdr': allowed values are bh, bonferroni, none"
    )
