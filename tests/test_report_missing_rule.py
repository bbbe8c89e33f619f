"""The report says how a component without a value was scored by the snapshot's own missing-data
rule, never "0 points" for a snapshot scored with ``exclude`` or ``mean``."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.report.contents import LevelData

TEMPLATES = Path(__file__).parents[1] / "pipelines" / "report" / "templates"


def _level(params: dict) -> LevelData:
    empty = dict.fromkeys(
        [
            "framework",
            "totals",
            "pillars",
            "components",
            "pillar_nodes",
            "component_nodes",
            "methods",
            "uncertainty",
            "adjustments",
            "flagged_units",
            "override",
        ]
    )
    return LevelData(
        level="commune", label="Cấp xã", snapshot={}, params=params, groups=[],
        method_snapshots={}, **empty,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"missing": "zero"}, "không có số liệu báo cáo → 0 điểm"),
        ({"missing": "exclude"}, "không có số liệu → loại khỏi tính toán, tái phân bổ trọng số"),
        ({"missing": "mean"}, "không có số liệu → điểm trung bình nhóm"),
        ({}, "không có số liệu báo cáo → 0 điểm"),
    ],
)
def test_the_missing_rule_is_the_snapshots(params: dict, expected: str) -> None:
    assert _level(params).missing_rule_name == expected


@pytest.mark.parametrize("template", ["unit.html", "year.html"])
def test_pages_do_not_state_zero_points_whatever_the_rule(template: str) -> None:
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    assert "0 điểm" not in text
    assert "missing_rule" in text
