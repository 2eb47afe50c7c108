"""Every Azure role definition id the project uses (policies/, components/, stacks/, docs/) is the
id Azure publishes for that role: the oracle is Azure's full built-in role table (every role
Get-AzRoleDefinition returns, from microsoft/azure-roles), copied with its source into
policies/data/azure_builtin_roles.json, and cross-checked against the documentation page's rows;
never our own constants."""

from __future__ import annotations

import re
from pathlib import Path

from components.azure.common import ROLES as COMPONENT_ROLES
from policies.azure.role_assignment_scope import PRIVILEGED_ROLE_NAMES, PRIVILEGED_ROLES
import pytest

from policies.lib.data import AZURE_BUILTIN_ROLES, builtin_role_id, load, role_key
from policies.runner import evaluate
from policies.registry import REGISTRY
from tests.policies import builders as b

ROOT = Path(__file__).resolve().parents[2]
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
#: GUIDs in the scanned code that are not role definition ids, each with what it is.
NOT_ROLES = {
    ("components/azure/common.py", "6c1f5a8e-2f43-4c39-9d0b-7a3e51c0a9b2"): "uuid5 namespace for deterministic names",
    ("components/azure/cluster.py", "6dae42f8-4368-4678-94ff-3960e28e3630"): "Entra application id of the AKS AAD server",
    ("components/azure/images.py", "00000000-0000-0000-0000-000000000000"): "the all-zero placeholder, not a role",
    ("components/azure/cluster.py", "04b07795-8ddb-461a-bbee-02f9e1bf7b46"): "Entra application id of the Azure CLI (sign-in client)",
    ("components/azure/cluster.py", "1950a258-227b-4e31-a9cf-717495945fc2"): "Entra application id of Azure PowerShell (sign-in client)",
    ("stacks/mocks_azure.py", "6dae42f8-4368-4678-94ff-3960e28e3630"): "Entra application id of the AKS AAD server (mocked)",
    ("stacks/mocks_azure.py", "80faf920-1908-4b52-b5ef-a8e7bedfc67a"): "mocked id, not a role",
}
#: Mock ids made of one repeated digit (``11111111-1111-...``) are placeholders, not roles.
#: and so are the all-zero-prefixed mock ids (``00000000-0000-0000-0000-0000000000bb``).
PLACEHOLDER = re.compile(r"^(([0-9a-f])\2{7}-\2{4}-\2{4}-\2{4}-\2{12}|00000000-0000-0000-0000-[0-9a-f]{12})$")


def _published() -> dict[str, str]:
    """The full table: role name without spaces -> id."""
    return {name: role_id.lower() for name, role_id in load(AZURE_BUILTIN_ROLES)["roles"].items()}


def test_the_role_table_is_the_full_table_and_records_its_source():
    data = load(AZURE_BUILTIN_ROLES)
    assert data["source"]["repository"] == "github.com/microsoft/azure-roles"
    assert re.fullmatch(r"[0-9a-f]{40}", data["source"]["commit"])
    roles = _published()
    # the whole of Azure's table (873 roles at the recorded commit), not the handful the project names
    assert len(roles) > 800
    assert all(GUID.fullmatch(role_id) for role_id in roles.values())
    assert len(set(roles.values())) == len(roles), "two roles with one id"
    # roles the project does not use are there too (a subset would lack them)
    assert roles["AzureBatchJobSubmitter"] == "48e5e92e-a480-4e71-aa9c-2778f4c13781"
    assert roles["Windows365NetworkUser"] == "7eabc9a4-85f7-4f71-b8ab-75daaccc1033"


