"""Method comparison (pipelines/analysis/compare.py) with hand-computed values.

Units A–D on the tiny framework (tests/analysis_support.py, HAND_VALUES):

rubric points  A 25 + 15 + 30 + 30 = 100    B 12.5 + 15 + 30 + 15 = 72.5
               C 20 + 15 + 10 + 7.5 = 52.5  D 12.5 + 0 + 30 + 30 = 72.5
               ranks A 1, B 2, D 2, C 4 (ties share the lowest rank)
min-max        P1.1 over [50, 100]: A 25, B 0, C 15, D 0; P1.2: 15, 15, 15, 0;
(observed)     P2.1 over [1, 5]: 22.5, 22.5, 0, 30; P2.2 (days, lower is better) over [1, 4]:
               30, 20, 0, 30 → A 92.5, B 57.5, C 30, D 60; ranks A 1, D 2, B 3, C 4

Ranks (A, B, C, D): points (1, 2, 4, 2), min-max (1, 3, 4, 2). Spearman = Pearson of the
average ranks (1, 2.5, 4, 2.5) and (1, 3, 4, 2): Σxy = 4.5, Σx² = 4.5, Σy² = 5 → √0.9.
Kendall τ-b: 5 concordant pairs, 0 discordant, one tie in the first ranking → 5 / √(5 × 6).
"""

from __future__ import annotations

import math

import polars as pl
import pytest
from analysis_support import ASEM, hand_input

from pipelines.analysis.compare import compare_methods, rank_correlation
from pipelines.scoring.choices import MISSING_RULES


def test_spearman_and_kendall_of_tiny_rankings_by_hand():
    # one swap in four: d² = 1 + 1 → 1 − 6·2 / (4·15) = 0.8; τ = (5 − 1) / 6
    result = rank_correlation([1, 2, 3, 4], [2, 1, 3, 4])
    assert result["spearman"] == pytest.approx(0.8)
    assert result["kendall"] == pytest.approx(4 / 6)
    reversed_ = rank_correlation([1, 2, 3, 4], [4, 3, 2, 1])
    assert reversed_["spearman"] == pytest.approx(-1.0)
    assert reversed_["kendall"] == pytest.approx(-1.0)


def test_undefined_correlations_are_none_never_nan():
    assert rank_correlation([1, 1, 1], [1, 2, 3])["spearman"] is None
    assert rank_correlation([1, 2], [2, 1])["kendall"] is None


def test_hand_computed_scenarios_ranks_and_correlations():
    result = compare_methods(
        hand_input(), settings=("points", "minmax:observed"), missing_rules=("zero",)
    )
    assert result.reference == "minmax:observed|zero"
    ranks = {
        (row["scenario"], row["unit_id"]): (row["points"], row["rank"])
        for row in result.scores.iter_rows(named=True)
    }
    assert ranks[("points|zero", "A")] == (100.0, 1)
    assert ranks[("points|zero", "B")] == (72.5, 2)
    assert ranks[("points|zero", "D")] == (72.5, 2)
    assert ranks[("points|zero", "C")] == (52.5, 4)
    assert [ranks[("minmax:observed|zero", u)] for u in "ABCD"] == [
        (92.5, 1),
        (57.5, 3),
        (30.0, 4),
        (60.0, 2),
    ]
    pair = result.correlations.filter(pl.col("group_id") == "*").row(0, named=True)
    assert pair["spearman"] == pytest.approx(math.sqrt(0.9))
    assert pair["kendall"] == pytest.approx(5 / math.sqrt(30))
    assert pair["n_units"] == 4


def test_moves_and_class_changes_against_the_reference():
    result = compare_methods(
        hand_input(), settings=("points", "minmax:observed"), missing_rules=("zero",)
    )
    shift = {
        row["unit_id"]: row["rank_shift"]
        for row in result.scores.filter(pl.col("scenario") == "points|zero").iter_rows(named=True)
    }
    assert shift == {"A": 0, "B": 1, "C": 0, "D": 0}  # B: 3rd by min-max, 2nd by points
    moves = result.moves.filter(pl.col("unit_id") == "B").row(0, named=True)
    assert (moves["largest_shift"], moves["scenario"], moves["reference_rank"]) == (
        1,
        "points|zero",
        3,
    )
    # classes (tiny bands ≥ .85 Tốt, ≥ .70 Khá, ≥ .50 Trung bình): min-max B .575 TB,
    # C .30 Yếu, D .60 TB; points B .725 Khá, C .525 TB, D .725 Khá
    changes = {
        row["unit_id"]: (row["reference_class"], row["class_label"])
        for row in result.class_changes.iter_rows(named=True)
    }
    assert changes == {
        "B": ("Trung bình", "Khá"),
        "C": ("Yếu", "Trung bình"),
        "D": ("Trung bình", "Khá"),
    }
    assert not result.scores.filter(pl.col("scenario") == result.reference)["class_changed"].any()
    versus = result.versus_reference()
    assert versus.filter(pl.col("scenario") == "points|zero")["units_moved"][0] == 1


def test_every_setting_and_missing_rule_is_a_scenario():
    values = {
        "A": {"P1.1": 100.0, "P1.2": 1.0, "P2.1": 4.0, "P2.2": None},
        "B": {"P1.1": 50.0, "P1.2": None, "P2.1": 4.0, "P2.2": 2.0},
        "C": {"P1.1": 80.0, "P1.2": 1.0, "P2.1": 1.0, "P2.2": 4.0},
        "D": {"P1.1": None, "P1.2": 0.0, "P2.1": 5.0, "P2.2": 1.0},
    }
    result = compare_methods(hand_input(values))
    assert len(result.scenarios) == 6 * len(MISSING_RULES)
    assert set(result.scores["missing"]) == set(MISSING_RULES)
    table = result.rank_table()
    assert table.columns[2] == result.reference and table.height == 4
    # 18 scenarios → 153 pairs, each for the group and for '*'
    assert result.correlations.height == 153 * 2


def test_groups_are_ranked_apart_and_pooled_by_size():
    groups = {"A": "g1", "B": "g1", "C": "g1", "D": "g2"}
    result = compare_methods(
        hand_input(groups=groups), settings=("points", "minmax:observed"), missing_rules=("zero",)
    )
    g2 = result.scores.filter(pl.col("unit_id") == "D")
    assert set(g2["rank"]) == {1}  # alone in its group
    corr = {row["group_id"]: row for row in result.correlations.iter_rows(named=True)}
    # g1 ranks: points A1 B2 C3, min-max A1 B2 C3 → 1; g2 has one unit → undefined
    assert corr["g1"]["spearman"] == pytest.approx(1.0)
    assert corr["g2"]["spearman"] is None
    assert corr["*"]["spearman"] == pytest.approx(1.0) and corr["*"]["n_units"] == 4


def test_asem_comparison_runs():
    from pipelines.analysis.inputs import from_files

    result = compare_methods(from_files(ASEM / "iMeta.csv", ASEM / "raw_iData_full.csv"))
    versus = result.versus_reference()
    assert versus.height == 18
    assert versus["spearman"].min() > 0.8  # the methods broadly agree on ASEM …
    assert result.moves["largest_shift"].abs().max() >= 5  # … but some countries move a lot
