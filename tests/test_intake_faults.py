"""The malformed-file corpus (tests/faults): every fault gives its exact located refusals, and
nothing else is lost or changed — the file's other values are stored as in the good file, the
other submissions are untouched, and the file is archived byte for byte.

Baseline: the Đắk Lắk warehouse for 2024 with Phường Tân Hòa's (X-BMT-02) good workbook already
ingested; each fault is Phường Tân Lập's (X-BMT-01) file, damaged one way.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from faults import FAULTS, GOOD, YEAR, Fault, build, good_values, row_of

from pipelines.framework.load import load_framework
from pipelines.framework.preset import Preset, load_preset
from pipelines.intake.ingest import ingest_year
from pipelines.intake.receipts import receipt_markdown
from pipelines.store import warehouse
from pipelines.store.reference import store_reference
from pipelines.workbook.read import open_workbook, read_unit_workbook
from pipelines.workbook.write import write_unit_workbook

OTHER_TABLES = ("submissions", "raw_values", "rejected_rows", "missing_indicators")


@pytest.fixture(scope="module")
def preset() -> Preset:
    return load_preset("daklak")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory, preset: Preset) -> dict:
    """Warehouse and archive with the reference data and X-BMT-02's good submission."""
    root = tmp_path_factory.mktemp("baseline")
    con = warehouse.connect(root / "w.duckdb")
    store_reference(con, preset, YEAR)
    unit = preset.registry.filter(preset.registry["unit_id"] == "X-BMT-02").to_dicts()[0]
    write_unit_workbook(
        root / "inbox" / "2024" / "commune" / "DTI_2024_X-BMT-02.xlsx",
        preset.framework("commune"),
        unit,
        YEAR,
        values={"P1.1": 0.0, "P1.5": 60.0, "P7.7": 800.0},
    )
    summary = ingest_year(con, preset, YEAR, root / "inbox", root / "archive")
    assert (summary.files_new, summary.values_rejected) == (1, 0)
    dump = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in OTHER_TABLES}
    con.close()
    return {"db": root / "w.duckdb", "archive": root / "archive", "dump": dump}


@pytest.fixture
def con(tmp_path: Path, baseline: dict) -> Iterator[duckdb.DuckDBPyConnection]:
    shutil.copyfile(baseline["db"], tmp_path / "w.duckdb")
    shutil.copytree(baseline["archive"], tmp_path / "archive")
    connection = warehouse.connect(tmp_path / "w.duckdb")
    yield connection
    connection.close()


def test_the_corpus_has_at_least_25_distinct_faults() -> None:
    ids = [f.id for f in FAULTS]
    assert len(ids) == len(set(ids)) >= 25
    # the faults break many different rules, not one rule 25 times
    rules = {r[3] for f in FAULTS for r in f.refusals}
    assert len(rules) >= 20, sorted(rules)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.id)
def test_fault_is_refused_exactly_and_nothing_else_is_lost(
    fault: Fault, con, tmp_path: Path, baseline: dict, preset: Preset
) -> None:
    inbox = tmp_path / "inbox"
    path = build(fault, inbox / "2024" / "commune")
    sent = path.read_bytes()
    digest = hashlib.sha256(sent).hexdigest()
    summary = ingest_year(con, preset, YEAR, inbox, tmp_path / "archive")
    assert summary.submission_ids == [digest]

    # the exact located refusals, in reading order
    refusals = con.execute(
        "SELECT sheet, row_number, column_name, rule, message FROM rejected_rows "
        "WHERE submission_id = ? ORDER BY sheet, row_number, length(column_name), column_name",
        [digest],
    ).fetchall()
    assert refusals == list(fault.refusals)

    submission = (
        con.execute(
            "SELECT file_name, kind, year, level, unit_id, status, n_accepted, n_rejected, "
            "archived_path FROM submissions WHERE submission_id = ?",
            [digest],
        )
        .pl()
        .row(0, named=True)
    )
    assert (submission["file_name"], submission["status"]) == (fault.file_name, fault.status)
    assert submission["n_rejected"] == len(fault.refusals)

    # the file itself is archived as it came, byte for byte
    assert Path(submission["archived_path"]).read_bytes() == sent
    assert Path(submission["archived_path"]).name == f"{digest}{path.suffix}"

    stored = dict(
        con.execute(
            "SELECT indicator_id, value FROM raw_values WHERE submission_id = ?", [digest]
        ).fetchall()
    )
    if fault.status == "refused":
        assert stored == {}
        assert submission["n_accepted"] == 0
        assert {k: submission[k] for k in fault.identity} == fault.identity
    else:
        # every value not touched by the fault is stored exactly as in the good file
        expected = {i: v for i, v in good_values().items() if i not in fault.changed}
        assert stored == expected
        assert submission["n_accepted"] == len(expected)
        assert (submission["kind"], submission["year"], submission["unit_id"]) == (
            "self",
            2024,
            "X-BMT-01",
        )
    missing = con.execute(
        "SELECT indicator_id FROM missing_indicators WHERE submission_id = ?", [digest]
    ).fetchall()
    assert [m[0] for m in missing] == list(fault.missing)

    # the other submission is untouched
    for table in OTHER_TABLES:
        key = "file_sha256" if table == "submissions" else "submission_id"
        others = con.execute(
            f"SELECT * FROM {table} WHERE coalesce({key}, '') <> ? ORDER BY ALL", [digest]
        ).fetchall()
        assert others == baseline["dump"][table], table

    # the receipt repeats every located message and each missing row, for the unit to act on
    receipt = receipt_markdown(con, digest)
    for *_, message in fault.refusals:
        assert message in receipt
    for indicator in fault.missing:
        assert f"`{indicator}` " in receipt


