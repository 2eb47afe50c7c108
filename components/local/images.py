"""ContainerImages on Minikube: build straight into the node's Docker daemon, push nothing.

The Docker provider talks to Minikube's daemon (``docker_host`` / ``docker_cert_path``: what
``minikube docker-env`` prints; empty means the ambient ``DOCKER_HOST``), so the image lands in
the image store the kubelet reads and the Deployment runs it with ``imagePullPolicy: Never``.
Needs Minikube's default ``docker`` container runtime (with containerd there is no daemon:
``minikube image build`` instead).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_docker as docker

from ..images import docker_build_args, image_name, plan_builds

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
