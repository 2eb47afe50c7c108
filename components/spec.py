"""One declaration per option: type, default, range and description, in one place.

An options block (the ``aws``, ``azure`` and ``local`` argument of each component) is a
TypedDict whose fields are written once::

    @declared
    class AwsNetworkOptions(TypedDict, total=False):
        flow_log_retention_days: Annotated[int, Opt(30, low=1, high=3653)]
        \"\"\"Retention of the VPC flow-log group.\"\"\"

* the **type** is the annotation (type checkers see a plain ``int``; ``Annotated`` is transparent);
* the **default** and the **range** (``low``/``high``, ``choices``, ``check``) are the :class:`Opt`;
* the **description** is the docstring under the field (what the schema and IDEs show).

:func:`declared` moves the :class:`Opt` out of the annotation into ``__options__``, leaving
the bare type for the component-provider analyzer (components/__main__.py), which cannot read
``Annotated``. Backends read the resolved block (``ctx.options.flow_log_retention_days``), never
``options.get(key, default)``: a default exists only here.
:func:`resolve_block` fills the defaults and validates a block the way the facades validate the
top-level arguments: unknown keys are refused, and every error is one line naming the key path
(``aws.regoin: unknown option; allowed: account_id, ...``).

No ``from __future__ import annotations`` here or in the options modules: the analyzer needs
real types.
"""

import copy
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

import pulumi

from .base import ArgsError, Settings, require

#: Marks an option without a default: it must be given when its block's target is deployed.
REQUIRED: Any = type("Required", (), {"__repr__": lambda self: "REQUIRED"})()


@dataclass(frozen=True)
class Opt:
    """Default and allowed values of one option (the type is the annotation it sits in)."""

    default: Any = None
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    #: Extra validation: ``check(key_path, value)`` raises :class:`ArgsError` (one line).
    check: Callable[[str, Any], None] | None = None
    #: Applied to every item of a list value: ``item(key_path, item)``.
    item: Callable[[str, Any], None] | None = None


@dataclass(frozen=True)
class Declared:
    """An option as resolved from its declaration: name, bare type and :class:`Opt`."""

    name: str
    type: Any
    opt: Opt


def declared(cls: type) -> type:
    """Class decorator for an options TypedDict: collect each field's :class:`Opt`.

    Inherited fields (a TypedDict base's annotations are merged into the subclass's) are
    collected from the subclass's own merged annotations, so decorate the leaf classes only;
    a base may stay undecorated. Every field must carry an :class:`Opt`.
    """
    options: dict[str, Declared] = dict(getattr(cls, "__options__", {}))
    annotations = cls.__dict__.get("__annotations__", {})
    for name, annotation in list(annotations.items()):
        if get_origin(annotation) is typing.Annotated:
            bare, *meta = get_args(annotation)
            opts = [m for m in meta if isinstance(m, Opt)]
            if not opts:
                raise TypeError(f"{cls.__name__}.{name}: Annotated without an Opt(...)")
            annotations[name] = bare
            options[name] = Declared(name, bare, opts[0])
        elif name not in options:
            raise TypeError(f"{cls.__name__}.{name}: every option needs Annotated[type, Opt(default, ...)]")
    cls.__options__ = options  # type: ignore[attr-defined]
    return cls


def options_of(cls: type) -> dict[str, Declared]:
    """The declarations of an options TypedDict decorated with :func:`declared`."""
    return dict(cls.__options__)  # type: ignore[attr-defined]


def defaults_of(cls: type) -> dict[str, Any]:
    """Option name -> default (a copy; REQUIRED for options without one)."""
    return {name: copy.deepcopy(d.opt.default) for name, d in options_of(cls).items()}


# --- type checks ---------------------------------------------------------------------------------


def _is_input(tp: Any) -> tuple[bool, Any]:
    """(True, T) for ``pulumi.Input[T]`` (a Union with an Awaitable member), else (False, tp)."""
    if get_origin(tp) in (Union, types.UnionType):
        members = get_args(tp)
        for member in members:
            if get_origin(member) is not None and getattr(get_origin(member), "__name__", "") == "Awaitable":
                return True, get_args(member)[0]
    return False, tp


