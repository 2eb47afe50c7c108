"""ContainerImages: build the serving and training images and publish them where the stack runs.

Built with pulumi-docker's ``Image`` (BuildKit) from the repository's own build context:
local: into Minikube's Docker daemon (no push; pods use ``imagePullPolicy: Never``).
aws: pushed to the ECR repositories, authenticated with ``ecr.get_authorization_token``.
azure: pushed to ACR with the admin user off, authenticated as the deployer's Entra identity.

Tags are derived from content: a SHA-256 over exactly what pulumi-docker hashes to decide a
rebuild (the Dockerfile plus every file of the context that ``.dockerignore`` lets through),
plus platform, build args and target stage. So pulumi-docker rebuilds exactly when the tag
changes: an unchanged build is a no-op, a code change pushes a new tag (never over an existing
one, which an IMMUTABLE ECR repository would refuse) and rolls the Deployment out.
"""

# No `from __future__ import annotations`: the component-provider analyzer needs real types.

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, TypedDict

import pulumi
from typing_extensions import NotRequired

from . import common
from .base import ArgsError, PlatformComponent, Settings, require, with_defaults

#: The two images the platform runs, by repository name (the Registry's default repositories).
IMAGES: tuple[str, ...] = ("serving", "training")
TAG_PREFIX = "ctx-"
TAG_LENGTH = 16
PLATFORMS = ("linux/amd64", "linux/arm64")
#: The pyproject extra each image installs (the Dockerfiles' ``ARG EXTRAS`` default).
IMAGE_EXTRAS: dict[str, str] = {"serving": "serving", "training": "ml"}
#: What each target adds to both images: the runtime its MLflow URI and object store need
#: (aws: boto3 + sagemaker-mlflow for the SageMaker MLflow ARN and S3; azure: azureml-mlflow +
#: azure-identity for ``azureml://``). The serving image never carries a Pulumi SDK.
TARGET_EXTRAS: dict[str, tuple[str, ...]] = {"local": (), "aws": ("aws-runtime",), "azure": ("azure-runtime",)}
#: Build args ContainerImages sets itself, per image and target.
RESERVED_BUILD_ARGS = ("EXTRAS",)
_BUILD_ARG = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "KEY", "CREDENTIAL")


class ContainerImagesArgs(TypedDict):
    """Arguments of :class:`ContainerImages`."""

    target: str
    """``local`` | ``aws`` | ``azure``."""
    repository_urls: pulumi.Input[Mapping[str, str]]
    """From Registry: repository URL per image; must hold ``serving`` and ``training``."""
    registry_url: NotRequired[pulumi.Input[str]]
    """From Registry: the registry server pushed to (aws, azure)."""
    registry_id: NotRequired[pulumi.Input[str]]
    """From Registry: the ECR registry (account) id on aws, whose token authenticates the push."""
    context: NotRequired[str]
    """Build context directory (default ``.``; the stack passes the repository root). Passed
    to pulumi-docker relative to the working directory so the state is the same on every machine."""
    serving_dockerfile: NotRequired[str]
    """Serving Dockerfile, relative to ``context`` (default ``serving/Dockerfile``)."""
    training_dockerfile: NotRequired[str]
    """Training Dockerfile, relative to ``context`` (default ``ml/Dockerfile``)."""
    platform: NotRequired[str]
    """Build platform (default ``linux/amd64``: what EKS/AKS nodes, SageMaker and AML run)."""
    build_args: NotRequired[Mapping[str, str]]
    """Docker build args for both images (default none). Never secrets: build args are
    recorded in the image history and in the Pulumi state; the keys are checked for that."""
    docker_host: NotRequired[str]
    """local only: Minikube's Docker daemon, the ``DOCKER_HOST`` that ``minikube docker-env``
    prints (default empty: the ambient ``DOCKER_HOST``)."""
    docker_cert_path: NotRequired[str]
    """local only: ``DOCKER_CERT_PATH`` from ``minikube docker-env`` (default empty)."""
    docker_daemon_name: NotRequired[Optional[str]]
    """local only: the name Minikube's Docker daemon reports (its node, i.e. the profile name;
    default ``minikube``). A build into any other daemon is refused (components/local/daemon.py)."""
    environment: NotRequired[str]
    """``dev`` | ``staging`` | ``prod`` (default ``dev``)."""
    tags: NotRequired[Mapping[str, str]]
    """Tags/labels (images carry none; accepted so every component takes the same common args)."""


DEFAULTS: dict[str, Any] = {
    "target": None,
    "repository_urls": None,
    "registry_url": "",
    "registry_id": "",
    "context": ".",
    "serving_dockerfile": "serving/Dockerfile",
    "training_dockerfile": "ml/Dockerfile",
    "platform": "linux/amd64",
    "build_args": {},
    "docker_host": "",
    "docker_cert_path": "",
    "docker_daemon_name": "minikube",
    "environment": "dev",
    "tags": {},
}


