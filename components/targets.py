"""The two dispatch axes, each one table: targets (which backends exist) and serving runtimes
(where the serving app runs on a target).

Every facade (network.py, cluster.py, ...) calls :func:`load_backend`; nothing else in the
code base branches on the target. InferenceEndpoint and Monitoring take a ``runtime`` argument
checked against :data:`RUNTIMES`; a backend with more than one runtime keeps its implementations
in a ``RUNTIMES`` dict keyed by the same names (tests keep the two equal). A backend is a module ``components.<target>.<concern>``
exposing ``build(component, name, args) -> dict`` that creates the children (parented to
``component``) and returns the component's public outputs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
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




@dataclass(frozen=True)
class Runtime:
    """A place the serving app runs."""

    name: str
    #: Targets that offer it.
    targets: tuple[str, ...]
    #: True when the endpoint is Kubernetes objects (Deployment, Service, HPA, probes) that
    #: the in-cluster Prometheus stack scrapes; False for a managed endpoint with its own metrics.
    on_kubernetes: bool
    description: str


#: Serving runtimes, by name (the ``runtime`` argument of InferenceEndpoint and Monitoring,
#: the stack key ``servingRuntime``).
RUNTIMES: dict[str, Runtime] = {
    "kubernetes": Runtime("kubernetes", TARGETS, True, "the serving Deployment on the platform's cluster"),
    "sagemaker": Runtime("sagemaker", ("aws",), False, "a SageMaker real-time endpoint"),
    "azureml": Runtime("azureml", ("azure",), False, "an Azure ML managed online endpoint"),
}


def runtimes_of(target: str) -> tuple[str, ...]:
    """The runtimes ``target`` offers, in table order."""
    return tuple(name for name, runtime in RUNTIMES.items() if target in runtime.targets)


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


#: The pyproject extra that installs each target's provider SDKs (``pip install 'mlops-platform[aws]'``).
EXTRAS: dict[str, str] = {"local": "infra", "aws": "aws", "azure": "azure"}


def load_backend(concern: str, target: str) -> ModuleType:
    """Import ``components.<target>.<concern>`` after :func:`check_target`.

    A provider SDK missing (only the ``[infra]`` extra installed, a cloud target asked for) is
    one line naming the extra to install, not a ModuleNotFoundError from deep in the backend.
    """
    check_target(concern, target)
    try:
        return importlib.import_module(f"{__package__}.{target}.{concern}")
    except ModuleNotFoundError as exc:
        raise missing_extra(target, exc) from None


def missing_extra(target: str, exc: ModuleNotFoundError) -> Exception:
    """The one-line :class:`TargetError` for a provider SDK that is not installed (``exc``
    itself when the missing module is ours: a packaging bug, not a missing extra)."""
    missing = exc.name or ""
    if not missing or missing == __package__ or missing.startswith(f"{__package__}."):
        return exc
    extra = EXTRAS.get(target, target)
    return TargetError(
        f"target: {target!r} needs the {extra} extra (module {missing.split('.')[0]!r} is not "
        f"installed); install it: pip install 'mlops-platform[{extra}]' (or uv sync --extra {extra})"
    )
