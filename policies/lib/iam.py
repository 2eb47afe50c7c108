"""IAM policy documents, which arrive as JSON strings (``json.dumps``/``Output.json_dumps``)
or as objects; both spellings of every field (string or list) are accepted."""

from __future__ import annotations

import json
from typing import Any

from .props import as_list, is_map, plain


class DocumentError(ValueError):
    """A policy document that is not valid JSON or not an object."""


def parse_document(value: Any) -> dict[str, Any] | None:
    """The document as a dict, ``None`` when absent; raises :class:`DocumentError`."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            raise DocumentError(f"not valid JSON ({exc.msg})") from None
    else:
        parsed = plain(value)
    if not isinstance(parsed, dict):
        raise DocumentError("not a JSON object")
    return parsed


def statements(document: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not document:
        return []
    return [s for s in as_list(document.get("Statement")) if is_map(s)]


def allows(statement: dict[str, Any]) -> bool:
    return str(statement.get("Effect", "")).lower() == "allow"


def strings(value: Any) -> list[str]:
    return [str(v) for v in as_list(value)]


def principals(statement: dict[str, Any]) -> list[tuple[str, str]]:
    """``[(kind, value)]`` for the statement's Principal; ``("*", "*")`` for ``"Principal": "*"``."""
    principal = statement.get("Principal")
    if principal is None:
        return []
    if isinstance(principal, str):
        return [("*", principal)]
    out: list[tuple[str, str]] = []
    if is_map(principal):
        for kind, values in principal.items():
            out.extend((str(kind), v) for v in strings(values))
    return out


def conditions(statement: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """``{operator: {key (lower-case): [values]}}``."""
    out: dict[str, dict[str, list[str]]] = {}
    condition = statement.get("Condition")
    if not is_map(condition):
        return out
    for operator, block in condition.items():
        if is_map(block):
            out[str(operator)] = {str(k).lower(): strings(v) for k, v in block.items()}
    return out


def is_public_principal(statement: dict[str, Any]) -> bool:
    """True when the statement names everybody (``*`` or ``{"AWS": "*"}``)."""
    return any(value == "*" for kind, value in principals(statement) if kind in ("*", "AWS"))
