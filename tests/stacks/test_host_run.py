"""The program runs the way the Pulumi host runs it: ``stacks/__main__.py`` with ``stacks/`` on
sys.path and NOT the repository root, so ``import components`` must come from the installed project."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import ROOT

SCRIPT = textwrap.dedent(
    """
    import os, runpy, sys
    root = {root!r}
    # What the host has: stacks/ first, then the environment (the editable install adds the
    # project through a .pth file); never the working directory.
    sys.path = [p for p in sys.path if p not in ("", os.getcwd())]
    sys.path.insert(0, os.path.join(root, "stacks"))
    import pulumi
    count = []
    class M(pulumi.runtime.Mocks):
        def new_resource(self, args):
            count.append(args.typ)
            state = dict(args.inputs)
            if args.typ.startswith("kubernetes:"):
                state.setdefault("metadata", {{}}).setdefault("name", args.name)
            return args.name, state
        def call(self, args):
            return {{}}
    pulumi.runtime.set_mocks(M(), project="mlops-platform", stack="dev", preview=True)
    pulumi.runtime.set_all_config({{"mlops-platform:target": "local"}})
    @pulumi.runtime.test
    def run():
        runpy.run_path(os.path.join(root, "stacks", "__main__.py"), run_name="__main__")
    run()
    print("declared", len(count))
    """
)


def test_program_runs_with_only_stacks_on_sys_path(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(root=str(ROOT))],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    declared = int(result.stdout.split("declared")[-1])
    assert declared >= 20
