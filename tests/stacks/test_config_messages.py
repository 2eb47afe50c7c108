"""Config errors read as a Pulumi user expects: one line naming ``mlops-platform:<key>``, a typo
gets its close match (not every key), values Pulumi or Kubernetes would refuse are refused here."""

from __future__ import annotations

from decimal import Decimal

import pytest
from kubernetes.utils.quantity import parse_quantity as k8s_parse_quantity

from stacks.config import ConfigError, StackSettings, parse_quantity, parse_settings


def _message(raw: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as exc:
        parse_settings(raw)
    message = str(exc.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("servingMinReplics", "servingMinReplicas"), ("servingminreplicas", "servingMinReplicas"),
     ("awsRegoin", "awsRegion"), ("kubernetesVerison", "kubernetesVersion")],
)
def test_a_typo_suggests_the_close_match_not_every_key(typo: str, meant: str) -> None:
    message = _message({typo: "2"})
    assert message.startswith(f"mlops-platform:{typo}: unknown config key; did you mean ")
    assert meant in message
    # Not the whole table: an unrelated key is not listed, and the line stays short.
    assert "azureTrafficGreen" not in message and len(message) < 200


def test_a_key_close_to_nothing_says_so_in_one_short_line() -> None:
    message = _message({"zzzz": "1"})
    assert "unknown config key" in message and len(message) < 200
    assert str(len(StackSettings.model_fields)) in message


def test_unquoted_kubernetes_version_gets_a_quoting_hint() -> None:
    import yaml

    # What a stack file with `kubernetesVersion: 1.30` unquoted hands over (YAML float -> "1.3").
    value = str(yaml.safe_load("kubernetesVersion: 1.30")["kubernetesVersion"])
    assert value == "1.3"
    message = _message({"kubernetesVersion": value})
    assert message.startswith("mlops-platform:kubernetesVersion: '1.3' is not allowed")
    assert 'quote it, kubernetesVersion: "1.30"' in message
    assert parse_settings({"kubernetesVersion": "1.30"}).kubernetes_version == "1.30"


def test_a_missing_required_key_reads_not_set() -> None:
    message = _message({"target": "aws"})
    assert message.startswith("mlops-platform:awsDeployerRoleArn: not set; required; allowed: ")
    assert "''" not in message


@pytest.mark.parametrize(
    ("raw", "start", "allowed"),
    [
        ({"alertEmail": "not-an-email"}, "mlops-platform:alertEmail: 'not-an-email' is not allowed", "e-mail address"),
        ({"alertEmail": "a@b"}, "mlops-platform:alertEmail: 'a@b' is not allowed", "e-mail address"),
        ({"servingCpuRequest": "250"}, "mlops-platform:servingCpuRequest: '250' is not allowed",
         "at most servingCpuLimit ('1')"),
        ({"servingMemoryRequest": "4Gi"}, "mlops-platform:servingMemoryRequest: '4Gi' is not allowed",
         "at most servingMemoryLimit ('1Gi')"),
        ({"servingCpuRequest": "250x"}, "mlops-platform:servingCpuRequest: '250x' is not allowed",
         "a Kubernetes quantity"),
        ({"servingMemoryLimit": "1 Gi"}, "mlops-platform:servingMemoryLimit: '1 Gi' is not allowed",
         "a Kubernetes quantity"),
        ({"protectData": "yes"}, "mlops-platform:protectData: 'yes' is not allowed", "true or false"),
        ({"protectData": "1"}, "mlops-platform:protectData: '1' is not allowed", "true or false"),
        ({"azurePolicyAddon": "on"}, "mlops-platform:azurePolicyAddon: 'on' is not allowed", "true or false"),
    ],
)
def test_values_pulumi_or_kubernetes_refuse_are_refused(raw: dict[str, str], start: str, allowed: str) -> None:
    message = _message(raw)
    assert message.startswith(start) and allowed in message


def test_good_values_still_pass() -> None:
    s = parse_settings({"alertEmail": "oncall@example.com", "servingCpuRequest": "500m", "servingCpuLimit": "2",
                        "protectData": "True", "highAvailability": "false"})
    assert (s.alert_email, s.serving_cpu_request, s.protect_data, s.high_availability) == (
        "oncall@example.com", "500m", True, False)


def test_pulumi_itself_accepts_exactly_these_booleans() -> None:
    """Oracle: Pulumi's own Config.get_bool, fed through the mock config."""
    import pulumi
    from pulumi.runtime.config import set_all_config

    for text in ("true", "True", "false", "False", "yes", "1", "on", "TRUE"):
        set_all_config({"mlops-platform:protectData": text})
        try:
            pulumi_value = pulumi.Config("mlops-platform").get_bool("protectData")
        except pulumi.ConfigTypeError:
            pulumi_value = None
        try:
            ours = parse_settings({"protectData": text}).protect_data
        except ConfigError:
            ours = None
        assert ours == pulumi_value, text
    set_all_config({})


QUANTITIES = ["250m", "1", "0.5", ".5", "5.", "1.5", "512Mi", "1Gi", "2Ti", "1Ei", "100k", "3M", "1G", "1e3",
              "1E-2", "10Gi", "0"]
NOT_QUANTITIES = ["", "Ki", "1.2.3", "1KI", "1e", "1Ki2", "abc", "1 Gi", "1mi", "-1", "1Gb"]


@pytest.mark.parametrize("text", QUANTITIES)
def test_quantities_parse_as_the_kubernetes_client_parses_them(text: str) -> None:
    assert parse_quantity(text) == Decimal(k8s_parse_quantity(text))


@pytest.mark.parametrize("text", NOT_QUANTITIES)
def test_non_quantities_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_quantity(text)
    # The Python client is looser than the API server ("1 Gi", "1mi" and a sign pass it); where
    # it refuses, so do we.
    if text not in ("1 Gi", "1mi", "-1"):
        with pytest.raises(ValueError):
            k8s_parse_quantity(text)
