"""`dti framework check` counts, per framework, the components from the decision and the assumed
ones, next to the count the decision declares."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from dti_cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
NATIONAL_922 = ROOT / "data" / "frameworks" / "national-922" / "province.yaml"


def check(path: Path) -> list[str]:
    result = CliRunner().invoke(cli, ["framework", "check", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_national_922_says_how_many_components_are_the_decisions():
    lines = check(NATIONAL_922)
    # 42 listed components, all assumed; Phụ lục 1, Bảng I.1 declares 98
    assert (
        "national-922-province: components from the decision 0, assumed 42 "
        "(the decision declares 98)"
    ) in lines
    assert any(line.endswith("declared components = 98, listed = 42") for line in lines)
    source = next(line for line in lines if line.startswith("national-922-province: source "))
    assert "Bảng I.2 (chỉ số thành phần) không đọc được" in source


def test_mixed_sources_are_counted_apart(tmp_path: Path):
    def component(node_id: str, source: str) -> dict:
        return {"id": node_id, "type": "component", "name": f"Chỉ số {node_id}",
                "max_points": 50, "rule": {"kind": "yesno"}, "source": source}  # fmt: skip

    tree = [
        {"id": "P1", "type": "pillar", "name": "Trụ cột", "max_points": 100,
         "children": [component("P1.1", "decision"), component("P1.2", "assumed")]},
    ]  # fmt: skip
    spec = {"id": "t", "version": "1", "name": "Thử", "scale": 100, "tree": tree}
    path = tmp_path / "khung.yaml"
    path.write_text(yaml.safe_dump({"framework": spec}, allow_unicode=True), encoding="utf-8")
    lines = check(path)
    assert "t: components from the decision 1, assumed 1" in lines
    assert not any(line.startswith("t: source ") for line in lines)  # it names no document
