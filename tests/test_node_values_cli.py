"""``dti score`` with values at nodes above the leaves, end to end (the installed console script).

(a) a small framework: one unit gives a pillar, another its leaves; totals by hand;
(b) mistakes: a node and its descendant for one unit, a node value above its maximum, a
    non-points method: exit 2, one line on stderr naming the file, line and ids;
(c) the national example: the Ministry's published DTI 2022 main-index values of the top five
    provinces (data/examples/dti-2022/main_indices.csv) give back the published DTI.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipelines.paths import REPO_ROOT

# DTI (100) → P1 (A 40, B 20), P2 (C 40); rules: A = min(x/100, 1) × 40, B, C direct points
FRAMEWORK = {
    "framework": {
        "id": "small", "version": "1", "name": "Bộ chỉ số nhỏ", "scale": 100,
        "tree": [
            {"id": "P1", "type": "pillar", "name": "Trụ cột 1", "max_points": 60,
             "children": [
                 {"id": "A", "type": "component", "name": "A", "max_points": 40,
                  "rule": {"kind": "ratio", "target": 100}},
                 {"id": "B", "type": "component", "name": "B", "max_points": 20,
                  "rule": {"kind": "direct"}},
             ]},
            {"id": "P2", "type": "pillar", "name": "Trụ cột 2", "max_points": 40,
             "children": [
                 {"id": "C", "type": "component", "name": "C", "max_points": 40,
                  "rule": {"kind": "direct"}},
             ]},
        ],
        "views": [{"id": "V", "name": "Góc nhìn", "over": ["P1"], "divisor": 60}],
    }
}  # fmt: skip
# U1: A 50 → 20 points, B 10, C 30 → P1 30, total 60. U2: P1 = 0.75 → 45 points, C 20 → 65.
DATA = "unit_id,year,indicator_id,value\nU1,2024,A,50\nU1,2024,B,10\nU1,2024,C,30\n" \
       "U2,2024,P1,0.75\nU2,2024,C,20\n"  # fmt: skip
NATIONAL = REPO_ROOT / "data" / "frameworks" / "national-922" / "province.yaml"
MAIN_INDICES = REPO_ROOT / "data" / "examples" / "dti-2022" / "main_indices.csv"
# dti.gov.vn/xep-hang-2022: the published DTI of the top five provinces
PUBLISHED_DTI = {
    "T63-DANANG": 0.8002,
    "T63-HOCHIMINH": 0.7163,
    "T63-QUANGNINH": 0.7024,
    "T63-THUATHIENHUE": 0.6975,
    "T63-CANTHO": 0.6924,
}


def dti(*args: str) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).parent / "dti"), "score", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def framework(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("nodes") / "khung.yaml"
    path.write_text(yaml.safe_dump(FRAMEWORK, allow_unicode=True), encoding="utf-8")
    return path


def rows_of(path: Path) -> dict[tuple[str, str], dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {(r["unit_id"], r["node_id"]): r for r in csv.DictReader(handle)}


def test_a_pillar_and_leaves(framework, tmp_path):
    data = tmp_path / "du-lieu.csv"
    data.write_text(DATA, encoding="utf-8")
    out = tmp_path / "ket-qua.csv"
    result = dti("--framework", str(framework), "--data", str(data), "--method", "points",
                 "--explain", "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "1 values given at nodes above the leaves" in result.stdout
    rows = rows_of(out)
    expected = {("U1", "DTI"): 60, ("U1", "P1"): 30, ("U1", "A"): 20, ("U2", "DTI"): 65,
                ("U2", "P1"): 45, ("U2", "P2"): 20}  # fmt: skip
    for key, points in expected.items():
        assert float(rows[key]["points"]) == pytest.approx(points, abs=1e-12), key
    assert rows[("U2", "A")]["points"] == "" and rows[("U2", "A")]["ratio"] == ""
    assert rows[("U2", "P1")]["rule_applied"] == "given: 0.75 × 60 = 45 points"
    assert float(rows[("U2", "V")]["ratio"]) == pytest.approx(0.75, abs=1e-12)
    assert rows[("U2", "DTI")]["rank"] == "1" and rows[("U1", "DTI")]["rank"] == "2"


@pytest.mark.parametrize(
    ("data", "method", "expected"),
    [
        ("U1,2024,P1,0.5\nU1,2024,B,3\n", "points", ["dòng 3", "U1", "P1 (dòng 2)", "chỉ số B"]),
        ("U1,2024,P1,1.5\n", "points", ["dòng 2", "P1", "0–1"]),
        ("U1,2024,P1,0.5\n", "minmax", ["P1", "--method points"]),
    ],
)
def test_mistakes_one_line_exit_2(framework, tmp_path, data, method, expected):
    path = tmp_path / "sai.csv"
    path.write_text("unit_id,year,indicator_id,value\n" + data, encoding="utf-8")
    result = dti("--framework", str(framework), "--data", str(path), "--method", method,
                 "--out", str(tmp_path / "o.csv"))  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    for text in expected:
        assert text in lines[0]
    if method == "points":
        assert "sai.csv" in lines[0]


def test_national_2022_main_indices(tmp_path):
    out = tmp_path / "dti-2022.csv"
    result = dti("--framework", str(NATIONAL), "--data", str(MAIN_INDICES), "--method", "points",
                 "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = rows_of(out)
    for unit, published in PUBLISHED_DTI.items():
        # eight values rounded to 4 decimals move the total by at most Σ max × 0.00005 / 1000
        # = 0.00005, and the published DTI is itself rounded (another 0.00005)
        assert float(rows[(unit, "DTI")]["ratio"]) == pytest.approx(published, abs=1e-4)
    # Đà Nẵng by hand: foundation 100 + 90 + 82.53 + 84.87 + 75.78 = 433.18; activities
    # 0.8575 × 200 = 171.5, 0.7836 × 150 = 117.54, 0.5197 × 150 = 77.955
    danang = {"G1": 433.18, "P7": 171.5, "DTI": 800.175, "V_GOV": 433.18 + 171.5,
              "V_ECO": 433.18 + 117.54, "V_SOC": 433.18 + 77.955}  # fmt: skip
    for node_id, points in danang.items():
        assert float(rows[("T63-DANANG", node_id)]["points"]) == pytest.approx(points, abs=1e-9)
    assert float(rows[("T63-DANANG", "V_GOV")]["ratio"]) == pytest.approx(604.68 / 700, abs=1e-12)
    ranks = [rows[(unit, "DTI")]["rank"] for unit in PUBLISHED_DTI]
    assert ranks == ["1", "2", "3", "4", "5"]


def test_blank_leaves_under_a_given_node_are_not_missing(framework, tmp_path):
    # iData without Time: U2 gives P1 and leaves A, B blank; U1 leaves P1 blank and gives A, B;
    # C blank for U1 is the one missing value (→ 0): U1 20 + 10 + 0 = 30, U2 45 + 20 = 65
    data = tmp_path / "iData.csv"
    data.write_text("uCode,P1,A,B,C\nU1,NA,50,10,NA\nU2,0.75,NA,NA,20\n", encoding="utf-8")
    out = tmp_path / "o.csv"
    result = dti("--framework", str(framework), "--data", str(data), "--method", "points",
                 "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "(1 missing → 0 points, 1 values given at nodes above the leaves)" in result.stdout
    rows = rows_of(out)
    assert float(rows[("U1", "DTI")]["points"]) == pytest.approx(30, abs=1e-12)
    assert float(rows[("U2", "DTI")]["points"]) == pytest.approx(65, abs=1e-12)
