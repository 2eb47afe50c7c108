"""No rollout configuration of the prod-azure stack declares two role assignments ARM would
treat as one: the same (principal, role, scope), or the same assignment name. ARM refuses the
second with "RoleAssignmentExists" / "cannot create already existing resource", which fails
``pulumi up`` half-way through a blue/green rollout.

The scan runs over every documented rollout step (docs/azure.md): first deploy, green with its
own image, traffic shifted, green promoted, prebuilt images (``buildImages: false``), and the
AKS runtime.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.conftest import of_type

STACK = "prod-azure"
GREEN_TAG = "serving:0.2.0"


def rollouts(acr: str) -> dict[str, dict[str, str]]:
    green = f"{acr}.azurecr.io/{GREEN_TAG}"
    prebuilt = f"{acr}.azurecr.io/serving:0.1.0"
    return {
        "first deploy": {},
        "green image set": {"azureGreenImage": green},
        "traffic shifted to green": {"azureGreenImage": green, "azureTrafficBlue": "0", "azureTrafficGreen": "100"},
        "prebuilt images": {"buildImages": "false", "servingImage": prebuilt},
        "prebuilt, green image set": {"buildImages": "false", "servingImage": prebuilt, "azureGreenImage": green},
        "prebuilt, green = blue": {"buildImages": "false", "servingImage": prebuilt, "azureGreenImage": prebuilt},
        "green outside ACR": {"azureGreenImage": "mcr.microsoft.com/azureml/serving:1.0.0"},
        "aks runtime": {"servingRuntime": "kubernetes"},
        "dev-like, public": {"azurePrivateEndpoints": "false", "azurePrivateCluster": "false", "azureAcrSku": "Basic",
                             "azureAuthorizedIpRanges": "203.0.113.0/24", "protectData": "false", "environment": "dev"},
    }


def acr_name(capture) -> str:
    (registry,) = of_type(capture(STACK), "azure-native:containerregistry:Registry")
    return registry["inputs"]["registryName"]


def duplicates(resources) -> list[str]:
    assignments = of_type(resources, "azure-native:authorization:RoleAssignment")
    triples = Counter((a["inputs"]["principalId"], a["inputs"]["roleDefinitionId"].rsplit("/", 1)[-1], a["inputs"]["scope"].lower())
                      for a in assignments)
    names = Counter(a["inputs"]["roleAssignmentName"] for a in assignments)
    found = [f"(principal, role, scope) twice: {t}" for t, n in triples.items() if n > 1]
    found += [f"name twice: {name}" for name, n in names.items() if n > 1]
    return found


@pytest.mark.parametrize("rollout", list(rollouts("x")))
def test_no_two_role_assignments_share_principal_role_scope_or_name(capture, rollout):
    overrides = rollouts(acr_name(capture))[rollout]
    resources = capture(STACK, overrides)
    assert of_type(resources, "azure-native:authorization:RoleAssignment")
    assert duplicates(resources) == []


def test_the_scan_catches_a_duplicate():
    twin = {"type": "azure-native:authorization:RoleAssignment", "inputs": {
        "principalId": "p", "roleDefinitionId": "/x/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d",
        "scope": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/acr",
        "roleAssignmentName": "n1"}}
    other = {**twin, "inputs": {**twin["inputs"], "scope": twin["inputs"]["scope"].upper(), "roleAssignmentName": "n2"}}
    assert duplicates([twin, other]) == [f"(principal, role, scope) twice: ('p', '7f951dda-4ed3-4680-a7ca-43fe172d538d', '{twin['inputs']['scope'].lower()}')"]


@pytest.mark.parametrize("rollout", list(rollouts("x")))
def test_every_rollout_config_has_zero_policy_violations(capture, rollout):
    from policies.runner import evaluate, format_verdicts
    from stacks.plan import stack_config

    overrides = rollouts(acr_name(capture))[rollout]
    violations = evaluate(capture(STACK, overrides), stack_config=stack_config(STACK, overrides))
    assert not violations, format_verdicts(violations)
