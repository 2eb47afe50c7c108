"""The coverage table in policies/README.md: one row per rule of the pack, and every id it names
for checkov, Kyverno, AWSGuard and pulumi/compliance-policies exists in the id lists read from
those projects' sources (policies/data/anchor_rule_ids.json, each with its source and commit)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policies.lib.data import DATA_DIR, load
from policies.registry import REGISTRY

README = Path(__file__).resolve().parents[2] / "policies" / "README.md"
ANCHORS = DATA_DIR / "anchor_rule_ids.json"
COLUMNS = ("checkov", "kyverno", "awsguard", "compliance-policies")
NONE = "none: ours only"


def table(text: str) -> dict[str, dict[str, list[str]]]:
    """``{rule: {project: [ids]}}`` from the README's coverage table (notes in brackets dropped)."""
    section = text.split("## Coverage against other packs", 1)[1]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 1 + len(COLUMNS) or not cells[0].startswith("`"):
            continue
        rule = cells[0].strip("`")
        rows[rule] = {}
        for project, cell in zip(COLUMNS, cells[1:]):
            if cell == NONE:
                rows[rule][project] = []
                continue
            ids = [part.strip() for part in re.sub(r"\([^)]*\)", "", cell).split(",")]
            rows[rule][project] = ids
    return rows


def unknown_ids(rows, anchors) -> list[tuple[str, str, str]]:
    return [(rule, project, i) for rule, cells in rows.items() for project, ids in cells.items()
            for i in ids if i not in anchors[project]["ids"]]


def test_every_anchor_list_records_its_source():
    anchors = load(ANCHORS)
    for project in ("checkov", "kyverno", "compliance-policies"):
        source = anchors[project]["source"]
        assert source["repository"].startswith("github.com/") and re.fullmatch(r"[0-9a-f]{40}", source["commit"])
    assert anchors["awsguard"]["source"]["package"].startswith("@pulumi/awsguard")
    assert re.fullmatch(r"[0-9a-f]{64}", anchors["awsguard"]["source"]["tarball_sha256"])
    # whole lists, not the ids the table happens to use
    assert len(anchors["checkov"]["ids"]) > 700 and len(anchors["kyverno"]["ids"]) > 500
    assert len(anchors["compliance-policies"]["ids"]) > 400 and len(anchors["awsguard"]["ids"]) == 26


def test_the_table_has_one_row_per_rule():
    rows = table(README.read_text(encoding="utf-8"))
    assert sorted(rows) == sorted(p.name for p in REGISTRY)


def test_every_id_in_the_table_exists_in_its_project():
    rows = table(README.read_text(encoding="utf-8"))
    assert unknown_ids(rows, load(ANCHORS)) == []
    # every cell says something: ids or the explicit "none: ours only"
    assert all(project in cells for cells in rows.values() for project in COLUMNS)


@pytest.mark.parametrize("cell, project", [
    ("CKV_AWS_9999", "checkov"),                       # no such check
    ("CKV_K8S_49 (wildcards), CKV_K8S_490", "checkov"),  # one bad id among good ones
    ("pod-security/baseline/disallow-host-pathz", "kyverno"),
    ("s3-bucket-encrypted", "awsguard"),               # not in @pulumi/awsguard 0.3.1
    ("aws-s3-bucket-disallow-public-write", "compliance-policies"),
])
def test_a_made_up_id_is_reported(cell, project):
    cells = {p: NONE for p in COLUMNS} | {project: cell}
    text = ("## Coverage against other packs\n\n| rule | a | b | c | d |\n|---|---|---|---|---|\n"
            f"| `some-rule` | {cells['checkov']} | {cells['kyverno']} | {cells['awsguard']} | {cells['compliance-policies']} |\n")
    assert len(unknown_ids(table(text), load(ANCHORS))) == 1


def test_ids_read_as_the_projects_spell_them():
    anchors = load(ANCHORS)
    # spot checks against the projects' own names for the check (independent of our table)
    assert "SageMaker Notebook Instance" in anchors["checkov"]["ids"]["CKV_AWS_122"]
    assert "control plane logging" in anchors["checkov"]["ids"]["CKV_AWS_37"]
    assert anchors["kyverno"]["ids"]["pod-security/baseline/disallow-host-path"] == "ClusterPolicy"
    assert "aws-kms-key-enable-key-rotation" in anchors["compliance-policies"]["ids"]
    assert anchors["awsguard"]["ids"]["cmk-backing-key-rotation-enabled"] == "security.js"
