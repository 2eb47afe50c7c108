"""Our serving app beside the servers a user would otherwise pick, each at its batching best.

    .venv/bin/python benchmarks/serving_peers.py [--duration 4] [--rounds 2] [--models demand]

Servers, each in its own environment, all serving the same fitted pipeline (the demand
HistGradientBoosting of ``ml.tasks``; ``--models demand,iris`` adds the iris forest):

* ours:     ``python -m serving`` (project venv), micro-batching on, ``POST /invocations``;
* mlflow:   ``mlflow models serve --env-manager local`` (project venv), ``POST /invocations``;
* mlserver: Seldon MLServer + mlserver-sklearn with adaptive batching (max_batch_size 64,
            max_batch_time 2 ms), V2 ``POST /v2/models/<m>/infer`` with a pandas-coded request;
* litserve: LitServe with batching (max_batch_size 64, batch_timeout 2 ms), ``POST /predict``.

MLServer and LitServe live in their own uv environments under ``$XDG_CACHE_HOME/
mlops-platform-bench`` (created on first use with ``uv venv`` + ``uv pip install``; never the
project venv). Payloads: 1-row and 100-row requests (64 distinct bodies each, cycled by a wrk
Lua script) at concurrency 8 and 64. All servers start first (cold start = process start to
the first 200 on its readiness route *and* a first prediction, each started alone), then every
(payload, concurrency) point runs the servers one after another, ``--rounds`` times, so the
machine's load drifts over all of them alike. Each run reports req/s, p50, p99, errors (wrk
counts every non-2xx, so our admission control's 503s show here), the servers' RSS and CPU ms
per request (utime+stime of the server's whole process group from /proc), the load average,
and the p99/max latency of the readiness probe polled every 50 ms during the run: ours on its
probe port (``SERVING_PROBE_PORT``, what the Kubernetes Deployment probes) and, in brackets,
on its serving port (SageMaker's /ping is there); the peers' on their serving port. Then the
ratios of ours to the best peer at each point. ``--rows 1000`` adds the heaviest payload.

Nothing here asserts; figures are printed. The machine is shared: compare ratios of one run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.serving import LUA, fit_and_save  # noqa: E402
from tests.mlflow_server import free_port, stop_process_group  # noqa: E402

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mlops-platform-bench"
PEER_ENVS = {
    "mlserver": ["mlserver", "mlserver-sklearn"],
    "litserve": ["litserve", "pandas"],
}
N_BODIES = 64
LITSERVE_APP = r'''
import sys
import cloudpickle, pandas as pd, litserve as ls

class API(ls.LitAPI):
    def setup(self, device):
        with open(sys.argv[1] + "/model.pkl", "rb") as f:
            self.model = cloudpickle.load(f)
    def decode_request(self, request):
        s = request["dataframe_split"]
        return pd.DataFrame(s["data"], columns=s["columns"])
    def batch(self, inputs):
        return inputs
    def predict(self, frames):
        frames = frames if isinstance(frames, list) else [frames]
        out = self.model.predict(pd.concat(frames, ignore_index=True)).tolist()
        res, o = [], 0
        for f in frames:
            res.append(out[o:o + len(f)])
            o += len(f)
        return res
    def unbatch(self, output):
        return output
    def encode_response(self, output):
        return {"predictions": output}

if __name__ == "__main__":
    try:
        api = API(max_batch_size=64, batch_timeout=0.002)
        server = ls.LitServer(api, accelerator="cpu", workers_per_device=1)
    except TypeError:
        server = ls.LitServer(API(), accelerator="cpu", max_batch_size=64, batch_timeout=0.002)
    server.run(port=int(sys.argv[2]), host="127.0.0.1", generate_client_file=False)
'''


def peer_python(kind: str) -> Path:
    """The interpreter of a peer's own environment (made on first use)."""
    env = CACHE / kind
    python = env / "bin" / "python"
    if not python.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        import sklearn

        subprocess.run(["uv", "venv", "-q", "-p", f"{sys.version_info.major}.{sys.version_info.minor}", str(env)], check=True)
        subprocess.run(["uv", "pip", "install", "-q", "--python", str(python), *PEER_ENVS[kind],
                        f"scikit-learn=={sklearn.__version__}", "cloudpickle"], check=True)
    return python


