"""Globally unique Azure names (storage account, ACR, Key Vault, AML online endpoint) differ
between two adopters who run the same project and stack name in different subscriptions, stay
the same across runs in one subscription, and move with ``azureNameSalt`` (the way out when a
purge-protected vault keeps an old name taken for 90 days)."""

from __future__ import annotations

import pytest

from stacks import mocks_azure
from stacks.plan import capture as run
from tests.conftest import of_type

STACK = "prod-azure"
OTHER_SUBSCRIPTION = "44444444-4444-4444-4444-444444444444"
#: Type token -> input holding a name that must be unique across Azure (or a region).
GLOBAL = {
    "azure-native:storage:StorageAccount": "accountName",
    "azure-native:containerregistry:Registry": "registryName",
    "azure-native:keyvault:Vault": "vaultName",
    "azure-native:machinelearningservices:OnlineEndpoint": "endpointName",
}


def global_names(resources) -> dict[str, str]:
    names = {}
    for type_token, key in GLOBAL.items():
        for r in of_type(resources, type_token):
            names[f"{type_token} {r['name']}"] = r["inputs"][key]
    return names


@pytest.fixture(scope="module")
def first(capture):
    return global_names(capture(STACK))


def test_two_subscriptions_get_different_global_names(first, monkeypatch):
    monkeypatch.setattr(mocks_azure, "SUBSCRIPTION_ID", OTHER_SUBSCRIPTION)
    second = global_names(run(STACK))
    assert set(first) == set(second) and len(first) == len(GLOBAL)
    same = {k: v for k, v in first.items() if second[k] == v}
    assert same == {}, f"the same in two subscriptions: {same}"


def test_the_same_subscription_gets_the_same_names_every_run(first):
    assert global_names(run(STACK)) == first


def test_a_name_salt_moves_every_global_name(first):
    salted = global_names(run(STACK, {"azureNameSalt": "2027a"}))
    assert {k for k, v in salted.items() if first[k] == v} == set()
