"""Policy pack speed: cold start of a fresh process and rules per second on a ~2,000-resource stack.

    .venv/bin/python benchmarks/policies.py [--resources 2000] [--repeat 3] [--sdk-repeat 1]

Prints:

* cold start of the pack as the CLI loads it: a fresh interpreter imports ``pulumi_policy``,
  builds the pack (``policies.registry``, every rule), constructs pulumi_policy's analyzer
  servicer with it (what ``PolicyPack`` serves), answers ``GetAnalyzerInfo`` and one
  required-tags question from the generated table. Wall time of the whole process and its CPU
  time, split into ``import pulumi_policy`` (the floor: pulumi, grpc, protobuf, which no pack
  can avoid) and the pack's own share. Twice: with the bytecode cache warm (the usual case: Python
  writes ``__pycache__`` on first import) and with none (``PYTHONDONTWRITEBYTECODE=1`` and an empty
  cache, as in this sandbox, where every process compiles pulumi from source). The cache lives in a
  temporary ``PYTHONPYCACHEPREFIX``: the venv is not touched;
* next to it the old way of answering required-tags, from the SDKs (import the resource module
  and inspect the constructor) for the types of the stack, and the ratio;
* evaluation: every rule of the pack (the offline runner, the same validate functions the engine
  calls) over a synthetic stack of ``--resources`` resources built from the test builders
  (S3 buckets with companions, IAM roles and policies, EKS, SageMaker, Azure storage, Kubernetes
  workloads...), as (resource rule x resource) pairs per second and resources per second;
* the machine's load average before and after (2 cores shared by the team: read ratios and CPU
  times, not absolute wall times).

Times are the best of ``--repeat`` runs. Nothing asserts.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLD_PACK = (
    "import json, time\n"
    "t0 = time.perf_counter()\n"
    "import pulumi_policy\n"
    "t1 = time.perf_counter()\n"
    "from pulumi_policy.policy import _PolicyAnalyzerServicer\n"
    "from policies.registry import ALL_POLICIES, PACK_ENFORCEMENT_LEVEL\n"
    "from policies.lib.taggable import supports_tags\n"
    "servicer = _PolicyAnalyzerServicer('mlops-platform', '0.1.0', ALL_POLICIES, PACK_ENFORCEMENT_LEVEL)\n"
    "assert servicer.GetAnalyzerInfo(None, None).name == 'mlops-platform'\n"
    "assert supports_tags('aws:s3/bucket:Bucket') is True\n"
    "t2 = time.perf_counter()\n"
    "print(json.dumps({'pulumi_policy': t1 - t0, 'pack': t2 - t1, 'rules': len(ALL_POLICIES)}))\n"
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


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _env(cache: str | None) -> dict[str, str]:
    """A bytecode cache at ``cache`` (read and written), or none at all (``cache=None``)."""
    env = dict(os.environ)
    if cache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="pack-no-pyc-")
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache
    return env


def _best_subprocess(code: str, repeat: int, env: dict[str, str] | None = None) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, env=env)
        best = min(best, time.perf_counter() - start)
    return best


def cold_pack(repeat: int, env: dict[str, str]) -> dict[str, float]:
    """Best-of-``repeat`` wall time of the process, its CPU time, and the in-process split."""
    best: dict[str, float] = {}
    for _ in range(repeat):
        cpu = _child_cpu()
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", COLD_PACK], cwd=ROOT, check=True, env=env,
                             capture_output=True, text=True).stdout
        wall = time.perf_counter() - start
        run = {"wall": wall, "cpu": _child_cpu() - cpu, **json.loads(out.strip().splitlines()[-1])}
        if not best or run["wall"] < best["wall"]:
            best = run
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
    parser.add_argument("--sdk-repeat", type=int, default=1, help="runs of the (slow) SDK-introspection comparison")
    args = parser.parse_args()
    load_before = os.getloadavg()

    stack = synthetic_stack(args.resources)
    types = sorted({r["type"] for r in stack})
    with tempfile.TemporaryDirectory(prefix="pack-pyc-") as cache:
        warm_env = _env(cache)
        subprocess.run([sys.executable, "-c", COLD_PACK], cwd=ROOT, check=True, env=warm_env, capture_output=True)
        runs = {}
        for label, env in (("bytecode cache warm", warm_env), ("no bytecode cache", _env(None))):
            run = runs[label] = cold_pack(args.repeat, env)
            print(f"cold start, {label:19s}: {run['wall']:5.2f} s wall, {run['cpu']:5.2f} s CPU  "
                  f"(import pulumi_policy {run['pulumi_policy']:.2f} s + the pack, {run['rules']} rules, servicer "
                  f"built {run['pack']:.2f} s; best of {args.repeat})")
        sdk = _best_subprocess(COLD_SDK.format(types=types), args.sdk_repeat, warm_env)  # both with the warm cache
    table = runs["bytecode cache warm"]["wall"]
    print(f"cold start, pack + SDK introspection ({len(types)} types, the old required-tags): {sdk:7.2f} s")
    print(f"ratio SDK introspection / table:            {sdk / table:7.1f}x")

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
    print(f"(resource rule x resource) pairs per second: {calls / best:10.0f}")
    print(f"resources per second (all rules):           {len(stack) / best:10.0f}")
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f}; after: {os.getloadavg()[0]:.2f} "
          f"(cores: {os.cpu_count()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
