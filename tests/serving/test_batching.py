"""Micro-batching: concurrent requests share model calls; answers equal the unbatched ones."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import mlflow
import numpy as np
import pytest

from serving.app import create_app
from serving.batching import MicroBatcher
from tests.serving.conftest import served, settings_for
from tests.serving.models import demand_data


class Recorder:
    """A fake model: prediction = 2 * row id; remembers each call's size; may fail on a row."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[int] = []
        self.delay = delay

    def __call__(self, rows, key=None):
        self.calls.append(len(rows))
        if any(r.get("bad") for r in rows):
            raise ValueError("bad row")
        if self.delay:
            time.sleep(self.delay)
        return np.array([2 * r["id"] for r in rows])


async def submit_all(batcher, requests):
    return await asyncio.gather(*(batcher.submit(rows) for rows in requests), return_exceptions=True)


def run(coro_fn):
    return asyncio.run(coro_fn())


def test_concurrent_requests_are_coalesced_and_each_gets_its_own_rows():
    model = Recorder()

    async def main():
        batcher = MicroBatcher(model, None, max_rows=1000, max_wait_s=0.0)
        batcher.start()
        requests = [[{"id": 10 * i + j} for j in range(i % 3 + 1)] for i in range(40)]
        results = await submit_all(batcher, requests)
        await batcher.stop()
        return requests, results

    requests, results = run(main)
    for rows, got in zip(requests, results, strict=True):
        assert got.tolist() == [2 * r["id"] for r in rows]
    assert sum(model.calls) == sum(len(r) for r in requests)
    assert len(model.calls) < len(requests)


def test_batches_respect_max_rows_without_splitting_a_request():
    model = Recorder()

    async def main():
        batcher = MicroBatcher(model, None, max_rows=64, max_wait_s=0.0)
        batcher.start()
        requests = [[{"id": i}] * 30 for i in range(10)] + [[{"id": 99}] * 100]
        results = await submit_all(batcher, requests)
        await batcher.stop()
        return requests, results

    requests, results = run(main)
    assert all(len(got) == len(rows) for rows, got in zip(requests, results, strict=True))
    assert max(c for c in model.calls if c != 100) <= 64
    assert 100 in model.calls  # the oversized request went alone, unsplit


def test_a_failing_request_does_not_fail_its_batch_mates():
    model = Recorder()

    async def main():
        batcher = MicroBatcher(model, None, max_rows=1000, max_wait_s=0.0)
        batcher.start()
        requests = [[{"id": i, "bad": i == 3}] for i in range(8)]
        results = await submit_all(batcher, requests)
        await batcher.stop()
        return results

    results = run(main)
    assert isinstance(results[3], ValueError)
    assert [r.tolist() for i, r in enumerate(results) if i != 3] == [[2 * i] for i in range(8) if i != 3]


def test_under_load_a_batch_waits_briefly_for_more_requests():
    model = Recorder(delay=0.002)

    async def main():
        # max_rows=2: the second request fills the batch, which then goes without waiting out
        # the (long) window, so nothing here depends on timing.
        batcher = MicroBatcher(model, None, max_rows=2, max_wait_s=30.0)
        batcher.start()
        await submit_all(batcher, [[{"id": 1}], [{"id": 2}]])  # a merged call: now "under load"
        first = asyncio.ensure_future(batcher.submit([{"id": 3}]))
        await asyncio.sleep(0.005)  # the batcher has taken request 3 and is waiting for more
        second = asyncio.ensure_future(batcher.submit([{"id": 4}]))
        out = await asyncio.wait_for(asyncio.gather(first, second), timeout=10.0)
        await batcher.stop()
        return out

    out = run(main)
    assert [o.tolist() for o in out] == [[6], [8]]
    assert model.calls == [2, 2]


def test_a_lone_request_is_not_delayed_by_the_wait_window():
    model = Recorder()

    async def main():
        batcher = MicroBatcher(model, None, max_rows=1000, max_wait_s=10.0)
        batcher.start()
        out = await asyncio.wait_for(batcher.submit([{"id": 5}]), timeout=5.0)
        await batcher.stop()
        return out

    assert run(main).tolist() == [10]


@pytest.fixture(scope="module")
def demand_client(demand_dir: Path):
    app = create_app(settings_for(demand_dir, microbatch_max_rows=64))
    with served(app) as client:
        yield client


def test_batched_predictions_through_the_app_equal_unbatched_ones(demand_client, demand_dir):
    x, _ = demand_data()
    rows = x.head(96).to_dict(orient="records")
    service = demand_client.app.state.service

    async def concurrent():
        transport = httpx.ASGITransport(app=demand_client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as ac:
            calls_before = service.model_calls
            responses = await asyncio.gather(*(ac.post("/predict", json=r) for r in rows))
            return responses, service.model_calls - calls_before

    responses, calls = demand_client.portal.call(concurrent)
    assert all(r.status_code == 200 for r in responses)
    batched = [r.json()["predictions"][0] for r in responses]
    one_by_one = [demand_client.post("/predict", json=r).json()["predictions"][0] for r in rows]
    pyfunc = mlflow.pyfunc.load_model(str(demand_dir)).predict(x.head(96)).tolist()
    assert batched == one_by_one == pyfunc
    assert calls < len(rows)  # requests did share model calls


def test_a_fixed_cost_per_call_never_shrinks_batches_below_the_floor():
    """A model whose calls cost a fixed 20 ms (a big forest's per-call overhead) must still be
    called with large batches: sizing by latency may only cut batches above min_rows."""
    model = Recorder(delay=0.02)

    async def main():
        batcher = MicroBatcher(model, None, max_rows=4096, max_wait_s=0.001, target_s=0.005, min_rows=256)
        batcher.start()
        for _ in range(3):
            await submit_all(batcher, [[{"id": i}] for i in range(300)])
        await batcher.stop()
        return batcher

    batcher = run(main)
    assert batcher.batch_rows() >= 256
    assert max(model.calls) >= 256  # 300 queued one-row requests share calls of >= 256 rows
    assert len(model.calls) <= 3 * 3


def test_latency_target_cuts_batches_of_a_model_whose_cost_grows_with_rows():
    class PerRow(Recorder):
        def __call__(self, rows, key=None):
            time.sleep(len(rows) * 20e-6)  # 20 us a row
            return super().__call__(rows, key)

    model = PerRow()

    async def main():
        batcher = MicroBatcher(model, None, max_rows=100_000, max_wait_s=0.0, target_s=0.02, min_rows=256)
        batcher.start()
        await submit_all(batcher, [[{"id": i} for i in range(300)] for _ in range(40)])
        await batcher.stop()
        return batcher

    batcher = run(main)
    assert 256 <= batcher.batch_rows() < 100_000  # ~1,000 rows fit 20 ms at 20 us a row
