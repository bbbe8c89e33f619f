"""Method settings (pipelines/scoring/methods.py, normalise.py, engine.py, aggregate.py).

docs/domain.md, "Scoring methods": missing data 0 points by default, or "exclude and re-weight over
the present siblings, level by level", or "group mean"; min-max bounds observed in the year's
group, pooled over years, or fixed goalposts (from the framework or a reference year) with or
without clipping; z-score to points by Φ(z) × max or by rescaling the aggregated z; degenerate
groups defined and never NaN. Every expected number is hand arithmetic.
"""

from __future__ import annotations

import math

import polars as pl
import pytest
from click.testing import CliRunner
from scoring_fixtures import build, cell, column_of, leaf, node, units, values

from pipelines.scoring.engine import score
from pipelines.scoring.methods import MethodSpec

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


def rows(unit_id: str, *points: float | None) -> list[tuple]:
    return [(unit_id, n, p) for n, p in zip(LEAVES, points, strict=True) if p is not None]


def run(fw, vals, unit_frame, method="points", **settings):
    return score(vals, unit_frame, fw, MethodSpec(method, **settings))


# ---------------------------------------------------------------- MethodSpec


def test_method_spec_defaults_and_params():
    spec = MethodSpec("minmax")
    assert spec == MethodSpec(method="minmax", missing="zero")
    assert (spec.missing, spec.minmax_bounds, spec.clip, spec.zscore_mode) == (
        "zero", "observed", True, "cdf",
    )  # fmt: skip
    assert spec.params() == {
        "method": "minmax",
        "missing": "zero",
        "minmax_bounds": "observed",
        "clip": True,
        "zscore_mode": "cdf",
        "reference_year": None,
        "rank_precision": {"decimals": None, "of": "points"},
        "ties": "min",
        "zscore_rescale": "ratio = clip(0.5 + 0.1 z, 0, 1)",
    }
    assert MethodSpec("minmax", minmax_bounds="pooled").needs_other_years
    assert not MethodSpec("zscore", minmax_bounds="pooled").needs_other_years


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"missing": "drop"}, "missing-data rule"),
        ({"minmax_bounds": "fixed"}, "min-max bounds"),
        ({"zscore_mode": "tscore"}, "z-score mode"),
        ({"reference_year": 2023}, "reference_year"),
    ],
)
def test_method_spec_rejects_unknown_settings(settings, message):
    with pytest.raises(ValueError, match=message):
        MethodSpec("minmax", **settings)


# ---------------------------------------------------------------- missing: mean


def test_missing_mean_is_the_group_mean_of_the_leaf_points():
    fw = build(*TREE)
    vals = values(*rows("U1", 4, 30, 20, 10, 20), *rows("U2", 8, 30, 20, 10, 20))
    vals = vals.vstack(values(("U3", "B", 30)))
    scores = run(fw, vals, units("U1", "U2", "U3"), missing="mean")
    assert cell(scores, "U3", "A") == (4 + 8) / 2
    assert cell(scores, "U3", "A", "rule_applied") == (
        "missing.mean: no value → mean of 2 reported = 6"
    )
    assert cell(scores, "U3", "A", "n_missing") == 1
    assert cell(scores, "U3", "P1") == 6 + 30
    assert cell(scores, "U3", "DTI") == 6 + 30 + 20 + 10 + 20


def test_missing_mean_takes_the_mean_of_points_not_of_values():
    fw = build(node("P1", leaf("A", 10)), node("P2", leaf("B", 10)))
    vals = values(("U1", "A", 40), ("U2", "A", 60), ("U2", "B", 1), ("U3", "B", 1))
    scores = run(fw, vals, units("U1", "U2", "U3"), "minmax", missing="mean")
    # min-max of A over 40, 60: U1 0, U2 10 → U3 gets (0 + 10) / 2
    assert column_of(scores, "A", ["U1", "U2", "U3"]) == [0, 10, 5]
    assert cell(scores, "U3", "A", "z") is None


