"""``dti score`` end to end: the installed console script in a subprocess.

(a) a small YAML framework and long CSV, every output number checked against hand arithmetic;
(b) COINr's ASEM iMeta + iData for every method: shape, bounds, sums, ranks;
(c) the ASEM panel: one year per ``Time`` value, ranks within each year;
(d) a data file naming an unknown indicator fails with a message that names the file.
"""

from __future__ import annotations

import csv
import math
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from scoring_fixtures import phi

from pipelines.analysis.inputs import asem_dir

ASEM = asem_dir()
IMETA = ASEM / "iMeta.csv"
IDATA = ASEM / "raw_iData_full.csv"
PANEL = ASEM / "D_panel_raw_iData.csv"
COLUMNS = ["unit_id", "year", "node_id", "node_level", "points", "max_points", "ratio", "rank"]
METHODS = ["points", "minmax", "zscore"]


def dti() -> str:
    path = Path(sys.executable).parent / "dti"
    assert path.exists(), f"console script missing: {path}"
    return str(path)


def run_score(framework: Path, data: Path, method: str, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [dti(), "score", "--framework", str(framework), "--data", str(data),
         "--method", method, "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def read_rows(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def num(text: str) -> float | None:
    return None if text == "" else float(text)


def scored(framework: Path, data: Path, method: str, out: Path) -> tuple[list[str], list[dict]]:
    result = run_score(framework, data, method, out)
    assert result.returncode == 0, result.stderr
    return read_rows(out)


def by_unit_node(rows: list[dict]) -> dict[tuple[str, str], dict]:
    index = {(r["unit_id"], r["node_id"]): r for r in rows}
    assert len(index) == len(rows), "one row per unit and node"
    return index


# ---------------------------------------------------------------- (a) hand-computed

SMALL_FRAMEWORK = {
    "framework": {
        "id": "small",
        "version": "1",
        "name": "Bộ chỉ số nhỏ",
        "scale": 100,
        "tree": [
            {
                "id": "P1", "type": "pillar", "name": "Trụ cột 1", "max_points": 60,
                "children": [
                    {"id": "A", "type": "component", "name": "A", "max_points": 40,
                     "rule": {"kind": "ratio", "target": 100}},
                    {"id": "B", "type": "component", "name": "B", "max_points": 20,
                     "direction": "lower", "rule": {"kind": "ratio", "target": 2}},
                ],
            },
            {
                "id": "P2", "type": "pillar", "name": "Trụ cột 2", "max_points": 40,
                "children": [
                    {"id": "C", "type": "component", "name": "C", "max_points": 40,
                     "rule": {"kind": "steps", "thresholds": [[3, 40], [1, 20]]}},
                ],
            },
        ],
    }
}  # fmt: skip
# A (higher, max 40): 40, 60, 80; B (lower, max 20): 3, 1, 5; C (max 40): 3, 1, missing
SMALL_DATA = """unit_id,year,indicator_id,value
U1,2024,A,40
U2,2024,A,60
U3,2024,A,80
U1,2024,B,3
U2,2024,B,1
U3,2024,B,5
U1,2024,C,3
U2,2024,C,1
U3,2024,C,NA
"""
UNITS = ["U1", "U2", "U3"]
NODES = ["DTI", "P1", "A", "B", "P2", "C"]
MAXIMA = {"DTI": 100, "P1": 60, "A": 40, "B": 20, "P2": 40, "C": 40}
LEVELS = {"DTI": "index", "P1": "pillar", "A": "component", "B": "component", "P2": "pillar",
          "C": "component"}  # fmt: skip

R2 = math.sqrt(2)
EXPECTED = {
    "points": {
        # A: min(x/100, 1) × 40; B (lower): min(2/x, 1) × 20; C: x ≥ 3 → 40, x ≥ 1 → 20
        "A": [40 / 100 * 40, 60 / 100 * 40, 80 / 100 * 40],  # 16, 24, 32
        "B": [2 / 3 * 20, 20, 2 / 5 * 20],  # 13.33, 20, 8
        "C": [40, 20, 0],  # U3 missing → 0
        "P1": [16 + 2 / 3 * 20, 24 + 20, 32 + 8],
        "P2": [40, 20, 0],
        "DTI": [16 + 2 / 3 * 20 + 40, 24 + 20 + 20, 32 + 8 + 0],  # 69.33, 64, 40
    },
    "minmax": {
        # A: (x − 40)/(80 − 40) × 40; B negated −3, −1, −5: (s + 5)/(−1 + 5) × 20;
        # C over 3, 1: (x − 1)/(3 − 1) × 40
        "A": [0, (60 - 40) / (80 - 40) * 40, 40],
        "B": [(-3 + 5) / (-1 + 5) * 20, 20, 0],
        "C": [40, 0, 0],
        "P1": [0 + 10, 20 + 20, 40 + 0],
        "P2": [40, 0, 0],
        "DTI": [50, 40, 40],
    },
    "zscore": {
        # A: mean 60, sd sqrt((400 + 0 + 400)/2) = 20 → z −1, 0, 1
        # B negated −3, −1, −5: mean −3, sd sqrt((0 + 4 + 4)/2) = 2 → z 0, 1, −1
        # C over 3, 1: mean 2, sd sqrt((1 + 1)/1) = √2 → z 1/√2, −1/√2; U3 missing
        "A": [phi(-1) * 40, 0.5 * 40, phi(1) * 40],
        "B": [0.5 * 20, phi(1) * 20, phi(-1) * 20],
        "C": [phi(1 / R2) * 40, phi(-1 / R2) * 40, 0],
        "P1": [phi(-1) * 40 + 10, 20 + phi(1) * 20, phi(1) * 40 + phi(-1) * 20],
        "P2": [phi(1 / R2) * 40, phi(-1 / R2) * 40, 0],
        "DTI": [
            phi(-1) * 40 + 10 + phi(1 / R2) * 40,  # 46.76
            20 + phi(1) * 20 + phi(-1 / R2) * 40,  # 46.42
            phi(1) * 40 + phi(-1) * 20,  # 36.83
        ],
    },
}
EXPECTED_RANKS = {
    "points": {"A": [3, 2, 1], "B": [2, 1, 3], "C": [1, 2, 3], "P1": [3, 1, 2], "P2": [1, 2, 3],
               "DTI": [1, 2, 3]},
    "minmax": {"A": [3, 2, 1], "B": [2, 1, 3], "C": [1, 2, 2], "P1": [3, 1, 1], "P2": [1, 2, 2],
               "DTI": [1, 2, 2]},
    # P1: U2 20 + 20Φ(1) and U3 40Φ(1) + 20(1 − Φ(1)) are the same number → tie
    "zscore": {"A": [3, 2, 1], "B": [2, 1, 3], "C": [1, 2, 3], "P1": [3, 1, 1], "P2": [1, 2, 3],
               "DTI": [1, 2, 3]},
}  # fmt: skip
EXPECTED_Z = {
    "A": [-1, 0, 1],
    "B": [0, 1, -1],
    "C": [1 / R2, -1 / R2, None],
    "P1": [(40 * -1 + 20 * 0) / 60, (40 * 0 + 20 * 1) / 60, (40 * 1 + 20 * -1) / 60],
    "P2": [1 / R2, -1 / R2, None],
    "DTI": [
        (40 * -1 + 20 * 0 + 40 / R2) / 100,
        (40 * 0 + 20 * 1 - 40 / R2) / 100,
        (40 * 1 + 20 * -1) / 60,  # C has no value: weights 40 + 20 only
    ],
}


@pytest.fixture(scope="module")
def small_inputs(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("small")
    framework = folder / "khung nhỏ.yaml"
    framework.write_text(yaml.safe_dump(SMALL_FRAMEWORK, allow_unicode=True), encoding="utf-8")
    data = folder / "du-lieu.csv"
    data.write_text(SMALL_DATA, encoding="utf-8")
    return framework, data


@pytest.fixture(scope="module")
def small_outputs(small_inputs, tmp_path_factory) -> dict[str, tuple[list[str], list[dict]]]:
    framework, data = small_inputs
    folder = tmp_path_factory.mktemp("small_out")
    return {m: scored(framework, data, m, folder / f"{m}.csv") for m in METHODS}


@pytest.mark.parametrize("method", METHODS)
def test_small_columns_and_rows(small_outputs, method):
    columns, rows = small_outputs[method]
    assert columns == ([*COLUMNS, "z"] if method == "zscore" else COLUMNS)
    assert len(rows) == len(UNITS) * len(NODES)
    assert {(r["unit_id"], r["year"], r["node_id"]) for r in rows} == {
        (u, "2024", n) for u in UNITS for n in NODES
    }
    index = by_unit_node(rows)
    for u in UNITS:
        for n in NODES:
            assert float(index[u, n]["max_points"]) == MAXIMA[n]
            assert index[u, n]["node_level"] == LEVELS[n]


@pytest.mark.parametrize("method", METHODS)
def test_small_points_ratios_and_ranks_by_hand(small_outputs, method):
    _, rows = small_outputs[method]
    index = by_unit_node(rows)
    for n in NODES:
        points = [float(index[u, n]["points"]) for u in UNITS]
        assert points == pytest.approx(EXPECTED[method][n], abs=1e-9), n
        ratios = [float(index[u, n]["ratio"]) for u in UNITS]
        assert ratios == pytest.approx([p / MAXIMA[n] for p in EXPECTED[method][n]], abs=1e-9), n
        assert [int(index[u, n]["rank"]) for u in UNITS] == EXPECTED_RANKS[method][n], n


def test_small_z_column_by_hand(small_outputs):
    _, rows = small_outputs["zscore"]
    index = by_unit_node(rows)
    for n, expected in EXPECTED_Z.items():
        got = [num(index[u, n]["z"]) for u in UNITS]
        for g, e in zip(got, expected, strict=True):
            assert (g is None) == (e is None), (n, got)
            if e is not None:
                assert g == pytest.approx(e, abs=1e-9), n


def test_small_summary_reports_the_missing_value(small_inputs, tmp_path):
    framework, data = small_inputs
    result = run_score(framework, data, "points", tmp_path / "o.csv")
    assert result.returncode == 0, result.stderr
    assert "3 unit-years × 3 indicators (1 missing → 0 points)" in result.stdout


# ---------------------------------------------------------------- (b) ASEM, one year


def imeta_parents() -> dict[str, str | None]:
    with IMETA.open(encoding="utf-8", newline="") as handle:
        return {
            r["iCode"]: (None if r["Parent"] == "NA" else r["Parent"])
            for r in csv.DictReader(handle)
            if r["Type"] in ("Indicator", "Aggregate")
        }


def raw_values(path: Path) -> tuple[list[str], list[dict]]:
    """Indicator columns (as in iMeta) and rows of a COINr iData CSV, read with the csv module."""
    indicators = [c for c, p in imeta_parents().items() if p is not None]
    leaves = [c for c in indicators if c not in set(imeta_parents().values())]
    with path.open(encoding="utf-8", newline="") as handle:
        return leaves, list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def asem_outputs(tmp_path_factory) -> dict[str, tuple[list[str], list[dict], str]]:
    folder = tmp_path_factory.mktemp("asem")
    out = {}
    for method in METHODS:
        result = run_score(IMETA, IDATA, method, folder / f"{method}.csv")
        assert result.returncode == 0, result.stderr
        out[method] = (*read_rows(folder / f"{method}.csv"), result.stdout)
    return out


def assert_ranking(rows: list[dict], key) -> None:
    """Within each (key, node): rank = 1 + the number of units with more points, where only
    float noise (a difference of at most 1e-9 of the node's maximum) is no difference: 1e-8
    and 0 points are not a tie (docs/scoring.md, "Ranks and classes")."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[key(r), r["node_id"]].append(r)
    for where, members in groups.items():
        points = [float(r["points"]) for r in members]
        noise = 1e-9 * float(members[0]["max_points"])
        for r, p in zip(members, points, strict=True):
            better = sum(q > p + noise for q in points)
            assert int(r["rank"]) == 1 + better, (where, r["unit_id"])


@pytest.mark.parametrize("method", METHODS)
def test_asem_shape_columns_and_bounds(asem_outputs, method):
    columns, rows, _ = asem_outputs[method]
    parents = imeta_parents()
    assert columns == ([*COLUMNS, "z"] if method == "zscore" else COLUMNS)
    assert len(parents) == 49 + 8 + 2 + 1
    assert len(rows) == 51 * len(parents)
    assert {r["node_id"] for r in rows} == set(parents)
    assert len({r["unit_id"] for r in rows}) == 51
    assert {r["year"] for r in rows} == {"2018"}
    for r in rows:
        p, top = float(r["points"]), float(r["max_points"])
        assert -1e-9 <= p <= top + 1e-9, r
        assert float(r["ratio"]) == pytest.approx(p / top, abs=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_asem_aggregates_are_sums_of_children(asem_outputs, method):
    _, rows, _ = asem_outputs[method]
    parents = imeta_parents()
    index = by_unit_node(rows)
    children: dict[str, list[str]] = defaultdict(list)
    for code, parent in parents.items():
        if parent is not None:
            children[parent].append(code)
    assert len(children) == 8 + 2 + 1
    for unit in {r["unit_id"] for r in rows}:
        for parent, kids in children.items():
            total = sum(float(index[unit, k]["points"]) for k in kids)
            assert float(index[unit, parent]["points"]) == pytest.approx(total, abs=1e-9)
    assert float(index["AUT", "Index"]["max_points"]) == 100


@pytest.mark.parametrize("method", METHODS)
def test_asem_ranks_form_a_ranking(asem_outputs, method):
    _, rows, _ = asem_outputs[method]
    assert_ranking(rows, key=lambda r: r["year"])
    index_ranks = sorted(int(r["rank"]) for r in rows if r["node_id"] == "Index")
    assert index_ranks[0] == 1 and index_ranks[-1] <= 51


def test_asem_missing_values_score_zero(asem_outputs):
    leaves, raw = raw_values(IDATA)
    missing = [(r["uCode"], c) for r in raw for c in leaves if r[c] == "NA"]
    # 63 missing indicator values (the 64th NA cell of the file is the Energy denominator)
    assert len(missing) == 63
    for method in METHODS:
        _, rows, stdout = asem_outputs[method]
        index = by_unit_node(rows)
        assert all(float(index[u, c]["points"]) == 0.0 for u, c in missing)
        assert f"51 unit-years × 49 indicators ({len(missing)} missing → 0 points)" in stdout


def test_asem_minmax_spot_values(asem_outputs):
    _, raw = raw_values(IDATA)
    index = by_unit_node(asem_outputs["minmax"][1])
    lpi = [float(r["LPI"]) for r in raw if r["LPI"] != "NA"]
    aut_lpi = 4.0979850000000004  # Austria's LPI in the file
    # higher: (x − min)/(max − min) × 10/8
    expected = (aut_lpi - min(lpi)) / (max(lpi) - min(lpi)) * 10 / 8
    assert float(index["AUT", "LPI"]["points"]) == pytest.approx(expected, abs=1e-9)
    co2 = [float(r["CO2"]) for r in raw if r["CO2"] != "NA"]
    aut_co2 = 6.8737132203369988
    # lower (negated): (−x − (−max))/(−min − (−max)) = (max − x)/(max − min), × (50/3)/5
    expected = (max(co2) - aut_co2) / (max(co2) - min(co2)) * (50 / 3 / 5)
    assert float(index["AUT", "CO2"]["points"]) == pytest.approx(expected, abs=1e-9)


def test_asem_zscore_leaf_z_are_standardised(asem_outputs):
    leaves, raw = raw_values(IDATA)
    index = by_unit_node(asem_outputs["zscore"][1])
    lower = {"CO2", "Tariff", "NEET"}
    for code in ["LPI", "Flights", "CO2", "Tariff", "NEET", "CPI"]:
        present = [r["uCode"] for r in raw if r[code] != "NA"]
        z = [float(index[u, code]["z"]) for u in present]
        assert statistics.fmean(z) == pytest.approx(0.0, abs=1e-9), code
        assert statistics.stdev(z) == pytest.approx(1.0, abs=1e-9), code  # sample sd
        # the unit with the largest raw value has the largest z, or the smallest if lower
        largest = max(present, key=lambda u: float(next(r for r in raw if r["uCode"] == u)[code]))
        extreme = min(z) if code in lower else max(z)
        assert float(index[largest, code]["z"]) == pytest.approx(extreme, abs=1e-12), code
        absent = [r["uCode"] for r in raw if r[code] == "NA"]
        assert all(index[u, code]["z"] == "" for u in absent)
    assert len(leaves) == 49


# ---------------------------------------------------------------- (c) ASEM panel


@pytest.fixture(scope="module")
def panel_output(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("panel") / "panel.csv"
    return scored(IMETA, PANEL, "minmax", out)[1]


def test_panel_one_year_per_time_value(panel_output):
    with PANEL.open(encoding="utf-8", newline="") as handle:
        times = {r["Time"] for r in csv.DictReader(handle)}
    assert times == {"2018", "2019", "2020", "2021", "2022"}
    assert {r["year"] for r in panel_output} == times
    per_year = defaultdict(set)
    for r in panel_output:
        per_year[r["year"]].add(r["unit_id"])
    assert {y: len(u) for y, u in per_year.items()} == dict.fromkeys(times, 51)
    assert len(panel_output) == 5 * 51 * 60


def test_panel_ranks_and_bounds_per_year(panel_output):
    assert_ranking(panel_output, key=lambda r: r["year"])
    for year in ("2018", "2019", "2020", "2021", "2022"):
        ranks = [
            int(r["rank"]) for r in panel_output if r["year"] == year and r["node_id"] == "Index"
        ]
        assert sorted(ranks)[0] == 1 and len(ranks) == 51


def test_panel_minmax_is_per_year(panel_output):
    # min-max within each year: every leaf reaches its full points in every year
    leaves, raw = raw_values(PANEL)
    best = defaultdict(float)
    for r in panel_output:
        if r["node_id"] in leaves:
            key = (r["year"], r["node_id"])
            best[key] = max(best[key], float(r["ratio"]))
    assert len(best) == 5 * 49
    assert all(v == pytest.approx(1.0, abs=1e-12) for v in best.values())
    # the unit with the lowest LPI in 2020 scores 0 on LPI in 2020
    rows_2020 = [r for r in raw if r["Time"] == "2020" and r["LPI"] != "NA"]
    worst = min(rows_2020, key=lambda r: float(r["LPI"]))["uCode"]
    got = next(
        r for r in panel_output if (r["year"], r["unit_id"], r["node_id"]) == ("2020", worst, "LPI")
    )
    assert float(got["points"]) == pytest.approx(0.0, abs=1e-12)


# ---------------------------------------------------------------- iData without Time


def test_idata_without_time_column_scores_its_values(tmp_path):
    # raw_indicators.csv: the same 51 units × 49 indicators, uCode and indicator columns only
    with_time = scored(IMETA, IDATA, "points", tmp_path / "with.csv")[1]
    without = scored(IMETA, ASEM / "raw_indicators.csv", "points", tmp_path / "without.csv")[1]
    totals = {r["unit_id"]: float(r["points"]) for r in with_time if r["node_id"] == "Index"}
    got = {r["unit_id"]: float(r["points"]) for r in without if r["node_id"] == "Index"}
    assert got == pytest.approx(totals, abs=1e-9)
    assert max(got.values()) > 0


# ---------------------------------------------------------------- (d) errors


def test_unknown_indicator_is_a_clear_error(tmp_path):
    framework = tmp_path / "khung.yaml"
    framework.write_text(yaml.safe_dump(SMALL_FRAMEWORK, allow_unicode=True), encoding="utf-8")
    data = tmp_path / "sai-chi-so.csv"
    data.write_text(SMALL_DATA + "U1,2024,X9,5\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = run_score(framework, data, "points", out)
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert str(data) in message
    assert "X9" in message
    assert not out.exists()


def test_unknown_indicator_error_has_no_traceback(tmp_path):
    data = tmp_path / "bad.csv"
    data.write_text("unit_id,year,indicator_id,value\nAUT,2018,X9,1\n", encoding="utf-8")
    result = run_score(IMETA, data, "points", tmp_path / "out.csv")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "bad.csv" in result.stderr and "X9" in result.stderr
