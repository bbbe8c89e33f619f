"""COINr interchange both ways (pipelines/framework/coinr.py, pipelines/analysis/datafiles.py).

Writing a framework as iMeta (+ its ``.dti.json`` sidecar) and data as iData, then reading them
back, must give the same framework (content hash) and identical scores — lossless — for any
framework: every rule kind, flags, goalposts, criteria below components (an unbalanced tree), a
0-point node, views, composites, classes; and for COINr's own ASEM example (panel included).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from pipelines.analysis.datafiles import (
    read_framework_file,
    read_observations,
    units_of,
    write_coinr,
    write_framework_yaml,
)
from pipelines.analysis.inputs import asem_dir
from pipelines.framework.coinr import idata_frame, read_imeta, sidecar_path, write_imeta
from pipelines.framework.from_mapping import framework_from_mapping
from pipelines.framework.to_mapping import framework_to_mapping
from pipelines.scoring.engine import score
from pipelines.scoring.methods import MethodSpec

ASEM = asem_dir()
KEYS = ["year", "unit_id", "node_id"]

RICH = {
    "id": "rich",
    "version": "R/2024",
    "name": "Bộ chỉ số đủ loại",
    "level": "district",
    "scale": 1000,
    "source": {"decision": "TEST", "date": "2024-01-01"},
    "valid_years": {"from": 2023, "to": 2024},
    "declared": {"pillars": 3, "components": 7},
    "notes": ["a note"],
    "classification": {
        "id": "bands",
        "source": "assumed",
        "pillar_minimum": True,
        "bands": [{"label": "Tốt", "min_ratio": 0.8}, {"label": "Khá", "min_ratio": 0.5}],
    },
    "tree": [
        {"id": "G1", "type": "group", "name": "Nền tảng", "max_points": 600, "children": [
            {"id": "P1", "type": "pillar", "name": "Nhận thức số", "max_points": 300,
             "declared_components": 3, "children": [
                {"id": "P1.1", "type": "component", "name": "Tỷ lệ", "max_points": 100,
                 "unit": "%", "percent_scale": 100, "rule": {"kind": "ratio", "target": 80},
                 "goalposts": [0, 100], "source": "assumed"},
                {"id": "P1.2", "type": "component", "name": "Bậc", "max_points": 100,
                 "rule": {"kind": "steps", "thresholds": [[4, 100], [2, 50]], "else": 10},
                 "flags": ["subordinate"], "rubric": "4 → 100; 2 → 50"},
                {"id": "P1.3", "type": "component", "name": "Có/không", "max_points": 100,
                 "rule": {"kind": "yesno"}, "flags": ["dvctt", "function_specific"]},
            ]},
            {"id": "P2", "type": "pillar", "name": "Thể chế số", "max_points": 300, "children": [
                {"id": "P2.1", "type": "component", "name": "Loại", "max_points": 150,
                 "rule": {"kind": "categorical", "categories": {1: 150, 2: 75, 3: 0}}},
                {"id": "P2.2", "type": "component", "name": "Thành phần có tiêu chí",
                 "max_points": 150, "children": [
                    {"id": "P2.2.a", "type": "criterion", "name": "Thời gian", "max_points": 100,
                     "direction": "lower", "rule": {"kind": "relative_best"}},
                    {"id": "P2.2.b", "type": "criterion", "name": "Điểm", "max_points": 50,
                     "rule": {"kind": "direct"}},
                 ]},
            ]},
        ]},
        {"id": "P3", "type": "pillar", "name": "Đô thị thông minh", "max_points": 400,
         "children": [
            {"id": "P3.1", "type": "component", "name": "Điểm", "max_points": 400,
             "rule": {"kind": "direct"}},
            {"id": "P3.2", "type": "component", "name": "Không tính điểm", "max_points": 0,
             "rule": {"kind": "direct"}},
         ]},
    ],
    "views": [{"id": "V1", "name": "Chính quyền số", "over": ["G1", "P3"], "divisor": 1000}],
    "composites": [{"id": "C1", "name": "Tổng hợp", "weights": {"V1": 0.6, "P1": 0.4}}],
}  # fmt: skip


@pytest.fixture(scope="module")
def rich():
    return framework_from_mapping(RICH)


def rich_values() -> pl.DataFrame:
    raw = {
        "U1": [55, 4, 1, 2, 3.5, 30, 250, 0],
        "U2": [90, 2, 0, 1, 7.25, 45, 390, 0],
        "U3": [120, 1, None, 3, 1.0, 12.5, None, 0],
        "U4": [None, 3, 1, None, 2.0, 50, 100, 0],
    }
    leaves = ["P1.1", "P1.2", "P1.3", "P2.1", "P2.2.a", "P2.2.b", "P3.1", "P3.2"]
    rows = []
    for year, shift in ((2023, 0.0), (2024, 1.0)):
        for unit, xs in raw.items():
            for leaf, x in zip(leaves, xs, strict=True):
                value = None if x is None else x + shift * (leaf == "P1.1")
                rows.append((unit, year, leaf, value))
    return pl.DataFrame(
        rows,
        schema={"unit_id": pl.String, "year": pl.Int32, "node_id": pl.String, "value": pl.Float64},
        orient="row",
    )


SPECS = [
    MethodSpec("points"),
    MethodSpec("minmax"),
    MethodSpec("minmax", minmax_bounds="goalposts", missing="exclude"),
    MethodSpec("minmax", minmax_bounds="pooled", missing="mean"),
    MethodSpec("zscore"),
    MethodSpec("zscore", zscore_mode="rescaled", missing="exclude"),
]


def round_trip(framework, values, folder: Path):
    written = write_coinr(framework, folder, values)
    back = read_framework_file(written["iMeta"])
    return back, read_observations(written["iData"], back)


def test_framework_mapping_round_trip(rich):
    again = framework_from_mapping(framework_to_mapping(rich))
    assert again.content_hash() == rich.content_hash()
    assert again.findings == rich.findings


def test_imeta_round_trip_keeps_the_framework(rich, tmp_path):
    notes = write_imeta(rich, tmp_path / "iMeta.csv")
    back = read_imeta(tmp_path / "iMeta.csv")
    assert back.content_hash() == rich.content_hash()
    assert back.nodes_frame().equals(rich.nodes_frame())
    assert [n.flags for n in back.nodes.values()] == [n.flags for n in rich.nodes.values()]
    assert back.nodes["P1.1"].goalposts == (0.0, 100.0)
    assert back.classification == rich.classification
    assert (back.views, back.composites) == (rich.views, rich.composites)
    assert (back.id, back.version, back.scale, back.level) == ("rich", "R/2024", 1000, "district")
    # the criteria make the tree unbalanced: COINr wants every Parent one Level up
    assert notes == [
        "P2.1: Level 1 under P2 at Level 3 (COINr wants every Parent one level up; this project "
        "reads it as is)",
        "P1: Level 2 under G1 at Level 4 (COINr wants every Parent one level up; this project "
        "reads it as is)",
        "P3: Level 2 under DTI at Level 5 (COINr wants every Parent one level up; this project "
        "reads it as is)",
    ]


def test_imeta_columns_are_coinr_s(rich, tmp_path):
    write_imeta(rich, tmp_path / "iMeta.csv")
    with (tmp_path / "iMeta.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = {r["iCode"]: r for r in reader}
        header = reader.fieldnames
    assert header[:9] == [
        "Level", "iCode", "iName", "Direction", "Weight", "Parent", "Type", "Unit", "Target",
    ]  # fmt: skip
    # weights are the maximum points (COINr rescales them within siblings)
    assert (rows["P1.1"]["Weight"], rows["P1"]["Weight"], rows["G1"]["Weight"]) == (
        "100", "300", "600",
    )  # fmt: skip
    assert rows["DTI"]["Parent"] == "NA" and rows["DTI"]["Type"] == "Aggregate"
    assert rows["P1.1"]["Type"] == "Indicator" and rows["P1.1"]["Level"] == "1"
    assert rows["P1.1"]["Target"] == "80" and rows["P1.2"]["Target"] == "NA"
    assert rows["P2.2.a"]["Direction"] == "-1"
    assert rows["P2.2"]["Level"] == "2" and rows["P2"]["Level"] == "3"
    assert json.loads(rows["P1.2"]["dti_rule"]) == {
        "kind": "steps", "thresholds": [[4, 100], [2, 50]], "else": 10,
    }  # fmt: skip
    assert rows["P1.3"]["dti_flags"] == "dvctt,function_specific"
    sidecar = json.loads(sidecar_path(tmp_path / "iMeta.csv").read_text(encoding="utf-8"))
    assert sidecar["scale"] == 1000 and sidecar["views"][0]["over"] == ["G1", "P3"]


def test_idata_wide_table(rich):
    wide = idata_frame(rich_values(), rich, names={"U1": "Đơn vị 1"})
    assert wide.columns[:3] == ["uName", "uCode", "Time"]
    assert wide.columns[3:] == rich.leaf_ids()
    assert wide.height == 8
    assert wide.filter(uCode="U3", Time=2023)["P3.1"].to_list() == [None]
    assert wide.filter(uCode="U1")["uName"].to_list() == ["Đơn vị 1", "Đơn vị 1"]
    no_time = idata_frame(rich_values().with_columns(pl.lit(None, pl.Int32).alias("year")), rich)
    assert "Time" not in no_time.columns


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.method}-{s.missing}-{s.minmax_bounds}")
def test_rich_round_trip_gives_identical_scores(rich, tmp_path, spec):
    values = rich_values()
    back, back_values = round_trip(rich, values, tmp_path)
    assert back_values.sort(KEYS).equals(values.sort(KEYS))
    before = score(values, units_of(values), rich, spec).sort(KEYS)
    after = score(back_values, units_of(back_values), back, spec).sort(KEYS)
    assert after.equals(before)
    assert before.filter(node_id="C1").height == 8  # views and composites came through


@pytest.mark.parametrize("data", ["raw_iData_full.csv", "D_panel_raw_iData.csv"])
def test_asem_round_trip(tmp_path, data):
    framework = read_imeta(ASEM / "iMeta.csv")
    values = read_observations(ASEM / data, framework)
    back, back_values = round_trip(framework, values, tmp_path)
    assert back.content_hash() == framework.content_hash()
    assert back_values.sort(KEYS).equals(values.sort(KEYS))
    for spec in (MethodSpec("minmax"), MethodSpec("zscore"), MethodSpec("points")):
        before = score(values, units_of(values), framework, spec).sort(KEYS)
        after = score(back_values, units_of(back_values), back, spec).sort(KEYS)
        assert after.equals(before), spec


def test_plain_coinr_tables_without_the_extras(tmp_path):
    """A file COINr wrote (no dti_* columns, no sidecar): the weights and targets carry it."""
    framework = read_imeta(ASEM / "iMeta.csv")
    write_imeta(framework, tmp_path / "iMeta.csv")
    frame = pl.read_csv(tmp_path / "iMeta.csv", infer_schema_length=None)
    plain = tmp_path / "plain" / "iMeta.csv"
    plain.parent.mkdir()
    frame.select([c for c in frame.columns if not c.startswith("dti_")]).write_csv(
        plain, null_value="NA"
    )
    back = read_imeta(plain)
    for node_id, node in framework.nodes.items():
        assert back.nodes[node_id].max_points == pytest.approx(node.max_points, abs=1e-12)
        assert back.nodes[node_id].direction == node.direction
    assert back.nodes["LPI"].rule == framework.nodes["LPI"].rule
    assert back.scale == 100


def test_yaml_written_from_imeta_loads_back(tmp_path):
    framework = read_imeta(ASEM / "iMeta.csv", scale=1000)
    again = read_framework_file(write_framework_yaml(framework, tmp_path / "asem.yaml"))
    assert again.content_hash() == framework.content_hash()


def test_cli_export_and_import(rich, tmp_path):
    from dti_cli.main import cli

    yaml_path = write_framework_yaml(rich, tmp_path / "rich.yaml")
    data = tmp_path / "data.csv"
    rich_values().rename({"node_id": "indicator_id"}).write_csv(data, null_value="NA")
    out = tmp_path / "coinr"
    result = CliRunner().invoke(
        cli,
        ["coinr", "export", "--framework", str(yaml_path), "--data", str(data),
         "--out-dir", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"iMeta.csv", "iMeta.dti.json", "iData.csv"}
    assert "iData 8 rows × 8 indicators" in result.output
    assert "note: P2.1: Level 1 under P2" in result.output
    result = CliRunner().invoke(
        cli,
        ["coinr", "import", "--imeta", str(out / "iMeta.csv"), "--out", str(tmp_path / "b.yaml")],
    )
    assert result.exit_code == 0, result.output
    assert read_framework_file(tmp_path / "b.yaml").content_hash() == rich.content_hash()
    # and dti score reads the exported pair
    scored = tmp_path / "scores.csv"
    result = CliRunner().invoke(
        cli,
        ["score", "--framework", str(out / "iMeta.csv"), "--data", str(out / "iData.csv"),
         "--method", "points", "--out", str(scored)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    expected = score(rich_values(), units_of(rich_values()), rich, MethodSpec("points"))
    got = pl.read_csv(scored)
    total = got.filter(node_id="DTI", unit_id="U1", year=2024)["points"].item()
    assert total == expected.filter(node_id="DTI", unit_id="U1", year=2024)["points"].item()