def test_missing_mean_with_nobody_reporting_is_zero():
    fw = build(node("P1", leaf("A", 10)), node("P2", leaf("B", 10)))
    vals = values(("U1", "B", 3), ("U2", "B", 5), ("V1", "A", 7))
    scores = run(fw, vals, units(("U1", "g1"), ("U2", "g1"), ("V1", "g2")), missing="mean")
    # in g1 nobody reported A; the 7 of g2 does not count
    assert column_of(scores, "A", ["U1", "U2"]) == [0, 0]
    assert cell(scores, "U1", "A", "rule_applied") == (
        "missing.mean: no value and nobody in the group → 0"
    )
    assert cell(scores, "V1", "B") == 0  # g2: nobody reported B


# ---------------------------------------------------------------- missing: exclude


def exclude_scores(method: str = "points"):
    fw = build(*TREE, classification={"id": "c", "bands": [{"label": "Đạt", "min_ratio": 0.5}]})
    vals = values(
        *rows("U1", 15, None, 8, None, 4),  # B and D missing
        *rows("U2", 10, 20, None, 5, 10),  # C missing: the whole of P2
        *rows("U4", 20, 30, None, None, None),  # all of G2 and P2 missing
    )
    return run(fw, vals, units("U1", "U2", "U3", "U4"), method, missing="exclude")


def test_exclude_reweights_over_present_siblings_level_by_level():
    scores = exclude_scores()
    # P1: A alone, 15 of 20 → 15 / 20 × 50; P2: 8; G1: no child excluded → 37.5 + 8
    assert cell(scores, "U1", "P1") == 15 / 20 * 50
    assert cell(scores, "U1", "G1") == 15 / 20 * 50 + 8
    # P3: E alone, 4 of 20 → 4 / 20 × 30; G2 = P3; DTI = G1 + G2
    assert cell(scores, "U1", "P3") == pytest.approx(4 / 20 * 30, abs=1e-12)
    assert cell(scores, "U1", "DTI") == pytest.approx(37.5 + 8 + 6, abs=1e-12)
    assert cell(scores, "U1", "B", "excluded") is True
    assert cell(scores, "U1", "B", "points") == 0
    assert cell(scores, "U1", "B", "ratio") is None
    assert cell(scores, "U1", "DTI", "n_missing") == 2


def test_exclude_a_whole_pillar():
    scores = exclude_scores()
    # P2 has no present child: excluded; G1 over P1 only: (10 + 20) / 50 × 70
    assert cell(scores, "U2", "P2", "excluded") is True
    assert cell(scores, "U2", "P2", "ratio") is None
    assert cell(scores, "U2", "G1") == pytest.approx((10 + 20) / 50 * 70, abs=1e-12)
    assert cell(scores, "U2", "DTI") == pytest.approx(42 + 15, abs=1e-12)
    # U4: G2 excluded, G1 over P1: 50 / 50 × 70 = 70; DTI over G1: 70 / 70 × 100
    assert cell(scores, "U4", "G2", "excluded") is True
    assert cell(scores, "U4", "DTI") == pytest.approx(100, abs=1e-12)


def test_exclude_everything_missing_gives_zero_and_no_ratio_nor_class():
    scores = exclude_scores()
    assert cell(scores, "U3", "DTI") == 0
    assert cell(scores, "U3", "DTI", "excluded") is True
    assert cell(scores, "U3", "DTI", "ratio") is None
    assert cell(scores, "U3", "DTI", "class_label") is None
    assert cell(scores, "U3", "DTI", "rank") == 4  # last, with 0 points
    assert cell(scores, "U1", "DTI", "class_label") == "Đạt"  # 51.5 / 100


def test_exclude_with_nothing_missing_is_the_plain_sum():
    fw = build(*TREE)
    vals = values(*rows("U1", 15, 21, 8, 10, 4))
    zero = run(fw, vals, units("U1"), missing="zero")
    excluded = run(fw, vals, units("U1"), missing="exclude")
    assert zero.drop("rule_applied").equals(excluded.drop("rule_applied"))


