"""Aggregation, views, composites, ranks and classes (pipelines/scoring/{aggregate,rank}.py).

docs/domain.md: a node's points are the sum of its children's points; every node is also reported as
ratio = points / its maximum; views add the points of the nodes they cover and divide by their
divisor; composites are Σ weight × ratio; ranks are within a comparison group, descending, ties
share the lowest rank (1, 2, 2, 4); classes come from the framework's bands on the total ratio.
All tests use the ``direct`` rule (points = the value entered) unless they need z-scores.
"""

from __future__ import annotations

import pytest
from scoring_fixtures import build, cell, column_of, leaf, node, run, units, values

# G1 (70) ─ P1 (50): A 20, B 30
#         └ P2 (20): C 20
# G2 (30) ─ P3 (30): D 10, E 20                               index DTI = 100
TREE = (
    node(
        "G1",
        node("P1", leaf("A", 20), leaf("B", 30)),
        node("P2", leaf("C", 20)),
        node_type="group",
    ),
    node("G2", node("P3", leaf("D", 10), leaf("E", 20)), node_type="group"),
)
LEAVES = ["A", "B", "C", "D", "E"]


def tree_framework(**extra):
    return build(*TREE, **extra)


def leaf_values(unit_id: str, *points: float | None) -> list[tuple]:
    return [(unit_id, n, p) for n, p in zip(LEAVES, points, strict=True) if p is not None]


# ---------------------------------------------------------------- sums and ratios


def test_points_sum_to_pillars_groups_and_total():
    fw = tree_framework()
    scores = run(fw, values(*leaf_values("U1", 15, 21, 8, 10, 4)), units("U1"))
    expected = {
        "A": 15, "B": 21, "C": 8, "D": 10, "E": 4,
        "P1": 15 + 21, "P2": 8, "P3": 10 + 4,
        "G1": 15 + 21 + 8, "G2": 10 + 4,
        "DTI": 15 + 21 + 8 + 10 + 4,
    }  # fmt: skip
    got = {n: cell(scores, "U1", n) for n in expected}
    assert got == pytest.approx(expected, abs=1e-12)
    assert scores.height == 11  # one row per node, root included


def test_ratio_at_every_node():
    fw = tree_framework()
    scores = run(fw, values(*leaf_values("U1", 15, 21, 8, 10, 4)), units("U1"))
    expected = {
        "A": 15 / 20, "B": 21 / 30, "C": 8 / 20, "D": 10 / 10, "E": 4 / 20,
        "P1": 36 / 50, "P2": 8 / 20, "P3": 14 / 30,
        "G1": 44 / 70, "G2": 14 / 30,
        "DTI": 58 / 100,
    }  # fmt: skip
    assert {n: cell(scores, "U1", n, "ratio") for n in expected} == pytest.approx(
        expected, abs=1e-12
    )
    maxima = {n: cell(scores, "U1", n, "max_points") for n in expected}
    assert maxima == {
        "A": 20, "B": 30, "C": 20, "D": 10, "E": 20,
        "P1": 50, "P2": 20, "P3": 30, "G1": 70, "G2": 30, "DTI": 100,
    }  # fmt: skip
    levels = {n: cell(scores, "U1", n, "node_level") for n in ("A", "P1", "G1", "DTI")}
    assert levels == {"A": "component", "P1": "pillar", "G1": "group", "DTI": "index"}


def test_missing_leaves_count_zero_and_are_counted():
    fw = tree_framework()
    vals = values(*leaf_values("U1", 15, None, 8, 10, None), *leaf_values("U2", 1, 2, 3, 4, 5))
    scores = run(fw, vals, units("U1", "U2"))
    assert cell(scores, "U1", "P1") == 15  # B missing → 0
    assert cell(scores, "U1", "DTI") == 15 + 0 + 8 + 10 + 0
    missing = {n: cell(scores, "U1", n, "n_missing") for n in (*LEAVES, "P1", "P2", "P3")}
    assert missing == {"A": 0, "B": 1, "C": 0, "D": 0, "E": 1, "P1": 1, "P2": 0, "P3": 1}
    assert cell(scores, "U1", "G1", "n_missing") == 1
    assert cell(scores, "U1", "G2", "n_missing") == 1
    assert cell(scores, "U1", "DTI", "n_missing") == 2
    assert column_of(scores, "DTI", ["U2"], "n_missing") == [0]


def test_unit_without_any_value_gets_every_node_at_zero():
    fw = tree_framework()
    scores = run(fw, values(*leaf_values("U1", 1, 1, 1, 1, 1)), units("U1", "U2"))
    assert scores.filter(unit_id="U2").height == 11
    assert scores.filter(unit_id="U2")["points"].to_list() == [0.0] * 11
    assert cell(scores, "U2", "DTI", "n_missing") == 5


