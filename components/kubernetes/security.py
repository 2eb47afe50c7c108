"""Hardened pod and container settings shared by every workload the platform runs.

Restricted Pod Security Standard: non-root, read-only root filesystem, no privilege escalation,
all capabilities dropped, RuntimeDefault seccomp. Writable paths are explicit emptyDir mounts.
"""

from __future__ import annotations

import pulumi_kubernetes.core.v1 as core

#: UID/GID the platform's own images run as (serving/Dockerfile and ml/Dockerfile create it).
APP_UID = 10001

RESTRICTED_NAMESPACE_LABELS = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": "restricted",
}


def container_security_context(uid: int = APP_UID) -> core.SecurityContextArgs:
    return core.SecurityContextArgs(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=uid,
        read_only_root_filesystem=True,
        allow_privilege_escalation=False,
        privileged=False,
        capabilities=core.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault"),
    )


def pod_security_context(uid: int = APP_UID) -> core.PodSecurityContextArgs:
    return core.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=uid,
        run_as_group=uid,
        fs_group=uid,
        seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault"),
    )


def resources(cpu_request: str, memory_request: str, cpu_limit: str, memory_limit: str) -> core.ResourceRequirementsArgs:
    return core.ResourceRequirementsArgs(
        requests={"cpu": cpu_request, "memory": memory_request},
        limits={"cpu": cpu_limit, "memory": memory_limit},
    )


def tmp_volume(name: str = "tmp", size: str = "256Mi") -> core.VolumeArgs:
    """A memory-backed /tmp: the only writable path besides explicit data volumes."""
    return core.VolumeArgs(name=name, empty_dir=core.EmptyDirVolumeSourceArgs(medium="Memory", size_limit=size))


def http_probe(path: str, port: str, period: int = 10, failures: int = 3, initial_delay: int = 0) -> core.ProbeArgs:
    return core.ProbeArgs(
        http_get=core.HTTPGetActionArgs(path=path, port=port),
        period_seconds=period,
        failure_threshold=failures,
        timeout_seconds=2,
        initial_delay_seconds=initial_delay,
    )
