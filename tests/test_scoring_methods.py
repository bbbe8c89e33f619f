"""Leaf normalisation (pipelines/scoring/normalise.py) against hand-computed numbers.

docs/domain.md, "Scoring methods": min-max n = (x − min)/(max − min); z = (x − mean)/sd with the
sample sd (n − 1), points = Φ(z) × max; lower-is-better is negated before normalising; statistics
ignore missing values and a missing value scores 0; normalisation is per comparison group and year.
Degenerate groups (normalise.py docstring): min-max with max = min and z-score with fewer than
two values or sd = 0 → the rubric's share (z-score keeps z = 0).
"""

from __future__ import annotations

import math

import polars as pl
import pytest
from scoring_fixtures import GROUP, build, cell, column_of, leaf, node, phi, run, units, values

from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.normalise import normalise

U3 = ["U1", "U2", "U3"]
U4 = ["U1", "U2", "U3", "U4"]


def one_leaf(rule: dict | None = None, max_points: float = 20, direction: str = "higher"):
    """Two pillars; the leaf under test is A (max ``max_points``), B is a filler."""
    return build(
        node("P1", leaf("A", max_points, rule, direction)),
        node("P2", leaf("B", 10)),
    )


# ---------------------------------------------------------------- min-max


def test_minmax_observed_bounds_hand_values():
    fw = one_leaf(max_points=20)
    vals = values(("U1", "A", 40), ("U2", "A", 70), ("U3", "A", 90), ("U4", "A", 55))
    scores = run(fw, vals, units(*U4), "minmax")
    expected = [
        (40 - 40) / (90 - 40) * 20,  # 0
        (70 - 40) / (90 - 40) * 20,  # 12
        (90 - 40) / (90 - 40) * 20,  # 20
        (55 - 40) / (90 - 40) * 20,  # 6
    ]
    assert column_of(scores, "A", U4) == pytest.approx(expected, abs=1e-12)
    # the leaf ratio is n itself
    assert column_of(scores, "A", U4, "ratio") == pytest.approx([0, 0.6, 1, 0.3], abs=1e-12)
    assert column_of(scores, "A", U4, "max_points") == [20, 20, 20, 20]


def test_the_normalise_verb_gives_the_input_rows_and_the_method_s_columns():
    """``normalise`` (the analysts' verb) on a values frame: the input columns in their order
    plus ``normalised, z, points, rule_applied``; a missing value stays missing (the
    missing-data rule is the leaf stage's, not the normaliser's)."""
    fw = one_leaf(max_points=20)
    vals = values(("U3", "A", 90), ("U1", "A", 40), ("U2", "A", None), ("U4", "A", 55))
    vals = vals.with_columns(pl.lit(GROUP).alias("group_id"))
    out = normalise(vals, fw, MethodSpec("minmax"))
    assert out.columns == [*vals.columns, "normalised", "z", "points", "rule_applied"]
    assert out["unit_id"].to_list() == ["U3", "U1", "U2", "U4"]
    # bounds 40 and 90 over the present values; U2 has no value, so no points yet
    assert out["points"].to_list() == pytest.approx([20.0, 0.0, None, (55 - 40) / 50 * 20])
    assert out["normalised"].to_list() == pytest.approx([1.0, 0.0, None, 0.3])
    assert out["rule_applied"].cast(pl.String).to_list() == [
        "minmax(observed)", "minmax(observed)", None, "minmax(observed)",
    ]  # fmt: skip


def test_minmax_lower_is_better_is_negated_first():
    fw = one_leaf(max_points=20, direction="lower")
    vals = values(("U1", "A", 40), ("U2", "A", 70), ("U3", "A", 90))
    scores = run(fw, vals, units(*U3), "minmax")
    # signed values −40, −70, −90: min −90, max −40
    expected = [
        (-40 - -90) / (-40 - -90) * 20,  # 20: the smallest raw value is the best
        (-70 - -90) / (-40 - -90) * 20,  # 8
        (-90 - -90) / (-40 - -90) * 20,  # 0
    ]
    assert column_of(scores, "A", U3) == pytest.approx(expected, abs=1e-12)


def test_minmax_missing_is_ignored_by_bounds_and_scores_zero():
    fw = one_leaf(max_points=10)
    # U4 reported nothing for A; a 0 in the statistics would move the minimum from 20 to 0
    vals = values(("U1", "A", 20), ("U2", "A", 30), ("U3", "A", 60), ("U4", "B", 5))
    scores = run(fw, vals, units(*U4), "minmax")
    expected = [0.0, (30 - 20) / (60 - 20) * 10, 10.0, 0.0]  # 0, 2.5, 10, missing → 0
    assert column_of(scores, "A", U4) == pytest.approx(expected, abs=1e-12)
    assert column_of(scores, "A", U4, "n_missing") == [0, 0, 0, 1]


