"""The framework as arrays (pipelines/scoring/tree.py), the ranker and the classifier
(pipelines/scoring/rank.py), against numbers worked out by hand.

Tree used throughout (maximum points in brackets):

    DTI (10)
    ├── P1 (6)  pillar
    │   ├── K1 (4)  component: A (1), B (3)
    │   └── C (2)
    └── P2 (4)  pillar: D (2), E (2)
    view V over P1, P2 (divisor 10); composites M = 0.6 P1 + 0.4 V, N = 0.5 P1 + 0.5 P2
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scoring_fixtures import build, leaf, node

from pipelines.report.data import Band
from pipelines.report.data import classify as report_classify
from pipelines.scoring.rank import RankPrecision, class_labels, rank_by_group, rank_runs, tie_keys
from pipelines.scoring.tree import aggregate, build_tree

LEAVES = ["A", "B", "C", "D", "E"]


def framework(**extra):
    return build(
        node(
            "P1",
            node(
                "K1",
                leaf("A", 1, type="criterion"),
                leaf("B", 3, type="criterion"),
                node_type="component",
            ),
            leaf("C", 2),
        ),
        node("P2", leaf("D", 2), leaf("E", 2)),
        **extra,
    )


def views_framework():
    return framework(
        views=[{"id": "V", "name": "Góc nhìn", "over": ["P1", "P2"], "divisor": 10}],
        composites=[
            {"id": "M", "name": "Tổng hợp M", "weights": {"P1": 0.6, "V": 0.4}},
            {"id": "N", "name": "Tổng hợp N", "weights": {"P1": 0.5, "P2": 0.5}},
        ],
    )


NAN = math.nan
# U1: B, D and E left out (the whole pillar P2); U2: everything reported
POINTS = np.array([[0.5, 0.0, 2.0, 0.0, 0.0], [1.0, 2.0, 1.0, 1.0, 2.0]])
EXCLUDED = np.array([[False, True, False, True, True], [False] * 5])
Z = np.array([[1.0, NAN, -0.5, NAN, NAN], [1.0, -1.0, 0.5, 2.0, 0.0]])
MISSING = EXCLUDED.astype(np.int32)


def _column(tree, node_id):
    return tree.node_ids.index(node_id)


def _numbers(result, tree, unit, what):
    values = getattr(result, what)
    return {n: float(values[unit, _column(tree, n)]) for n in tree.node_ids}


def test_points_are_sums_of_the_leaves_below():
    tree = build_tree(framework(), LEAVES)
    result = aggregate(tree, POINTS[1:])
    got = _numbers(result, tree, 0, "points")
    # K1 = 1 + 2; P1 = K1 + C = 4; P2 = 1 + 2; DTI = 7
    assert got == {
        "DTI": 7.0,
        "P1": 4.0,
        "K1": 3.0,
        "A": 1.0,
        "B": 2.0,
        "C": 1.0,
        "P2": 3.0,
        "D": 1.0,
        "E": 2.0,
    }
    ratio = _numbers(result, tree, 0, "ratio")
    assert ratio["DTI"] == 0.7 and ratio["P1"] == pytest.approx(4 / 6) and ratio["K1"] == 0.75


def test_exclude_reweights_level_by_level_and_a_pillar_all_left_out_is_left_out():
    """U1: K1 = A 0.5 ÷ 1 × 4 = 2 (B left out); P1 = K1 2 + C 2 = 4 (nothing of its own
    children left out: the plain sum); P2: D and E left out → excluded, 0 points, no ratio;
    DTI = P1 4 ÷ 6 × 10 = 6.667 (P2 left out). A flat re-weighting over the present leaves
    would give P1 (0.5 + 2) ÷ 3 × 6 = 5 and DTI (0.5 + 2) ÷ 3 × 10 = 8.333."""
    tree = build_tree(framework(), LEAVES)
    result = aggregate(tree, POINTS, EXCLUDED, n_missing=MISSING)
    got = _numbers(result, tree, 0, "points")
    assert got["K1"] == 2.0
    assert got["P1"] == 4.0
    assert got["P2"] == 0.0
    assert got["DTI"] == pytest.approx(4 / 6 * 10, abs=1e-12)
    left_out = dict(zip(tree.node_ids, result.excluded[0].tolist(), strict=True))
    assert left_out == {
        "DTI": False,
        "P1": False,
        "K1": False,
        "A": False,
        "B": True,
        "C": False,
        "P2": True,
        "D": True,
        "E": True,
    }
    assert math.isnan(_numbers(result, tree, 0, "ratio")["P2"])
    assert _numbers(result, tree, 0, "ratio")["DTI"] == pytest.approx(2 / 3, abs=1e-12)
    missing = {n: int(result.n_missing[0, _column(tree, n)]) for n in ("K1", "P1", "P2", "DTI")}
    assert missing == {"K1": 1, "P1": 1, "P2": 2, "DTI": 3}
    # U2 has nothing left out: the plain sums
    assert _numbers(result, tree, 1, "points")["DTI"] == 7.0


def test_z_is_the_weighted_mean_of_the_leaves_and_level_by_level_under_exclude():
    """U2 (nothing left out), weights the leaves' maxima: K1 = (1 − 3) ÷ 4 = −0.5;
    P1 = (1 − 3 + 2 × 0.5) ÷ 6 = −1/6; P2 = (2 × 2 + 0) ÷ 4 = 1; DTI = (1 − 3 + 1 + 4) ÷ 10
    = 0.3. U1, level by level: K1 = z(A) = 1; P1 = (4 × 1 + 2 × (−0.5)) ÷ 6 = 0.5; P2 none;
    DTI = z(P1) = 0.5 (the flat mean of A and C would be (1 − 1) ÷ 3 = 0)."""
    tree = build_tree(framework(), LEAVES)
    result = aggregate(tree, POINTS, EXCLUDED, Z)
    u2 = _numbers(result, tree, 1, "z")
    assert u2["K1"] == pytest.approx(-0.5) and u2["P1"] == pytest.approx(-1 / 6)
    assert u2["P2"] == pytest.approx(1.0) and u2["DTI"] == pytest.approx(0.3)
    u1 = _numbers(result, tree, 0, "z")
    assert u1["K1"] == pytest.approx(1.0) and u1["P1"] == pytest.approx(0.5)
    assert math.isnan(u1["P2"]) and u1["DTI"] == pytest.approx(0.5)


def test_views_and_composites():
    """V = P1 + P2 on 10: U2 7; U1 P1 4 re-weighted over the present maximum 6 to 10 = 6.667.
    M = 0.6 × ratio(P1) + 0.4 × ratio(V): U2 0.6 × 2/3 + 0.4 × 0.7 = 0.68; U1 2/3.
    N = 0.5 × ratio(P1) + 0.5 × ratio(P2): U2 1/3 + 0.375 = 0.70833; U1 (P2 left out)
    0.5 × 2/3 ÷ 0.5 = 2/3. V's z is the mean of P1's and P2's: U2 (−1/6 + 1) ÷ 2."""
    tree = build_tree(views_framework(), LEAVES)
    assert tree.node_ids[-3:] == ("V", "M", "N")
    result = aggregate(tree, POINTS, EXCLUDED, Z)
    u1, u2 = (_numbers(result, tree, u, "points") for u in (0, 1))
    assert u2["V"] == 7.0 and u1["V"] == pytest.approx(20 / 3, abs=1e-12)
    assert u2["M"] == pytest.approx(0.68, abs=1e-12) and u1["M"] == pytest.approx(2 / 3)
    assert u2["N"] == pytest.approx(1 / 3 + 0.375, abs=1e-12)
    assert u1["N"] == pytest.approx(2 / 3, abs=1e-12)
    assert _numbers(result, tree, 1, "ratio")["V"] == 0.7
    assert _numbers(result, tree, 1, "z")["V"] == pytest.approx(5 / 12)
    assert _numbers(result, tree, 0, "z")["V"] == pytest.approx(0.5)  # P2 has no z
    assert math.isnan(_numbers(result, tree, 1, "z")["M"])


