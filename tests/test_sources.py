"""Where the frameworks' facts come from.

- The national 922 structure is Phụ lục 1, Bảng I.1 of Decision 922/QĐ-BTTTT (20/5/2022), hand
  copied below: per main index its name, points and declared component count.
- `dti framework check` prints, for every shipped framework, how many components are the
  decision's and how many are assumed (hand-written counts; docs/sources.md has the same table).
- docs/sources.md names every decision a framework cites and every public copy it lists.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from dti_cli.main import cli
from pipelines.framework.load import load_framework

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = ROOT / "data" / "frameworks"
SOURCES_DOC = ROOT / "docs" / "sources.md"

# Phụ lục 1, Bảng I.1 "Cấu trúc DTI cấp tỉnh": group → (name, points, components) and its main
# indices (id, name, points, components). Smart city is listed but scores 0 points.
TABLE_I1 = {
    "G1": (
        ("Nhóm chỉ số nền tảng chung", 500, 56),
        [
            ("P1", "Nhận thức số", 100, 10),
            ("P2", "Thể chế số", 100, 11),
            ("P3", "Hạ tầng số", 100, 7),
            ("P4", "Nhân lực số", 100, 13),
            ("P5", "An toàn thông tin mạng", 100, 12),
            ("P6", "Đô thị thông minh", 0, 3),
        ],
    ),
    "G2": (
        ("Nhóm chỉ số hoạt động", 500, 42),
        [
            ("P7", "Hoạt động chính quyền số", 200, 22),
            ("P8", "Hoạt động kinh tế số", 150, 12),
            ("P9", "Hoạt động xã hội số", 150, 8),
        ],
    ),
}

# `dti framework check` line per shipped framework: (from the decision, assumed, declared or None).
CHECK_COUNTS = {
    "daklak-2534/department.yaml": ("daklak-2534-department", 0, 41, 41),
    "daklak-2534/district.yaml": ("daklak-2534-district", 0, 64, 65),
    "daklak-2534/commune.yaml": ("daklak-2534-commune", 0, 55, 55),
    "hue-3043/department.yaml": ("hue-3043-department", 0, 30, 30),
    "hue-3043/district.yaml": ("hue-3043-district", 0, 30, 30),
    "national-1726/province.yaml": ("national-1726-province", 0, 39, None),
    "national-922/province.yaml": ("national-922-province", 0, 42, 98),
    "ninhthuan-852/department.yaml": ("ninhthuan-852-department", 0, 32, None),
    "ninhthuan-852/district.yaml": ("ninhthuan-852-district", 0, 38, None),
    "ninhthuan-852/commune.yaml": ("ninhthuan-852-commune", 0, 29, None),
    "sonla-2024/department.yaml": ("sonla-2024-department", 0, 26, None),
    "sonla-2024/district.yaml": ("sonla-2024-district", 0, 26, None),
    "thanhhoa-3853/department.yaml": ("thanhhoa-3853-department", 0, 41, 41),
    "thanhhoa-3853/district.yaml": ("thanhhoa-3853-district", 0, 63, 63),
    "thanhhoa-3853/commune.yaml": ("thanhhoa-3853-commune", 0, 56, 56),
}


def framework_files() -> list[str]:
    return sorted(p.relative_to(FRAMEWORKS).as_posix() for p in FRAMEWORKS.glob("*/*.yaml"))


def raw_source(relative: str) -> dict:
    document = yaml.safe_load((FRAMEWORKS / relative).read_text(encoding="utf-8"))
    return document["framework"]["source"]


def test_national_922_main_indices_are_table_i1():
    fw = load_framework(FRAMEWORKS / "national-922" / "province.yaml")
    assert fw.source["decision"] == "922/QĐ-BTTTT"
    assert fw.source["date"] == "2022-05-20"
    assert "Phụ lục 1, Bảng I.1" in fw.source["document"]
    assert fw.scale == 1000
    assert fw.declared == {"groups": 2, "pillars": 9, "components": 98}
    for group_id, ((name, points, components), indices) in TABLE_I1.items():
        group = fw.nodes[group_id]
        assert (group.type, group.name, group.max_points, group.source) == (
            "group", name, points, "decision"
        )  # fmt: skip
        assert group.children == [index_id for index_id, *_ in indices]
        listed = []
        for index_id, index_name, index_points, declared in indices:
            node = fw.nodes[index_id]
            listed.append(node.declared_components)
            assert (node.name, node.max_points, node.declared_components, node.source) == (
                index_name, index_points, declared, "decision"
            )  # fmt: skip
        assert sum(listed) == components  # the group's count is the sum of its indices'


def test_national_922_components_are_all_marked_assumed():
    """Bảng I.2 (the components) was in no readable copy: none may claim the decision."""
    fw = load_framework(FRAMEWORKS / "national-922" / "province.yaml")
    components = fw.of_type("component")
    assert len(components) == 42
    assert {c.source for c in components} == {"assumed"}


def test_national_922_method_note_says_what_is_assumed_and_what_2024_used():
    document = yaml.safe_load(
        (FRAMEWORKS / "national-922" / "province.yaml").read_text(encoding="utf-8")
    )
    notes = document["framework"]["public_notes"]
    assert all(unicodedata.is_normalized("NFC", n) for n in notes)
    assert "Các chỉ số thành phần là giả định" in notes[0]
    assert "8 chỉ số chính, 47 chỉ số thành phần" in notes[1]
    assert "405/QĐ-BKHCN" in notes[1]


def test_every_shipped_framework_has_a_check_count():
    assert framework_files() == sorted(CHECK_COUNTS)


@pytest.mark.parametrize("relative", sorted(CHECK_COUNTS))
def test_framework_check_prints_decision_and_assumed_counts(relative):
    framework_id, from_decision, assumed, declared = CHECK_COUNTS[relative]
    result = CliRunner().invoke(
        cli, ["framework", "check", str(FRAMEWORKS / relative)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    expected = (
        f"{framework_id}: components from the decision {from_decision}, assumed {assumed}"
        + (f" (the decision declares {declared})" if declared is not None else "")
    )
    assert expected in result.output.splitlines()


@pytest.mark.parametrize("relative", sorted(CHECK_COUNTS))
def test_sources_doc_names_the_decision_and_every_public_copy(relative):
    doc = SOURCES_DOC.read_text(encoding="utf-8")
    source = raw_source(relative)
    assert source["decision"] in doc
    copies = source.get("public_copies") or []
    assert copies, f"{relative} lists no public copy"
    for address in copies:
        assert address.startswith(("http://", "https://"))
        assert address in doc, f"{relative}: {address} is not in docs/sources.md"


def test_sonla_cites_its_decision_number():
    for level in ("department", "district"):
        assert raw_source(f"sonla-2024/{level}.yaml")["decision"] == "1287/QĐ-UBND"
