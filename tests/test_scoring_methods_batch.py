"""``score_methods`` (the shared, array-based scoring) gives, for every method,
exactly the frame of the stages run one after the other (leaf → node → rank → order)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.framework.preset import load_preset
from pipelines.framework.registry import comparison_groups, units_in_year
from pipelines.intake.demo import DemoSettings, demo_values
from pipelines.scoring import batch, engine, group_split, rank_arrays
from pipelines.scoring.engine import SCORE_COLUMNS, score, score_methods
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.rank import rank_within_groups
from pipelines.scoring.rules import RuleSettings

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


def _by_stages(values, units, framework, spec, rules=None, reading=None, history=None):
    grid = engine.complete_grid(values, units, framework)
    return engine._score_stages(
        grid, units, framework, spec, rules or RuleSettings(), reading, history
    )


def _assert_same(got: pl.DataFrame, want: pl.DataFrame, spec: MethodSpec) -> None:
    assert got.columns == SCORE_COLUMNS
    assert got.schema == want.schema
    assert_frame_equal(got, want, check_exact=True)
    for column in ("points", "ratio", "z"):  # bit for bit (−0.0 included)
        a, b = got[column].to_numpy(), want[column].to_numpy()
        assert np.array_equal(a.view(np.int64), b.view(np.int64)), column


@pytest.mark.parametrize(
    ("name", "level"),
    [("daklak", None), ("hue", "department"), ("sonla", "department"), ("thanhhoa", "commune")],
)
def test_every_method_matches_the_stages(name, level):
    preset, framework, values, units = _demo(name, level)
    reading = preset.classification_reading
    results = dict(score_methods(values, units, framework, SPECS, preset.rules, reading))
    assert list(results) == list(SPECS)
    for key, spec in SPECS.items():
        want = _by_stages(values, units, framework, spec, preset.rules, reading)
        _assert_same(results[key], want, spec)
        assert_frame_equal(
            score(values, units, framework, spec, preset.rules, reading),
            results[key],
            check_exact=True,
        )


def test_the_array_path_is_taken_and_matches(monkeypatch):
    """Without per-unit rules the array path scores every method but ``exclude`` with leaves
    left out; its frames are the stages' (so this test fails if either drifts)."""
    _, framework, values, units = _demo("daklak")
    calls = []
    stages = engine._score_stages

    def counted(*args, **kwargs):
        calls.append(args[3])
        return stages(*args, **kwargs)

    monkeypatch.setattr(engine, "_score_stages", counted)
    specs = {k: s for k, s in SPECS.items() if s.missing != "exclude"}
    results = dict(score_methods(values, units, framework, specs))
    assert calls == []  # everything by arrays
    monkeypatch.setattr(engine, "_score_stages", stages)
    for key, spec in specs.items():
        _assert_same(results[key], _by_stages(values, units, framework, spec), spec)


def test_shuffled_input_missing_units_and_history():
    """Rows in any order, units without any value, other years for pooled bounds."""
    preset, framework, values, units = _demo("hue", "district", years=3)
    first = preset.first_year
    shuffled = values.sample(fraction=0.85, seed=7, shuffle=True)
    history = values.filter(pl.col("year") == first).join(
        units.select("unit_id", "year", "group_id"), on=["unit_id", "year"]
    )
    current = shuffled.filter(pl.col("year") > first)
    scored = units.filter(pl.col("year") > first).reverse()
    specs = {
        "pooled": MethodSpec("minmax", minmax_bounds="pooled"),
        "reference": MethodSpec("minmax", minmax_bounds="goalposts", reference_year=first),
        "zscore_mean": MethodSpec("zscore", missing="mean"),
        "points": MethodSpec("points"),
    }
    for key, got in score_methods(current, scored, framework, specs, history=history):
        want = _by_stages(current, scored, framework, specs[key], history=history)
        _assert_same(got, want, specs[key])


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
    specs = {k: s for k, s in SPECS.items() if s.missing != "exclude"}
    want = dict(score_methods(text, units, framework, specs))
    for key, got in score_methods(coded, units, framework, specs):
        _assert_same(got, want[key], specs[key])


def test_tiny_preset_and_a_unit_without_values():
    preset = load_preset("tests/fixtures/presets/tiny.yaml")
    for level, setup in preset.levels.items():
        framework = preset.framework(level)
        units = units_in_year(preset.registry, level, preset.first_year)
        values = demo_values(framework, units, [preset.first_year], DemoSettings()).select(
            "unit_id", "year", "node_id", pl.col("self_value").alias("value")
        )
        silent = units["unit_id"][0]
        values = values.filter(pl.col("unit_id") != silent)  # reported nothing at all
        groups = comparison_groups(units, setup.comparison_group, preset.first_year)
        specs = {m: preset.method_spec(m) for m in preset.methods}
        for key, got in score_methods(values, groups, framework, specs, preset.rules):
            want = _by_stages(values, groups, framework, specs[key], preset.rules)
            _assert_same(got, want, specs[key])
            unit_rows = got.filter(pl.col("unit_id") == silent)
            assert unit_rows["n_missing"].max() > 0


def _window_ranks(points: np.ndarray, maxima: np.ndarray, run_of: np.ndarray) -> np.ndarray:
    """The general path's ranks (``rank_within_groups``) of ``units × nodes`` points (of the
    nodes' ``maxima``), the groups being the runs of units."""
    n_units, n_nodes = points.shape
    frame = pl.DataFrame(
        {
            "points": points.reshape(-1),
            "max_points": np.tile(maxima, n_units),
            "year": np.zeros(n_units * n_nodes, dtype=np.int32),
            "group_id": np.repeat(run_of, n_nodes).astype(str),
            "node_id": np.tile(np.arange(n_nodes), n_units).astype(str),
        }
    )
    ranked = rank_within_groups(frame)["rank"].to_numpy()
    return ranked.reshape(n_units, n_nodes)


