"""Throughput and latency of the serving app vs ``mlflow models serve``, same models, same load.

    .venv/bin/python benchmarks/serving.py [--duration 5] [--workers 1] [--models demand,iris]

For each model (the default demand regressor of ``ml.tasks`` — HistGradientBoosting — and the
iris random forest), it fits the model, saves it as an MLflow model in a temp dir, then serves
that same directory with

* ours:   ``python -m serving`` (uvicorn; micro-batching, metrics and drift bookkeeping ON,
          drift checks every 2 s against the training rows),
* mlflow: ``mlflow models serve --env-manager local`` (uvicorn),

one server at a time, with the same number of workers, on 127.0.0.1, ``OMP_NUM_THREADS=1`` for
both. wrk (a Lua script cycling through 64 one-row request bodies) sends the *same* body to the
*same* route (``POST /invocations``, MLflow's ``dataframe_split``) at concurrency 1, 8 and 64
for ``--duration`` seconds each after a 1 s warm-up, and the script prints req/s, p50 and p99
per run, the ratios ours/mlflow (lines ``ratio c=8: X`` and ``ratio c=64: Y``, for the demand
and the RF model respectively) and the server overhead at c=1: our p50 minus the in-process
p50 of ``estimator.predict`` on one row (and of ``pyfunc.predict``, which is what mlflow calls).

wrk and the servers share the machine's cores, so absolute numbers depend on the machine and
its load; the ratios are the point. Nothing here asserts: it prints figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
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

CONCURRENCY = (1, 8, 64)
N_BODIES = 64

LUA = r"""
local bodies = {}
local i = 0
function init(args)
  local f = io.open(args[1], "r")
  for line in f:lines() do bodies[#bodies + 1] = line end
  f:close()
end
request = function()
  i = (i % #bodies) + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[i])
end
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
               + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), errors))
end
"""


def fit_and_save(task: str, root: Path) -> tuple[Path, Any, Any]:
    """Fit the task's default pipeline, save it as an MLflow model; returns (dir, x, estimator)."""
    import mlflow
    from mlflow.models import infer_signature

    from ml.tasks import get_task

    spec = get_task(task)
    frame = spec.load(None, 0)
    split = spec.split(frame, 0.2, 0)
    pipe = spec.build(0, {})
    from threadpoolctl import threadpool_limits

    # one thread: OpenMP's spinning barriers on a busy 2-core machine made this fit take 20+ min
    with threadpool_limits(1):
        pipe.fit(split.x_train, split.y_train)
    example = split.x_train.head(5)
    path = root / task
    mlflow.sklearn.save_model(
        pipe, str(path), signature=infer_signature(example, pipe.predict(example)),
        input_example=example, serialization_format="cloudpickle", pip_requirements=[],
    )
    ref = root / f"{task}-reference.csv"
    split.x_train.sample(n=min(5000, len(split.x_train)), random_state=0).to_csv(ref, index=False)
    return path, split.x_test, pipe


def bodies_file(x: Any, root: Path, task: str) -> Path:
    rows = x.sample(n=N_BODIES, random_state=1, replace=len(x) < N_BODIES)
    path = root / f"{task}-bodies.txt"
    with path.open("w") as f:
        for i in range(len(rows)):
            split = json.loads(rows.iloc[[i]].to_json(orient="split", index=False))  # keeps int columns int
            f.write(json.dumps({"dataframe_split": split}) + "\n")
    return path


def raw_predict_p50(pipe: Any, model_dir: Path, x: Any) -> tuple[float, float]:
    """In-process p50 (ms) of estimator.predict and pyfunc.predict on one row."""
    import mlflow
    from threadpoolctl import threadpool_limits

    pyfunc = mlflow.pyfunc.load_model(str(model_dir))
    one = x.head(1)
    out = []
    with threadpool_limits(1):
        for fn in (pipe.predict, pyfunc.predict):
            for _ in range(20):
                fn(one)
            times = []
            for _ in range(300):
                t = time.perf_counter()
                fn(one)
                times.append(time.perf_counter() - t)
            out.append(statistics.median(times) * 1000)
    return out[0], out[1]


@contextlib.contextmanager
def server(kind: str, model_dir: Path, reference: Path, workers: int, log_dir: Path):
    port = free_port()
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    # mlflow models serve execs `uvicorn` from PATH: put this interpreter's bin dir first.
    env["PATH"] = os.pathsep.join((str(Path(sys.executable).parent), env.get("PATH", "")))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if kind == "ours":
        env.update(
            SERVING_MODEL_URI=str(model_dir), SERVING_PORT=str(port), SERVING_HOST="127.0.0.1",
            SERVING_WORKERS=str(workers), SERVING_DRIFT_REFERENCE_PATH=str(reference),
            SERVING_DRIFT_INTERVAL_S="2", SERVING_LOG_LEVEL="warning",
        )
        if workers > 1:
            env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bench-prom-")
        cmd = [sys.executable, "-m", "serving"]
        probe = "/health/ready"
    else:
        cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model_dir), "--env-manager",
               "local", "-h", "127.0.0.1", "-p", str(port), "-w", str(workers)]
        probe = "/ping"
    log = open(log_dir / f"{kind}-{model_dir.name}.log", "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{kind} server exited: see {log.name}")
            with contextlib.suppress(urllib.error.URLError, OSError):
                with urllib.request.urlopen(url + probe, timeout=2) as r:
                    if r.status == 200:
                        break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{kind} server not ready in 120 s: see {log.name}")
            time.sleep(0.25)
        yield url
    finally:
        stop_process_group(proc, grace=20)
        log.close()


