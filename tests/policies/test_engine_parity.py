"""The runner calls the rules as the engine does: the same resources sent through
pulumi_policy's own analyzer servicer (the object ``PolicyPack`` serves over gRPC, fed protobuf
requests as the CLI sends them, without starting the server) give the same verdicts."""

from __future__ import annotations

from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2 as proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policies.registry import ALL_POLICIES, PACK_ENFORCEMENT_LEVEL
from policies.runner import enforcement_levels, evaluate, rule_config
from tests.policies import builders as b
from tests.policies import platforms as p

LEVEL = {proto.ADVISORY: "advisory", proto.MANDATORY: "mandatory"}
DESCRIPTIONS = {policy.name: policy.description for policy in ALL_POLICIES}


def _struct(value: dict) -> struct_pb2.Struct:
    return json_format.ParseDict(value, struct_pb2.Struct())


def _servicer(stack_config: dict, enforcement: dict | None = None) -> _PolicyAnalyzerServicer:
    servicer = _PolicyAnalyzerServicer("mlops-platform", "0.1.0", ALL_POLICIES, PACK_ENFORCEMENT_LEVEL)
    levels = enforcement_levels(ALL_POLICIES, enforcement)
    mapped = {EnforcementLevel.ADVISORY: proto.ADVISORY, EnforcementLevel.MANDATORY: proto.MANDATORY,
              EnforcementLevel.DISABLED: proto.DISABLED, EnforcementLevel.REMEDIATE: proto.REMEDIATE}
    servicer.Configure(proto.ConfigureAnalyzerRequest(policyConfig={
        policy.name: proto.PolicyConfig(enforcementLevel=mapped[levels[policy.name]],
                                        properties=_struct(rule_config(policy, stack_config)))
        for policy in ALL_POLICIES
    }), None)
    return servicer


def _options(record: dict) -> proto.AnalyzerResourceOptions:
    return proto.AnalyzerResourceOptions(protect=record["protect"], parent=record["parent"] or "")


def _provider(record: dict, by_urn: dict) -> dict:
    ref = record.get("provider")
    if not ref:
        return {}
    provider = by_urn[ref.rsplit("::", 1)[0]]
    return {"provider": proto.AnalyzerProviderResource(type=provider["type"], properties=_struct(provider["inputs"]),
                                                        urn=provider["urn"], name=provider["name"])}


def engine_verdicts(resources: list[dict], stack_config: dict, enforcement: dict | None = None) -> set[tuple]:
    servicer = _servicer(stack_config, enforcement)
    by_urn = {r["urn"]: r for r in resources}
    out = set()

    def collect(response, default_urn):
        for d in response.diagnostics:
            message = d.message
            prefix = DESCRIPTIONS[d.policyName] + "\n"
            message = message[len(prefix):] if message.startswith(prefix) else message
            out.add((d.policyName, LEVEL[d.enforcementLevel], d.urn or default_urn, message))

    for record in resources:
        request = proto.AnalyzeRequest(type=record["type"], properties=_struct(record["inputs"]), urn=record["urn"],
                                       name=record["name"], options=_options(record), **_provider(record, by_urn))
        collect(servicer.Analyze(request, None), record["urn"])
    stack = proto.AnalyzeStackRequest(resources=[
        proto.AnalyzerResource(
            type=r["type"], properties=_struct(r["inputs"]), urn=r["urn"], name=r["name"], options=_options(r),
            parent=r["parent"] or "", dependencies=r["dependencies"],
            propertyDependencies={k: proto.AnalyzerPropertyDependencies(urns=v) for k, v in r["property_dependencies"].items()},
            **_provider(r, by_urn),
        )
        for r in resources
    ])
    collect(servicer.AnalyzeStack(stack, None), "")
    return out


def runner_verdicts(resources: list[dict], stack_config: dict, enforcement: dict | None = None) -> set[tuple]:
    return {(v.policy, v.enforcement, v.urn, v.message) for v in evaluate(resources, stack_config, enforcement)}


