"""The prod-azure stack under mocks: the security-relevant inputs, one by one.

Resource ids under mocks are logical names, so a scope that is "the ACR" reads ``registry-acr``;
ids the program builds itself (ARM paths) read as full paths.
"""

from __future__ import annotations

import re

import pytest

from components.tags import REQUIRED_TAG_KEYS
from tests.conftest import ints, of_type, one

STACK = "prod-azure"
AZ = "azure-native:"
K8S_RUNTIME = {"servingRuntime": "kubernetes"}
DEV_LIKE = {"protectData": "false", "environment": "dev", "azurePrivateEndpoints": "false", "azurePrivateCluster": "false",
            "azureAcrSku": "Basic", "azureTrafficBlue": "100", "azureTrafficGreen": "0"}
#: Resource types that carry no ARM tags.
UNTAGGED = {
    "azure-native:authorization:RoleAssignment", "azure-native:monitor:DiagnosticSetting",
    "azure-native:network:PrivateDnsZoneGroup", "azure-native:machinelearningservices:EnvironmentVersion",
    "azure-native:managedidentity:FederatedIdentityCredential", "azure-native:containerservice:AgentPool",
    "azure-native:containerservice:MaintenanceConfiguration", "azure-native:monitor:DataCollectionRuleAssociation",
    "azure-native:authorization:RoleDefinition",
}


@pytest.fixture(scope="module")
def prod(capture):
    return capture(STACK)


@pytest.fixture(scope="module")
def on_aks(capture):
    return capture(STACK, K8S_RUNTIME)


@pytest.fixture(scope="module")
def dev_like(capture):
    return capture(STACK, DEV_LIKE)


def azure(resources):
    return [r for r in resources if r["type"].startswith(AZ)]


def test_every_taggable_azure_resource_carries_the_required_tags(prod, on_aks):
    for r in azure(prod) + azure(on_aks):
        if r["type"] in UNTAGGED:
            continue
        tags = r["inputs"].get("tags") or {}
        assert set(REQUIRED_TAG_KEYS) <= set(tags), f"{r['urn']}: tags {sorted(tags)}"
        assert tags["environment"] == "prod" and tags["managed-by"] == "pulumi", r["urn"]


def test_acr_admin_user_off_private_and_premium(prod):
    acr = one(prod, f"{AZ}containerregistry:Registry", "registry-acr")["inputs"]
    assert acr["adminUserEnabled"] is False
    assert acr["anonymousPullEnabled"] is False
    assert acr["publicNetworkAccess"] == "Disabled"
    assert acr["sku"] == {"name": "Premium"}
    assert acr["policies"]["exportPolicy"] == {"status": "disabled"}
    assert re.fullmatch(r"[a-z0-9]{5,50}", acr["registryName"])


def test_serving_image_comes_from_the_stacks_acr(prod):
    acr = one(prod, f"{AZ}containerregistry:Registry", "registry-acr")["inputs"]["registryName"]
    env = one(prod, f"{AZ}machinelearningservices:EnvironmentVersion", "serving-env-blue")["inputs"]
    image = env["properties"]["image"]
    assert image.startswith(f"{acr}.azurecr.io/serving:") or image.startswith(f"{acr}.azurecr.io/serving@sha256:")


def test_key_vault_soft_delete_purge_protection_rbac_private(prod):
    props = one(prod, f"{AZ}keyvault:Vault", "training-kv")["inputs"]["properties"]
    assert props["enableSoftDelete"] is True
    assert props["enablePurgeProtection"] is True
    assert props["enableRbacAuthorization"] is True
    assert ints(props["softDeleteRetentionInDays"]) == 90
    assert props["publicNetworkAccess"] == "Disabled"
    assert props["networkAcls"]["defaultAction"] == "Deny"
    assert not props.get("accessPolicies")


def test_storage_https_tls12_no_public_blob_no_shared_key(prod):
    sa = one(prod, f"{AZ}storage:StorageAccount", "training-storage")["inputs"]
    assert sa["enableHttpsTrafficOnly"] is True
    assert sa["minimumTlsVersion"] == "TLS1_2"
    assert sa["allowBlobPublicAccess"] is False
    assert sa["allowSharedKeyAccess"] is False
    assert sa["allowCrossTenantReplication"] is False
    assert sa["publicNetworkAccess"] == "Disabled"
    assert sa["encryption"]["requireInfrastructureEncryption"] is True
    assert re.fullmatch(r"[a-z0-9]{3,24}", sa["accountName"])