def test_integer_ranks_are_the_window_ranks():
    """The sort of integer keys (``rank_arrays.rank_block``) gives the window's ranks: ties at
    float noise (0.1 + 0.2 vs 0.3), −0.0 and 0.0, negative points, groups of one; NaN or
    points beyond the integer grid are left to the window."""
    rng = np.random.default_rng(3)
    n_units, n_nodes = 400, 5
    run_of = np.sort(rng.integers(0, 37, n_units))
    run_of = np.unique(run_of, return_inverse=True)[1]
    points = np.round(rng.random((n_units, n_nodes)) * 10, 1)
    points[::7, 0] = 0.1 + 0.2
    points[1::7, 0] = 0.3
    points[::5, 1] = -0.0
    points[1::5, 1] = 0.0
    points[:, 2] = -points[:, 2]
    points[:, 3] = rng.random(n_units) * 1000  # no ties: full 53-bit fractions
    maxima = np.array([10.0, 10.0, 10.0, 1000.0, 10.0])
    got = rank_arrays.rank_block(points, maxima, run_of, int(run_of.max()) + 1)
    assert got is not None
    assert np.array_equal(got, _window_ranks(points, maxima, run_of))
    for odd in (np.nan, np.inf, 1e300):
        bad = points.copy()
        bad[3, 4] = odd
        assert rank_arrays.rank_block(bad, maxima, run_of, int(run_of.max()) + 1) is None


@pytest.mark.parametrize("top", [1_000, 2**40, 2**62])  # packed with the positions, or not
def test_sorted_keys_sort_and_give_the_order(top):
    key = np.random.default_rng(5).integers(0, top, 5_000, dtype=np.int64)
    key[::9] = key[0]  # ties
    order, ordered = rank_arrays.sorted_keys(key)
    assert np.array_equal(np.sort(order), np.arange(key.size))  # a permutation
    assert np.array_equal(ordered, np.sort(key))
    assert np.array_equal(key[order], ordered)


def test_units_without_a_group_reorder_the_rows():
    """Units whose group is null sort first in the result but last in the grid: the array
    path gathers the units into the final order (and ranks those groups as the window)."""
    _, framework, values, units = _demo("daklak")
    units = units.with_columns(
        pl.when(pl.int_range(pl.len()) % 5 == 0).then(None).otherwise("group_id").alias("group_id")
    )
    specs = {k: s for k, s in SPECS.items() if s.missing != "exclude"}
    for key, got in score_methods(values, units, framework, specs):
        _assert_same(got, _by_stages(values, units, framework, specs[key]), specs[key])


def test_group_parts_keep_whole_groups_of_about_equal_size():
    _, _, _, units = _demo("thanhhoa", "commune", years=2)
    units = units.with_columns(
        pl.when(pl.col("group_id") == units["group_id"].min())
        .then(None)
        .otherwise("group_id")
        .alias("group_id")
    )
    parts = group_split.group_parts(units, 3)
    assert len(parts) == 3
    rows = np.concatenate(parts)
    assert np.array_equal(np.sort(rows), np.arange(units.height))  # every unit once
    groups = [set(units["group_id"].gather(p).to_list()) for p in parts]
    assert not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])
    assert None in groups[2]  # the null group sorts last
    sizes = [len(p) for p in parts]
    largest_group = units.group_by("group_id").len()["len"].max()
    assert max(sizes) - min(sizes) <= 2 * largest_group
    assert all(np.all(np.diff(p) > 0) for p in parts)


def test_one_group_is_not_split(monkeypatch):
    _, framework, values, units = _demo("daklak")
    monkeypatch.setattr(group_split, "SPLIT_MIN_ROWS", 0)
    monkeypatch.setattr(group_split, "worker_count", lambda: 2)
    layout = engine.dense_layout(values, units, framework)
    assert isinstance(group_split.dense_scorer(layout, framework, None), batch.DenseScorer)


@pytest.mark.parametrize("null_groups", [False, True])
def test_groups_scored_in_threads_give_the_same_frames(monkeypatch, null_groups):
    """Parts of whole comparison groups scored in threads (national scale) and joined in the
    final order: the stages' frames, bit for bit, for every method and missing rule (the
    ``exclude`` rule with leaves left out falls back to the stages)."""
    preset, framework, values, units = _demo("thanhhoa", "commune", years=3)
    if null_groups:
        units = units.with_columns(
            pl.when(pl.int_range(pl.len()) % 7 == 0)
            .then(None)
            .otherwise("group_id")
            .alias("group_id")
        )
    monkeypatch.setattr(group_split, "SPLIT_MIN_ROWS", 0)
    monkeypatch.setattr(group_split, "worker_count", lambda: 3)
    made = []
    split = group_split.GroupSplitScorer.__init__

    def recorded(self, *args, **kwargs):
        split(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(group_split.GroupSplitScorer, "__init__", recorded)
    reading = preset.classification_reading
    for key, got in score_methods(values, units, framework, SPECS, reading=reading):
        want = _by_stages(values, units, framework, SPECS[key], reading=reading)
        _assert_same(got, want, SPECS[key])
    assert len(made) == 1 and len(made[0].scorers) == 3
    assert len(made[0].runs) >= 9  # three years, three parts: the rows interleave