# ---------------------------------------------------------------- z-score


def test_zscore_sample_sd_and_normal_cdf():
    fw = one_leaf(max_points=10)
    vals = values(("U1", "A", 1), ("U2", "A", 2), ("U3", "A", 3))
    scores = run(fw, vals, units(*U3), "zscore")
    # mean 2; sample sd = sqrt(((1-2)² + 0² + (3-2)²) / (3 - 1)) = 1 → z = -1, 0, 1
    # (the population sd sqrt(2/3) would give z = ∓1.2247)
    assert column_of(scores, "A", U3, "z") == pytest.approx([-1.0, 0.0, 1.0], abs=1e-12)
    assert column_of(scores, "A", U3) == pytest.approx(
        [phi(-1) * 10, 0.5 * 10, phi(1) * 10], abs=1e-9
    )
    # Φ(1) = 0.841344746…: the points are 1.5865525…, 5, 8.4134474…
    assert cell(scores, "U3", "A") == pytest.approx(8.413447460685429, abs=1e-9)


def test_zscore_non_unit_sd():
    fw = one_leaf(max_points=20)
    vals = values(("U1", "A", 10), ("U2", "A", 20), ("U3", "A", 30), ("U4", "A", 60))
    scores = run(fw, vals, units(*U4), "zscore")
    # mean 30; squares 400 + 100 + 0 + 900 = 1400; sd = sqrt(1400 / 3)
    sd = math.sqrt(1400 / 3)
    z = [(10 - 30) / sd, (20 - 30) / sd, 0.0, (60 - 30) / sd]
    assert column_of(scores, "A", U4, "z") == pytest.approx(z, abs=1e-12)
    assert column_of(scores, "A", U4) == pytest.approx([phi(v) * 20 for v in z], abs=1e-9)


def test_zscore_lower_is_better_flips_the_sign():
    fw = one_leaf(max_points=10, direction="lower")
    vals = values(("U1", "A", 1), ("U2", "A", 2), ("U3", "A", 3))
    scores = run(fw, vals, units(*U3), "zscore")
    # signed −1, −2, −3: mean −2, sd 1
    assert column_of(scores, "A", U3, "z") == pytest.approx([1.0, 0.0, -1.0], abs=1e-12)
    assert column_of(scores, "A", U3) == pytest.approx([phi(1) * 10, 5.0, phi(-1) * 10], abs=1e-9)


def test_zscore_missing_is_ignored_by_statistics_and_scores_zero():
    fw = one_leaf(max_points=10)
    vals = values(("U1", "A", 1), ("U2", "A", 2), ("U3", "A", 3), ("U4", "B", 4))
    scores = run(fw, vals, units(*U4), "zscore")
    # as if U4 did not exist: z = -1, 0, 1; U4 has no z and 0 points
    assert column_of(scores, "A", U4[:3], "z") == pytest.approx([-1.0, 0.0, 1.0], abs=1e-12)
    assert cell(scores, "U4", "A", "z") is None
    assert cell(scores, "U4", "A") == 0.0
    assert cell(scores, "U4", "A", "n_missing") == 1


# ---------------------------------------------------------------- degenerate groups


@pytest.mark.parametrize(
    ("method", "expected_points", "expected_z"),
    # max = min, one value → the rubric (direct: the value 37 capped at 20); z stays 0
    [("minmax", 20.0, None), ("zscore", 20.0, 0.0)],
)
def test_degenerate_single_unit(method, expected_points, expected_z):
    fw = one_leaf(max_points=20)
    scores = run(fw, values(("U1", "A", 37)), units("U1"), method)
    assert cell(scores, "U1", "A") == pytest.approx(expected_points, abs=1e-12)
    z = cell(scores, "U1", "A", "z")
    assert z == expected_z
    assert not any(math.isnan(p) for p in scores["points"])
    assert not any(math.isnan(r) for r in scores["ratio"] if r is not None)


@pytest.mark.parametrize(
    ("method", "expected_points"), [("minmax", 5.0), ("zscore", 5.0)]
)  # max = min, sd = 0 → the rubric (direct: points = the value 5), not Φ(0) × 20 = 10
def test_degenerate_all_values_equal(method, expected_points):
    fw = one_leaf(max_points=20)
    vals = values(("U1", "A", 5), ("U2", "A", 5), ("U3", "A", 5))
    scores = run(fw, vals, units(*U3), method)
    assert column_of(scores, "A", U3) == pytest.approx([expected_points] * 3, abs=1e-12)
    if method == "zscore":
        assert column_of(scores, "A", U3, "z") == [0.0, 0.0, 0.0]
    assert not any(math.isnan(p) for p in scores["points"])


