"""The AKS Kubernetes release calendar, recorded from Microsoft's page, and the check that a
new cluster asks for a version AKS still creates.

Source: "Supported Kubernetes versions in Azure Kubernetes Service (AKS)", section "AKS
Kubernetes release calendar", learn.microsoft.com/azure/aks/supported-kubernetes-versions
(page dated 2026-08-05, read 2026-12-01). Months are as published; the page says an end of life
given as a month is the last day of that month. After end of life a version is in *platform
support* (N-3) until a later version's GA, and platform support does **not** include cluster
creation; LTS (Premium tier + ``AKSLongTermSupport`` plan) is not used by this platform.

Update this table when the page changes (and re-run tests/components/azure/test_aks_calendar.py);
``az aks get-versions --location <region> -o table`` is the live answer for a subscription.
"""

from __future__ import annotations

import calendar
import datetime as dt

SOURCE = "https://learn.microsoft.com/azure/aks/supported-kubernetes-versions"

#: minor version -> (AKS GA month, end-of-life month), (year, month).
CALENDAR: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "1.32": ((2025, 4), (2026, 3)),
    "1.33": ((2025, 6), (2026, 7)),
    "1.34": ((2025, 11), (2026, 11)),
    "1.35": ((2026, 3), (2027, 3)),
    "1.36": ((2026, 6), (2027, 6)),
    "1.37": ((2026, 10), (2027, 10)),
}

#: What the azure Cluster asks for when a stack does not say (stack key ``kubernetesVersion``):
#: the newest version GA in every region for a while, with the longest runway before end of life.
DEFAULT_VERSION = "1.36"


def ga_date(version: str) -> dt.date:
    year, month = CALENDAR[version][0]
    return dt.date(year, month, 1)


def end_of_life(version: str) -> dt.date:
    year, month = CALENDAR[version][1]
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def creatable(on: dt.date) -> list[str]:
    """Versions AKS creates new Standard/Free-tier clusters with on ``on`` (GA and not past EOL)."""
    return [v for v in CALENDAR if ga_date(v) <= on <= end_of_life(v)]


def check(version: str, on: dt.date | None = None) -> str:
    """``version`` if AKS still creates clusters with it on ``on`` (default today), else one
    clear error naming the key and the allowed values."""
    on = on or dt.date.today()
    allowed = ", ".join(creatable(on)) or "none recorded: update components/azure/aks_versions.py"
    if version not in CALENDAR:
        raise ValueError(f"kubernetesVersion: {version!r} is not in the AKS calendar ({SOURCE}); allowed on {on}: {allowed}")
    if on > end_of_life(version):
        raise ValueError(
            f"kubernetesVersion: {version!r} reached AKS end of life on {end_of_life(version)} and AKS no longer "
            f"creates clusters with it; allowed on {on}: {allowed}"
        )
    if on < ga_date(version):
        raise ValueError(f"kubernetesVersion: {version!r} is not GA on AKS before {ga_date(version)}; allowed on {on}: {allowed}")
    return version
