"""Validators shared by the facades' pure resolve functions."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pulumi

from .base import require
from .targets import RUNTIMES, TARGETS, runtimes_of

ENVIRONMENTS = ("dev", "staging", "prod")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$")


def is_known(value: Any) -> bool:
    """True for plain values; Outputs are checked by the engine, not here."""
    return not isinstance(value, pulumi.Output)


def check_target(value: Any) -> None:
    require(value in TARGETS, "target", value, ", ".join(TARGETS))


def check_runtime(target: Any, value: Any) -> None:
    """``runtime`` must be a runtime of ``target`` (components/targets.py RUNTIMES)."""
    require(value in RUNTIMES, "runtime", value, ", ".join(RUNTIMES))
    require(target in RUNTIMES[value].targets, "runtime", value,
            f"a runtime of target {target!r}: " + ", ".join(runtimes_of(target)))


def check_environment(value: Any) -> None:
    require(value in ENVIRONMENTS, "environment", value, ", ".join(ENVIRONMENTS))


def check_dns_label(key: str, value: Any) -> None:
    if is_known(value):
        require(
            isinstance(value, str) and len(value) <= 63 and bool(_DNS_LABEL.match(value)),
            key,
            value,
            "a DNS-1123 label (lowercase letters, digits, '-', at most 63 characters)",
        )


def check_int(key: str, value: Any, low: int, high: int) -> None:
    if is_known(value):
        require(
            isinstance(value, int) and not isinstance(value, bool) and low <= value <= high,
            key,
            value,
            f"a whole number from {low} to {high}",
        )


def check_number(key: str, value: Any, low: float, high: float) -> None:
    if is_known(value):
        require(
            isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high,
            key,
            value,
            f"a number from {low} to {high}",
        )


def check_quantity(key: str, value: Any) -> None:
    if is_known(value):
        require(
            isinstance(value, str) and bool(_QUANTITY.match(value)),
            key,
            value,
            "a Kubernetes quantity such as 250m, 1, 512Mi or 2Gi",
        )


def check_cidr(key: str, value: Any) -> None:
    if not is_known(value):
        return
    try:
        net = ipaddress.ip_network(value, strict=True)
    except (TypeError, ValueError):
        net = None
    require(
        net is not None and net.version == 4 and 16 <= net.prefixlen <= 24,
        key,
        value,
        "an IPv4 network in CIDR form with a /16 to /24 prefix, e.g. 10.40.0.0/16",
    )


def check_choice(key: str, value: Any, choices: tuple[str, ...]) -> None:
    if is_known(value):
        require(value in choices, key, value, ", ".join(choices))
