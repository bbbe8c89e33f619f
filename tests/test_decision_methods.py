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

