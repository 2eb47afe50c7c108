"""The generated tag table (policies/data/taggable_types.json) matches the installed provider SDKs:
same versions, every token the SDKs register, and, for a sample of tokens plus every type the
tests and shipped stacks use, the answer the SDK class itself gives (import it, inspect its
constructor): the table is never its own oracle."""

from __future__ import annotations

import importlib.metadata
import json
import random

import pytest

from policies.lib import taggable
from policies.lib.taggable import SDK_DISTRIBUTIONS, SDK_PACKAGES, TABLE, inspect_takes_tags, registered_tokens

DATA = json.loads(TABLE.read_text(encoding="utf-8"))
SAMPLE = 40  # per package; each inspection imports one resource module
KNOWN = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2", "aws:s3/bucketPolicy:BucketPolicy", "aws:iam/role:Role",
         "aws:iam/rolePolicy:RolePolicy", "aws:eks/cluster:Cluster", "aws:sagemaker/model:Model",
         "aws:kms/key:Key", "aws:ec2/securityGroupRule:SecurityGroupRule",
         "azure-native:storage:StorageAccount", "azure-native:authorization:RoleAssignment",
         "azure-native:keyvault:Vault", "azure-native:containerservice:ManagedCluster")


@pytest.mark.parametrize("package", SDK_PACKAGES)
def test_the_table_was_generated_from_the_installed_sdk_version(package):
    assert DATA["packages"][package]["version"] == importlib.metadata.version(SDK_DISTRIBUTIONS[package])


@pytest.mark.parametrize("package", SDK_PACKAGES)
def test_the_table_lists_every_token_the_sdk_registers_once(package):
    entry = DATA["packages"][package]
    listed = entry["taggable"] + entry["untaggable"]
    assert len(listed) == len(set(listed))
    assert set(listed) == set(registered_tokens(package))


@pytest.mark.parametrize("package", SDK_PACKAGES)
def test_a_sample_agrees_with_the_sdk_classes(package):
    tokens = registered_tokens(package)
    picked = sorted(random.Random(15).sample(sorted(tokens), SAMPLE)) + [k for k in KNOWN if k.startswith(package + ":")]
    wrong = [token for token in picked if taggable.supports_tags(token) is not inspect_takes_tags(*tokens[token])]
    assert wrong == []


def test_known_answers():
    assert taggable.supports_tags("aws:s3/bucket:Bucket") is True
    assert taggable.supports_tags("aws:s3/bucketPolicy:BucketPolicy") is False
    assert taggable.supports_tags("aws:madeup/thing:Thing") is None
    assert taggable.supports_tags("kubernetes:apps/v1:Deployment") is None
