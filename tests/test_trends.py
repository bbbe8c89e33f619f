"""Trends (pipelines/analysis/trends.py): year-over-year changes, compound annual growth,
framework-change
and gap warnings, mergers through the lineage — hand-made series and the tiny warehouse."""

from __future__ import annotations

import polars as pl
import pytest
from analysis_support import ASEM, TINY, analysis_warehouse

from pipelines.analysis.trend_series import series_from_warehouse
from pipelines.analysis.trends import cagr, trends


def test_compound_annual_growth_by_hand():
    assert cagr(0.5, 0.72, 2) == pytest.approx(0.2)  # √(0.72 / 0.5) − 1 = √1.44 − 1
    assert cagr(0.8, 0.4, 1) == pytest.approx(-0.5)
    assert cagr(0.0, 0.5, 3) is None and cagr(0.5, 0.6, 0) is None and cagr(None, 1, 1) is None


def _row(year, unit, ratio, rank, node="DTI", node_level="index", level="province", group="g"):
    return {
        "year": year,
        "level": level,
        "group_id": group,
        "unit_id": unit,
        "node_id": node,
        "node_level": node_level,
        "points": ratio * 1000,
        "max_points": 1000.0,
        "ratio": ratio,
        "rank": rank,
    }


def _versions(hashes: dict[int, str], level="province"):
    return pl.DataFrame(
        {
            "year": list(hashes),
            "level": [level] * len(hashes),
            "framework_id": [f"fw-{h}" for h in hashes.values()],
            "framework_version": [f"v{h}" for h in hashes.values()],
            "framework_hash": list(hashes.values()),
        }
    )


def test_changes_growth_and_warnings_by_hand():
    series = pl.DataFrame(
        [
            _row(2021, "A", 0.50, 2),
            _row(2021, "B", 0.60, 1),
            _row(2022, "A", 0.60, 1),
            _row(2022, "B", 0.55, 2),
            _row(2024, "A", 0.72, 1),  # no 2023: a gap
            _row(2024, "B", 0.50, 2),
            _row(2022, "A", 0.40, 2, node="P1", node_level="pillar"),
            _row(2022, "B", 0.70, 1, node="P1", node_level="pillar"),
            _row(2024, "A", 0.50, 1, node="P1", node_level="pillar"),
            _row(2024, "B", 0.45, 2, node="P1", node_level="pillar"),
        ]
    )
    result = trends(series, _versions({2021: "h1", 2022: "h1", 2024: "h2"}))
    a = {
        (r["year_to"], r["node_id"]): r
        for r in result.changes.filter(pl.col("unit_id") == "A").iter_rows(named=True)
    }
    assert a[(2022, "DTI")]["ratio_change"] == pytest.approx(0.10)
    assert a[(2022, "DTI")]["rank_change"] == 1  # 2nd → 1st: moved up
    assert not a[(2022, "DTI")]["framework_changed"]
    assert a[(2024, "DTI")]["year_from"] == 2022 and a[(2024, "DTI")]["framework_changed"]
    assert a[(2024, "P1")]["ratio_change"] == pytest.approx(0.10)
    assert a[(2022, "P1")]["ratio_before"] is None  # no pillar row in 2021
    kinds = result.warnings.select("kind", "year_from", "year_to").rows()
    assert ("framework_changed", 2022, 2024) in kinds and ("gap", 2022, 2024) in kinds
    assert "fw-h1 (vh1) in 2022 but fw-h2 (vh2) in 2024" in " ".join(result.warnings["message"])
    growth = result.growth.filter((pl.col("unit_id") == "A") & (pl.col("node_id") == "DTI"))
    row = growth.row(0, named=True)
    assert (row["first_year"], row["last_year"], row["n_years"]) == (2021, 2024, 3)
    assert row["cagr"] == pytest.approx((0.72 / 0.50) ** (1 / 3) - 1)
    assert row["framework_changed"]


def test_a_merged_unit_is_followed_through_the_lineage():
    # P1 and P2 merge into S in 2025; S's 2024 score is the successor grouping's
    series = pl.DataFrame(
        [
            _row(2024, "P1", 0.40, 2),
            _row(2024, "P2", 0.60, 1),
            _row(2024, "Q", 0.30, 3),
            _row(2025, "S", 0.55, 1),
            _row(2025, "Q", 0.35, 2),
        ]
    )
    successors = pl.DataFrame([_row(2024, "S", 0.50, 1), _row(2024, "Q", 0.30, 2)])
    lineage = pl.DataFrame(
        {
            "predecessor_id": ["P1", "P2"],
            "successor_id": ["S", "S"],
            "effective_year": [2025, 2025],
            "note": ["", ""],
        }
    )
    result = trends(series, _versions({2024: "h", 2025: "h"}), successors, lineage)
    s = result.changes.filter(pl.col("unit_id") == "S").row(0, named=True)
    assert s["via_lineage"] and s["ratio_before"] == 0.50
    assert s["ratio_change"] == pytest.approx(0.05)
    q = result.changes.filter(pl.col("unit_id") == "Q").row(0, named=True)
    assert not q["via_lineage"] and q["ratio_before"] == 0.30  # its own 2024 row wins
    merged = result.warnings.filter(pl.col("kind") == "merged")["message"].to_list()
    assert merged == ["P1 (2024) merged into S in 2025", "P2 (2024) merged into S in 2025"]
    growth = result.growth.filter(pl.col("unit_id") == "S").row(0, named=True)
    assert growth["via_lineage"] and growth["first_year"] == 2024


def test_trends_from_the_warehouse_snapshots(tmp_path_factory):
    warehouse = analysis_warehouse(tmp_path_factory)
    series, versions, successors, lineage = series_from_warehouse(warehouse=warehouse, preset=TINY)
    assert sorted(series["year"].unique().to_list()) == [2023, 2024]
    result = trends(series, versions, successors, lineage)
    totals = result.changes.filter(pl.col("node_level") == "index")
    assert set(totals["level"]) == {"department", "commune"}
    assert totals.height == 4 + 5 and result.warnings.is_empty()
    # the change is exactly the difference of the two snapshots' ratios
    row = totals.row(0, named=True)
    before = series.filter(
        (pl.col("year") == 2023)
        & (pl.col("unit_id") == row["unit_id"])
        & (pl.col("node_level") == "index")
    )["ratio"][0]
    assert row["ratio_change"] == pytest.approx(row["ratio"] - before)


def test_asem_panel_trends():
    from pipelines.analysis.trend_series import series_from_files

    series, versions = series_from_files(ASEM / "iMeta.csv", ASEM / "D_panel_raw_iData.csv")
    result = trends(series, versions)
    assert sorted(series["year"].unique().to_list()) == [2018, 2019, 2020, 2021, 2022]
    index = result.growth.filter(pl.col("node_level") == "index")
    assert index.height == 51 and (index["n_years"] == 5).all()
    assert result.warnings.is_empty()
