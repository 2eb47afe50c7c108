"""The facades' pure validation: defaults, and one clear line for each bad argument."""

from __future__ import annotations

import pytest

from components.base import ArgsError
from components.cluster import resolve_cluster_args
from components.inference import resolve_inference_args
from components.monitoring import resolve_monitoring_args
from components.network import resolve_network_args
from components.registry import resolve_registry_args
from components.targets import BUILT, TargetError, check_target
from components.training import resolve_training_args


def test_defaults_are_the_documented_secure_cheap_ones():
    network = resolve_network_args({"target": "local"})
    assert (network.namespace, network.cidr, network.availability_zones, network.high_availability) == (
        "mlops", "10.40.0.0/16", 2, False)
    endpoint = resolve_inference_args({"target": "local", "image": "r/serving:1.0"})
    assert endpoint.runtime == "kubernetes" and endpoint.model_uri == "models:/demand@champion"
    assert (endpoint.min_replicas, endpoint.max_replicas) == (1, 3)
    assert resolve_registry_args({"target": "aws"}).repositories == ["serving", "training"]
    assert resolve_cluster_args({"target": "local"}).protect_data is False


@pytest.mark.parametrize(
    ("resolve", "args", "message"),
    [
        (resolve_network_args, {"target": "gcp"}, "target: 'gcp' is not allowed; allowed: local, aws, azure"),
        (resolve_network_args, {"target": "local", "cidr": "10.0.0.0/8"},
         "cidr: '10.0.0.0/8' is not allowed; allowed: an IPv4 network in CIDR form with a /16 to /24 prefix, e.g. 10.40.0.0/16"),
        (resolve_network_args, {"target": "local", "namespace": "Bad_NS"},
         "namespace: 'Bad_NS' is not allowed; allowed: a DNS-1123 label (lowercase letters, digits, '-', at most 63 characters)"),
        (resolve_network_args, {"target": "local", "zones": 2},
         "zones: unknown argument; allowed: availability_zones, aws, azure, cidr, environment, high_availability, "
         "local, namespace, tags, target"),
        (resolve_cluster_args, {"target": "aws", "node_min_count": 5, "node_max_count": 3},
         "node_min_count: 5 is not allowed; allowed: at most node_max_count (3)"),
        (resolve_registry_args, {"target": "aws", "repositories": []},
         "repositories: [] is not allowed; allowed: a non-empty list of distinct names"),
        (resolve_training_args, {"target": "local", "local": {"mlflow_image": "ghcr.io/mlflow/mlflow:latest"}},
         "local.mlflow_image: 'ghcr.io/mlflow/mlflow:latest' is not allowed; allowed: an image pinned by tag or digest (not latest)"),
        (resolve_inference_args, {"target": "local", "image": "serving"},
         "image: 'serving' is not allowed; allowed: an image pinned by tag (not latest) or by digest, e.g. repo/serving:1a2b3c"),
        (resolve_inference_args, {"target": "local", "image": "r/s:1", "runtime": "sagemaker"},
         "runtime: 'sagemaker' is not allowed; allowed: a runtime of target 'local': kubernetes"),
        (resolve_inference_args, {"target": "local", "image": "r/s:1", "min_replicas": 0},
         "min_replicas: 0 is not allowed; allowed: a whole number from 1 to 100"),
        (resolve_inference_args, {"target": "local", "image": "r/s:1", "cpu_limit": "lots"},
         "cpu_limit: 'lots' is not allowed; allowed: a Kubernetes quantity such as 250m, 1, 512Mi or 2Gi"),
        (resolve_monitoring_args, {"target": "local", "endpoint_name": "e", "error_rate": 2.0},
         "error_rate: 2.0 is not allowed; allowed: a number from 0.0001 to 1.0"),
    ],
)
def test_bad_argument_is_one_line(resolve, args, message):
    with pytest.raises(ArgsError) as info:
        resolve(args)
    assert str(info.value) == message


def test_image_pinned_by_digest_is_accepted():
    digest = "r/serving@sha256:" + "a" * 64
    assert resolve_inference_args({"target": "local", "image": digest}).image == digest


def test_a_target_without_a_backend_is_refused_with_one_line(monkeypatch):
    monkeypatch.setitem(BUILT, "network", ("local",))
    with pytest.raises(TargetError) as info:
        check_target("network", "azure")
    assert str(info.value) == "target: the 'azure' backend of network is not built yet; built targets: local"
