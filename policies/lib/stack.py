"""Joining resources in a stack validation.

Several AWS settings live on companion resources (pulumi-aws 7 puts an S3 bucket's encryption,
public access block and policy on separate resources), so the rule must find the companion
that points at a given resource. A companion points at a target when:

1. its ``property_dependencies[key]`` names the target's URN: this works in ``pulumi preview``
   even when the target's id is still unknown, and under the capture harness; or
2. the value of its ``key`` equals one of the target's identities: its physical name, id or
   ARN (outputs, as the engine passes them after an update), or its logical name (the capture
   harness's mocks use the logical name as the id).

A value that is unknown during preview does not match: with no property dependency to go on,
the rule cannot tell, and says the companion is missing (the honest reading of a plan in which
nothing is seen to point at the target).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .props import UnknownValueError

IDENTITY_KEYS = ("id", "arn", "bucket", "name", "repositoryName", "accountName")


def of_type(resources: Iterable[Any], *types: str) -> list[Any]:
    return [r for r in resources if r.resource_type in types]


def identities(resource: Any) -> set[str]:
    out = {resource.name}
    for key in IDENTITY_KEYS:
        try:
            value = resource.props.get(key)
        except UnknownValueError:
            continue
        if isinstance(value, str) and value:
            out.add(value)
    return out


def points_at(companion: Any, key: str, target: Any) -> bool:
    deps = (companion.property_dependencies or {}).get(key) or []
    if any(getattr(dep, "urn", None) == target.urn for dep in deps):
        return True
    try:
        value = companion.props.get(key)
    except UnknownValueError:
        return False
    return isinstance(value, str) and value in identities(target)


def companions(resources: Iterable[Any], companion_type: str | tuple[str, ...], key: str, target: Any) -> list[Any]:
    types = (companion_type,) if isinstance(companion_type, str) else companion_type
    return [c for c in resources if c.resource_type in types and points_at(c, key, target)]