def test_the_documentation_rows_agree_with_the_full_table():
    """Two Microsoft sources: the rows copied from the built-in-roles documentation page (with
    its commit) must be the ids the role-definition table gives for the same names."""
    cross = load(AZURE_BUILTIN_ROLES)["cross_check"]
    assert cross["source"]["url"].startswith("https://learn.microsoft.com/")
    assert re.fullmatch(r"[0-9a-f]{40}", cross["source"]["commit"])
    published = _published()
    assert {name: published.get(role_key(name)) for name in cross["roles"]} == {
        name: entry["id"].lower() for name, entry in cross["roles"].items()}


def test_published_owner_id_is_the_one_azure_lists():
    # the one-character typo the held-out evaluation found: ...2fe8c4bcd635 instead of ...2fe8c4bcb635
    assert _published()["Owner"] == "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
    assert "8e3af657-a8ff-443c-a75c-2fe8c4bcd635" not in PRIVILEGED_ROLES
    assert "8e3af657-a8ff-443c-a75c-2fe8c4bcd635" not in set(_published().values())


def _scanned_files():
    for folder, pattern in (("policies", "*.py"), ("components", "*.py"), ("stacks", "*.py"), ("stacks", "*.yaml"),
                            ("docs", "*.md")):
        yield from sorted((ROOT / folder).rglob(pattern))
    yield from sorted(ROOT.glob("Pulumi*.yaml"))
    yield ROOT / "README.md"


def _unexplained(paths, root=ROOT) -> list[tuple[str, str]]:
    published = set(_published().values())
    out = []
    for path in paths:
        rel = path.relative_to(root).as_posix()
        for guid in sorted({g.lower() for g in GUID.findall(path.read_text(encoding="utf-8"))}):
            if guid not in published and (rel, guid) not in NOT_ROLES and not PLACEHOLDER.match(guid):
                out.append((rel, guid))
    return out


def test_every_guid_the_project_writes_is_a_published_role_or_explained():
    assert _unexplained(_scanned_files()) == []


def test_a_mistyped_role_id_is_caught_by_the_scan(tmp_path):
    """The scan's oracle is the full table: the Owner typo and a one-digit change of AcrPull are
    reported, the published ids are not."""
    module = tmp_path / "roles.py"
    module.write_text('OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcd635"\nACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538e"\n'
                      'READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"\n', encoding="utf-8")
    assert _unexplained([module], root=tmp_path) == [("roles.py", "7f951dda-4ed3-4680-a7ca-43fe172d538e"),
                                                     ("roles.py", "8e3af657-a8ff-443c-a75c-2fe8c4bcd635")]


def test_component_roles_match_the_published_names_and_ids():
    published = _published()
    assert {name: published.get(role_key(name)) for name in COMPONENT_ROLES} == {
        k: v.lower() for k, v in COMPONENT_ROLES.items()}


def test_the_rule_knows_every_privileged_role_by_its_published_id():
    published = _published()
    assert PRIVILEGED_ROLES == {published[role_key(name)]: name for name in PRIVILEGED_ROLE_NAMES}


def test_an_unknown_role_name_is_one_clear_error():
    with pytest.raises(KeyError, match="'Ownr' is not an Azure built-in role"):
        builtin_role_id("Ownr")


def test_owner_contributor_and_access_administrators_at_subscription_scope_are_rejected():
    rg = b.res("azure-native:resources:ResourceGroup", "rg", {"resourceGroupName": "mlops-rg"})
    resources = [rg] + [b.role_assignment(f"sub-{i}", role, b.SUB) for i, role in enumerate(
        (b.OWNER, b.CONTRIBUTOR, b.USER_ACCESS_ADMINISTRATOR, b.RBAC_ADMINISTRATOR))]
    found = evaluate(resources, policies=[REGISTRY["azure-role-assignment-scope"]])
    assert sorted(v.name for v in found) == ["sub-0", "sub-1", "sub-2", "sub-3"]
    assert [v.message.split(" makes a workload identity ")[1].split(" of ")[0] for v in sorted(found, key=lambda v: v.name)] == [
        "Owner", "Contributor", "User Access Administrator", "Role Based Access Control Administrator"]
