"""Settings a rule reads (environment, owner, cost center, allow-lists), from one of:

1. the rule's own policy config (``--policy-pack-config`` in the engine; the offline runner
   fills it from the stack config keys the rule's schema names);
2. the stack's tags (``pulumi stack tag set environment prod``); for ``costCenter`` the tag may
   also be spelled ``cost-center``;
3. the stack's own config, which the CLI hands to the policy pack process as ``PULUMI_CONFIG``
   (keys ``mlops-platform:<key>``).

A prod-only rule whose environment cannot be found assumes ``prod``: it fails closed.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

PROJECT = "mlops-platform"
ENVIRONMENTS = ("dev", "staging", "prod")
UNKNOWN_ENVIRONMENT_DEFAULT = "prod"

ENVIRONMENT_PROPERTY: dict[str, dict[str, Any]] = {
    "environment": {
        "type": "string",
        "enum": list(ENVIRONMENTS),
        "description": "The stack's environment; falls back to the stack tag `environment`, then "
        "the stack config `mlops-platform:environment`, then prod.",
    }
}


def _kebab(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", key).lower()


def _stack_config_env() -> dict[str, Any]:
    raw = os.environ.get("PULUMI_CONFIG")
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def setting(args: Any, key: str) -> Any:
    """The value of ``key`` for this rule, or ``None`` when no source sets it."""
    config = args.get_config() or {}
    if config.get(key) not in (None, ""):
        return config[key]
    tags = args.stack_tags or {}
    for tag in (key, _kebab(key), f"{PROJECT}:{key}"):
        if tags.get(tag) not in (None, ""):
            return tags[tag]
    value = _stack_config_env().get(f"{PROJECT}:{key}")
    return value if value not in (None, "") else None


def environment(args: Any) -> str:
    value = setting(args, "environment")
    return str(value) if value is not None else UNKNOWN_ENVIRONMENT_DEFAULT


def is_prod(args: Any) -> bool:
    return environment(args) == "prod"


def string_list(value: Any) -> list[str]:
    """A list setting that may arrive as a list or as the engine's JSON string."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, list):
                return [str(v) for v in parsed]
        return [part.strip() for part in text.split(",") if part.strip()]
    return [str(v) for v in value]


def integer(value: Any, default: int) -> int:
    if value is None:
        return default
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default
