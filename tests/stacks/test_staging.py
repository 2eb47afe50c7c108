"""The staging stack is prod's shape at smaller sizes, on the same cloud: the same kinds of
resource (nothing prod has is missing in staging), the same security posture, fewer and smaller
things where config says so."""

from __future__ import annotations

from collections import Counter

import pytest

from stacks.config import parse_settings
from stacks.plan import stack_config


@pytest.fixture(scope="module")
def both(capture):
    return capture("staging"), capture("prod")


def test_staging_runs_on_prods_cloud_with_prods_rules():
    staging, prod = stack_config("staging"), stack_config("prod")
    assert staging["target"] == prod["target"] == "aws"
    assert staging["environment"] == "staging"
    assert parse_settings(staging).protect_data is True
    assert staging["networkCidr"] != prod["networkCidr"]


def test_staging_declares_every_kind_of_resource_prod_declares(both):
    staging, prod = both
    missing = {r["type"] for r in prod} - {r["type"] for r in staging}
    # One NAT gateway (and its address) per zone in prod; staging keeps one of each kind.
    assert missing == set()


def test_staging_is_smaller(both):
    staging, prod = both
    count = lambda rs, t: Counter(r["type"] for r in rs)[t]  # noqa: E731
    assert count(staging, "aws:ec2/natGateway:NatGateway") < count(prod, "aws:ec2/natGateway:NatGateway")
    assert count(staging, "aws:ec2/subnet:Subnet") < count(prod, "aws:ec2/subnet:Subnet")
    s, p = stack_config("staging"), stack_config("prod")
    for key in ("nodeMaxCount", "servingMaxReplicas", "awsSpotMaxCount"):
        assert int(s[key]) < int(p[key]), key
