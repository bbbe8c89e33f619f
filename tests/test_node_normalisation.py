"""A framework node declares the normalisation of the leaves below it (``normalisation:
{method, goalposts}``, docs/framework-format.md): hand-computed points for declared goalposts
beside observed min-max, inheritance and override, a z-scored leaf in a points run, the
snapshot's settings and the framework hash, and the declarations refused when a framework loads.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml
from click.testing import CliRunner
from scoring_fixtures import build, cell, leaf, node, phi, units, values

from dti_cli.main import cli
from pipelines.evaluate.recipe import LevelRecipe, score_level
from pipelines.framework.coinr import read_imeta, write_imeta
from pipelines.framework.from_mapping import FrameworkError, framework_from_mapping
from pipelines.framework.load import load_framework
from pipelines.framework.preset import load_preset
from pipelines.framework.to_mapping import framework_to_mapping
from pipelines.publish.snapshot import run_params
from pipelines.scoring.engine import score
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.normalise import reads_other_years

FIXTURES = Path(__file__).parent / "fixtures"
UNITS = units("U1", "U2", "U3")


def _ratio_and_count():
    """P1 (20 points): A, a percentage on fixed goalposts 0–100 %; B, a count on the observed
    range."""
    return build(
        node(
            "P1",
            leaf("A", 10, {"kind": "ratio", "target": 100}, normalisation={"goalposts": [0, 100]}),
            leaf("B", 10),
        )
    )


def test_goalposts_on_one_leaf_observed_minmax_on_the_other():
    scores = score(
        values(
            ("U1", "A", 25), ("U1", "B", 2),
            ("U2", "A", 50), ("U2", "B", 6),
            ("U3", "A", 120), ("U3", "B", 10),
        ),
        UNITS,
        _ratio_and_count(),
        MethodSpec("minmax"),
    )  # fmt: skip
    # A: (x − 0) / (100 − 0) × 10, 120 clipped to 100; B: (x − 2) / (10 − 2) × 10
    assert [cell(scores, u, "A") for u in ("U1", "U2", "U3")] == [2.5, 5.0, 10.0]
    assert [cell(scores, u, "B") for u in ("U1", "U2", "U3")] == [0.0, 5.0, 10.0]
    assert [cell(scores, u, "P1") for u in ("U1", "U2", "U3")] == [2.5, 10.0, 20.0]
    assert cell(scores, "U1", "A", "rule_applied") == "minmax(goalposts [0, 100] declared by A)"
    assert cell(scores, "U3", "A", "rule_applied") == (
        "minmax(goalposts [0, 100] declared by A; clipped)"
    )
    assert cell(scores, "U1", "B", "rule_applied") == "minmax(observed)"


def test_declared_goalposts_win_over_the_runs_bounds_and_a_lower_leaf_is_turned():
    framework = build(
        node(
            "P1",
            leaf("A", 10, normalisation={"goalposts": [0, 100]}),
            leaf("L", 10, direction="lower", normalisation={"goalposts": [0, 20]}),
        )
    )
    vals = values(("U1", "A", 40), ("U1", "L", 5), ("U2", "A", 60), ("U2", "L", 15))
    spec = MethodSpec("minmax", minmax_bounds="pooled")
    scores = score(vals, units("U1", "U2"), framework, spec)
    # A: 40/100 × 10 = 4 (not the pooled 40..60 → 0); L lower: (20 − x) / 20 × 10
    assert cell(scores, "U1", "A") == 4.0
    assert cell(scores, "U1", "L") == 7.5
    assert cell(scores, "U2", "L") == 2.5


def test_an_inner_nodes_declaration_is_inherited_and_a_leafs_own_overrides_it():
    """P declares min-max on goalposts 0–50 for A, B, C; B declares z-score of its own; Q's D
    has none and follows the run (points: the direct rule gives the value)."""
    framework = build(
        node(
            "P",
            leaf("A", 10),
            leaf("B", 10, normalisation={"method": "zscore"}),
            leaf("C", 10),
            normalisation={"method": "minmax", "goalposts": [0, 50]},
        ),
        node("Q", leaf("D", 10)),
    )
    vals = values(
        ("U1", "A", 10), ("U1", "B", 1), ("U1", "C", 5), ("U1", "D", 3),
        ("U2", "A", 20), ("U2", "B", 2), ("U2", "C", 25), ("U2", "D", 4),
        ("U3", "A", 60), ("U3", "B", 3), ("U3", "C", 50), ("U3", "D", 10),
    )  # fmt: skip
    scores = score(vals, UNITS, framework, MethodSpec("points"))
    who = ("U1", "U2", "U3")
    assert [cell(scores, u, "A") for u in who] == [2.0, 4.0, 10.0]  # x / 50 × 10, 60 clipped
    assert [cell(scores, u, "C") for u in who] == [1.0, 5.0, 10.0]
    # B: mean 2, sample sd 1 → z = −1, 0, 1 → Φ(z) × 10
    for u, z in zip(who, (-1.0, 0.0, 1.0), strict=True):
        assert math.isclose(cell(scores, u, "B"), phi(z) * 10, rel_tol=1e-12)
        assert math.isclose(cell(scores, u, "B", "z"), z, rel_tol=1e-12, abs_tol=1e-15)
    assert [cell(scores, u, "D") for u in who] == [3.0, 4.0, 10.0]
    assert cell(scores, "U1", "A", "rule_applied") == "minmax(goalposts [0, 50] declared by P)"
    assert cell(scores, "U1", "B", "rule_applied") == "zscore(cdf)"
    assert cell(scores, "U1", "D", "rule_applied") == "points.direct"
    assert math.isclose(cell(scores, "U1", "P"), 2.0 + phi(-1.0) * 10 + 1.0, rel_tol=1e-12)
    assert math.isclose(cell(scores, "U1", "DTI"), 3.0 + phi(-1.0) * 10 + 3.0, rel_tol=1e-12)


def test_zscore_on_one_leaf_while_the_run_is_points():
    framework = build(
        node(
            "P1",
            leaf("S", 6, {"kind": "steps", "thresholds": [[80, 6], [50, 3]]}),
            leaf("Z", 4, normalisation={"method": "zscore"}),
        )
    )
    vals = values(("U1", "S", 90), ("U1", "Z", 2), ("U2", "S", 55), ("U2", "Z", 6))
    scores = score(vals, units("U1", "U2"), framework, MethodSpec("points"))
    # S by its steps: 90 → 6, 55 → 3; Z: mean 4, sd √8 → z = ∓0.7071 → Φ(z) × 4
    assert [cell(scores, u, "S") for u in ("U1", "U2")] == [6.0, 3.0]
    z = 2 / math.sqrt(8)
    assert math.isclose(cell(scores, "U1", "Z"), phi(-z) * 4, rel_tol=1e-12)
    assert math.isclose(cell(scores, "U2", "Z"), phi(z) * 4, rel_tol=1e-12)
    assert cell(scores, "U1", "S", "rule_applied") == "points.steps"
    assert cell(scores, "U1", "Z", "rule_applied") == "zscore(cdf)"
    # the same leaf with no declaration follows the run: its direct rule gives the value
    plain = build(
        node("P1", leaf("S", 6, {"kind": "steps", "thresholds": [[80, 6]]}), leaf("Z", 4))
    )
    again = score(vals, units("U1", "U2"), plain, MethodSpec("points"))
    assert cell(again, "U1", "Z") == 2.0


def _preset_with(tmp_path: Path, declaration: dict | None) -> Path:
    """The tiny preset, its framework's P1.1 with ``declaration`` as its normalisation."""
    for part in ("presets", "units", "frameworks"):
        shutil.copytree(FIXTURES / part, tmp_path / part)
    path = tmp_path / "frameworks" / "tiny.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if declaration is not None:
        document["framework"]["tree"][0]["children"][0]["normalisation"] = declaration
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return tmp_path / "presets" / "tiny.yaml"


