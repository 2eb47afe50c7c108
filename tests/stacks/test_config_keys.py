"""A component refusing an argument is reported with the stack config key the user set
(``mlops-platform:servingRuntime``), not the component argument (``runtime``)."""

from __future__ import annotations

import pytest

import stacks.plan as plan
from components.base import ArgsError
from stacks.composition import ARG_KEYS, _reported_as_config, config_key
from stacks.config import ConfigError, StackSettings, option_keys, parse_settings

ALIASES = {f.alias or n for n, f in StackSettings.model_fields.items()}


@pytest.mark.parametrize("runtime", ["sagemaker", "azureml"])
def test_a_runtime_the_target_lacks_names_the_stack_key(runtime: str) -> None:
    with pytest.raises(ConfigError) as exc:
        plan.capture("dev", {"servingRuntime": runtime})
    message = str(exc.value)
    assert message.startswith(f"mlops-platform:servingRuntime: {runtime!r} is not allowed; allowed: ")
    assert "kubernetes" in message and "\n" not in message


def test_the_plan_cli_prints_the_stack_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["dev", "--summary", "--no-policies", "--set", "servingRuntime=sagemaker"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: mlops-platform:servingRuntime: 'sagemaker'") and "\n" not in err


@pytest.mark.parametrize(
    ("target", "concern", "path", "key"),
    [
        ("local", "inference", "runtime", "servingRuntime"),
        ("local", "monitoring", "runtime", "servingRuntime"),
        ("local", "inference", "cpu_request", "servingCpuRequest"),
        ("local", "cluster", "node_count", "nodeCount"),
        ("local", "network", "cidr", "networkCidr"),
        ("local", "registry", "local.storage_size", "registryStorageSize"),
        ("local", "training", "local.storage_size", "mlflowStorageSize"),
        ("aws", "cluster", "aws.public_access_cidrs", "awsPublicApiCidrs"),
        ("aws", "inference", "aws.data_capture_percent", "awsSagemakerDataCapturePercent"),
        ("aws", "network", "aws.region", "awsRegion"),
        ("azure", "cluster", "azure.azure_policy", "azurePolicyAddon"),
        ("azure", "inference", "azure.traffic_green", "azureTrafficGreen"),
    ],
)
def test_component_paths_map_to_config_keys(target: str, concern: str, path: str, key: str) -> None:
    raw = {"target": target}
    if target == "aws":
        raw["awsDeployerRoleArn"] = "arn:aws:iam::111122223333:role/deployer"
    assert config_key(parse_settings(raw), concern, path) == key


def test_an_option_of_another_targets_block_or_a_computed_argument_maps_to_nothing() -> None:
    s = parse_settings({"target": "local"})
    assert config_key(s, "inference", "aws.instance_type") is None
    assert config_key(s, "inference", "tracking_uri") is None
    # ...and its error is re-raised untouched, not renamed.
    with pytest.raises(ArgsError, match="^tracking_uri: "):
        with _reported_as_config(s, "inference"):
            raise ArgsError("tracking_uri: 'x' is not allowed; allowed: a URI")


def test_every_mapped_key_is_a_real_config_key() -> None:
    mapped = {k for table in ARG_KEYS.values() for k in table.values()}
    for target in ("local", "aws", "azure"):
        mapped |= set(option_keys(target).values())
    assert mapped and mapped <= ALIASES
