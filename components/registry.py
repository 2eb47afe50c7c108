"""Registry: where the platform's images live.

local: an in-cluster OCI registry (Deployment + Service + PVC) in the platform namespace; images
can also be built straight into Minikube's image store (see README, "Images").
aws: one ECR repository per image (scan on push, IMMUTABLE tags, KMS, lifecycle, pull policy).
azure: ACR with the admin user off and AcrPull for the cluster and AML identities only.
"""


from typing import Any, Mapping, Optional, TypedDict, cast

import pulumi
from typing_extensions import NotRequired

from . import common, spec
from .aws.options import AwsRegistryOptions
from .azure.options import AzureRegistryOptions
from .local.options import LocalRegistryOptions
from .base import PlatformComponent, Settings, declared_outputs, require, with_defaults


class RegistryArgs(TypedDict):
    """Arguments of :class:`Registry`."""

    target: str
    """``local`` | ``aws`` | ``azure``."""
    repositories: NotRequired[list[str]]
    """Image repositories to create (default ``["serving", "training"]``)."""
    namespace: NotRequired[pulumi.Input[str]]
    """local only: namespace of the in-cluster registry (pass ``cluster.namespace``)."""
    untagged_expiry_days: NotRequired[int]
    """Expire untagged images after this many days (default 7)."""
    keep_last_images: NotRequired[int]
    """Keep at most this many tagged images per repository (default 30)."""
    node_identity: NotRequired[Optional[pulumi.Input[str]]]
    """Identity allowed to pull (pass ``cluster.node_identity``; cloud targets)."""
    environment: NotRequired[str]
    """``dev`` | ``staging`` | ``prod`` (default ``dev``)."""
    protect_data: NotRequired[bool]
    """Protect the registry from deletion (default false; true in prod)."""
    tags: NotRequired[Mapping[str, str]]
    """Tags/labels for every child."""
    local: NotRequired[LocalRegistryOptions]
    """local only: the in-cluster registry's volume (components/local/options.py)."""
    aws: NotRequired[AwsRegistryOptions]
    """aws-only options."""
    azure: NotRequired[AzureRegistryOptions]
    """azure-only options."""


#: The per-target options blocks, each declared once (components/spec.py).
OPTIONS = {"local": LocalRegistryOptions, "aws": AwsRegistryOptions, "azure": AzureRegistryOptions}

DEFAULTS: dict[str, Any] = {
    "target": None,
    "repositories": ["serving", "training"],
    "namespace": "mlops",
    "untagged_expiry_days": 7,
    "keep_last_images": 30,
    "node_identity": None,
    "environment": "dev",
    "protect_data": False,
    "tags": {},
    "local": {},
    "aws": {},
    "azure": {},
}


def resolve_registry_args(args: Mapping[str, Any]) -> Settings:
    """Apply defaults and validate; raises ArgsError with one line naming the key."""
    merged = with_defaults(args, DEFAULTS)
    common.check_target(merged["target"])
    spec.resolve_blocks(merged, OPTIONS)
    common.check_environment(merged["environment"])
    repos = merged["repositories"]
    require(isinstance(repos, list) and len(repos) > 0 and len(set(repos)) == len(repos),
            "repositories", repos, "a non-empty list of distinct names")
    for repo in repos:
        common.check_dns_label("repositories", repo)
    common.check_int("untagged_expiry_days", merged["untagged_expiry_days"], 1, 3650)
    common.check_int("keep_last_images", merged["keep_last_images"], 1, 10000)
    return Settings(merged)


class RegistryOutputs(TypedDict):
    """What a Registry backend returns (checked by components/base.py)."""

    registry_url: pulumi.Input[str]
    repository_urls: pulumi.Input[dict[str, str]]
    registry_id: pulumi.Input[str]


class Registry(PlatformComponent):
    """Image registry (type token ``mlops:index:Registry``)."""

    CONCERN = "registry"
    ONLY_ON = cast("dict[str, tuple[str, ...]]", {})  # every output exists on every target
    OUTPUTS = declared_outputs(RegistryOutputs, ONLY_ON)

    registry_url: pulumi.Output[str]
    """Registry server (``<acct>.dkr.ecr.<region>.amazonaws.com``, ``<name>.azurecr.io``, or
    the in-cluster address on local)."""
    repository_urls: pulumi.Output[dict[str, str]]
    """Image name -> repository URL to tag and push to."""
    registry_id: pulumi.Output[str]
    """Registry id (account id / ACR resource id / the local registry Service name)."""

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None):
        self._setup(name, args, resolve_registry_args, opts)
