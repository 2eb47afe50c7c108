"""Alertmanager's configuration for the in-cluster monitoring stack (local, and EKS/AKS with
servingRuntime kubernetes): where alerts go.

``alertmanager_config(receivers)`` turns the platform's receiver dicts into Alertmanager's
``alertmanager.yml`` (the kube-prometheus-stack value ``alertmanager.config``):

* ``{"kind": "email", "to": ..., "smarthost": "host:port", "from": ...}`` (optional
  ``require_tls``, default true) -> an ``email_configs`` entry;
* ``{"kind": "sns", "topic_arn": "arn:aws:sns:...", "region": ...}`` -> an ``sns_configs``
  entry signed with SigV4 through the pod's own identity (IRSA / workload identity), so no key
  is in the config.

Every alert routes to one receiver ``platform`` holding all of them; the chart's always-firing
``Watchdog`` goes to ``null``. With no receivers everything goes to ``null`` (alerts stay
visible in Alertmanager's UI and API, nobody is mailed). Bad input raises ``ArgsError`` with
one line naming the key and what is allowed.
"""

# No `from __future__ import annotations`: options modules keep real types for the analyzer.

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..base import ArgsError

KINDS = ("email", "sns")
NULL = "null"
PLATFORM = "platform"
_EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
_SMARTHOST = re.compile(r"^[A-Za-z0-9.-]+:\d{1,5}$")
_TOPIC = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def _need(receiver: Mapping[str, Any], index: int, key: str, pattern: re.Pattern[str], allowed: str) -> str:
    value = receiver.get(key)
    if not isinstance(value, str) or not pattern.match(value):
        raise ArgsError(f"receivers[{index}].{key}: {value!r} is not allowed; allowed: {allowed}")
    return value


def receiver_entry(receiver: Mapping[str, Any], index: int = 0) -> tuple[str, dict[str, Any]]:
    """``("email_configs" | "sns_configs", entry)`` for one platform receiver dict."""
    kind = receiver.get("kind") if isinstance(receiver, Mapping) else None
    if kind not in KINDS:
        raise ArgsError(f"receivers[{index}].kind: {kind!r} is not allowed; allowed: {', '.join(KINDS)}")
    if kind == "email":
        entry = {
            "to": _need(receiver, index, "to", _EMAIL, "an e-mail address"),
            "from": _need(receiver, index, "from", _EMAIL, "an e-mail address"),
            "smarthost": _need(receiver, index, "smarthost", _SMARTHOST, "host:port of an SMTP relay"),
            "require_tls": bool(receiver.get("require_tls", True)),
            "send_resolved": True,
        }
        return "email_configs", entry
    topic = _need(receiver, index, "topic_arn", _TOPIC, "arn:aws:sns:<region>:<account>:<topic>")
    region = _need(receiver, index, "region", _REGION, "an AWS region such as eu-west-1")
    if topic.split(":")[3] != region:
        raise ArgsError(f"receivers[{index}].region: {region!r} is not allowed; allowed: the topic's region {topic.split(':')[3]}")
    return "sns_configs", {"topic_arn": topic, "sigv4": {"region": region}, "send_resolved": True}


def alertmanager_config(receivers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Alertmanager's configuration (pure data) routing every alert to ``receivers``."""
    if isinstance(receivers, (str, bytes)) or not isinstance(receivers, Sequence):
        raise ArgsError(f"receivers: {receivers!r} is not allowed; allowed: a list of receiver dicts")
    platform: dict[str, Any] = {"name": PLATFORM}
    for index, receiver in enumerate(receivers):
        key, entry = receiver_entry(receiver, index)
        platform.setdefault(key, []).append(entry)
    default = PLATFORM if receivers else NULL
    return {
        "route": {
            "receiver": default,
            "group_by": ["alertname", "namespace"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [{"receiver": NULL, "matchers": ['alertname = "Watchdog"']}],
        },
        "receivers": [{"name": NULL}, *([platform] if receivers else [])],
    }


def email_receivers(to: str, smarthost: str, sender: str, require_tls: bool = True) -> list[dict[str, Any]]:
    """The receiver list for an ``alertEmail`` setting: empty when no address is set; an
    address without an SMTP relay is refused (Alertmanager would accept it and never send)."""
    if not to:
        return []
    if not smarthost:
        raise ArgsError(f"alert_smtp_smarthost: {smarthost!r} is not allowed; allowed: host:port of an SMTP relay "
                        "(required when alert_email is set)")
    return [{"kind": "email", "to": to, "smarthost": smarthost, "from": sender or to, "require_tls": require_tls}]
