"""Compare the policy verdicts of a real `pulumi preview --policy-pack policies --json` with the
offline runner's on the same stack config (`python -m stacks.plan <stack> --json` captured with
the same overrides, then policies.runner.evaluate).

    python scripts/e2e/verdicts.py <preview.json> <captured.json> KEY=VALUE...

Prints one line: "same N verdicts" (exit 0) or what differs (exit 1). A verdict is
(rule, enforcement level, resource name); stack rules have no resource name on either side.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any


def engine_verdicts(preview: dict[str, Any]) -> set[tuple[str, str, str]]:
    """Policy violations as the engine reports them in `pulumi preview --json`."""
    found: set[tuple[str, str, str]] = set()
    for event in _policy_events(preview):
        urn = event.get("resourceUrn") or ""
        name = urn.rsplit("::", 1)[-1] if urn else ""
        found.add((event.get("policyName", ""), event.get("enforcementLevel", ""), name))
    return found


def _policy_events(preview: dict[str, Any]) -> Iterable[dict[str, Any]]:
    # `pulumi preview --json` lists violations under "policies" (one object per violation)
    for item in preview.get("policies", []) or []:
        yield item


def offline_verdicts(resources: list[dict[str, Any]], config: dict[str, str]) -> set[tuple[str, str, str]]:
    from policies.runner import evaluate

    return {(v.policy, v.enforcement, v.name) for v in evaluate(resources, config, {})}


def main(argv: list[str]) -> int:
    preview_path, captured_path, *pairs = argv
    config = dict(p.split("=", 1) for p in pairs)
    with open(preview_path, encoding="utf-8") as f:
        engine = engine_verdicts(json.load(f))
    with open(captured_path, encoding="utf-8") as f:
        offline = offline_verdicts(json.load(f), config)
    if engine == offline:
        print(f"same {len(engine)} verdicts")
        return 0
    only_e = sorted(engine - offline)
    only_o = sorted(offline - engine)
    print(f"verdicts differ: engine only {only_e[:5]}; offline only {only_o[:5]}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
