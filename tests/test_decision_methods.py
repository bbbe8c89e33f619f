"""The decisions' own method choices (docs/scoring.md), each on hand-computed numbers.

- Đắk Lắk 2534 leads with its appendices' points scale; min-max and z-score are comparisons.
- A min-max group without spread takes the rubric's points (no points for what nobody achieved).
- Huế 3043's levels read the table: the total and every pillar at the band's ratio.
- Each preset covers the years its decision governs.
- Sơn La: the DVCTT base is the whole index (both scopes shown where the class changes); special
  units are exempted per unit.
- Illustrative presets (Ninh Thuận's weights, Thanh Hóa's generated communes) say so.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from scoring_fixtures import build, cell, leaf, node, units, values

from dti_cli.arguments import years_arg
from pipelines.evaluate.dvctt_scopes import scope_class_changes
from pipelines.framework.assumed import illustrative_notice
from pipelines.framework.preset import load_preset
from pipelines.report.contents import Band
from pipelines.report.readings import reading_differences
from pipelines.scoring.engine import score
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.rules import RuleSettings

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


@pytest.mark.parametrize(
    ("method", "no_spread", "d_points"),
    [
        # D spreads: (x − 4) / (8 − 4) × 20 → U1 0, U2 20, U3 10
        ("minmax", "minmax(observed; max = min → n = rubric points ÷ max)", [0, 20, 10]),
        # D: mean 6, sample sd 2 → z −1, 1, 0 → Φ(z) × 20
        ("zscore", "zscore(cdf; sd = 0 → n = rubric points ÷ max)", [3.1731051, 16.8268949, 10]),
    ],
)
def test_no_spread_scores_by_the_rubric_under_both_methods(method, no_spread, d_points):
    """Yes/no leaves of 10 points: every unit answers "no" on N → 0 points each, every unit
    answers "yes" on Y → the rubric's full 10 each; the same one rule for min-max (max = min)
    and z-score (sd = 0), where z-score gave Φ(0) × 10 = 5 to everyone before."""
    yesno = {"kind": "yesno"}
    fw = build(node("P1", leaf("N", 10, yesno), leaf("Y", 10, yesno), leaf("D", 20)))
    vals = values(
        ("U1", "N", 0), ("U2", "N", 0), ("U3", "N", 0),
        ("U1", "Y", 1), ("U2", "Y", 1), ("U3", "Y", 1),
        ("U1", "D", 4), ("U2", "D", 8), ("U3", "D", 6),
    )  # fmt: skip
    scores = score(vals, units("U1", "U2", "U3"), fw, MethodSpec(method))
    unit_ids = ("U1", "U2", "U3")
    assert [cell(scores, u, "N") for u in unit_ids] == [0, 0, 0]
    assert [cell(scores, u, "Y") for u in unit_ids] == [10, 10, 10]
    assert cell(scores, "U1", "N", "rule_applied") == no_spread
    assert [cell(scores, u, "D") for u in unit_ids] == pytest.approx(d_points, abs=1e-6)
    # the pillar: 0 + 10 + D
    assert cell(scores, "U3", "P1") == pytest.approx(0 + 10 + 10, abs=1e-9)


def test_a_single_unit_under_zscore_scores_by_the_rubric():
    """One unit's value (fewer than two values: no sd) → its rubric points: a yes/no "no" → 0,
    a steps value 55 (≥ 80 → 6, ≥ 50 → 3) → 3 of 6 (not Φ(0) × 6 = 3 by chance: 0 for "no")."""
    steps = {"kind": "steps", "thresholds": [[80, 6], [50, 3]], "else": 0}
    fw = build(node("P1", leaf("Y", 10, {"kind": "yesno"}), leaf("S", 6, steps)))
    scores = score(values(("U1", "Y", 0), ("U1", "S", 55)), units("U1"), fw, MethodSpec("zscore"))
    assert cell(scores, "U1", "Y") == 0
    assert cell(scores, "U1", "S") == pytest.approx(3)
    assert cell(scores, "U1", "Y", "z") == 0.0
    assert cell(scores, "U1", "Y", "rule_applied") == (
        "zscore(cdf; fewer than 2 values → n = rubric points ÷ max)"
    )


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


# ---------------------------------------------------------------- Huế's levels

HUE_BANDS = [
    {"label": "Mức I", "min_ratio": 0.90},
    {"label": "Mức II", "min_ratio": 0.80},
    {"label": "Mức III", "min_ratio": 0.75},
    {"label": "Mức IV", "min_ratio": 0.70},
]


def test_hue_reads_the_table_by_default():
    """96/100 with the 2-point pillar at 1/2: Mức I on the total alone, unclassified by the
    table (P8 at 0.5 reaches no band's 0.70); 92 with P1 90/98 = 0.918 and P8 2/2: Mức I both."""
    preset = load_preset("hue")
    assert preset.classification_reading == "total_and_pillars"
    classification = {"id": "hue", "bands": HUE_BANDS, "pillar_minimum": False}
    fw = build(node("P1", leaf("A", 98)), node("P8", leaf("B", 2)), classification=classification)
    vals = values(("H1", "A", 95), ("H1", "B", 1), ("H2", "A", 90), ("H2", "B", 2))
    table = score(vals, units("H1", "H2"), fw, MethodSpec("points"), reading="total_and_pillars")
    default = score(vals, units("H1", "H2"), fw, MethodSpec("points"),
                    reading=preset.classification_reading)  # fmt: skip
    total_only = score(vals, units("H1", "H2"), fw, MethodSpec("points"), reading="total_only")
    assert cell(default, "H1", "DTI") == 96
    assert [cell(s, "H1", "DTI", "class_label") for s in (default, table, total_only)] == [
        None, None, "Mức I"
    ]  # fmt: skip
    assert [cell(s, "H2", "DTI", "class_label") for s in (default, total_only)] == [
        "Mức I", "Mức I"
    ]  # fmt: skip


def test_report_lists_the_units_whose_level_differs_between_readings():
    bands = [Band(b["label"], b["min_ratio"], "#fff") for b in HUE_BANDS]
    totals = pl.DataFrame(
        {"unit_id": ["H1", "H2", "H3"], "unit_name": ["Sở A", "Sở B", "Sở C"],
         "ratio": [0.96, 0.92, 0.85]}
    )  # fmt: skip
    # H1: P8 0.5 → none; H2: every pillar ≥ 0.9 → same; H3: total 0.85 (Mức II), P1 0.76 → Mức III
    pillars = pl.DataFrame(
        {"unit_id": ["H1", "H1", "H2", "H2", "H3", "H3"],
         "ratio": [0.969, 0.5, 0.918, 1.0, 0.76, 1.0]}
    )  # fmt: skip
    assert reading_differences(totals, pillars, bands, "total_and_pillars") == [
        {"name": "Sở A", "total_only": "Mức I", "total_and_pillars": "Không xếp loại"},
        {"name": "Sở C", "total_only": "Mức II", "total_and_pillars": "Mức III"},
    ]
    # a report read on the total alone (a decision without the table) lists nothing
    assert reading_differences(totals, pillars, bands, "total_only") == []


# ---------------------------------------------------------------- years each decision governs


def test_presets_cover_the_years_their_decisions_govern():
    """Đắk Lắk 2534 from the 2022 evaluation (2021 was 2425's) to 2024 (no district level after
    1 July 2025); Huế 3043 for 2021–2022 (replaced in 2023); Sơn La's 2024 decision cited by
    number."""
    daklak = load_preset("daklak")
    assert (daklak.first_year, daklak.last_year) == (2022, 2024)
    assert years_arg(daklak, None) == [2022, 2023, 2024]  # the demo's years
    hue = load_preset("hue")
    assert (hue.first_year, hue.last_year) == (2021, 2022)
    sonla = load_preset("sonla")
    assert sonla.decision == "1287/QĐ-UBND (2024)"
    assert (sonla.first_year, sonla.last_year) == (2024, 2024)


# ---------------------------------------------------------------- Sơn La's rules as written

SONLA_BANDS = [
    {"label": "Tốt", "min_ratio": 0.85},
    {"label": "Khá", "min_ratio": 0.50},
    {"label": "Yếu", "min_ratio": 0.0},
]


def _flagged(rows: list[tuple[str, bool, bool, bool]]) -> pl.DataFrame:
    """``(unit, has_subordinates, has_dvctt, is_special)`` in :data:`YEAR`, one group."""
    return pl.DataFrame(
        [(u, 2024, "g", *flags) for u, *flags in rows],
        schema={"unit_id": pl.String, "year": pl.Int32, "group_id": pl.String,
                "has_subordinates": pl.Boolean, "has_dvctt": pl.Boolean,
                "is_special": pl.Boolean},
        orient="row",
    )  # fmt: skip


def test_sonla_preset_reads_the_rules_as_written():
    rules = load_preset("sonla").rules
    assert rules.dvctt_scope == "index"
    assert dict(rules.special_units) == {"SL-S-TTR": ("P3.3", "P6.8"), "SL-S-BDT": ("P6.8",)}
    leaves = {c.id for c in load_preset("sonla").framework("department").of_type("component")}
    assert {c for _, ids in rules.special_units for c in ids} <= leaves


def test_special_units_are_exempted_per_unit():
    """X is exempted on A only, Y on B only: each gets the maximum 10 on its own component and
    keeps its value (2 or 3) on the other; Z (not special) keeps both."""
    fw = build(node("P1", leaf("A", 10), leaf("B", 10)))
    vals = values(*[(u, c, v) for u in ("X", "Y", "Z") for c, v in (("A", 2), ("B", 3))])
    unit_frame = _flagged([("X", True, True, True), ("Y", True, True, True),
                           ("Z", True, True, False)])  # fmt: skip
    rules = RuleSettings.from_mapping({"special_units_max": True,
                                       "special_units": {"X": ["A"], "Y": ["B"]}})  # fmt: skip
    scores = score(vals, unit_frame, fw, MethodSpec("points"), rules)
    assert [cell(scores, u, "A") for u in ("X", "Y", "Z")] == [10, 2, 2]
    assert [cell(scores, u, "B") for u in ("X", "Y", "Z")] == [3, 10, 3]
    assert [cell(scores, u, "P1") for u in ("X", "Y", "Z")] == [13, 12, 5]
    assert rules.params()["special_units"] == {"X": ["A"], "Y": ["B"]}


def test_dvctt_base_is_the_whole_index_and_both_scopes_are_shown_where_the_class_changes():
    """W has no DVCTT: A 10/10, C 2/10, D (DVCTT, 10) pro rata. Index base: (10 + 2) / 20 × 10
    = 6 → 18/30 = 0.6 Khá; pillar base (P2's C only): 2/10 × 10 = 2 → 14/30 = 0.467 Yếu.
    V reports everything (24/30 = 0.8 Khá either way) and is not listed."""
    classification = {"id": "sonla", "bands": SONLA_BANDS}
    fw = build(
        node("P1", leaf("A", 10)),
        node("P2", leaf("C", 10), leaf("D", 10, flags=["dvctt"])),
        classification=classification,
    )
    vals = values(("W", "A", 10), ("W", "C", 2), ("V", "A", 8), ("V", "C", 8), ("V", "D", 8))
    unit_frame = _flagged([("W", True, False, False), ("V", True, True, False)])
    rules = RuleSettings(dvctt_proportional=True, dvctt_scope="index")
    scores = score(vals, unit_frame, fw, MethodSpec("points"), rules)
    assert cell(scores, "W", "D") == pytest.approx(6)
    assert cell(scores, "W", "DTI", "class_label") == "Khá"
    changes = scope_class_changes(vals, unit_frame, fw, MethodSpec("points"), rules)
    assert changes.to_dicts() == [
        {"unit_id": "W", "year": 2024, "points_index": pytest.approx(18), "class_index": "Khá",
         "points_pillar": pytest.approx(14), "class_pillar": "Yếu"}
    ]  # fmt: skip


# ---------------------------------------------------------------- illustrative presets


def test_illustrative_presets_say_so():
    ninhthuan, thanhhoa = load_preset("ninhthuan"), load_preset("thanhhoa")
    assert "minh họa" in ninhthuan.illustrative and "400 điểm" in ninhthuan.illustrative
    assert "minh họa" in thanhhoa.illustrative and "268 xã" in thanhhoa.illustrative
    for name in ("daklak", "hue", "sonla", "national-922"):
        assert load_preset(name).illustrative is None
    notice = illustrative_notice(thanhhoa.illustrative)
    assert notice == {"banner": f"Minh họa: {thanhhoa.illustrative}", "accepted": None}
    assert illustrative_notice(None) is None


def test_every_report_page_and_annex_sheet_of_an_illustrative_preset_says_so(tmp_path):
    """The tiny preset marked illustrative: the sentence is on every page (base template) and
    every annex sheet, through the assumed-components banner's mechanism."""
    import duckdb
    import openpyxl
    import reliability_support as support
    import yaml

    from pipelines.report import build_year_annex, build_year_report

    fixtures = Path(__file__).parent / "fixtures"
    for folder in ("presets", "frameworks", "units"):
        (tmp_path / folder).mkdir()
    shutil.copy(fixtures / "units" / "tiny.csv", tmp_path / "units" / "tiny.csv")
    shutil.copy(fixtures / "frameworks" / "tiny.yaml", tmp_path / "frameworks" / "tiny.yaml")
    spec = yaml.safe_load((fixtures / "presets" / "tiny.yaml").read_text(encoding="utf-8"))
    spec["preset"]["years"] = {"from": 2024, "to": 2024}
    spec["preset"]["illustrative"] = "Bộ chỉ số thử nghiệm này chỉ là minh họa."
    path = tmp_path / "presets" / "illustrative.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    preset = load_preset(path)
    warehouse, *_ = support.scored_once(tmp_path / "home", preset, 2024)
    out = tmp_path / "report"
    con = duckdb.connect(str(warehouse))
    try:
        build_year_report(con, preset, 2024, out, data_docs=False)
        build_year_annex(con, preset, 2024, out)
    finally:
        con.close()
    banner = "Minh họa: Bộ chỉ số thử nghiệm này chỉ là minh họa."
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 5
    missing = [p for p in pages if banner not in p.read_text(encoding="utf-8")]
    assert missing == []
    book = openpyxl.load_workbook(out / "2024" / "phu-luc-DTI-2024.xlsx")
    for sheet in book.worksheets:
        strings = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
        assert strings.count(banner) == 1, sheet.title


def test_sonla_method_page_shows_both_dvctt_bases_where_the_class_changes(tmp_path):
    """Sơn La's demo year through the warehouse and the report: the method page lists exactly
    the units whose class differs when the DVCTT base is the pillar instead of the index."""
    import duckdb
    import reliability_support as support

    from pipelines.analysis.inputs import load_input
    from pipelines.evaluate.dvctt_scopes import report_scope_changes
    from pipelines.report import build_year_report

    preset = load_preset("sonla")
    warehouse, *_ = support.scored_once(tmp_path, preset, 2024)
    con = duckdb.connect(str(warehouse))
    try:
        shown = report_scope_changes(con, preset, 2024, ["department", "district"])
        inp = load_input(con, preset, 2024, "department")
        build_year_report(con, preset, 2024, tmp_path / "report", data_docs=False)
    finally:
        con.close()
    assert set(shown) == {"department", "district"}
    # the units without DVCTT, scored both ways by the engine, class by class
    by_scope = {}
    for scope in ("index", "pillar"):
        rules = RuleSettings(**{**inp.rules.params(), "dvctt_scope": scope,
                                "special_units": inp.rules.special_units})  # fmt: skip
        scores = score(inp.values, inp.units, inp.framework, inp.nominal, rules, inp.reading)
        totals = scores.filter(pl.col("node_id") == inp.framework.root_id)
        by_scope[scope] = dict(zip(totals["unit_id"], totals["class_label"], strict=True))
    changed = sorted(u for u in by_scope["index"] if by_scope["index"][u] != by_scope["pillar"][u])
    assert [r["name"] for r in shown["department"]] == [inp.names[u] for u in changed]
    page = (tmp_path / "report" / "2024" / "phuong-phap.html").read_text(encoding="utf-8")
    assert "Quy tắc đơn vị không có DVCTT" in page
    for row in shown["department"]:
        assert f"<td>{row['name']}</td><td>{row['index']}</td><td>{row['pillar']}</td>" in page
