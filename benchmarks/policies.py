"""Policy pack speed: cold start of a fresh process and rules per second on a ~2,000-resource stack.

    .venv/bin/python benchmarks/policies.py [--resources 2000] [--repeat 3]

Prints:

* cold start: a fresh interpreter that imports the pack (``policies.registry``, every rule) and
  answers one required-tags question (``supports_tags``) from the generated table, as every
  ``pulumi preview`` pays it; next to it the old way, the same answer read from the SDKs
  (import the resource module and inspect the constructor) for the types of the stack, and the
  ratio;
* evaluation: every rule of the pack (the offline runner, the same validate functions the engine
  calls) over a synthetic stack of ``--resources`` resources built from the test builders
  (S3 buckets with companions, IAM roles and policies, EKS, SageMaker, Azure storage, Kubernetes
  workloads...), as resource-rule calls per second and resources per second;
* the machine's load average before and after (2 cores shared by the team: read ratios, not
  absolute times).

Times are the best of ``--repeat`` runs. Nothing asserts.
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLD_TABLE = (
    "import policies.registry\n"
    "from policies.lib.taggable import supports_tags\n"
    "assert supports_tags('aws:s3/bucket:Bucket') is True\n"
)
COLD_SDK = (
    "import policies.registry\n"
    "from policies.lib.taggable import registered_tokens, inspect_takes_tags\n"
    "types = {types!r}\n"
    "for package in ('aws', 'azure-native'):\n"
    "    tokens = registered_tokens(package)\n"
    "    for token in types:\n"
    "        if token in tokens:\n"
    "            inspect_takes_tags(*tokens[token])\n"
)


def _best_subprocess(code: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def synthetic_stack(size: int) -> list[dict]:
    from tests.policies import builders as b

    def template() -> list[dict]:
        bucket = b.bucket()
        return [
            bucket, b.bucket_encryption(bucket), b.bucket_public_access_block(bucket), b.bucket_policy(bucket),
            b.kms_key(), b.iam_role(), b.role_policy(), b.attachment("attach", "arn:aws:iam::123456789012:policy/x"),
            b.eks_cluster(), b.ecr_repository(), b.sagemaker_model(), b.endpoint_config(), b.log_group(), b.sns_topic(),
            b.storage_account(), b.key_vault(), b.container_registry(), b.ml_workspace(),
            b.deployment(), b.job(), b.namespace(), b.network_policy("deny", podSelector={}, policyTypes=["Ingress"]),
            b.ingress(), b.pvc(),
        ]

    out: list[dict] = []
    copy_index = 0
    while len(out) < size:
        for record in template():
            record = copy.deepcopy(record)
            name = f"{record['name']}-{copy_index}"
            record["urn"] = record["urn"].rsplit("::", 1)[0] + "::" + name
            record["name"] = name
            out.append(record)
        copy_index += 1
    return out[:size]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()

    stack = synthetic_stack(args.resources)
    types = sorted({r["type"] for r in stack})
    table = _best_subprocess(COLD_TABLE, args.repeat)
    sdk = _best_subprocess(COLD_SDK.format(types=types), args.repeat)
    print(f"cold start, pack + table lookup:           {table:7.2f} s  (best of {args.repeat})")
    print(f"cold start, pack + SDK introspection ({len(types)} types): {sdk:7.2f} s")
    print(f"ratio SDK / table:                          {sdk / table:7.1f}x")

    from policies.registry import ALL_POLICIES
    from policies.runner import evaluate
    from pulumi_policy import ResourceValidationPolicy
    from tests.policies import builders as b

    resource_rules = sum(isinstance(p, ResourceValidationPolicy) for p in ALL_POLICIES)
    best = float("inf")
    violations = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        violations = evaluate(stack, b.PROD)
        best = min(best, time.perf_counter() - start)
    calls = resource_rules * len(stack)
    print(f"evaluate {len(ALL_POLICIES)} rules ({resource_rules} resource, {len(ALL_POLICIES) - resource_rules} stack) "
          f"on {len(stack)} resources: {best:.2f} s  ({len(violations)} verdicts)")
    print(f"resource-rule calls per second:             {calls / best:10.0f}")
    print(f"resources per second (all rules):           {len(stack) / best:10.0f}")
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f}; after: {os.getloadavg()[0]:.2f} "
          f"(cores: {os.cpu_count()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
