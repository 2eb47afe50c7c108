"""ContainerImages: content tags, .dockerignore semantics, and the docker.Image inputs each
target declares (context, Dockerfile, platform, registry, auth, tag scheme), under mocks."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from components.base import ArgsError
from components.images import (
    ContainerImages,
    content_tag,
    context_files,
    is_ignored,
    read_dockerignore,
    resolve_images_args,
)
from tests.conftest import of_type

IMAGE = "docker:index/image:Image"
PROVIDER = "pulumi:providers:docker"
ECR_TOKEN = "aws:ecr/getAuthorizationToken:getAuthorizationToken"
ENTRA_TOKEN = "azure-native:authorization:getClientToken"
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
ACR = "mlopsacr1a2b3c.azurecr.io"
REPOS = {
    "local": {"serving": "localhost:5000/serving", "training": "localhost:5000/training"},
    "aws": {"serving": f"{ECR}/mlops-platform/serving", "training": f"{ECR}/mlops-platform/training"},
    "azure": {"serving": f"{ACR}/serving", "training": f"{ACR}/training"},
}
REGISTRY = {"local": "localhost:5000", "aws": ECR, "azure": ACR}
DOCKERIGNORE = "*\n!pyproject.toml\n!ml/\n!serving/\n**/__pycache__\n"


def make_context(root: Path) -> Path:
    """A small build context shaped like the repository."""
    files = {
        "pyproject.toml": "[project]\nname = 'x'\n",
        ".dockerignore": DOCKERIGNORE,
        "serving/Dockerfile": "FROM python:3.11.14-slim-bookworm\nUSER 10001\n",
        "serving/app.py": "app = 1\n",
        "ml/Dockerfile": "FROM python:3.11.14-slim-bookworm\nUSER 10001\nENTRYPOINT [\"python\", \"-m\", \"ml\"]\n",
        "ml/train.py": "def train(): ...\n",
        "ml/__pycache__/train.cpython-311.pyc": "bytecode",
        "components/images.py": "infra code\n",
        "tests/test_x.py": "def test(): ...\n",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture()
def ctx(tmp_path) -> Path:
    return make_context(tmp_path / "repo")


# ---- pure: arguments, ignore rules, tags ------------------------------------------------


def test_defaults_are_the_documented_ones():
    s = resolve_images_args({"target": "local", "repository_urls": REPOS["local"]})
    assert (s.context, s.serving_dockerfile, s.training_dockerfile) == (".", "serving/Dockerfile", "ml/Dockerfile")
    assert s.platform == "linux/amd64" and s.build_args == {} and s.docker_host == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"target": "local"}, "repository_urls: None is not allowed; allowed: the Registry's repository_urls "
                              "(a map holding serving and training)"),
        ({"target": "aws", "repository_urls": {"serving": "r/s"}},
         "repository_urls: ['serving'] is not allowed; allowed: a map holding serving and training"),
        ({"target": "local", "repository_urls": REPOS["local"], "platform": "windows/amd64"},
         "platform: 'windows/amd64' is not allowed; allowed: linux/amd64, linux/arm64"),
        ({"target": "local", "repository_urls": REPOS["local"], "serving_dockerfile": "../Dockerfile"},
         "serving_dockerfile: '../Dockerfile' is not allowed; allowed: a path inside the build context, e.g. serving/Dockerfile"),
        ({"target": "local", "repository_urls": REPOS["local"], "build_args": {"HF_TOKEN": "x"}},
         "build_args: ['HF_TOKEN'] is not allowed; allowed: no secrets: build args are stored in the image "
         "history and the Pulumi state"),
        ({"target": "aws", "repository_urls": REPOS["aws"], "build_args": {"EXTRAS": "serving"}},
         "build_args: ['EXTRAS'] is not allowed; allowed: no EXTRAS: ContainerImages picks each image's extras "
         "from the target"),
        ({"target": "gcp", "repository_urls": {}}, "target: 'gcp' is not allowed; allowed: local, aws, azure"),
    ],
)
def test_bad_argument_is_one_line(args, message):
    with pytest.raises(ArgsError) as info:
        resolve_images_args(args)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("pyproject.toml", False),
        ("ml/train.py", False),
        ("ml/__pycache__/train.cpython-311.pyc", True),
        ("components/images.py", True),
        ("tests/test_x.py", True),
        (".venv/bin/python", True),
        ("serving/sub/deep.py", False),
    ],
)
def test_dockerignore_allowlist_semantics(ctx, path, ignored):
    assert is_ignored(path, read_dockerignore(ctx / ".dockerignore")) is ignored


def test_dockerignore_globs_follow_docker(tmp_path):
    (tmp_path / ".dockerignore").write_text("# comment\n*.md\n!README.md\ndocs/**/*.png\n/build\n")
    rules = read_dockerignore(tmp_path / ".dockerignore")
    assert is_ignored("NOTES.md", rules) and not is_ignored("README.md", rules)
    assert not is_ignored("sub/NOTES.md", rules), "'*' does not cross '/' in Docker patterns"
    assert is_ignored("docs/a/b/c.png", rules) and is_ignored("docs/c.png", rules)
    assert is_ignored("build/out.bin", rules) and not is_ignored("src/build.py", rules)


def test_context_files_are_what_the_build_sees(ctx):
    assert list(context_files(ctx, "serving/Dockerfile")) == [
        "pyproject.toml", "ml/Dockerfile", "ml/train.py", "serving/Dockerfile", "serving/app.py",
    ]


def test_same_content_same_tag(ctx, tmp_path):
    first, _ = content_tag(ctx, "serving/Dockerfile", "linux/amd64", {})
    again, _ = content_tag(ctx, "serving/Dockerfile", "linux/amd64", {})
    copy = make_context(tmp_path / "elsewhere")  # another checkout of the same content
    elsewhere, _ = content_tag(copy, "serving/Dockerfile", "linux/amd64", {})
    assert first == again == elsewhere
    assert first.startswith("ctx-") and len(first) == 20 and first != "latest"


@pytest.mark.parametrize(
    "change",
    ["serving/app.py", "pyproject.toml", "serving/Dockerfile", "ml/train.py", "serving/new_module.py"],
)
def test_a_changed_file_in_the_context_gives_a_new_tag(ctx, change):
    before, _ = content_tag(ctx, "serving/Dockerfile", "linux/amd64", {})
    path = ctx / change
    path.write_text((path.read_text() if path.exists() else "") + "# changed\n")
    after, _ = content_tag(ctx, "serving/Dockerfile", "linux/amd64", {})
    assert before != after


@pytest.mark.parametrize("change", ["components/images.py", "tests/test_x.py", "ml/__pycache__/train.cpython-311.pyc", "README.txt"])
def test_a_change_outside_the_context_keeps_the_tag(ctx, change):
    before, _ = content_tag(ctx, "serving/Dockerfile", "linux/amd64", {})
    path = ctx / change
    path.write_text((path.read_text() if path.exists() else "") + "# changed\n")
    assert content_tag(ctx, "serving/Dockerfile", "linux/amd64", {})[0] == before


def test_platform_build_args_and_file_mode_are_part_of_the_tag(ctx):
    base, _ = content_tag(ctx, "ml/Dockerfile", "linux/amd64", {})
    assert content_tag(ctx, "ml/Dockerfile", "linux/arm64", {})[0] != base
    assert content_tag(ctx, "ml/Dockerfile", "linux/amd64", {"EXTRA": "1"})[0] != base
    os.chmod(ctx / "ml/train.py", 0o755)
    assert content_tag(ctx, "ml/Dockerfile", "linux/amd64", {})[0] != base


def test_the_two_images_have_their_own_tags(ctx):
    serving, _ = content_tag(ctx, "serving/Dockerfile", "linux/amd64", {})
    training, _ = content_tag(ctx, "ml/Dockerfile", "linux/amd64", {})
    assert serving != training


def test_a_missing_dockerfile_is_one_line(ctx):
    with pytest.raises(ArgsError, match=r"^serving/Dockerfile2: no such Dockerfile in the build context"):
        content_tag(ctx, "serving/Dockerfile2", "linux/amd64", {})


# ---- backends under mocks ----------------------------------------------------------------


_LOCK = threading.Lock()
call_providers: dict[str, str] = {}


def declare(target: str, context: Path, preview: bool = True, **extra: Any) -> tuple[list[dict], dict, list]:
    """Run one ContainerImages under the capture harness's mocks; (records, outputs, invokes)."""
    from stacks.mocks import PlatformMocks
    from stacks.plan import RecordingMonitor

    class Monitor(RecordingMonitor):
        def RegisterResource(self, request):  # noqa: N802
            response = super().RegisterResource(request)
            if request.type == IMAGE:
                raw = rpc.deserialize_properties(request.object)
                with self._lock:
                    secret_paths[request.name] = sorted(_secret_paths(raw))
            return response

    class Mocks(PlatformMocks):
        def call(self, args):
            calls.append((args.token, dict(args.args)))
            call_providers[args.token] = args.provider
            return super().call(args)

    calls: list = []
    call_providers.clear()
    outputs: dict[str, Any] = {}
    secret_paths: dict[str, list[str]] = {}
    with _LOCK:
        monitor = Monitor(Mocks())
        pulumi.runtime.settings.set_root_resource(None)
        pulumi.runtime.set_mocks(monitor.mocks, project="mlops-platform", stack="t", preview=preview, monitor=monitor)

        @pulumi.runtime.test
        def program():
            images = ContainerImages("images", {
                "target": target,
                "repository_urls": REPOS[target],
                "registry_url": REGISTRY[target],
                "registry_id": "123456789012" if target == "aws" else "",
                "context": str(context),
                **extra,
            })
            keys = ("serving_image", "training_image", "image_tags", "pull_policy")
            return pulumi.Output.all(*(getattr(images, k) for k in keys)).apply(
                lambda values: outputs.update(zip(keys, values)))

        program()
    for record in monitor.records:
        if record["type"] == IMAGE:
            record["secret_paths"] = secret_paths[record["name"]]
    return monitor.records, outputs, calls


