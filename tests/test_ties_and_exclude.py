"""Ties at a declared precision (pipelines/scoring/rank.py) and ``--missing exclude`` re-weighted
level by level for every method (pipelines/scoring/tree.py).

Ranks are descending, ties share the lowest rank (1, 2, 2, 4) — R's ``rank(-x, ties = "min")``.
By default only float noise ties (1e-9 of the node's maximum); a preset may declare that totals
equal at a published precision tie (``rank_precision: {decimals: 4, of: ratio}``). Under
``exclude`` every aggregate — points and z — is the weighted mean over the present children,
level by level, as COINr aggregates with missing values left out.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy.stats import rankdata
from scoring_fixtures import build, cell, leaf, node, phi, units, values

from pipelines.analysis.datafiles import read_observations, units_of
from pipelines.analysis.inputs import asem_dir
from pipelines.analysis.uncertainty_model import FastModel
from pipelines.framework.coinr import read_imeta
from pipelines.report.contents import Band
from pipelines.report.data import classify as report_classify
from pipelines.scoring.engine import leaf_scores, node_scores, ranked, score
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.rank import RankPrecision, tie_keys
from pipelines.scoring.tree import build_tree

# ---------------------------------------------------------------- ties

# P1 (12.5): A 1.25, B 11.25    P2 (10): C 10           index DTI = 22.5; one band at 0.6173
TIES_TREE = (node("P1", leaf("A", 1.25), leaf("B", 11.25)), node("P2", leaf("C", 10)))
BANDS = {
    "id": "bands",
    "source": "assumed",
    "pillar_minimum": False,
    "bands": [{"label": "Tốt", "min_ratio": 0.6173}],
}
TINY = 1.7e-6 / 100 * 1.25  # 1.7e-6 on a 0–100 scale of the 1.25-point leaf A: 2.125e-8 points
NOISY = 0.1 + 0.2  # 0.30000000000000004: 0.3 up to float noise
TIES_VALUES = {
    #      A      B         C
    "U1": (0.0, 8.889817, 0.3),
    "U2": (TINY, 8.889822, 5.0),
    "U3": (0.0, 8.889817, NOISY),
    "U4": (1.25, 7.0, 5.638125),
}
# Points by hand (the direct rule: points = value):
#   P1: U1 8.889817, U2 8.889822 + 2.125e-8 = 8.88982202125, U3 8.889817, U4 8.25
#   P1 ratio (÷ 12.5): 0.71118536, 0.71118576…, 0.71118536, 0.66
#   DTI: U1 9.189817, U2 13.88982202125, U3 9.189817 (+ noise), U4 13.888125
#   DTI ratio (÷ 22.5): U1 0.40843631…, U2 0.61732542…, U3 0.40843631…, U4 0.61725
DEFAULT_RANKS = {  # only float noise ties
    "A": [3, 2, 3, 1],  # 1.25 > 2.125e-8 > 0 = 0
    "P1": [2, 1, 2, 4],  # 8.889822… > 8.889817 = 8.889817 > 8.25
    "C": [3, 2, 3, 1],  # 5.638125 > 5 > 0.3 = 0.1 + 0.2 (noise)
    "DTI": [3, 1, 3, 2],  # 13.8898… > 13.888125 > 9.189817 = 9.189817 (+ noise)
}
RATIO_4_RANKS = {  # ratios equal at 4 decimals tie
    "A": [2, 2, 2, 1],  # ratios 0, 1.7e-8, 0 → 0.0000; 1 → 1.0000
    "P1": [1, 1, 1, 4],  # 0.71118536 and 0.71118576 → 0.7112; 0.66
    "C": [3, 2, 3, 1],  # 0.5638 > 0.5 > 0.03 = 0.03
    "DTI": [3, 1, 3, 1],  # 0.6173254 → 0.6173 and 0.61725 → 0.6173 (half up); 0.4084 twice
}
POINTS_2_RANKS = {  # points equal at 2 decimals tie
    "A": [2, 2, 2, 1],  # 0.00 three times; 1.25
    "P1": [1, 1, 1, 4],  # 8.89 three times; 8.25
    "C": [3, 2, 3, 1],  # 5.64 > 5.00 > 0.30 = 0.30
    "DTI": [3, 1, 3, 1],  # 13.89 twice (13.8898…, 13.888125 → 13.89); 9.19 twice
}


def _ties_inputs():
    framework = build(*TIES_TREE, classification=BANDS)
    rows = [
        (unit, node_id, value)
        for unit, unit_values in TIES_VALUES.items()
        for node_id, value in zip(("A", "B", "C"), unit_values, strict=True)
    ]
    return framework, values(*rows), units(*TIES_VALUES)


def _ranks(scores: pl.DataFrame, node_id: str) -> list[int]:
    return [cell(scores, unit, node_id, "rank") for unit in TIES_VALUES]


@pytest.mark.parametrize(
    ("precision", "expected"),
    [
        (RankPrecision(), DEFAULT_RANKS),
        (RankPrecision(4, "ratio"), RATIO_4_RANKS),
        (RankPrecision(2, "points"), POINTS_2_RANKS),
    ],
)
def test_ranks_at_the_declared_precision(precision, expected):
    """The array path (``score``) and the frame stages (leaf → node → ranked) rank alike."""
    framework, vals, unit_frame = _ties_inputs()
    spec = MethodSpec("points", rank_precision=precision)
    by_arrays = score(vals, unit_frame, framework, spec)
    nodes = node_scores(leaf_scores(vals, unit_frame, framework, spec), framework)
    by_stages = ranked(nodes, framework, None, precision)
    for node_id, ranks in expected.items():
        assert _ranks(by_arrays, node_id) == ranks, node_id
        assert _ranks(by_stages, node_id) == ranks, node_id


def test_the_old_six_decimals_tied_a_real_difference():
    """0 and 2.125e-8 points (1.7e-6 on a 0–100 scale) were equal at 6 absolute decimals; the
    default key keeps them apart, and ties 0.1 + 0.2 with 0.3."""
    assert round(TINY, 6) == round(0.0, 6)
    keys = tie_keys(np.array([0.0, TINY, NOISY, 0.3]), 1.25)
    assert keys[0] != keys[1]
    assert keys[2] == keys[3]


def test_the_declared_rounding_is_of_the_noise_free_total():
    """1.125 reached as (0.15 + 0.95) + 0.025 is 1.1249999999999998: rounding that float half
    up gives 1.12 where 1.125 gives 1.13. The key rounds the noise-free total: one key, 1.13's.
    0.61725 is 0.6173 at 4 decimals of the ratio."""
    summed = (0.15 + 0.95) + 0.025
    assert summed != 1.125  # float noise
    assert math.floor(summed * 100 + 0.5) != math.floor(1.125 * 100 + 0.5)  # naive: 112, 113
    keys = tie_keys(np.array([1.125, summed, 1.13, 1.12]), 10.0, RankPrecision(2, "points"))
    assert keys[0] == keys[1] == keys[2] != keys[3]
    ratio = tie_keys(np.array([0.61725, 0.6173, 0.61724]), 1.0, RankPrecision(4, "ratio"))
    assert ratio[0] == ratio[1] != ratio[2]


def test_classes_compare_at_the_same_precision():
    """The band at 0.6173: U2's ratio 0.61732… reaches it; U4's 0.61725 only at 4 decimals of
    the ratio (0.6173). The report's check of stored labels uses the same key."""
    framework, vals, unit_frame = _ties_inputs()
    for precision, reached in (
        (RankPrecision(), {"U1": None, "U2": "Tốt", "U3": None, "U4": None}),
        (RankPrecision(4, "ratio"), {"U1": None, "U2": "Tốt", "U3": None, "U4": "Tốt"}),
    ):
        scores = score(vals, unit_frame, framework, MethodSpec(rank_precision=precision))
        got = {unit: cell(scores, unit, "DTI", "class_label") for unit in TIES_VALUES}
        assert got == reached
        bands = [Band("Tốt", 0.6173, "#000")]
        for unit in TIES_VALUES:
            ratio = cell(scores, unit, "DTI", "ratio")
            assert report_classify(ratio, [], bands, "total_only", precision) == reached[unit]
    # float noise below the band still reaches it by default
    assert report_classify(0.6945 - 1e-15, [], [Band("Tốt", 0.6945, "#000")], None) == "Tốt"


