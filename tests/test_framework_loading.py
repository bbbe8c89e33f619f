"""Framework files (pipelines/framework/{load,coinr}.py, docs/framework-format.md).

Errors are located (file name and the path inside the file); declared-versus-listed counts are
findings, not errors. The Đắk Lắk presets and COINr's ASEM iMeta load with the shapes that the
decision's text (docs/domain.md) and the ASEM README state.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
import yaml
from scoring_fixtures import build, leaf, node

from pipelines.analysis.inputs import asem_dir
from pipelines.framework.coinr import read_imeta
from pipelines.framework.from_mapping import FrameworkError, framework_from_mapping
from pipelines.framework.load import load_framework

ROOT = Path(__file__).resolve().parents[1]
DAKLAK = ROOT / "data" / "frameworks" / "daklak-2534"
ASEM = asem_dir()


def write_framework(tmp_path: Path, tree: list, **extra) -> Path:
    spec = {"id": "t", "version": "1", "name": "Thử", "scale": 100, "tree": tree, **extra}
    path = tmp_path / "khung.yaml"
    path.write_text(yaml.safe_dump({"framework": spec}, allow_unicode=True), encoding="utf-8")
    return path


def problems_of(path: Path) -> tuple[str, list[str]]:
    with pytest.raises(FrameworkError) as info:
        load_framework(path)
    assert info.value.origin == str(path)
    return str(info.value), info.value.problems


# ---------------------------------------------------------------- located errors


def test_duplicate_id_names_file_and_path(tmp_path):
    path = write_framework(tmp_path, [node("P1", leaf("A", 40), leaf("A", 60))])
    message, problems = problems_of(path)
    assert str(path) in message
    assert problems[0] == (
        "tree[0].children[1] (A): duplicate id 'A' (first at tree[0].children[0] (A))"
    )


def test_children_points_must_add_up(tmp_path):
    path = write_framework(
        tmp_path,
        [node("P1", leaf("A", 20), leaf("B", 20), max_points=50), node("P2", leaf("C", 50))],
    )
    message, problems = problems_of(path)
    assert str(path) in message
    assert "tree[0] (P1): children's points add up to 40, not to this node's 50" in problems


def test_top_level_points_must_add_up_to_the_scale(tmp_path):
    path = write_framework(tmp_path, [node("P1", leaf("A", 30))])  # scale 100
    _, problems = problems_of(path)
    assert any("add up to 30, not to this node's 100" in p for p in problems)


def test_leaf_without_rule(tmp_path):
    no_rule = {"id": "A", "type": "component", "name": "A", "max_points": 100}
    path = write_framework(tmp_path, [node("P1", no_rule)])
    _, problems = problems_of(path)
    assert problems == ["tree[0].children[0] (A): a leaf needs a 'rule' (how its raw value scores)"]


def test_unknown_flag(tmp_path):
    path = write_framework(tmp_path, [node("P1", leaf("A", 100, flags=["dvctt", "bogus"]))])
    _, problems = problems_of(path)
    assert len(problems) == 1
    assert problems[0].startswith("tree[0].children[0] (A): unknown flags ['bogus']")


def test_steps_threshold_above_max(tmp_path):
    rule = {"kind": "steps", "thresholds": [[4, 25], [2, 10]]}
    path = write_framework(tmp_path, [node("P1", leaf("A", 20, rule), leaf("B", 80))])
    _, problems = problems_of(path)
    assert problems == [
        "tree[0].children[0] (A).rule.thresholds[0]: gives 25 points, above the maximum 20.0"
    ]


def test_several_problems_are_reported_together(tmp_path):
    path = write_framework(
        tmp_path,
        [node("P1", leaf("A", 50, flags=["x"]), leaf("A", 50)), node("P2", leaf("B", 10))],
    )
    _, problems = problems_of(path)
    located = [p.split(":")[0] for p in problems]
    assert "tree[0].children[0] (A)" in located  # unknown flag
    assert "tree[0].children[1] (A)" in located  # duplicate
    assert "framework" in located  # 50 + 10 ≠ 100


def test_invalid_yaml(tmp_path):
    path = tmp_path / "hong.yaml"
    path.write_text("framework:\n  id: [unclosed\n  name: x\n", encoding="utf-8")
    message, problems = problems_of(path)
    assert str(path) in message
    assert len(problems) == 1 and problems[0].startswith("not valid YAML")


def test_missing_top_level_key(tmp_path):
    path = tmp_path / "khong-co.yaml"
    path.write_text(yaml.safe_dump({"khung": {"id": "x"}}), encoding="utf-8")
    message, problems = problems_of(path)
    assert str(path) in message
    assert problems == ["top-level key 'framework' is missing"]


def test_missing_required_field(tmp_path):
    path = tmp_path / "thieu.yaml"
    spec = {"id": "t", "version": "1", "name": "Thử", "tree": [node("P1", leaf("A", 100))]}
    path.write_text(yaml.safe_dump({"framework": spec}), encoding="utf-8")
    _, problems = problems_of(path)
    assert problems == ["framework: required field 'scale' is missing"]


def test_view_over_unknown_node_is_an_error():
    with pytest.raises(FrameworkError) as info:
        build(
            node("P1", leaf("A", 100)),
            views=[{"id": "V", "over": ["P1", "P9"]}],
        )
    assert info.value.problems == [
        "views[0] (V): 'over' must list existing node ids; unknown: ['P9']"
    ]


# ---------------------------------------------------------------- weights, NFC


def test_weights_are_converted_to_points():
    def weighted(node_id: str, weight: float, **extra) -> dict:
        return {"id": node_id, "type": "component", "name": node_id, "weight": weight, **extra}

    direct = {"kind": "direct"}
    spec = {
        "id": "w",
        "version": "1",
        "name": "w",
        "scale": 1000,
        "tree": [
            weighted(
                "P1",
                3,
                type="pillar",
                children=[
                    weighted("A", 1, rule=direct),
                    weighted("B", 1, rule=direct),
                    weighted("C", 2, rule=direct),
                ],
            ),
            weighted("P2", 1, type="pillar", rule=direct),
        ],
    }
    fw = framework_from_mapping(spec)
    points = {n: fw.nodes[n].max_points for n in ("P1", "P2", "A", "B", "C")}
    # P1 = 1000 × 3/4, P2 = 1000 × 1/4; A, B = 750 × 1/4, C = 750 × 2/4
    assert points == pytest.approx(
        {"P1": 750, "P2": 250, "A": 187.5, "B": 187.5, "C": 375}, abs=1e-9
    )


def test_text_is_normalised_to_nfc():
    decomposed = unicodedata.normalize("NFD", "Nhận thức số")
    assert decomposed != "Nhận thức số"
    fw = build(node("P1", leaf("A", 10), name=decomposed))
    assert fw.nodes["P1"].name == unicodedata.normalize("NFC", "Nhận thức số")
    # ids too: an NFD id is found under its NFC spelling
    fw = build(node(unicodedata.normalize("NFD", "Ấ1"), leaf("A", 10)))
    assert "Ấ1" in fw.nodes


# ---------------------------------------------------------------- Đắk Lắk presets

PRESETS = {
    # level: (pillars, components, pillar maxima in order, declared components per pillar)
    "department": (6, 41, [100, 100, 100, 100, 100, 500], [4, 3, 7, 4, 10, 13]),
    "district": (8, 64, [100, 100, 100, 100, 100, 200, 150, 150], [6, 5, 11, 7, 11, 12, 7, 5]),
    "commune": (8, 55, [100, 100, 100, 100, 100, 200, 150, 150], [6, 5, 11, 5, 4, 12, 7, 5]),
}


@pytest.mark.parametrize("level", list(PRESETS))
def test_daklak_preset_shape(level):
    n_pillars, n_components, pillar_points, per_pillar = PRESETS[level]
    fw = load_framework(DAKLAK / f"{level}.yaml")
    pillars = fw.of_type("pillar")
    assert len(pillars) == n_pillars
    assert len(fw.of_type("component")) == n_components
    assert [p.max_points for p in pillars] == pillar_points
    assert [sum(fw.nodes[c].type == "component" for c in p.children) for p in pillars] == per_pillar
    assert fw.scale == 1000
    assert sum(leaf.max_points for leaf in fw.leaves()) == pytest.approx(1000, abs=1e-9)
    assert len(fw.of_type("group")) == 2


@pytest.mark.parametrize("level", list(PRESETS))
def test_daklak_every_component_is_marked_assumed(level):
    fw = load_framework(DAKLAK / f"{level}.yaml")
    components = fw.of_type("component")
    assert components and all(c.source == "assumed" for c in components)
    assert all(p.source == "decision" for p in fw.of_type("pillar"))


@pytest.mark.parametrize("level", list(PRESETS))
def test_daklak_text_is_nfc(level):
    fw = load_framework(DAKLAK / f"{level}.yaml")
    texts = [fw.name, *(n.name for n in fw.nodes.values()), *(n.id for n in fw.nodes.values())]
    assert all(unicodedata.is_normalized("NFC", t) for t in texts)
    assert any(not t.isascii() for t in texts)  # there is Vietnamese text to normalise


def test_daklak_district_declared_versus_listed_is_a_finding():
    path = DAKLAK / "district.yaml"
    fw = load_framework(path)  # loads: a finding, not an error
    assert fw.findings == [f"{path}: declared components = 65, listed = 64"]
    assert fw.declared == {"pillars": 8, "components": 65}


@pytest.mark.parametrize("level", ["department", "commune"])
def test_daklak_other_levels_have_no_findings(level):
    assert load_framework(DAKLAK / f"{level}.yaml").findings == []


def test_declared_pillar_count_mismatch_is_a_finding():
    fw = build(
        node("P1", leaf("A", 10), leaf("B", 10), declared_components=3),
        declared={"pillars": 2},
    )
    assert fw.findings == [
        "<memory>: declared pillars = 2, listed = 1",
        "<memory>: tree[0] (P1): declared components = 3, listed = 2",
    ]


# ---------------------------------------------------------------- COINr iMeta

LOWER = {
    "CostImpEx", "Tariff", "TBTs", "PrimEner", "CO2", "MatCon", "Forest",
    "Poverty", "Palma", "FreePress", "TolMin", "PubDebt", "PrivDebt", "NEET",
}  # fmt: skip
PILLAR_SIZES = {
    "Physical": 8, "ConEcFin": 5, "Political": 3, "Instit": 6, "P2P": 8,  # under Conn
    "Environ": 5, "Social": 9, "SusEcFin": 5,  # under Sust
}  # fmt: skip


def test_asem_imeta_shape():
    fw = read_imeta(ASEM / "iMeta.csv")
    assert fw.root_id == "Index"
    assert fw.scale == 100
    assert len(fw.leaves()) == 49
    assert {p.id: len(p.children) for p in fw.of_type("pillar")} == PILLAR_SIZES
    assert [g.id for g in fw.of_type("group")] == ["Conn", "Sust"]
    assert {leaf.id for leaf in fw.leaves() if leaf.direction == -1} == LOWER
    assert fw.findings == []


def test_asem_imeta_weights_become_points():
    fw = read_imeta(ASEM / "iMeta.csv")
    # all weights 1: Conn, Sust = 100 / 2; 5 pillars under Conn = 50 / 5; 3 under Sust = 50 / 3
    expected = {
        "Conn": 50, "Sust": 50, "Physical": 10, "Instit": 10, "Environ": 50 / 3, "Social": 50 / 3,
        "LPI": 10 / 8, "FDI": 10 / 5, "Embs": 10 / 3, "CostImpEx": 10 / 6,
        "Renew": 50 / 3 / 5, "Poverty": 50 / 3 / 9, "NEET": 50 / 3 / 5,
    }  # fmt: skip
    assert {n: fw.nodes[n].max_points for n in expected} == pytest.approx(expected, abs=1e-9)
    for n in fw.nodes.values():
        if n.children:
            assert sum(fw.nodes[c].max_points for c in n.children) == pytest.approx(
                n.max_points, abs=1e-9
            ), n.id
    assert sum(leaf.max_points for leaf in fw.leaves()) == pytest.approx(100, abs=1e-9)


def test_asem_imeta_targets_become_ratio_rules():
    fw = read_imeta(ASEM / "iMeta.csv")
    assert fw.nodes["LPI"].rule.kind == "ratio"
    assert fw.nodes["LPI"].rule.params["target"] == pytest.approx(4.11803135, abs=1e-12)
    assert fw.nodes["Tariff"].rule.params["target"] == pytest.approx(0.5265, abs=1e-12)


def test_imeta_unequal_weights(tmp_path):
    path = tmp_path / "iMeta.csv"
    path.write_text(
        "Level,iCode,iName,Direction,Weight,Parent,Type\n"
        "1,x1,X1,1,1,P,Indicator\n"
        "1,x2,X2,-1,3,P,Indicator\n"
        "1,x3,X3,1,1,Q,Indicator\n"
        "2,P,P,1,2,Top,Aggregate\n"
        "2,Q,Q,1,3,Top,Aggregate\n"
        "3,Top,Top,1,1,NA,Aggregate\n"
        "NA,grp,G,NA,NA,NA,Group\n",
        encoding="utf-8",
    )
    fw = read_imeta(path, scale=1000)
    # P = 1000 × 2/5 = 400, Q = 600; x1 = 400 × 1/4 = 100, x2 = 400 × 3/4 = 300
    points = {n: fw.nodes[n].max_points for n in ("P", "Q", "x1", "x2", "x3")}
    assert points == pytest.approx({"P": 400, "Q": 600, "x1": 100, "x2": 300, "x3": 600})
    assert fw.nodes["x2"].direction == -1
    assert fw.nodes["x1"].rule.kind == "relative_best"  # no Target column
    assert "grp" not in fw.nodes


def test_imeta_parent_that_is_not_an_icode(tmp_path):
    path = tmp_path / "iMeta.csv"
    path.write_text(
        "Level,iCode,Weight,Parent,Type\n1,x1,1,Nowhere,Indicator\n2,Top,1,NA,Aggregate\n",
        encoding="utf-8",
    )
    with pytest.raises(FrameworkError) as info:
        read_imeta(path)
    assert str(path) in str(info.value)
    assert info.value.problems == ["row iCode=x1: Parent 'Nowhere' is not an iCode"]
