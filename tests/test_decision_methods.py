"""The decisions' own method choices (docs/scoring.md), each on hand-computed numbers.

- Đắk Lắk 2534 leads with its appendices' points scale; min-max and z-score are comparisons.
"""

from __future__ import annotations

import pytest
from scoring_fixtures import build, cell, leaf, node, units, values

from pipelines.preset import load_preset
from pipelines.scoring.engine import score
from pipelines.scoring.methods import MethodSpec

# ---------------------------------------------------------------- Đắk Lắk's headline method


def test_daklak_leads_with_the_points_scale():
    preset = load_preset("daklak")
    assert preset.primary_method == "points"
    assert preset.methods == ("points", "minmax", "zscore")  # the comparisons stay computed


def test_daklak_primary_keeps_an_unchanged_unit_unchanged():
    """A keeps 6 (of 10) in both years while B improves 4 → 8: by the decision's points A
    scores 6 both years; min-max on each year's observed range drops A from 10 to 0."""
    fw = build(node("P1", leaf("C1", 10)))
    vals = values(("A", 2023, "C1", 6.0), ("B", 2023, "C1", 4.0),
                  ("A", 2024, "C1", 6.0), ("B", 2024, "C1", 8.0))  # fmt: skip
    groups = units(("A", 2023, "g"), ("B", 2023, "g"), ("A", 2024, "g"), ("B", 2024, "g"))
    preset = load_preset("daklak")
    primary = score(vals, groups, fw, preset.method_spec(preset.primary_method))
    assert [cell(primary, "A", "P1", year=y) for y in (2023, 2024)] == [6, 6]
    minmax = score(vals, groups, fw, MethodSpec("minmax"))
    # 2023: (6 − 4) / (6 − 4) × 10 = 10; 2024: (6 − 6) / (8 − 6) × 10 = 0
    assert cell(minmax, "A", "P1", year=2023) == pytest.approx(10)
    assert cell(minmax, "A", "P1", year=2024) == pytest.approx(0)


# ---------------------------------------------------------------- degenerate groups


def test_a_no_that_every_unit_answers_scores_nothing_under_minmax():
    """Yes/no leaf of 10 points: every unit answers 0 → max = min; nobody achieved it, so
    min-max gives the rubric's 0 (it gave the maximum 10 before)."""
    fw = build(node("P1", leaf("Y", 10, {"kind": "yesno"}), leaf("D", 20)))
    vals = values(("U1", "Y", 0), ("U2", "Y", 0), ("U3", "Y", 0),
                  ("U1", "D", 4), ("U2", "D", 8), ("U3", "D", 6))  # fmt: skip
    scores = score(vals, units("U1", "U2", "U3"), fw, MethodSpec("minmax"))
    assert [cell(scores, u, "Y") for u in ("U1", "U2", "U3")] == [0, 0, 0]
    assert cell(scores, "U1", "Y", "rule_applied") == (
        "minmax(observed; max = min → n = rubric points ÷ max)"
    )
    # the spread leaf D is untouched: (6 − 4) / (8 − 4) × 20 = 10
    assert cell(scores, "U3", "D") == pytest.approx(10)
    assert cell(scores, "U3", "P1") == pytest.approx(0 + 10)


def test_a_yes_that_every_unit_answers_and_steps_of_a_single_unit():
    """Every unit answers 1 on a yes/no leaf → the rubric's 10 (the maximum); a single unit's
    value 55 on a steps leaf (≥ 80 → 6, ≥ 50 → 3, else 0) → 3 of 6, not 6."""
    steps = {"kind": "steps", "thresholds": [[80, 6], [50, 3]], "else": 0}
    fw = build(node("P1", leaf("Y", 10, {"kind": "yesno"}), leaf("S", 6, steps)))
    vals = values(("U1", "Y", 1), ("U2", "Y", 1), ("U1", "S", 55))
    scores = score(vals, units("U1", "U2"), fw, MethodSpec("minmax"))
    assert [cell(scores, u, "Y") for u in ("U1", "U2")] == [10, 10]
    assert cell(scores, "U1", "S") == pytest.approx(3)
    assert cell(scores, "U1", "S", "ratio") == pytest.approx(3 / 6)
    assert cell(scores, "U2", "S") == 0  # nothing reported: missing → 0