def test_workspace_private_identity_datastores_linked_acr(prod):
    ws = one(prod, f"{AZ}machinelearningservices:Workspace", "training-workspace")["inputs"]
    assert ws["publicNetworkAccess"] == "Disabled"
    assert ws["systemDatastoresAuthMode"] == "Identity"
    assert ws["identity"] == {"type": "SystemAssigned"}
    assert (ws["keyVault"], ws["storageAccount"], ws["applicationInsights"], ws["containerRegistry"]) == (
        "training-kv", "training-storage", "training-appinsights", "registry-acr")


def test_app_insights_writes_to_the_landing_zone_log_analytics(prod):
    ai = one(prod, f"{AZ}applicationinsights:Component", "training-appinsights")["inputs"]
    assert ai["ingestionMode"] == "LogAnalytics"
    assert ai["workspaceResourceId"].endswith("/providers/Microsoft.OperationalInsights/workspaces/"
                                              + one(prod, f"{AZ}operationalinsights:Workspace", "network-logs")["inputs"]["workspaceName"])


def test_compute_scales_to_zero_with_idle_time_from_config_and_an_identity(prod):
    compute = one(prod, f"{AZ}machinelearningservices:Compute", "training-compute")["inputs"]
    props = compute["properties"]["properties"]
    assert ints(props["scaleSettings"]) == {"minNodeCount": 0, "maxNodeCount": 8, "nodeIdleTimeBeforeScaleDown": "PT10M"}
    assert compute["identity"] == {"type": "SystemAssigned"}
    assert compute["properties"]["disableLocalAuth"] is True
    assert props["enableNodePublicIp"] is False and props["remoteLoginPortPublicAccess"] == "Disabled"
    assert "subnet" not in props  # in the workspace managed network (tests/components/azure/test_managed_network.py)
    assert re.fullmatch(r"[a-z][a-z0-9-]{0,14}[a-z0-9]", compute["computeName"])


def test_aks_entra_rbac_no_local_accounts_private_workload_identity(prod):
    aks = one(prod, f"{AZ}containerservice:ManagedCluster", "cluster-aks")["inputs"]
    assert aks["disableLocalAccounts"] is True
    assert aks["enableRBAC"] is True
    assert aks["aadProfile"]["managed"] is True and aks["aadProfile"]["enableAzureRBAC"] is True
    assert aks["apiServerAccessProfile"]["enablePrivateCluster"] is True
    assert aks["oidcIssuerProfile"] == {"enabled": True}
    assert aks["securityProfile"]["workloadIdentity"] == {"enabled": True}
    assert aks["identity"]["type"] == "UserAssigned"
    assert aks["networkProfile"]["networkPolicy"] == "cilium"
    assert aks["sku"]["tier"] == "Standard"
    assert aks["addonProfiles"]["omsagent"]["enabled"] is True
    assert aks["addonProfiles"]["omsagent"]["config"]["logAnalyticsWorkspaceResourceID"].endswith(
        one(prod, f"{AZ}operationalinsights:Workspace", "network-logs")["inputs"]["workspaceName"])
    (system,) = aks["agentPoolProfiles"]
    assert system["mode"] == "System" and system["enableEncryptionAtHost"] is True
    assert ints(system["minCount"]) >= 2 and system["availabilityZones"] == ["1", "2", "3"]
    assert system["vnetSubnetID"].endswith("/subnets/cluster")


def test_user_pool_autoscales_within_configured_bounds(prod):
    pool = ints(one(prod, f"{AZ}containerservice:AgentPool", "cluster-pool-user")["inputs"])
    assert (pool["mode"], pool["enableAutoScaling"], pool["minCount"], pool["maxCount"]) == ("User", True, 3, 10)
    assert pool["enableEncryptionAtHost"] is True and pool["enableNodePublicIP"] is False
    assert pool["availabilityZones"] == ["1", "2", "3"]


