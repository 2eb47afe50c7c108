"""azure-only stack keys (prefix ``azure``) and how they map onto the components' ``azure`` options."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class AzureSettings(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    azure_location: str = "westeurope"


def component_options(settings: Any) -> dict[str, dict[str, Any]]:
    """The ``azure`` argument of each component, by concern."""
    return {concern: {} for concern in ("network", "cluster", "registry", "training", "inference", "monitoring")}
