"""stacks/config.py: one validated settings object; every bad value is one line naming the key."""

from __future__ import annotations

import yaml
import pytest

from stacks.config import ConfigError, StackSettings, parse_settings, pulumi_config_block
from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"target": "gcp"}, "mlops-platform:target: 'gcp' is not allowed; allowed: local, aws or azure"),
        ({"servingMinReplicas": "-1"}, "mlops-platform:servingMinReplicas: '-1' is not allowed; allowed: a number >= 1"),
        ({"servingMaxReplicas": "two"}, "mlops-platform:servingMaxReplicas: 'two' is not allowed; allowed: a whole number"),
        (
            {"networkCidr": "10.0.0.0/33"},
            "mlops-platform:networkCidr: '10.0.0.0/33' is not allowed; allowed: an IPv4 network in CIDR form "
            "with a /16 to /24 prefix, e.g. 10.40.0.0/16",
        ),
        (
            {"networkCidr": "10.0.0.1/16"},
            "mlops-platform:networkCidr: '10.0.0.1/16' is not allowed; allowed: an IPv4 network in CIDR form "
            "with a /16 to /24 prefix, e.g. 10.40.0.0/16",
        ),
        ({"environment": "production"}, "mlops-platform:environment: 'production' is not allowed; allowed: dev, staging or prod"),
        ({"protectData": "maybe"}, "mlops-platform:protectData: 'maybe' is not allowed; allowed: true or false"),
        (
            {"servingImage": "mlops/serving:latest"},
            "mlops-platform:servingImage: 'mlops/serving:latest' is not allowed; allowed: an image pinned by tag "
            "(not latest) or digest, e.g. repo/serving:1.2.3",
        ),
        ({"nodeMinCount": "5"}, "mlops-platform:nodeMinCount: 5 is not allowed; allowed: at most nodeMaxCount (4)"),
        (
            {"servingMinReplicas": "4", "servingMaxReplicas": "3"},
            "mlops-platform:servingMinReplicas: 4 is not allowed; allowed: at most servingMaxReplicas (3)",
        ),
    ],
)
def test_bad_value_is_one_line_naming_key_value_and_allowed(raw, message):
    with pytest.raises(ConfigError) as info:
        parse_settings({"target": "local", **raw})
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_unknown_key_is_refused_with_its_close_matches():
    with pytest.raises(ConfigError) as info:
        parse_settings({"target": "local", "servingReplicas": "2"})
    text = str(info.value)
    assert text.startswith("mlops-platform:servingReplicas: unknown config key; did you mean ")
    assert "servingMinReplicas" in text and "azureTrafficGreen" not in text


def test_engine_strings_are_converted_to_typed_values():
    settings = parse_settings(
        {"target": "local", "protectData": "true", "availabilityZones": "3", "latencyP99Seconds": "0.5"}
    )
    assert settings.protect_data is True
    assert settings.availability_zones == 3
    assert settings.latency_p99_seconds == 0.5
    assert settings.tags["environment"] == "dev" and settings.tags["managed-by"] == "pulumi"


def test_pulumi_yaml_declares_every_key_with_type_default_and_description():
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert declared == pulumi_config_block()
    aliases = {field.alias for field in StackSettings.model_fields.values()}
    assert set(declared) == aliases
    for key, spec in declared.items():
        assert {"type", "description", "default"} <= set(spec), key
        assert spec["type"] in {"string", "integer", "boolean", "array"}, key


@pytest.mark.parametrize("stack", ["dev", "staging", "prod", "prod-azure"])
def test_shipped_stack_files_validate(stack):
    from stacks.plan import stack_config

    settings = parse_settings(stack_config(stack))
    assert settings.target == {"dev": "local", "staging": "aws", "prod": "aws", "prod-azure": "azure"}[stack]
    assert settings.protect_data is (stack != "dev")


def test_pulumi_types_follow_the_annotations():
    from stacks.config import pulumi_type

    assert pulumi_type(list[str]) == {"type": "array", "items": {"type": "string"}}
    assert pulumi_type(int | None) == {"type": "integer"}
    assert pulumi_type(bool) == {"type": "boolean"}
    assert pulumi_type(float) == {"type": "string"}