def test_uncertainty_ranks_use_the_same_key():
    """The Monte Carlo's ranks of totals (units × replications) at the declared precision."""
    totals = np.array([[9.189817], [13.88982202125], [9.189817 + 1e-15], [13.888125]])
    framework, _, _ = _ties_inputs()
    model = FastModel(
        tree=build_tree(framework),
        unit_ids=list(TIES_VALUES),
        group_ids=["all"] * 4,
        noisy=np.array([1]),
    )
    assert model.total_max == 22.5
    assert model.ranks(totals)[:, 0].tolist() == DEFAULT_RANKS["DTI"]
    model.precision = RankPrecision(4, "ratio")
    assert model.ranks(totals)[:, 0].tolist() == RATIO_4_RANKS["DTI"]


def test_rank_precision_is_read_from_the_preset_and_checked():
    from pipelines.framework.preset import load_preset

    national = load_preset("national-922")
    assert national.rank_precision == RankPrecision(4, "ratio")
    assert national.method_spec("points").params()["rank_precision"] == {
        "decimals": 4,
        "of": "ratio",
    }
    assert load_preset("daklak").rank_precision == RankPrecision()
    for bad in ({"decimals": -1}, {"decimals": 2.5}, {"of": "rank"}, {"digits": 2}, 4):
        with pytest.raises(ValueError, match="rank_precision"):
            RankPrecision.from_mapping(bad)


