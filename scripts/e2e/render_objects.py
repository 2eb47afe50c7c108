"""Render the dev stack's Deployments and Services offline (stacks.plan.capture, Pulumi mocks)
as Kubernetes objects, for running level 2 without an API server:

    uv run --frozen python scripts/e2e/render_objects.py [STACK] > objects.json

Run from any checkout (the current directory's stacks/ is used), e.g. an older commit's
`git archive` to show a defect before its fix.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))

from stacks.plan import capture  # noqa: E402

KINDS = {"kubernetes:apps/v1:Deployment": ("apps/v1", "Deployment"), "kubernetes:core/v1:Service": ("v1", "Service")}


def _ints(value):
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def main() -> int:
    stack = sys.argv[1] if len(sys.argv) > 1 else "dev"
    items = []
    for record in capture(stack):
        if record["type"] in KINDS:
            api, kind = KINDS[record["type"]]
            inputs = _ints(record["inputs"])
            items.append({"apiVersion": api, "kind": kind, "metadata": inputs["metadata"], "spec": inputs["spec"]})
    json.dump({"items": items}, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
