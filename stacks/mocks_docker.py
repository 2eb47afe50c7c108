"""Mock outputs for pulumi-docker and for the registry-auth invokes ContainerImages uses.

``docker:index/image:Image``: the state a real build reports (``repoDigest``: the pushed
manifest's ``repo@sha256:…``, or for a local-only image its image ID; ``registryServer``;
``baseImageName``), derived from the inputs so it is stable and changes with the tag.
The ECR / Entra token invokes live here until ``mocks_aws.py`` / ``mocks_azure.py`` provide
their own: those are loaded after this module and win.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi

MOCK_ACCOUNT = "123456789012"
MOCK_TENANT = "00000000-0000-0000-0000-0000000000aa"


def _sha(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _image(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = str(args.inputs.get("imageName", args.name))
    last = name.rsplit("/", 1)[-1]
    repository = name.rsplit(":", 1)[0] if ":" in last else name
    registry = (args.inputs.get("registry") or {}).get("server") or ""
    pushed = not args.inputs.get("skipPush", False)
    return {
        "baseImageName": name,
        "registryServer": registry,
        "repoDigest": f"{repository}@{_sha(name)}" if pushed else _sha("local:" + name),
        "context": (args.inputs.get("build") or {}).get("context", "."),
        "dockerfile": (args.inputs.get("build") or {}).get("dockerfile", "Dockerfile"),
        "platform": (args.inputs.get("build") or {}).get("platform", "linux/amd64"),
    }


def _ecr_token(args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
    registry = args.args.get("registryId") or MOCK_ACCOUNT
    region = args.args.get("region") or "eu-west-1"
    return {
        "authorizationToken": "QVdTOm1vY2stcGFzc3dvcmQ=",
        "expiresAt": "2099-01-01T00:00:00Z",
        "id": region,
        "password": "mock-ecr-password",
        "proxyEndpoint": f"https://{registry}.dkr.ecr.{region}.amazonaws.com",
        "region": region,
        "registryId": registry,
        "userName": "AWS",
    }


def _client_config(args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
    return {
        "clientId": "00000000-0000-0000-0000-0000000000cc",
        "objectId": "00000000-0000-0000-0000-0000000000dd",
        "subscriptionId": "00000000-0000-0000-0000-0000000000bb",
        "tenantId": MOCK_TENANT,
    }


def _client_token(args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
    return {"token": "mock-entra-access-token"}


RESOURCE_OUTPUTS = {
    "docker:index/image:Image": _image,
}

CALLS = {
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": _ecr_token,
    "azure-native:authorization:getClientConfig": _client_config,
    "azure-native:authorization:getClientToken": _client_token,
}
