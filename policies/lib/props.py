"""Reading resource inputs the way the engine hands them over.

In ``pulumi preview`` the props are pulumi_policy's unknown-checking proxies: ``Mapping`` and
``Sequence`` objects, not ``dict``/``list``, that raise ``UnknownValueError`` when a rule reads
a value that is not known yet (the engine then reports "can't run policy during preview" as an
advisory note instead of a verdict). These helpers accept both the proxies and plain values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError

__all__ = [
    "UnknownValueError", "as_list", "dig", "is_false", "is_list", "is_map", "is_set", "is_true", "known", "plain",
]


def is_map(value: Any) -> bool:
    return isinstance(value, Mapping)


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def dig(value: Any, *path: Any, default: Any = None) -> Any:
    """``value[p0][p1]...`` or ``default`` when a step is missing (unknowns still raise)."""
    current = value
    for step in path:
        if isinstance(step, int):
            if not is_list(current) or not -len(current) <= step < len(current):
                return default
            current = current[step]
        else:
            if not is_map(current) or step not in current:
                return default
            current = current[step]
        if current is None:
            return default
    return current


def as_list(value: Any) -> list[Any]:
    """``None`` -> ``[]``, a sequence -> its items, anything else -> ``[value]``."""
    if value is None:
        return []
    if is_list(value):
        return [value[i] for i in range(len(value))]
    return [value]


def plain(value: Any) -> Any:
    """A plain dict/list copy of a (possibly proxied) value; raises on unknowns inside."""
    if is_map(value):
        return {str(k): plain(value[k]) for k in value}
    if is_list(value):
        return [plain(value[i]) for i in range(len(value))]
    return value


def is_true(value: Any) -> bool:
    """True for ``True`` and the engine's string spelling ``"true"``."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def is_set(value: Any, *path: Any) -> bool:
    """True when ``value[path]`` is present and non-empty.

    A value that is unknown during preview counts as set: an unknown input is a reference to
    another resource's output (a key ARN, a subnet id), which is exactly what such a setting
    holds; what cannot be known is only which one.
    """
    try:
        found = dig(value, *path)
    except UnknownValueError:
        return True
    if found is None or found == "":
        return False
    if (is_map(found) or is_list(found)) and len(found) == 0:
        return False
    return True


def known(value: Any, *path: Any, default: Any = None, if_unknown: Any = None) -> Any:
    """``dig`` that returns ``if_unknown`` instead of raising when the value is unknown at
    preview (``default`` when it is missing)."""
    try:
        return dig(value, *path, default=default)
    except UnknownValueError:
        return if_unknown
