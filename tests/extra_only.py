"""Run code as if only one pyproject extra were installed (imported by subprocess scripts).

``only_extra(root, extra, ours)`` computes the extra's dependency closure from the installed
distributions' metadata and installs an import hook that makes every other distribution look
absent: ``import x`` raises ``ModuleNotFoundError`` and ``importlib.util.find_spec("x")`` returns
None, as on a machine where it is not installed. Standard-library modules and the project's own
top-level packages (``ours``) stay importable. Returns ``(allowed, hidden)``: the closure's
normalised distribution names and a set that collects the top-level names the hook refused.
"""

from __future__ import annotations

import importlib.abc
import importlib.metadata as md
import importlib.util
import re
import sys
import tomllib

from packaging.requirements import Requirement


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(root: str, extra: str) -> set[str]:
    """Normalised names of the distributions ``extra`` needs, transitively (markers evaluated)."""
    with open(f"{root}/pyproject.toml", "rb") as f:
        requirements = tomllib.load(f)["project"]["optional-dependencies"][extra]
    allowed: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        extras = [""] + sorted(req.extras)
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in extras):
            continue
        if norm(req.name) in allowed:
            continue
        allowed.add(norm(req.name))
        for dep in md.distribution(req.name).requires or []:
            dep_req = Requirement(dep)
            if dep_req.marker is None or any(dep_req.marker.evaluate({"extra": e}) for e in extras):
                todo.append(dep_req)
    return allowed


def only_extra(root: str, extra: str, ours: set[str]) -> tuple[set[str], set[str]]:
    allowed = closure(root, extra)
    owners = md.packages_distributions()
    hidden: set[str] = set()

    def is_hidden(name: str) -> bool:
        top = name.split(".")[0]
        if not top or top in sys.stdlib_module_names or top in ours:
            return False
        dists = owners.get(top)
        return bool(dists) and not any(norm(d) in allowed for d in dists)

    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):  # noqa: ANN001 (importlib's protocol)
            if is_hidden(name):
                hidden.add(name.split(".")[0])
                raise ModuleNotFoundError(f"No module named {name!r} (outside the {extra} extra)", name=name)
            return None

    real_find_spec = importlib.util.find_spec

    def find_spec(name, package=None):  # noqa: ANN001
        if is_hidden(name if not name.startswith(".") else (package or "")):
            hidden.add(name.split(".")[0])
            return None
        return real_find_spec(name, package)

    importlib.util.find_spec = find_spec
    sys.meta_path.insert(0, Hide())
    for name in [m for m in sys.modules if is_hidden(m)]:
        del sys.modules[name]
    return allowed, hidden
