"""Values given at any node of the framework (docs/analysis.md, "Values at any node").

A non-leaf node's value is an index 0–1 (points ÷ maximum, as the Ministry publishes main
indices); its points are value × maximum and replace what the leaves below would give. Every
expected number below is computed by hand in the comments.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scoring_fixtures import build, cell, leaf, node, units, values

from pipelines.analysis.datafiles import DataFileError, read_observations
from pipelines.scoring.engine import score
from pipelines.scoring.given_nodes import split_given
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.tree import aggregate, build_tree

# DTI (100) → G1 (60) → P1 (A 10, B 20), P2 (C 30); G2 (40) → P3 (D 40).
# Views: V1 = G1 ÷ 60; V2 = (P2 + P3) ÷ 70. Composite K = 0.5 × V1 + 0.5 × V2.
TREE = build(
    node("G1", node("P1", leaf("A", 10), leaf("B", 20)), node("P2", leaf("C", 30)),
         node_type="group"),
    node("G2", node("P3", leaf("D", 40)), node_type="group"),
    views=[{"id": "V1", "name": "Góc nhìn 1", "over": ["G1"], "divisor": 60},
           {"id": "V2", "name": "Góc nhìn 2", "over": ["P2", "P3"], "divisor": 70}],
    composites=[{"id": "K", "name": "Tổng hợp", "weights": {"V1": 0.5, "V2": 0.5}}],
)  # fmt: skip

# U1 gives leaves: A 5, B 10, C 15, D 20.
# U2 gives P1 = 0.5 (→ 0.5 × 30 = 15 points) and the leaves C 30, D 40.
# U3 gives G1 = 0.8 (→ 48 points) and P3 = 0.25 (→ 10 points).
MIXED = values(
    ("U1", "A", 5), ("U1", "B", 10), ("U1", "C", 15), ("U1", "D", 20),
    ("U2", "P1", 0.5), ("U2", "C", 30), ("U2", "D", 40),
    ("U3", "G1", 0.8), ("U3", "P3", 0.25),
)  # fmt: skip
EXPECTED_POINTS = {
    # U1: P1 = 5 + 10, P2 = 15, G1 = 30, P3 = G2 = 20, total 50
    "U1": {"DTI": 50, "G1": 30, "P1": 15, "A": 5, "B": 10, "P2": 15, "C": 15, "G2": 20,
           "P3": 20, "D": 20},
    # U2: P1 given 15, P2 = 30, G1 = 45, G2 = 40, total 85; A, B not scored
    "U2": {"DTI": 85, "G1": 45, "P1": 15, "A": None, "B": None, "P2": 30, "C": 30, "G2": 40,
           "P3": 40, "D": 40},
    # U3: G1 given 48, P3 given 10 → G2 = 10, total 58; P1, P2 and their leaves, D not scored
    "U3": {"DTI": 58, "G1": 48, "P1": None, "A": None, "B": None, "P2": None, "C": None,
           "G2": 10, "P3": 10, "D": None},
}  # fmt: skip


@pytest.fixture(scope="module")
def mixed_scores() -> pl.DataFrame:
    return score(MIXED, units("U1", "U2", "U3"), TREE, MethodSpec("points"))


@pytest.mark.parametrize("unit", ["U1", "U2", "U3"])
def test_points_by_hand(mixed_scores, unit):
    for node_id, expected in EXPECTED_POINTS[unit].items():
        got = cell(mixed_scores, unit, node_id)
        if expected is None:
            assert got is None, (unit, node_id, got)
            assert cell(mixed_scores, unit, node_id, "ratio") is None
            assert cell(mixed_scores, unit, node_id, "rank") is None
        else:
            assert got == pytest.approx(expected, abs=1e-12), (unit, node_id)


def test_leaves_below_a_given_node_are_not_missing(mixed_scores):
    assert cell(mixed_scores, "U2", "DTI", "n_missing") == 0
    assert cell(mixed_scores, "U3", "DTI", "n_missing") == 0
    assert cell(mixed_scores, "U2", "P1", "rule_applied") == "given: 0.5 × 30 = 15 points"
    assert cell(mixed_scores, "U3", "C", "rule_applied").startswith("not scored")
    # the ranks of the total: 85 > 58 > 50
    assert [cell(mixed_scores, u, "DTI", "rank") for u in ("U2", "U3", "U1")] == [1, 2, 3]


def test_views_and_composite_over_given_nodes(mixed_scores):
    # V1 = G1 ÷ 60: 30/60, 45/60, 48/60
    for unit, ratio in (("U1", 0.5), ("U2", 0.75), ("U3", 0.8)):
        assert cell(mixed_scores, unit, "V1", "ratio") == pytest.approx(ratio, abs=1e-12)
    # V2 = (P2 + P3) ÷ 70: U1 (15 + 20)/70 = 0.5; U2 (30 + 40)/70 = 1; U3: P2 is below the
    # given G1 (not scored), so V2 re-weights over P3 alone: 10/40 = 0.25 (17.5 of 70 points)
    assert cell(mixed_scores, "U1", "V2", "ratio") == pytest.approx(0.5, abs=1e-12)
    assert cell(mixed_scores, "U2", "V2", "ratio") == pytest.approx(1.0, abs=1e-12)
    assert cell(mixed_scores, "U3", "V2", "points") == pytest.approx(17.5, abs=1e-12)
    # K = 0.5 V1 + 0.5 V2: 0.5, 0.875, 0.5 × 0.8 + 0.5 × 0.25 = 0.525
    for unit, k in (("U1", 0.5), ("U2", 0.875), ("U3", 0.525)):
        assert cell(mixed_scores, unit, "K", "points") == pytest.approx(k, abs=1e-12)


def test_exclude_rule_with_a_given_sibling():
    # U1 gives P1 = 0.5 (15 of 30) and C, D missing under "exclude": P2 and G2 left out;
    # G1 = 15 / 30 × 60 = 30; the total re-weights over G1: 30 / 60 × 100 = 50
    vals = values(("U1", "P1", 0.5), ("U1", "C", None), ("U2", "A", 10), ("U2", "B", 20),
                  ("U2", "C", 30), ("U2", "D", 40))  # fmt: skip
    scores = score(vals, units("U1", "U2"), TREE, MethodSpec("points", missing="exclude"))
    assert cell(scores, "U1", "G1") == pytest.approx(30, abs=1e-12)
    assert cell(scores, "U1", "DTI") == pytest.approx(50, abs=1e-12)
    assert cell(scores, "U1", "P2", "excluded") is True
    assert cell(scores, "U1", "A", "n_missing") == 0
    assert cell(scores, "U1", "DTI", "n_missing") == 2  # C and D, not A and B
    assert cell(scores, "U2", "DTI") == pytest.approx(100, abs=1e-12)


def test_aggregate_with_given_array():
    # the tree alone: leaves A, B, C, D all 1 point; unit 0 gives P1 = 12 points
    tree = build_tree(TREE)
    points = np.ones((2, 4))
    given = np.full((2, tree.n_nodes), np.nan)
    p1 = tree.node_ids.index("P1")
    given[0, p1] = 12.0
    result = aggregate(tree, points, given=given)
    total = tree.node_ids.index("DTI")
    assert result.points[0, p1] == 12.0
    assert result.points[0, total] == 12.0 + 1 + 1  # P1 + C + D
    assert result.points[1, total] == 4.0
    assert result.excluded[0, tree.node_ids.index("A")]
    assert not result.excluded[1, tree.node_ids.index("A")]


def test_a_node_and_its_descendant_refused_in_the_engine():
    vals = values(("U1", "G1", 0.5), ("U1", "B", 3))
    with pytest.raises(ValueError, match=r"U1.*G1 and B"):
        score(vals, units("U1"), TREE, MethodSpec("points"))


def test_split_given_keeps_missing_node_values_out():
    vals = values(("U1", "P1", None), ("U1", "A", 2))
    leaf_values, given = split_given(vals, TREE)
    assert given is None
    assert leaf_values["node_id"].to_list() == ["A"]


def test_non_points_method_refused():
    with pytest.raises(ValueError, match="--method points"):
        score(MIXED, units("U1", "U2", "U3"), TREE, MethodSpec("minmax"))


# ---------------------------------------------------------------- files


def test_long_file_node_and_descendant(tmp_path):
    path = tmp_path / "du-lieu.csv"
    path.write_text(
        "unit_id,year,indicator_id,value\nU1,2024,P1,0.5\nU2,2024,A,3\nU1,2024,B,4\n",
        encoding="utf-8",
    )
    with pytest.raises(DataFileError) as caught:
        read_observations(path, TREE, nodes=True)
    text = str(caught.value)
    assert "du-lieu.csv" in text and "dòng 4" in text and "U1" in text
    assert "P1 (dòng 2)" in text and "chỉ số B" in text


def test_wide_file_node_and_descendant(tmp_path):
    path = tmp_path / "iData.csv"
    path.write_text("uCode,Time,G1,P3,D\nU1,2024,0.5,0.2,NA\nU2,2024,NA,NA,7\n", encoding="utf-8")
    assert read_observations(path, TREE, nodes=True).height == 6  # U1's D blank: no conflict
    path.write_text("uCode,Time,G1,P3,D\nU1,2024,0.5,0.2,9\n", encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        read_observations(path, TREE, nodes=True)
    text = str(caught.value)
    assert "dòng 2" in text and "U1" in text and "P3 (cột" in text and "chỉ số D" in text


@pytest.mark.parametrize("text", ["1.2", "-0.1", "60"])
def test_node_value_above_its_maximum_refused(tmp_path, text):
    path = tmp_path / "du-lieu.csv"
    path.write_text(f"unit_id,year,indicator_id,value\nU1,2024,P1,{text}\n", encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        read_observations(path, TREE, nodes=True)
    message = str(caught.value)
    assert "dòng 2" in message and "P1" in message and "0–1" in message


def test_readers_for_leaves_only_refuse_node_values(tmp_path):
    # the analyses read leaves only: a node value is refused with a line saying why
    path = tmp_path / "du-lieu.csv"
    path.write_text("unit_id,year,indicator_id,value\nU1,2024,P1,0.5\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"P1 không phải chỉ số lá.*dti score"):
        read_observations(path, TREE)
    wide = tmp_path / "iData.csv"
    wide.write_text("uCode,Time,G1\nU1,2024,0.5\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="cột G1 là chỉ số không phải chỉ số lá"):
        read_observations(wide, TREE)
