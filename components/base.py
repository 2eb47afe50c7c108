"""What the six facades share: construct, validate, dispatch to a backend, publish outputs."""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from typing import Any, cast

import pulumi

from .targets import load_backend

TYPE_PREFIX = "mlops:index:"


class ArgsError(pulumi.RunError):
    """A component argument has a value the component refuses (one line: key, value, allowed)."""


def require(condition: bool, key: str, value: Any, allowed: str) -> None:
    """Raise :class:`ArgsError` naming ``key``, the bad ``value`` and what is ``allowed``."""
    if not condition:
        raise ArgsError(f"{key}: {value!r} is not allowed; allowed: {allowed}")


class Settings(dict):
    """Resolved, validated arguments: a read-only mapping that also reads as attributes."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setitem__(self, key: str, value: Any) -> None:  # pragma: no cover - guard
        raise TypeError("Settings are read-only")


def with_defaults(args: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Merge user args over defaults, refusing keys the component does not know."""
    unknown = sorted(set(args) - set(defaults))
    if unknown:
        raise ArgsError(
            f"{unknown[0]}: unknown argument; allowed: {', '.join(sorted(defaults))}"
        )
    merged = dict(defaults)
    merged.update({k: v for k, v in args.items() if v is not None})
    return merged


def applies(where: tuple[str, ...], settings: Mapping[str, Any]) -> bool:
    """Whether an output listed under ``where`` exists for these resolved settings: entries are
    a target (``aws``), a runtime (``runtime:sagemaker``) or both (``aws/kubernetes``)."""
    target, runtime = settings.get("target"), settings.get("runtime")
    return target in where or f"runtime:{runtime}" in where or f"{target}/{runtime}" in where


def check_outputs(component: str, settings: Mapping[str, Any], outputs: Mapping[str, Any],
                  every: tuple[str, ...], only_on: Mapping[str, tuple[str, ...]]) -> list[str]:
    """The output keys a backend must return: ``every`` plus the ``only_on`` keys that apply.

    A backend returning a key that is not declared, or one that does not apply to its target or
    runtime, or missing one, is a backend bug: one line naming the keys (not silently dropped).
    """
    expected = [*every, *(key for key, where in only_on.items() if applies(where, settings))]
    missing = [key for key in expected if key not in outputs]
    extra = sorted(set(outputs) - set(expected))
    if missing or extra:
        where = f"{settings.get('target')}" + (f"/{settings['runtime']}" if settings.get("runtime") else "")
        raise BackendOutputsError(
            f"{component} backend ({where}) outputs: missing {missing}, undeclared or not applicable {extra}; "
            f"declared: {', '.join(every)} (every target), "
            + ", ".join(f"{key} ({'/'.join(w)})" for key, w in only_on.items())
        )
    return expected


def declared_outputs(outputs: type, only_on: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The every-target outputs of a ``<Name>Outputs`` TypedDict (its required keys, in order),
    after checking that ``only_on`` covers exactly its NotRequired keys."""
    keys = list(outputs.__annotations__)
    optional = set(outputs.__optional_keys__)  # type: ignore[attr-defined]
    if optional != set(only_on):
        raise TypeError(f"{outputs.__name__}: NotRequired keys {sorted(optional)} != ONLY_ON {sorted(only_on)}")
    return tuple(k for k in keys if k not in optional)


class BackendOutputsError(pulumi.RunError):
    """A backend's outputs do not match its component's declared outputs."""


def _int_fields(args_type: Any) -> tuple[set[str], dict[str, Any]]:
    """The keys of an Args/options TypedDict annotated ``int`` (through NotRequired, Input,
    Optional), and its nested TypedDict fields (the options blocks)."""
    # the raw annotations (the Args modules keep real types; pulumi.Input's own forward
    # reference to Output makes typing.get_type_hints fail)
    hints = getattr(args_type, "__annotations__", {})
    ints: set[str] = set()
    nested: dict[str, Any] = {}
    for key, hint in hints.items():
        todo, seen = [hint], []
        while todo:
            t = todo.pop()
            seen.append(t)
            todo.extend(a for a in typing.get_args(t) if not isinstance(a, (str, int, typing.ForwardRef)))
        if int in seen and bool not in seen:
            ints.add(key)
        typed = [t for t in seen if typing.is_typeddict(t)]
        if typed:
            nested[key] = typed[0]
    return ints, nested


def wire_ints(args: Mapping[str, Any], args_type: Any) -> dict[str, Any]:
    """Whole-number floats back to ``int`` where the Args declare ``int``.

    A component constructed by the engine for another language (TypeScript, Go, ... through
    components/__main__.py) receives its inputs as protobuf Struct values, where every number is
    a double: ``minReplicas: 1`` arrives as ``1.0``. Python callers pass ``1``; this makes both
    the same, and leaves a real fraction (``1.5``) to be refused by the range checks."""
    ints, nested = _int_fields(args_type)
    out = dict(args)
    for key, value in args.items():
        if key in ints and isinstance(value, float) and value.is_integer():
            out[key] = int(value)
        elif key in nested and isinstance(value, Mapping):
            out[key] = wire_ints(value, nested[key])
    return out


class PlatformComponent(pulumi.ComponentResource):
    """Base of the six components. Subclasses set CONCERN, OUTPUTS and ONLY_ON and call
    :meth:`_setup`.

    ``OUTPUTS`` are the outputs every target has (same name, same meaning); ``ONLY_ON`` maps the
    target- or runtime-specific ones to where they exist (``("aws",)``,
    ``("runtime:sagemaker",)``). Elsewhere they are absent: the attribute is None and the
    output is not registered. Both are the keys of the component's ``<Name>Outputs`` TypedDict
    (the type the backends return): required keys are OUTPUTS, NotRequired ones ONLY_ON.
    """

    # Not annotated on purpose: the component-provider analyzer reads class annotations as
    # the component's outputs.
    CONCERN = ""
    OUTPUTS = cast("tuple[str, ...]", ())
    ONLY_ON = cast("dict[str, tuple[str, ...]]", {})

    def _setup(
        self,
        name: str,
        args: Mapping[str, Any],
        resolve: Callable[[Mapping[str, Any]], Any],
        opts: pulumi.ResourceOptions | None,
    ) -> None:
        super().__init__(TYPE_PREFIX + type(self).__name__, name, None, opts)
        args_type = getattr(type(self).__init__, "__annotations__", {}).get("args")
        settings = resolve(wire_ints(dict(args or {}), args_type) if args_type else dict(args or {}))
        backend = load_backend(self.CONCERN, settings.target)
        outputs = backend.build(self, name, settings)
        present = check_outputs(type(self).__name__, settings, outputs, tuple(self.OUTPUTS), dict(self.ONLY_ON))
        for key in (*self.OUTPUTS, *self.ONLY_ON):
            value = outputs.get(key) if key in present else None
            # Resources (the Kubernetes provider) stay resources so they can go into
            # ResourceOptions(provider=...); everything else becomes an Output.
            if value is not None and not isinstance(value, pulumi.Resource):
                value = pulumi.Output.from_input(value)
            setattr(self, key, value)
        self.register_outputs({key: getattr(self, key) for key in present})

    def child_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a direct child: parented to this component (providers are inherited)."""
        return pulumi.ResourceOptions(parent=self, **kwargs)
