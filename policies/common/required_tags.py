"""required-tags: every AWS/Azure resource that accepts tags carries ``owner``, ``environment``,
``cost-center``, ``project`` and ``managed-by``; every Kubernetes object carries the labels
``app.kubernetes.io/part-of``, ``app.kubernetes.io/managed-by``, ``mlops-platform/environment``,
``mlops-platform/owner`` and ``mlops-platform/cost-center``. When the rule knows the stack's
``owner`` / ``environment`` / ``costCenter`` (see :mod:`policies.lib.settings`) the values must
match them.

Whether a type accepts tags comes from the installed provider SDK (:mod:`policies.lib.taggable`);
AWS tags may also come from the provider's ``defaultTags``.
"""

from __future__ import annotations

import json
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import kubernetes as k8s
from policies.lib import types as t
from policies.lib.props import UnknownValueError, as_list, dig, is_map, plain
from policies.lib.rule import ANY_TYPE, MANDATORY, resource_rule
from policies.lib.settings import ENVIRONMENT_PROPERTY, setting
from policies.lib.taggable import supports_tags

NAME = "required-tags"
PROJECT = "mlops-platform"
TAG_KEYS = ("owner", "environment", "cost-center", "project", "managed-by")
LABEL_KEYS = (
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
    "mlops-platform/environment",
    "mlops-platform/owner",
    "mlops-platform/cost-center",
)
#: Which label carries which tag's value.
LABEL_FOR_TAG = {
    "owner": "mlops-platform/owner",
    "environment": "mlops-platform/environment",
    "cost-center": "mlops-platform/cost-center",
    "project": "app.kubernetes.io/part-of",
    "managed-by": "app.kubernetes.io/managed-by",
}
#: Kubernetes types that are not API objects with metadata.
NOT_OBJECTS = (t.K8S_HELM_RELEASE,)


def _as_tag_map(value: Any) -> dict[str, str]:
    """``{"k": "v"}``, or the ``[{key, value}]`` list some AWS types (Auto Scaling) take."""
    value = plain(value)
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    out = {}
    for item in as_list(value):
        if isinstance(item, dict) and "key" in item:
            out[str(item["key"])] = str(item.get("value", ""))
    return out


def _default_tags(provider_props: Any) -> Any:
    """The AWS provider's ``defaultTags.tags``. pulumi_aws's ``Provider`` sends every object-valued
    input JSON-encoded (``default_tags`` goes through ``pulumi.runtime.to_json``), so the engine
    hands the pack a string ``'{"tags": {...}}'``; an object is read as well."""
    value = dig(provider_props, "defaultTags")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return dig(value, "tags") or {}


def _expected(args: ResourceValidationArgs, label: bool) -> dict[str, str]:
    values = {
        "owner": setting(args, "owner"),
        "environment": setting(args, "environment"),
        "cost-center": setting(args, "costCenter"),
        "project": PROJECT,
        "managed-by": "pulumi",
    }
    out = {k: str(v) for k, v in values.items() if v is not None}
    if label:
        out = {LABEL_FOR_TAG[k]: k8s.label_value(v) for k, v in out.items()}
    return out


def _check(args: ResourceValidationArgs, report_violation: ReportViolation, what: str, actual: dict[str, str],
           keys: tuple[str, ...], expected: dict[str, str], fix: str) -> None:
    missing = [k for k in keys if k not in actual]
    wrong = [f"{k}={actual[k]!r} (expected {expected[k]!r})" for k in keys if k in actual and k in expected
             and actual[k] != expected[k]]
    if missing:
        report_violation(f"'{args.name}' ({args.resource_type}) lacks {what} {', '.join(missing)}; {fix}.")
    if wrong:
        report_violation(f"'{args.name}' ({args.resource_type}) has {what} {', '.join(wrong)}; {fix}.")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    package = args.resource_type.split(":", 1)[0]
    try:
        if package == "kubernetes":
            if args.resource_type in NOT_OBJECTS or not is_map(dig(args.props, "metadata")):
                return
            if args.resource_type.endswith("Patch") and dig(args.props, "metadata", "labels") is None:
                return  # a patch that leaves labels out keeps the live object's labels
            labels = _as_tag_map(dig(args.props, "metadata", "labels") or {})
            _check(args, report_violation, "labels", labels, LABEL_KEYS, _expected(args, True),
                   "apply components.tags.kubernetes_labels(...) to metadata.labels")
            return
        if package not in ("aws", "azure-native"):
            return
        taggable = supports_tags(args.resource_type)
        if taggable is None:
            args.not_applicable(f"cannot tell whether {args.resource_type} accepts tags (provider SDK not installed)")
        if not taggable:
            return
        tags = {}
        if package == "aws" and args.provider is not None:
            tags.update(_as_tag_map(_default_tags(args.provider.props)))
        tags.update(_as_tag_map(dig(args.props, "tags") or {}))
    except UnknownValueError:
        return  # tags computed at preview: cannot tell
    fix = "pass tags=components.tags.standard_tags(...)" + (" (or set the AWS provider's defaultTags)" if package == "aws" else "")
    _check(args, report_violation, "tags", tags, TAG_KEYS, _expected(args, False), fix)


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether every taggable AWS/Azure resource carries the tags owner, environment, cost-center, project "
        "and managed-by, and every Kubernetes object the matching labels, with the stack's values. Fix: apply the "
        "components' standard tags/labels."
    ),
    resource_types=(ANY_TYPE,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation="apply components.tags.standard_tags(...) / kubernetes_labels(...) to the resource",
    properties={
        **ENVIRONMENT_PROPERTY,
        "owner": {"type": "string", "description": "Expected value of the owner tag (stack config `owner`)."},
        "costCenter": {"type": "string", "description": "Expected value of the cost-center tag (stack config `costCenter`)."},
    },
)
