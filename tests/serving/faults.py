"""A fault-injecting HTTP proxy in front of a real server (no test functions here).

``FaultProxy(upstream)`` listens on a free 127.0.0.1 port and forwards every request to
``upstream`` unchanged, or, while ``fail_with`` is set to a status code, answers that status
with a plain-text body and no MLflow error payload, as a load balancer or an auth proxy does.
``requests`` counts what reached the proxy. Use it as a context manager.
"""

from __future__ import annotations

import http.server
import threading
import urllib.error
import urllib.request
from typing import Any

from tests.mlflow_server import free_port


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.fail_with: int | None = None
        self.requests = 0
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                proxy.requests += 1
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                if proxy.fail_with is not None:
                    payload = f"injected fault {proxy.fail_with}".encode()
                    self.send_response(proxy.fail_with)
                    self.send_header("content-type", "text/plain")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                req = urllib.request.Request(proxy.upstream + self.path, data=body, headers=headers,
                                             method=self.command)
                try:
                    with urllib.request.urlopen(req, timeout=60) as resp:
                        status, out, ctype = resp.status, resp.read(), resp.headers.get("content-type")
                except urllib.error.HTTPError as err:
                    status, out, ctype = err.code, err.read(), err.headers.get("content-type")
                self.send_response(status)
                if ctype:
                    self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