def _secret_paths(value: Any, path: str = "") -> list[str]:
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return [path]
        return [p for k, v in value.items() for p in _secret_paths(v, f"{path}.{k}" if path else k)]
    return []


def mocked_call(token: str, args: dict) -> dict:
    """What the harness's mocks answer for an invoke (the AWS/Azure mocks may own it)."""
    from stacks.mocks import PlatformMocks

    return PlatformMocks().calls[token](pulumi.runtime.MockCallArgs(token, args, ""))


def images_of(records) -> dict[str, dict]:
    return {r["name"].rsplit("-", 1)[-1]: r for r in of_type(records, IMAGE)}


@pytest.mark.parametrize("target", ["local", "aws", "azure"])
def test_image_inputs_name_the_context_dockerfile_platform_and_a_content_tag(ctx, target):
    records, outputs, _ = declare(target, ctx)
    images = images_of(records)
    assert set(images) == {"serving", "training"}
    for key, dockerfile in (("serving", "serving/Dockerfile"), ("training", "ml/Dockerfile")):
        r = images[key]
        build = r["inputs"]["build"]
        assert not os.path.isabs(build["context"]), f"{r['urn']}: an absolute context differs per machine"
        assert Path(build["context"]).resolve() == ctx.resolve(), r["urn"]
        # pulumi-docker resolves the Dockerfile against the working directory, not the context.
        assert Path(build["dockerfile"]).resolve() == (ctx / dockerfile).resolve(), r["urn"]
        assert build["platform"] == "linux/amd64" and build["builderVersion"] == "BuilderBuildKit", r["urn"]
        extras = {"local": "", "aws": " aws-runtime", "azure": " azure-runtime"}[target]
        assert build["args"] == {"EXTRAS": {"serving": "serving", "training": "ml"}[key] + extras}, r["urn"]
        tag = content_tag(ctx, dockerfile, "linux/amd64", build["args"])[0]
        assert r["inputs"]["imageName"] == f"{REPOS[target][key]}:{tag}", r["urn"]
        assert not r["inputs"]["imageName"].endswith(":latest")
        assert outputs["image_tags"][key] == tag