@pytest.mark.parametrize(("method", "expected_points"), [("minmax", 7.0), ("zscore", 7.0)])
def test_degenerate_one_value_present_among_missing(method, expected_points):
    fw = one_leaf(max_points=20)
    vals = values(("U1", "A", 7), ("U2", "B", 1), ("U3", "B", 2))
    scores = run(fw, vals, units(*U3), method)
    assert column_of(scores, "A", U3) == pytest.approx([expected_points, 0.0, 0.0], abs=1e-12)
    assert column_of(scores, "A", U3, "n_missing") == [0, 1, 1]


# ---------------------------------------------------------------- per group and per year


def test_minmax_each_comparison_group_separately():
    fw = one_leaf(max_points=10)
    vals = values(
        ("D1", "A", 10), ("D2", "A", 20), ("D3", "A", 30),
        ("C1", "A", 100), ("C2", "A", 150), ("C3", "A", 300),
    )  # fmt: skip
    unit_frame = units(
        ("D1", "district"), ("D2", "district"), ("D3", "district"),
        ("C1", "commune"), ("C2", "commune"), ("C3", "commune"),
    )  # fmt: skip
    scores = run(fw, vals, unit_frame, "minmax")
    # districts: (x − 10) / (30 − 10); communes: (x − 100) / (300 − 100)
    assert column_of(scores, "A", ["D1", "D2", "D3"]) == pytest.approx([0, 5, 10], abs=1e-12)
    assert column_of(scores, "A", ["C1", "C2", "C3"]) == pytest.approx(
        [0, (150 - 100) / (300 - 100) * 10, 10], abs=1e-12
    )  # pooled, D3 would score (30 − 10) / (300 − 10) × 10 = 0.69
    assert column_of(scores, "A", ["D1", "D2", "D3", "C1", "C2", "C3"], "group_id") == [
        "district", "district", "district", "commune", "commune", "commune",
    ]  # fmt: skip


def test_zscore_each_comparison_group_separately():
    fw = one_leaf(max_points=10)
    vals = values(
        ("D1", "A", 1), ("D2", "A", 2), ("D3", "A", 3),
        ("C1", "A", 10), ("C2", "A", 20), ("C3", "A", 30),
    )  # fmt: skip
    unit_frame = units(("D1", "d"), ("D2", "d"), ("D3", "d"), ("C1", "c"), ("C2", "c"), ("C3", "c"))
    scores = run(fw, vals, unit_frame, "zscore")
    # each group: mean of 1,2,3 (10,20,30), sd 1 (10) → z = -1, 0, 1 in both
    for ids in (["D1", "D2", "D3"], ["C1", "C2", "C3"]):
        assert column_of(scores, "A", ids, "z") == pytest.approx([-1, 0, 1], abs=1e-12)


def test_minmax_each_year_separately():
    fw = one_leaf(max_points=10)
    vals = values(
        ("U1", 2023, "A", 10), ("U2", 2023, "A", 30),
        ("U1", 2024, "A", 50), ("U2", 2024, "A", 60), ("U3", 2024, "A", 70),
    )  # fmt: skip
    unit_frame = units(
        ("U1", 2023, "g"),
        ("U2", 2023, "g"),
        ("U1", 2024, "g"),
        ("U2", 2024, "g"),
        ("U3", 2024, "g"),
    )
    scores = run(fw, vals, unit_frame, "minmax")
    assert cell(scores, "U1", "A", year=2023) == pytest.approx(0.0, abs=1e-12)
    assert cell(scores, "U2", "A", year=2023) == pytest.approx(10.0, abs=1e-12)
    # 2024 alone: (x − 50) / (70 − 50); pooled with 2023 U1 would get (50 − 10) / 60 × 10
    assert cell(scores, "U1", "A", year=2024) == pytest.approx(0.0, abs=1e-12)
    assert cell(scores, "U2", "A", year=2024) == pytest.approx((60 - 50) / (70 - 50) * 10)
    assert cell(scores, "U3", "A", year=2024) == pytest.approx(10.0, abs=1e-12)
    assert scores.filter(year=2023).height == 2 * 5  # 2 units × (root, P1, A, P2, B)


