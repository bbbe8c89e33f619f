"""Per-unit special rules (pipelines/scoring/rules.py) and the Huế classification readings.

Sơn La 2024 (docs/domain.md, "Sơn La"): a unit without subordinate units scores the
best points of its group on ``subordinate`` components; a unit without online public services
(DVCTT) scores (points on the non-DVCTT components ÷ their maximum) × max on ``dvctt`` components,
scope = the pillar (default) or the index; a special unit scores the maximum on
``function_specific`` components. Every expected number below is hand arithmetic.

The mini framework (tests/fixtures_rules/frameworks/sonla-mini.yaml), all rules ``direct``
(points = the value entered):
  P1 (20): A 10, B 10 [subordinate]
  P2 (50): C 20, D 20 [dvctt], E 10 [function_specific]
  P3 (30): F 30                                               index DTI = 100
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import polars as pl
import pytest
from scoring_fixtures import build, cell, column_of, leaf, node, values

from pipelines.framework.load import load_framework
from pipelines.framework.preset import PresetError, load_preset
from pipelines.scoring.engine import leaf_scores, score
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.rules import RuleSettings

FIXTURES = Path(__file__).parent / "fixtures_rules"
MINI = FIXTURES / "frameworks" / "sonla-mini.yaml"
ALL_RULES = RuleSettings(subordinate_best=True, dvctt_proportional=True, special_units_max=True)

# S1 ordinary; S2 without subordinates and without DVCTT; S3 special; S4 ordinary (F missing)
DATA = {
    "S1": {"A": 8, "B": 6, "C": 15, "D": 12, "E": 5, "F": 24},
    "S2": {"A": 6, "C": 10, "E": 4, "F": 18},
    "S3": {"A": 9, "B": 9, "C": 18, "D": 16, "F": 27},
    "S4": {"A": 5, "B": 7, "C": 12, "D": 14, "E": 6},
}
FLAGS = {  # has_subordinates, has_dvctt, is_special
    "S1": (True, True, False),
    "S2": (False, False, False),
    "S3": (True, True, True),
    "S4": (True, True, False),
}


def flagged_units(flags: dict[str, tuple], year: int = 2024, group: str = "g") -> pl.DataFrame:
    return pl.DataFrame(
        [(u, year, group, *f) for u, f in flags.items()],
        schema={
            "unit_id": pl.String,
            "year": pl.Int32,
            "group_id": pl.String,
            "has_subordinates": pl.Boolean,
            "has_dvctt": pl.Boolean,
            "is_special": pl.Boolean,
        },
        orient="row",
    )


def mini_values(data: dict[str, dict[str, float]] = DATA) -> pl.DataFrame:
    return values(*[(u, n, v) for u, row in data.items() for n, v in row.items()])


def mini_scores(rules=ALL_RULES, method="points", missing="zero", data=DATA, flags=FLAGS):
    return score(
        mini_values(data),
        flagged_units(flags),
        load_framework(MINI),
        MethodSpec(method, missing=missing),
        rules,
    )


# ---------------------------------------------------------------- special units


def test_special_unit_scores_max_on_function_specific():
    scores = mini_scores()
    assert cell(scores, "S3", "E") == 10  # nothing reported, max points of E
    assert cell(scores, "S3", "E", "n_missing") == 0
    assert cell(scores, "S3", "E", "rule_applied") == (
        "sonla.special_units_max: special unit, not its function → max 10"
    )
    # S3: 9 + 9 + 18 + 16 + 10 + 27
    assert cell(scores, "S3", "DTI") == 9 + 9 + 18 + 16 + 10 + 27
    # the other units keep their own E
    assert column_of(scores, "E", ["S1", "S4"]) == [5, 6]


def test_the_rules_notes_keep_the_leaf_frame_s_types():
    """The rules write notes with their numbers (text); the leaf frame's ``rule_applied`` is
    the categorical it is without rules, and reads as the same text."""
    leaves = leaf_scores(
        mini_values(), flagged_units(FLAGS), load_framework(MINI), MethodSpec("points"), ALL_RULES
    )
    assert leaves.schema["rule_applied"] == pl.Categorical
    note = leaves.filter((pl.col("unit_id") == "S3") & (pl.col("node_id") == "E"))
    assert note["rule_applied"].cast(pl.String).to_list() == [
        "sonla.special_units_max: special unit, not its function → max 10"
    ]


def test_special_rule_off_gives_the_missing_rule():
    scores = mini_scores(rules=RuleSettings(subordinate_best=True, dvctt_proportional=True))
    assert cell(scores, "S3", "E") == 0
    assert cell(scores, "S3", "E", "rule_applied") == "missing.zero: no value → 0"


# ---------------------------------------------------------------- no subordinate units


def test_no_subordinates_scores_the_best_of_the_group():
    scores = mini_scores()
    # B among units with subordinates: S1 6, S3 9, S4 7 → best 9 (S3)
    assert cell(scores, "S2", "B") == 9
    assert cell(scores, "S2", "B", "rule_applied") == (
        "sonla.subordinate_best: no subordinate units → best of the group 9 (S3)"
    )
    assert cell(scores, "S2", "B", "n_missing") == 0
    assert cell(scores, "S2", "P1") == 6 + 9


def test_no_subordinates_best_is_in_the_methods_points():
    scores = mini_scores(method="minmax")
    # min-max of B over S1 6, S3 9, S4 7: (9 − 6) / (9 − 6) × 10 = 10 for S3 → S2 gets 10
    assert cell(scores, "S3", "B") == pytest.approx((9 - 6) / (9 - 6) * 10, abs=1e-12)
    assert cell(scores, "S2", "B") == pytest.approx(10, abs=1e-12)
    assert cell(scores, "S4", "B") == pytest.approx((7 - 6) / (9 - 6) * 10, abs=1e-12)


def test_no_subordinates_overrides_a_reported_value():
    data = {**DATA, "S2": {**DATA["S2"], "B": 2}}
    scores = mini_scores(data=data)
    assert cell(scores, "S2", "B") == 9  # S2's own 2 is not "achieved by a unit with subordinates"


def test_no_subordinates_when_nobody_achieved_falls_to_the_missing_rule():
    data = {u: {k: v for k, v in row.items() if k != "B"} for u, row in DATA.items()}
    scores = mini_scores(data=data)
    assert cell(scores, "S2", "B") == 0
    assert cell(scores, "S2", "B", "n_missing") == 1
    assert cell(scores, "S2", "B", "rule_applied") == (
        "sonla.subordinate_best: no unit of the group scored this leaf → missing.zero: no value → 0"
    )


def test_no_subordinates_nobody_achieved_keeps_a_reported_value():
    data = {u: {k: v for k, v in row.items() if k != "B"} for u, row in DATA.items()}
    data["S2"]["B"] = 3
    scores = mini_scores(data=data)
    assert cell(scores, "S2", "B") == 3
    assert cell(scores, "S2", "B", "rule_applied") == (
        "sonla.subordinate_best: no unit of the group scored this leaf → points.direct"
    )


def test_unknown_flag_never_triggers_a_rule():
    flags = {**FLAGS, "S2": (None, None, None)}
    scores = mini_scores(flags=flags)
    assert cell(scores, "S2", "B") == 0  # missing → 0, not the best of the group
    assert cell(scores, "S2", "D") == 0


# ---------------------------------------------------------------- no DVCTT


def test_no_dvctt_proportional_pillar_scope():
    scores = mini_scores()
    # P2 without D: C 10 + E 4 = 14 of 20 + 10 = 30 → 14 / 30 × 20
    assert cell(scores, "S2", "D") == pytest.approx(14 / 30 * 20, abs=1e-12)
    assert cell(scores, "S2", "D", "rule_applied") == (
        "sonla.dvctt_proportional(scope=pillar): 14/30 × 20"
    )
    assert cell(scores, "S2", "D", "z") is None
    # S2's total: A 6 + B 9 + C 10 + D 28/3 + E 4 + F 18
    assert cell(scores, "S2", "DTI") == pytest.approx(6 + 9 + 10 + 14 / 30 * 20 + 4 + 18)


def test_no_dvctt_proportional_index_scope():
    rules = RuleSettings(
        subordinate_best=True, dvctt_proportional=True, dvctt_scope="index", special_units_max=True
    )
    scores = mini_scores(rules=rules)
    # every non-DVCTT leaf: A 6 + B 9 (best of group) + C 10 + E 4 + F 18 = 47 of
    # 10 + 10 + 20 + 10 + 30 = 80 → 47 / 80 × 20 = 11.75
    assert cell(scores, "S2", "D") == pytest.approx(47 / 80 * 20, abs=1e-12)
    assert cell(scores, "S2", "D", "rule_applied") == (
        "sonla.dvctt_proportional(scope=index): 47/80 × 20"
    )


def test_no_dvctt_with_exclude_leaves_excluded_components_out():
    data = {**DATA, "S2": {"A": 6, "C": 10, "F": 18}}  # E missing too
    scores = mini_scores(missing="exclude", data=data)
    # E is excluded: P2's base is C alone, 10 / 20 × 20 = 10
    assert cell(scores, "S2", "E", "excluded") is True
    assert cell(scores, "S2", "D") == pytest.approx(10 / 20 * 20, abs=1e-12)
    # P2 re-weighted over C and D (max 40): (10 + 10) / 40 × 50
    assert cell(scores, "S2", "P2") == pytest.approx((10 + 10) / 40 * 50, abs=1e-12)


def test_no_dvctt_pillar_of_only_dvctt_components_uses_the_index():
    fw = build(
        node("P1", leaf("A", 20), leaf("B", 20)),
        node("P2", leaf("D1", 30, flags=["dvctt"]), leaf("D2", 30, flags=["dvctt"])),
    )
    vals = values(("U1", "A", 10), ("U1", "B", 5))
    scores = score(
        vals,
        flagged_units({"U1": (True, False, False)}),
        fw,
        MethodSpec("points"),
        RuleSettings(dvctt_proportional=True),
    )
    # P2 has no non-DVCTT component: (10 + 5) / (20 + 20) × 30 for each
    assert column_of(scores, "D1", ["U1"]) == pytest.approx([15 / 40 * 30], abs=1e-12)
    assert cell(scores, "U1", "D2", "rule_applied") == (
        "sonla.dvctt_proportional(scope=index: pillar P2 has no scored non-DVCTT component): "
        "15/40 × 30"
    )
    assert cell(scores, "U1", "DTI") == pytest.approx(15 + 2 * 15 / 40 * 30, abs=1e-12)


def test_no_dvctt_and_nothing_to_be_proportional_to():
    fw = build(node("P1", leaf("D1", 30, flags=["dvctt"])), node("P2", leaf("A", 10)))
    scores = score(
        values(("U1", "D1", 5)),  # A missing and excluded for both: there is no base at all
        flagged_units({"U1": (True, False, False), "U2": (True, False, False)}),
        fw,
        MethodSpec("points", missing="exclude"),
        RuleSettings(dvctt_proportional=True),
    )
    # U1 reported D1: it keeps the points of its own value
    assert cell(scores, "U1", "D1") == 5
    assert cell(scores, "U1", "D1", "rule_applied") == (
        "sonla.dvctt_proportional: no non-DVCTT component scored → points.direct"
    )
    assert cell(scores, "U1", "DTI") == pytest.approx(5 / 30 * 40, abs=1e-12)  # P2 excluded
    # U2 reported nothing: the missing-data rule
    assert cell(scores, "U2", "D1", "excluded") is True
    assert cell(scores, "U2", "D1", "rule_applied") == (
        "sonla.dvctt_proportional: no non-DVCTT component scored → "
        "missing.exclude: no value → left out, siblings re-weighted"
    )
    assert cell(scores, "U2", "DTI") == 0
    assert cell(scores, "U2", "DTI", "ratio") is None
    assert cell(scores, "U2", "DTI", "excluded") is True


def test_flags_on_a_component_cover_its_criteria():
    fw = build(
        node(
            "P1",
            leaf("A", 20),
            node("K", leaf("K1", 10), leaf("K2", 10), node_type="component", flags=["dvctt"]),
        )
    )
    scores = score(
        values(("U1", "A", 15)),
        flagged_units({"U1": (True, False, False)}),
        fw,
        MethodSpec("points"),
        RuleSettings(dvctt_proportional=True),
    )
    # K1 and K2 inherit dvctt: each 15 / 20 × 10; K = 15
    assert column_of(scores, "K1", ["U1"]) == [15 / 20 * 10]
    assert cell(scores, "U1", "K") == pytest.approx(15 / 20 * 20, abs=1e-12)


def test_precedence_special_then_subordinate_then_dvctt():
    fw = build(
        node(
            "P1",
            leaf("X", 10, flags=["function_specific", "subordinate", "dvctt"]),
            leaf("Y", 10, flags=["subordinate", "dvctt"]),
            leaf("Z", 20),
        )
    )
    vals = values(("U1", "Y", 4), ("U1", "Z", 10), ("U2", "Z", 5), ("U2", "X", 3))
    flags = {"U1": (True, True, False), "U2": (False, False, True)}
    scores = score(vals, flagged_units(flags), fw, MethodSpec("points"), ALL_RULES)
    assert cell(scores, "U2", "X") == 10  # special first
    assert cell(scores, "U2", "Y") == 4  # then the best of the group (U1's 4), not DVCTT
    assert cell(scores, "U2", "Y", "rule_applied").startswith("sonla.subordinate_best")


def test_rules_off_change_nothing():
    on = mini_scores(rules=RuleSettings())
    off = mini_scores(rules=None)
    assert on.equals(off)
    assert cell(off, "S2", "B") == 0 and cell(off, "S2", "D") == 0


def test_rule_settings_from_mapping():
    assert RuleSettings.from_mapping(None) == RuleSettings()
    assert RuleSettings.from_mapping({"dvctt_proportional": True, "dvctt_scope": "index"}) == (
        RuleSettings(dvctt_proportional=True, dvctt_scope="index")
    )
    with pytest.raises(ValueError, match="unknown rules"):
        RuleSettings.from_mapping({"dvctt": True})
    with pytest.raises(ValueError, match="dvctt_scope"):
        RuleSettings.from_mapping({"dvctt_scope": "group"})
    with pytest.raises(ValueError, match="true or false"):
        RuleSettings.from_mapping({"subordinate_best": "yes"})


# ---------------------------------------------------------------- classification readings

HUE_BANDS = [
    {"label": "Mức I", "min_ratio": 0.90},
    {"label": "Mức II", "min_ratio": 0.80},
    {"label": "Mức III", "min_ratio": 0.75},
    {"label": "Mức IV", "min_ratio": 0.70},
]


def hue_scores(reading: str | None, pillar_minimum: bool = False):
    classification = {"id": "hue", "bands": HUE_BANDS, "pillar_minimum": pillar_minimum}
    fw = build(node("P1", leaf("A", 8)), node("P2", leaf("B", 92)), classification=classification)
    vals = values(
        ("H1", "A", 8), ("H1", "B", 85),  # 93: P1 1.0, P2 85/92 = 0.924
        ("H2", "A", 6), ("H2", "B", 86),  # 92: P1 0.75 < 0.90, 0.80, but ≥ 0.75
        ("H3", "A", 8), ("H3", "B", 60),  # 68: below Mức IV → not classified
        ("H4", "A", 4), ("H4", "B", 88),  # 92: P1 0.5 below every band
    )  # fmt: skip
    return score(
        vals, flagged_units({u: (True, True, False) for u in ("H1", "H2", "H3", "H4")}), fw,
        MethodSpec("points"), reading=reading,
    )  # fmt: skip


def test_hue_total_only_reading():
    scores = hue_scores("total_only", pillar_minimum=True)  # the preset overrides the framework
    assert column_of(scores, "DTI", ["H1", "H2", "H3", "H4"], "class_label") == [
        "Mức I", "Mức I", None, "Mức I",
    ]  # fmt: skip


def test_hue_total_and_pillars_reading():
    scores = hue_scores("total_and_pillars")
    # H2: total 0.92 but P1 6/8 = 0.75 → Mức III (0.75); H4: P1 4/8 = 0.5 < 0.70 → none
    assert column_of(scores, "DTI", ["H1", "H2", "H3", "H4"], "class_label") == [
        "Mức I", "Mức III", None, None,
    ]  # fmt: skip


def test_reading_none_uses_the_framework():
    assert column_of(hue_scores(None, pillar_minimum=True), "DTI", ["H2"], "class_label") == [
        "Mức III"
    ]
    assert column_of(hue_scores(None), "DTI", ["H2"], "class_label") == ["Mức I"]
    with pytest.raises(ValueError, match="reading"):
        hue_scores("pillars_only")


# ---------------------------------------------------------------- preset and warehouse stages


def test_preset_reads_every_setting():
    preset = load_preset(FIXTURES / "presets" / "sonla-mini.yaml")
    assert preset.missing == "exclude"
    assert preset.classification_reading == "total_and_pillars"
    assert preset.rules == ALL_RULES
    assert preset.method_spec("minmax") == MethodSpec("minmax", missing="exclude")
    assert preset.lineage.height == 2
    daklak = load_preset("daklak")  # the shipped preset still loads, with the defaults
    assert (daklak.missing, daklak.rules, daklak.lineage.height) == ("zero", RuleSettings(), 0)
    assert daklak.classification_reading is None


def test_preset_rejects_unknown_values(tmp_path):
    text = (FIXTURES / "presets" / "sonla-mini.yaml").read_text(encoding="utf-8")
    for old, new, message in [
        ("missing: exclude", "missing: drop", "missing"),
        ("reading: total_and_pillars", "reading: pillars", "classification.reading"),
        ("dvctt_scope: pillar", "dvctt_scope: group", "dvctt_scope"),
    ]:
        (tmp_path / "presets").mkdir(exist_ok=True)
        path = tmp_path / "presets" / "bad.yaml"
        path.write_text(text.replace(old, new), encoding="utf-8")
        with pytest.raises(PresetError, match=message):
            load_preset(path)


@pytest.fixture
def warehouse(tmp_path) -> duckdb.DuckDBPyConnection:
    from pipelines.store.warehouse import connect

    con = connect(tmp_path / "w.duckdb")
    yield con
    con.close()


def insert_observations(con, year: int, data: dict[str, dict[str, float]]) -> None:
    from pipelines.store.warehouse import insert_frame

    rows = [
        {
            "year": year,
            "level": "department",
            "unit_id": u,
            "indicator_id": n,
            "value": float(v),
            "framework_id": "sonla-mini",
            "framework_version": "TEST/2024",
        }
        for u, row in data.items()
        for n, v in row.items()
    ]
    insert_frame(con, "observations", pl.DataFrame(rows))


def test_stages_apply_the_preset_and_store_the_audit(warehouse):
    import json

    from pipelines.evaluate.stages import compute_leaf_scores, compute_node_scores, compute_ranks
    from pipelines.publish.snapshot import take_snapshots
    from pipelines.store.checks import run_check
    from pipelines.store.reference import store_reference

    preset = load_preset(FIXTURES / "presets" / "sonla-mini.yaml")
    store_reference(warehouse, preset, 2024)
    insert_observations(warehouse, 2024, DATA)
    compute_leaf_scores(warehouse, preset, 2024, allow_blocked=True)
    compute_node_scores(warehouse, preset, 2024)
    compute_ranks(warehouse, preset, 2024)
    audit = dict(
        warehouse.execute(
            "SELECT unit_id || '/' || node_id, rule_applied FROM leaf_scores "
            "WHERE method = 'points' AND node_id IN ('B', 'D', 'E') AND unit_id IN ('S2', 'S3')"
        ).fetchall()
    )
    assert (
        audit["S2/B"] == "sonla.subordinate_best: no subordinate units → best of the group 9 (S3)"
    )
    assert audit["S2/D"] == "sonla.dvctt_proportional(scope=pillar): 14/30 × 20"
    assert audit["S3/E"] == "sonla.special_units_max: special unit, not its function → max 10"
    totals = dict(
        warehouse.execute(
            "SELECT unit_id, points FROM scores WHERE method = 'points' AND node_id = 'DTI'"
        ).fetchall()
    )
    # S4's F is missing and excluded → P3 excluded → DTI over P1 and P2: (12 + 32) / 70 × 100
    assert totals["S4"] == pytest.approx((5 + 7 + 12 + 14 + 6) / 70 * 100, abs=1e-9)
    assert totals["S1"] == pytest.approx(70, abs=1e-9)
    classes = dict(
        warehouse.execute(
            "SELECT unit_id, class_label FROM scores WHERE method = 'points' AND node_id = 'DTI'"
        ).fetchall()
    )
    # S1: total 0.70 but P2 32/50 = 0.64 < 0.70 → Trung bình under total_and_pillars
    assert classes["S1"] == "Trung bình"
    # S3: 89/100, pillars 18/20, 44/50, 27/30 → Tốt
    assert classes["S3"] == "Tốt"
    for check in ("parts_add_up", "points_within_maximum", "ranks_form_a_ranking"):
        assert run_check(warehouse, check, 2024).passed, check
    records = take_snapshots(warehouse, preset, 2024)
    params = json.loads(
        warehouse.execute(
            "SELECT params_json FROM snapshots WHERE snapshot_id = ?", [records[0].snapshot_id]
        ).fetchone()[0]
    )
    assert params["missing"] == "exclude"
    assert params["classification_reading"] == "total_and_pillars"
    assert params["rules"] == {
        "subordinate_best": True,
        "dvctt_proportional": True,
        "dvctt_scope": "pillar",
        "special_units_max": True,
    }
    assert params["lineage"]["file"] == "sonla-mini.csv"
    assert not any(
        math.isnan(v) for (v,) in warehouse.execute("SELECT points FROM node_scores").fetchall()
    )