# -- request bodies ------------------------------------------------------------------------

def split_body(frame: Any) -> dict[str, Any]:
    return {"dataframe_split": json.loads(frame.to_json(orient="split", index=False))}


def v2_body(frame: Any) -> dict[str, Any]:
    inputs = []
    for col in frame.columns:
        kind = frame[col].dtype.kind
        datatype = "INT64" if kind in "iu" else "FP64" if kind == "f" else "BYTES"
        inputs.append({"name": col, "shape": [len(frame)], "datatype": datatype,
                       "data": frame[col].tolist()})
    return {"inputs": inputs, "parameters": {"content_type": "pd"}}


def write_bodies(x: Any, rows: int, root: Path, tag: str) -> dict[str, Path]:
    files = {}
    samples = [x.sample(n=rows, random_state=i, replace=len(x) < rows) for i in range(N_BODIES)]
    for fmt, encode in (("split", split_body), ("v2", v2_body)):
        path = root / f"{tag}-{rows}-{fmt}.txt"
        with path.open("w") as f:
            for frame in samples:
                f.write(json.dumps(encode(frame)) + "\n")
        files[fmt] = path
    return files


# -- servers -------------------------------------------------------------------------------

class Server:
    def __init__(self, kind: str, model_dir: Path, reference: Path, root: Path) -> None:
        self.kind, self.model_dir, self.port = kind, model_dir, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = root / f"{kind}-{model_dir.name}.log"
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
        env["PATH"] = os.pathsep.join((str(Path(sys.executable).parent), env.get("PATH", "")))
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        name = model_dir.name
        if kind == "ours":
            probe_port = free_port()
            env.update(SERVING_MODEL_URI=str(model_dir), SERVING_PORT=str(self.port), SERVING_HOST="127.0.0.1",
                       SERVING_DRIFT_REFERENCE_PATH=str(reference), SERVING_DRIFT_INTERVAL_S="2",
                       SERVING_LOG_LEVEL="warning", SERVING_PROBE_PORT=str(probe_port))
            self.probe_url = f"http://127.0.0.1:{probe_port}/health/ready"  # what the Deployment probes
            self.cmd, self.ready, self.route, self.fmt = [sys.executable, "-m", "serving"], "/health/ready", "/invocations", "split"
        elif kind == "mlflow":
            self.cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model_dir), "--env-manager",
                        "local", "-h", "127.0.0.1", "-p", str(self.port), "-w", "1"]
            self.ready, self.route, self.fmt = "/ping", "/invocations", "split"
        elif kind == "mlserver":
            folder = root / f"mlserver-{name}"
            (folder / name).mkdir(parents=True, exist_ok=True)
            (folder / "settings.json").write_text(json.dumps({
                "host": "127.0.0.1", "http_port": self.port, "grpc_port": free_port(), "metrics_port": free_port(),
                # inference in the server process: its worker pool died at start on this loaded
                # machine (WorkerStop, exit code 256), and one process matches the other servers
                "parallel_workers": 0,
            }))
            (folder / name / "model-settings.json").write_text(json.dumps({
                "name": name, "implementation": "mlserver_sklearn.SKLearnModel",
                "parameters": {"uri": str(model_dir / "model.pkl")},
                "max_batch_size": 64, "max_batch_time": 0.002,
            }))
            python = peer_python("mlserver")
            env["PATH"] = os.pathsep.join((str(python.parent), os.environ.get("PATH", "")))
            env.pop("PYTHONPATH")
            self.cmd = [str(python.parent / "mlserver"), "start", str(folder)]
            self.ready, self.route, self.fmt = "/v2/health/ready", f"/v2/models/{name}/infer", "v2"
        elif kind == "litserve":
            app = root / "litserve_app.py"
            app.write_text(LITSERVE_APP)
            env.pop("PYTHONPATH")
            self.cmd = [str(peer_python("litserve")), str(app), str(model_dir), str(self.port)]
            self.ready, self.route, self.fmt = "/health", "/predict", "split"
        else:
            raise ValueError(kind)
        self.env = env
        if kind != "ours":
            self.probe_url = self.url + self.ready  # peers answer probes on their serving port
        self.proc: subprocess.Popen[bytes] | None = None
        self.cold_start_s = float("nan")

    def start(self, first_body: bytes) -> None:
        log = open(self.log_path, "wb")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                     start_new_session=True)
        deadline = t0 + 300
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited: {self.log_path.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.kind} not ready in 300 s: {self.log_path}")
            with contextlib.suppress(urllib.error.URLError, OSError):
                with urllib.request.urlopen(self.url + self.ready, timeout=2) as r:
                    if r.status == 200 and self._predict_ok(first_body):
                        break
            time.sleep(0.1)
        self.cold_start_s = time.monotonic() - t0

    def _predict_ok(self, body: bytes) -> bool:
        req = urllib.request.Request(self.url + self.route, data=body, headers={"Content-Type": "application/json"})
        with contextlib.suppress(urllib.error.URLError, OSError):
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status == 200
        return False

    def pids(self) -> list[int]:
        assert self.proc is not None
        out = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError, IndexError, ValueError):
                    fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                    if int(fields[2]) == self.proc.pid:  # pgrp (own session: the whole tree)
                        out.append(int(entry))
        return out

    def cpu_s(self) -> float:
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError, IndexError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime + stime (clock ticks)
        return total / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                m = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
                total += int(m.group(1)) if m else 0
        return total / 1024

    def stop(self) -> None:
        if self.proc is not None:
            stop_process_group(self.proc, grace=20)


