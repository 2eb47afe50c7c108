"""Mocked outputs and invokes of pulumi-azure-native for the capture harness (stacks/mocks.py).

ARM resources report their ``name`` and computed values (principal ids, login servers, the AML
MLflow URI, the AKS kubelet identity and OIDC issuer) that the backends read; the mocks echo the
inputs and add these. Resource ids stay the logical names (the harness's convention).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pulumi

#: A state key a mock may set to choose the resource's id (stacks/mocks.py pops it).
ID_OUTPUT = "__id"
SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
TENANT_ID = "11111111-1111-1111-1111-111111111111"
DEPLOYER_OBJECT_ID = "22222222-2222-2222-2222-222222222222"
CLIENT_ID = "33333333-3333-3333-3333-333333333333"

#: Type token -> input holding the ARM name (returned as the ``name`` output).
NAME_INPUTS: dict[str, str] = {
    "azure-native:resources:ResourceGroup": "resourceGroupName",
    "azure-native:operationalinsights:Workspace": "workspaceName",
    "azure-native:network:NetworkSecurityGroup": "networkSecurityGroupName",
    "azure-native:network:VirtualNetwork": "virtualNetworkName",
    "azure-native:network:PrivateEndpoint": "privateEndpointName",
    "azure-native:privatedns:PrivateZone": "privateZoneName",
    "azure-native:privatedns:VirtualNetworkLink": "virtualNetworkLinkName",
    "azure-native:containerservice:ManagedCluster": "resourceName",
    "azure-native:containerservice:AgentPool": "agentPoolName",
    "azure-native:managedidentity:UserAssignedIdentity": "resourceName",
    "azure-native:managedidentity:FederatedIdentityCredential": "federatedIdentityCredentialResourceName",
    "azure-native:containerregistry:Registry": "registryName",
    "azure-native:keyvault:Vault": "vaultName",
    "azure-native:storage:StorageAccount": "accountName",
    "azure-native:insights:Component": "resourceName",
    "azure-native:applicationinsights:Component": "resourceName",
    "azure-native:applicationinsights:Workbook": "resourceName",
    "azure-native:machinelearningservices:Workspace": "workspaceName",
    "azure-native:machinelearningservices:Compute": "computeName",
    "azure-native:machinelearningservices:OnlineEndpoint": "endpointName",
    "azure-native:machinelearningservices:OnlineDeployment": "deploymentName",
    "azure-native:machinelearningservices:EnvironmentVersion": "version",
    "azure-native:monitor:ActionGroup": "actionGroupName",
    "azure-native:monitor:ScheduledQueryRule": "ruleName",
    "azure-native:monitor:MetricAlert": "ruleName",
    "azure-native:authorization:RoleAssignment": "roleAssignmentName",
    "azure-native:resources:Deployment": "deploymentName",
}

KUBECONFIG = f"""apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: TU9DSw==
    server: https://mock-aks.hcp.westeurope.azmk8s.io:443
  name: mock-aks
contexts:
- context:
    cluster: mock-aks
    user: clusterUser_mock
  name: mock-aks
current-context: mock-aks
users:
- name: clusterUser_mock
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --login, devicecode, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630,
             --client-id, 80faf920-1908-4b52-b5ef-a8e7bedfc67a, --tenant-id, {TENANT_ID},
             --environment, AzurePublicCloud]
      interactiveMode: IfAvailable
