"""Value helpers the stack's config modules share."""

from __future__ import annotations


def split(value: str) -> list[str]:
    """Comma-separated stack config values (Pulumi.yaml's typed config has no item types here):
    ``"a, b"`` -> ``["a", "b"]``; empty -> ``[]``."""
    return [item.strip() for item in value.split(",") if item.strip()]