def test_zscore_each_year_separately():
    fw = one_leaf(max_points=10)
    vals = values(
        ("U1", 2023, "A", 1), ("U2", 2023, "A", 2), ("U3", 2023, "A", 3),
        ("U1", 2024, "A", 100), ("U2", 2024, "A", 300),
    )  # fmt: skip
    unit_frame = units(*[(u, 2023, "g") for u in U3], ("U1", 2024, "g"), ("U2", 2024, "g"))
    scores = run(fw, vals, unit_frame, "zscore")
    assert [cell(scores, u, "A", "z", 2023) for u in U3] == pytest.approx([-1, 0, 1], abs=1e-12)
    # 2024: mean 200, sd = sqrt((100² + 100²) / 1) = 141.42… → z = ∓1/√2
    assert [cell(scores, u, "A", "z", 2024) for u in ("U1", "U2")] == pytest.approx(
        [-1 / math.sqrt(2), 1 / math.sqrt(2)], abs=1e-12
    )


# ---------------------------------------------------------------- rubric rules (points)


def test_rule_ratio_higher():
    fw = one_leaf({"kind": "ratio", "target": 100}, max_points=20)
    vals = values(("U1", "A", 45), ("U2", "A", 150), ("U3", "A", 0), ("U4", "A", 100))
    scores = run(fw, vals, units(*U4))
    # min(x / 100, 1) × 20: 9, capped 20, 0, 20
    assert column_of(scores, "A", U4) == pytest.approx([45 / 100 * 20, 20, 0, 20], abs=1e-12)


def test_rule_ratio_lower():
    fw = one_leaf({"kind": "ratio", "target": 10}, max_points=20, direction="lower")
    vals = values(("U1", "A", 20), ("U2", "A", 5), ("U3", "A", 0), ("U4", "A", 40))
    scores = run(fw, vals, units(*U4))
    # min(10 / x, 1) × 20; x ≤ 0 → max
    assert column_of(scores, "A", U4) == pytest.approx(
        [10 / 20 * 20, 20, 20, 10 / 40 * 20], abs=1e-12
    )


def test_rule_steps_higher_with_and_without_else():
    thresholds = [[4, 20], [3, 15], [2, 10], [1, 5]]
    fw = build(
        node(
            "P1",
            leaf("A", 20, {"kind": "steps", "thresholds": thresholds}),
            leaf("E", 20, {"kind": "steps", "thresholds": thresholds, "else": 2}),
        ),
        node("P2", leaf("B", 10)),
    )
    ids = ["U1", "U2", "U3", "U4", "U5", "U6"]
    raw = [5, 4, 3.5, 3, 1, 0]
    vals = values(*[(u, "A", x) for u, x in zip(ids, raw, strict=True)]).vstack(
        values(*[(u, "E", x) for u, x in zip(ids, raw, strict=True)])
    )
    scores = run(fw, vals, units(*ids))
    assert column_of(scores, "A", ids) == [20, 20, 15, 15, 5, 0]
    assert column_of(scores, "E", ids) == [20, 20, 15, 15, 5, 2]


def test_rule_steps_lower():
    # fewer incidents is better: 0 → 10, ≤ 2 → 6, ≤ 5 → 2, otherwise 0
    rule = {"kind": "steps", "thresholds": [[0, 10], [2, 6], [5, 2]]}
    fw = one_leaf(rule, max_points=10, direction="lower")
    ids = ["U1", "U2", "U3", "U4", "U5"]
    vals = values(*[(u, "A", x) for u, x in zip(ids, [0, 1, 2, 5, 9], strict=True)])
    assert column_of(run(fw, vals, units(*ids)), "A", ids) == [10, 6, 6, 2, 0]


def test_rule_yesno():
    fw = one_leaf({"kind": "yesno"}, max_points=15)
    vals = values(("U1", "A", 1), ("U2", "A", 0))
    assert column_of(run(fw, vals, units("U1", "U2")), "A", ["U1", "U2"]) == [15, 0]


def test_rule_categorical():
    fw = one_leaf({"kind": "categorical", "categories": {1: 10, 2: 6, 3: 0}}, max_points=10)
    vals = values(("U1", "A", 1), ("U2", "A", 2), ("U3", "A", 3))
    assert column_of(run(fw, vals, units(*U3)), "A", U3) == [10, 6, 0]