def test_local_builds_into_minikubes_daemon_without_pushing(ctx):
    records, outputs, calls = declare("local", ctx, docker_host="tcp://192.168.49.2:2376",
                                      docker_cert_path="/home/u/.minikube/certs")
    (provider,) = of_type(records, PROVIDER)
    assert provider["inputs"]["host"] == "tcp://192.168.49.2:2376"
    assert provider["inputs"]["certPath"] == "/home/u/.minikube/certs"
    for r in images_of(records).values():
        assert r["inputs"]["skipPush"] is True, r["urn"]
        assert "registry" not in r["inputs"], f"{r['urn']}: nothing to log in to on local"
        assert r["provider"] and r["provider"].startswith(provider["urn"]), f"{r['urn']} must build through Minikube's daemon"
    assert calls == []
    tag = outputs["image_tags"]["serving"]
    assert outputs["serving_image"] == f"localhost:5000/serving:{tag}"
    assert outputs["pull_policy"] == "Never"


def test_local_without_docker_host_uses_the_ambient_docker_env(ctx):
    records, _, _ = declare("local", ctx)
    (provider,) = of_type(records, PROVIDER)
    assert "host" not in provider["inputs"] and "certPath" not in provider["inputs"]


def test_aws_pushes_to_ecr_with_the_ecr_token_and_deploys_the_digest(ctx):
    records, outputs, calls = declare("aws", ctx)
    assert [c for c in calls if c[0] == ECR_TOKEN] == [(ECR_TOKEN, {"registryId": "123456789012"})]
    for key, r in images_of(records).items():
        registry = r["inputs"]["registry"]
        token = mocked_call(ECR_TOKEN, {"registryId": "123456789012"})
        assert registry == {"server": ECR, "username": token["userName"], "password": token["password"]}, r["urn"]
        assert registry["username"] == "AWS" and registry["password"], r["urn"]
        assert r["inputs"]["skipPush"] is False, r["urn"]
    assert outputs["serving_image"].startswith(f"{REPOS['aws']['serving']}@sha256:")
    assert outputs["training_image"].startswith(f"{REPOS['aws']['training']}@sha256:")
    assert outputs["pull_policy"] == "IfNotPresent"


