"""aws-iam-role-trust: roles are assumable only by the principal they are for.

In the trust policy (``assumeRolePolicy``) every Allow statement names its principal: no
``*``; a federated OIDC principal (IRSA) carries a condition on ``<issuer>:sub`` naming the
service account (not ``*``); an AWS account principal (``<account>`` / ``...:root``, which lets
any identity in that account with permission assume the role) carries some condition.
Service principals (``sagemaker.amazonaws.com``, ``pods.eks.amazonaws.com``...) are specific.
"""

from __future__ import annotations

import re

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.iam import DocumentError, allows, conditions, parse_document, principals, statements
from policies.lib.rule import MANDATORY, resource_rule

NAME = "aws-iam-role-trust"
ACCOUNT_ROOT = re.compile(r"^(?:\d{12}|arn:aws[a-z-]*:iam::\d{12}:root)$")
FIX = "name the intended principal (service, role ARN, or OIDC provider with a :sub condition naming the service account)"


SERVICE_ACCOUNT = re.compile(r"^system:serviceaccount:(?P<namespace>[^:]+):(?P<name>[^:]+)$")


def names_one_service_account(value: str) -> bool:
    """``system:serviceaccount:<namespace>:<name>`` with no wildcard (``*``/``?``) in either part;
    ``system:serviceaccount:*:*`` or ``...:mlops:*`` lets any (or every) account assume the role."""
    match = SERVICE_ACCOUNT.match(value)
    return bool(match) and not any(c in value for c in "*?")


def _sub_restricted(statement: dict) -> bool:
    for operator, block in conditions(statement).items():
        if not operator.startswith(("StringEquals", "StringLike", "ForAnyValue:String", "ForAllValues:String")):
            continue
        for key, values in block.items():
            if key.endswith(":sub") and values and all(names_one_service_account(v) for v in values):
                return True
    return False


def _findings(statement: dict) -> list[str]:
    out = []
    for kind, value in principals(statement):
        if value == "*":
            out.append("lets any principal ('*') assume it")
        elif kind == "Federated" and not _sub_restricted(statement):
            out.append(f"trusts {value} without a condition on its ':sub' claim, so any workload it issues tokens for can assume it")
        elif kind == "AWS" and ACCOUNT_ROOT.match(value) and not statement.get("Condition"):
            out.append(f"trusts every identity in account {value} with no condition")
    return out


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != t.IAM_ROLE:
        return
    try:
        document = parse_document(args.props.get("assumeRolePolicy"))
    except DocumentError as exc:
        report_violation(f"IAM role '{args.name}' has a trust policy that is {exc}; write a valid policy document.")
        return
    if document is None:
        report_violation(f"IAM role '{args.name}' has no trust policy; {FIX}.")
        return
    for statement in statements(document):
        if allows(statement):
            for finding in _findings(statement):
                report_violation(f"IAM role '{args.name}' {finding}; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether every IAM role's trust policy names its intended principal: no '*', OIDC trust restricted "
        "by a ':sub' condition, account-wide trust only with a condition. Fix: name the service, role or service "
        "account."
    ),
    resource_types=(t.IAM_ROLE,),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