# ---------------------------------------------------------------- exclude, z-score

# P1 (3): A 1, B 2      P2 (1): C 1           index DTI = 4
EXCLUDE_TREE = (node("P1", leaf("A", 1), leaf("B", 2)), node("P2", leaf("C", 1)))
EXCLUDE_VALUES = {
    #      A  B     C
    "U1": (4, None, 5),
    "U2": (2, 10, 7),
    "U3": (4, 20, 5),
    "U4": (2, 30, 7),
}
# z by hand (sample sd, n − 1), s = √3/2:
#   A: 4, 2, 4, 2 → mean 3, sd √(4/3) → z = +s, −s, +s, −s
#   B: U1 missing; 10, 20, 30 → mean 20, sd 10 → U2 −1, U3 0, U4 +1
#   C: 5, 7, 5, 7 → z = −s, +s, −s, +s
# Level by level, weights the maxima (A 1, B 2 under P1; P1 3, P2 1 under DTI):
#   U1: P1 = z_A = s (B left out); P2 = −s; DTI = (3 s + 1 (−s)) / 4 = s / 2 ≈ 0.4330
#       (a flat mean of the present leaves A, C would give (s − s) / 2 = 0)
#   U2: P1 = (−s − 2) / 3; DTI = (−s − 2 + s) / 4 = −0.5
#   U3: P1 = s / 3;        DTI = (s − s) / 4 = 0
#   U4: P1 = (2 − s) / 3;  DTI = (2 − s + s) / 4 = 0.5
S = math.sqrt(3) / 2
EXPECTED_Z = {
    "U1": {"A": S, "C": -S, "P1": S, "P2": -S, "DTI": S / 2},
    "U2": {"A": -S, "B": -1.0, "C": S, "P1": (-S - 2) / 3, "P2": S, "DTI": -0.5},
    "U3": {"A": S, "B": 0.0, "C": -S, "P1": S / 3, "P2": -S, "DTI": 0.0},
    "U4": {"A": -S, "B": 1.0, "C": S, "P1": (2 - S) / 3, "P2": S, "DTI": 0.5},
}


def _exclude_scores(**settings) -> pl.DataFrame:
    framework = build(*EXCLUDE_TREE)
    rows = [
        (unit, node_id, value)
        for unit, unit_values in EXCLUDE_VALUES.items()
        for node_id, value in zip(("A", "B", "C"), unit_values, strict=True)
        if value is not None
    ]
    spec = MethodSpec("zscore", missing="exclude", **settings)
    return score(values(*rows), units(*EXCLUDE_VALUES), framework, spec)


def test_exclude_reweights_the_z_level_by_level():
    scores = _exclude_scores()
    for unit, expected in EXPECTED_Z.items():
        got = {node_id: cell(scores, unit, node_id, "z") for node_id in expected}
        assert got == pytest.approx(expected, abs=1e-12), unit
    assert cell(scores, "U1", "B", "excluded") is True
    assert cell(scores, "U1", "B", "z") is None


