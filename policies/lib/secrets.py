"""Telling a secret passed as a plain environment value from ordinary configuration."""

from __future__ import annotations

import re

#: Variable names that carry credentials (``MLFLOW_TRACKING_PASSWORD``, ``AWS_SECRET_ACCESS_KEY``,
#: ``DB_PASSWORD``, ``API_TOKEN``, ``HF_TOKEN``...).
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|CONN(ECTION)?_?STRING)",
                         re.I)
#: Names that merely point at a secret or describe one (a path, a file, an ARN, a reference).
REFERENCE_NAME = re.compile(r"(_FILE|_PATH|_ARN|_ID|_NAME|_URI|_REF|_ENV|_HEADER|_AUDIENCE|_TTL)$", re.I)
#: Values that are references rather than secrets (ARNs, secret-manager and vault references).
REFERENCE_VALUE = re.compile(r"^(arn:|\{\{resolve:|@Microsoft\.KeyVault|secretsmanager:|/|file:)", re.I)


def looks_like_secret(name: str, value: object) -> bool:
    if not isinstance(value, str) or not value:
        return False
    if not SECRET_NAME.search(name) or REFERENCE_NAME.search(name):
        return False
    return not REFERENCE_VALUE.match(value)