def test_exclude_in_views_and_composites():
    fw = build(
        *TREE,
        views=[
            {"id": "V_GOV", "name": "Chính quyền số", "over": ["G1", "P3"], "divisor": 200},
            {"id": "V_X", "name": "Xã hội số", "over": ["P2", "P3"]},
        ],
        composites=[{"id": "C1", "name": "1726", "weights": {"V_GOV": 0.4, "V_X": 0.3, "P1": 0.3}}],
    )
    vals = values(*rows("U2", 10, 20, None, 5, 10), *rows("U4", 20, 30, None, None, None))
    scores = run(fw, vals, units("U2", "U4"), missing="exclude")
    # U2: V_X over P2 (excluded) and P3 (15 of 30): 15 × (20 + 30) / 30 = 25 of 50
    assert cell(scores, "U2", "V_X") == pytest.approx(25, abs=1e-12)
    assert cell(scores, "U2", "V_X", "ratio") == pytest.approx(0.5, abs=1e-12)
    # U2: V_GOV = G1 42 + P3 15 (none excluded) = 57 of 200
    assert cell(scores, "U2", "V_GOV") == pytest.approx(57, abs=1e-12)
    # U4: V_X excluded; V_GOV over G1 (70 of 70) → 70 × (70 + 30) / 70 = 100 of 200;
    # C1 re-weighted over V_GOV and P1: (0.4 × 0.5 + 0.3 × 1) / (0.4 + 0.3) × 1
    assert cell(scores, "U4", "V_X", "excluded") is True
    assert cell(scores, "U4", "V_GOV") == pytest.approx(100, abs=1e-12)
    assert cell(scores, "U4", "C1") == pytest.approx((0.4 * 0.5 + 0.3 * 1) / 0.7, abs=1e-12)


# ---------------------------------------------------------------- min-max bounds

ONE = (node("P1", leaf("A", 10)), node("P2", leaf("B", 10)))


def test_minmax_pooled_bounds_over_all_years():
    fw = build(*ONE)
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
    scores = run(fw, vals, unit_frame, "minmax", minmax_bounds="pooled")
    # pooled over 2023 and 2024: lo 10, hi 70
    assert cell(scores, "U1", "A", year=2023) == 0
    assert cell(scores, "U2", "A", year=2023) == pytest.approx((30 - 10) / 60 * 10, abs=1e-12)
    assert cell(scores, "U1", "A", year=2024) == pytest.approx((50 - 10) / 60 * 10, abs=1e-12)
    assert cell(scores, "U3", "A", year=2024) == pytest.approx(10, abs=1e-12)
    assert cell(scores, "U1", "A", "rule_applied", 2024) == "minmax(pooled)"


def test_minmax_pooled_with_history_from_other_years():
    fw = build(*ONE)
    this_year = values(("U1", 2024, "A", 50), ("U2", 2024, "A", 60))
    history = values(("U1", 2023, "A", 10), ("U2", 2023, "A", 90)).with_columns(
        pl.lit("g").alias("group_id")
    )
    scores = score(
        this_year,
        units(("U1", 2024, "g"), ("U2", 2024, "g")),
        fw,
        MethodSpec("minmax", minmax_bounds="pooled"),
        history=history,
    )
    # lo 10 (2023), hi 90 (2023): (50 − 10) / 80 × 10, (60 − 10) / 80 × 10
    assert column_of(scores, "A", ["U1", "U2"]) == pytest.approx([5, 6.25], abs=1e-12)


def goalpost_framework(direction: str = "higher"):
    return build(
        node("P1", leaf("A", 20, direction=direction, goalposts=[0, 100])),
        node("P2", leaf("B", 10)),
    )


def test_minmax_framework_goalposts_clipped():
    vals = values(("U1", "A", 50), ("U2", "A", 120), ("U3", "A", -10), ("U1", "B", 2))
    vals = vals.vstack(values(("U2", "B", 4), ("U3", "B", 6)))
    scores = run(goalpost_framework(), vals, units("U1", "U2", "U3"), "minmax",
                 minmax_bounds="goalposts")  # fmt: skip
    # (x − 0) / (100 − 0) × 20, clipped to [0, 20]
    assert column_of(scores, "A", ["U1", "U2", "U3"]) == pytest.approx([10, 20, 0], abs=1e-12)
    assert cell(scores, "U2", "A", "rule_applied") == "minmax(goalposts [0, 100]; clipped)"
    assert cell(scores, "U1", "A", "rule_applied") == "minmax(goalposts [0, 100])"
    # B has no goalposts: observed bounds 2..6, said so
    assert column_of(scores, "B", ["U1", "U2", "U3"]) == pytest.approx([0, 5, 10], abs=1e-12)
    assert cell(scores, "U1", "B", "rule_applied") == "minmax(observed: no goalposts)"


