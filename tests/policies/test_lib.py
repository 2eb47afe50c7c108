"""Helpers the rules share, and the conventions they share with the components."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components import tags as component_tags
from policies.aws.iam_no_wildcards import RESOURCE_WILDCARD_ALLOWED
from policies.common import required_tags
from policies.kubernetes.image_pinned import image_tag
from policies.lib import kubernetes as k8s
from policies.lib.iam import DocumentError, parse_document, principals, statements
from policies.lib.props import as_list, dig, is_set
from policies.lib.settings import string_list
from policies.lib.taggable import supports_tags

DOC = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a/*"}}


def test_policy_document_as_json_string_or_object_reads_the_same():
    assert statements(parse_document(json.dumps(DOC))) == statements(parse_document(DOC)) == [DOC["Statement"]]


@pytest.mark.parametrize("text,error", [("{not json", "not valid JSON"), ("[1, 2]", "not a JSON object")])
def test_malformed_policy_document_is_an_error(text, error):
    with pytest.raises(DocumentError, match=error):
        parse_document(text)


def test_principal_forms():
    assert principals({"Principal": "*"}) == [("*", "*")]
    assert principals({"Principal": {"AWS": ["arn:a", "arn:b"], "Service": "s.amazonaws.com"}}) == [
        ("AWS", "arn:a"), ("AWS", "arn:b"), ("Service", "s.amazonaws.com")]


@pytest.mark.parametrize("image,tag", [
    ("repo/serving:1.2.3", "1.2.3"),
    ("localhost:5000/serving", None),
    ("localhost:5000/serving:0.1", "0.1"),
    ("serving", None),
    ("ghcr.io/org/serving@sha256:abc", "@digest"),
    ("serving:latest", "latest"),
])
def test_image_tag(image, tag):
    assert image_tag(image) == tag


def test_required_keys_match_the_components_conventions():
    assert required_tags.TAG_KEYS == component_tags.REQUIRED_TAG_KEYS
    assert set(required_tags.LABEL_KEYS) == set(component_tags.REQUIRED_LABEL_KEYS)
    labels = component_tags.kubernetes_labels(component_tags.standard_tags("prod", "ml platform", "cc/42"))
    assert {required_tags.LABEL_FOR_TAG[k]: k8s.label_value(v) for k, v in
            component_tags.standard_tags("prod", "ml platform", "cc/42").items()} == labels


@given(st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=80).filter(lambda s: any(c.isalnum() and c.isascii() for c in s)))
def test_label_value_matches_the_components(value):
    assert k8s.label_value(value) == component_tags.label_value(value)


def test_taggability_comes_from_the_installed_sdks():
    assert supports_tags("aws:s3/bucket:Bucket") is True
    assert supports_tags("aws:s3/bucketPolicy:BucketPolicy") is False
    assert supports_tags("azure-native:storage:StorageAccount") is True
    assert supports_tags("azure-native:authorization:RoleAssignment") is False
    assert supports_tags("aws:nothing/here:Here") is None


def test_every_allow_listed_wildcard_action_has_a_reason():
    assert RESOURCE_WILDCARD_ALLOWED and all(k == k.lower() and ":" in k and len(v) > 20 for k, v in RESOURCE_WILDCARD_ALLOWED.items())


def test_small_readers():
    assert dig({"a": [{"b": 1}]}, "a", 0, "b") == 1 and dig({"a": None}, "a", "b", default=3) == 3
    assert as_list(None) == [] and as_list("x") == ["x"] and as_list(["x"]) == ["x"]
    assert not is_set({"a": []}, "a") and is_set({"a": [1]}, "a")
    assert string_list('["a", "b"]') == ["a", "b"] == string_list("a, b") == string_list(["a", "b"])


def test_pod_spec_paths_cover_every_workload_kind():
    kinds = {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
    assert {k8s.kind(t) for t in k8s.POD_SPEC_PATHS} == kinds | {f"{kind}Patch" for kind in kinds}


def test_a_resource_rule_runs_only_for_the_types_it_declares(request):
    """The declaration is binding, under the engine's servicer and the runner alike: a rule that
    reports everything still reports nothing on a type it did not declare."""
    from pulumi_policy import ResourceValidationArgs
    from pulumi_policy.proxy import unknown_checking_proxy

    from policies.lib.rule import ADVISORY, DECLARED_TYPES, applies_to, resource_rule
    from policies.runner import evaluate
    from tests.policies import builders as b

    def always(args, report_violation):
        report_violation(f"saw {args.resource_type}")

    rule = resource_rule(name="test-gate-only-buckets", description="Checks whether the gate works.",
                         validate=always, enforcement_level=ADVISORY, remediation="none",
                         resource_types=("aws:s3/bucket:Bucket",))
    request.addfinalizer(lambda: DECLARED_TYPES.pop(rule.name, None))
    assert applies_to(rule.name) == frozenset({"aws:s3/bucket:Bucket"})
    seen = []
    for resource_type in ("aws:s3/bucket:Bucket", "aws:sns/topic:Topic"):
        args = ResourceValidationArgs(resource_type, unknown_checking_proxy({}), "urn", "n", None, None, {}, {})
        rule.validate(args, seen.append)
    assert seen == ["saw aws:s3/bucket:Bucket"]
    found = evaluate([b.bucket(), b.sns_topic()], policies=[rule])
    assert [(v.urn.rsplit("::", 2)[1], v.message) for v in found] == [("aws:s3/bucket:Bucket", "saw aws:s3/bucket:Bucket")]
