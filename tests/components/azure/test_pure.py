"""The azure backends' pure pieces, without mocks: subnets, NSG rules, the kubelogin kubeconfig,
the traffic split and its ARM template, ids, and the contracts with serving/ and the local
dashboard."""

from __future__ import annotations

import ipaddress

import pytest
import yaml

from components.azure import cluster, common, inference, monitoring, network, queries


def test_subnets_are_disjoint_and_inside_the_vnet():
    for cidr in ("10.50.0.0/16", "10.40.0.0/20", "192.168.7.0/24"):
        ranges = {role: ipaddress.ip_network(r) for role, r in network.subnet_ranges(cidr).items()}
        assert set(ranges) == set(common.SUBNETS)
        assert all(r.subnet_of(ipaddress.ip_network(cidr)) for r in ranges.values())
        nets = list(ranges.values())
        assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:])


@pytest.mark.parametrize("role", common.SUBNETS)
def test_every_subnet_denies_inbound_from_the_internet_last(role):
    rules = network.security_rules(role, [], public_compute=False, location="westeurope")
    deny = rules[-1]
    assert (deny.access, deny.direction, deny.source_address_prefix, deny.destination_port_range) == (
        "Deny", "Inbound", "Internet", "*")
    assert all(r.priority < deny.priority for r in rules[:-1])
    assert all(r.access == "Deny" or r.source_address_prefix != "Internet" for r in rules)


def test_https_ingress_is_opened_only_on_the_cluster_subnet_and_only_for_configured_sources():
    rules = network.security_rules("cluster", ["203.0.113.0/24"], public_compute=False, location="westeurope")
    allow = [r for r in rules if r.access == "Allow"]
    assert [(r.source_address_prefixes, r.destination_port_range, r.protocol) for r in allow] == [
        (["203.0.113.0/24"], "443", "Tcp")]
    assert not [r for r in network.security_rules("endpoints", ["203.0.113.0/24"], False, "westeurope") if r.access == "Allow"]


def test_kubeconfig_uses_kubelogin_with_the_configured_login_mode():
    from stacks.mocks_azure import KUBECONFIG

    config = yaml.safe_load(cluster.kubelogin_kubeconfig(KUBECONFIG, "workloadidentity"))
    exec_ = config["users"][0]["user"]["exec"]
    assert exec_["command"] == "kubelogin"
    assert exec_["args"] == ["get-token", "--login", "workloadidentity", "--server-id", cluster.AKS_AAD_SERVER_ID]
    assert exec_["interactiveMode"] == "Never"
    assert "client-certificate-data" not in str(config) and "token" not in config["users"][0]["user"]
    with pytest.raises(ValueError, match="kubelogin_mode: 'devicecode' is not allowed"):
        cluster.kubelogin_kubeconfig(KUBECONFIG, "devicecode")


@pytest.mark.parametrize("blue,green", [(100, 0), (90, 10), (50, 50), (0, 100)])
def test_traffic_split_sums_to_100(blue, green):
    split = inference.traffic_split(blue, green)
    assert split == {"blue": blue, "green": green} and sum(split.values()) == 100


@pytest.mark.parametrize("blue,green", [(90, 20), (50, 40), (-10, 110), (0, 0)])
def test_traffic_split_refuses_anything_else(blue, green):
    with pytest.raises(ValueError, match="must be two percentages adding up to 100"):
        inference.traffic_split(blue, green)


def test_traffic_template_puts_the_same_endpoint_with_its_traffic():
    template = inference.traffic_template("ws", "ep", "westeurope", "/id/uami", "Key", "Enabled",
                                          {"blue": 90, "green": 10}, {"owner": "x"})
    (resource,) = template["resources"]
    assert resource["type"] == "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"
    assert resource["name"] == "ws/ep"
    # Every input of the endpoint resource, so the PUT resets nothing.
    assert resource["kind"] == "Managed" and resource["tags"] == {"owner": "x"}
    assert resource["properties"] == {"authMode": "Key", "publicNetworkAccess": "Enabled",
                                      "description": inference.ENDPOINT_DESCRIPTION, "traffic": {"blue": 90, "green": 10}}
    assert resource["identity"] == {"type": "UserAssigned", "userAssignedIdentities": {"/id/uami": {}}}


