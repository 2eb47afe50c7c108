"""Every built-in role id the azure backends grant is the id Microsoft publishes for that name.

The published ids below are copied from "Azure built-in roles"
(learn.microsoft.com/azure/role-based-access-control/built-in-roles, read 2026-12-01), not from
components/azure/common.py. The policy engineer is adding the published list as data under
policies/data/; until it is in main this test keeps its own copy of the rows it needs.
"""

from __future__ import annotations

from components.azure.common import ROLES
from tests.conftest import of_type

PUBLISHED = {
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
    "AzureML Data Scientist": "f6c7c914-8db3-469d-8ca1-694a8f32e121",
}
PRIVILEGED = {"Owner", "Contributor", "User Access Administrator", "Role Based Access Control Administrator"}


def test_every_role_the_backends_can_grant_has_its_published_id():
    assert {name: ROLES[name] for name in ROLES} == {name: PUBLISHED[name] for name in ROLES}
    assert not PRIVILEGED & set(ROLES)


def test_every_built_in_assignment_in_the_plan_uses_a_published_id(capture):
    published = set(PUBLISHED.values())
    for overrides in ({}, {"servingRuntime": "kubernetes"}):
        for r in of_type(capture("prod-azure", overrides), "azure-native:authorization:RoleAssignment"):
            role = r["inputs"]["roleDefinitionId"]
            if "/providers/Microsoft.Authorization/roleDefinitions/" in role:
                assert role.rsplit("/", 1)[1] in published, r["urn"]
            else:  # the custom model-reader role, defined in the same plan
                assert role == "serving-model-reader-role", r["urn"]
