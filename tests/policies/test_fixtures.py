"""Every fixture: the rule rejects exactly the resources the case names, and every rule has at
least one fixture it rejects and one it accepts."""

from __future__ import annotations

from collections import Counter

import pytest

from policies.registry import ALL_POLICIES, REGISTRY
from policies.runner import evaluate
from tests.policies.fixtures import aws, azure, common, kubernetes, new_rules, rewrites

CASES = [*aws.CASES, *azure.CASES, *kubernetes.CASES, *common.CASES, *rewrites.CASES, *new_rules.CASES]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_rejects_exactly_the_named_resources(case):
    violations = evaluate(case.resources, case.config, policies=[REGISTRY[case.rule]])
    assert {v.name for v in violations} == set(case.rejects), [v.message for v in violations]
    assert all(v.policy == case.rule and v.enforcement in ("mandatory", "advisory") for v in violations)


def test_case_names_are_unique_per_rule():
    duplicates = [id_ for id_, n in Counter(c.id for c in CASES).items() if n > 1]
    assert duplicates == []


def test_case_names_say_whether_the_rule_accepts_or_rejects():
    mislabelled = [c.id for c in CASES if c.name.endswith("_rejected") != bool(c.rejects)
                   or not c.name.endswith(("_rejected", "_accepted"))]
    assert mislabelled == []


@pytest.mark.parametrize("policy", ALL_POLICIES, ids=[p.name for p in ALL_POLICIES])
def test_every_rule_has_a_fixture_it_rejects_and_one_it_accepts(policy):
    mine = [c for c in CASES if c.rule == policy.name]
    assert any(c.rejects for c in mine), f"{policy.name}: no fixture it rejects"
    assert any(not c.rejects for c in mine), f"{policy.name}: no fixture it accepts"


def test_fixtures_only_name_registered_rules():
    assert {c.rule for c in CASES} <= {p.name for p in ALL_POLICIES}
