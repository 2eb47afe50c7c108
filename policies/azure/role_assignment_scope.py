"""azure-role-assignment-scope: no workload identity (service principal / managed identity) is
Owner, Contributor, User Access Administrator or RBAC Administrator at management-group,
subscription or resource-group scope: grant a data-plane role (AcrPull, Storage Blob Data
Contributor, AzureML Data Scientist...) on the one resource instead.

Stack validation, because the scope usually references a resource group (``rg.id``): the scope
is broad when its value is a subscription/resource-group ARM id, or equals the id (or, under
the capture harness's mocks, the logical name) of a ResourceGroup in the stack. A scope still
unknown at preview cannot be told apart from a narrower one built on the same group: not
reported here; :func:`undecided` names it for the advisory rule ``preview-undecided``. Assignments with ``principalType`` User or Group (people) are out of scope here.
"""

from __future__ import annotations

import re

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.lib import types as t
from policies.lib.data import builtin_role_id
from policies.lib.props import UnknownValueError, known
from policies.lib.rule import MANDATORY, stack_rule
from policies.lib.stack import identities, of_type

NAME = "azure-role-assignment-scope"
#: Role names; their ids come from Azure's published built-in role table (policies/data).
PRIVILEGED_ROLE_NAMES = ("Owner", "Contributor", "User Access Administrator", "Role Based Access Control Administrator")
PRIVILEGED_ROLES = {builtin_role_id(name): name for name in PRIVILEGED_ROLE_NAMES}
BROAD_SCOPE = re.compile(
    r"^(/|/providers/microsoft\.management/managementgroups/[^/]+|/subscriptions/[^/]+(/resourcegroups/[^/]+)?)/?$",
    re.I,
)
FIX = "assign a narrower role (AcrPull, Storage Blob Data Contributor, AzureML Data Scientist...) scoped to the one resource"


def _privileged(resources):
    """``[(assignment, role, scope)]`` of workload-identity assignments of a privileged role;
    scope ``None`` when it is unknown at preview."""
    out = []
    for assignment in of_type(resources, t.AZ_ROLE_ASSIGNMENT):
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
            scope = None
        out.append((assignment, role, scope))
    return out


def undecided(resources) -> list[tuple[str, str]]:
    return [(a.urn, f"{NAME} could not decide role assignment '{a.name}' ({role}): its scope is computed at "
                    f"preview (e.g. scope=rg.id), so whether it is a resource group or one resource is decided at "
                    f"`pulumi up`")
            for a, role, scope in _privileged(resources) if scope is None]


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    group_ids = set().union(*(identities(g) for g in of_type(args.resources, t.AZ_RESOURCE_GROUP)))
    for assignment, role, scope in _privileged(args.resources):
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
    resource_types=(t.AZ_RESOURCE_GROUP, t.AZ_ROLE_ASSIGNMENT),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
