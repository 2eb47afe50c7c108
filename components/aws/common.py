"""What every aws backend shares: the provider (the caller's, or one explicit provider per
component), names, tags, options,
KMS keys, log groups and IAM policy documents.

Policy documents are JSON strings built with ``pulumi.Output.json_dumps`` (ARNs stay Outputs
until the engine knows them); the policy pack and the tests read the same strings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pulumi
import pulumi_aws as aws

from ..base import ArgsError
from .names import aws_name, log_group_name

IAM_VERSION = "2012-10-17"
#: What a service needs to encrypt and decrypt with a key (no wildcards).
KEY_USE_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
)


def policy_document(statements: Sequence[Mapping[str, Any]]) -> pulumi.Output[str]:
    """An IAM policy document (JSON text) from statements that may hold Outputs.

    A ``Resource`` list may hold lists (an Output of several ARNs): they are flattened. A
    statement whose ``Resource`` resolves to an empty list (no repositories passed, say) is left
    out rather than sent to IAM, which refuses it.
    """

    def flat(resources: Any) -> Any:
        if not isinstance(resources, list):
            return resources
        return [r for item in resources for r in (item if isinstance(item, list) else [item])]

    def render(resolved: list[Any]) -> str:
        statements = [{**s, "Resource": flat(s["Resource"])} if "Resource" in s else s for s in resolved]
        kept = [s for s in statements if s.get("Resource") != []]
        return json.dumps({"Version": IAM_VERSION, "Statement": kept})

    return pulumi.Output.from_input(list(statements)).apply(render)


def allow(actions: Sequence[str], resources: Sequence[Any], sid: str | None = None, **extra: Any) -> dict[str, Any]:
    """One Allow statement naming concrete actions and resources."""
    statement: dict[str, Any] = {"Effect": "Allow", "Action": list(actions), "Resource": list(resources)}
    if sid:
        statement["Sid"] = sid
    statement.update(extra)
    return statement


def service_trust(services: Sequence[str], actions: Sequence[str] = ("sts:AssumeRole",), condition: Any = None) -> pulumi.Output[str]:
    """Trust policy letting AWS services (``eks.amazonaws.com``...) assume a role."""
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": list(services)}, "Action": list(actions)}
    if condition is not None:
        statement["Condition"] = condition
    return policy_document([statement])


class ProviderMismatch(ArgsError):
    """The caller's aws.Provider deploys somewhere other than the component's options say."""


def _same(key: str, expected: str, actual: str | None, allowed: str) -> str:
    if actual and actual != expected:
        raise ProviderMismatch(f"{key}: {expected!r} is not allowed; allowed: {actual!r}, {allowed}")
    return expected


def caller_provider(component: pulumi.Resource) -> "aws.Provider | None":
    """The ``aws.Provider`` the caller gave the component (``opts.provider``, ``opts.providers``
    or inherited from a parent), or None."""
    provider = getattr(component, "_providers", {}).get("aws")
    return provider if isinstance(provider, aws.Provider) else None


@dataclass
class AwsContext:
    """One component's view of AWS: its provider, options and helpers for parented children.

    The provider is the caller's when one reaches the component (``opts.provider`` /
    ``opts.providers``, e.g. an assume-role provider into another account; Pulumi hands a
    component's providers to its children): then the component's ``aws.region`` and
    ``aws.account_id`` must describe where that provider deploys, and a mismatch fails the
    deployment with one line (names, ARNs and the kubeconfig carry the region). Without one, the
    component builds its own explicit provider for ``aws.region`` (never the ambient
    ``aws:region``), refusing any other account when ``aws.account_id`` is set.
    """

    component: pulumi.Resource
    name: str
    settings: Any
    provider: aws.Provider = field(init=False)
    #: True when :attr:`provider` is the caller's.
    from_caller: bool = field(init=False, default=False)
    #: The caller's provider once its region/account are checked (children depend on it).
    gate: pulumi.Output[Any] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        account = self.options["account_id"]
        caller = caller_provider(self.component)
        if caller is not None:
            self.provider, self.from_caller = caller, True
            self._check_caller(caller, account)
            return
        self.provider = aws.Provider(
            f"{self.name}-aws",
            aws.ProviderArgs(
                region=self.region,
                # Refuse to run against any other account when the stack names one.
                allowed_account_ids=[account] if account else None,
            ),
            opts=pulumi.ResourceOptions(parent=self.component),
        )

    def _check_caller(self, caller: aws.Provider, account: str) -> None:
        """The caller's provider must deploy where this component's options say it does: every
        child waits on :attr:`gate`, which fails (one line) on a region or account mismatch."""
        # The provider's configured region, else where its credentials' defaults point.
        region = pulumi.Output.all(caller.region, aws.get_region_output(opts=self.invoke_opts()).region).apply(
            lambda a: a[0] or a[1])
        checks = [region.apply(lambda actual: _same(
            "aws.region", self.region, actual, "the region of the aws.Provider passed in opts (or pass none)"))]
        if account:
            checks.append(self.account_id.apply(lambda actual: _same(
                "aws.account_id", account, actual, "the account the aws.Provider passed in opts deploys into "
                "(or pass none)")))
        self.gate = pulumi.Output.all(*checks).apply(lambda _: caller)

    # --- options and identity ------------------------------------------------------------
    @property
    def options(self) -> Mapping[str, Any]:
        return self.settings["aws"]  # resolved: every option present (components/spec.py)

    @property
    def region(self) -> str:
        return self.options["region"]

    @property
    def protect(self) -> bool:
        # Network has no generic protect_data argument; its aws options carry the flag instead.
        # (only the Network block declares it, so the other blocks do not have the key).
        return bool(self.settings.get("protect_data") or self.options.get("protect_data"))

    @property
    def tags(self) -> dict[str, str]:
        return dict(self.settings.tags)

    def tagged(self, name: str | None = None, **extra: str) -> dict[str, str]:
        """The standard tags, plus ``Name`` (what the EC2 console shows) and extras."""
        tags = {**self.tags, **extra}
        if name:
            tags["Name"] = name
        return tags

    @cached_property
    def _identity(self) -> pulumi.Output[Any]:
        return aws.get_caller_identity_output(opts=self.invoke_opts())

    @property
    def account_id(self) -> pulumi.Output[str]:
        return self._identity.account_id

    @cached_property
    def partition(self) -> pulumi.Output[str]:
        return aws.get_partition_output(opts=self.invoke_opts()).partition

    @property
    def partition_name(self) -> str:
        """The partition of this component's region, as plain text (for data that cannot wait for
        an Output): ``aws-cn`` for cn-*, ``aws-us-gov`` for us-gov-*, else ``aws``."""
        if self.region.startswith("cn-"):
            return "aws-cn"
        return "aws-us-gov" if self.region.startswith("us-gov-") else "aws"

    def arn(self, service: str, resource: str, region: bool = True) -> pulumi.Output[str]:
        """``arn:<partition>:<service>:<region>:<account>:<resource>``."""
        return pulumi.Output.all(self.partition, self.account_id).apply(
            lambda a: f"arn:{a[0]}:{service}:{self.region if region else ''}:{a[1]}:{resource}"
        )

    @property
    def account_root(self) -> pulumi.Output[str]:
        return pulumi.Output.all(self.partition, self.account_id).apply(lambda a: f"arn:{a[0]}:iam::{a[1]}:root")

    # --- names and options ----------------------------------------------------------------
    def cloud(self, kind: str, *parts: str) -> str:
        """A cloud name for this component's ``parts`` (see components/aws/names.py)."""
        return aws_name(kind, pulumi.get_project(), pulumi.get_stack(), self.name, *parts)

    def log_group_name(self, *parts: str) -> str:
        return log_group_name(pulumi.get_project(), pulumi.get_stack(), self.name, *parts)

    def opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a child: parented to the component, on this component's provider."""
        if self.gate is not None:
            given = kwargs.pop("depends_on", None)
            given = [] if given is None else list(given) if isinstance(given, (list, tuple)) else [given]
            kwargs["depends_on"] = [*given, self.gate]
        return pulumi.ResourceOptions(parent=self.component, provider=self.provider, **kwargs)

    def data_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for data stores and keys: protected and retained when ``protect_data``."""
        return self.opts(protect=self.protect, retain_on_delete=self.protect, **kwargs)

    def invoke_opts(self) -> pulumi.InvokeOptions:
        return pulumi.InvokeOptions(parent=self.component, provider=self.provider)

    def fail(self, key: str, value: Any, allowed: str) -> None:
        raise ArgsError(f"{key}: {value!r} is not allowed; allowed: {allowed}")

    # --- shared building blocks -------------------------------------------------------------
    def kms_key(self, role: str, description: str, service_statements: Sequence[Mapping[str, Any]] = ()) -> aws.kms.Key:
        """A customer-managed key with rotation on, protected with the data it encrypts."""
        statements: list[Any] = [
            # AWS's default key-policy statement: it delegates access to IAM policies in this
            # account, which is how every role below gets its (narrow) use of the key. In a key
            # policy "Resource": "*" means "this key" (KMS Developer Guide, "Default key policy").
            {
                "Sid": "EnableIamPolicies",
                "Effect": "Allow",
                "Principal": {"AWS": self.account_root},
                "Action": "kms:*",
                "Resource": "*",
            },
            *service_statements,
        ]
        key = aws.kms.Key(
            f"{self.name}-{role}-key",
            aws.kms.KeyArgs(
                description=description,
                enable_key_rotation=True,
                deletion_window_in_days=30 if self.protect else 7,
                policy=policy_document(statements),
                tags=self.tagged(),
            ),
            opts=self.data_opts(),
        )
        aws.kms.Alias(
            f"{self.name}-{role}-key-alias",
            aws.kms.AliasArgs(name=f"alias/{self.cloud('aws', role)}", target_key_id=key.key_id),
            opts=self.opts(),
        )
        return key

    def logs_service_statement(self, log_group_names: Sequence[str]) -> dict[str, Any]:
        """Key-policy statement letting CloudWatch Logs use the key for these log groups only."""
        contexts = [self.arn("logs", f"log-group:{name}") for name in log_group_names]
        return {
            "Sid": "CloudWatchLogs",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{self.region}.amazonaws.com"},
            "Action": list(KEY_USE_ACTIONS),
            # Key policy: "*" is this key; the condition pins it to our log groups.
            "Resource": "*",
            "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": contexts}},
        }

    def log_group(self, role: str, name: str, retention_days: int, key: aws.kms.Key) -> aws.cloudwatch.LogGroup:
        return aws.cloudwatch.LogGroup(
            f"{self.name}-{role}-logs",
            aws.cloudwatch.LogGroupArgs(
                name=name,
                retention_in_days=retention_days,
                kms_key_id=key.arn,
                tags=self.tagged(),
            ),
            opts=self.data_opts(),
        )

    def salted(self, kind: str, *parts: str) -> pulumi.Output[str]:
        """A globally unique name (S3 buckets): :meth:`cloud` salted with the account, so two
        accounts deploying the same project and stack never collide. The account is the
        stack's ``awsAccountId`` when set, else the caller's."""
        account = self.options["account_id"]
        salt = pulumi.Output.from_input(account) if account else self.account_id
        return salt.apply(lambda a: aws_name(kind, pulumi.get_project(), pulumi.get_stack(), self.name, *parts, salt=a))

    def role(self, role: str, trust: pulumi.Input[str], description: str) -> aws.iam.Role:
        return aws.iam.Role(
            f"{self.name}-{role}-role",
            aws.iam.RoleArgs(
                name=self.cloud("iam_role", role),
                description=description,
                assume_role_policy=trust,
                max_session_duration=3600,
                tags=self.tagged(),
            ),
            opts=self.opts(),
        )

    def role_policy(self, role_name: str, role: aws.iam.Role, statements: Sequence[Mapping[str, Any]],
                    **kwargs: Any) -> aws.iam.RolePolicy:
        return aws.iam.RolePolicy(
            f"{self.name}-{role_name}-policy",
            aws.iam.RolePolicyArgs(role=role.id, name=self.cloud("aws", role_name), policy=policy_document(statements)),
            opts=self.opts(**kwargs),
        )

    def managed_policy(self, role_name: str, role: aws.iam.Role, policy: str, path: str = "/") -> aws.iam.RolePolicyAttachment:
        """Attach an AWS-managed policy by name and path (never *FullAccess / admin ones).

        AWS publishes some managed policies under a path (``/service-role/`` for
        AmazonEBSCSIDriverPolicy): the ARN must carry it, or IAM answers NoSuchEntity.
        tests/components/aws/test_oracles.py checks every ARN against AWS's published list.
        """
        if not (path.startswith("/") and path.endswith("/")):
            raise ArgsError(f"managed policy path: {path!r} is not allowed; allowed: '/' or '/<path>/'")
        arn = self.partition.apply(lambda p: f"arn:{p}:iam::aws:policy{path}{policy}")
        return aws.iam.RolePolicyAttachment(
            f"{self.name}-{role_name}-{policy}",
            aws.iam.RolePolicyAttachmentArgs(role=role.name, policy_arn=arn),
            opts=self.opts(),
        )