"""


def _principal(seed: str) -> dict[str, str]:
    """A stable fake identity (GUID-shaped ids derived from the resource name)."""
    import uuid

    base = uuid.uuid5(uuid.NAMESPACE_URL, seed)
    return {"principalId": str(base), "clientId": str(uuid.uuid5(base, "client")), "tenantId": TENANT_ID}


def _with_name(extra: Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]] | None = None):
    def fn(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
        key = NAME_INPUTS.get(args.typ)
        state: dict[str, Any] = {"name": args.inputs.get(key) or args.name} if key else {}
        if extra:
            state.update(extra(args))
        return state

    return fn


def _identity(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    identity = dict(args.inputs.get("identity") or {})
    assigned = identity.get("userAssignedIdentities")
    if isinstance(assigned, list):  # inputs are a list of ids; the API answers a map id -> identity
        identity["userAssignedIdentities"] = {i: _principal(str(i)) for i in assigned}
    if identity.get("type", "").startswith("SystemAssigned"):
        identity.update({k: v for k, v in _principal(args.name).items() if k != "clientId"})
    return {"identity": identity} if identity else {}


def _cluster(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    kubelet = _principal(f"{args.name}-kubelet")
    return {
        **_identity(args),
        "fqdn": f"{args.inputs.get('dnsPrefix', 'aks')}.hcp.westeurope.azmk8s.io",
        "privateFqdn": f"{args.inputs.get('dnsPrefix', 'aks')}.privatelink.westeurope.azmk8s.io",
        "identityProfile": {
            "kubeletidentity": {
                "clientId": kubelet["clientId"],
                "objectId": kubelet["principalId"],
                "resourceId": f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/MC_mock/providers/"
                              f"Microsoft.ManagedIdentity/userAssignedIdentities/{args.name}-agentpool",
            }
        },
        "oidcIssuerProfile": {"enabled": True, "issuerURL": f"https://westeurope.oic.prod-aks.azure.com/{TENANT_ID}/mock/"},
    }


def _registry(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {"loginServer": f"{args.inputs.get('registryName', args.name)}.azurecr.io"}


def _vault(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    props = dict(args.inputs.get("properties") or {})
    props["vaultUri"] = f"https://{args.inputs.get('vaultName', args.name)}.vault.azure.net/"
    return {"properties": props}


def _workspace(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    ws = args.inputs.get("workspaceName", args.name)
    rg = args.inputs.get("resourceGroupName", "rg")
    return {
        **_identity(args),
        "workspaceId": "44444444-4444-4444-4444-444444444444",
        "mlFlowTrackingUri": (
            f"azureml://{args.inputs.get('location', 'westeurope')}.api.azureml.ms/mlflow/v1.0/subscriptions/"
            f"{SUBSCRIPTION_ID}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}"
        ),
    }


def _endpoint(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    props = dict(args.inputs.get("properties") or {})
    name = args.inputs.get("endpointName", args.name)
    props["scoringUri"] = f"https://{name}.westeurope.inference.ml.azure.com/score"
    return {**_identity(args), "properties": props}


def _app_insights(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    return {
        "instrumentationKey": "55555555-5555-5555-5555-555555555555",
        "connectionString": "InstrumentationKey=55555555-5555-5555-5555-555555555555",
    }


def _arm(args: pulumi.runtime.MockResourceArgs, provider_type: str, name_input: str) -> str:
    rg = args.inputs.get("resourceGroupName", "rg")
    return (f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{rg}/providers/{provider_type}/"
            f"{args.inputs.get(name_input, args.name)}")


def _vnet(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    """ARM answers each inline subnet with its resource id."""
    vnet = _arm(args, "Microsoft.Network/virtualNetworks", "virtualNetworkName")
    return {"subnets": [{**s, "id": f"{vnet}/subnets/{s.get('name')}"} for s in args.inputs.get("subnets") or []]}


RESOURCE_OUTPUTS: dict[str, Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]] = {
    token: _with_name() for token in NAME_INPUTS
}
RESOURCE_OUTPUTS.update({
    "azure-native:containerservice:ManagedCluster": _with_name(_cluster),
    "azure-native:managedidentity:UserAssignedIdentity": _with_name(lambda a: _principal(a.name)),
    "azure-native:containerregistry:Registry": _with_name(_registry),
    "azure-native:keyvault:Vault": _with_name(_vault),
    "azure-native:machinelearningservices:Workspace": _with_name(_workspace),
    "azure-native:machinelearningservices:Compute": _with_name(_identity),
    "azure-native:machinelearningservices:OnlineEndpoint": _with_name(_endpoint),
    "azure-native:applicationinsights:Component": _with_name(_app_insights),
    "azure-native:network:VirtualNetwork": _with_name(_vnet),
    # The workspace's ARM id (the mocks' ID_OUTPUT: components pass it on, never rebuild it).
    "azure-native:operationalinsights:Workspace": _with_name(lambda a: {
        ID_OUTPUT: _arm(a, "Microsoft.OperationalInsights/workspaces", "workspaceName")}),
    # ARM sets createdOn; an old one means "no RBAC propagation wait" in the Cluster.
    "azure-native:authorization:RoleAssignment": _with_name(lambda a: {"createdOn": "2026-01-01T00:00:00.0000000Z"}),
})


CALLS: dict[str, Callable[[pulumi.runtime.MockCallArgs], dict[str, Any]]] = {
    "azure-native:authorization:getClientConfig": lambda args: {
        "clientId": CLIENT_ID,
        "objectId": DEPLOYER_OBJECT_ID,
        "subscriptionId": SUBSCRIPTION_ID,
        "tenantId": TENANT_ID,
    },
    "azure-native:containerservice:listManagedClusterUserCredentials": lambda args: {
        "kubeconfigs": [{"name": "clusterUser", "value": base64.b64encode(KUBECONFIG.encode()).decode()}],
    },
    "azure-native:authorization:getClientToken": lambda args: {"token": "mock-token"},
}