def test_exclude_reweights_the_cdf_points_level_by_level():
    """U1: P1 = Φ(s) × 1 over the present maximum 1, scaled to P1's 3; DTI sums P1 and P2
    (neither is wholly excluded)."""
    scores = _exclude_scores()
    p1 = phi(S) / 1 * 3
    assert cell(scores, "U1", "P1") == pytest.approx(p1, abs=1e-12)
    assert cell(scores, "U1", "DTI") == pytest.approx(p1 + phi(-S), abs=1e-12)
    # U2, nothing missing: the plain sums
    assert cell(scores, "U2", "DTI") == pytest.approx(phi(-S) + 2 * phi(-1.0) + phi(S), abs=1e-12)


def test_exclude_rescaled_ratio_is_the_map_of_the_aggregated_z():
    """The T-score line commutes with a weighted mean: with both re-weighted level by level the
    index ratio is 0.5 + 0.1 × its z (nothing is clipped here)."""
    scores = _exclude_scores(zscore_mode="rescaled")
    for unit, expected in EXPECTED_Z.items():
        ratio = cell(scores, unit, "DTI", "ratio")
        assert ratio == pytest.approx(0.5 + 0.1 * expected["DTI"], abs=1e-12), unit


# ---------------------------------------------------------------- ASEM: COINr's algorithm