def test_kubernetes_provider_comes_from_the_aks_kubeconfig_and_deploys_the_namespace(prod):
    provider = one(prod, "pulumi:providers:kubernetes", "cluster-provider")
    assert "kubelogin" in provider["inputs"]["kubeconfig"]
    ns = one(prod, "kubernetes:core/v1:Namespace", "cluster-namespace")
    assert ns["provider"].startswith(provider["urn"])
    policies = of_type(prod, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    # The platform tenancy (default deny + its allow rules; the unused in-cluster registry and its
    # policy are gone), every one deployed through the AKS provider.
    assert {p["inputs"]["metadata"]["name"] for p in policies} >= {
        "default-deny", "allow-dns", "allow-egress-to-mlflow", "allow-ingress-to-serving",
        "allow-mlflow-clients", "allow-prometheus-scrape"}
    assert all(p["provider"].startswith(provider["urn"]) for p in policies)


def test_every_role_assignment_is_scoped_to_one_resource_with_a_narrow_role(prod, on_aks):
    from components.azure.common import ROLES

    by_id = {v: k for k, v in ROLES.items()}
    acr = one(prod, f"{AZ}containerregistry:Registry", "registry-acr")["inputs"]["registryName"]
    storage = one(prod, f"{AZ}storage:StorageAccount", "training-storage")["inputs"]["accountName"]
    expected = {
        # The Network's real subnet id (seams: passed through, not rebuilt from a name).
        "cluster-subnet-network-contributor": ("Network Contributor", r"(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
                                                                      r"Microsoft\.Network/virtualNetworks/[^/]+|network-vnet)/subnets/cluster"),
        "cluster-deployer-rbac-admin": ("Azure Kubernetes Service RBAC Cluster Admin", r"cluster-aks"),
        "registry-kubelet-acrpull": ("AcrPull", r"registry-acr"),
        "training-workspace-acrpull": ("AcrPull", r"registry-acr"),
        "training-compute-blob": ("Storage Blob Data Contributor", r"training-storage"),
        "training-workspace-kv-secrets": ("Key Vault Secrets Officer", r"training-kv"),
        "serving-workspace-model-reader": ("mlops-platform model reader", r"training-workspace"),
        "serving-storage-blob-reader": ("Storage Blob Data Reader", r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
                                                                   rf"Microsoft\.Storage/storageAccounts/{storage}"),
        "serving-acrpull": ("AcrPull", r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
                                       rf"Microsoft\.ContainerRegistry/registries/{acr}"),
    }
    found = {r["name"]: r["inputs"] for r in of_type(prod, f"{AZ}authorization:RoleAssignment")}
    assert set(found) == set(expected)
    custom = one(prod, f"{AZ}authorization:RoleDefinition", "serving-model-reader-role")
    for name, (role, scope) in expected.items():
        inputs = found[name]
        if name == "serving-workspace-model-reader":
            assert inputs["roleDefinitionId"] == custom["name"], name  # the custom role's id (mock: its name)
        else:
            assert by_id[inputs["roleDefinitionId"].rsplit("/", 1)[1]] == role, name
        assert re.fullmatch(scope, inputs["scope"]), f"{name}: {inputs['scope']}"
    for r in of_type(prod, f"{AZ}authorization:RoleAssignment") + of_type(on_aks, f"{AZ}authorization:RoleAssignment"):
        scope = r["inputs"]["scope"]
        assert not re.fullmatch(r"/subscriptions/[^/]+(/resourceGroups/[^/]+)?/?", scope), f"{r['urn']}: {scope}"
        assert r["inputs"]["roleDefinitionId"].rsplit("/", 1)[-1] in by_id or r["name"] == "serving-workspace-model-reader", r["urn"]


def test_the_serving_identity_only_reads(prod, on_aks):
    from components.azure.inference import MODEL_READER_ACTIONS

    for resources in (prod, on_aks):
        role = one(resources, f"{AZ}authorization:RoleDefinition", "serving-model-reader-role")["inputs"]
        (permission,) = role["permissions"]
        assert permission["actions"] == list(MODEL_READER_ACTIONS)
        assert all(a.endswith("/read") for a in permission["actions"])
        assert not permission.get("dataActions")
        assert role["assignableScopes"] == ["training-workspace"] and role["scope"] == "training-workspace"
        grants = {r["name"] for r in of_type(resources, f"{AZ}authorization:RoleAssignment") if r["name"].startswith("serving-")}
        assert "serving-workspace-data-scientist" not in grants


def test_endpoint_auth_is_never_none_and_public_access_follows_config(prod):
    endpoint = one(prod, f"{AZ}machinelearningservices:OnlineEndpoint", "serving-endpoint")["inputs"]
    assert endpoint["properties"]["authMode"] == "AADToken"
    assert endpoint["properties"]["publicNetworkAccess"] == "Disabled"
    assert "traffic" not in endpoint["properties"]  # set by the traffic step, not here
    assert re.fullmatch(r"[a-z][a-z0-9-]{1,30}[a-z0-9]", endpoint["endpointName"])


def test_blue_and_green_deployments_use_the_serving_routes(prod):
    for color in ("blue", "green"):
        env = one(prod, f"{AZ}machinelearningservices:EnvironmentVersion", f"serving-env-{color}")["inputs"]
        routes = ints(env["properties"]["inferenceConfig"])
        assert routes == {
            "livenessRoute": {"path": "/health/live", "port": 8080},
            "readinessRoute": {"path": "/health/ready", "port": 8080},
            "scoringRoute": {"path": "/invocations", "port": 8080},
        }
        deployment = one(prod, f"{AZ}machinelearningservices:OnlineDeployment", f"serving-deployment-{color}")
        assert deployment["inputs"]["deploymentName"] == color
        assert deployment["inputs"]["properties"]["endpointComputeType"] == "Managed"
        # Outbound isolation is the workspace managed network, not the legacy per-deployment flag
        # (tests/components/azure/test_managed_network.py).
        assert deployment["inputs"]["properties"].get("egressPublicNetworkAccess", "Enabled") != "Disabled"


def test_traffic_is_a_second_step_after_both_deployments_and_sums_to_100(prod):
    step = one(prod, f"{AZ}resources:Deployment", "serving-traffic")
    (resource,) = step["inputs"]["properties"]["template"]["resources"]
    traffic = ints(resource["properties"]["traffic"])
    assert traffic == {"blue": 90, "green": 10} and sum(traffic.values()) == 100
    deployments = {r["urn"] for r in of_type(prod, f"{AZ}machinelearningservices:OnlineDeployment")}
    assert deployments <= set(step["dependencies"])
    endpoint = one(prod, f"{AZ}machinelearningservices:OnlineEndpoint", "serving-endpoint")
    assert not deployments & set(endpoint["dependencies"])  # no cycle


def test_traffic_that_does_not_sum_to_100_is_refused():
    from stacks.config import ConfigError, parse_settings

    with pytest.raises(ConfigError, match="azureTrafficGreen: 20 is not allowed; allowed: 100 - azureTrafficBlue"):
        parse_settings({"target": "azure", "azureTrafficBlue": "90", "azureTrafficGreen": "20"})
    with pytest.raises(ConfigError, match="azureAcrSku: 'Basic' is not allowed; allowed: Premium when azurePrivateEndpoints"):
        parse_settings({"target": "azure", "azurePrivateEndpoints": "true"})


def test_data_stores_are_protected_in_prod_only(prod, dev_like):
    stores = [("keyvault:Vault", "training-kv"), ("storage:StorageAccount", "training-storage"),
              ("containerregistry:Registry", "registry-acr"), ("machinelearningservices:Workspace", "training-workspace"),
              ("operationalinsights:Workspace", "network-logs"), ("resources:ResourceGroup", "network-rg")]
    for kind, name in stores:
        assert one(prod, AZ + kind, name)["protect"] is True, name
        assert one(dev_like, AZ + kind, name)["protect"] is False, name


def test_private_endpoints_and_dns_only_where_configured(prod, dev_like):
    groups = {r["inputs"]["privateLinkServiceConnections"][0]["groupIds"][0] for r in of_type(prod, f"{AZ}network:PrivateEndpoint")}
    assert groups == {"registry", "vault", "blob", "file", "amlworkspace"}
    assert len(of_type(prod, f"{AZ}privatedns:PrivateZone")) == 6
    assert not of_type(dev_like, f"{AZ}network:PrivateEndpoint") and not of_type(dev_like, f"{AZ}privatedns:PrivateZone")


def test_diagnostics_reach_log_analytics_from_aks_workspace_vault_and_endpoint(prod):
    targets = {r["inputs"]["resourceUri"] for r in of_type(prod, f"{AZ}monitor:DiagnosticSetting")}
    assert {"cluster-aks", "training-workspace", "training-kv", "serving-endpoint", "registry-acr", "network-vnet"} <= targets
    logs = one(prod, f"{AZ}operationalinsights:Workspace", "network-logs")["inputs"]
    assert ints(logs["retentionInDays"]) == 90
    for r in of_type(prod, f"{AZ}monitor:DiagnosticSetting"):
        workspace = r["inputs"]["workspaceId"]
        assert workspace == "network-logs" or workspace.endswith("/workspaces/" + logs["workspaceName"]), r["urn"]


def test_alerts_cover_latency_errors_and_drift_and_go_to_the_action_group(prod, on_aks):
    group = one(prod, f"{AZ}monitor:ActionGroup", "monitoring-actions")["inputs"]
    assert group["emailReceivers"][0]["emailAddress"] == "ml-platform-oncall@example.com"
    assert len(group["groupShortName"]) <= 12
    latency = one(prod, f"{AZ}monitor:MetricAlert", "monitoring-latency-p99")["inputs"]
    assert latency["scopes"][0].endswith("/onlineEndpoints/" + one(
        prod, f"{AZ}machinelearningservices:OnlineEndpoint", "serving-endpoint")["inputs"]["endpointName"])
    assert latency["criteria"]["allOf"][0]["metricName"] == "RequestLatency_P99"
    assert latency["criteria"]["allOf"][0]["threshold"] == 250.0
    rules = {r["name"]: r["inputs"] for r in of_type(prod, f"{AZ}monitor:ScheduledQueryRule")}
    # azureml: no drift alert (nothing emits drift from a managed endpoint; docs/azure.md).
    assert set(rules) == {"monitoring-error-ratio"}
    assert rules["monitoring-error-ratio"]["criteria"]["allOf"][0]["threshold"] == 0.02
    aks = {r["name"]: r["inputs"] for r in of_type(on_aks, f"{AZ}monitor:ScheduledQueryRule")}
    assert set(aks) == {"monitoring-latency-p99", "monitoring-error-ratio", "monitoring-drift", "monitoring-awaiting-model"}
    assert aks["monitoring-drift"]["criteria"]["allOf"][0]["operator"] == "LessThan"
    assert "serving_model_loaded" in aks["monitoring-awaiting-model"]["criteria"]["allOf"][0]["query"]
    for r in of_type(prod, f"{AZ}monitor:ScheduledQueryRule") + of_type(on_aks, f"{AZ}monitor:ScheduledQueryRule"):
        assert r["inputs"]["actions"]["actionGroups"] == ["monitoring-actions"], r["urn"]


def test_workbook_shows_the_four_dashboard_panels(prod):
    import json

    from components.azure.queries import PANELS

    book = json.loads(one(prod, f"{AZ}applicationinsights:Workbook", "monitoring-workbook")["inputs"]["serializedData"])
    assert [i["content"]["title"] for i in book["items"] if i["type"] == 3] == list(PANELS)


def test_kubernetes_runtime_uses_workload_identity(on_aks):
    fic = one(on_aks, f"{AZ}managedidentity:FederatedIdentityCredential", "serving-federation")["inputs"]
    assert fic["subject"] == "system:serviceaccount:mlops:serving"
    assert fic["audiences"] == ["api://AzureADTokenExchange"]
    assert fic["issuer"].startswith("https://") and "oic.prod-aks.azure.com" in fic["issuer"]
    sa = one(on_aks, "kubernetes:core/v1:ServiceAccount", "serving-sa")["inputs"]
    identity = one(on_aks, f"{AZ}managedidentity:UserAssignedIdentity", "serving-identity")
    assert re.fullmatch(r"[0-9a-f-]{36}", sa["metadata"]["annotations"]["azure.workload.identity/client-id"])
    pod = one(on_aks, "kubernetes:apps/v1:Deployment", "serving-deployment")["inputs"]["spec"]["template"]["metadata"]
    assert pod["labels"]["azure.workload.identity/use"] == "true"
    netpol = one(on_aks, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "serving-netpol")["inputs"]["spec"]
    assert {"port": 443.0, "protocol": "TCP"} in [p for rule in netpol["egress"] for p in rule.get("ports", [])]
    assert identity["inputs"]["tags"]["owner"] == "ml-platform"
    assert not of_type(on_aks, f"{AZ}machinelearningservices:OnlineEndpoint")


def test_azure_exports_for_the_ml_launcher():
    from stacks.config import parse_settings

    settings = parse_settings({"target": "azure"})
    assert {"azure_subscription_id", "azure_resource_group"} <= set(settings.cloud_exports())


# --- first-run ordering (issue 13 item 6) and first-model bootstrap -------------------------


def test_image_push_waits_for_the_registry_private_endpoint_dns(prod):
    dns = one(prod, f"{AZ}network:PrivateDnsZoneGroup", "registry-acr-pe-dns")["urn"]
    images = of_type(prod, "docker:index/image:Image")
    assert images
    for image in images:
        assert dns in image["dependencies"], image["urn"]


def test_kubernetes_writes_wait_for_the_deployer_rbac_grant(prod):
    from components.azure.cluster import RBAC_PROPAGATION_SECONDS

    grant = one(prod, f"{AZ}authorization:RoleAssignment", "cluster-deployer-rbac-admin")
    provider = one(prod, "pulumi:providers:kubernetes", "cluster-provider")
    assert grant["urn"] in provider["dependencies"]
    assert RBAC_PROPAGATION_SECONDS == 300  # Azure: "up to five minutes"


def test_log_alerts_skip_validation_of_tables_that_do_not_exist_yet(prod, on_aks):
    for r in of_type(prod, f"{AZ}monitor:ScheduledQueryRule") + of_type(on_aks, f"{AZ}monitor:ScheduledQueryRule"):
        assert r["inputs"]["skipQueryValidation"] is True, r["urn"]


def test_deployments_wait_for_every_grant_they_need(prod, on_aks):
    needed = {"serving-acrpull", "serving-workspace-model-reader", "serving-storage-blob-reader"}
    urns = {r["name"]: r["urn"] for r in of_type(prod, f"{AZ}authorization:RoleAssignment")}
    for color in ("blue", "green"):
        deployment = one(prod, f"{AZ}machinelearningservices:OnlineDeployment", f"serving-deployment-{color}")
        assert {urns[n] for n in needed} <= set(deployment["dependencies"]), color
    aks_urns = {r["name"]: r["urn"] for r in of_type(on_aks, f"{AZ}authorization:RoleAssignment")}
    sa = one(on_aks, "kubernetes:core/v1:ServiceAccount", "serving-sa")
    fic = one(on_aks, f"{AZ}managedidentity:FederatedIdentityCredential", "serving-federation")["urn"]
    assert {aks_urns["serving-workspace-model-reader"], aks_urns["serving-storage-blob-reader"], fic} <= set(sa["dependencies"])


def test_deployments_start_ready_without_a_model(prod):
    for color in ("blue", "green"):
        env = one(prod, f"{AZ}machinelearningservices:OnlineDeployment", f"serving-deployment-{color}")["inputs"]["properties"]
        assert env["environmentVariables"]["SERVING_READY_WITHOUT_MODEL"] == "true"


def test_container_insights_has_a_data_collection_rule_on_the_cluster(prod):
    rule = one(prod, f"{AZ}monitor:DataCollectionRule", "cluster-container-insights")["inputs"]
    (flow,) = rule["dataFlows"]
    assert "Microsoft-InsightsMetrics" in flow["streams"] and flow["destinations"] == ["platform-logs"]
    assert rule["dataSources"]["extensions"][0]["extensionName"] == "ContainerInsights"
    association = one(prod, f"{AZ}monitor:DataCollectionRuleAssociation", "cluster-container-insights-association")["inputs"]
    assert association["resourceUri"] == "cluster-aks" and association["dataCollectionRuleId"] == "cluster-container-insights"


def test_aks_upgrades_have_maintenance_windows(prod):
    configs = {r["inputs"]["configName"] for r in of_type(prod, f"{AZ}containerservice:MaintenanceConfiguration")}
    assert configs == {"aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule"}


def test_prod_requires_the_deployer_principal_type():
    from components.azure.cluster import deployer_principal_type

    assert deployer_principal_type("ServicePrincipal", "x", "prod") == "ServicePrincipal"
    assert deployer_principal_type("", "04b07795-8ddb-461a-bbee-02f9e1bf7b46", "dev") == "User"
    assert deployer_principal_type("", "a-ci-app-id", "dev") == "ServicePrincipal"
    with pytest.raises(ValueError, match="^azureDeployerPrincipalType: required when environment is prod"):
        deployer_principal_type("", "a-ci-app-id", "prod")


def test_no_perpetual_diffs_from_metrics_categories_or_workbook_casing(prod, on_aks):
    for resources in (prod, on_aks):
        for r in of_type(resources, f"{AZ}monitor:DiagnosticSetting"):
            assert not r["inputs"].get("metrics"), f"{r['urn']}: AllMetrics reads back as the type's own categories"
        book = one(resources, f"{AZ}applicationinsights:Workbook", "monitoring-workbook")["inputs"]
        assert book["sourceId"] == book["sourceId"].lower()
