"""Start a real ``mlflow server`` process on 127.0.0.1 for tests (no test functions here).

API (two names, both take a directory the caller owns, e.g. pytest's ``tmp_path_factory``):

``start_mlflow_server(tmp_dir, *, timeout=360.0) -> (uri, stop)``
    Starts ``mlflow server`` with a sqlite backend (``<tmp_dir>/mlflow.db``) and proxied
    artifacts in ``<tmp_dir>/artifacts`` (``--serve-artifacts``), on a free port of 127.0.0.1,
    one worker. Polls ``GET /health`` in a bounded loop and returns ``uri``
    (``http://127.0.0.1:<port>``) and ``stop()``, which terminates the process (idempotent).
    Raises ``RuntimeError`` with the server's log tail if it exits or is not healthy in time.

``mlflow_server(tmp_dir, *, timeout=360.0)``
    The same as a context manager yielding ``uri``; stops the server on exit.

The server's stdout/stderr go to ``<tmp_dir>/server.log``. Typical session fixture::

    @pytest.fixture(scope="session")
    def mlflow_uri(tmp_path_factory):
        with mlflow_server(tmp_path_factory.mktemp("mlflow")) as uri:
            yield uri
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["SERVER_ENV", "free_port", "mlflow_server", "start_mlflow_server", "stop_process_group"]

#: MLflow 3.17 starts a job runner (7 worker processes, ~1.8 GB RSS, children that survive
#: SIGTERM) unless told not to; nothing here uses server-side jobs. Telemetry is off so nothing
#: the tests start talks to anything beyond 127.0.0.1.
SERVER_ENV = {
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process_group(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """Stop a server started in its own session (``start_new_session=True``): SIGTERM to its
    whole process group (workers and jobs it spawned go too), SIGKILL after ``grace`` seconds."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _healthy(uri: str) -> bool:
    try:
        with urllib.request.urlopen(f"{uri}/health", timeout=5) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _log_tail(log_path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "<no log>"


def start_mlflow_server(
    tmp_dir: str | os.PathLike[str], *, timeout: float = 360.0
) -> tuple[str, Callable[[], None]]:
    """Start the server and wait for ``/health``; see the module docstring."""
    root = Path(tmp_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    artifacts = root / "artifacts"
    artifacts.mkdir(exist_ok=True)
    log_path = root / "server.log"
    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    # Run the mlflow CLI of the interpreter running the tests (the project's venv).
    cmd = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        f"sqlite:///{root / 'mlflow.db'}",
        "--serve-artifacts",
        "--artifacts-destination",
        str(artifacts),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    env = dict(os.environ)
    env.pop("MLFLOW_TRACKING_URI", None)
    env.update(SERVER_ENV)
    log = open(log_path, "wb")  # noqa: SIM115 - closed by stop()
    proc = subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, cwd=root, env=env, start_new_session=True
    )

    def stop() -> None:
        stop_process_group(proc)
        if not log.closed:
            log.close()

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            stop()
            raise RuntimeError(
                f"mlflow server exited with code {proc.returncode}:\n{_log_tail(log_path)}"
            )
        if _healthy(uri):
            return uri, stop
        time.sleep(0.25)
    stop()
    raise RuntimeError(f"mlflow server not healthy after {timeout:.0f}s:\n{_log_tail(log_path)}")


@contextlib.contextmanager
def mlflow_server(tmp_dir: str | os.PathLike[str], *, timeout: float = 360.0) -> Iterator[str]:
    """Context-manager form of ``start_mlflow_server``: yields the URI, stops on exit."""
    uri, stop = start_mlflow_server(tmp_dir, timeout=timeout)
    try:
        yield uri
    finally:
        stop()
