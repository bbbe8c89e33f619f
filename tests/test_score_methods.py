"""``score_methods``: every method through the one path (grid → leaf stage → nodes → ranks),
the grid built once and shared; hand-computed scores, and the properties the sharing must keep
(no method changes another's frame, rows in any order and keys as categoricals give the same
bits)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from scoring_fixtures import build, cell, leaf, node, units, values

from pipelines.framework.preset import load_preset
from pipelines.framework.registry import comparison_groups, units_in_year
from pipelines.intake.demo import DemoSettings, demo_values
from pipelines.scoring.engine import SCORE_COLUMNS, score, score_methods
from pipelines.scoring.grid import complete_grid
from pipelines.scoring.methods import MethodSpec

SPECS = {
    "points": MethodSpec("points"),
    "minmax": MethodSpec("minmax"),
    "zscore": MethodSpec("zscore"),
    "points_mean": MethodSpec("points", missing="mean"),
    "minmax_mean": MethodSpec("minmax", missing="mean"),
    "zscore_mean": MethodSpec("zscore", missing="mean"),
    "minmax_exclude": MethodSpec("minmax", missing="exclude"),
    "points_exclude": MethodSpec("points", missing="exclude"),
    "minmax_goalposts": MethodSpec("minmax", minmax_bounds="goalposts"),
    "minmax_goalposts_noclip": MethodSpec("minmax", minmax_bounds="goalposts", clip=False),
    "minmax_pooled": MethodSpec("minmax", minmax_bounds="pooled"),
    "zscore_rescaled": MethodSpec("zscore", zscore_mode="rescaled"),
}


def _demo(name: str, level: str | None = None, years: int = 2):
    preset = load_preset(name)
    level = level or next(iter(preset.levels))
    setup = preset.levels[level]
    framework = preset.framework(level)
    year = preset.first_year
    settings = DemoSettings(
        **{k: v for k, v in preset.demo.items() if k in DemoSettings.__annotations__}
    )
    units = units_in_year(preset.registry, level, year)
    span = [year + i for i in range(years)]
    demo = demo_values(framework, units, span, settings)
    values = demo.select(
        "unit_id", "year", "node_id",
        pl.coalesce("appraised_value", "self_value").alias("value"),
    )  # fmt: skip
    flags = [c for c in ("has_subordinates", "has_dvctt", "is_special") if c in units.columns]
    groups = pl.concat([comparison_groups(units, setup.comparison_group, y) for y in span]).join(
        units.select("unit_id", *flags), on="unit_id"
    )
    return preset, framework, values, groups


def _assert_same(got: pl.DataFrame, want: pl.DataFrame) -> None:
    assert got.columns == SCORE_COLUMNS
    assert got.schema == want.schema
    assert_frame_equal(got, want, check_exact=True)
    for column in ("points", "ratio", "z"):  # bit for bit (−0.0 included)
        a, b = got[column].to_numpy(), want[column].to_numpy()
        assert np.array_equal(a.view(np.int64), b.view(np.int64)), column


def test_three_methods_by_hand():
    """Two leaves of 10 points (direct rule), three units, one group:
    A = 2, 4, 6; B = 10, missing, 4 (missing → 0 points)."""
    fw = build(node("P1", leaf("A", 10)), node("P2", leaf("B", 10)))
    vals = values(("U1", "A", 2), ("U2", "A", 4), ("U3", "A", 6), ("U1", "B", 10), ("U3", "B", 4))
    specs = {m: MethodSpec(m) for m in ("points", "minmax", "zscore")}
    got = dict(score_methods(vals, units("U1", "U2", "U3"), fw, specs))
    # points: the values themselves; totals 12, 4, 10 → ranks 1, 3, 2
    assert [cell(got["points"], u, "DTI") for u in ("U1", "U2", "U3")] == [12, 4, 10]
    assert [cell(got["points"], u, "DTI", "rank") for u in ("U1", "U2", "U3")] == [1, 3, 2]
    # min-max: A (x − 2) / 4 × 10 → 0, 5, 10; B (x − 4) / 6 × 10 → 10, 0, 0
    assert [cell(got["minmax"], u, "DTI") for u in ("U1", "U2", "U3")] == [10, 5, 10]
    assert [cell(got["minmax"], u, "DTI", "rank") for u in ("U1", "U2", "U3")] == [1, 3, 1]
    # z-score: A mean 4, sd 2 → z −1, 0, 1; B mean 7, sd √18 → z ±0.7071
    phi = {-1: 0.15865525393145707, 1: 0.8413447460685429, 0: 0.5}
    b = 0.7602499389065233  # Φ(3 / √18)
    expected = [phi[-1] * 10 + b * 10, phi[0] * 10, phi[1] * 10 + (1 - b) * 10]
    totals = [cell(got["zscore"], u, "DTI") for u in ("U1", "U2", "U3")]
    assert totals == pytest.approx(expected, abs=1e-12)
    assert cell(got["zscore"], "U2", "B", "n_missing") == 1
    assert cell(got["zscore"], "U2", "B", "rule_applied") == "missing.zero: no value → 0"


@pytest.mark.parametrize(
    ("name", "level"),
    [("daklak", None), ("hue", "department"), ("sonla", "department"), ("thanhhoa", "commune")],
)
def test_each_frame_is_score_s_whatever_ran_before(name, level):
    """The shared grid is not changed by a method: every frame is exactly :func:`score`'s,
    whichever methods ran before it on the same grid (here: all, in reverse order)."""
    preset, framework, values, units = _demo(name, level)
    reading = preset.classification_reading
    backwards = dict(reversed(SPECS.items()))
    results = dict(score_methods(values, units, framework, backwards, preset.rules, reading))
    assert list(results) == list(backwards)
    for key, spec in SPECS.items():
        _assert_same(results[key], score(values, units, framework, spec, preset.rules, reading))


def test_rows_in_any_order_give_the_same_bits():
    """Values shuffled and some missing, units listed backwards, other years as history: the
    same frames as the sorted input, bit for bit."""
    preset, framework, values, units = _demo("hue", "district", years=3)
    first = preset.first_year
    kept = values.sample(fraction=0.85, seed=7)
    history = kept.filter(pl.col("year") == first).join(
        units.select("unit_id", "year", "group_id"), on=["unit_id", "year"]
    )
    current = kept.filter(pl.col("year") > first)
    scored = units.filter(pl.col("year") > first)
    specs = {
        "pooled": MethodSpec("minmax", minmax_bounds="pooled"),
        "reference": MethodSpec("minmax", minmax_bounds="goalposts", reference_year=first),
        "zscore_mean": MethodSpec("zscore", missing="mean"),
        "points": MethodSpec("points"),
    }
    want = dict(score_methods(current.sort("year", "unit_id", "node_id"), scored, framework, specs,
                              history=history))  # fmt: skip
    shuffled = current.sample(fraction=1.0, shuffle=True, seed=11)
    for key, got in score_methods(shuffled, scored.reverse(), framework, specs, history=history):
        _assert_same(got, want[key])


def test_the_engine_s_own_texts_are_categorical_and_read_as_text():
    """The scores' node_id, node_level, class_label and rule_applied, and the stored grid's
    node_id (also of a unit listed twice), are categoricals (docs/scoring.md: 4 bytes a row on
    millions of rows); the unit keys stay text; they compare with text, and a warehouse table
    stores them as text."""
    import duckdb

    fw = build(node("P1", leaf("A", 10)), node("P2", leaf("B", 10)))
    vals = values(("U1", "A", 2), ("U2", "A", 4), ("U1", "B", 10))
    scores = score(vals, units("U1", "U2"), fw, MethodSpec("points"))
    for column in ("node_id", "node_level", "class_label", "rule_applied"):
        assert scores.schema[column] == pl.Categorical, column
    for grid in (
        complete_grid(vals, units("U1", "U2"), fw),
        complete_grid(vals, units("U1", "U1"), fw),
    ):
        assert grid.frame().schema["node_id"] == pl.Categorical
    assert scores.schema["unit_id"] == scores.schema["group_id"] == pl.String
    assert scores.filter(pl.col("node_id") == "P2")["points"].to_list() == [10.0, 0.0]
    con = duckdb.connect()
    con.execute("CREATE TABLE s (unit_id VARCHAR, node_id VARCHAR, rule_applied VARCHAR)")
    con.execute("INSERT INTO s SELECT unit_id, node_id, rule_applied FROM scores")
    stored = con.execute("SELECT rule_applied FROM s WHERE unit_id = 'U2' AND node_id = 'B'")
    assert stored.fetchall() == [("missing.zero: no value → 0",)]


def test_categorical_keys_score_as_text_keys():
    """Keys held as categoricals (a national loader's 3.6 million rows of 10,000 ids) give the
    same frames as text keys — ids of no listed unit or leaf, and null ids, ignored alike."""
    _, framework, values, units = _demo("daklak")
    stray = pl.DataFrame(
        {
            "unit_id": ["NOT-A-UNIT", None, units["unit_id"][0]],
            "year": pl.Series([units["year"][0]] * 3, dtype=pl.Int32),
            "node_id": [framework.leaf_ids()[0], framework.leaf_ids()[0], "NOT-A-LEAF"],
            "value": [1.0, 2.0, 3.0],
        }
    )
    text = pl.concat([values.with_columns(pl.col("year").cast(pl.Int32)), stray])
    coded = text.with_columns(pl.col("unit_id", "node_id").cast(pl.Categorical))
    want = dict(score_methods(text, units, framework, SPECS))
    for key, got in score_methods(coded, units, framework, SPECS):
        _assert_same(got, want[key])


def test_each_comparison_group_is_one_run_of_the_grid_s_rows():
    """The grid's units are sorted by year, group and unit, so a comparison group is a run of
    rows, and a group statistic is a reduction over the run, leaf by leaf."""
    fw = build(node("P1", leaf("A", 10)), node("P2", leaf("B", 10)))
    vals = values(("U1", "A", 2), ("U2", "A", 4), ("U3", "A", 9), ("U3", "B", 1), ("U9", "A", 5))
    grid = complete_grid(vals, units(("U3", "g2"), ("U2", "g1"), ("U1", "g1")), fw)
    assert grid.units["unit_id"].to_list() == ["U1", "U2", "U3"]
    assert grid.leaf_ids == ["A", "B"]
    assert grid.starts.tolist() == [0, 2] and grid.sizes.tolist() == [2, 1]
    best = grid.by_group(np.fmax, grid.value)  # U9 is not scored: its value is not read
    assert best[:, 0].tolist() == [4.0, 4.0, 9.0]
    assert np.isnan(best[:2, 1]).all() and best[2, 1] == 1.0
    assert grid.reported.tolist() == [[True, False], [True, False], [True, True]]


def test_tiny_preset_and_a_unit_without_values():
    preset = load_preset("tests/fixtures/presets/tiny.yaml")
    for level, setup in preset.levels.items():
        framework = preset.framework(level)
        registry_units = units_in_year(preset.registry, level, preset.first_year)
        demo = demo_values(framework, registry_units, [preset.first_year], DemoSettings())
        values = demo.select("unit_id", "year", "node_id", pl.col("self_value").alias("value"))
        silent = registry_units["unit_id"][0]
        values = values.filter(pl.col("unit_id") != silent)  # reported nothing at all
        groups = comparison_groups(registry_units, setup.comparison_group, preset.first_year)
        specs = {m: preset.method_spec(m) for m in preset.methods}
        for _, got in score_methods(values, groups, framework, specs, preset.rules):
            leaves = got.filter(pl.col("unit_id") == silent, pl.col("node_level") == "component")
            assert (leaves["n_missing"] == 1).all()
            if specs[_].missing == "zero":
                assert (leaves["points"] == 0).all()
