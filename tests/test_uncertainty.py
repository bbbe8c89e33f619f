"""Rank uncertainty and sensitivity (pipelines/analysis/uncertainty.py, uncertainty_model.py,
sensitivity.py): the numpy fast path equals the
engine, draws are reproducible by seed, any replication replays from its saved parameters, the
weight noise keeps each parent's maximum, and the Saltelli/Jansen estimator by hand."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from analysis_support import ASEM, TINY, analysis_warehouse, copy_of, hand_input

from pipelines.analysis.inputs import ALL_SETTINGS
from pipelines.analysis.sensitivity import saltelli_indices, sample_design
from pipelines.analysis.uncertainty import nominal_fast, replay, run_uncertainty
from pipelines.analysis.uncertainty_model import build_model
from pipelines.scoring.choices import MISSING_RULES

# Gaps everywhere, and unit D reports nothing of pillar P1: "exclude" re-weights it away.
GAPS = {
    "A": {"P1.1": 100.0, "P1.2": 1.0, "P2.1": 4.0, "P2.2": None},
    "B": {"P1.1": 50.0, "P1.2": None, "P2.1": 4.0, "P2.2": 2.0},
    "C": {"P1.1": 80.0, "P1.2": 1.0, "P2.1": 1.0, "P2.2": 4.0},
    "D": {"P1.1": None, "P1.2": None, "P2.1": 5.0, "P2.2": 1.0},
    "E": {"P1.1": 20.0, "P1.2": 0.0, "P2.1": 3.0, "P2.2": 3.0},
    "F": {"P1.1": 60.0, "P1.2": 1.0, "P2.1": None, "P2.2": 2.5},
}
GROUPS = {"A": "g1", "B": "g1", "C": "g1", "D": "g1", "E": "g2", "F": "g2"}


def _unperturbed(inp, setting, missing):
    return {
        "setting": setting,
        "missing": missing,
        "weight_multipliers": [1.0] * (len(inp.framework.nodes) - 1),
        "noisy_nodes": [n.id for n in inp.framework.nodes.values() if n.parent_id],
    }


def _assert_same(fast: pl.DataFrame, engine: pl.DataFrame) -> None:
    joined = fast.join(engine, on="unit_id", suffix="_engine")
    assert joined.height == engine.height
    # the engine's own aggregation, with every weight multiplied by exactly 1: the same bits
    assert joined["points"].to_list() == joined["points_engine"].to_list()
    assert joined["rank"].to_list() == joined["rank_engine"].to_list()


@pytest.mark.parametrize("missing", MISSING_RULES)
@pytest.mark.parametrize("setting", ALL_SETTINGS)
def test_fast_path_equals_the_engine_at_nominal_weights(setting, missing):
    inp = hand_input(GAPS, GROUPS)
    _assert_same(
        replay(inp, _unperturbed(inp, setting, missing)), inp.totals(inp.spec(setting, missing))
    )


def test_noise_keeps_each_parents_maximum():
    inp = hand_input(GAPS, GROUPS)
    model = build_model(inp, ("minmax:observed",), ("zero",))
    rng = np.random.default_rng(1)
    multipliers = 1 + (2 * rng.random((50, len(model.noisy))) - 1) * 0.3
    new_max = model.relative_max(multipliers) * model.nominal_max
    for parent, children in model.children().items():
        assert np.allclose(new_max[:, children].sum(axis=1), new_max[:, parent])
    assert np.allclose(new_max[:, model.root], model.nominal_max[model.root])
    assert (model.relative_max(np.ones((1, len(model.noisy)))) == 1.0).all()  # exactly


def test_same_seed_same_run_other_seed_other_draws():
    inp = hand_input(GAPS, GROUPS)
    first = run_uncertainty(inp, replications=100, seed=7)
    again = run_uncertainty(inp, replications=100, seed=7)
    other = run_uncertainty(inp, replications=100, seed=8)
    assert first.run_id == again.run_id != other.run_id
    assert first.replications.equals(again.replications)
    assert np.array_equal(first.ranks, again.ranks)
    assert first.units.equals(again.units)
    assert not first.replications.equals(other.replications)


def test_any_replication_replays_from_its_saved_parameters():
    inp = hand_input(GAPS, GROUPS)
    result = run_uncertainty(inp, settings=ALL_SETTINGS, replications=120, seed=3)
    blocks = set(result.replications["block"])
    assert {"A", "B", "AB:method", "AB:missing", "AB:weights"} == blocks
    for replication_id in range(result.ranks.shape[1]):  # bit for bit, every one
        again = replay(inp, result.replication(replication_id))
        original = result.ranks_of(replication_id)
        assert again["rank"].to_list() == original["rank"].to_list()
        assert again["points"].to_list() == original["points"].to_list()


def test_design_and_rank_statistics():
    inp = hand_input(GAPS, GROUPS)
    result = run_uncertainty(inp, replications=1000, seed=1)
    assert result.params["n_base"] == 200 and result.ranks.shape == (6, 1000)  # N (d + 2)
    units = result.units
    assert (units["p05_rank"] <= units["median_rank"]).all()
    assert (units["median_rank"] <= units["p95_rank"]).all()
    engine = inp.totals(inp.nominal).select("unit_id", "rank")
    nominal = dict(zip(units["unit_id"], units["nominal_rank"], strict=True))
    assert nominal == dict(zip(engine["unit_id"], engine["rank"], strict=True))
    assert (units["max_rank"] <= units["group_size"]).all()  # ranks stay within the group
    targets = set(result.sensitivity["target"])
    assert targets == {"mean_abs_rank_shift", *GAPS}
    plain = run_uncertainty(inp, replications=50, seed=1, sensitivity=False)
    assert set(plain.replications["block"]) == {"mc"} and plain.sensitivity.is_empty()


def test_a_factor_that_does_not_vary_is_left_out():
    design = sample_design(("minmax:observed",), ("zero", "mean"), 5, 0.0, 40, seed=1)
    assert design.factors == ("missing",) and design.size == 42  # N = ⌈40 / 3⌉ = 14
    assert (design.multipliers == 1.0).all()


def test_saltelli_and_jansen_estimators_by_hand():
    # y_A = (1, 3), y_B = (2, 4); factor f's y_AB = (2, 4), factor g's y_AB = y_A.
    # V = var(1, 3, 2, 4) = 5/3; S_f = mean(2·1, 4·1) / V = 1.8; ST_f = mean(1, 1) / (2V) = 0.3.
    y = np.array([[1.0], [3.0], [2.0], [4.0], [2.0], [4.0], [1.0], [3.0]])
    blocks = ["A", "A", "B", "B", "AB:f", "AB:f", "AB:g", "AB:g"]
    rows = {r["factor"]: r for r in saltelli_indices(y, blocks, ("f", "g"))}
    assert rows["f"]["first_order"] == pytest.approx(1.8)
    assert rows["f"]["total"] == pytest.approx(0.3)
    assert rows["g"]["first_order"] == 0 and rows["g"]["total"] == 0
    assert rows["f"]["variance"] == pytest.approx(5 / 3)


def test_a_factor_that_alone_drives_the_output_gets_the_whole_variance():
    # D answers "no" on P1.2: the yes/no leaf has a spread in g1, so that z-score and points
    # rank g1 differently (with A and C alone answering, both methods give them the rubric's 15)
    inp = hand_input({**GAPS, "D": {**GAPS["D"], "P1.2": 0.0}}, GROUPS)
    # only the method varies among settings that rank differently; missing rule fixed
    result = run_uncertainty(
        inp, settings=("points", "zscore:cdf"), missing_rules=("zero",), noise=0.0, seed=5
    )
    overall = result.sensitivity.filter(pl.col("target") == "mean_abs_rank_shift")
    assert overall["factor"].to_list() == ["method"]
    total = overall["total"][0]
    assert total == pytest.approx(1.0, abs=0.2)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory):
    return analysis_warehouse(tmp_path_factory)


def test_fast_path_equals_the_engine_on_the_warehouse(warehouse):
    from pipelines.analysis.inputs import from_warehouse

    for level in ("department", "commune"):
        inp = from_warehouse(2024, level, TINY, warehouse)
        _assert_same(nominal_fast(inp), inp.totals(inp.nominal))


def test_stored_run_replays_from_the_warehouse(warehouse, tmp_path, monkeypatch):
    from pipelines.analysis.inputs import from_warehouse
    from pipelines.analysis.uncertainty_store import load_replication, store_uncertainty
    from pipelines.store.warehouse import session

    copy = copy_of(warehouse, tmp_path)
    inp = from_warehouse(2024, "commune", TINY, copy)
    result = run_uncertainty(inp, replications=60, seed=11)
    with session(copy) as con:
        store_uncertainty(con, result, inp)
        stored = con.execute(
            "SELECT unit_id, nominal_rank, p05_rank, p95_rank FROM rank_uncertainty "
            "WHERE year = 2024 AND level = 'commune' ORDER BY unit_id"
        ).pl()
    assert stored.height == inp.units.height
    run, replication = load_replication(result.run_id, 31, copy)
    assert run["seed"] == 11 and run["params"]["replications"] == result.ranks.shape[1]
    again = replay(inp, replication)
    assert again["rank"].to_list() == result.ranks_of(31)["rank"].to_list()


def test_the_dagster_asset_wrote_the_report_columns(warehouse):
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "SELECT unit_id, nominal_rank, median_rank, p05_rank, p95_rank FROM rank_uncertainty "
            "WHERE year = 2024 AND level = 'commune'"
        ).fetchall()
        runs = con.execute("SELECT count(*) FROM uncertainty_runs").fetchone()[0]
    finally:
        con.close()
    assert len(rows) == 5 and runs == 4  # 2 years × 2 levels


def test_asem_thousand_replications():
    from pipelines.analysis.inputs import from_files

    inp = from_files(ASEM / "iMeta.csv", ASEM / "raw_iData_full.csv")
    _assert_same(nominal_fast(inp), inp.totals(inp.nominal))
    result = run_uncertainty(inp, replications=1000, seed=2534)
    assert result.ranks.shape == (51, 1000)
    assert result.seconds["replications"] < 5  # vectorised (≈ 0.02 s measured)
    assert result.units["interval_width"].max() > 0


def _synthetic(preset_name: str, flags: bool = False):
    """20 units with random values (10 % missing) on a preset's first level; unit U00 reports
    nothing of the first pillar (excluded under "exclude"); with ``flags`` every third unit has
    no online public services, every fourth no subordinates (Sơn La's rules)."""
    from pipelines.analysis.inputs import AnalysisInput
    from pipelines.framework.preset import load_preset

    preset = load_preset(preset_name)
    level = next(iter(preset.levels))
    framework = preset.framework(level)
    first_pillar = framework.of_type("pillar")[0].id
    rng = np.random.default_rng(0)
    units = [f"U{i:02d}" for i in range(20)]
    rows = [
        {
            "unit_id": unit,
            "year": 2024,
            "node_id": leaf.id,
            "value": None
            if rng.random() < 0.1
            or (unit == "U00" and framework.pillar_of(leaf.id) == first_pillar)
            else float(rng.integers(0, 101)),
        }
        for unit in units
        for leaf in framework.leaves()
    ]
    unit_frame = pl.DataFrame(
        {"unit_id": units, "year": [2024] * 20, "group_id": ["g"] * 20},
        schema={"unit_id": pl.String, "year": pl.Int32, "group_id": pl.String},
    )
    if flags:
        unit_frame = unit_frame.with_columns(
            pl.Series("has_dvctt", [i % 3 != 0 for i in range(20)]),
            pl.Series("has_subordinates", [i % 4 != 0 for i in range(20)]),
            pl.Series("is_special", [False] * 20),
        )
    return AnalysisInput(
        framework=framework,
        values=pl.DataFrame(
            rows,
            schema={
                "unit_id": pl.String,
                "year": pl.Int32,
                "node_id": pl.String,
                "value": pl.Float64,
            },
        ),
        units=unit_frame,
        level=level,
        year=2024,
        nominal=preset.method_spec(preset.primary_method),
        rules=preset.rules,
    )


@pytest.mark.parametrize("missing", MISSING_RULES)
@pytest.mark.parametrize("preset_name", ["national-1726", "sonla"])
def test_fast_path_equals_the_engine_for_composites_and_unit_rules(preset_name, missing):
    # national 1726 ranks a composite of views (0.4 gov + 0.3 eco + 0.3 soc); Sơn La's unit
    # rules (best of the group, DVCTT proportional) give points from other units and leaves
    inp = _synthetic(preset_name, flags=preset_name == "sonla")
    if preset_name == "national-1726":
        assert inp.target_id == "DTI_1726"
    for setting in ("points", "minmax:observed", "zscore:cdf"):
        _assert_same(
            replay(inp, _unperturbed(inp, setting, missing)), inp.totals(inp.spec(setting, missing))
        )
    result = run_uncertainty(inp, replications=60, seed=2)
    again = replay(inp, result.replication(33))
    assert again["points"].to_list() == result.ranks_of(33)["points"].to_list()