def test_aws_token_comes_from_a_provider_in_the_registrys_region(ctx):
    records, _, _ = declare("aws", ctx)
    (provider,) = [r for r in records if r["type"] == "pulumi:providers:aws"]
    assert provider["inputs"]["region"] == "eu-west-1"
    assert "accessKey" not in provider["inputs"] and "secretKey" not in provider["inputs"], "no static keys"
    assert call_providers[ECR_TOKEN].startswith(provider["urn"])


@pytest.mark.parametrize(("url", "region"), [(ECR, "eu-west-1"), ("210987654321.dkr.ecr.us-gov-west-1.amazonaws.com", "us-gov-west-1")])
def test_region_of_an_ecr_host(url, region):
    from components.aws.images import region_of

    assert region_of(url) == region


def test_region_of_refuses_a_non_ecr_host():
    from components.aws.images import region_of

    with pytest.raises(ValueError, match="is not an ECR registry host"):
        region_of("localhost:5000")


@pytest.mark.parametrize("target", ["aws", "azure"])
def test_registry_password_travels_as_a_secret(ctx, target):
    records, _, _ = declare(target, ctx)
    for r in images_of(records).values():
        # The SDK marks the whole registry object secret when its password is one.
        assert r["secret_paths"] in (["registry"], ["registry.password"]), r["urn"]


