"""aws-iam-no-wildcards: identity policies (Policy, RolePolicy, UserPolicy, GroupPolicy) grant
no ``Action: "*"`` / ``"<service>:*"``, no ``NotAction``/``NotResource`` in an Allow, and no
``Resource: "*"`` except for actions that support no resource-level permissions (below, each
with the reason), plus any listed in the rule's ``allowedResourceWildcardActions`` setting.

Resource policies (bucket, key, repository policies) are not identity policies: a KMS key
policy's ``kms:*`` for the account root is the AWS default and is governed by IAM.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.iam import DocumentError, allows, parse_document, statements, strings
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
    wild = [a for a in actions if a == "*" or a.endswith(":*")]
    if wild:
        out.append(f"statement{sid} allows wildcard action(s) {', '.join(sorted(wild))}")
    if "*" in strings(statement.get("Resource")):
        unscoped = sorted(a for a in actions if a.lower() not in allowed)
        if unscoped:
            out.append(f"statement{sid} allows {', '.join(unscoped)} on Resource '*'")
    return out


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in t.IAM_IDENTITY_POLICIES:
        return
    allowed = set(RESOURCE_WILDCARD_ALLOWED) | {a.lower() for a in string_list(setting(args, "allowedResourceWildcardActions"))}
    try:
        document = parse_document(args.props.get("policy"))
    except DocumentError as exc:
        report_violation(f"IAM policy '{args.name}' is {exc}; write a valid policy document.")
        return
    for statement in statements(document):
        if allows(statement):
            for finding in _findings(statement, allowed):
                report_violation(f"IAM policy '{args.name}': {finding}; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether IAM identity policies avoid wildcards: no Action '*' or 'service:*', no NotAction/"
        "NotResource in an Allow, and Resource '*' only for actions without resource-level permissions. Fix: "
        "name the actions and resource ARNs."
    ),
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
