"""The offline runner: enforcement overrides, config routing, the engine's unknown and
not-applicable handling, resource linking for stack rules, the report and the CLI."""

from __future__ import annotations

import json

import pytest
from pulumi_policy import PolicyConfigSchema, StackValidationPolicy
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policies.registry import REGISTRY
from policies.runner import EnforcementConfigError, Violation, evaluate, format_verdicts, has_mandatory, main
from tests.policies import builders as b
from tests.policies import platforms as p

PUBLIC_WORKSPACE = [b.ml_workspace("aml", publicNetworkAccess="Enabled")]
WORKSPACE_RULE = [REGISTRY["azure-ml-workspace-private"]]
INSECURE = p.replace(p.aws(), "alerts", {"kmsMasterKeyId": None})  # one mandatory violation


def _levels(violations):
    return [(v.policy, v.enforcement) for v in violations]


def test_rule_default_level_applies_without_overrides():
    assert _levels(evaluate(INSECURE, p.PROD)) == [("aws-sns-topic-kms", "mandatory")]


def test_all_override_lowers_every_rule():
    assert _levels(evaluate(INSECURE, p.PROD, {"all": "advisory"})) == [("aws-sns-topic-kms", "advisory")]


def test_rule_override_wins_over_all():
    assert _levels(evaluate(INSECURE, p.PROD, {"all": "advisory", "aws-sns-topic-kms": "mandatory"})) == [
        ("aws-sns-topic-kms", "mandatory")]


def test_disabled_rule_reports_nothing():
    assert evaluate(INSECURE, p.PROD, {"aws-sns-topic-kms": "disabled"}) == []


def test_remediate_is_reported_as_mandatory_like_the_engine():
    assert _levels(evaluate(INSECURE, p.PROD, {"aws-sns-topic-kms": "remediate"})) == [("aws-sns-topic-kms", "mandatory")]


def test_override_of_an_unknown_rule_is_refused():
    with pytest.raises(EnforcementConfigError, match="enforcement: no rule named 'aws-sns-kms'"):
        evaluate(INSECURE, p.PROD, {"aws-sns-kms": "advisory"})


def test_override_with_an_unknown_level_is_refused():
    with pytest.raises(EnforcementConfigError, match="enforcement: all='strict' is not one of"):
        evaluate(INSECURE, p.PROD, {"all": "strict"})


def test_prod_rule_reads_environment_from_stack_config():
    assert [v.name for v in evaluate(PUBLIC_WORKSPACE, {"environment": "prod"}, policies=WORKSPACE_RULE)] == ["aml"]
    assert evaluate(PUBLIC_WORKSPACE, {"environment": "dev"}, policies=WORKSPACE_RULE) == []


def test_prod_rule_reads_environment_from_stack_tags():
    assert evaluate(PUBLIC_WORKSPACE, {}, policies=WORKSPACE_RULE, stack_tags={"environment": "dev"}) == []


def test_prod_rule_reads_environment_from_the_config_the_cli_passes_to_the_pack(monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"mlops-platform:environment": "staging"}))
    assert evaluate(PUBLIC_WORKSPACE, {}, policies=WORKSPACE_RULE) == []


def test_prod_rule_fails_closed_when_no_environment_is_known():
    assert [v.name for v in evaluate(PUBLIC_WORKSPACE, {}, policies=WORKSPACE_RULE)] == ["aml"]


def test_only_the_keys_a_rule_declares_reach_its_config():
    seen = []
    schema = PolicyConfigSchema(properties={"environment": {"type": "string"}})
    declares = StackValidationPolicy(name="declares", description="Checks whether config arrives.", config_schema=schema,
                                     validate=lambda args, report: seen.append(dict(args.get_config())))
    silent = StackValidationPolicy(name="silent", description="Checks whether config arrives.",
                                   validate=lambda args, report: seen.append(dict(args.get_config())))
    evaluate([], {"environment": "prod", "owner": "x"}, policies=[declares, silent])
    assert seen == [{"environment": "prod"}, {}]