def _coinr_aggregate(framework, leaf_rows: pl.DataFrame, unit_ids: list[str]):
    """COINr's arithmetic aggregation with missing values left out, by plain numpy: every
    parent is the weighted mean of its present children (weights: the children's maxima,
    renormalised over the present ones), level by level; points = ratio × maximum. Returns
    ``{node_id: (points, z)}``, arrays over ``unit_ids`` (NaN: no value)."""
    by_leaf = {}
    for (node_id,), part in leaf_rows.partition_by("node_id", as_dict=True).items():
        part = part.sort("unit_id")
        assert part["unit_id"].to_list() == unit_ids
        excluded = part["excluded"].to_numpy().astype(bool)
        ratio = np.where(excluded, np.nan, part["points"].to_numpy() / part["max_points"][0])
        z = part["z"].cast(pl.Float64).to_numpy()
        by_leaf[node_id] = (ratio, np.where(excluded, np.nan, z))
    children: dict[str, list[str]] = {}
    for node_id, spec in framework.nodes.items():
        if spec.parent_id:
            children.setdefault(spec.parent_id, []).append(node_id)

    def mean_over_present(parts: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
        stacked = np.stack(parts)  # children × units
        w = np.where(np.isnan(stacked), 0.0, weights[:, None])
        total = w.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(np.isnan(stacked), 0.0, stacked * w).sum(axis=0) / total
        return np.where(total > 0, out, np.nan)

    done: dict[str, tuple[np.ndarray, np.ndarray]] = dict(by_leaf)

    def visit(node_id: str) -> tuple[np.ndarray, np.ndarray]:
        if node_id not in done:
            kids = children[node_id]
            weights = np.array([framework.nodes[k].max_points for k in kids], dtype=float)
            parts = [visit(k) for k in kids]
            ratio = mean_over_present([p[0] for p in parts], weights)
            z = mean_over_present([p[1] for p in parts], weights)
            done[node_id] = (ratio, z)
        return done[node_id]

    visit(framework.root_id)
    return {
        node_id: (np.nan_to_num(ratio, nan=0.0) * framework.nodes[node_id].max_points, z)
        for node_id, (ratio, z) in done.items()
    }


def _separated(x: np.ndarray, tolerance: float) -> np.ndarray:
    """Which values differ from every other value either by 0 or by more than ``tolerance``
    (the others' ranks depend on the side of the precision they fall)."""
    gap = np.abs(x[:, None] - x[None, :])
    near = (gap > 0) & (gap <= tolerance)
    return ~near.any(axis=1)


@pytest.mark.parametrize("method", ["points", "minmax", "zscore"])
def test_asem_exclude_is_coinrs_level_by_level_mean(method):
    """COINr's ASEM example (51 countries, 49 indicators, 64 values missing) with
    ``--missing exclude``: every aggregate (points and z) of every method equals the plain
    numpy level-by-level mean within 1e-9, and every rank equals ``rank(-x, ties = "min")``
    where values differ by more than the precision (1e-9 of the node's maximum)."""
    folder = asem_dir()
    framework = read_imeta(folder / "iMeta.csv")
    vals = read_observations(folder / "raw_iData_full.csv", framework)
    scores = score(vals, units_of(vals), framework, MethodSpec(method, missing="exclude"))
    scores = scores.sort("unit_id")
    unit_ids = scores["unit_id"].unique().sort().to_list()
    leaf_ids = set(framework.leaf_ids())
    leaves = scores.filter(pl.col("node_id").is_in(leaf_ids))
    reported = vals.filter(pl.col("value").is_not_null() & pl.col("node_id").is_in(leaf_ids))
    assert leaves["excluded"].sum() == leaves.height - reported.height > 0  # missing: left out
    expected = _coinr_aggregate(framework, leaves, unit_ids)
    checked_ranks = 0
    for node_id in framework.nodes:
        rows = scores.filter(pl.col("node_id") == node_id)
        assert rows["unit_id"].to_list() == unit_ids
        points, z = expected[node_id]
        np.testing.assert_allclose(rows["points"].to_numpy(), points, rtol=0, atol=1e-9)
        if method == "zscore":
            got_z = rows["z"].cast(pl.Float64).to_numpy()
            np.testing.assert_allclose(got_z, z, rtol=0, atol=1e-9, equal_nan=True)
        maximum = framework.nodes[node_id].max_points
        keep = _separated(points, 1e-9 * maximum)
        coinr_ranks = rankdata(-points, method="min")
        assert np.array_equal(rows["rank"].to_numpy()[keep], coinr_ranks[keep]), node_id
        checked_ranks += int(keep.sum())
    assert checked_ranks > 0.99 * len(unit_ids) * len(framework.nodes)


# ---------------------------------------------------------------- the snapshot's code version


def test_code_version_covers_the_scoring_import_closure_and_the_libraries():
    """Every module of pipelines/scoring, the appraisal override and the lineage rule are in
    what is hashed (found by their imports, not by a folder list), and so are the versions of
    the numeric libraries; changing any one of them changes the digest."""
    from importlib.metadata import version as installed

    from pipelines.publish import version

    modules = version.scoring_modules()
    scoring_dir = version.PACKAGE_DIR / "scoring"
    for path in scoring_dir.glob("*.py"):
        name = "pipelines.scoring" if path.stem == "__init__" else f"pipelines.scoring.{path.stem}"
        assert name in modules, name
    for name in (
        "pipelines.evaluate.appraisal",
        "pipelines.framework.lineage",
        "pipelines.framework.model",
    ):
        assert name in modules, name
    assert "pipelines.report.site" not in modules  # the report does not change a number
    inputs = version.code_inputs()
    assert "module:pipelines/scoring/rank.py" in inputs
    assert "module:pipelines/evaluate/appraisal.py" in inputs
    for library in ("numpy", "polars", "scipy", "duckdb"):
        assert inputs[f"library:{library}"] == installed(library)
    base = version.digest(inputs)
    assert version.code_version().endswith("+" + base[:12])
    for key in ("library:numpy", "module:pipelines/framework/lineage.py"):
        changed = {**inputs, key: inputs[key] + "x"}
        assert version.digest(changed) != base, key


def test_a_function_level_import_is_in_the_closure(tmp_path, monkeypatch):
    """An import inside a function (as stages.py imports the lineage rule) counts."""
    from pipelines.publish import version

    package = tmp_path / "pipelines"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "root.py").write_text(
        "def f():\n    from pipelines.sub import (\n        leaf,  # why\n        other,\n    )\n"
    )
    (package / "sub" / "leaf.py").write_text("import pipelines.far\n")
    (package / "sub" / "other.py").write_text("from .near import x\n")
    (package / "sub" / "near.py").write_text("x = 1\n")
    (package / "far.py").write_text("")
    (package / "unused.py").write_text("")
    monkeypatch.setattr(version, "PACKAGE_DIR", package)
    assert version.scoring_modules(("pipelines.root",)) == [
        "pipelines",
        "pipelines.far",
        "pipelines.root",
        "pipelines.sub",
        "pipelines.sub.leaf",
        "pipelines.sub.near",
        "pipelines.sub.other",
    ]