# ---------------------------------------------------------------- aggregated z


def z_data(u1_b: float | None = 30):
    # per leaf, values of U1, U2, U3 chosen so that z is -1/0/1 (or 0 for C):
    # A 1,2,3 → -1,0,1   B 30,20,10 → 1,0,-1   C 5,5,5 → 0,0,0 (sd 0)
    # D 2,4,6 → -1,0,1 (sd 2)   E 0,10,20 → -1,0,1 (sd 10)
    return values(
        *leaf_values("U1", 1, u1_b, 5, 2, 0),
        *leaf_values("U2", 2, 20, 5, 4, 10),
        *leaf_values("U3", 3, 10, 5, 6, 20),
    )


def test_aggregated_z_is_max_points_weighted_mean_of_leaf_z():
    fw = tree_framework()
    scores = run(fw, z_data(), units("U1", "U2", "U3"), "zscore")
    assert [cell(scores, "U1", n, "z") for n in LEAVES] == pytest.approx(
        [-1, 1, 0, -1, -1], abs=1e-12
    )
    expected = {
        "P1": (20 * -1 + 30 * 1) / 50,  # 0.2
        "P2": 0.0,
        "P3": (10 * -1 + 20 * -1) / 30,  # -1
        "G1": (20 * -1 + 30 * 1 + 20 * 0) / 70,
        "G2": -1.0,
        "DTI": (20 * -1 + 30 * 1 + 20 * 0 + 10 * -1 + 20 * -1) / 100,  # -0.2
    }
    assert {n: cell(scores, "U1", n, "z") for n in expected} == pytest.approx(expected, abs=1e-12)


def test_aggregated_z_uses_only_leaves_with_a_value():
    fw = tree_framework()
    scores = run(fw, z_data(u1_b=None), units("U1", "U2", "U3"), "zscore")
    assert cell(scores, "U1", "B", "z") is None
    # B now over U2, U3 only: 20, 10 → mean 15, sd sqrt(50) → z = ±5 / sqrt(50)
    assert cell(scores, "U2", "B", "z") == pytest.approx(5 / 50**0.5, abs=1e-12)
    assert cell(scores, "U1", "P1", "z") == pytest.approx(-1.0, abs=1e-12)  # A alone
    # total over A, C, D, E (weights 20, 20, 10, 20 = 70), not over 100
    assert cell(scores, "U1", "DTI", "z") == pytest.approx(
        (20 * -1 + 20 * 0 + 10 * -1 + 20 * -1) / 70, abs=1e-12
    )


def test_aggregated_z_of_a_node_without_any_value_is_null():
    fw = tree_framework()
    vals = values(("U1", "A", 1), ("U2", "A", 2), ("U3", "A", 3))
    scores = run(fw, vals, units("U1", "U2", "U3"), "zscore")
    assert cell(scores, "U1", "P3", "z") is None
    assert cell(scores, "U1", "P3", "points") == 0.0
    assert cell(scores, "U1", "DTI", "z") == pytest.approx(-1.0, abs=1e-12)


def test_points_and_minmax_have_no_z():
    fw = tree_framework()
    for method in ("points", "minmax"):
        scores = run(fw, z_data(), units("U1", "U2", "U3"), method)
        assert scores["z"].null_count() == scores.height


# ---------------------------------------------------------------- views and composites


def view_framework():
    return tree_framework(
        views=[
            {"id": "V_GOV", "name": "Chính quyền số", "over": ["G1", "P3"], "divisor": 200},
            {"id": "V_X", "name": "Xã hội số", "over": ["P2", "P3"]},  # divisor 20 + 30
        ],
        composites=[
            {"id": "C1", "name": "DTI 1726", "weights": {"V_GOV": 0.4, "V_X": 0.3, "P1": 0.3}}
        ],
    )


def test_view_points_are_the_sum_of_the_nodes_it_covers():
    scores = run(view_framework(), values(*leaf_values("U1", 15, 21, 8, 10, 4)), units("U1"))
    # V_GOV = G1 (15 + 21 + 8) + P3 (10 + 4) = 58; ratio 58 / 200 (the divisor given)
    assert cell(scores, "U1", "V_GOV") == pytest.approx(58, abs=1e-12)
    assert cell(scores, "U1", "V_GOV", "max_points") == 200
    assert cell(scores, "U1", "V_GOV", "ratio") == pytest.approx(58 / 200, abs=1e-12)
    assert cell(scores, "U1", "V_GOV", "node_level") == "view"
    # V_X = P2 8 + P3 14 = 22; default divisor = 20 + 30
    assert cell(scores, "U1", "V_X") == pytest.approx(22, abs=1e-12)
    assert cell(scores, "U1", "V_X", "ratio") == pytest.approx(22 / 50, abs=1e-12)
    # a view is not part of the tree: the total is unchanged
    assert cell(scores, "U1", "DTI") == pytest.approx(58, abs=1e-12)


