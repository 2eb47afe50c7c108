"""Pulumi mocks for the capture harness: plausible outputs for every resource and invoke the
program declares, so it runs end to end with no engine, cloud or cluster.

Cloud-specific outputs (ARNs, ids, invoke results) come from ``mocks_aws.py`` and
``mocks_azure.py``: each exposes ``RESOURCE_OUTPUTS`` (type token -> fn(args) -> extra state)
and ``CALLS`` (invoke token -> fn(args) -> result).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pulumi

ResourceFn = Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]
CallFn = Callable[[pulumi.runtime.MockCallArgs], dict[str, Any]]


def _load_tables() -> tuple[dict[str, ResourceFn], dict[str, CallFn]]:
    outputs: dict[str, ResourceFn] = {}
    calls: dict[str, CallFn] = {}
    for module in ("stacks.mocks_docker", "stacks.mocks_aws", "stacks.mocks_azure"):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        outputs.update(getattr(mod, "RESOURCE_OUTPUTS", {}))
        calls.update(getattr(mod, "CALLS", {}))
    return outputs, calls


class PlatformMocks(pulumi.runtime.Mocks):
    """Echo inputs back as state; ids are the logical name (or metadata.name on Kubernetes)."""

    def __init__(self) -> None:
        self.resource_outputs, self.calls = _load_tables()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        state = dict(args.inputs)
        if args.typ.startswith("kubernetes:"):
            metadata = dict(state.get("metadata") or {})
            metadata.setdefault("name", args.name)
            state["metadata"] = metadata
            resource_id = f"{metadata.get('namespace', 'default')}/{metadata['name']}"
        else:
            resource_id = args.resource_id or args.name
        extra = self.resource_outputs.get(args.typ)
        if extra is not None:
            state.update(extra(args))
        # A mock may give the resource a realistic id (an ARM id that components pass on).
        resource_id = state.pop("__id", resource_id)
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> Any:  # a dict: the SDK also takes (dict, deps)
        fn = self.calls.get(args.token)
        if fn is None:
            raise NotImplementedError(f"no mock for invoke {args.token}; add one to stacks/mocks_<cloud>.py")
        return fn(args)