def run_wrk(url: str, script: Path, bodies: Path, conns: int, duration: float) -> dict[str, float]:
    threads = min(conns, 2)
    target = url + "/invocations"
    base = ["wrk", f"-t{threads}", f"-c{conns}", "--timeout", "10s", "-s", str(script)]
    subprocess.run([*base, "-d1s", target, "--", str(bodies)], capture_output=True, timeout=60, check=True)
    res = subprocess.run([*base, f"-d{int(duration)}s", target, "--", str(bodies)],
                         capture_output=True, text=True, timeout=duration + 60, check=True)
    m = re.search(r"RESULT requests=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+) errors=(\d+)", res.stdout)
    if not m:
        raise RuntimeError(f"wrk output not understood:\n{res.stdout}\n{res.stderr}")
    req, dur, p50, p99, err = (int(g) for g in m.groups())
    return {"rps": req / (dur / 1e6), "p50_ms": p50 / 1000, "p99_ms": p99 / 1000, "errors": err}


def batch_stats(url: str) -> str:
    """Mean rows per model call from our /metrics (shows the micro-batching at work)."""
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        text = r.read().decode()
    s = re.search(r"^serving_predict_batch_rows_sum (\S+)$", text, re.M)
    c = re.search(r"^serving_predict_batch_rows_count (\S+)$", text, re.M)
    return f"{float(s.group(1)) / max(float(c.group(1)), 1):.1f}" if s and c else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run (default 5)")
    parser.add_argument("--workers", type=int, default=1, help="workers for both servers (default 1)")
    parser.add_argument("--models", default="demand,iris", help="comma list of ml.tasks names")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    root = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    script = root / "bodies.lua"
    script.write_text(LUA)
    results: dict[tuple[str, str, int], dict[str, float]] = {}
    overhead: dict[str, tuple[float, float, float]] = {}
    try:
        for task in args.models.split(","):
            print(f"# {task}: fitting and saving the default pipeline", flush=True)
            model_dir, x, pipe = fit_and_save(task, root)
            bodies = bodies_file(x, root, task)
            raw, pyfunc = raw_predict_p50(pipe, model_dir, x)
            print(f"# {task}: in-process p50 one row: estimator.predict {raw:.3f} ms, pyfunc.predict {pyfunc:.3f} ms")
            for kind in ("ours", "mlflow"):
                with server(kind, model_dir, root / f"{task}-reference.csv", args.workers, root) as url:
                    for c in CONCURRENCY:
                        r = run_wrk(url, script, bodies, c, args.duration)
                        results[(task, kind, c)] = r
                        extra = f"  rows/model call {batch_stats(url)}" if kind == "ours" else ""
                        print(f"{task:7s} {kind:6s} c={c:<3d} {r['rps']:9.1f} req/s  p50 {r['p50_ms']:8.2f} ms"
                              f"  p99 {r['p99_ms']:8.2f} ms  errors {int(r['errors'])}{extra}", flush=True)
            overhead[task] = (results[(task, "ours", 1)]["p50_ms"], raw, pyfunc)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print()
    print(f"| model | server | c | req/s | p50 ms | p99 ms |   (workers={args.workers}, {args.duration:.0f} s per run)")
    print("|---|---|---|---|---|---|")
    for (task, kind, c), r in results.items():
        print(f"| {task} | {kind} | {c} | {r['rps']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} |")
    print()
    for task in args.models.split(","):
        for c in CONCURRENCY:
            if (task, "mlflow", c) in results:
                ratio = results[(task, "ours", c)]["rps"] / max(results[(task, "mlflow", c)]["rps"], 1e-9)
                print(f"{task} ratio c={c}: {ratio:.1f}")
        p50, raw, pyfunc = overhead[task]
        print(f"{task} overhead c=1: p50 {p50:.2f} ms - estimator.predict {raw:.2f} ms = {p50 - raw:.2f} ms"
              f" (vs pyfunc.predict {pyfunc:.2f} ms: {p50 - pyfunc:.2f} ms)")
    tasks = args.models.split(",")
    fast, rf = tasks[0], tasks[-1]
    if (fast, "mlflow", 8) in results and (rf, "mlflow", 64) in results:
        r8 = results[(fast, "ours", 8)]["rps"] / results[(fast, "mlflow", 8)]["rps"]
        r64 = results[(rf, "ours", 64)]["rps"] / results[(rf, "mlflow", 64)]["rps"]
        print(f"ratio c=8: {r8:.1f}   ({fast}, target >= 3)")
        print(f"ratio c=64: {r64:.1f}   ({rf}, target >= 10; our p99 {results[(rf, 'ours', 64)]['p99_ms']:.1f} ms, target <= 150)")


if __name__ == "__main__":
    main()
