"""Defect 6 of issue 11: a local build into the wrong Docker daemon, or after Minikube lost its
images, must not leave pods in ErrImageNeverPull. Checked against a Docker-API-shaped server on a
real unix socket (the daemon's ``GET /info``), never by asking our own code what it would do."""

from __future__ import annotations

import http.server
import json
import socketserver
import threading
from pathlib import Path

import pytest

from components.base import ArgsError, Settings
from components.images import plan_builds, resolve_images_args
from components.local.daemon import check_daemon, daemon_info
from components.local.images import for_daemon, verified_daemon_id

ROOT = Path(__file__).resolve().parents[2]


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def _fake_daemon(path: Path, info: dict) -> _UnixHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = json.dumps(info).encode() if self.path == "/info" else b"{}"
            self.send_response(200 if self.path == "/info" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(_UnixHTTPServer):
        def get_request(self):  # unix sockets have no peer address; http.server wants one
            sock, _ = super().get_request()
            return sock, ("local", 0)

    server = Server(str(path), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture()
def daemon(tmp_path):
    servers = []

    def start(**info):
        sock = tmp_path / f"docker{len(servers)}.sock"
        servers.append(_fake_daemon(sock, {"Name": "minikube", "Architecture": "x86_64", "ID": "ID-A", **info}))
        return f"unix://{sock}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _settings(host: str, **extra) -> Settings:
    return resolve_images_args({"target": "local", "repository_urls": {"serving": "serving", "training": "training"},
                                "context": str(ROOT), "docker_host": host, **extra})


def test_minikubes_daemon_is_accepted_and_salts_the_tag_with_its_id(daemon):
    host = daemon()
    assert verified_daemon_id(_settings(host)) == "ID-A"


def test_the_machines_own_daemon_is_refused_in_one_line(daemon):
    host = daemon(Name="my-laptop")
    with pytest.raises(ArgsError) as exc:
        verified_daemon_id(_settings(host))
    message = str(exc.value)
    assert "\n" not in message and "'my-laptop', not Minikube's 'minikube'" in message
    assert "eval $(minikube -p minikube docker-env)" in message and "ErrImageNeverPull" in message


def test_another_profile_is_expected_by_its_name(daemon):
    host = daemon(Name="ml")
    assert verified_daemon_id(_settings(host, docker_daemon_name="ml")) == "ID-A"
    with pytest.raises(ArgsError, match="not Minikube's 'minikube'"):
        verified_daemon_id(_settings(host))


def test_an_arm64_minikube_refuses_amd64_images_and_names_the_config_key(daemon):
    host = daemon(Architecture="aarch64")
    with pytest.raises(ArgsError, match=r"set mlops-platform:imagePlatform linux/arm64"):
        verified_daemon_id(_settings(host))
    assert verified_daemon_id(_settings(host, platform="linux/arm64")) == "ID-A"


def test_an_unreachable_daemon_is_one_line_naming_docker_env(tmp_path):
    with pytest.raises(ArgsError) as exc:
        daemon_info(f"unix://{tmp_path}/absent.sock", "", "minikube")
    assert "\n" not in str(exc.value) and "cannot reach the Docker daemon" in str(exc.value)
    assert "minikube -p minikube docker-env" in str(exc.value)


def test_a_new_daemon_means_new_tags_and_the_same_daemon_keeps_them(daemon):
    """After `minikube delete && minikube start` the image store is empty and the daemon has a new
    ID: the tags change, so pulumi-docker rebuilds and the Deployment rolls to the new images."""
    first, fresh = daemon(ID="ID-A"), daemon(ID="ID-B")
    settings_a, settings_b = _settings(first), _settings(fresh)
    builds = plan_builds(settings_a)
    tags_a = {k: for_daemon(b, verified_daemon_id(settings_a)).tag for k, b in builds.items()}
    again = {k: for_daemon(b, verified_daemon_id(settings_a)).tag for k, b in builds.items()}
    tags_b = {k: for_daemon(b, verified_daemon_id(settings_b)).tag for k, b in builds.items()}
    assert tags_a == again
    assert all(tags_a[k] != tags_b[k] for k in builds)
    assert all(t.startswith("ctx-") and len(t) == 20 for t in tags_b.values())


def test_wrong_daemon_info_is_checked_not_trusted():
    with pytest.raises(ArgsError, match="reports no ID"):
        check_daemon({"Name": "minikube", "Architecture": "x86_64"}, "unix:///x", "minikube", "linux/amd64")