def test_rule_categorical_codes_compare_as_numbers_and_nan_scores_nothing():
    fw = one_leaf({"kind": "categorical", "categories": {0: 10, 2: 6}}, max_points=10)
    # -0.0 is category 0; 5 is no category; NaN is no value
    vals = values(("U1", "A", -0.0), ("U2", "A", 2.0), ("U3", "A", 5), ("U4", "A", math.nan))
    scores = run(fw, vals, units(*U4))
    assert column_of(scores, "A", U4) == [10, 6, 0, 0]
    # no category and not a number both take the missing-data rule
    assert [cell(scores, u, "A", "n_missing") for u in U4] == [0, 0, 1, 1]


def test_rule_steps_nan_scores_nothing_not_the_else_points():
    rule = {"kind": "steps", "thresholds": [[5, 10]], "else": 3}
    fw = one_leaf(rule, max_points=10)
    vals = values(("U1", "A", 7), ("U2", "A", 1), ("U3", "A", math.nan))
    scores = run(fw, vals, units(*U3))
    assert column_of(scores, "A", U3) == [10, 3, 0]
    assert cell(scores, "U3", "A", "n_missing") == 1


@pytest.mark.parametrize(
    "categories",
    [{"1.0": 10, "1": 6}, {"-0": 10, "0": 6}, {"Có": 10}, {0: 10, "2": 6}],
)
def test_a_categorical_code_listed_twice_or_not_a_number_is_refused(categories):
    from pipelines.framework.from_mapping import FrameworkError

    with pytest.raises(FrameworkError, match="category codes must be numbers, each listed once"):
        one_leaf({"kind": "categorical", "categories": categories}, max_points=10)


def test_rule_relative_best_higher_per_group():
    fw = one_leaf({"kind": "relative_best"}, max_points=20)
    vals = values(
        ("U1", "A", 50), ("U2", "A", 80), ("U3", "A", 20),
        ("V1", "A", 5), ("V2", "A", 10),
    )  # fmt: skip
    unit_frame = units(("U1", "g1"), ("U2", "g1"), ("U3", "g1"), ("V1", "g2"), ("V2", "g2"))
    scores = run(fw, vals, unit_frame)
    # best of g1 is 80: x / 80 × 20; best of g2 is 10: x / 10 × 20
    assert column_of(scores, "A", U3) == pytest.approx([50 / 80 * 20, 20, 20 / 80 * 20], abs=1e-12)
    assert column_of(scores, "A", ["V1", "V2"]) == pytest.approx([5 / 10 * 20, 20], abs=1e-12)


def test_rule_relative_best_lower():
    fw = one_leaf({"kind": "relative_best"}, max_points=20, direction="lower")
    vals = values(("U1", "A", 2), ("U2", "A", 4), ("U3", "A", 8))
    # best (lowest) is 2: best / x × 20
    assert column_of(run(fw, vals, units(*U3)), "A", U3) == pytest.approx(
        [20, 2 / 4 * 20, 2 / 8 * 20], abs=1e-12
    )


def test_rule_relative_best_lower_with_a_zero_best():
    fw = one_leaf({"kind": "relative_best"}, max_points=20, direction="lower")
    # 0 incidents is the best: full points; 5 incidents scores best / x × max = 0 / 5 × 20 = 0
    vals = values(("U1", "A", 0), ("U2", "A", 5))
    assert column_of(run(fw, vals, units("U1", "U2")), "A", ["U1", "U2"]) == pytest.approx(
        [20, 0], abs=1e-12
    )


def test_rule_direct_points_within_max():
    fw = one_leaf({"kind": "direct"}, max_points=10)
    vals = values(("U1", "A", 7.5), ("U2", "A", 0), ("U3", "A", 12))
    scores = run(fw, vals, units(*U3))
    assert cell(scores, "U1", "A") == 7.5
    assert cell(scores, "U2", "A") == 0
    assert 0 <= cell(scores, "U3", "A") <= 10  # never above the component's maximum


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "ratio", "target": 100},
        {"kind": "steps", "thresholds": [[1, 10]]},
        {"kind": "yesno"},
        {"kind": "categorical", "categories": {1: 10}},
        {"kind": "relative_best"},
        {"kind": "direct"},
    ],
    ids=lambda r: r["kind"],
)
def test_every_rule_missing_scores_zero(rule):
    fw = one_leaf(rule, max_points=10)
    vals = values(("U1", "A", 1), ("U2", "B", 3))  # U2 has no value for A
    scores = run(fw, vals, units("U1", "U2"))
    assert cell(scores, "U2", "A") == 0.0
    assert cell(scores, "U2", "A", "n_missing") == 1
    assert cell(scores, "U1", "A") > 0  # U1's 1 is worth something under every rule above
    assert cell(scores, "U1", "A", "n_missing") == 0
