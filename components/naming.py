"""Cloud-valid resource names: length, character set and a stable hash suffix.

Names derive from ``(project, stack, component name, role)`` only, so they are the same on every
run (no random suffix) and two stacks never collide on a globally unique name (S3 buckets,
storage accounts, Key Vaults, ACRs, SageMaker/AML endpoints).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass


def stable_suffix(*parts: str, length: int = 6) -> str:
    """A lowercase hex digest of ``parts``; stable across runs and machines."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return digest[:length]


@dataclass(frozen=True)
class NameRule:
    """One service's naming rule."""

    max_length: int
    min_length: int = 1
    lowercase: bool = True
    allowed: str = r"a-z0-9-"  # characters kept (regex class body); everything else becomes sep
    separator: str = "-"
    must_start_with_letter: bool = False


RULES: dict[str, NameRule] = {
    # Kubernetes object names (DNS-1123 label, e.g. Services).
    "k8s": NameRule(max_length=63),
    # S3: 3-63, lowercase letters, digits, hyphens (dots avoided: they break TLS virtual hosting).
    "s3": NameRule(max_length=63, min_length=3),
    # IAM role names: 64; we keep the DNS-ish subset.
    "iam_role": NameRule(max_length=64),
    # ECR: (?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*, up to 256.
    "ecr": NameRule(max_length=256, min_length=2),
    # SageMaker endpoint/model/config: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
    "sagemaker": NameRule(max_length=63),
    # EKS cluster names: ^[0-9A-Za-z][A-Za-z0-9-_]*, up to 100.
    "eks": NameRule(max_length=100),
    # `name_prefix` inputs (EKS node groups, SageMaker endpoint configurations): the provider
    # appends a 26-character unique id, and those names allow 63 characters in all.
    "aws_prefix": NameRule(max_length=36),
    # CloudWatch log groups: [.-_/#A-Za-z0-9], up to 512 (we keep lowercase, '/', '-', '_').
    "log_group": NameRule(max_length=512, allowed=r"a-z0-9/_-"),
    # Other AWS names (SNS topics, CloudWatch alarms and dashboards, security groups, launch
    # templates, KMS alias suffixes, IAM inline policies): 64 fits every one of those limits.
    "aws": NameRule(max_length=64),
    # Azure storage account: 3-24 lowercase alphanumerics, globally unique.
    "azure_storage": NameRule(max_length=24, min_length=3, allowed=r"a-z0-9", separator=""),
    # Key Vault: 3-24, alphanumerics and hyphens, start with a letter, no consecutive hyphens.
    "azure_keyvault": NameRule(max_length=24, min_length=3, must_start_with_letter=True),
    # ACR: 5-50 alphanumerics, globally unique.
    "azure_acr": NameRule(max_length=50, min_length=5, allowed=r"a-z0-9", separator=""),
    # AML online endpoint: 3-32, letter first, alphanumerics and hyphens, unique per region.
    "azure_ml_endpoint": NameRule(max_length=32, min_length=3, must_start_with_letter=True),
    # Azure resource group: 1-90; we keep lowercase alphanumerics and hyphens.
    "azure_resource_group": NameRule(max_length=90, min_length=1),
    # Other ARM names (VNet, subnet, NSG, private endpoint, AKS, identity, App Insights, alerts):
    # the strictest common subset is AKS's 1-63 alphanumerics, '-' and '_'; we use [a-z0-9-].
    "azure_resource": NameRule(max_length=63, min_length=2, must_start_with_letter=True),
    # AKS DNS prefix: 1-54, alphanumerics and hyphens, starting with a letter.
    "azure_dns_prefix": NameRule(max_length=54, min_length=1, must_start_with_letter=True),
    # Log Analytics workspace: 4-63, alphanumerics and hyphens, alphanumeric at both ends.
    "azure_log_analytics": NameRule(max_length=63, min_length=4, must_start_with_letter=True),
    # AML workspace: 3-33, alphanumerics, '-' and '_', alphanumeric first.
    "azure_ml_workspace": NameRule(max_length=33, min_length=3, must_start_with_letter=True),
    # AML compute: 2-16, letters, digits and hyphens, letter first, unique per region.
    "azure_ml_compute": NameRule(max_length=16, min_length=2, must_start_with_letter=True),
    # Action group short name: at most 12 characters (shown in SMS/e-mail).
    "azure_action_group_short": NameRule(max_length=12, min_length=1, must_start_with_letter=True),
}


def cloud_name(kind: str, *parts: str, unique: tuple[str, ...] = (), suffix_length: int = 6) -> str:
    """Build a name for ``kind`` (a key of :data:`RULES`) from ``parts``.

    ``unique`` adds a stable hash suffix over those values (typically project and stack) so
    globally unique names do not collide between stacks; the readable prefix is truncated to
    make room for it, never the suffix.
    """
    rule = RULES[kind]
    sep = rule.separator
    raw = sep.join(p for p in parts if p)
    if rule.lowercase:
        raw = raw.lower()
    cleaned = re.sub(rf"[^{rule.allowed}]+", sep, raw)
    if sep:
        cleaned = re.sub(rf"{re.escape(sep)}{{2,}}", sep, cleaned).strip(sep)
    suffix = stable_suffix(*unique, *parts, length=suffix_length) if unique else ""
    room = rule.max_length - (len(suffix) + len(sep) if suffix else 0)
    prefix = cleaned[:room].rstrip(sep) if sep else cleaned[:room]
    if rule.must_start_with_letter and not (prefix[:1].isalpha()):
        prefix = ("m" + prefix)[:room].rstrip(sep) if sep else ("m" + prefix)[:room]
    name = f"{prefix}{sep}{suffix}" if (suffix and prefix) else (prefix or suffix)
    if len(name) < rule.min_length:
        name = (name + sep + stable_suffix(raw or kind, length=rule.min_length)) if sep else name + stable_suffix(raw or kind, length=rule.min_length)
        name = name[: rule.max_length]
    return name


def k8s_name(*parts: str) -> str:
    """A DNS-1123 label (Kubernetes object names)."""
    return cloud_name("k8s", *parts)
