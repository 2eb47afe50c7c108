"""Health probes on their own port and thread, never queued behind inference.

With ``SERVING_PROBE_PORT`` set (the Kubernetes Deployment sets it and points its startup,
liveness and readiness probes there), a daemon thread answers ``GET /health/live``,
``GET /health/ready`` and ``GET /ping`` on that port with the same answers as the main port.

Why a thread of its own: a probe on the main port is one more request in the event loop's
queue. Under heavy load (issue 18, defect 5: 1000-row requests at c=64) it waited behind the
decoding, validation and answers of every request ahead of it — seconds, past the probe's
timeout, so a pod under legitimate load was taken out of the Service and restarted. This
listener does not touch the event loop, the micro-batcher or the inference thread: it reads
two attributes of the service and writes a few bytes. Admission control
(``SERVING_MAX_INFLIGHT_ROWS``) bounds the main port's queue for the routes that must stay
there (SageMaker's ``/ping`` on 8080, Azure ML's probe routes).

Liveness here means the event loop still turns: a task in the loop stamps a heartbeat every
0.5 s, and ``/health/live`` answers 503 once the stamp is older than ``LOOP_STALL_S`` (a loop
that is stuck, not one that is busy, gets the pod restarted).

Several uvicorn workers each bind the port with ``SO_REUSEPORT``; the kernel spreads probes
over them and each answers for its own process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from serving.contract import HEALTH_LIVE_PATH, HEALTH_READY_PATH, SAGEMAKER_PING_PATH

log = logging.getLogger("serving")

#: /health/live on the probe port fails once the event loop has not turned for this long.
LOOP_STALL_S = 60.0
HEARTBEAT_S = 0.5
_READ_TIMEOUT_S = 1.0  # a client that sends no request line in time is dropped
_MAX_REQUEST_BYTES = 8192

Answer = tuple[int, dict[str, Any]]


class ProbeListener:
    """A minimal HTTP/1.x responder for the probe routes (one connection at a time)."""

    def __init__(self, host: str, port: int, readiness: Callable[[], Answer]) -> None:
        self.readiness = readiness
        self.heartbeat = time.monotonic()
        self.served = 0
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with contextlib.suppress(AttributeError, OSError):
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self._sock.bind((host, port))
        self._sock.listen(64)
        self._sock.settimeout(0.5)  # lets stop() end the accept loop
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="serving-probes", daemon=True)
        self._beat: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._beat = asyncio.get_running_loop().create_task(self._heartbeat(), name="probe-heartbeat")
        self._thread.start()
        log.info("health probes on port %d", self.port)

    async def stop(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
        await asyncio.to_thread(self._thread.join, 5)
        self._sock.close()

    async def _heartbeat(self) -> None:
        while True:
            self.heartbeat = time.monotonic()
            await asyncio.sleep(HEARTBEAT_S)

    def answer(self, path: str) -> Answer:
        if path == HEALTH_LIVE_PATH:
            stalled = time.monotonic() - self.heartbeat
            if stalled > LOOP_STALL_S:
                return 503, {"status": "stalled", "reason": f"the event loop has not run for {stalled:.0f} s"}
            return 200, {"status": "alive"}
        if path in (HEALTH_READY_PATH, SAGEMAKER_PING_PATH):
            return self.readiness()
        return 404, {"error": {"code": "not_found", "message": f"the probe port serves {HEALTH_LIVE_PATH}, "
                                                                 f"{HEALTH_READY_PATH} and {SAGEMAKER_PING_PATH}"}}

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue
            with conn:
                try:
                    self._handle(conn)
                except Exception as exc:  # a broken client never ends the listener
                    log.debug("probe connection failed: %s", exc)

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(_READ_TIMEOUT_S)
        data = b""
        while b"\r\n\r\n" not in data and b"\n\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
            if len(data) > _MAX_REQUEST_BYTES:
                self._send(conn, 431, {"error": {"code": "request_too_large", "message": "headers too large"}}, True)
                return
        line = data.split(b"\n", 1)[0].decode("latin-1").strip().split()
        if len(line) != 3 or not line[2].startswith("HTTP/"):
            self._send(conn, 400, {"error": {"code": "malformed_request", "message": "not an HTTP request"}}, True)
            return
        method, target = line[0], line[1].split("?", 1)[0]
        if method not in ("GET", "HEAD"):
            self._send(conn, 405, {"error": {"code": "method_not_allowed", "message": "GET only"}}, True)
            return
        status, body = self.answer(target)
        self._send(conn, status, body, method == "GET")
        self.served += 1

    @staticmethod
    def _send(conn: socket.socket, status: int, body: dict[str, Any], with_body: bool) -> None:
        payload = json.dumps(body).encode()
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
                  431: "Request Header Fields Too Large", 503: "Service Unavailable"}.get(status, "")
        head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(payload)}\r\nconnection: close\r\n\r\n").encode()
        conn.sendall(head + payload if with_body else head)