def test_minmax_framework_goalposts_not_clipped():
    vals = values(("U1", "A", 50), ("U2", "A", 120), ("U3", "A", -10))
    scores = run(goalpost_framework(), vals, units("U1", "U2", "U3"), "minmax",
                 minmax_bounds="goalposts", clip=False)  # fmt: skip
    assert column_of(scores, "A", ["U1", "U2", "U3"]) == pytest.approx(
        [50 / 100 * 20, 120 / 100 * 20, -10 / 100 * 20], abs=1e-12
    )  # 10, 24, −2
    assert cell(scores, "U2", "A", "rule_applied") == (
        "minmax(goalposts [0, 100]; beyond the bounds, not clipped)"
    )


def test_minmax_goalposts_lower_is_better():
    vals = values(("U1", "A", 20), ("U2", "A", 0), ("U3", "A", 100))
    scores = run(goalpost_framework("lower"), vals, units("U1", "U2", "U3"), "minmax",
                 minmax_bounds="goalposts")  # fmt: skip
    # signed bounds [−100, 0]: (−x + 100) / 100 × 20
    assert column_of(scores, "A", ["U1", "U2", "U3"]) == pytest.approx([16, 20, 0], abs=1e-12)


def reference_scores(reference: list[float], current: list[float], clip: bool = True):
    fw = build(*ONE)
    vals = values(
        *[(f"U{i}", 2023, "A", x) for i, x in enumerate(reference, 1)],
        *[(f"U{i}", 2024, "A", x) for i, x in enumerate(current, 1)],
    )
    unit_frame = units(
        *[(f"U{i}", 2023, "g") for i in range(1, len(reference) + 1)],
        *[(f"U{i}", 2024, "g") for i in range(1, len(current) + 1)],
    )
    return run(fw, vals, unit_frame, "minmax", minmax_bounds="goalposts", reference_year=2023,
               clip=clip)  # fmt: skip


def test_minmax_goalposts_from_a_reference_year():
    scores = reference_scores([10, 30], [20, 40])
    # bounds of 2023: [10, 30] → 2024: (20 − 10) / 20 × 10 = 5; 40 clipped to 10
    assert cell(scores, "U1", "A", year=2024) == pytest.approx(5, abs=1e-12)
    assert cell(scores, "U2", "A", year=2024) == pytest.approx(10, abs=1e-12)
    assert cell(scores, "U1", "A", "rule_applied", 2024) == "minmax(goalposts of 2023)"
    unclipped = reference_scores([10, 30], [20, 40], clip=False)
    assert cell(unclipped, "U2", "A", year=2024) == pytest.approx((40 - 10) / 20 * 10, abs=1e-12)


def test_minmax_reference_year_with_equal_bounds():
    scores = reference_scores([10, 10], [20, 5, 10])
    # 2023 bounds [10, 10]: no spread → the rubric (direct, max 10): 20 → 10, 5 → 5, 10 → 10
    assert [cell(scores, u, "A", year=2024) for u in ("U1", "U2", "U3")] == [10, 5, 10]
    assert cell(scores, "U1", "A", "rule_applied", 2024) == (
        "minmax(goalposts of 2023; max = min → n = rubric points ÷ max)"
    )


def test_minmax_reference_year_without_the_group_uses_observed():
    fw = build(*ONE)
    vals = values(("U1", 2023, "A", 10), ("V1", 2024, "A", 4), ("V2", 2024, "A", 8))
    unit_frame = units(("U1", 2023, "g1"), ("V1", 2024, "g2"), ("V2", 2024, "g2"))
    scores = run(fw, vals, unit_frame, "minmax", minmax_bounds="goalposts", reference_year=2023)
    assert [cell(scores, u, "A", year=2024) for u in ("V1", "V2")] == [0, 10]
    assert cell(scores, "V1", "A", "rule_applied", 2024) == "minmax(observed: group absent in 2023)"


# ---------------------------------------------------------------- z-score rescaled


