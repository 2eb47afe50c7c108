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


def role_key(name: str) -> str:
    """How the table spells a role: its display name without spaces (``Storage Blob Data Reader``
    -> ``StorageBlobDataReader``)."""
    return name.replace(" ", "")


def builtin_role_id(name: str) -> str:
    """The id of the Azure built-in role ``name`` (its display name) from Azure's full built-in
    role table (lower-case)."""
    roles = load(AZURE_BUILTIN_ROLES)["roles"]
    key = role_key(name)
    if key not in roles:
        raise KeyError(f"{name!r} is not an Azure built-in role ({AZURE_BUILTIN_ROLES.name} lists {len(roles)})")
    return str(roles[key]).lower()