# --- percentages on a 0–1 scale, declared per criterion ----------------------------------------

MINI = """
framework:
  id: mini-2024
  version: "MINI/2024"
  name: "Bộ chỉ số rút gọn"
  level: any
  scale: 100
  valid_years: {from: 2024, to: 2024}
  tree:
    - id: P1
      type: pillar
      name: "Trụ cột"
      max_points: 100
      children:
        - {id: P1.1, type: component, name: "Tỷ lệ A", max_points: 40, unit: "tỷ lệ",
           percent_scale: 1, rule: {kind: ratio, target: 1}}
        - {id: P1.2, type: component, name: "Tỷ lệ B", max_points: 40, unit: "tỷ lệ",
           percent_scale: 1, rule: {kind: ratio, target: 1}}
        - {id: P1.3, type: component, name: "Số lần", max_points: 20, unit: "lần",
           rule: {kind: steps, thresholds: [[2, 20], [1, 10]]}}
"""


def _read_mini(tmp_path: Path, values: dict) -> tuple:
    framework_path = tmp_path / "mini.yaml"
    framework_path.write_text(MINI, encoding="utf-8")
    framework = load_framework(framework_path)
    unit = {"unit_id": "S-A", "name": "Sở Thử A", "level": "department"}
    path = write_unit_workbook(tmp_path / "mini.xlsx", framework, unit, 2024, values=values)
    book = open_workbook(path)
    try:
        return read_unit_workbook(book, framework, path.name), framework
    finally:
        book.close()


def test_values_on_0_100_where_0_1_is_declared_are_refused_not_rescaled(tmp_path: Path) -> None:
    parsed, _ = _read_mini(tmp_path, {"P1.1": 85.5, "P1.2": 0.6, "P1.3": 2})
    where = "mini.xlsx · trang 'Tự đánh giá' · dòng"
    assert [(r["row_number"], r["rule"], r["message"]) for r in parsed.rejected] == [
        (
            9,
            "percent_out_of_range",
            f"{where} 9 · cột G: chỉ số P1.1: tỷ lệ 85,5 vượt 1 (chỉ số dùng thang 0–1)",
        ),
        (
            10,
            "percent_scale_mismatch",
            f"{where} 10 · cột G: chỉ số P1.2: tỷ lệ 0,6 có vẻ nhập theo thang 0–100 (tệp có tỷ lệ "
            "lớn hơn 1) trong khi chỉ số dùng thang 0–1; nếu là 0,6% thì nhập 0,006",
        ),
    ]
    # the count is not a percentage: taken as it is
    assert [(r["indicator_id"], r["value"]) for r in parsed.accepted] == [("P1.3", 2.0)]


def test_values_on_the_declared_0_1_scale_are_taken(tmp_path: Path) -> None:
    parsed, _ = _read_mini(tmp_path, {"P1.1": 0.855, "P1.2": 1, "P1.3": 1})
    assert parsed.rejected == []
    assert [(r["indicator_id"], r["value"]) for r in parsed.accepted] == [
        ("P1.1", 0.855),
        ("P1.2", 1.0),
        ("P1.3", 1.0),
    ]


def test_one_small_percentage_alone_is_not_a_scale_mismatch(tmp_path: Path, preset: Preset) -> None:
    # 0.5% on one criterion is possible; the rule needs the file's percentages as a whole
    unit = preset.registry.filter(preset.registry["unit_id"] == "X-BMT-01").to_dicts()[0]
    path = write_unit_workbook(
        tmp_path / "mot.xlsx", preset.framework("commune"), unit, YEAR, values={"P1.5": 0.5}
    )
    book = open_workbook(path)
    try:
        parsed = read_unit_workbook(book, preset.framework("commune"), path.name)
    finally:
        book.close()
    assert parsed.rejected == []
    assert {r["indicator_id"]: r["value"] for r in parsed.accepted}["P1.5"] == 0.5


def test_good_file_values_are_the_ones_the_corpus_assumes() -> None:
    assert row_of("P1.1") == 9 and row_of("P1.5") == 13 and row_of("P6.12") == 51
    assert sum(v is not None for v in good_values().values()) == len(GOOD) == 11