def test_zscore_rescaled_leaf_points():
    fw = build(*ONE)
    vals = values(("U1", "A", 1), ("U2", "A", 2), ("U3", "A", 3))
    scores = run(fw, vals, units("U1", "U2", "U3"), "zscore", zscore_mode="rescaled")
    # z = −1, 0, 1 (mean 2, sample sd 1) → (0.5 + 0.1 z) × 10
    assert column_of(scores, "A", ["U1", "U2", "U3"]) == pytest.approx([4, 5, 6], abs=1e-12)
    assert column_of(scores, "A", ["U1", "U2", "U3"], "z") == pytest.approx([-1, 0, 1])
    assert cell(scores, "U1", "A", "rule_applied") == "zscore(rescaled)"


def test_zscore_rescaled_node_points_are_the_map_of_the_aggregated_z():
    fw = build(*TREE)
    vals = values(
        *rows("U1", 1, 30, 5, 2, 0), *rows("U2", 2, 20, 4, 4, 10), *rows("U3", 3, 10, 6, 6, 20)
    )
    scores = run(fw, vals, units("U1", "U2", "U3"), "zscore", zscore_mode="rescaled")
    # U1 leaf z: A −1, B 1, C 0 (mean), D −1, E −1 → points 0.4·20, 0.6·30, 0.5·20, 0.4·10, 0.4·20
    assert cell(scores, "U1", "DTI") == pytest.approx(8 + 18 + 10 + 4 + 8, abs=1e-12)
    # aggregated z of the total: (−20 + 30 + 0 − 10 − 20) / 100 = −0.2 → 0.5 − 0.02 = 0.48
    assert cell(scores, "U1", "DTI", "z") == pytest.approx(-0.2, abs=1e-12)
    for unit in ("U1", "U2", "U3"):
        for n in ("P1", "P2", "P3", "G1", "G2", "DTI"):
            z = cell(scores, unit, n, "z")
            assert cell(scores, unit, n, "ratio") == pytest.approx(0.5 + 0.1 * z, abs=1e-12)


def test_zscore_rescaled_with_exclude_is_the_level_by_level_z():
    fw = build(*TREE)
    vals = values(
        *rows("U1", 1, None, 5, 2, None), *rows("U2", 2, 20, 4, 4, 10), *rows("U3", 3, 10, 6, 6, 20)
    )
    scores = run(fw, vals, units("U1", "U2", "U3"), "zscore", zscore_mode="rescaled",
                 missing="exclude")  # fmt: skip
    # U1: A z −1 (0.4 × 20 = 8), C z 0 (0.5 × 20 = 10), D z −1 (0.4 × 10 = 4); B, E excluded
    # P1 = 8 / 20 × 50 = 20 (ratio 0.4); P3 = 4 / 10 × 30 = 12 (ratio 0.4); total 20 + 10 + 12
    assert cell(scores, "U1", "P1") == pytest.approx(8 / 20 * 50, abs=1e-12)
    assert cell(scores, "U1", "DTI") == pytest.approx(20 + 10 + 12, abs=1e-12)
    # = 0.5 + 0.1 × the level-by-level z (P1 −1 × 50, P2 0 × 20, P3 −1 × 30) / 100 = −0.8
    assert cell(scores, "U1", "DTI", "ratio") == pytest.approx(0.5 + 0.1 * -0.8, abs=1e-12)
    # the stored aggregated z is that level-by-level z too (not the flat mean over A, C, D,
    # (−20 + 0 − 10) / 50 = −0.6): the ratio is the T-score line of the stored z
    assert cell(scores, "U1", "DTI", "z") == pytest.approx(-0.8, abs=1e-12)


def test_zscore_rescaled_is_clipped_beyond_five_sd():
    fw = build(*ONE)
    ids = [f"U{i:02d}" for i in range(30)]
    vals = values(*[(u, "A", 1.0 if u == "U00" else 0.0) for u in ids])
    scores = run(fw, vals, units(*ids), "zscore", zscore_mode="rescaled")
    # mean 1/30, sample sd sqrt(1/30): the outlier's z = 29 / √30 = 5.29 → 0.5 + 0.529 → 1
    assert cell(scores, "U00", "A", "z") == pytest.approx(29 / math.sqrt(30), abs=1e-12)
    assert cell(scores, "U00", "A") == 10
    assert cell(scores, "U01", "A") == pytest.approx(
        (0.5 + 0.1 * (-1 / 30) / math.sqrt(1 / 30)) * 10, abs=1e-12
    )