def _insecure_platform() -> list[dict]:
    aws = p.replace(p.aws(), "artifacts-public-access-block", {"blockPublicPolicy": False})
    aws = p.replace(aws, "execution-policy", {"policy": b.doc({"Effect": "Allow", "Action": "*", "Resource": "*"})})
    azure = p.replace(p.azure(), "mlopsstore", {"encryption": None, "allowSharedKeyAccess": True})

    def privileged(container, pod):
        container["securityContext"]["privileged"] = True
        pod["hostPID"] = True

    kubernetes = p.container_patch(p.kubernetes(), "serving", privileged)
    kubernetes = [dict(r, protect=False) if r["name"] == "mlflow-data" else r for r in kubernetes]
    return aws + azure + kubernetes


def test_engine_and_runner_agree_on_an_insecure_platform():
    resources = _insecure_platform()
    engine = engine_verdicts(resources, p.PROD)
    assert engine == runner_verdicts(resources, p.PROD)
    assert {v[0] for v in engine} == {
        "aws-s3-bucket-public-access-block", "aws-iam-no-wildcards", "azure-storage-no-shared-key",
        "azure-storage-infrastructure-encryption", "k8s-no-privilege-escalation", "k8s-no-host-namespaces",
        "data-stores-protected",
    }


def test_engine_and_runner_agree_with_enforcement_overrides():
    resources = _insecure_platform()
    overrides = {"all": "advisory", "k8s-no-host-namespaces": "disabled", "aws-iam-no-wildcards": "mandatory"}
    engine = engine_verdicts(resources, p.PROD, overrides)
    assert engine == runner_verdicts(resources, p.PROD, overrides)
    assert {(v[0], v[1]) for v in engine if v[0] in ("aws-iam-no-wildcards", "k8s-no-privilege-escalation")} == {
        ("aws-iam-no-wildcards", "mandatory"), ("k8s-no-privilege-escalation", "advisory")}
    assert not any(v[0] == "k8s-no-host-namespaces" for v in engine)


def test_engine_and_runner_agree_on_the_secure_platform_and_provider_default_tags():
    provider = b.aws_provider("aws", default_tags={**b.TAGS, "environment": "prod"})
    resources = p.everything() + [provider, b.res("aws:sns/topic:Topic", "tagged-by-provider",
                                                  {"kmsMasterKeyId": b.KEY_ARN}, provider=provider)]
    assert engine_verdicts(resources, p.PROD) == runner_verdicts(resources, p.PROD) == set()


def test_engine_and_runner_both_turn_an_unknown_value_into_an_advisory_note():
    resources = [b.res("aws:ecr/repositoryPolicy:RepositoryPolicy", "pull", {"policy": UNKNOWN_STRING_VALUE})]
    engine = {(pol, level, urn) for pol, level, urn, _ in engine_verdicts(resources, p.PROD)}
    runner = {(pol, level, urn) for pol, level, urn, _ in runner_verdicts(resources, p.PROD)}
    assert engine == runner == {("aws-ecr-not-public", "advisory", resources[0]["urn"])}


def test_analyzer_info_lists_every_rule_with_its_config_schema():
    info = _PolicyAnalyzerServicer("mlops-platform", "0.1.0", ALL_POLICIES, PACK_ENFORCEMENT_LEVEL).GetAnalyzerInfo(None, None)
    assert [policy.name for policy in info.policies] == [policy.name for policy in ALL_POLICIES]
    schemas = {policy.name: set(policy.configSchema.properties) for policy in info.policies}
    assert schemas["azure-ml-workspace-private"] == {"environment"}
    assert schemas["required-tags"] == {"environment", "owner", "costCenter"}
    assert schemas["aws-eks-cluster-admin"] == {"awsDeployerRoleArn", "clusterAdminPrincipalArns"}
