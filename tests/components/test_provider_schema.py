"""The components served to other languages: the inferred package schema, built offline."""

from __future__ import annotations

import json

import pytest
from pulumi.provider.experimental.component import ComponentProvider

import components
from components.__main__ import COMPONENTS, PACKAGE

EXPECTED = {
    "Network": ({"target", "namespace", "cidr", "availabilityZones"}, {"networkId", "privateSubnetIds", "namespace"}),
    "Cluster": ({"target", "namespace", "privateSubnetIds", "nodeCount"}, {"clusterName", "kubeconfig", "provider", "namespace"}),
    "Registry": ({"target", "repositories", "untaggedExpiryDays"}, {"registryUrl", "repositoryUrls", "registryId"}),
    "TrainingPlatform": ({"target", "namespace", "local"}, {"trackingUri", "executionRole", "kmsKeyArn"}),
    "InferenceEndpoint": ({"target", "image", "runtime", "minReplicas", "maxReplicas"}, {"url", "endpointName"}),
    "Monitoring": ({"target", "endpointName", "latencyP99Seconds"}, {"dashboardUrl", "alertTarget"}),
    "ContainerImages": ({"target"}, {"servingImage", "trainingImage", "imageTags", "pullPolicy"}),
}


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(ComponentProvider(COMPONENTS, PACKAGE, None, "0.1.0").schema)


def test_every_component_type_is_served(schema):
    assert set(schema["resources"]) == {f"mlops:index:{name}" for name in EXPECTED}
    assert all(r["isComponent"] for r in schema["resources"].values())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_inputs_and_outputs_are_declared(schema, name):
    resource = schema["resources"][f"mlops:index:{name}"]
    inputs, outputs = EXPECTED[name]
    assert inputs <= set(resource["inputProperties"]), set(resource["inputProperties"])
    assert outputs <= set(resource["properties"]), set(resource["properties"])
    assert "target" in resource["requiredInputs"]
    cls = getattr(components, name)
    camel = {"".join(w.capitalize() if i else w for i, w in enumerate(o.split("_")))
             for o in (*cls.OUTPUTS, *getattr(cls, "ONLY_ON", {}))}
    assert camel == set(resource["properties"]), "schema outputs drifted from the component's OUTPUTS"
    # Outputs that exist on some targets only are optional in the schema; the rest required.
    required = set(resource.get("required", []))
    assert {o for o in camel if o in required} == {
        "".join(w.capitalize() if i else w for i, w in enumerate(o.split("_"))) for o in cls.OUTPUTS}


def test_cluster_provider_output_is_a_kubernetes_provider_reference(schema):
    ref = schema["resources"]["mlops:index:Cluster"]["properties"]["provider"]["$ref"]
    assert ref.endswith("kubernetes/v4.34.2/schema.json#/provider") or "kubernetes" in ref


def test_descriptions_document_the_defaults(schema):
    network = schema["resources"]["mlops:index:Network"]["inputProperties"]
    assert "default ``10.40.0.0/16``" in network["cidr"]["description"]


def test_wheel_exposes_a_distinctive_import_path(installed_wheel):
    """Other teams install the wheel and import ``mlops_platform.components``; the backends load
    through the same path (the dispatch imports relative to the package)."""
    import subprocess

    wheel, python = installed_wheel
    probe = subprocess.run([str(python), "-c", (
        "from mlops_platform.components import Network, targets;"
        "m = targets.load_backend('network', 'local');"
        "print(Network.__module__, m.__name__)"
    )], capture_output=True, text=True, timeout=300, cwd=wheel.parent)
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert probe.stdout.split() == ["mlops_platform.components.network", "mlops_platform.components.local.network"]