# ---------------------------------------------------------------- degenerate groups, every mode

SETTINGS = [
    ("points", {}),
    ("minmax", {}),
    ("minmax", {"minmax_bounds": "pooled"}),
    ("minmax", {"minmax_bounds": "goalposts"}),
    ("minmax", {"minmax_bounds": "goalposts", "reference_year": 2024, "clip": False}),
    ("zscore", {}),
    ("zscore", {"zscore_mode": "rescaled"}),
]


@pytest.mark.parametrize("missing", ["zero", "mean", "exclude"])
@pytest.mark.parametrize(("method", "settings"), SETTINGS)
def test_degenerate_groups_are_defined_and_never_nan(method, settings, missing):
    fw = build(node("P1", leaf("A", 20), leaf("B", 10)), node("P2", leaf("C", 10)))
    vals = values(
        ("U1", "A", 5), ("U2", "A", 5), ("U3", "A", 5),  # all equal
        ("U1", "B", 7),  # one value among missing
        ("V1", "A", 3),  # a group of one unit; C reported by nobody anywhere
    )  # fmt: skip
    unit_frame = units(("U1", "g"), ("U2", "g"), ("U3", "g"), ("V1", "h"))
    scores = run(fw, vals, unit_frame, method, missing=missing, **settings)
    for column in ("points", "ratio", "z"):
        assert not any(math.isnan(v) for v in scores[column].drop_nulls()), column
    assert scores["points"].null_count() == 0
    # all equal / a single unit: min-max and z-score fall back to the rubric
    # (direct rule: points = the value 5), not Φ(0) or 0.5 + 0 → 20 / 2
    expected = {"points": 5, "minmax": 5, "zscore": 5}[method]
    assert column_of(scores, "A", ["U1", "U2", "U3"]) == pytest.approx([expected] * 3, abs=1e-12)
    if missing == "exclude":
        assert cell(scores, "U1", "C", "excluded") is True
        # P2 excluded: the total is P1 re-weighted to 40 points
        p1 = cell(scores, "U1", "P1")
        assert cell(scores, "U1", "DTI") == pytest.approx(p1 / 30 * 40, abs=1e-9)
    else:
        assert cell(scores, "U1", "C") == 0  # nobody reported C: 0 under zero and mean


# ---------------------------------------------------------------- command line

SMALL = {
    "framework": {
        "id": "small", "version": "1", "name": "Nhỏ", "scale": 100,
        "tree": [
            {"id": "P1", "type": "pillar", "name": "P1", "max_points": 60, "children": [
                {"id": "A", "type": "component", "name": "A", "max_points": 40,
                 "rule": {"kind": "direct"}},
                {"id": "B", "type": "component", "name": "B", "max_points": 20,
                 "rule": {"kind": "direct"}}]},
            {"id": "P2", "type": "pillar", "name": "P2", "max_points": 40, "children": [
                {"id": "C", "type": "component", "name": "C", "max_points": 40,
                 "rule": {"kind": "direct"}}]},
        ],
    }
}  # fmt: skip


def cli_score(tmp_path, *options: str):
    import yaml

    from dti_cli.main import cli

    fw = tmp_path / "small.yaml"
    fw.write_text(yaml.safe_dump(SMALL, allow_unicode=True), encoding="utf-8")
    data = tmp_path / "data.csv"
    data.write_text(
        "unit_id,year,indicator_id,value\nU1,2024,A,30\nU1,2024,B,NA\nU1,2024,C,20\n"
        "U2,2024,A,10\nU2,2024,B,10\nU2,2024,C,40\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        cli, ["score", "--framework", str(fw), "--data", str(data), "--out", str(out), *options]
    )
    return result, out


