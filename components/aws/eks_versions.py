"""The Amazon EKS Kubernetes release calendar: which versions are in standard support when.

Source: Amazon EKS User Guide, "Understand the Kubernetes version lifecycle on EKS", section
"Amazon EKS Kubernetes release calendar"
(https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html), read 2026-12-01.
Standard support lasts 14 months from the EKS release, extended support 12 more. The cluster
runs with ``upgrade_policy.support_type = STANDARD``: at the end of standard support EKS
upgrades it by itself, and a stack still pinning the old version would plan a downgrade, so
the Cluster backend refuses a version whose standard support has ended (one line naming the
key). Add each new row when EKS publishes it; tests/components/aws/test_oracles.py fails when
the prod stack's version leaves standard support.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

SOURCE = "Amazon EKS User Guide, Kubernetes version lifecycle, release calendar (read 2026-12-01)"


@dataclass(frozen=True)
class Release:
    released: dt.date
    end_of_standard: dt.date
    end_of_extended: dt.date


CALENDAR: dict[str, Release] = {
    "1.29": Release(dt.date(2024, 1, 23), dt.date(2025, 3, 23), dt.date(2026, 3, 23)),
    "1.30": Release(dt.date(2024, 5, 23), dt.date(2025, 7, 23), dt.date(2026, 7, 23)),
    "1.31": Release(dt.date(2024, 9, 26), dt.date(2025, 11, 26), dt.date(2026, 11, 26)),
    "1.32": Release(dt.date(2025, 1, 23), dt.date(2026, 3, 23), dt.date(2027, 3, 23)),
    "1.33": Release(dt.date(2025, 5, 29), dt.date(2026, 7, 29), dt.date(2027, 7, 29)),
    "1.34": Release(dt.date(2025, 10, 2), dt.date(2026, 12, 2), dt.date(2027, 12, 2)),
    "1.35": Release(dt.date(2026, 1, 27), dt.date(2027, 3, 27), dt.date(2028, 3, 27)),
}

#: What Pulumi.prod.yaml pins: the newest version of the calendar (most standard support left).
DEFAULT_VERSION = max(CALENDAR, key=lambda v: tuple(int(p) for p in v.split(".")))


def in_standard_support(version: str, today: dt.date) -> bool:
    """True while ``version`` is in EKS standard support on ``today``; a version newer than the
    calendar knows is assumed to be (EKS only offers versions it supports)."""
    row = CALENDAR.get(version)
    if row is None:
        newest = tuple(int(p) for p in DEFAULT_VERSION.split("."))
        return tuple(int(p) for p in version.split(".")) > newest
    return today < row.end_of_standard
