"""Mergers (pipelines/framework/lineage.py): a successor's values before its effective year are the
unweighted mean of its predecessors' values, leaf by leaf; it is then scored normally
(docs/domain.md, "Mergers (DTI 2024)"), and a year can be scored in both groupings side by side.

Data of tests/test_rules.py: S3 and S4 merge into S34 from 2025
(tests/fixtures_rules/lineage/sonla-mini.csv).
"""

from __future__ import annotations

import polars as pl
import pytest
from scoring_fixtures import cell, values
from test_rules import DATA, FIXTURES, MINI, flagged_units, insert_observations

from pipelines.framework.lineage import (
    LineageError,
    load_lineage,
    pending_successors,
    score_groupings,
    successor_values,
)
from pipelines.framework.load import load_framework
from pipelines.framework.preset import load_preset
from pipelines.scoring.methods import MethodSpec

LINEAGE = FIXTURES / "lineage" / "sonla-mini.csv"


def lineage(*rows: tuple[str, str, int]) -> pl.DataFrame:
    return pl.DataFrame(
        [(p, s, y, None) for p, s, y in rows],
        schema={
            "predecessor_id": pl.String,
            "successor_id": pl.String,
            "effective_year": pl.Int32,
            "note": pl.String,
        },
        orient="row",
    )


def as_dict(frame: pl.DataFrame, unit: str) -> dict[str, float | None]:
    return {r["node_id"]: r["value"] for r in frame.filter(unit_id=unit).iter_rows(named=True)}


def mini_values(year: int = 2024) -> pl.DataFrame:
    return values(*[(u, year, n, v) for u, row in DATA.items() for n, v in row.items()])


# ---------------------------------------------------------------- the file


def test_load_lineage_fixture():
    frame = load_lineage(LINEAGE)
    assert frame.columns == ["predecessor_id", "successor_id", "effective_year", "note"]
    assert frame.rows() == [
        ("S3", "S34", 2025, "hợp nhất (thử nghiệm)"),
        ("S4", "S34", 2025, "hợp nhất (thử nghiệm)"),
    ]
    assert pending_successors(frame, 2024) == {"S34": ["S3", "S4"]}
    assert pending_successors(frame, 2025) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("predecessor_id,successor_id\nA,B\n", "missing columns"),
        ("predecessor_id,successor_id,effective_year\nA,B,2025\nA,B,2025\n", "duplicate pair A"),
        ("predecessor_id,successor_id,effective_year\nA,B,2025\nB,A,2026\n", "cycle"),
        ("predecessor_id,successor_id,effective_year\nA,,2025\n", "row 2: empty successor_id"),
    ],
)
def test_load_lineage_rejects_bad_files(tmp_path, text, message):
    path = tmp_path / "lineage.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LineageError, match=message) as info:
        load_lineage(path)
    assert str(path) in str(info.value)


# ---------------------------------------------------------------- derived values


def test_successor_values_are_the_unweighted_mean_per_leaf():
    derived = successor_values(mini_values(), load_lineage(LINEAGE), 2024)
    # S3: A 9, B 9, C 18, D 16, F 27;  S4: A 5, B 7, C 12, D 14, E 6
    assert as_dict(derived, "S34") == {
        "A": (9 + 5) / 2,
        "B": (9 + 7) / 2,
        "C": (18 + 12) / 2,
        "D": (16 + 14) / 2,
        "F": 27,  # only S3 reported F
        "E": 6,  # only S4 reported E
    }
    assert as_dict(derived, "S3") == DATA["S3"]  # predecessors keep their own values
    assert as_dict(derived, "S1") == DATA["S1"]


def test_no_derivation_from_the_effective_year_on():
    frame = mini_values(2025)
    assert successor_values(frame, load_lineage(LINEAGE), 2025).equals(frame)


def test_a_continuing_unit_counts_as_its_own_predecessor():
    vals = values(("K", "A", 10), ("X", "A", 20), ("K", "B", 4))
    derived = successor_values(vals, lineage(("X", "K", 2025)), 2024)
    # K existed in 2024 and absorbs X: A = (10 + 20) / 2; B = 4 (X reported no B)
    assert as_dict(derived, "K") == {"A": 15, "B": 4}
    listed = successor_values(vals, lineage(("X", "K", 2025), ("K", "K", 2025)), 2024)
    assert as_dict(listed, "K") == {"A": 15, "B": 4}


def test_chains_resolve_recursively():
    vals = values(("A1", "X", 10), ("A2", "X", 30), ("D", "X", 50))
    links = lineage(("A1", "B", 2025), ("A2", "B", 2025), ("B", "C", 2027), ("D", "C", 2027))
    derived = successor_values(vals, links, 2024)
    # B(2024) = (10 + 30) / 2 = 20; C(2024) = (B 20 + D 50) / 2 = 35
    assert as_dict(derived, "B") == {"X": 20}
    assert as_dict(derived, "C") == {"X": 35}
    later = values(("B", 2026, "X", 40), ("D", 2026, "X", 60))
    assert as_dict(successor_values(later, links, 2026), "C") == {"X": 50}


def test_a_leaf_nobody_reported_stays_missing():
    vals = values(("P", "A", 4), ("Q", "A", 8), ("Q", "B", None))
    derived = successor_values(vals, lineage(("P", "S", 2025), ("Q", "S", 2025)), 2024)
    assert as_dict(derived, "S") == {"A": 6, "B": None}


# ---------------------------------------------------------------- both groupings