def test_cli_missing_exclude_and_explain(tmp_path):
    result, out = cli_score(tmp_path, "--method", "points", "--missing", "exclude", "--explain")
    assert result.exit_code == 0, result.output
    assert "(1 missing → left out, siblings re-weighted)" in result.output
    frame = pl.read_csv(out)
    assert frame.columns == [
        "unit_id", "year", "node_id", "node_level", "points", "max_points", "ratio", "rank",
        "rule_applied",
    ]  # fmt: skip
    got = {(r["unit_id"], r["node_id"]): r for r in frame.iter_rows(named=True)}
    # U1: P1 = A alone, 30 of 40 → 30 / 40 × 60 = 45; total 45 + 20
    assert got["U1", "P1"]["points"] == pytest.approx(45, abs=1e-12)
    assert got["U1", "DTI"]["points"] == pytest.approx(65, abs=1e-12)
    assert got["U1", "B"]["rule_applied"].startswith("missing.exclude")
    assert got["U1", "A"]["rule_applied"] == "points.direct"
    assert got["U1", "P1"]["rule_applied"] is None


def test_cli_default_output_is_unchanged(tmp_path):
    result, out = cli_score(tmp_path, "--method", "points")
    assert result.exit_code == 0, result.output
    assert "(1 missing → 0 points)" in result.output
    assert pl.read_csv(out).columns == [
        "unit_id", "year", "node_id", "node_level", "points", "max_points", "ratio", "rank",
    ]  # fmt: skip


def test_cli_mean_and_rescaled_and_bad_combination(tmp_path):
    result, out = cli_score(tmp_path, "--method", "zscore", "--zscore", "rescaled",
                            "--missing", "mean")  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(out)
    assert frame.columns[-1] == "z"
    # A: 30, 10 → z = ±1/√2 → (0.5 ± 0.1/√2) × 40
    a = {r["unit_id"]: r["points"] for r in frame.iter_rows(named=True) if r["node_id"] == "A"}
    assert a["U1"] == pytest.approx((0.5 + 0.1 / math.sqrt(2)) * 40, abs=1e-12)
    # B: only U2 reported → z = 0 → 10 for U2, and U1 gets the mean of the group = 10
    b = {r["unit_id"]: r["points"] for r in frame.iter_rows(named=True) if r["node_id"] == "B"}
    assert b == {"U1": pytest.approx(10), "U2": pytest.approx(10)}
    result, _ = cli_score(tmp_path, "--method", "minmax", "--reference-year", "2023")
    assert result.exit_code == 2
    assert "reference_year" in result.output


@pytest.mark.parametrize(
    ("goalposts", "where"),
    [([5, 5], "A"), ([10, 0], "A"), (["a", 1], "A"), ([0, 1, 2], "A"), ([0, 10], "P1")],
)
def test_goalposts_are_checked_when_the_framework_loads(goalposts, where):
    from pipelines.framework.from_mapping import FrameworkError

    a = leaf("A", 10, goalposts=goalposts) if where == "A" else leaf("A", 10)
    p1 = node("P1", a, goalposts=goalposts) if where == "P1" else node("P1", a)
    with pytest.raises(FrameworkError, match="goalposts"):
        build(p1)


def test_preset_method_settings(tmp_path):
    from pipelines.framework.preset import PresetError, load_preset

    (tmp_path / "presets").mkdir()
    path = tmp_path / "presets" / "p.yaml"
    base = """preset:
  id: p
  name: "P"
  units: units/p.csv
  years: {from: 2023, to: 2024}
  levels: {district: {framework: frameworks/p.yaml}}
  methods:
    computed: [minmax, zscore]
    minmax_bounds: goalposts
    reference_year: 2023
    clip: false
    zscore_mode: rescaled
"""
    path.write_text(base, encoding="utf-8")
    for named in ("units/p.csv", "frameworks/p.yaml"):  # the files a preset names must exist
        (tmp_path / named).parent.mkdir(exist_ok=True)
        (tmp_path / named).touch()
    preset = load_preset(path)
    assert preset.method_spec("minmax") == MethodSpec(
        "minmax", minmax_bounds="goalposts", reference_year=2023, clip=False,
        zscore_mode="rescaled",
    )  # fmt: skip
    assert preset.method_spec("zscore").needs_other_years is False
    path.write_text(base.replace("bounds: goalposts", "bounds: observed"), encoding="utf-8")
    with pytest.raises(PresetError, match="reference_year"):
        load_preset(path)
