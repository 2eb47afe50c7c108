"""aws-eks-cluster-admin: EKS access entries grant cluster-admin to nobody but the deployer.

The deployer is the role named by the stack's ``awsDeployerRoleArn`` (the components give it an
explicit cluster-admin access entry, with ``bootstrapClusterCreatorAdminPermissions`` off), or
the cluster creator when that bootstrap flag is on. Any other ``AccessPolicyAssociation`` of
``AmazonEKSClusterAdminPolicy``, and any access entry in the ``system:masters`` group, is a
violation unless its principal is listed in the rule's ``clusterAdminPrincipalArns`` setting
(e.g. a break-glass role).
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import types as t
from policies.lib.props import UnknownValueError, as_list, dig
from policies.lib.rule import MANDATORY, resource_rule
from policies.lib.settings import setting, string_list

NAME = "aws-eks-cluster-admin"
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
FIX = (
    "grant a narrower access policy (AmazonEKSViewPolicy / AmazonEKSEditPolicy scoped to namespaces), or list "
    "the principal in this rule's clusterAdminPrincipalArns setting"
)


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in (t.EKS_ACCESS_POLICY_ASSOCIATION, t.EKS_ACCESS_ENTRY):
        return
    allowed = set(string_list(setting(args, "clusterAdminPrincipalArns")))
    allowed |= set(string_list(setting(args, "awsDeployerRoleArn")))
    try:
        principal = dig(args.props, "principalArn", default="")
    except UnknownValueError:
        principal = "(computed)"
    if principal in allowed:
        return
    if args.resource_type == t.EKS_ACCESS_POLICY_ASSOCIATION:
        policy_arn = str(dig(args.props, "policyArn", default=""))
        if policy_arn.endswith("/" + CLUSTER_ADMIN_POLICY):
            report_violation(
                f"EKS access policy association '{args.name}' grants {CLUSTER_ADMIN_POLICY} to {principal}, "
                f"which is not the deployer; {FIX}."
            )
    elif "system:masters" in [str(g) for g in as_list(dig(args.props, "kubernetesGroups"))]:
        report_violation(
            f"EKS access entry '{args.name}' puts {principal} in system:masters (cluster-admin); remove the group "
            f"and associate a narrower access policy."
        )


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether EKS access entries grant cluster-admin (AmazonEKSClusterAdminPolicy or system:masters) "
        "only to the deployer (awsDeployerRoleArn). Fix: use namespace-scoped view/edit policies, or list a break-glass principal in "
        "clusterAdminPrincipalArns."
    ),
    resource_types=(t.EKS_ACCESS_POLICY_ASSOCIATION, t.EKS_ACCESS_ENTRY),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
    properties={
        "awsDeployerRoleArn": {
            "type": "string",
            "description": "The IAM role that runs `pulumi up` (stack config awsDeployerRoleArn): the cluster admin.",
        },
        "clusterAdminPrincipalArns": {
            "type": "array",
            "items": {"type": "string"},
            "description": "IAM principal ARNs besides the deployer allowed cluster-admin (break-glass roles).",
        }
    },
)
