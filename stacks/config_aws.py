"""aws-only stack keys (prefix ``aws``) and how they map onto the components' ``aws`` options."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class AwsSettings(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    aws_region: str = "eu-west-1"


def component_options(settings: Any) -> dict[str, dict[str, Any]]:
    """The ``aws`` argument of each component, by concern."""
    return {concern: {} for concern in ("network", "cluster", "registry", "training", "inference", "monitoring")}