def test_score_both_groupings_side_by_side():
    fw = load_framework(MINI)
    flags = {u: (True, True, False) for u in ("S1", "S2", "S3", "S4", "S34")}
    old = flagged_units({u: flags[u] for u in ("S1", "S2", "S3", "S4")})
    new = flagged_units({u: flags[u] for u in ("S1", "S2", "S34")})
    scores = score_groupings(
        mini_values(), fw, MethodSpec("points"), load_lineage(LINEAGE), 2024, old, new
    )
    before = scores.filter(grouping="predecessors")
    after = scores.filter(grouping="successors")
    assert set(before["unit_id"]) == {"S1", "S2", "S3", "S4"}
    assert set(after["unit_id"]) == {"S1", "S2", "S34"}
    # S34 scored from the means: A 7 + B 8 + C 15 + D 15 + E 6 + F 27 (not a mean of totals)
    assert cell(after, "S34", "DTI") == 7 + 8 + 15 + 15 + 6 + 27
    assert cell(after, "S34", "P2") == 15 + 15 + 6
    # own totals before: S3 9 + 9 + 18 + 16 + 0 + 27 = 79 (E missing → 0), S4 44 (F → 0)
    assert cell(before, "S3", "DTI") == 79
    assert cell(before, "S4", "DTI") == 5 + 7 + 12 + 14 + 6
    # ranks within each grouping: S34 78 first among 78, 70 (S1), 38 (S2)
    assert cell(after, "S34", "DTI", "rank") == 1
    assert cell(before, "S3", "DTI", "rank") == 1
    assert cell(before, "S1", "DTI", "rank") == 2
    assert cell(after, "S1", "DTI", "rank") == 2


def test_stage_stores_the_successor_grouping(tmp_path):
    from pipelines.evaluate.stages import compute_leaf_scores, compute_node_scores, compute_ranks
    from pipelines.store.reference import store_reference
    from pipelines.store.warehouse import connect

    preset = load_preset(FIXTURES / "presets" / "sonla-mini.yaml")
    con = connect(tmp_path / "w.duckdb")
    try:
        store_reference(con, preset, 2024)
        insert_observations(con, 2024, DATA)
        compute_leaf_scores(con, preset, 2024, allow_blocked=True)
        compute_node_scores(con, preset, 2024)
        compute_ranks(con, preset, 2024)
        rows = con.execute(
            "SELECT unit_id, after_year, grouping, points, rank FROM lineage_scores "
            "WHERE year = 2024 AND method = 'points' AND node_id = 'DTI' ORDER BY unit_id"
        ).fetchall()
        # the units of 2025: S1, S2 (rules: B best 9 → see test_rules), S34 (78, nothing missing)
        assert [r[0] for r in rows] == ["S1", "S2", "S34"]
        assert {r[1] for r in rows} == {2025} and {r[2] for r in rows} == {"successors"}
        s34 = next(r for r in rows if r[0] == "S34")
        assert s34[3] == pytest.approx(78, abs=1e-9)
        assert s34[4] == 1
        # the year's own grouping is untouched: S3 and S4 are in node_scores, S34 is not
        own = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT unit_id FROM node_scores WHERE year = 2024"
            ).fetchall()
        }
        assert own == {"S1", "S2", "S3", "S4"}
        # a year without a later merger writes nothing (and clears what was there)
        insert_observations(con, 2025, {"S1": DATA["S1"]})
        compute_leaf_scores(con, preset, 2025, allow_blocked=True)
        compute_node_scores(con, preset, 2025)
        compute_ranks(con, preset, 2025)
        count = con.execute("SELECT count(*) FROM lineage_scores WHERE year = 2025").fetchone()
        assert count[0] == 0
    finally:
        con.close()


def test_successor_grouping_counts_the_appraisers_points(tmp_path):
    """The lineage scores follow the same recipe as the year's own: the appraiser's points of
    a unit scored on its own values replace the rubric's there too; those of a predecessor
    (S3) do not reach its successor, whose values are the predecessors' mean."""
    from pipelines.evaluate.stages import compute_leaf_scores, compute_node_scores, compute_ranks
    from pipelines.store.reference import store_reference
    from pipelines.store.warehouse import connect

    preset = load_preset(FIXTURES / "presets" / "sonla-mini.yaml")
    con = connect(tmp_path / "w.duckdb")
    try:
        store_reference(con, preset, 2024)
        insert_observations(con, 2024, DATA)
        con.execute(
            "UPDATE observations SET appraised_points = 3, points_reason = 'thẩm định' "
            "WHERE year = 2024 AND unit_id IN ('S1', 'S3') AND indicator_id = 'A'"
        )
        compute_leaf_scores(con, preset, 2024, allow_blocked=True)
        compute_node_scores(con, preset, 2024)
        compute_ranks(con, preset, 2024)

        def points(table: str, unit: str, node: str) -> float:
            return con.execute(
                f"SELECT points FROM {table} WHERE year = 2024 AND method = 'points' "
                "AND unit_id = ? AND node_id = ?",
                [unit, node],
            ).fetchone()[0]

        assert points("lineage_scores", "S1", "A") == 3  # the appraiser's, not the rubric's 8
        assert points("node_scores", "S1", "A") == 3
        assert points("lineage_scores", "S1", "DTI") == pytest.approx(
            points("node_scores", "S1", "DTI")
        )
        # S34's A: the mean of S3's 9 and S4's 5 by the rubric, not S3's appraised 3
        assert points("lineage_scores", "S34", "A") == pytest.approx(7)
    finally:
        con.close()