def test_a_value_unknown_at_preview_gives_the_engines_advisory_note():
    resources = [b.res("aws:ecr/repositoryPolicy:RepositoryPolicy", "pull", {"policy": UNKNOWN_STRING_VALUE})]
    assert evaluate(resources, p.PROD, policies=[REGISTRY["aws-ecr-not-public"]]) == [Violation(
        "aws-ecr-not-public", "advisory", b.urn("aws:ecr/repositoryPolicy:RepositoryPolicy", "pull"), "pull",
        "can't run policy 'aws-ecr-not-public' during preview: string value at .policy can't be known during preview",
    )]


def test_an_unknown_key_reference_counts_as_set():
    resources = [b.log_group("logs", kmsKeyId=UNKNOWN_STRING_VALUE)]
    assert evaluate(resources, p.PROD, policies=[REGISTRY["aws-cloudwatch-log-group-kms"]]) == []


def test_a_type_the_sdk_does_not_know_is_not_applicable_to_required_tags():
    resources = [b.res("aws:madeup/thing:Thing", "thing", {})]
    assert evaluate(resources, b.DEV, policies=[REGISTRY["required-tags"]]) == []
    untagged_known_type = [b.res("aws:sns/topic:Topic", "topic", {})]
    assert [v.name for v in evaluate(untagged_known_type, b.DEV, policies=[REGISTRY["required-tags"]])] == ["topic"]


def test_stack_rules_see_parents_dependencies_and_property_dependencies_linked():
    bucket = b.bucket("artifacts")
    child = b.bucket_public_access_block(bucket)
    child["parent"] = bucket["urn"]
    seen = {}

    def probe(args, report):
        by_name = {r.name: r for r in args.resources}
        block = by_name[child["name"]]
        seen.update(parent=block.parent.name, deps=[d.name for d in block.dependencies],
                    bucket=[d.name for d in block.property_dependencies["bucket"]], protect=by_name["artifacts"].opts.protect)

    evaluate([bucket, child], {}, policies=[StackValidationPolicy(name="probe", description="Checks whether.", validate=probe)])
    assert seen == {"parent": "artifacts", "deps": ["artifacts"], "bucket": ["artifacts"], "protect": True}


def test_a_stack_violation_without_a_resource_is_reported_against_the_stack_at_the_pack_level():
    policy = StackValidationPolicy(name="whole-stack", description="Checks whether.",
                                   validate=lambda args, report: report("the stack is empty"))
    assert evaluate([], {}, policies=[policy]) == [Violation("whole-stack", "mandatory", "", "(stack)", "the stack is empty")]


def test_format_verdicts_groups_by_rule_mandatory_first():
    violations = [
        Violation("b-rule", "advisory", "u1", "one", "advice"),
        Violation("a-rule", "mandatory", "u2", "two", "must fix"),
        Violation("a-rule", "mandatory", "u3", "three", "must fix too"),
    ]
    assert format_verdicts(violations) == "\n".join([
        "[mandatory] a-rule",
        "    three: must fix too",
        "    two: must fix",
        "[advisory] b-rule",
        "    one: advice",
        "policies: 2 mandatory, 1 advisory violation(s)",
    ])
    assert has_mandatory(violations) and not has_mandatory(violations[:1])
    assert format_verdicts([]) == "policies: no violations"


def test_cli_exits_one_on_a_mandatory_violation(tmp_path, capsys):
    path = tmp_path / "captured.json"
    path.write_text(json.dumps(INSECURE))
    assert main(["--json", str(path), "--config", "environment=prod", "--config", "owner=ml-platform"]) == 1
    out = capsys.readouterr().out
    assert "[mandatory] aws-sns-topic-kms" in out and "SNS topic 'alerts' is not encrypted with KMS" in out


def test_cli_exits_zero_when_overrides_leave_only_advisories(tmp_path, capsys):
    path = tmp_path / "captured.json"
    path.write_text(json.dumps(INSECURE))
    assert main(["--json", str(path), "--config", "environment=prod", "--enforce", "all=advisory", "--format", "json"]) == 0
    assert [v["policy"] for v in json.loads(capsys.readouterr().out)] == ["aws-sns-topic-kms"]


def test_cli_refuses_an_unknown_rule_override(tmp_path, capsys):
    path = tmp_path / "captured.json"
    path.write_text("[]")
    assert main(["--json", str(path), "--enforce", "no-such-rule=advisory"]) == 2
    assert "no rule named 'no-such-rule'" in capsys.readouterr().err
