"""azure-ml-endpoint-auth: Azure ML online endpoints authenticate callers with a key or a
Microsoft Entra (AAD) token (``properties.authMode``); the allowed modes are a setting."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import known
from policies.lib.rule import MANDATORY, resource_rule
from policies.lib.settings import setting, string_list

NAME = "azure-ml-endpoint-auth"
DEFAULT_MODES = ("Key", "AADToken")
FIX = "set properties.authMode to 'AADToken' (or 'Key')"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != t.AZ_ML_ONLINE_ENDPOINT:
        return
    allowed = string_list(setting(args, "allowedAuthModes")) or list(DEFAULT_MODES)
    mode = known(args.props, "properties", "authMode", default=None, if_unknown=allowed[0])
    if mode not in allowed:
        shown = "no auth mode" if mode is None else f"auth mode {mode!r}"
        report_violation(
            f"Azure ML online endpoint '{args.name}' has {shown}, not one of {', '.join(allowed)}; {FIX}."
        )


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether Azure ML online endpoints authenticate with a key or an Entra (AAD) token. Fix: set "
        "properties.authMode 'AADToken' or 'Key'."
    ),
    resource_types=(t.AZ_ML_ONLINE_ENDPOINT,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
    properties={
        "allowedAuthModes": {
            "type": "array",
            "items": {"type": "string", "enum": ["Key", "AADToken", "AMLToken"]},
            "description": "Auth modes allowed on online endpoints (default Key, AADToken).",
        }
    },
)