def test_replications_are_a_leading_axis_with_their_own_maxima():
    """Two weight sets at once: the nominal one gives the 2-D call's bits; the other doubles
    P2's weight (P1 3.333, P2 6.667 of the 10 points; leaves scaled alike): U1's DTI is P1
    re-weighted to the index, 4 × 5/9 ÷ (6 × 5/9) × 10 = 6.667 again; U2's
    4 × 5/9 + 3 × 5/3 = 7.222."""
    tree = build_tree(views_framework(), LEAVES)
    nominal = tree.max_points[: tree.n_nodes]
    rel = np.ones((2, tree.n_nodes))
    p1, p2 = _column(tree, "P1"), _column(tree, "P2")
    for k in range(tree.n_nodes):
        below_p2 = tree.weights[:, k] @ tree.weights[:, p2] > 0 and k != _column(tree, "DTI")
        below_p1 = tree.weights[:, k] @ tree.weights[:, p1] > 0 and k != _column(tree, "DTI")
        if below_p2:
            rel[1, k] = 5 / 3
        elif below_p1:
            rel[1, k] = 5 / 9
    points = POINTS[None, :, :] * rel[:, None, tree.leaf_column]
    many = aggregate(tree, points, EXCLUDED, Z, maxima=(rel * nominal)[:, None, :])
    one = aggregate(tree, POINTS, EXCLUDED, Z)
    assert np.array_equal(many.points[0, :, : tree.n_nodes], one.points[:, : tree.n_nodes])
    dti = _column(tree, "DTI")
    assert many.points[1, 0, dti] == pytest.approx(20 / 3, abs=1e-12)
    assert many.points[1, 1, dti] == pytest.approx(4 * 5 / 9 + 3 * 5 / 3, abs=1e-12)


