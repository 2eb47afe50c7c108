"""ContainerImages on AWS: build, then push to the Registry's ECR repositories.

Authentication is the short-lived token ECR issues to whoever runs the program
(``ecr.get_authorization_token`` through the AWS provider's own credentials: SSO, OIDC in CI,
an instance role); no static keys anywhere. The token lasts 12 hours; pulumi-docker does not
rebuild when only the password changes. Repositories are IMMUTABLE: the content tag never
repeats for different content, and deployments reference the pushed digest.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

from ..images import push_images
from .common import caller_provider

PULL_POLICY = "IfNotPresent"


_ECR_HOST = re.compile(r"^[0-9]{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")


def region_of(registry_url: str) -> str:
    """``<account>.dkr.ecr.<region>.amazonaws.com`` -> ``<region>`` (ECR tokens are regional)."""
    match = _ECR_HOST.match(registry_url or "")
    if not match:
        raise ValueError(f"registry_url: {registry_url!r} is not an ECR registry host; "
                         "allowed: <account>.dkr.ecr.<region>.amazonaws.com")
    return match.group(1)


def registry_auth(component: Any, name: str, settings: Any) -> docker.RegistryArgs:
    """Push credentials for the stack's ECR registry from the caller's AWS identity."""
    # Its own provider in the registry's region: a token is only valid where it was issued,
    # and the stack configures no default AWS provider region.
    # The caller's provider when one reaches the component (opts.provider / opts.providers):
    # its credentials are the ones that may read the registry.
    provider = caller_provider(component) or aws.Provider(
        f"{name}-aws",
        aws.ProviderArgs(region=pulumi.Output.from_input(settings.registry_url).apply(region_of)),
        opts=pulumi.ResourceOptions(parent=component),
    )
    token = aws.ecr.get_authorization_token_output(
        registry_id=settings.registry_id or None,
        opts=pulumi.InvokeOutputOptions(parent=component, provider=provider),
    )
    return docker.RegistryArgs(
        server=settings.registry_url,
        username=token.user_name,
        password=pulumi.Output.secret(token.password),
    )


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    return {**push_images(component, name, settings, registry_auth(component, name, settings)), "pull_policy": PULL_POLICY}