def test_composite_is_weighted_sum_of_ratios():
    scores = run(view_framework(), values(*leaf_values("U1", 15, 21, 8, 10, 4)), units("U1"))
    # 0.4 × 58/200 + 0.3 × 22/50 + 0.3 × 36/50 = 0.116 + 0.132 + 0.216
    expected = 0.4 * 58 / 200 + 0.3 * 22 / 50 + 0.3 * 36 / 50
    assert expected == pytest.approx(0.464, abs=1e-12)
    assert cell(scores, "U1", "C1") == pytest.approx(expected, abs=1e-12)
    assert cell(scores, "U1", "C1", "ratio") == pytest.approx(expected, abs=1e-12)
    assert cell(scores, "U1", "C1", "node_level") == "composite"


def test_views_and_composites_are_ranked():
    vals = values(*leaf_values("U1", 15, 21, 8, 10, 4), *leaf_values("U2", 20, 30, 0, 0, 0))
    scores = run(view_framework(), vals, units("U1", "U2"))
    # V_GOV: U1 58, U2 50; V_X: U1 22, U2 0; C1: U1 0.464, U2 0.4·50/200 + 0 + 0.3·1 = 0.4
    assert column_of(scores, "V_GOV", ["U1", "U2"], "rank") == [1, 2]
    assert column_of(scores, "C1", ["U1", "U2"]) == pytest.approx([0.464, 0.4], abs=1e-12)
    assert column_of(scores, "C1", ["U1", "U2"], "rank") == [1, 2]
    # but U2 is first on P1 (50 against 36)
    assert column_of(scores, "P1", ["U1", "U2"], "rank") == [2, 1]


# ---------------------------------------------------------------- ranks


def test_ties_share_the_lowest_rank():
    fw = tree_framework()
    vals = values(
        *leaf_values("U1", 20, 30, 20, 10, 0),  # 80
        *leaf_values("U2", 20, 30, 10, 10, 0),  # 70
        *leaf_values("U3", 10, 30, 20, 10, 0),  # 70
        *leaf_values("U4", 10, 30, 10, 10, 0),  # 60
        *leaf_values("U5", 0, 0, 0, 0, 0),  # 0
    )
    ids = ["U1", "U2", "U3", "U4", "U5"]
    scores = run(fw, vals, units(*ids))
    assert column_of(scores, "DTI", ids) == [80, 70, 70, 60, 0]
    assert column_of(scores, "DTI", ids, "rank") == [1, 2, 2, 4, 5]
    # D: everyone 10 but U5 → 1, 1, 1, 1, 5
    assert column_of(scores, "D", ids, "rank") == [1, 1, 1, 1, 5]


def test_float_noise_does_not_split_a_tie():
    fw = tree_framework()
    assert 0.1 + 0.2 != 0.3  # the noise is real
    vals = values(
        *leaf_values("U1", 0.1, 0.2, 0, 0, 0),  # P1 = 0.1 + 0.2 = 0.30000000000000004
        *leaf_values("U2", 0.3, 0, 0, 0, 0),  # P1 = 0.3
        *leaf_values("U3", 0, 0.5, 0, 0, 0),  # 0.5
        *leaf_values("U4", 0.1, 0, 0, 0, 0),  # 0.1
    )
    ids = ["U1", "U2", "U3", "U4"]
    scores = run(fw, vals, units(*ids))
    assert cell(scores, "U1", "P1") == pytest.approx(0.3, abs=1e-12)
    assert column_of(scores, "P1", ids, "rank") == [2, 2, 1, 4]
    assert column_of(scores, "DTI", ids, "rank") == [2, 2, 1, 4]


