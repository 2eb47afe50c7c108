"""ContainerImages on Azure: build, then push to the Registry's ACR, admin user off.

Push identity: the deployer's own Entra identity (``az login`` on a laptop, workload identity
federation in CI), the same one the azure-native provider deploys with. The program asks that
provider for an access token with the ACR audience and trades it at the registry's
``/oauth2/exchange`` endpoint for an ACR refresh token (what ``az acr login`` does), used as the
docker password with the all-zero user name. Why this and not a repository-scoped ACR token:
a scoped token's password is a standing secret that azure-native cannot generate (there is no
``generateCredentials`` in the SDK), so it would have to be made by hand, stored in config and
rotated; the Entra token lives about three hours, is never configured anywhere, and the push is
audited and authorized per identity. The deployer needs ``AcrPush`` on the registry (or
``Container Registry Repository Writer`` on registries with ABAC repository permissions).
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_azure_native as azure_native
import pulumi_docker as docker

from ..images import push_images

PULL_POLICY = "IfNotPresent"
#: The user name ACR expects with a refresh token obtained from an Entra token.
ACR_TOKEN_USER = "00000000-0000-0000-0000-000000000000"
#: Token audience of ACR's data plane; accepted even where ARM-audience tokens are disabled.
ACR_AUDIENCE = "https://containerregistry.azure.net"

Opener = Callable[..., Any]


def exchange_for_refresh_token(login_server: str, tenant: str, access_token: str,
                               urlopen: Opener = urllib.request.urlopen) -> str:
    """POST ``https://<login_server>/oauth2/exchange``: Entra access token -> ACR refresh token."""
    body = urllib.parse.urlencode({
        "grant_type": "access_token",
        "service": login_server,
        "tenant": tenant,
        "access_token": access_token,
    }).encode()
    request = urllib.request.Request(
        f"https://{login_server}/oauth2/exchange", data=body, method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urlopen(request, timeout=30) as response:
        return json.loads(response.read())["refresh_token"]


def _exchange(values: list[Any]) -> str:
    login_server, tenant, access_token = values
    if pulumi.runtime.is_dry_run() or not login_server:
        # Preview pushes nothing (and pulumi-docker ignores password-only changes in its diff).
        return ""
    return exchange_for_refresh_token(login_server, tenant, access_token)


def registry_auth(component: Any, settings: Any) -> docker.RegistryArgs:
    """Push credentials for the stack's ACR from the deployer's Entra identity (no admin user)."""
    invoke = pulumi.InvokeOutputOptions(parent=component)
    client = azure_native.authorization.get_client_config_output(opts=invoke)
    token = azure_native.authorization.get_client_token_output(endpoint=ACR_AUDIENCE, opts=invoke)
    password = pulumi.Output.all(
        settings.registry_url, client.tenant_id, pulumi.Output.secret(token.token)
    ).apply(_exchange)
    secret: pulumi.Output[str] = pulumi.Output.secret(password)
    return docker.RegistryArgs(
        server=settings.registry_url,
        username=ACR_TOKEN_USER,
        password=secret,
    )


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    return {**push_images(component, name, settings, registry_auth(component, settings)), "pull_policy": PULL_POLICY}