_NOUNS = {str: ("a string", "strings"), int: ("a whole number", "whole numbers"),
          float: ("a number", "numbers"), bool: ("true or false", "booleans")}


def _describe(tp: Any, plural: bool = False) -> str:
    is_input, inner = _is_input(tp)
    if is_input:
        return _describe(inner, plural) + (" (or Outputs)" if plural else " (or an Output)")
    if get_origin(tp) is list:
        (item,) = get_args(tp) or (Any,)
        return ("lists of " if plural else "a list of ") + _describe(item, plural=True)
    one, many = _NOUNS.get(tp, (str(tp), str(tp)))
    return many if plural else one


def _type_ok(tp: Any, value: Any) -> bool:
    if isinstance(value, pulumi.Output):
        return _is_input(tp)[0]
    is_input, tp = _is_input(tp)
    if tp is Any:
        return True
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is str:
        return isinstance(value, str)
    if get_origin(tp) is list:
        (item,) = get_args(tp) or (Any,)
        return isinstance(value, (list, tuple)) and all(_type_ok(item, v) for v in value)
    if get_origin(tp) in (dict, Mapping) or tp in (dict, Mapping):
        return isinstance(value, Mapping)
    return True


def _allowed(decl: Declared) -> str:
    opt, what = decl.opt, _describe(decl.type)
    if opt.choices:
        return ", ".join(map(str, opt.choices))
    if opt.low is not None and opt.high is not None:
        return f"{what} from {opt.low} to {opt.high}"
    if opt.low is not None:
        return f"{what} of at least {opt.low}"
    if opt.high is not None:
        return f"{what} of at most {opt.high}"
    return what


def check_value(path: str, decl: Declared, value: Any) -> None:
    """Validate one given value against its declaration; ArgsError names ``path``."""
    require(_type_ok(decl.type, value), path, value, _allowed(decl) if not decl.opt.choices else
            f"{_describe(decl.type)}: " + ", ".join(map(str, decl.opt.choices)))
    if isinstance(value, pulumi.Output):
        return
    opt = decl.opt
    if opt.choices:
        require(value in opt.choices, path, value, ", ".join(map(str, opt.choices)))
    if opt.low is not None or opt.high is not None:
        low = opt.low if opt.low is not None else float("-inf")
        high = opt.high if opt.high is not None else float("inf")
        require(low <= value <= high, path, value, _allowed(decl))
    if opt.item is not None:
        for item in value:
            opt.item(path, item)
    if opt.check is not None:
        opt.check(path, value)


def resolve_block(cls: type, given: Any, path: str, *, deployed: bool) -> Settings:
    """Defaults filled and every value checked: the resolved options block ``path`` of ``cls``.

    ``deployed``: the component's target is this block's, so REQUIRED options must be given.
    Unknown keys are refused whether or not the block is deployed (a typo is never silent).
    """
    if given is None:
        given = {}
    declarations = options_of(cls)
    require(isinstance(given, Mapping), path, given,
            f"a mapping of options ({', '.join(sorted(declarations))})")
    unknown = sorted(set(given) - set(declarations))
    if unknown:
        raise ArgsError(f"{path}.{unknown[0]}: unknown option; allowed: {', '.join(sorted(declarations))}")
    resolved: dict[str, Any] = {}
    for name, decl in declarations.items():
        value = given.get(name)
        if value is None:
            if decl.opt.default is REQUIRED:
                if deployed:
                    raise ArgsError(f"{path}.{name}: required; allowed: {_allowed(decl)}")
                resolved[name] = None
                continue
            resolved[name] = copy.deepcopy(decl.opt.default)
            continue
        check_value(f"{path}.{name}", decl, value)
        resolved[name] = list(value) if isinstance(value, tuple) else value
    return Settings(resolved)


def resolve_blocks(merged: dict[str, Any], blocks: Mapping[str, type]) -> None:
    """Replace each per-target block of ``merged`` (``local``, ``aws``, ``azure``) by its resolved
    options; the block of ``merged["target"]`` is the deployed one."""
    for target, cls in blocks.items():
        merged[target] = resolve_block(cls, merged.get(target), target, deployed=merged.get("target") == target)
