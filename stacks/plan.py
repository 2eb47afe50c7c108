"""The capture harness: run the stack program under Pulumi mocks with a stack's config and
return every resource it declares; ``python -m stacks.plan <stack>`` prints them with the
policy verdicts.

This is an OFFLINE view of what the program declares, not a preview of what a cloud would
accept: no engine, provider, credentials or cluster are involved, and computed values are mocks.

JSON shape (``--json``), one object per resource, components included (``custom: false``)::

    {"urn", "type", "name", "parent" (URN | null), "custom" (bool),
     "inputs" (camelCase, as the engine would send them), "dependencies" ([URN]),
     "property_dependencies" ({input key: [URN]}), "provider" (provider reference | null),
     "protect" (bool), "delete_before_replace" (bool), "replace_on_changes" ([input key])}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import runpy
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

from .mocks import PlatformMocks

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "stacks" / "__main__.py"
PROJECT = "mlops-platform"
DISCLAIMER = (
    "offline plan: what the program declares, run under Pulumi mocks with no engine, cloud or "
    "cluster; not a preview of what a provider would accept"
)


class RecordingMonitor(MockMonitor):
    """A MockMonitor that also records parent, dependencies, provider, protect and the
    replacement options (deleteBeforeReplace, replaceOnChanges).

    RegisterResource runs on worker threads: every record is appended under a lock.
    """

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self._lock = threading.Lock()
        self.records: list[dict[str, Any]] = []

    def RegisterResource(self, request):  # noqa: N802 (gRPC name)
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        record = {
            "urn": response.urn,
            "type": request.type,
            "name": request.name,
            "parent": request.parent or None,
            "custom": bool(request.custom),
            "inputs": _plain(rpc.deserialize_properties(request.object)),
            "dependencies": list(request.dependencies),
            "property_dependencies": {
                key: list(value.urns) for key, value in request.propertyDependencies.items()
            },
            "provider": request.provider or None,
            "protect": bool(request.protect),
            # Replacement options, for tests of how a change rolls out.
            "delete_before_replace": bool(request.deleteBeforeReplace),
            "replace_on_changes": list(request.replaceOnChanges),
        }
        with self._lock:
            self.records.append(record)
        return response


def _plain(value: Any) -> Any:
    """JSON-safe copy: secrets unwrapped, unknowns and resources as strings."""
    if isinstance(value, dict):
        if rpc._special_sig_key in value and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return _plain(value.get("value"))
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, pulumi.Resource):
        return f"<resource {type(value).__name__}>"
    return str(value)


def _split_key(key: str) -> tuple[str, str]:
    """``(namespace, name)`` of a config key as Pulumi reads it: ``aws:region`` belongs to the
    aws provider, ``mlops-platform:x`` and a bare ``x`` to this project."""
    namespace, sep, name = key.partition(":")
    return (namespace, name) if sep else (PROJECT, key)


def _all_config(stack: str, overrides: dict[str, Any] | None) -> dict[tuple[str, str], Any]:
    """Pulumi.yaml defaults, then Pulumi.<stack>.yaml, then overrides, keyed by
    ``(namespace, name)``, as the engine merges them."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    values: dict[tuple[str, str], Any] = {
        _split_key(key): spec["default"] for key, spec in (project.get("config") or {}).items() if "default" in spec
    }
    stack_file = ROOT / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))
        raise SystemExit(f"stack: {stack!r} has no Pulumi.{stack}.yaml; known stacks: {', '.join(known)}")
    for key, value in ((yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}).items():
        values[_split_key(key)] = value
    for key, value in (overrides or {}).items():
        values[_split_key(key)] = value
    return values


def stack_config(stack: str, overrides: dict[str, Any] | None = None) -> dict[str, str]:
    """This project's config (Pulumi.yaml defaults, then Pulumi.<stack>.yaml, then overrides):
    values as the engine passes them (strings), keys without the project prefix. Provider keys
    (``aws:region``) are not the project's: see ``provider_config``."""
    return {name: _engine_string(v) for (ns, name), v in _all_config(stack, overrides).items() if ns == PROJECT}


