"""The per-target options blocks (``local``, ``aws``, ``azure``): one declaration each, resolved and
validated like the top-level arguments, with the key path in every one-line error."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path

import pulumi
import pytest
from pulumi.provider.experimental.component import ComponentProvider

from components import ArgsError
from components import cluster, inference, monitoring, network, registry, training
from components.__main__ import COMPONENTS, PACKAGE
from components.spec import REQUIRED, options_of

FACADES = {
    "Network": (network.resolve_network_args, network.OPTIONS, {}),
    "Cluster": (cluster.resolve_cluster_args, cluster.OPTIONS, {}),
    "Registry": (registry.resolve_registry_args, registry.OPTIONS, {}),
    "TrainingPlatform": (training.resolve_training_args, training.OPTIONS, {}),
    "InferenceEndpoint": (inference.resolve_inference_args, inference.OPTIONS, {"image": "r/serving:1"}),
    "Monitoring": (monitoring.resolve_monitoring_args, monitoring.OPTIONS, {"endpoint_name": "e"}),
}
BLOCKS = [(facade, block) for facade, (_, blocks, _) in FACADES.items() for block in blocks]
ROOT = Path(__file__).resolve().parents[2]


def test_the_issue_example_a_nested_typo_is_refused():
    with pytest.raises(ArgsError) as info:
        registry.resolve_registry_args({"target": "aws", "aws": {"regoin": "us-east-1"}})
    assert str(info.value) == "aws.regoin: unknown option; allowed: account_id, pull_principal_arns, region"


@pytest.mark.parametrize(("facade", "block"), BLOCKS)
@pytest.mark.parametrize("target", ["local", "aws", "azure"])
def test_unknown_nested_key_is_refused_on_every_target(facade, block, target):
    """A typo in any block is refused, also in the block of another target (never silent)."""
    resolve, _, extra = FACADES[facade]
    with pytest.raises(ArgsError) as info:
        resolve({"target": target, **extra, block: {"no_such_option": 1}})
    message = str(info.value)
    assert message.startswith(f"{block}.no_such_option: unknown option; allowed: ")
    assert "\n" not in message


@pytest.mark.parametrize(("facade", "block"), BLOCKS)
def test_defaults_fill_every_declared_option(facade, block):
    resolve, blocks, extra = FACADES[facade]
    settings = resolve({"target": block, **extra})
    declared = options_of(blocks[block])
    assert set(settings[block]) == set(declared)
    for name, decl in declared.items():
        if decl.opt.default is not REQUIRED:
            assert settings[block][name] == decl.opt.default


@pytest.mark.parametrize(
    ("resolve", "args", "message"),
    [
        (network.resolve_network_args, {"target": "aws", "aws": {"flow_log_retention_days": 0}},
         "aws.flow_log_retention_days: 0 is not allowed; allowed: a whole number from 1 to 3653"),
        (network.resolve_network_args, {"target": "aws", "aws": {"protect_data": "yes"}},
         "aws.protect_data: 'yes' is not allowed; allowed: true or false"),
        (network.resolve_network_args, {"target": "aws", "aws": {"region": "Europe"}},
         "aws.region: 'Europe' is not allowed; allowed: an AWS region such as eu-west-1"),
        (cluster.resolve_cluster_args, {"target": "aws", "aws": {"public_access_cidrs": ["0.0.0.0/0"]}},
         "aws.public_access_cidrs: '0.0.0.0/0' is not allowed; allowed: CIDRs such as 203.0.113.0/24 (never 0.0.0.0/0)"),
        (training.resolve_training_args, {"target": "aws", "aws": {"mlflow_server_size": "Huge"}},
         "aws.mlflow_server_size: 'Huge' is not allowed; allowed: Small, Medium, Large"),
        (cluster.resolve_cluster_args, {"target": "azure", "azure": {"availability_zones": 4}},
         "azure.availability_zones: 4 is not allowed; allowed: a whole number from 1 to 3"),
        (inference.resolve_inference_args, {"target": "azure", "image": "r/s:1", "azure": {"auth_mode": "None"}},
         "azure.auth_mode: 'None' is not allowed; allowed: Key, AADToken"),
        (cluster.resolve_cluster_args, {"target": "local", "local": {"kube_context": 3}},
         "local.kube_context: 3 is not allowed; allowed: a string"),
        (registry.resolve_registry_args, {"target": "local", "local": {"storage_size": "10 G"}},
         "local.storage_size: '10 G' is not allowed; allowed: a Kubernetes quantity such as 250m, 1, 512Mi or 2Gi"),
        (registry.resolve_registry_args, {"target": "aws", "aws": "eu-west-1"},
         "aws: 'eu-west-1' is not allowed; allowed: a mapping of options (account_id, pull_principal_arns, region)"),
    ],
)
def test_bad_nested_value_is_one_line_with_its_key_path(resolve, args, message):
    with pytest.raises(ArgsError) as info:
        resolve(args)
    assert str(info.value) == message


def test_outputs_pass_where_the_declaration_takes_an_input():
    wired = pulumi.Output.from_input("vpc-123")
    settings = inference.resolve_inference_args(
        {"target": "aws", "image": "r/s:1", "aws": {"network_id": wired}})
    assert settings.aws["network_id"] is wired
    with pytest.raises(ArgsError, match=r"^aws\.instance_type: "):
        inference.resolve_inference_args({"target": "aws", "image": "r/s:1", "aws": {"instance_type": wired}})


def test_every_declared_option_reaches_the_served_schema_with_its_description():
    """The schema other languages get (the analyzer's own output) has every declared option of
    every block, typed and described: the declaration is the one source."""
    schema = json.loads(ComponentProvider(COMPONENTS, PACKAGE, None, "0.1.0").schema)
    for facade, (_, blocks, _) in FACADES.items():
        inputs = schema["resources"][f"mlops:index:{facade}"]["inputProperties"]
        for block, cls in blocks.items():
            assert block in inputs, (facade, block)
            type_token = inputs[block]["$ref"].removeprefix("#/types/")
            properties = schema["types"][type_token]["properties"]
            camel = {"".join(w.capitalize() if i else w for i, w in enumerate(n.split("_"))) for n in options_of(cls)}
            assert set(properties) == camel, (facade, block)
            # Fields a block inherits from a shared TypedDict base (aws region/account_id, azure
            # placement) have no description: the analyzer reads docstrings from the leaf class's
            # own source only. Every field declared in a block's own body must have one.
            own = ast.parse(inspect.getsource(cls)).body[0]
            for stmt in own.body:
                if isinstance(stmt, ast.AnnAssign):
                    name = stmt.target.id
                    camel_name = "".join(w.capitalize() if i else w for i, w in enumerate(name.split("_")))
                    assert properties[camel_name].get("description"), (facade, block, name)


def _default_reads(path: Path) -> list[str]:
    """``options.get("key", default)`` / ``options.get("key") or default`` in a backend: a second
    home for a default."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            owner = ast.unparse(node.func.value)
            if owner.endswith(("options", "opts")) and len(node.args) == 2:
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            first = node.values[0]
            if (isinstance(first, ast.Call) and isinstance(first.func, ast.Attribute) and first.func.attr == "get"
                    and ast.unparse(first.func.value).endswith(("options", "opts"))
                    and isinstance(node.values[1], (ast.Constant, ast.List, ast.Dict))):
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("target", ["local", "aws", "azure"])
def test_backends_read_resolved_options_not_their_own_defaults(target):
    found = [hit for path in sorted((ROOT / "components" / target).glob("*.py")) for hit in _default_reads(path)]
    assert not found, found
