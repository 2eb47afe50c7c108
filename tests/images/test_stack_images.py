"""Whole stacks: the images are built from this checkout and the endpoint runs exactly the
built reference; buildImages=false falls back to servingImage; the stack exports the references."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.images import content_tag, image_extras
from tests.conftest import ROOT, of_type, one

IMAGE = "docker:index/image:Image"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def container(resources) -> dict:
    deployment = one(resources, DEPLOYMENT, "serving-deployment")
    return deployment["inputs"]["spec"]["template"]["spec"]["containers"][0]


@pytest.fixture(scope="module")
def built(capture):
    return capture("dev", {"buildImages": True})


def test_dev_builds_both_images_from_the_checkout(built):
    for key, dockerfile in (("serving", "serving/Dockerfile"), ("training", "ml/Dockerfile")):
        image = one(built, IMAGE, f"images-{key}")
        build = image["inputs"]["build"]
        assert Path(build["context"]).resolve() == ROOT.resolve(), image["urn"]
        assert Path(build["dockerfile"]).resolve() == (ROOT / dockerfile).resolve(), image["urn"]
        assert build["platform"] == "linux/amd64", image["urn"]
        assert image["inputs"]["skipPush"] is True, image["urn"]
        # The tag covers the build args, EXTRAS included (the target's image contents).
        tag = content_tag(ROOT, dockerfile, "linux/amd64", {"EXTRAS": image_extras("local", key)})[0]
        assert image["inputs"]["imageName"].endswith(f"/{key}:{tag}"), image["urn"]


def test_dev_endpoint_runs_the_built_serving_image_from_the_node(built):
    serving = one(built, IMAGE, "images-serving")
    spec = container(built)
    assert spec["image"] == serving["inputs"]["imageName"]
    assert spec["imagePullPolicy"] == "Never"


def test_build_images_false_deploys_the_configured_image(capture):
    resources = capture("dev", {"buildImages": False, "servingImage": "registry.example.com/serving:1.2.3"})
    assert not of_type(resources, IMAGE) and not of_type(resources, "pulumi:providers:docker")
    spec = container(resources)
    assert spec["image"] == "registry.example.com/serving:1.2.3"


def test_platform_and_docker_host_come_from_stack_config(capture):
    resources = capture("dev", {"buildImages": True, "imagePlatform": "linux/arm64",
                                 "dockerHost": "tcp://192.168.49.2:2376"})
    assert {r["inputs"]["build"]["platform"] for r in of_type(resources, IMAGE)} == {"linux/arm64"}
    (provider,) = of_type(resources, "pulumi:providers:docker")
    assert provider["inputs"]["host"] == "tcp://192.168.49.2:2376"


@pytest.mark.parametrize(("stack", "registry_host"), [("prod", ".dkr.ecr."), ("prod-azure", ".azurecr.io")])
def test_cloud_stacks_push_to_their_registry(capture, stack, registry_host):
    resources = capture(stack, {"buildImages": True})
    for image in of_type(resources, IMAGE):
        assert registry_host in image["inputs"]["registry"]["server"], image["urn"]
        assert image["inputs"]["skipPush"] is False, image["urn"]
        assert not image["inputs"]["imageName"].endswith(":latest"), image["urn"]


def test_stack_exports_the_image_references():
    from stacks.config import parse_settings
    from stacks.composition import build_platform
    from stacks.mocks import PlatformMocks

    got: dict[str, Any] = {}
    pulumi.runtime.settings.set_root_resource(None)
    pulumi.runtime.set_mocks(PlatformMocks(), project="mlops-platform", stack="dev", preview=True)

    @pulumi.runtime.test
    def program():
        outputs = build_platform(parse_settings({"target": "local", "buildImages": True}))
        keys = ("serving_image_uri", "training_image_uri", "image_tags")
        return pulumi.Output.all(*(outputs[k] for k in keys)).apply(lambda v: got.update(zip(keys, v)))

    program()
    serving_tag = content_tag(ROOT, "serving/Dockerfile", "linux/amd64", {"EXTRAS": image_extras("local", "serving")})[0]
    training_tag = content_tag(ROOT, "ml/Dockerfile", "linux/amd64", {"EXTRAS": image_extras("local", "training")})[0]
    assert got["image_tags"] == {"serving": serving_tag, "training": training_tag}
    assert got["serving_image_uri"].endswith(f"/serving:{serving_tag}")
    assert got["training_image_uri"].endswith(f"/training:{training_tag}")
