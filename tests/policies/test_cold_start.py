"""The pack's cold start stays small: building it (every rule, the analyzer servicer, a
required-tags answer) imports no provider SDK, no pydantic and nothing only the table generator
needs. Speed itself is measured by benchmarks/policies.py, never asserted here; this test fails
when a module-level import brings a heavy module back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pulumi_aws", "pulumi_azure_native", "pulumi_kubernetes", "pulumi_docker", "pydantic", "importlib.metadata",
         "components", "stacks", "mlflow", "boto3")
PROBE = """
import json, sys
from pulumi_policy.policy import _PolicyAnalyzerServicer
from policies.registry import ALL_POLICIES, PACK_ENFORCEMENT_LEVEL
from policies.lib.taggable import supports_tags
servicer = _PolicyAnalyzerServicer("mlops-platform", "0.1.0", ALL_POLICIES, PACK_ENFORCEMENT_LEVEL)
info = servicer.GetAnalyzerInfo(None, None)
print(json.dumps({"name": info.name, "policies": len(info.policies), "tags": supports_tags("aws:s3/bucket:Bucket"),
                  "modules": sorted(sys.modules)}))
"""


def _probe(extra: str = "") -> dict:
    out = subprocess.run([sys.executable, "-c", extra + PROBE], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _heavy(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_building_the_pack_imports_no_heavy_module():
    found = _probe()
    assert (found["name"], found["tags"]) == ("mlops-platform", True)
    assert found["policies"] >= 60
    assert _heavy(found["modules"]) == []


def test_the_probe_sees_a_heavy_import():
    """The check itself works: a rule module that imported an SDK at module level would show."""
    found = _probe("import importlib.metadata\n")
    assert "importlib.metadata" in _heavy(found["modules"])
