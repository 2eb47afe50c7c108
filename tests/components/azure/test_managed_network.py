"""Outbound isolation on Azure ML is the workspace managed network (issue 13, item 12), checked
over every rollout config of the prod-azure plan:

* the workspace's ``managedNetwork`` has the shape of the installed pulumi-azure-native SDK
  (every key a property of ``ManagedNetworkSettingsArgs``, the isolation mode one of the SDK's
  ``IsolationMode`` values): ``AllowOnlyApprovedOutbound`` when the platform is private,
  ``AllowInternetOutbound`` otherwise, provisioned with the workspace;
* no online deployment sets the legacy ``egressPublicNetworkAccess`` (Microsoft: with a managed
  network it "no longer applies"; avoid setting it; the SDK always sends the API default
  ``Enabled``, which is what Azure assumes when it is absent), and the compute has no subnet of ours (a
  managed-network workspace cannot place compute in a customer VNet);
* every registry a deployment pulls from is reachable from the managed network: the workspace's
  own ACR (AML's *required* private endpoint rule), or a user-defined ``PrivateEndpoint`` rule
  to exactly that registry (subresource ``registry``) that the deployment waits for; the storage
  the serving identity reads is the workspace's own storage (required rule again);
* no FQDN or service-tag rule: nothing opens a public destination (an FQDN rule would also make
  AML deploy an Azure Firewall).

Sources: learn.microsoft.com/azure/machine-learning/how-to-managed-network ("List of required
rules", "Limitations"), .../concept-secure-online-endpoint ("Secure outbound access with workspace
managed virtual network"), and for the ACR sub-resource name
learn.microsoft.com/azure/private-link/private-endpoint-overview#private-link-resource.
"""

from __future__ import annotations

import pulumi_azure_native.machinelearningservices as ml
import pytest
from pulumi._types import input_type_py_to_pulumi_names

from tests.components.azure.test_role_assignments import acr_name, rollouts
from tests.conftest import of_type, one

STACK = "prod-azure"
ML = "azure-native:machinelearningservices:"
#: The private-link sub-resource (group id) of Microsoft.ContainerRegistry/registries.
ACR_SUBRESOURCE = "registry"
OTHER_ACR = "otherteamacr01"


def _sdk_egress_default() -> str:
    """What the installed SDK sends for ``egressPublicNetworkAccess`` when it is not set."""
    return ml.ManagedOnlineDeploymentArgs(endpoint_compute_type="Managed").egress_public_network_access


SDK_EGRESS_DEFAULT = _sdk_egress_default()


def variants(acr: str) -> dict[str, dict[str, str]]:
    return {**rollouts(acr), "green from another team's ACR": {"azureGreenImage": f"{OTHER_ACR}.azurecr.io/serving:0.2.0"}}


def sdk_names(cls: type) -> set[str]:
    """The wire (camelCase) property names the installed SDK declares for an input type."""
    return set(input_type_py_to_pulumi_names(cls).values())


def shape_problems(value: dict, cls: type, where: str) -> list[str]:
    return [f"{where}: {key!r} is not a property of {cls.__name__}" for key in value if key not in sdk_names(cls)]


def private(overrides: dict[str, str]) -> bool:
    return overrides.get("azurePrivateEndpoints", "true") != "false"


