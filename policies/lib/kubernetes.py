"""Pod specs inside Kubernetes workload objects, as the engine sends them (camelCase,
``{"metadata": ..., "spec": ...}``).

A ``helm.v3.Release`` (or ``helm.v4.Chart``) renders its pods inside the provider, so their
specs never reach a policy: charts are outside these rules and have to be hardened through
their values (the Release's ``values`` input) and reviewed on their own.
"""

from __future__ import annotations

import re
from typing import Any

from . import types as t
from .props import as_list, dig, is_map

#: Workload type -> path from the object to its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    t.K8S_POD: ("spec",),
    t.K8S_DEPLOYMENT: ("spec", "template", "spec"),
    t.K8S_STATEFUL_SET: ("spec", "template", "spec"),
    t.K8S_DAEMON_SET: ("spec", "template", "spec"),
    t.K8S_REPLICA_SET: ("spec", "template", "spec"),
    t.K8S_JOB: ("spec", "template", "spec"),
    t.K8S_CRON_JOB: ("spec", "jobTemplate", "spec", "template", "spec"),
}
#: The ``*Patch`` resources (server-side apply) carry the same shape as their workload.
POD_SPEC_PATHS.update({
    t.K8S_POD_PATCH: POD_SPEC_PATHS[t.K8S_POD],
    t.K8S_DEPLOYMENT_PATCH: POD_SPEC_PATHS[t.K8S_DEPLOYMENT],
    t.K8S_STATEFUL_SET_PATCH: POD_SPEC_PATHS[t.K8S_STATEFUL_SET],
    t.K8S_DAEMON_SET_PATCH: POD_SPEC_PATHS[t.K8S_DAEMON_SET],
    t.K8S_REPLICA_SET_PATCH: POD_SPEC_PATHS[t.K8S_REPLICA_SET],
    t.K8S_JOB_PATCH: POD_SPEC_PATHS[t.K8S_JOB],
    t.K8S_CRON_JOB_PATCH: POD_SPEC_PATHS[t.K8S_CRON_JOB],
})
#: Every type the pod rules read (workloads and their patches).
WORKLOAD_TYPES: tuple[str, ...] = tuple(POD_SPEC_PATHS)
#: Patches only name the fields they change: a field they leave out is not a violation.
PATCHES = frozenset(t.K8S_WORKLOAD_PATCHES)

#: Workloads whose containers run to completion; liveness/readiness probes do not apply.
RUN_TO_COMPLETION = frozenset({t.K8S_JOB, t.K8S_CRON_JOB, t.K8S_JOB_PATCH, t.K8S_CRON_JOB_PATCH})


def kind(resource_type: str) -> str:
    return resource_type.rsplit(":", 1)[-1]


def is_workload(resource_type: str) -> bool:
    return resource_type in POD_SPEC_PATHS


def pod_spec(resource_type: str, props: Any) -> Any:
    """The pod spec of a workload object, or ``None`` (not a workload / not declared)."""
    path = POD_SPEC_PATHS.get(resource_type)
    if path is None:
        return None
    spec = dig(props, *path)
    return spec if is_map(spec) else None


def is_patch(resource_type: str) -> bool:
    """A ``*Patch`` resource: a field it leaves out keeps the live object's value."""
    return resource_type in PATCHES


def containers(spec: Any, *, init: bool = True, ephemeral: bool = True) -> list[tuple[str, Any]]:
    """``[(label, container)]`` for the pod's containers (and init and ephemeral containers),
    label such as ``container 'server'``, ``init container 'migrate'`` or ``ephemeral container
    'debug'`` (``kubectl debug`` adds those; a Pod object may declare them too)."""
    out: list[tuple[str, Any]] = []
    keys: tuple[tuple[str, str], ...] = (("containers", "container"),)
    if init:
        keys += (("initContainers", "init container"),)
    if ephemeral:  # the API refuses resources and probes on ephemeral containers
        keys += (("ephemeralContainers", "ephemeral container"),)
    for key, label in keys:
        for index, container in enumerate(as_list(dig(spec, key))):
            if is_map(container):
                out.append((f"{label} '{dig(container, 'name', default=index)}'", container))
    return out


def describe(resource_type: str, name: str) -> str:
    """``Deployment 'serving'``: how messages name a Kubernetes object."""
    return f"{kind(resource_type)} '{name}'"


def namespace_of(props: Any) -> str:
    """The object's namespace (``default`` when unset).

    Under the capture harness's mocks a reference to a Namespace resolves to its mock id,
    ``<namespace>/<name>`` (here ``default/<name>``); the last segment is the namespace name.
    """
    value = dig(props, "metadata", "namespace")
    if not isinstance(value, str) or not value:
        return "default"
    return value.rsplit("/", 1)[-1]


def label_value(value: str) -> str:
    """A tag value as the components turn it into a label value (``components/tags.py``):
    characters outside ``[A-Za-z0-9_.-]`` become ``-``, at most 63, alphanumeric at both ends."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", value)[:63].strip("-_.")