class ProbePoller:
    """GET the readiness route every 50 ms during a run; latencies in ms."""

    def __init__(self, url: str) -> None:
        self.url, self.latencies, self._stop = url, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=10) as r:
                    r.read()
            except (urllib.error.URLError, OSError):
                pass
            self.latencies.append((time.perf_counter() - t) * 1000)
            self._stop.wait(0.05)

    def __enter__(self) -> ProbePoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=15)


def run_wrk(server: Server, script: Path, bodies: Path, conns: int, duration: float) -> dict[str, float]:
    target = server.url + server.route
    base = ["wrk", f"-t{min(conns, 2)}", f"-c{conns}", "--timeout", "10s", "-s", str(script)]
    subprocess.run([*base, "-d1s", target, "--", str(bodies)], capture_output=True, timeout=60, check=True)
    cpu0 = server.cpu_s()
    main_ready = server.url + server.ready
    with ProbePoller(server.probe_url) as probes, ProbePoller(main_ready) as main_probes:
        res = subprocess.run([*base, f"-d{int(duration)}s", target, "--", str(bodies)],
                             capture_output=True, text=True, timeout=duration + 60, check=True)
    cpu = server.cpu_s() - cpu0
    m = re.search(r"RESULT requests=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+) errors=(\d+)", res.stdout)
    if not m:
        raise RuntimeError(f"wrk output not understood:\n{res.stdout}\n{res.stderr}")
    req, dur, p50, p99, err = (int(g) for g in m.groups())
    lat = sorted(probes.latencies) or [float("nan")]
    main = sorted(main_probes.latencies) or [float("nan")]
    return {"rps": req / (dur / 1e6), "p50_ms": p50 / 1000, "p99_ms": p99 / 1000, "errors": err,
            "cpu_ms_per_req": 1000 * cpu / max(req, 1), "rss_mb": server.rss_mb(),
            "probe_p99_ms": lat[min(len(lat) - 1, int(0.99 * len(lat)))], "probe_max_ms": lat[-1],
            "main_probe_p99_ms": main[min(len(main) - 1, int(0.99 * len(main)))],
            "load1": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--models", default="demand")
    parser.add_argument("--servers", default="ours,mlflow,mlserver,litserve")
    parser.add_argument("--rows", default="1,100")
    parser.add_argument("--concurrency", default="8,64")
    parser.add_argument("--parallel-start", action="store_true",
                        help="start all servers at once (faster; cold starts then overlap)")
    args = parser.parse_args()
    kinds = args.servers.split(",")
    print(f"load average at start: {' '.join(f'{v:.1f}' for v in os.getloadavg())} (cores: {os.cpu_count()})")
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        root = Path(tmp)
        script = root / "bodies.lua"
        script.write_text(LUA)
        for task in args.models.split(","):
            model_dir, x, _ = fit_and_save(task, root)
            reference = root / f"{task}-reference.csv"
            bodies = {int(n): write_bodies(x, int(n), root, task) for n in args.rows.split(",")}
            servers = [Server(k, model_dir, reference, root) for k in kinds]
            try:
                def start(s: Server) -> None:
                    first = bodies[min(bodies)][s.fmt].read_text().splitlines()[0].encode()
                    try:
                        s.start(first)
                    except Exception as exc:  # a peer that cannot start is reported, not fatal
                        print(f"{task} {s.kind:9s} FAILED to start: {str(exc)[-300:]}", flush=True)
                        s.stop()
                        s.proc = None
                        return
                    print(f"{task} {s.kind:9s} cold start {s.cold_start_s:6.2f} s  idle RSS {s.rss_mb():7.1f} MB"
                          f"  load {os.getloadavg()[0]:.1f}", flush=True)

                if args.parallel_start:
                    threads = [threading.Thread(target=start, args=(s,)) for s in servers]
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()
                else:
                    for s in servers:  # one at a time: cold start alone
                        start(s)
                servers = [s for s in servers if s.proc is not None]
                kinds = [s.kind for s in servers]
                results: dict[tuple[int, int, str], list[dict[str, float]]] = {}
                for rows in bodies:
                    for conns in (int(c) for c in args.concurrency.split(",")):
                        for _ in range(args.rounds):
                            for s in servers:
                                r = run_wrk(s, script, bodies[rows][s.fmt], conns, args.duration)
                                results.setdefault((rows, conns, s.kind), []).append(r)
                                print(f"{task} rows={rows:<4d} c={conns:<3d} {s.kind:9s} {r['rps']:8.0f} req/s  "
                                      f"p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:8.2f} ms  err {r['errors']:<5d} "
                                      f"cpu {r['cpu_ms_per_req']:6.2f} ms/req  rss {r['rss_mb']:6.0f} MB  "
                                      f"probe p99 {r['probe_p99_ms']:7.1f} max {r['probe_max_ms']:7.1f} ms  "
                                      f"(main port {r['main_probe_p99_ms']:7.1f})  "
                                      f"load {r['load1']:.1f}", flush=True)
                print(f"\n{task}: medians over rounds; ratio = ours / best peer (req/s: higher is better)")
                for rows in bodies:
                    for conns in (int(c) for c in args.concurrency.split(",")):
                        med = {k: {m: statistics.median(r[m] for r in results[(rows, conns, k)])
                                   for m in results[(rows, conns, k)][0]} for k in kinds}
                        peers = {k: v for k, v in med.items() if k != "ours"}
                        if "ours" not in med or not peers:
                            continue
                        best = max(peers, key=lambda k: peers[k]["rps"])
                        o = med["ours"]
                        def div(a: float, b: float) -> float:  # a run may finish no request (0 req/s)
                            return a / b if b else float("nan")

                        line = (f"ratio rows={rows} c={conns}: {div(o['rps'], peers[best]['rps']):.2f}x best peer ({best}); "
                                f"ours p99/p50 {div(o['p99_ms'], o['p50_ms']):.1f}; ours probe p99 {o['probe_p99_ms']:.1f} ms")
                        if "mlflow" in peers:
                            line += f"; vs mlflow {div(o['rps'], peers['mlflow']['rps']):.1f}x"
                        line += "; cpu ms/req " + ", ".join(f"{k} {v['cpu_ms_per_req']:.2f}" for k, v in med.items())
                        print(line)
                fastest_peer = min((s for s in servers if s.kind != "ours"), key=lambda s: s.cold_start_s, default=None)
                ours = next((s for s in servers if s.kind == "ours"), None)
                if ours and fastest_peer:
                    print(f"cold start: ours {ours.cold_start_s:.2f} s, fastest peer {fastest_peer.kind} "
                          f"{fastest_peer.cold_start_s:.2f} s (ratio {ours.cold_start_s / max(fastest_peer.cold_start_s, 1e-9):.2f})")
            finally:
                for s in servers:
                    s.stop()
            kinds = args.servers.split(",")
    print(f"load average at end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
