"""What the six facades share: construct, validate, dispatch to a backend, publish outputs."""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from typing import Any

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
    """Base of the six components. Subclasses set CONCERN and OUTPUTS and call :meth:`_setup`."""

    # Not annotated on purpose: the component-provider analyzer reads class annotations as
    # the component's outputs.
    CONCERN = ""
    OUTPUTS = ()

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
        missing = [key for key in self.OUTPUTS if key not in outputs]
        if missing:  # a backend bug, not a user error
            raise pulumi.ResourceError(f"backend did not set outputs {missing}", self)
        for key in self.OUTPUTS:
            value = outputs[key]
            # Resources (the Kubernetes provider) stay resources so they can go into
            # ResourceOptions(provider=...); everything else becomes an Output.
            if not isinstance(value, pulumi.Resource):
                value = pulumi.Output.from_input(value)
            setattr(self, key, value)
        self.register_outputs({key: getattr(self, key) for key in self.OUTPUTS})

    def child_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a direct child: parented to this component (providers are inherited)."""
        return pulumi.ResourceOptions(parent=self, **kwargs)
