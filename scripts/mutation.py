"""Mutation testing of the library (components/, stacks/, policies/lib) with cosmic-ray: a
seeded sample of mutants, each run against a fast test selection, within a time budget; prints
the survival rate (survived / mutants whose tests ran to a verdict) and the machine's load.

    uv run --frozen python scripts/mutation.py --sample 12 --seed 16 --budget 900

It is bounded on purpose (the whole mutant space is many thousands, each needing a pytest run):
the sample is drawn with ``random.Random(seed)`` from every mutant cosmic-ray enumerates, so two
runs with the same seed over the same code test the same mutants. Mutants not reached within
``--budget`` seconds are reported as not run, never counted as killed. cosmic-ray mutates the
files in place and restores them after each run: do not edit the tree while it runs.
``--root`` runs over another checkout (e.g. an exported older commit) with the same settings.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODULES = ["components", "stacks", "policies/lib"]
#: Fast tests that exercise the library's validation, options, outputs and policy rules.
TESTS = [
    "tests/components/test_args.py",
    "tests/components/test_options.py",
    "tests/components/test_outputs_contract.py",
    "tests/policies/test_lib.py",
    "tests/stacks/test_config_messages.py",
]
#: Modules that only hold data, docs or entry points (mutating them tests nothing).
EXCLUDED = ["*/__main__.py", "stacks/mocks*.py", "components/*/eks_versions.py", "components/*/aks_versions.py"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=12, help="mutants to run (default 12)")
    parser.add_argument("--seed", type=int, default=16, help="sampling seed (default 16)")
    parser.add_argument("--budget", type=float, default=900.0, help="seconds for all mutants (default 900)")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds per mutant's tests (default 240)")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args(argv)

    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

    root = args.root.resolve()
    tests = [t for t in TESTS if (root / t).exists()]
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        config, session = Path(tmp) / "cr.toml", Path(tmp) / "session.sqlite"
        command = f"{sys.executable} -m pytest -x -q -p no:cacheprovider {' '.join(tests)}"
        config.write_text(
            "[cosmic-ray]\n"
            f"module-path = {MODULES!r}\n"
            f"timeout = {args.timeout}\n"
            f"excluded-modules = {EXCLUDED!r}\n"
            f"test-command = {command!r}\n"
            '[cosmic-ray.distributor]\nname = "local"\n'
        )
        cosmic = [sys.executable, "-m", "cosmic_ray.cli"]
        subprocess.run([*cosmic, "init", str(config), str(session)], cwd=root, check=True)
        with use_db(str(session), WorkDB.Mode.open) as db:
            items = sorted(db.pending_work_items, key=lambda w: w.job_id)
            chosen = {w.job_id for w in random.Random(args.seed).sample(items, min(args.sample, len(items)))}
            skipped = [w.job_id for w in items if w.job_id not in chosen]
            db.set_multiple_results(skipped, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
        total = len(items)
        try:
            subprocess.run([*cosmic, "exec", str(config), str(session)], cwd=root,
                           timeout=max(1.0, args.budget - (time.monotonic() - start)), check=False)
        except subprocess.TimeoutExpired:
            print(f"budget of {args.budget:.0f} s reached; the remaining mutants are reported as not run")
        # cosmic-ray restores each file after its mutant; a budget kill mid-run may not: check.
        dirty = subprocess.run(["git", "status", "--porcelain", "--", *MODULES], cwd=root,
                               capture_output=True, text=True).stdout.strip()
        with use_db(str(session), WorkDB.Mode.open) as db:
            results = {job_id: result for job_id, result in db.results if job_id in chosen}
            by_id = {w.job_id: w for w in db.work_items}
    killed = [j for j, r in results.items() if r.worker_outcome == WorkerOutcome.NORMAL and r.test_outcome == TestOutcome.KILLED]
    survived = [j for j, r in results.items() if r.worker_outcome == WorkerOutcome.NORMAL and r.test_outcome == TestOutcome.SURVIVED]
    other = [j for j, r in results.items() if j not in killed and j not in survived]
    decided = len(killed) + len(survived)
    load = os.getloadavg()
    print(f"root: {root}")
    print(f"mutants enumerated: {total}; sampled: {len(chosen)} (seed {args.seed}); "
          f"run to a verdict: {decided}; killed: {len(killed)}; survived: {len(survived)}; "
          f"other (timeout/incompetent/not run): {len(other) + len(chosen) - len(results)}")
    if decided:
        print(f"survival rate: {len(survived) / decided:.1%} ({len(survived)}/{decided})")
    for job_id in survived:
        m = by_id[job_id].mutations[0]
        print(f"  survived: {m.module_path}:{m.start_pos[0]} {m.operator_name} #{m.occurrence}")
    print(f"elapsed: {time.monotonic() - start:.0f} s; load average (1/5/15 min): "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    if dirty:
        print(f"WARNING: files left mutated, restore them with git checkout: {dirty}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
