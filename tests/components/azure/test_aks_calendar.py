"""The AKS version a stack asks for is one AKS still creates clusters with, today.

The calendar (components/azure/aks_versions.py) is recorded from Microsoft's AKS release
calendar page, with its source; this test runs against today's date, so it starts failing the
day the default or a stack's pinned version passes end of life: the reminder to move on.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from components.azure import aks_versions
from tests.conftest import of_type

ROOT = Path(__file__).resolve().parents[3]
TODAY = dt.date.today()


def azure_stacks() -> list[str]:
    stacks = []
    for path in sorted(ROOT.glob("Pulumi.*.yaml")):
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
        if config.get("mlops-platform:target") == "azure":
            stacks.append(path.name.split(".")[1])
    return stacks


def test_the_default_aks_version_is_creatable_today():
    assert aks_versions.check(aks_versions.DEFAULT_VERSION, TODAY) == aks_versions.DEFAULT_VERSION
    # At least 60 days of runway, so a fresh `pulumi up` is not a race with end of life.
    assert (aks_versions.end_of_life(aks_versions.DEFAULT_VERSION) - TODAY).days >= 60


@pytest.mark.parametrize("stack", azure_stacks())
def test_every_azure_stack_creates_aks_with_a_supported_version(capture, stack):
    (cluster,) = of_type(capture(stack), "azure-native:containerservice:ManagedCluster")
    version = cluster["inputs"]["kubernetesVersion"]
    assert version in aks_versions.creatable(TODAY), (
        f"{stack}: AKS {version} is past end of life ({aks_versions.end_of_life(version) if version in aks_versions.CALENDAR else '?'}); "
        f"creatable today: {aks_versions.creatable(TODAY)}")


def test_there_is_an_azure_stack():
    assert "prod-azure" in azure_stacks()


def test_end_of_life_is_the_last_day_of_the_published_month_and_refused_after():
    assert aks_versions.end_of_life("1.33") == dt.date(2026, 7, 31)
    assert aks_versions.check("1.33", dt.date(2026, 7, 31)) == "1.33"
    with pytest.raises(ValueError, match=r"^kubernetesVersion: '1\.33' reached AKS end of life on 2026-07-31.*allowed on 2026-08-01: 1\.34, 1\.35, 1\.36$"):
        aks_versions.check("1.33", dt.date(2026, 8, 1))
    with pytest.raises(ValueError, match=r"^kubernetesVersion: '1\.29' is not in the AKS calendar"):
        aks_versions.check("1.29", TODAY)
    with pytest.raises(ValueError, match="is not GA on AKS before 2026-10-01"):
        aks_versions.check("1.37", dt.date(2026, 9, 1))


def test_the_calendar_is_ordered_and_each_version_lives_about_a_year():
    versions = list(aks_versions.CALENDAR)
    assert versions == sorted(versions, key=lambda v: int(v.split(".")[1]))
    for v in versions:
        life = (aks_versions.end_of_life(v) - aks_versions.ga_date(v)).days
        assert 300 <= life <= 430, (v, life)  # AKS: 12 months of support after GA
