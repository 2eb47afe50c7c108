"""Compare the policy verdicts of a real `pulumi preview --policy-pack policies --event-log F` with the
offline runner's on the same stack config (`python -m stacks.plan <stack> --json` captured with
the same overrides, then policies.runner.evaluate).

    python scripts/e2e/verdicts.py <event-log> <captured.json> KEY=VALUE...

Prints one line: "same N verdicts" (exit 0) or what differs (exit 1). A verdict is
(rule, enforcement level, resource name); stack rules have no resource name on either side.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any


def engine_verdicts(event_log: str) -> set[tuple[str, str, str]]:
    """Policy violations as the engine emitted them (`pulumi preview --event-log`: one JSON event
    a line; `--json` output leaves policy events out)."""
    found: set[tuple[str, str, str]] = set()
    with open(event_log, encoding="utf-8") as f:
        for line in f:
            event = json.loads(line).get("policyEvent") if line.strip() else None
            if not event:
                continue
            urn = event.get("resourceUrn") or ""
            name = urn.rsplit("::", 1)[-1] if urn else ""
            found.add((event.get("policyName", ""), event.get("enforcementLevel", ""), name))
    return found


def offline_verdicts(resources: list[dict[str, Any]], config: dict[str, str]) -> set[tuple[str, str, str]]:
    from policies.runner import evaluate

    return {(v.policy, v.enforcement, v.name) for v in evaluate(resources, config, {})}


def main(argv: list[str]) -> int:
    preview_path, captured_path, *pairs = argv
    config = dict(p.split("=", 1) for p in pairs)
    engine = engine_verdicts(preview_path)
    with open(captured_path, encoding="utf-8") as f:
        offline = offline_verdicts(json.load(f), config)
    with open(preview_path, encoding="utf-8") as f:
        analyzed = sum(1 for line in f if '"policyAnalyzeSummaryEvent"' in line)
    if analyzed == 0:
        print("the engine analyzed no resource with the pack")
        return 1
    if engine == offline:
        print(f"same {len(engine)} verdicts on {analyzed} resources analyzed by the engine")
        return 0
    only_e = sorted(engine - offline)
    only_o = sorted(offline - engine)
    print(f"verdicts differ: engine only {only_e[:5]}; offline only {only_o[:5]}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
