"""Data files kept with the pack (``policies/data/``), each recording where it comes from."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
AZURE_BUILTIN_ROLES = DATA_DIR / "azure_builtin_roles.json"


@functools.lru_cache(maxsize=None)
def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def builtin_role_id(name: str) -> str:
    """The id of the Azure built-in role ``name`` from Azure's published table (lower-case)."""
    roles = load(AZURE_BUILTIN_ROLES)["roles"]
    if name not in roles:
        raise KeyError(f"{name!r} is not in {AZURE_BUILTIN_ROLES.name}; copy it from the published table first")
    return str(roles[name]["id"]).lower()