# ---------------------------------------------------------------- the ranker


def test_ranks_are_rank_of_minus_x_min_within_each_run():
    keys = np.array([[3.0, 1.0], [5.0, 1.0], [3.0, NAN], [1.0, 2.0], [7.0, 2.0]])
    # runs: rows 0–2 and rows 3–4
    got = rank_runs(keys, np.array([0, 3]))
    assert got[:, 0].tolist() == [2, 1, 2, 2, 1]
    assert got[:, 1].tolist() == [1, 1, 0, 1, 1]  # NaN: no rank, the others as without it


@pytest.mark.parametrize(
    ("points", "maximum", "precision", "expected"),
    [
        # float noise ties: 0.1 + 0.2 and 0.3; 2.125e-8 on a 1.25-point leaf does not tie 0
        ([0.1 + 0.2, 0.3, 2.125e-8, 0.0], 1.25, RankPrecision(), [1, 1, 3, 4]),
        # 4 decimals of the ratio (÷ 22.5): 0.617325… and 0.61725 → 0.6173
        ([13.88982202125, 13.888125, 9.189817], 22.5, RankPrecision(4, "ratio"), [1, 1, 3]),
        # by default those differ
        ([13.88982202125, 13.888125, 9.189817], 22.5, RankPrecision(), [1, 2, 3]),
        # 2 decimals of points: 13.8898 and 13.8881 → 13.89; 8.125 reached as a float sum
        (
            [13.8898, 13.8881, (0.15 + 0.95) + 0.025 + 7, 8.13],
            22.5,
            RankPrecision(2, "points"),
            [1, 1, 3, 3],
        ),
    ],
)
def test_ranks_at_noise_and_at_declared_precision(points, maximum, precision, expected):
    units = pl.DataFrame({"year": [2024] * len(points), "group_id": ["g"] * len(points)})
    got = rank_by_group(np.array(points)[:, None], np.array([maximum]), units, precision)
    assert got[:, 0].tolist() == expected


def test_ranks_are_within_each_comparison_group_whatever_the_row_order():
    units = pl.DataFrame(
        {"year": [2024, 2024, 2023, 2024, 2023], "group_id": ["b", "a", "a", "a", "a"]}
    )
    points = np.array([[1.0], [2.0], [5.0], [3.0], [4.0]])
    got = rank_by_group(points, np.array([10.0]), units)
    assert got[:, 0].tolist() == [1, 2, 1, 1, 2]