def test_ranks_within_each_comparison_group_and_year():
    fw = tree_framework()
    vals = values(
        *leaf_values("D1", 10, 10, 10, 10, 10),  # 50
        *leaf_values("D2", 20, 20, 20, 10, 20),  # 90
        *leaf_values("C1", 1, 1, 1, 1, 1),  # 5
        *leaf_values("C2", 2, 2, 2, 2, 2),  # 10
        *leaf_values("C3", 2, 2, 2, 2, 2),  # 10
        ("D1", 2023, "A", 20),
        ("D2", 2023, "A", 5),
    )
    unit_frame = units(
        ("D1", "district"), ("D2", "district"),
        ("C1", "commune"), ("C2", "commune"), ("C3", "commune"),
        ("D1", 2023, "district"), ("D2", 2023, "district"),
    )  # fmt: skip
    scores = run(fw, vals, unit_frame)
    assert column_of(scores, "DTI", ["D1", "D2"], "rank") == [2, 1]
    # communes are ranked among themselves: C2 and C3 tie first although D* score more
    assert column_of(scores, "DTI", ["C1", "C2", "C3"], "rank") == [3, 1, 1]
    # 2023 is ranked on its own: D1 first
    assert cell(scores, "D1", "DTI", "rank", year=2023) == 1
    assert cell(scores, "D2", "DTI", "rank", year=2023) == 2


# ---------------------------------------------------------------- classification

BANDS = [
    {"label": "Tốt", "min_ratio": 0.85},
    {"label": "Khá", "min_ratio": 0.70},
    {"label": "Trung bình", "min_ratio": 0.50},
]
# (unit, A, B) with P1 = A (max 50), P2 = B (max 50); total ratio and weakest pillar ratio:
CLASS_UNITS = [
    ("U1", 45, 45),  # 0.90, weakest 0.90
    ("U2", 50, 40),  # 0.90, weakest 0.80
    ("U3", 50, 25),  # 0.75, weakest 0.50
    ("U4", 50, 10),  # 0.60, weakest 0.20
    ("U5", 20, 20),  # 0.40 → below every band
    ("U6", 42.5, 42.5),  # 0.85 exactly, on the boundary
]


def class_scores(pillar_minimum: bool | None):
    classification: dict = {"id": "bands", "bands": BANDS}
    if pillar_minimum is not None:
        classification["pillar_minimum"] = pillar_minimum
    fw = build(node("P1", leaf("A", 50)), node("P2", leaf("B", 50)), classification=classification)
    vals = values(*[r for u, a, b in CLASS_UNITS for r in ((u, "A", a), (u, "B", b))])
    return run(fw, vals, units(*[u for u, _, _ in CLASS_UNITS]))


@pytest.mark.parametrize("pillar_minimum", [None, False])
def test_classes_on_the_total_only(pillar_minimum):
    scores = class_scores(pillar_minimum)
    ids = [u for u, _, _ in CLASS_UNITS]
    assert column_of(scores, "DTI", ids, "class_label") == [
        "Tốt", "Tốt", "Khá", "Trung bình", None, "Tốt",
    ]  # fmt: skip
    # only the index row carries a class
    assert scores.filter(node_id="P1")["class_label"].null_count() == len(ids)


def test_classes_with_pillar_minimum():
    scores = class_scores(True)
    ids = [u for u, _, _ in CLASS_UNITS]
    # each band also needs every pillar ratio ≥ the band's ratio
    assert column_of(scores, "DTI", ids, "class_label") == [
        "Tốt",  # 0.90 / 0.90
        "Khá",  # 0.90 but P2 0.80 < 0.85
        "Trung bình",  # 0.75 but P2 0.50 < 0.70
        None,  # 0.60 but P2 0.20 < 0.50
        None,  # 0.40
        "Tốt",  # 0.85 / 0.85
    ]


def test_no_classification_gives_no_class():
    fw = tree_framework()
    scores = run(fw, values(*leaf_values("U1", 20, 30, 20, 10, 20)), units("U1"))
    assert cell(scores, "U1", "DTI", "ratio") == 1.0
    assert cell(scores, "U1", "DTI", "class_label") is None


def test_data_without_a_year_is_scored_counted_and_classified():
    # a COINr iData without a Time column gives year = null for every row
    classification = {"id": "bands", "bands": BANDS, "pillar_minimum": True}
    fw = build(node("P1", leaf("A", 50)), node("P2", leaf("B", 50)), classification=classification)
    vals = values(("U1", None, "A", 50), ("U1", None, "B", 40), ("U2", None, "A", 45))
    scores = run(fw, vals, units(("U1", None, "g"), ("U2", None, "g")))
    assert cell(scores, "U1", "DTI", year=None) == 90  # the values are found, not lost
    assert cell(scores, "U2", "DTI", year=None) == 45
    assert cell(scores, "U2", "DTI", "n_missing", year=None) == 1  # B
    assert cell(scores, "U1", "DTI", "rank", year=None) == 1
    # 0.90 overall but P2 at 0.80 < 0.85: the pillar minimum applies → Khá
    assert cell(scores, "U1", "DTI", "class_label", year=None) == "Khá"
