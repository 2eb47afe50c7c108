"""ContainerImages on Minikube: build straight into the node's Docker daemon, push nothing.

The Docker provider talks to Minikube's daemon (``docker_host`` / ``docker_cert_path``: what
``minikube docker-env`` prints; empty means the ambient ``DOCKER_HOST``), so the image lands in
the image store the kubelet reads and the Deployment runs it with ``imagePullPolicy: Never``.
Needs Minikube's default ``docker`` container runtime (with containerd there is no daemon:
``minikube image build`` instead).
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pulumi
import pulumi_docker as docker

from ..images import TAG_LENGTH, TAG_PREFIX, ImageBuild, docker_build_args, image_name, plan_builds
from .daemon import check_daemon, daemon_endpoint, daemon_info, under_mocks

PULL_POLICY = "Never"


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    provider = docker.Provider(
        f"{name}-docker",
        docker.ProviderArgs(
            host=settings.docker_host or None,
            cert_path=settings.docker_cert_path or None,
        ),
        opts=pulumi.ResourceOptions(parent=component),
    )
    refs: dict[str, pulumi.Output[str]] = {}
    builds = plan_builds(settings)
    if not under_mocks():
        daemon_id = verified_daemon_id(settings)
        builds = {key: for_daemon(spec, daemon_id) for key, spec in builds.items()}
    for key, spec in builds.items():
        reference = image_name(settings.repository_urls, spec)
        image = docker.Image(
            f"{name}-{key}",
            image_name=reference,
            build=docker_build_args(spec),
            skip_push=True,
            opts=pulumi.ResourceOptions(parent=component, provider=provider),
        )
        # Local images have no registry digest (repo_digest is the image ID, which a pod
        # cannot name): deploy by the content tag, which changes with every rebuild.
        refs[key] = image.image_name
    return {
        "serving_image": refs["serving"],
        "training_image": refs["training"],
        "image_tags": {key: spec.tag for key, spec in builds.items()},
        "pull_policy": PULL_POLICY,
    }


def verified_daemon_id(settings: Any) -> str:
    """Ask the daemon the build would use; refuse the wrong daemon or architecture (one line)."""
    host, _, _ = daemon_endpoint(settings.docker_host, settings.docker_cert_path)
    info = daemon_info(settings.docker_host, settings.docker_cert_path, settings.docker_daemon_name)
    return check_daemon(info, host, settings.docker_daemon_name, settings.platform)


def for_daemon(spec: ImageBuild, daemon_id: str) -> ImageBuild:
    """The content tag salted with the daemon's ID: a new Minikube (a fresh image store) gets
    new tags, so lost images are rebuilt and rolled out; the same daemon keeps its tags."""
    digest = hashlib.sha256(f"{spec.tag}\0{daemon_id}".encode()).hexdigest()[:TAG_LENGTH]
    return dataclasses.replace(spec, tag=TAG_PREFIX + digest)
