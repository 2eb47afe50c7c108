"""Which Docker daemon a local build lands in, asked of the daemon itself (``GET /info``).

Two first-contact failures of the local target (issue 11, defect 6) have one cause: the program
cannot see the image store the kubelet reads.

* **Wrong daemon**: without ``eval $(minikube docker-env)`` (or ``dockerHost``), pulumi-docker
  builds into this machine's own daemon; the Deployment's ``imagePullPolicy: Never`` then leaves
  the pods in ``ErrImageNeverPull``. Minikube's daemon names itself after its node, which is the
  profile name (and the kubeconfig context). A build is refused in one line unless the daemon's
  ``Name`` is the expected one.
* **Lost images**: pulumi-docker does not reconcile a local image that disappeared (a Minikube
  delete/start gives a fresh ``/var/lib/docker``); the state still says "built", nothing is
  rebuilt, and the pods never start. The daemon's ``ID`` (created with its data directory) is
  mixed into the content tag: a new daemon means a new tag, so the images are rebuilt and the
  Deployment rolls to them on the next ``pulumi up``; the same daemon keeps the same tag (no
  rebuild, no rollout).

The daemon's ``Architecture`` is checked against the build platform (Apple-silicon Minikube
runs ``aarch64``; an ``amd64`` image there needs emulation or fails).

Under Pulumi mocks (the offline plan, tests) there is no daemon to ask: nothing is contacted.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..base import ArgsError

#: ``docker info``'s Architecture -> the build platform that runs natively on it.
NATIVE_PLATFORM = {"x86_64": "linux/amd64", "amd64": "linux/amd64", "aarch64": "linux/arm64", "arm64": "linux/arm64"}
_TIMEOUT_S = 10.0
_FIX = "run `eval $(minikube -p {name} docker-env)` before `pulumi up`, or set mlops-platform:dockerHost and dockerCertPath"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def _connection(host: str, cert_path: str, tls_verify: bool) -> http.client.HTTPConnection:
    url = urlsplit(host)
    if url.scheme == "unix":
        return _UnixConnection(url.path, _TIMEOUT_S)
    if url.scheme != "tcp":
        raise ArgsError(f"docker_host: {host!r} is not allowed; allowed: unix:///path or tcp://host:port")
    port = url.port or (2376 if cert_path else 2375)
    if not cert_path:
        return http.client.HTTPConnection(url.hostname or "", port, timeout=_TIMEOUT_S)
    certs = Path(cert_path).expanduser()
    context = ssl.create_default_context(cafile=str(certs / "ca.pem")) if tls_verify else ssl._create_unverified_context()
    if not tls_verify:
        context.check_hostname = False
    context.load_cert_chain(str(certs / "cert.pem"), str(certs / "key.pem"))
    return http.client.HTTPSConnection(url.hostname or "", port, timeout=_TIMEOUT_S, context=context)


def daemon_endpoint(docker_host: str, docker_cert_path: str) -> tuple[str, str, bool]:
    """(host, cert path, verify): the configured values, else the ambient DOCKER_* variables."""
    host = docker_host or os.environ.get("DOCKER_HOST", "") or "unix:///var/run/docker.sock"
    cert_path = docker_cert_path or (os.environ.get("DOCKER_CERT_PATH", "") if not docker_host else "")
    verify = os.environ.get("DOCKER_TLS_VERIFY", "1" if cert_path else "") not in ("", "0")
    return host, cert_path, verify or bool(docker_cert_path)


def daemon_info(docker_host: str, docker_cert_path: str, expected_name: str) -> dict[str, Any]:
    """``GET /info`` of the daemon a build would use; one line naming the fix when unreachable."""
    host, cert_path, verify = daemon_endpoint(docker_host, docker_cert_path)
    try:
        conn = _connection(host, cert_path, verify)
        try:
            conn.request("GET", "/info", headers={"Host": "docker"})
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise OSError(f"HTTP {response.status}")
        return json.loads(body)
    except (OSError, ssl.SSLError, ValueError, http.client.HTTPException) as exc:
        raise ArgsError(f"docker_host: cannot reach the Docker daemon at {host} ({exc}); "
                        + _FIX.format(name=expected_name)) from None


def check_daemon(info: dict[str, Any], host: str, expected_name: str, platform: str) -> str:
    """Refuse a daemon that is not Minikube's, or whose architecture does not run ``platform``
    natively; return the daemon's ID (what the content tag is salted with)."""
    name = str(info.get("Name", ""))
    if name != expected_name:
        raise ArgsError(
            f"docker_host: the Docker daemon at {host} is {name!r}, not Minikube's {expected_name!r}: "
            "images built there are invisible to the cluster (pods stay ErrImageNeverPull); "
            + _FIX.format(name=expected_name)
        )
    native = NATIVE_PLATFORM.get(str(info.get("Architecture", "")))
    if native and native != platform:
        raise ArgsError(
            f"platform: {platform!r} is not allowed; allowed: {native!r} (Minikube's daemon runs "
            f"{info.get('Architecture')}; set mlops-platform:imagePlatform {native})"
        )
    daemon_id = str(info.get("ID", ""))
    if not daemon_id:
        raise ArgsError(f"docker_host: the Docker daemon at {host} reports no ID; allowed: a Docker Engine daemon")
    return daemon_id


def under_mocks() -> bool:
    """True in the offline plan and the tests (Pulumi mocks): no daemon is asked anything."""
    from pulumi.runtime import settings
    from pulumi.runtime.mocks import MockMonitor

    return isinstance(getattr(settings.SETTINGS, "monitor", None), MockMonitor)