def resolve_images_args(args: Mapping[str, Any]) -> Settings:
    """Apply defaults and validate; raises ArgsError with one line naming the key."""
    merged = with_defaults(args, DEFAULTS)
    common.check_target(merged["target"])
    common.check_environment(merged["environment"])
    require(merged["repository_urls"] is not None, "repository_urls", None,
            "the Registry's repository_urls (a map holding serving and training)")
    if common.is_known(merged["repository_urls"]) and isinstance(merged["repository_urls"], Mapping):
        missing = [name for name in IMAGES if name not in merged["repository_urls"]]
        require(not missing, "repository_urls", sorted(merged["repository_urls"]),
                "a map holding serving and training")
    common.check_choice("platform", merged["platform"], PLATFORMS)
    for key in ("serving_dockerfile", "training_dockerfile"):
        value = merged[key]
        require(isinstance(value, str) and bool(value) and not os.path.isabs(value) and ".." not in Path(value).parts,
                key, value, "a path inside the build context, e.g. serving/Dockerfile")
    build_args = merged["build_args"]
    require(isinstance(build_args, Mapping) and all(_BUILD_ARG.match(str(k)) for k in build_args),
            "build_args", build_args, "a map of NAME -> value")
    reserved = [k for k in build_args if k in RESERVED_BUILD_ARGS]
    require(not reserved, "build_args", reserved[:1],
            "no EXTRAS: ContainerImages picks each image's extras from the target")
    secret = [k for k in build_args if any(word in k.upper() for word in _SECRET_WORDS)]
    require(not secret, "build_args", secret[:1],
            "no secrets: build args are stored in the image history and the Pulumi state")
    return Settings(merged)


# ---- content tags ------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A ``.dockerignore`` pattern (Go ``filepath.Match`` plus ``**``) as a regex."""
    out, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
            continue
        if pattern.startswith("**", i):
            out, i = out + ".*", i + 2
            continue
        if ch == "*":
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out += re.escape(ch)
            else:
                body = pattern[i + 1:end]
                out += "[" + ("^" + body[1:] if body.startswith("^") else body) + "]"
                i = end
        elif ch == "\\" and i + 1 < len(pattern):
            out, i = out + re.escape(pattern[i + 1]), i + 1
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(f"^{out}$")


Rule = tuple[bool, re.Pattern[str], str]  # (is_exception, regex, cleaned pattern)


def read_dockerignore(path: Path) -> list[Rule]:
    """Rules of one ignore file as ``(is_exception, regex, pattern)``, in order (last match wins)."""
    if not path.is_file():
        return []
    rules = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        line = line[1:].strip() if exception else line
        line = os.path.normpath(line).replace(os.sep, "/").lstrip("/")
        if line in ("", "."):
            continue
        rules.append((exception, _pattern_regex(line), line))
    return rules


def is_ignored(relpath: str, rules: list[Rule]) -> bool:
    """Docker's rule: a pattern excludes a path when it matches the path or one of its parents."""
    parts = relpath.split("/")
    parents = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for exception, regex, _ in rules:
        if any(regex.match(p) for p in parents):
            ignored = not exception
    return ignored


def _may_reinclude(directory: str, rules: list[Rule]) -> bool:
    """Could an exception pattern re-include something below an ignored ``directory``?"""
    for exception, _, pattern in rules:
        if not exception:
            continue
        literal = re.split(r"[*?\[\\]", pattern, maxsplit=1)[0]
        if literal == pattern:  # no wildcard: only that path and what is below it
            if pattern == directory or pattern.startswith(directory + "/"):
                return True
        elif literal.startswith(directory + "/") or (directory + "/").startswith(literal):
            return True
    return False


def ignore_file_for(context: Path, dockerfile: str) -> Path:
    """Which ignore file applies: ``.dockerignore``, or ``<name>.dockerignore`` for a Dockerfile
    not named ``Dockerfile`` (pulumi-docker's rule for the context digest)."""
    base = Path(dockerfile).name
    return context / (".dockerignore" if base == "Dockerfile" else f"{base}.dockerignore")


def context_files(context: Path, dockerfile: str) -> Iterator[str]:
    """Every file of ``context`` the build sees, relative, sorted (``.dockerignore`` applied)."""
    rules = read_dockerignore(ignore_file_for(context, dockerfile))
    for root, dirs, files in os.walk(context):
        rel_root = os.path.relpath(root, context).replace(os.sep, "/")
        rel_root = "" if rel_root == "." else rel_root + "/"
        # Prune ignored directories unless an exception could re-include something below.
        dirs[:] = sorted(d for d in dirs if not is_ignored(rel_root + d, rules)
                         or _may_reinclude(rel_root + d, rules))
        for name in sorted(files):
            rel = rel_root + name
            if not is_ignored(rel, rules):
                yield rel


@dataclass(frozen=True)
class ImageBuild:
    """What one image is built from, and the tag that content gets."""

    name: str
    context: str  # as passed to pulumi-docker: relative to the working directory
    dockerfile: str  # idem (pulumi-docker resolves it against the working directory, not the context)
    platform: str
    build_args: Mapping[str, str]
    tag: str
    files: tuple[str, ...]


