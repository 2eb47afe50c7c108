"""log-retention: log stores set a retention period (CloudWatch log groups keep logs forever
by default; ``retentionInDays: 0`` also means forever), Log Analytics workspaces too."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "log-retention"
FIX = "set retentionInDays (from the stack's logRetentionDays)"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    labels = {t.CLOUDWATCH_LOG_GROUP: "CloudWatch log group", t.AZ_LOG_ANALYTICS_WORKSPACE: "Log Analytics workspace"}
    if args.resource_type not in labels:
        return
    days = known(args.props, "retentionInDays", if_unknown=1)
    if days is None or float(days) <= 0:
        report_violation(f"{labels[args.resource_type]} '{args.name}' keeps logs forever (no retention); {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether CloudWatch log groups and Log Analytics workspaces set a log retention period. Fix: set "
        "retentionInDays."
    ),
    resource_types=(t.CLOUDWATCH_LOG_GROUP, t.AZ_LOG_ANALYTICS_WORKSPACE),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