def managed_network_problems(resources, overrides: dict[str, str]) -> list[str]:
    problems: list[str] = []
    workspace = one(resources, f"{ML}Workspace", "training-workspace")["inputs"]
    network = workspace.get("managedNetwork")
    if not network:
        return ["workspace: no managedNetwork (legacy per-deployment egress isolation)"]
    problems += shape_problems(network, ml.ManagedNetworkSettingsArgs, "workspace.managedNetwork")
    mode = network.get("isolationMode")
    if mode not in {m.value for m in ml.IsolationMode}:
        problems.append(f"workspace.managedNetwork.isolationMode {mode!r} is not an SDK IsolationMode")
    expected = ml.IsolationMode.ALLOW_ONLY_APPROVED_OUTBOUND if private(overrides) else ml.IsolationMode.ALLOW_INTERNET_OUTBOUND
    if mode != expected.value:
        problems.append(f"workspace.managedNetwork.isolationMode is {mode!r}, expected {expected.value!r}")
    if workspace.get("provisionNetworkNow") is not True:
        problems.append("workspace: the managed network is not provisioned with the workspace")
    if network.get("outboundRules"):
        problems.append("workspace: inline outboundRules (a workspace update would drop other components' rules)")

    for compute in of_type(resources, f"{ML}Compute"):
        if "subnet" in compute["inputs"]["properties"].get("properties", {}):
            problems.append(f"{compute['name']}: compute in a subnet of ours (not allowed with a managed network)")

    rules = of_type(resources, f"{ML}ManagedNetworkSettingsRule")
    for rule in rules:
        props = rule["inputs"]["properties"]
        problems += shape_problems(props, ml.PrivateEndpointOutboundRuleArgs, rule["name"])
        if props.get("type") != "PrivateEndpoint":
            problems.append(f"{rule['name']}: a {props.get('type')} rule opens a public destination")
            continue
        problems += shape_problems(props.get("destination") or {}, ml.PrivateEndpointDestinationArgs, f"{rule['name']}.destination")
        if props.get("category") != ml.RuleCategory.USER_DEFINED.value:
            problems.append(f"{rule['name']}: category {props.get('category')!r}, expected UserDefined")

    own_registry = workspace["containerRegistry"]
    for deployment in of_type(resources, f"{ML}OnlineDeployment"):
        dprops = deployment["inputs"]["properties"]
        # The SDK always sends the API's default ("Enabled", what Azure assumes when absent);
        # anything else is the legacy per-deployment isolation.
        if dprops.get("egressPublicNetworkAccess", SDK_EGRESS_DEFAULT) != SDK_EGRESS_DEFAULT:
            problems.append(f"{deployment['name']}: sets egressPublicNetworkAccess (legacy isolation)")
        environment = one(resources, f"{ML}EnvironmentVersion", dprops["environmentId"])  # ids are logical names
        host = environment["inputs"]["properties"]["image"].split("/", 1)[0]
        if not host.endswith(".azurecr.io"):
            continue  # a public registry (e.g. MCR, a required service tag), no private rule needed
        registry = host.removesuffix(".azurecr.io")
        if registry == acr_name_of(resources, own_registry):
            continue  # AML's required private endpoint rule to the workspace's ACR
        reaching = [r for r in rules if (r["inputs"]["properties"].get("destination") or {}).get("serviceResourceId", "").endswith(
            f"/Microsoft.ContainerRegistry/registries/{registry}")
            and r["inputs"]["properties"]["destination"].get("subresourceTarget") == ACR_SUBRESOURCE]
        if not reaching:
            problems.append(f"{deployment['name']}: nothing in the managed network reaches registry {registry}")
        elif not all(r["urn"] in deployment["dependencies"] for r in reaching):
            problems.append(f"{deployment['name']}: does not wait for the outbound rule to {registry}")

    storage = one(resources, "azure-native:storage:StorageAccount", "training-storage")["inputs"]["accountName"]
    for grant in of_type(resources, "azure-native:authorization:RoleAssignment"):
        if grant["name"].endswith("storage-blob-reader") and not grant["inputs"]["scope"].endswith(f"/storageAccounts/{storage}"):
            problems.append(f"{grant['name']}: serving reads a storage account the managed network does not reach")
    if workspace["storageAccount"] != "training-storage" or workspace["keyVault"] != "training-kv":
        problems.append("workspace: storage / Key Vault are not the workspace's own (no required private endpoint rule)")
    return problems