def provider_config(stack: str, overrides: dict[str, Any] | None = None) -> dict[str, str]:
    """Config of other namespaces (providers: ``aws:region``, ``kubernetes:context``), full keys."""
    return {f"{ns}:{name}": _engine_string(v) for (ns, name), v in _all_config(stack, overrides).items()
            if ns != PROJECT}


def parse_overrides(items: list[str]) -> dict[str, str]:
    """``--set KEY=VALUE`` items (KEY bare, ``mlops-platform:KEY`` or ``provider:KEY``); a
    malformed item raises SystemExit with one line."""
    overrides: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"--set {item!r}: expected KEY=VALUE (e.g. --set servingMinReplicas=2)")
        overrides[key.strip()] = value
    return overrides


def _engine_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


_CAPTURE_LOCK = threading.Lock()


def _ensure_event_loop() -> None:
    """The Pulumi runtime drives its futures on the thread's current event loop; code that ran
    before (an ASGI test client, asyncio.run) may have closed or unset it."""
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        asyncio.set_event_loop(asyncio.new_event_loop())


def capture(stack: str, overrides: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run ``stacks/__main__.py`` as the host would, under mocks; return the resource records."""
    config = stack_config(stack, overrides)
    with _CAPTURE_LOCK:
        _ensure_event_loop()
        monitor = RecordingMonitor(PlatformMocks())
        pulumi.runtime.settings.set_root_resource(None)  # type: ignore[arg-type]  # the SDK's own reset takes None
        pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=True, monitor=monitor)
        pulumi.runtime.set_all_config(
            {**provider_config(stack, overrides), **{f"{PROJECT}:{k}": v for k, v in config.items()}}
        )

        @pulumi.runtime.test
        def run() -> None:
            runpy.run_path(str(PROGRAM), run_name="__main__")

        run()
        return sorted(monitor.records, key=lambda r: r["urn"])


def tree(resources: list[dict[str, Any]]) -> str:
    """An indented tree: components with their children."""
    children: dict[str | None, list[dict[str, Any]]] = {}
    urns = {r["urn"] for r in resources}
    for r in resources:
        parent = r["parent"] if r["parent"] in urns else None
        children.setdefault(parent, []).append(r)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for r in children.get(parent, []):
            flags = "" if r["custom"] else "  (component)"
            flags += "  [protected]" if r["protect"] else ""
            lines.append(f"{'  ' * depth}{r['type']}  {r['name']}{flags}")
            walk(r["urn"], depth + 1)

    walk(None, 0)
    return "\n".join(lines)


def summary(resources: list[dict[str, Any]]) -> str:
    counts = Counter(r["type"] for r in resources)
    width = max(len(t) for t in counts) if counts else 0
    rows = [f"  {t.ljust(width)}  {n}" for t, n in sorted(counts.items())]
    return "\n".join([f"{len(resources)} resources ({sum(1 for r in resources if not r['custom'])} components)", *rows])


def verdicts(
    resources: list[dict[str, Any]], stack: str, overrides: dict[str, Any] | None = None
) -> tuple[str, bool]:
    """Policy verdicts from the offline runner; (text, has_mandatory_violation)."""
    from policies.runner import evaluate, format_verdicts, has_mandatory

    config = stack_config(stack, overrides)
    violations = evaluate(resources, stack_config=config)
    return format_verdicts(violations), has_mandatory(violations)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stacks.plan", description=DISCLAIMER)
    parser.add_argument("stack", help="stack name: dev, prod, prod-azure (a Pulumi.<stack>.yaml)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="print the resource list as JSON")
    mode.add_argument("--summary", action="store_true", help="print resource counts by type")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    parser.add_argument("--no-policies", action="store_true", help="skip the policy verdicts")
    args = parser.parse_args(argv)
    overrides = parse_overrides(args.set)
    try:
        resources = capture(args.stack, overrides)
    except pulumi.RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(resources, sys.stdout, indent=2, sort_keys=True)
        print()
        return 0
    print(f"# {DISCLAIMER}")
    print(f"# stack {args.stack}")
    print(summary(resources) if args.summary else tree(resources))
    if args.no_policies:
        return 0
    text, failed = verdicts(resources, args.stack, overrides)
    print(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