def test_the_snapshot_records_the_choices_and_the_framework_hash_covers_them(tmp_path):
    plain = load_preset(_preset_with(tmp_path / "a", None))
    declared = load_preset(_preset_with(tmp_path / "b", {"goalposts": [0, 100]}))
    assert run_params(plain, "department", "points")["node_normalisation"] == {}
    assert run_params(declared, "department", "points")["node_normalisation"] == {
        "P1.1": {"method": "minmax", "goalposts": [0.0, 100.0]}
    }
    # the snapshot id hashes the params and the framework hash: both differ
    before, after = plain.framework("department"), declared.framework("department")
    assert before.content_hash() != after.content_hash()
    # a framework without declarations keeps the hash it had before the key existed
    assert (
        before.content_hash()
        == load_framework(FIXTURES / "frameworks" / "tiny.yaml").content_hash()
    )


def test_declarations_survive_yaml_and_coinr_round_trips(tmp_path):
    framework = build(
        node("P", leaf("A", 10), leaf("B", 10, normalisation={"method": "points"}),
             normalisation={"method": "minmax", "goalposts": [0, 50]}),
    )  # fmt: skip
    again = framework_from_mapping(framework_to_mapping(framework))
    assert again.content_hash() == framework.content_hash()
    write_imeta(framework, tmp_path / "iMeta.csv")
    read = read_imeta(tmp_path / "iMeta.csv")
    assert read.content_hash() == framework.content_hash()
    assert read.leaf_normalisation("A")[0] == "P"
    assert read.leaf_normalisation("B")[1].method == "points"


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        (
            {"method": "median"},
            "tree[0] (A).normalisation.method: unknown normalisation method "
            "'median'; choose one of points, minmax, zscore",
        ),
        (
            {"goalposts": [100, 0]},
            "tree[0] (A).normalisation.goalposts: must be [lo, hi] with numbers "
            "lo < hi, not [100, 0]",
        ),
        (
            {"goalposts": [5, 5]},
            "(A).normalisation.goalposts: must be [lo, hi] with numbers lo < hi, not [5, 5]",
        ),
        (
            {"method": "zscore", "goalposts": [0, 100]},
            "(A).normalisation: goalposts are min-max bounds: they cannot go with method 'zscore'",
        ),
        ({"bounds": "pooled"}, "(A).normalisation: unknown keys ['bounds']"),
        ("minmax", "(A).normalisation: must be a mapping"),
    ],
)
def test_invalid_declarations_are_refused_naming_file_and_node(tmp_path, declaration, message):
    spec = {
        "id": "f",
        "version": "1",
        "name": "Bộ chỉ số",
        "scale": 10,
        "tree": [leaf("A", 10, normalisation=declaration)],
    }
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"framework": spec}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FrameworkError) as caught:
        load_framework(path)
    assert message in caught.value.problems[0]
    assert len(caught.value.problems) == 1
    data = tmp_path / "data.csv"
    data.write_text("unit_id,year,indicator_id,value\nU1,2024,A,1\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["score", "--framework", str(path), "--data", str(data), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line and str(path) in line and message in line


def test_a_declared_minmax_leaf_takes_the_runs_pooled_bounds_in_a_points_run():
    framework = build(node("P1", leaf("M", 10, normalisation={"method": "minmax"}), leaf("S", 10)))
    spec = MethodSpec("points", minmax_bounds="pooled")
    assert reads_other_years(spec, framework)
    assert not reads_other_years(MethodSpec("points", minmax_bounds="pooled"), _ratio_and_count())
    assert not reads_other_years(MethodSpec("points"), framework)
    vals = values(("U1", "M", 2), ("U1", "S", 3), ("U2", "M", 4), ("U2", "S", 5))
    history = values(("U1", 2023, "M", 0), ("U2", 2023, "M", 10)).with_columns(
        pl.lit("all").alias("group_id")
    )
    ((_, scores),) = score_level(
        vals, units("U1", "U2"), LevelRecipe(framework), {"points": spec}, history=history
    )
    # M on the bounds pooled over 2023 and 2024 (0 … 10): x / 10 × 10; S by its direct rule
    assert [cell(scores, u, "M") for u in ("U1", "U2")] == [2.0, 4.0]
    assert cell(scores, "U1", "M", "rule_applied") == "minmax(pooled)"
    assert [cell(scores, u, "S") for u in ("U1", "U2")] == [3.0, 5.0]


def test_the_appraisers_points_replace_the_rubric_on_the_leaves_it_scores():
    """A leaf declared ``points`` in a min-max run takes the appraiser's points; a leaf declared
    ``zscore`` in a points run keeps its z-score points."""
    framework = build(
        node(
            "P1",
            leaf("R", 10, normalisation={"method": "points"}),
            leaf("Z", 10, normalisation={"method": "zscore"}),
            leaf("M", 10),
        )
    )
    vals = values(
        ("U1", "R", 4), ("U1", "Z", 1), ("U1", "M", 1),
        ("U2", "R", 6), ("U2", "Z", 3), ("U2", "M", 3),
    )  # fmt: skip
    overrides = pl.DataFrame(
        {
            "unit_id": ["U1", "U1", "U1"],
            "node_id": ["R", "Z", "M"],
            "points": [7.0, 9.0, 9.0],
            "reason": ["thẩm định"] * 3,
        }
    )
    recipe = LevelRecipe(framework)
    for method in ("minmax", "points"):
        ((_, scores),) = score_level(
            vals, units("U1", "U2"), recipe, {method: MethodSpec(method)}, overrides
        )
        assert cell(scores, "U1", "R") == 7.0  # the rubric would give 4
        assert cell(scores, "U1", "Z", "rule_applied") == "zscore(cdf)"
        assert math.isclose(cell(scores, "U1", "Z"), phi(-1 / math.sqrt(2)) * 10, rel_tol=1e-12)
    # M follows the run: min-max (1 is the lowest: 0 points), or the rubric's points replaced
    ((_, minmax),) = score_level(
        vals, units("U1", "U2"), recipe, {"m": MethodSpec("minmax")}, overrides
    )
    ((_, points),) = score_level(
        vals, units("U1", "U2"), recipe, {"p": MethodSpec("points")}, overrides
    )
    assert cell(minmax, "U1", "M") == 0.0
    assert cell(points, "U1", "M") == 9.0
