"""AWS resource names: components/naming.py's rules plus the few AWS quirks they do not cover.

Every name the aws backends give AWS comes from :func:`aws_name`, so the property tests in
tests/components/aws/test_names.py cover all of them by enumerating :data:`KINDS`.
"""

from __future__ import annotations

from ..naming import cloud_name, stable_suffix

#: Prefixes and suffixes S3 refuses (Amazon S3 User Guide, "General purpose bucket naming rules").
S3_FORBIDDEN_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
S3_FORBIDDEN_SUFFIXES = ("-s3alias", "--ol-s3", "--x-s3", "--table-s3")

#: The naming.py rule kinds the aws backends use.
KINDS = ("s3", "iam_role", "ecr", "sagemaker", "eks", "aws_prefix", "log_group", "aws")


def aws_name(kind: str, project: str, stack: str, *parts: str, salt: str = "") -> str:
    """A name for ``kind`` from the stack and ``parts``, unique per (project, stack[, salt]).

    The readable part is ``<stack>-<parts...>``; the hash suffix covers the project too, so two
    projects' ``prod`` stacks never collide. Globally unique names (S3 buckets) pass the account
    as ``salt``: two adopters deploying ``mlops-platform``/``prod`` in their own accounts must not
    collide either (``BucketAlreadyExists``).
    """
    unique = (project, stack, salt) if salt else (project, stack)
    name = cloud_name(kind, stack, *parts, unique=unique)
    if kind == "s3" and name.startswith(S3_FORBIDDEN_PREFIXES):
        name = cloud_name(kind, "b", stack, *parts, unique=unique)
    if kind == "s3" and name.endswith(S3_FORBIDDEN_SUFFIXES):  # pragma: no cover - hash suffix
        name = f"{name[:56]}-{stable_suffix(name)}"
    return name


def log_group_name(project: str, stack: str, *parts: str) -> str:
    """``/mlops/<stack>/<parts>-<hash>``: one tree per stack in the CloudWatch console."""
    return "/mlops/" + aws_name("log_group", project, stack, *parts)
