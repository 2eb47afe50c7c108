"""Common tags (AWS, Azure) and labels (Kubernetes) every resource carries.

The policy pack's required-tags rule checks exactly these keys, so they live in one place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

PROJECT = "mlops-platform"

#: Keys every taggable cloud resource carries.
REQUIRED_TAG_KEYS: tuple[str, ...] = ("owner", "environment", "cost-center", "project", "managed-by")

#: Label keys every Kubernetes object carries.
PART_OF = "app.kubernetes.io/part-of"
MANAGED_BY = "app.kubernetes.io/managed-by"
ENV_LABEL = "mlops-platform/environment"
OWNER_LABEL = "mlops-platform/owner"
COST_LABEL = "mlops-platform/cost-center"
REQUIRED_LABEL_KEYS: tuple[str, ...] = (PART_OF, MANAGED_BY, ENV_LABEL, OWNER_LABEL, COST_LABEL)

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def standard_tags(environment: str, owner: str, cost_center: str) -> dict[str, str]:
    """Cloud tags for one stack: ``owner``, ``environment``, ``cost-center``, ``project``, ``managed-by``."""
    return {
        "owner": owner,
        "environment": environment,
        "cost-center": cost_center,
        "project": PROJECT,
        "managed-by": "pulumi",
    }


def label_value(value: str) -> str:
    """Coerce a tag value into a valid Kubernetes label value (≤63, alnum at both ends)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", value)[:63].strip("-_.")
    if not _LABEL_VALUE.match(cleaned):  # pragma: no cover - the substitution guarantees it
        raise ValueError(f"cannot make a label value of {value!r}")
    return cleaned


def kubernetes_labels(tags: Mapping[str, str]) -> dict[str, str]:
    """Turn the cloud tags into the labels every Kubernetes object carries."""
    return {
        PART_OF: PROJECT,
        MANAGED_BY: "pulumi",
        ENV_LABEL: label_value(tags.get("environment", "dev")),
        OWNER_LABEL: label_value(tags.get("owner", "unknown")),
        COST_LABEL: label_value(tags.get("cost-center", "unknown")),
    }