def acr_name_of(resources, registry_ref: str) -> str:
    """The ACR name behind the workspace's ``containerRegistry`` (a logical id under mocks)."""
    (registry,) = [r for r in of_type(resources, "azure-native:containerregistry:Registry")
                   if registry_ref in (r["name"], r["inputs"].get("registryName"))]
    return registry["inputs"]["registryName"]


@pytest.mark.parametrize("variant", list(variants("x")))
def test_outbound_isolation_is_the_workspace_managed_network(capture, variant):
    overrides = variants(acr_name(capture))[variant]
    resources = capture(STACK, overrides)
    assert of_type(resources, f"{ML}Workspace")
    assert managed_network_problems(resources, overrides) == []


def test_a_registry_outside_the_workspace_gets_its_own_rule_and_the_deployment_waits(capture):
    resources = capture(STACK, variants(acr_name(capture))["green from another team's ACR"])
    (rule,) = of_type(resources, f"{ML}ManagedNetworkSettingsRule")
    destination = rule["inputs"]["properties"]["destination"]
    assert destination["serviceResourceId"].endswith(f"/registries/{OTHER_ACR}")
    assert destination["subresourceTarget"] == ACR_SUBRESOURCE
    green = one(resources, f"{ML}OnlineDeployment", "serving-deployment-green")
    assert rule["urn"] in green["dependencies"]


def test_the_check_catches_legacy_isolation_a_subnet_and_a_missing_rule(capture):
    """Fault injection: each defect the check exists for, planted in a real plan, is reported."""
    import copy

    overrides = variants(acr_name(capture))["green from another team's ACR"]
    resources = copy.deepcopy(capture(STACK, overrides))
    workspace = one(resources, f"{ML}Workspace", "training-workspace")["inputs"]
    workspace["managedNetwork"]["isolationMode"] = "AllowInternetOutbound"
    workspace["managedNetwork"]["outbound_rules"] = {}
    one(resources, f"{ML}OnlineDeployment", "serving-deployment-blue")["inputs"]["properties"]["egressPublicNetworkAccess"] = "Disabled"
    one(resources, f"{ML}Compute", "training-compute")["inputs"]["properties"]["properties"]["subnet"] = {"id": "x/subnets/training"}
    resources = [r for r in resources if r["type"] != f"{ML}ManagedNetworkSettingsRule"]
    found = "\n".join(managed_network_problems(resources, overrides))
    for expected in ("isolationMode is 'AllowInternetOutbound'", "'outbound_rules' is not a property of ManagedNetworkSettingsArgs",
                     "serving-deployment-blue: sets egressPublicNetworkAccess", "training-compute: compute in a subnet",
                     f"serving-deployment-green: nothing in the managed network reaches registry {OTHER_ACR}"):
        assert expected in found, found
    del workspace["managedNetwork"]
    assert managed_network_problems(resources, overrides) == ["workspace: no managedNetwork (legacy per-deployment egress isolation)"]


def test_the_foreign_registry_variant_has_zero_policy_violations(capture):
    from policies.runner import evaluate, format_verdicts
    from stacks.plan import stack_config

    overrides = variants(acr_name(capture))["green from another team's ACR"]
    violations = evaluate(capture(STACK, overrides), stack_config=stack_config(STACK, overrides))
    assert not violations, format_verdicts(violations)


def test_online_deployments_wait_for_the_compute_that_provisions_the_managed_network(capture):
    """Azure refuses an online deployment before the workspace's managed network is provisioned;
    the first compute's creation waits for that provisioning, so every deployment (and the
    endpoint) is ordered after the compute, as a dependency edge of the plan."""
    resources = capture(STACK)
    compute = one(resources, f"{ML}Compute", "training-compute")["urn"]
    for r in of_type(resources, f"{ML}OnlineDeployment") + of_type(resources, f"{ML}OnlineEndpoint"):
        assert compute in r["dependencies"], r["name"]

