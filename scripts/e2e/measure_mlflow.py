"""Measure the memory of a real ``mlflow server`` started exactly as the local target declares
it (components/kubernetes/mlflow.py: command and env), on 127.0.0.1, with its data in a temp dir.

Prints one line per process-tree sample and a summary: peak summed RSS and PSS (MiB) of the
server's process group after startup and after a burst of registry calls. ``--job-runner`` keeps
MLflow's default job runner (the defect: ~1.8 GiB); without it the declared env applies.

    uv run --frozen python scripts/e2e/measure_mlflow.py [--job-runner] [--seconds 40]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from components.kubernetes.mlflow import DATA_PATH, mlflow_command, mlflow_env  # noqa: E402
from tests.mlflow_server import free_port  # noqa: E402


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                pass
    return pids


def _mib(pid: int, field: str) -> float:
    path = "smaps_rollup" if field == "Pss" else "status"
    key = "Pss:" if field == "Pss" else "VmRSS:"
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--job-runner", action="store_true", help="leave MLflow's job runner on (the default)")
    parser.add_argument("--seconds", type=float, default=40.0)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="mlflow-measure-"))
    port = free_port()
    command = [arg.replace(f"{DATA_PATH}/", f"{data}/", 1) for arg in mlflow_command(allowed_hosts=[f"127.0.0.1:{port}", "127.0.0.1"])]
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    env = {**os.environ, **{e["name"]: e["value"] for e in mlflow_env()}, "HOME": str(data)}
    if args.job_runner:
        env.pop("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", None)
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    log = open(data / "server.log", "wb")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    peak_rss = peak_pss = 0.0
    deadline = time.monotonic() + args.seconds
    calls = 0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(2)
            try:
                for _ in range(5):
                    urllib.request.urlopen(f"{uri}/api/2.0/mlflow/experiments/search?max_results=10", timeout=5).read()
                    calls += 1
            except OSError:
                pass
            pids = _group_pids(proc.pid)
            rss = sum(_mib(p, "Rss") for p in pids)
            pss = sum(_mib(p, "Pss") for p in pids)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            print(f"t={args.seconds - (deadline - time.monotonic()):5.1f}s processes={len(pids)} rss={rss:7.1f}MiB pss={pss:7.1f}MiB")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
    load = os.getloadavg()
    print(f"mlflow server ({'job runner ON' if args.job_runner else 'job runner off'}): peak rss {peak_rss:.0f} MiB, "
          f"peak pss {peak_pss:.0f} MiB, {calls} API calls answered; load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