def content_tag(context: Path, dockerfile: str, platform: str, build_args: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    """``ctx-<16 hex>`` over the Dockerfile, the context files (name, mode, content), the
    platform and the build args; stable across runs and machines with the same checkout."""
    dockerfile_path = context / dockerfile
    if not dockerfile_path.is_file():
        raise ArgsError(f"{dockerfile}: no such Dockerfile in the build context {str(context)!r}; "
                        "allowed: a Dockerfile path relative to the context")
    digest = hashlib.sha256()
    digest.update(b"Dockerfile\0" + hashlib.sha256(dockerfile_path.read_bytes()).digest())
    files = tuple(context_files(context, dockerfile))
    for rel in files:
        path = context / rel
        mode = path.lstat().st_mode
        body = os.readlink(path).encode() if stat.S_ISLNK(mode) else path.read_bytes()
        digest.update(rel.encode() + b"\0" + stat.filemode(mode).encode() + b"\0" + hashlib.sha256(body).digest())
    digest.update(json.dumps({"platform": platform, "args": dict(sorted(build_args.items()))}).encode())
    return TAG_PREFIX + digest.hexdigest()[:TAG_LENGTH], files


def image_extras(target: str, image: str) -> str:
    """The ``EXTRAS`` build arg of ``image`` on ``target``: its own extra plus the target's."""
    return " ".join((IMAGE_EXTRAS[image], *TARGET_EXTRAS[target]))


def plan_builds(settings: Mapping[str, Any]) -> dict[str, ImageBuild]:
    """The two builds of one ContainerImages, tags computed from the checkout. Each image gets
    the ``EXTRAS`` of its target, so an aws and a local build of one checkout differ in tag."""
    context = Path(settings["context"]).resolve()
    builds = {}
    for name in IMAGES:
        dockerfile = settings[f"{name}_dockerfile"]
        build_args = {**settings["build_args"], "EXTRAS": image_extras(settings["target"], name)}
        tag, files = content_tag(context, dockerfile, settings["platform"], build_args)
        builds[name] = ImageBuild(
            name=name,
            context=os.path.relpath(context),
            dockerfile=os.path.relpath(context / dockerfile),
            platform=settings["platform"],
            build_args=build_args,
            tag=tag,
            files=files,
        )
    return builds


def image_name(repository_urls: pulumi.Input[Mapping[str, str]], build: ImageBuild) -> pulumi.Output[str]:
    """``<repository url>:<content tag>``."""
    return pulumi.Output.from_input(repository_urls).apply(lambda urls: f"{urls[build.name]}:{build.tag}")


def docker_build_args(build: ImageBuild) -> Any:
    """The ``build`` input of ``docker.Image`` (BuildKit, pinned platform)."""
    import pulumi_docker as docker

    return docker.DockerBuildArgs(
        context=build.context,
        dockerfile=build.dockerfile,
        platform=build.platform,
        args=dict(build.build_args) or None,
        builder_version=docker.BuilderVersion.BUILDER_BUILD_KIT,
    )


def push_images(component: Any, name: str, settings: Mapping[str, Any], registry: Any) -> dict[str, Any]:
    """Build and push every planned image to a cloud registry; deploy by the pushed digest.

    ``repo@sha256:...`` is what was pushed, byte for byte: EKS, SageMaker, AKS and Azure ML all
    accept it, so a deployment never drifts from its build. Returns the component's outputs but
    ``pull_policy``, which the backend decides.
    """
    import pulumi_docker as docker

    builds = plan_builds(settings)
    refs: dict[str, pulumi.Output[str]] = {}
    for key, spec in builds.items():
        image = docker.Image(
            f"{name}-{key}",
            image_name=image_name(settings["repository_urls"], spec),
            build=docker_build_args(spec),
            registry=registry,
            skip_push=False,
            opts=pulumi.ResourceOptions(parent=component),
        )
        refs[key] = image.repo_digest
    return {
        "serving_image": refs["serving"],
        "training_image": refs["training"],
        "image_tags": {key: spec.tag for key, spec in builds.items()},
    }


class ContainerImages(PlatformComponent):
    """The serving and training images (type token ``mlops:index:ContainerImages``)."""

    CONCERN = "images"
    OUTPUTS = ("serving_image", "training_image", "image_tags", "pull_policy")

    serving_image: pulumi.Output[str]
    """Serving image reference to deploy: ``repo@sha256:…`` once pushed (aws, azure) or
    ``repo:ctx-…`` in Minikube's image store (local)."""
    training_image: pulumi.Output[str]
    """Training image reference, same form (the launchers and training Jobs run it)."""
    image_tags: pulumi.Output[dict[str, str]]
    """Content tag per image (``ctx-<16 hex>``), e.g. ``{"serving": "ctx-…", "training": "ctx-…"}``."""
    pull_policy: pulumi.Output[str]
    """``imagePullPolicy`` that fits the target: ``Never`` on local (the image is already on the
    node), ``IfNotPresent`` where it was pushed (references are immutable)."""

    def __init__(self, name: str, args: ContainerImagesArgs, opts: pulumi.ResourceOptions | None = None):
        self._setup(name, args, resolve_images_args, opts)