def test_rank_matches_scipy_rank_of_minus_x_where_values_differ():
    rng = np.random.default_rng(3)
    x = rng.random(200) * 10
    units = pl.DataFrame({"year": [1] * 200, "group_id": ["g"] * 200})
    got = rank_by_group(x[:, None], np.array([10.0]), units)[:, 0]
    from scipy.stats import rankdata

    assert np.array_equal(got, rankdata(-x, method="min"))
    assert tie_keys(np.array([x[0]]), 10.0).shape == (1,)


# ---------------------------------------------------------------- the classifier

BANDS = [("Mức I", 0.9), ("Mức II", 0.7), ("Mức III", 0.5)]


@pytest.mark.parametrize(
    ("ratio", "weakest", "total_only", "total_and_pillars"),
    [
        (0.95, 0.92, "Mức I", "Mức I"),
        (0.95, 0.75, "Mức I", "Mức II"),  # a pillar below 90 %: the band all pillars reach
        (0.95, 0.40, "Mức I", None),  # a pillar below every band: not classified
        (0.8999999999999999, 0.95, "Mức I", "Mức I"),  # float noise reaches 0.9
        (0.72, NAN, "Mức II", "Mức II"),  # every pillar left out: does not count
        (0.45, 0.9, None, None),
        (NAN, 0.9, None, None),  # an excluded total has no class
    ],
)
def test_classes_by_reading(ratio, weakest, total_only, total_and_pillars):
    for reading, expected in (("total_only", total_only), ("total_and_pillars", total_and_pillars)):
        got = class_labels(np.array([ratio]), np.array([weakest]), BANDS, reading)
        assert got.tolist() == [expected], reading


def test_the_report_uses_the_same_classifier():
    bands = [Band(label, floor, "#000") for label, floor in BANDS]
    # a pillar left out (None) does not count against the minimum
    assert report_classify(0.95, [0.95, None, 0.75], bands, "total_and_pillars") == "Mức II"
    assert report_classify(0.95, [0.95, None, 0.75], bands, "total_only") == "Mức I"
    assert report_classify(None, [], bands, "total_only") is None
    # 0.61725 reaches 0.6173 only at 4 decimals of the ratio
    one = [Band("Tốt", 0.6173, "#000")]
    assert report_classify(0.61725, [], one, None) is None
    assert report_classify(0.61725, [], one, None, RankPrecision(4, "ratio")) == "Tốt"
    # bands known by their stored labels only classify nobody
    assert report_classify(0.95, [], [Band("Tốt", None, "#000")], None) is None


# ---------------------------------------------------------------- the frames at the boundary


def test_node_scores_read_any_row_order_and_refuse_a_gap():
    """The leaf frame in another row order gives the same node frame; a unit without one of
    its leaves is refused (the leaf stage always gives one row per unit and leaf)."""
    from scoring_fixtures import units, values

    from pipelines.scoring.engine import leaf_scores, node_scores
    from pipelines.scoring.methods import MethodSpec

    fw = framework()
    rows = [("U1", "A", 0.5), ("U1", "C", 2.0), ("U2", "A", 1.0), ("U2", "B", 2.0)]
    rows += [("U2", "C", 1.0), ("U2", "D", 1.0), ("U2", "E", 2.0)]
    leaves = leaf_scores(values(*rows), units("U1", "U2"), fw, MethodSpec(missing="exclude"))
    nodes = node_scores(leaves, fw)
    assert node_scores(leaves.sample(fraction=1.0, shuffle=True, seed=5), fw).equals(nodes)
    dti = nodes.filter(pl.col("node_id") == "DTI")
    assert dti["points"].to_list() == pytest.approx([20 / 3, 7.0])  # as aggregated by hand
    assert dti["n_missing"].to_list() == [3, 0]
    with pytest.raises(ValueError, match="one row per unit and leaf"):
        node_scores(leaves.filter(~((pl.col("unit_id") == "U2") & (pl.col("node_id") == "E"))), fw)
