"""Every name the aws backends give AWS satisfies that service's rules, whatever the project and
stack are called (property tests), and the pure helpers behind the pain points hold."""

from __future__ import annotations

import ipaddress
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.aws.cluster import kubeconfig
from components.aws.names import KINDS, S3_FORBIDDEN_PREFIXES, S3_FORBIDDEN_SUFFIXES, aws_name, log_group_name
from components.aws.network import pick_zones, subnet_cidrs, zone_index
from components.aws.registry import lifecycle_policy
from components.aws.sagemaker_endpoint import variant_name
from components.aws.training import repository_arns

# The services' own rules, written independently of components/naming.py.
SERVICE_RULES: dict[str, re.Pattern[str]] = {
    # S3 general purpose buckets: 3-63, lowercase letters, digits, hyphens, dots; alnum at both ends.
    "s3": re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"),
    # IAM role names: 1-64 of [\w+=,.@-].
    "iam_role": re.compile(r"^[\w+=,.@-]{1,64}$"),
    # ECR repository names: 2-256, (?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*
    "ecr": re.compile(r"^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$"),
    # SageMaker endpoints, models, configs, model package groups, MLflow servers.
    "sagemaker": re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"),
    # EKS cluster names.
    "eks": re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$"),
    # name_prefix inputs: prefix + "-" + 26 generated characters must fit 63 (node groups,
    # SageMaker endpoint configurations) and keep those services' charset.
    "aws_prefix": re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,35}$"),
    # CloudWatch log groups: 1-512 of [.\-_/#A-Za-z0-9].
    "log_group": re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$"),
    # SNS topics [A-Za-z0-9_-]{1,256}, dashboards [A-Za-z0-9_-]{1,255}, security groups (255),
    # launch templates [a-zA-Z0-9().\-/_]{3,128}, KMS alias suffixes [a-zA-Z0-9/_-], policy names (128).
    "aws": re.compile(r"^[A-Za-z0-9_-]{3,64}$"),
}

# Pulumi project and stack names are free-form enough; throw anything printable at the rules.
names = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), min_size=1, max_size=120)
parts = st.lists(st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=40), max_size=3)


def test_every_kind_has_a_service_rule():
    assert set(KINDS) == set(SERVICE_RULES)


@settings(max_examples=150, deadline=None)
@given(project=names, stack=names, extra=parts, kind=st.sampled_from(KINDS))
def test_names_satisfy_service_rules(project, stack, extra, kind):
    name = aws_name(kind, project, stack, "component", *extra)
    assert SERVICE_RULES[kind].match(name), (kind, name)
    if kind == "s3":
        assert not name.startswith(S3_FORBIDDEN_PREFIXES) and not name.endswith(S3_FORBIDDEN_SUFFIXES)
        with pytest.raises(ValueError):
            ipaddress.ip_address(name)  # not formatted as an IP address
    if kind == "aws_prefix":
        assert len(name + "-" + "x" * 26) <= 63


@settings(max_examples=100, deadline=None)
@given(project=names, stack=names)
def test_log_group_names_and_kms_aliases(project, stack):
    group = log_group_name(project, stack, "network", "flow-logs")
    assert SERVICE_RULES["log_group"].match(group) and group.startswith("/mlops/")
    alias = f"alias/{aws_name('aws', project, stack, 'network', 'flow-logs')}"
    assert re.match(r"^alias/[a-zA-Z0-9/_-]{1,250}$", alias) and not alias.startswith("alias/aws/")


@settings(max_examples=100, deadline=None)
@given(project=names, stack=st.text(min_size=1, max_size=60))
def test_names_are_stable_and_distinct_per_stack(project, stack):
    a = aws_name("s3", project, stack, "training", "artifacts")
    assert a == aws_name("s3", project, stack, "training", "artifacts")
    assert a != aws_name("s3", project, stack + "x", "training", "artifacts")


# --- zones and subnets: stable by zone letter -------------------------------------------------
@pytest.mark.parametrize("vpc", ["10.40.0.0/16", "10.0.0.0/18", "172.16.0.0/20"])
def test_subnet_cidrs_are_disjoint_inside_the_vpc_and_fixed_per_zone(vpc):
    net = ipaddress.ip_network(vpc)
    cidrs = [ipaddress.ip_network(c) for i in range(7) for c in subnet_cidrs(vpc, i)]
    assert all(c.subnet_of(net) for c in cidrs)
    assert all(not a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1:])
    assert all(c.prefixlen <= 28 for c in cidrs)  # AWS's smallest subnet is /28


def test_zone_order_does_not_matter():
    assert zone_index("eu-west-1c") == 2
    assert pick_zones(["eu-west-1c", "eu-west-1a", "eu-west-1b"], 2) == ["eu-west-1a", "eu-west-1b"]


def test_kubeconfig_execs_aws_eks_get_token():
    config = json.loads(kubeconfig("prod-cluster-abc", "https://example.eks", "Q0E=", "eu-west-1"))
    user = config["users"][0]["user"]["exec"]
    assert user["command"] == "aws"
    assert user["args"][:4] == ["eks", "get-token", "--cluster-name", "prod-cluster-abc"]
    assert "--region" in user["args"] and config["current-context"] == "prod-cluster-abc"
    assert config["clusters"][0]["cluster"]["certificate-authority-data"] == "Q0E="


def test_lifecycle_policy_expires_untagged_then_keeps_last():
    rules = json.loads(lifecycle_policy(7, 30))["rules"]
    assert rules[0]["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7}
    assert rules[1]["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 30}


def test_repository_arns_from_urls():
    urls = {"serving": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/prod-serving-abc"}
    assert repository_arns(urls, "aws") == ["arn:aws:ecr:eu-west-1:111122223333:repository/prod-serving-abc"]


def test_variant_name_stays_when_the_instance_type_changes():
    # Blue/green needs the same variant name in the old and new endpoint configuration.
    assert variant_name("ml.m5.large") == variant_name("ml.g5.12xlarge")
    assert SERVICE_RULES["sagemaker"].match(variant_name("ml.g5.12xlarge"))