def test_azure_pushes_to_acr_as_the_deployers_entra_identity_never_admin(ctx):
    records, outputs, calls = declare("azure", ctx)
    tokens = [c for c in calls if c[0] == ENTRA_TOKEN]
    assert tokens == [(ENTRA_TOKEN, {"endpoint": "https://containerregistry.azure.net"})]
    assert not [c for c in calls if "listRegistryCredentials" in c[0]], "admin credentials must never be read"
    for r in images_of(records).values():
        registry = r["inputs"]["registry"]
        assert registry["server"] == ACR, r["urn"]
        assert registry["username"] == "00000000-0000-0000-0000-000000000000", r["urn"]
        assert registry["password"] == "", f"{r['urn']}: preview exchanges no token"
    assert not of_type(records, "azure-native:containerregistry:Token")
    assert outputs["serving_image"].startswith(f"{ACR}/serving@sha256:")


def test_azure_exchanges_the_entra_token_for_an_acr_refresh_token_on_update(ctx, monkeypatch):
    from components.azure import images as azure_images

    exchanged = []

    def fake(login_server, tenant, access_token, urlopen=None):
        exchanged.append((login_server, tenant, access_token))
        return "acr-refresh-token"

    monkeypatch.setattr(azure_images, "exchange_for_refresh_token", fake)
    records, _, _ = declare("azure", ctx, preview=False)
    tenant = mocked_call("azure-native:authorization:getClientConfig", {})["tenantId"]
    access = mocked_call(ENTRA_TOKEN, {"endpoint": "https://containerregistry.azure.net"})["token"]
    assert exchanged and set(exchanged) == {(ACR, tenant, access)}
    for r in images_of(records).values():
        assert r["inputs"]["registry"]["password"] == "acr-refresh-token", r["urn"]


def test_exchange_posts_the_documented_form(monkeypatch):
    import io
    import json
    import urllib.parse

    from components.azure.images import exchange_for_refresh_token

    sent = {}

    class Response(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def urlopen(request, timeout):
        sent.update(url=request.full_url, method=request.get_method(), form=dict(urllib.parse.parse_qsl(request.data.decode())))
        return Response(json.dumps({"refresh_token": "rt"}).encode())

    assert exchange_for_refresh_token(ACR, "tenant-1", "aad", urlopen=urlopen) == "rt"
    assert sent == {
        "url": f"https://{ACR}/oauth2/exchange",
        "method": "POST",
        "form": {"grant_type": "access_token", "service": ACR, "tenant": "tenant-1", "access_token": "aad"},
    }


def test_platform_comes_from_args(ctx):
    records, _, _ = declare("aws", ctx, platform="linux/arm64")
    assert {r["inputs"]["build"]["platform"] for r in images_of(records).values()} == {"linux/arm64"}


# ---- the repository's own build context --------------------------------------------------
_REPO = Path(__file__).resolve().parents[2]


def _copied_sources(dockerfile: Path) -> list[str]:
    """The context paths a Dockerfile's COPY instructions read (not ``COPY --from=<stage>``)."""
    sources = []
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if not words or words[0] != "COPY" or any(w.startswith("--from") for w in words):
            continue
        sources += [w.rstrip("/") for w in words[1:-1] if not w.startswith("--")]
    return sources


@pytest.mark.parametrize("dockerfile", ["serving/Dockerfile", "ml/Dockerfile"])
def test_the_repository_context_holds_what_each_dockerfile_copies_and_no_docs(dockerfile):
    """Editing README.md (or any doc) must not re-tag and roll out the images, and the allowlist
    must still let through every file the Dockerfile copies, or the real build fails."""
    files = set(context_files(_REPO, dockerfile))
    sources = _copied_sources(_REPO / dockerfile)
    assert sources, "no COPY sources found"
    for src in sources:
        assert src in files or any(f.startswith(src + "/") for f in files), f"{src} is not in the build context"
    assert not [f for f in files if f.endswith(".md")], "docs in the build context re-tag the image on every edit"