def test_acr_of_reads_the_registry_from_the_image():
    assert inference.acr_of("registryff5f11.azurecr.io/serving:0.1.0") == "registryff5f11"
    assert inference.acr_of("ghcr.io/org/serving:1") == ""


def test_arm_ids_and_durations():
    assert common.arm_id("s", "rg", "Microsoft.MachineLearningServices/workspaces", "ws", "onlineEndpoints", "ep") == (
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/onlineEndpoints/ep")
    assert common.subnet_id("s", "rg", "endpoints").endswith(f"/virtualNetworks/{common.vnet_name('rg')}/subnets/endpoints")
    assert common.dns_zone_id("s", "rg", "acr").endswith("/privateDnsZones/privatelink.azurecr.io")
    assert (common.iso_seconds(900), common.iso_seconds(90), common.iso_seconds(600)) == ("PT15M", "PT90S", "PT10M")


def test_no_role_the_backends_can_grant_is_owner_contributor_or_access_admin():
    assert not {"Owner", "Contributor", "User Access Administrator"} & set(common.ROLES)
    with pytest.raises(ValueError, match="not one of the scoped built-in roles"):
        common.role_assignment(None, "x", None, scope="s", role="Owner", principal_id="p")


def test_aml_routes_match_the_serving_contract():
    from serving import contract
    from components.kubernetes.serving import HEALTH_LIVE_PATH, HEALTH_READY_PATH
    from components.kubernetes.tenancy import SERVING_PORT

    assert contract.AZUREML_ROUTES == {
        "liveness_route": {"port": SERVING_PORT, "path": HEALTH_LIVE_PATH},
        "readiness_route": {"port": SERVING_PORT, "path": HEALTH_READY_PATH},
        "scoring_route": {"port": SERVING_PORT, "path": inference.SCORING_PATH},
    }


def test_workbook_has_the_local_dashboards_panels():
    import json

    book = json.loads(monitoring.workbook_json("azureml", "ep", "/ws", {"latency": 0.25, "errors": 0.02, "drift": 0.01}))
    titles = [i["content"]["title"] for i in book["items"] if i["type"] == 3]
    assert titles == list(queries.PANELS)
    try:
        from components.kubernetes.dashboard import PANEL_TITLES
    except ImportError:  # pragma: no cover - the local dashboard module is another backend's
        return
    assert tuple(titles) == tuple(PANEL_TITLES)


@pytest.mark.parametrize("runtime", ["kubernetes", "azureml"])
def test_each_query_names_the_endpoint_and_its_result_column(runtime):
    cases = [
        (queries.latency_quantile(runtime, "ep-1", 0.99), "latency_seconds"),
        (queries.throughput(runtime, "ep-1"), "requests_per_second"),
        (queries.error_ratio(runtime, "ep-1"), "error_ratio"),
        (queries.drift_p_value(runtime, "ep-1"), "p_value"),
    ]
    for query, column in cases:
        assert "ep-1" in query and column in query


def test_acr_pull_is_deduplicated_on_the_registry_not_on_how_the_image_is_given():
    import pulumi

    built = pulumi.Output.from_input("ignored")  # an image ContainerImages built: the own ACR
    assert inference.acr_pull_registries({"blue": built, "green": built}, "own1") == ["own1"]
    assert inference.acr_pull_registries({"blue": built, "green": "own1.azurecr.io/serving:2"}, "own1") == ["own1"]
    assert inference.acr_pull_registries({"blue": built, "green": "other2.azurecr.io/s:2"}, "own1") == ["own1", "other2"]
    assert inference.acr_pull_registries({"blue": "ghcr.io/x/s:1", "green": "ghcr.io/x/s:2"}, "own1") == []


def test_rbac_propagation_wait_counts_from_the_assignment_creation():
    import datetime as dt

    now = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)
    assert cluster.propagation_wait("2026-12-01T11:59:00Z", now) == 240
    assert cluster.propagation_wait("2026-12-01T11:58:00.1234567Z", now) == pytest.approx(180.1234567, abs=1e-3)
    assert cluster.propagation_wait("2026-12-01T11:00:00.000000+00:00", now) == 0
    assert cluster.propagation_wait(None, now) == 0 and cluster.propagation_wait("garbage", now) == 0
