"""azure-role-assignment-scope: no workload identity (service principal / managed identity) is
Owner, Contributor, User Access Administrator or RBAC Administrator at management-group,
subscription or resource-group scope: grant a data-plane role (AcrPull, Storage Blob Data
Contributor, AzureML Data Scientist...) on the one resource instead.

Stack validation, because the scope usually references a resource group (``rg.id``): the scope
is broad when its value is a subscription/resource-group ARM id, or equals the id (or, under
the capture harness's mocks, the logical name) of a ResourceGroup in the stack. A scope still
unknown at preview cannot be told apart from a narrower one built on the same group: not
reported. Assignments with ``principalType`` User or Group (people) are out of scope here.
"""

from __future__ import annotations

import re

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.lib import types as t
from policies.lib.props import UnknownValueError, known
from policies.lib.rule import MANDATORY, stack_rule
from policies.lib.stack import identities, of_type

NAME = "azure-role-assignment-scope"
PRIVILEGED_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcd635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
}
BROAD_SCOPE = re.compile(
    r"^(/|/providers/microsoft\.management/managementgroups/[^/]+|/subscriptions/[^/]+(/resourcegroups/[^/]+)?)/?$",
    re.I,
)
FIX = "assign a narrower role (AcrPull, Storage Blob Data Contributor, AzureML Data Scientist...) scoped to the one resource"


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    group_ids = set().union(*(identities(g) for g in of_type(args.resources, t.AZ_RESOURCE_GROUP)))
    for assignment in of_type(args.resources, t.AZ_ROLE_ASSIGNMENT):
        props = assignment.props
        if str(known(props, "principalType", default="ServicePrincipal", if_unknown="ServicePrincipal")) in ("User", "Group"):
            continue
        role_id = str(known(props, "roleDefinitionId", default="")).rstrip("/").rsplit("/", 1)[-1].lower()
        role = PRIVILEGED_ROLES.get(role_id)
        if role is None:
            continue
        try:
            scope = props.get("scope")
        except UnknownValueError:
            continue
        if isinstance(scope, str) and (BROAD_SCOPE.match(scope) or scope in group_ids):
            report_violation(
                f"Role assignment '{assignment.name}' makes a workload identity {role} of {scope}; {FIX}.",
                assignment.urn,
            )


POLICY = stack_rule(
    name=NAME,
    description=(
        "Checks whether any workload identity is Owner, Contributor or an access administrator at subscription or "
        "resource-group scope. Fix: assign a narrower data-plane role on the one resource."
    ),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
