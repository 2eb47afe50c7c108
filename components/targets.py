"""The one place that knows which backends exist and picks one.

Every facade (network.py, cluster.py, ...) calls :func:`load_backend`; nothing else in the
code base branches on the target. A backend is a module ``components.<target>.<concern>``
exposing ``build(component, name, args) -> dict`` that creates the children (parented to
``component``) and returns the component's public outputs.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pulumi

TARGETS: tuple[str, ...] = ("local", "aws", "azure")

#: Which (component, target) pairs have a backend. A pair missing here is refused with one
#: clear line instead of an ImportError deep inside the program.
BUILT: dict[str, tuple[str, ...]] = {
    "network": ("local", "aws", "azure"),
    "cluster": ("local", "aws", "azure"),
    "registry": ("local", "aws", "azure"),
    "training": ("local", "aws", "azure"),
    "inference": ("local", "aws", "azure"),
    "monitoring": ("local", "aws", "azure"),
    "images": ("local", "aws", "azure"),
}


class TargetError(pulumi.RunError):
    """A target that is unknown, or whose backend is not built yet."""


def check_target(concern: str, target: str) -> None:
    """Raise :class:`TargetError` unless ``target`` has a backend for ``concern``."""
    if target not in TARGETS:
        raise TargetError(
            f"target: {target!r} is not a known target; allowed: {', '.join(TARGETS)}"
        )
    built = BUILT.get(concern, ())
    if target not in built:
        raise TargetError(
            f"target: the {target!r} backend of {concern} is not built yet; "
            f"built targets: {', '.join(built) or 'none'}"
        )


def load_backend(concern: str, target: str) -> ModuleType:
    """Import ``components.<target>.<concern>`` after :func:`check_target`."""
    check_target(concern, target)
    return importlib.import_module(f"{__package__}.{target}.{concern}")
