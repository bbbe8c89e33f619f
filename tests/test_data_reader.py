"""One reader for data files (``pipelines.analysis.datafiles.read_data_file``) with the intake's
CSV rules
(``pipelines/workbook/csv_cells.py``), for ``dti score`` and the commands in file mode.

Each fault class gets a hand-written broken file and the exact one-line refusal (file, line,
column, value); harmless forms (BOM, spaces, NFD, CRLF, ``;``, a decimal comma) give the same
values and scores as a clean file; COINr iMeta is read with the same rules; on the command line a
refusal is one ``error:`` line on stderr, exit code 2, no traceback and no output file.
"""

from __future__ import annotations

import subprocess
import unicodedata
from pathlib import Path

import polars as pl
import pytest
import yaml
from conftest import subprocess_env

from pipelines.analysis.datafiles import DataFileError, read_data_file, read_observations, units_of
from pipelines.framework.coinr import read_imeta, write_imeta
from pipelines.framework.from_mapping import framework_from_mapping
from pipelines.scoring.engine import score
from pipelines.scoring.methods import MethodSpec

FRAMEWORK = {
    "id": "nho",
    "version": "1",
    "name": "Bộ chỉ số nhỏ",
    "scale": 100,
    "tree": [
        {"id": "P1", "type": "pillar", "name": "Trụ cột 1", "max_points": 60, "children": [
            {"id": "A", "type": "component", "name": "A", "max_points": 40,
             "rule": {"kind": "ratio", "target": 100}},
            {"id": "B", "type": "component", "name": "B", "max_points": 20,
             "direction": "lower", "rule": {"kind": "ratio", "target": 2}},
        ]},
        {"id": "P2", "type": "pillar", "name": "Trụ cột 2", "max_points": 40, "children": [
            {"id": "C", "type": "component", "name": "C", "max_points": 40,
             "rule": {"kind": "yesno"}},
        ]},
    ],
}  # fmt: skip
HEADER = "unit_id,year,indicator_id,value\n"
# Two communes with Vietnamese ids; A 40 / 60.5, B 3 / 1, C yes / missing.
CLEAN = (
    HEADER
    + "Xã Hòa Phú,2024,A,40\nXã Hòa Phú,2024,B,3\nXã Hòa Phú,2024,C,1\n"
    + "Xã Ea Tu,2024,A,60.5\nXã Ea Tu,2024,B,1\nXã Ea Tu,2024,C,NA\n"
)
CLEAN_VALUES = [
    ("Xã Hòa Phú", 2024, "A", 40.0),
    ("Xã Hòa Phú", 2024, "B", 3.0),
    ("Xã Hòa Phú", 2024, "C", 1.0),
    ("Xã Ea Tu", 2024, "A", 60.5),
    ("Xã Ea Tu", 2024, "B", 1.0),
    ("Xã Ea Tu", 2024, "C", None),
]


@pytest.fixture(scope="module")
def framework():
    return framework_from_mapping(FRAMEWORK)


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def refusal(path: Path, framework) -> str:
    with pytest.raises(DataFileError) as caught:
        read_observations(path, framework)
    message = str(caught.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------ faults, one line each

LONG_FAULTS = [
    ("inf.csv", HEADER + "U1,2024,A,40\nU2,2024,A,inf\n",
     "dòng 3 · cột D (value): đơn vị U2, chỉ số A: 'inf' không phải là số"),
    ("nan.csv", HEADER + "U1,2024,A,nan\n",
     "dòng 2 · cột D (value): đơn vị U1, chỉ số A: 'nan' không phải là số"),
    ("tran.csv", HEADER + "U1,2024,A,40\nU1,2024,B,1e400\n",
     "dòng 3 · cột D (value): đơn vị U1, chỉ số B: số '1e400' vượt giới hạn số thực (quá lớn)"),
    ("am-tran.csv", HEADER + "U1,2024,A,-1e999\n",
     "dòng 2 · cột D (value): đơn vị U1, chỉ số A: số '-1e999' vượt giới hạn số thực (quá lớn)"),
    ("chu.csv", HEADER + "U1,2024,A,mười\n",
     "dòng 2 · cột D (value): đơn vị U1, chỉ số A: 'mười' không phải là số"),
    ("loi-excel.csv", HEADER + "U1,2024,A,#DIV/0!\n",
     "dòng 2 · cột D (value): đơn vị U1, chỉ số A: ô chứa lỗi công thức #DIV/0!"),
    ("khong-don-vi.csv", HEADER + "U1,2024,A,40\n  ,2024,B,3\n",
     "dòng 3 · cột A (unit_id): để trống mã đơn vị"),
    ("khong-nam.csv", HEADER + "U1,,A,40\n", "dòng 2 · cột B (year): để trống năm"),
    ("nam-sai.csv", HEADER + "U1,24,A,40\n", "dòng 2 · cột B (year): năm '24' không hợp lệ"),
    ("khong-chi-so.csv", HEADER + "U1,2024,,40\n",
     "dòng 2 · cột C (indicator_id): để trống mã chỉ số"),
    ("thua.csv", HEADER + "U1,2024,A,40\nU1,2024,B,2,5\n",
     "dòng 3 · cột E: dòng có 5 trường, dòng tiêu đề có 4 (thừa: '5'); có thể số thập phân "
     'dùng dấu phẩy mà không đặt trong ngoặc kép ("85,5") — đặt giá trị trong ngoặc kép hoặc '
     "dùng dấu chấm phẩy (;) để phân cách cột"),
    ("thieu.csv", HEADER + "U1,2024,A\n",
     "dòng 2 · cột D (value): dòng 'U1,2024,A' có 3 trường, dòng tiêu đề có 4: thiếu trường từ "
     "cột D (cột phân cách bằng ',' như dòng tiêu đề?)"),
    ("lan-dau-phan-cach.csv", HEADER + "U1;2024;A;40\n",
     "dòng 2 · cột B (year): dòng 'U1;2024;A;40' có 1 trường, dòng tiêu đề có 4: thiếu trường "
     "từ cột B (cột phân cách bằng ',' như dòng tiêu đề?)"),
    ("gach-dung.csv", "unit_id|year|indicator_id|value\nU1|2024|A|40\n",
     "dòng 1: dòng tiêu đề 'unit_id|year|indicator_id|value' không có các cột unit_id, year, "
     "indicator_id, value (tệp dạng dài) hay cột uCode (iData của COINr) (dấu phân cách cột "
     "phải là ',', ';' hoặc tab)"),
    ("chi-tieu-de.csv", HEADER, "dòng 1: tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào"),
    ("tieu-de-va-dong-trong.csv", HEADER + "\n,,,\n",
     "dòng 1: tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào"),
    ("rong.csv", "", "dòng 1: tệp CSV rỗng (không có dòng tiêu đề)"),
    ("la.csv", HEADER + "U1,2024,X9,1\nU1,2024,A,4\nU2,2024,X9,2\nU2,2024,Q,3\n",
     "dòng 2 · cột C (indicator_id): 2 mã chỉ số không có trong bộ chỉ số nho: "
     "'X9' (dòng 2, 4); 'Q' (dòng 5)"),
    ("lap.csv", HEADER + "U1,2024,A,40\nU1,2024,B,3\nU1,2024,A,41\n",
     "dòng 4 · cột C (indicator_id): đơn vị U1, năm 2024, chỉ số A lặp lại: dòng 2 và dòng 4"),
    ("nhieu-loi.csv", HEADER + "U1,2024,A,x\nU1,2024,B,2\nU1,2024,C,z\nU2,2024,A,inf\n",
     "dòng 2 · cột D (value): đơn vị U1, chỉ số A: 'x' không phải là số "
     "(cùng 2 lỗi khác, ở dòng 4, 5)"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "where"), LONG_FAULTS, ids=[f[0] for f in LONG_FAULTS])
def test_long_csv_fault_is_one_located_line(tmp_path, framework, name, content, where):
    path = write(tmp_path, name, content)
    assert refusal(path, framework) == f"{path} · {where}"


def test_non_utf8_file_is_refused_at_the_first_bad_byte(tmp_path, framework):
    # Windows-1252 "Hòa" (ò = 0xF2) on line 3
    path = write(
        tmp_path, "cp1252.csv", (HEADER + "U1,2024,A,40\nH\xf2a,2024,A,5\n").encode("cp1252")
    )
    assert refusal(path, framework) == (
        f"{path} · dòng 3: tệp CSV không ở mã UTF-8 (byte không hợp lệ 0xF2); khi lưu trong "
        "Excel chọn 'CSV UTF-8 (Comma delimited)'"
    )


def test_utf16_without_bom_is_refused(tmp_path, framework):
    path = write(tmp_path, "utf16.csv", (HEADER + "U1,2024,A,40\n").encode("utf-16-le"))
    message = refusal(path, framework)
    assert message.startswith(f"{path} · dòng 1: tệp chứa byte 0x00")


WIDE_FAULTS = [
    ("inf.csv", "uCode,Time,A,B\nU1,2024,1,2\nU2,2024,inf,3\n",
     "dòng 3 · cột C (A): đơn vị U2, chỉ số A: 'inf' không phải là số"),
    ("khong-ma.csv", "uName,uCode,Time,A\nAn,U1,2024,1\nBình,,2024,2\n",
     "dòng 3 · cột B (uCode): để trống mã đơn vị"),
    ("khong-nam.csv", "uCode,Time,A\nU1,,1\n", "dòng 2 · cột B (Time): để trống năm"),
    ("lap.csv", "uCode,Time,A\nU1,2024,1\nU2,2024,2\nU1,2024,3\n",
     "dòng 4 · cột A (uCode): đơn vị U1, năm 2024 lặp lại: dòng 2 và dòng 4"),
    ("thua.csv", "uCode,Time,A\nU1,2024,1,5\n",
     "dòng 2 · cột D: dòng có 4 trường, dòng tiêu đề có 3 (thừa: '5'); có thể số thập phân "
     'dùng dấu phẩy mà không đặt trong ngoặc kép ("85,5") — đặt giá trị trong ngoặc kép hoặc '
     "dùng dấu chấm phẩy (;) để phân cách cột"),
    ("khong-chi-so.csv", "uCode,Time,X9\nU1,2024,1\n",
     "dòng 1: không có cột nào mang mã chỉ số của bộ chỉ số nho"),
    ("hai-cot.csv", "uCode,A,B,A\nU1,1,2,3\n",
     "dòng 1 · cột D (A): chỉ số A có hai cột: B (A) và D (A)"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "where"), WIDE_FAULTS, ids=[f[0] for f in WIDE_FAULTS])
def test_coinr_idata_fault_is_one_located_line(tmp_path, framework, name, content, where):
    path = write(tmp_path, name, content)
    assert refusal(path, framework) == f"{path} · {where}"


# ------------------------------------------------------------------ harmless forms


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_clean_file_reads_as_written(tmp_path, framework):
    values = read_observations(write(tmp_path, "sach.csv", CLEAN), framework)
    assert values.columns == ["unit_id", "year", "node_id", "value"]
    assert values.rows() == CLEAN_VALUES


MESSY = {
    # BOM, CRLF, spaces around every cell, unit ids in NFD
    "bom-crlf-nfd.csv": (
        "\ufeff unit_id , year ,indicator_id, value \r\n"
        + "".join(
            f" {nfd(u)} , {y} , {i} , {'' if v is None else v} \r\n" for u, y, i, v in CLEAN_VALUES
        )
    ),
    # Excel in a Vietnamese locale: ';', decimal comma, Vietnamese headers, yes/no word
    "excel-vn.csv": (
        "Mã đơn vị;Năm;Mã chỉ số;Giá trị báo cáo\n"
        "Xã Hòa Phú;2024;A;40\nXã Hòa Phú;2024;B;3\nXã Hòa Phú;2024;C;có\n"
        "Xã Ea Tu;2024;A;60,5\nXã Ea Tu;2024;B;1\nXã Ea Tu;2024;C;\n"
    ),
    # tab-separated, a quoted decimal comma, a percent sign
    "tab.tsv": (
        "unit_id\tyear\tindicator_id\tvalue\n"
        "Xã Hòa Phú\t2024\tA\t40%\nXã Hòa Phú\t2024\tB\t3\nXã Hòa Phú\t2024\tC\t1\n"
        'Xã Ea Tu\t2024\tA\t"60,5"\nXã Ea Tu\t2024\tB\t1.0\nXã Ea Tu\t2024\tC\tNA\n'
    ),
}


@pytest.mark.parametrize("name", list(MESSY))
def test_harmless_forms_give_the_clean_values_and_scores(tmp_path, framework, name):
    clean = read_observations(write(tmp_path, "sach.csv", CLEAN), framework)
    messy = read_observations(write(tmp_path, name, MESSY[name]), framework)
    assert messy.rows() == CLEAN_VALUES
    assert all(unicodedata.is_normalized("NFC", u) for u in messy["unit_id"])
    for method in ("points", "minmax", "zscore"):
        spec = MethodSpec(method)
        expected = score(clean, units_of(clean), framework, spec)
        assert score(messy, units_of(messy), framework, spec).equals(expected), method


def test_points_of_the_clean_file_by_hand(tmp_path, framework):
    values = read_observations(write(tmp_path, "sach.csv", CLEAN), framework)
    scores = score(values, units_of(values), framework, MethodSpec("points"))
    points = {(r["unit_id"], r["node_id"]): r["points"] for r in scores.iter_rows(named=True)}
    # A: min(x/100, 1) × 40; B (lower): min(2/x, 1) × 20; C yes → 40, missing → 0
    assert points[("Xã Hòa Phú", "DTI")] == pytest.approx(40 / 100 * 40 + 2 / 3 * 20 + 40)
    assert points[("Xã Ea Tu", "DTI")] == pytest.approx(60.5 / 100 * 40 + 20 + 0)


def test_program_written_decimals_keep_the_dot(tmp_path, framework):
    """R and polars write ``12.698`` and ``1e-05``: a dot is the decimal point in a data file
    (the intake reads a lone ``1.234`` the Vietnamese way, as 1234)."""
    content = HEADER + "U1,2024,A,12.698\nU1,2024,B,1e-05\nU2,2024,A,1.234.567\nU2,2024,B,-0.5\n"
    values = read_observations(write(tmp_path, "r.csv", content), framework)
    assert values["value"].to_list() == [12.698, 1e-05, 1234567.0, -0.5]


def test_idata_names_are_nfc_and_na_is_missing(tmp_path, framework):
    content = (
        f"uName,uCode,Time,A,B,C,Nhóm\n{nfd('Xã Hòa Phú')},{nfd('HP')},2024, 40 ,3,NA,x\n"
        "Xã Ea Tu,ET,2024,60.5,1,,y\n"
    )
    data = read_data_file(write(tmp_path, "iData.csv", content), framework)
    assert data.names == {"HP": "Xã Hòa Phú", "ET": "Xã Ea Tu"}
    assert unicodedata.is_normalized("NFC", data.names["HP"])
    assert data.values.rows() == [
        ("HP", 2024, "A", 40.0),
        ("ET", 2024, "A", 60.5),
        ("HP", 2024, "B", 3.0),
        ("ET", 2024, "B", 1.0),
        ("HP", 2024, "C", None),
        ("ET", 2024, "C", None),
    ]
    assert data.values.schema == pl.Schema(
        {"unit_id": pl.String, "year": pl.Int32, "node_id": pl.String, "value": pl.Float64}
    )


# ------------------------------------------------------------------ COINr iMeta


def imeta_text(tmp_path: Path, framework) -> str:
    write_imeta(framework, tmp_path / "goc" / "iMeta.csv")
    return (tmp_path / "goc" / "iMeta.csv").read_text(encoding="utf-8")


def test_imeta_with_bom_crlf_and_nfd_names_reads_the_same(tmp_path, framework):
    text = imeta_text(tmp_path, framework)
    messy = "\ufeff" + nfd(text).replace("\r\n", "\n").replace("\n", "\r\n")
    path = write(tmp_path, "iMeta.csv", messy)
    back = read_imeta(path)
    assert back.nodes["P1"].name == "Trụ cột 1"
    assert unicodedata.is_normalized("NFC", back.nodes["P2"].name)
    assert [n.max_points for n in back.leaves()] == [40, 20, 40]


def test_imeta_faults_are_one_located_line(tmp_path, framework):
    lines = imeta_text(tmp_path, framework).splitlines()
    header = lines[0].split(",")
    weight = header.index("Weight")
    # the rows: Level-1 leaves first (A, B, C), then P1, P2, then the root
    a_row = lines[1].split(",")
    assert a_row[1] == "A"

    def with_a(column: int, text: str) -> str:
        row = list(a_row)
        row[column] = text
        return "\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n"

    letter = chr(ord("A") + weight)
    cases = {
        "inf.csv": (with_a(weight, "inf"), f"dòng 2 · cột {letter} (Weight): Weight: 'inf' "
                    "không phải là số"),
        "tran.csv": (with_a(weight, "1e400"), f"dòng 2 · cột {letter} (Weight): Weight: số "
                     "'1e400' vượt giới hạn số thực (quá lớn)"),
        "level.csv": (with_a(0, "1.5"), "dòng 2 · cột A (Level): Level '1.5' không phải số "
                      "nguyên dương"),
        "khong-ma.csv": (with_a(1, " "), "dòng 2 · cột B (iCode): để trống iCode"),
        "lap.csv": ("\n".join([*lines, lines[1]]) + "\n",
                    f"dòng {len(lines) + 1} · cột B (iCode): iCode A lặp lại: dòng 2 và dòng "
                    f"{len(lines) + 1}"),
        "chi-tieu-de.csv": (lines[0] + "\n",
                            "dòng 1: tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào"),
        "thieu-cot.csv": ("Level,iCode,Type\n1,A,Indicator\n",
                          "dòng 1: iMeta: thiếu cột Parent ở dòng tiêu đề (cần: Level, iCode, "
                          "Parent, Type)"),
    }  # fmt: skip
    for name, (content, where) in cases.items():
        path = write(tmp_path, name, content)
        with pytest.raises(DataFileError) as caught:
            read_imeta(path)
        assert str(caught.value) == f"{path} · {where}", name


# ------------------------------------------------------------------ the command line


@pytest.fixture
def framework_yaml(tmp_path) -> Path:
    path = tmp_path / "khung.yaml"
    path.write_text(yaml.safe_dump({"framework": FRAMEWORK}, allow_unicode=True), "utf-8")
    return path


def run_dti(dti_executable: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [dti_executable, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=subprocess_env(tmp_path / "home"),
        cwd=tmp_path,
    )


def assert_one_error_line(result: subprocess.CompletedProcess, *parts: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for part in parts:
        assert part in lines[0]


def test_score_refuses_a_bad_file_and_writes_nothing(dti_executable, tmp_path, framework_yaml):
    data = write(tmp_path, "vo-han.csv", HEADER + "U1,2024,A,40\nU2,2024,A,inf\n")
    out = tmp_path / "ket-qua" / "diem.csv"
    result = run_dti(dti_executable, tmp_path, "score", "--framework", str(framework_yaml),
                     "--data", str(data), "--out", str(out))  # fmt: skip
    assert_one_error_line(result, f"{data} · dòng 3 · cột D (value)", "'inf'")
    assert not out.exists() and not out.parent.exists()


def test_score_does_not_overwrite_an_existing_output(dti_executable, tmp_path, framework_yaml):
    data = write(tmp_path, "chi-tieu-de.csv", HEADER)
    out = write(tmp_path, "diem.csv", "kết quả cũ\n")
    result = run_dti(dti_executable, tmp_path, "score", "--framework", str(framework_yaml),
                     "--data", str(data), "--out", str(out))  # fmt: skip
    assert_one_error_line(result, f"{data} · dòng 1", "không có dòng dữ liệu")
    assert out.read_text(encoding="utf-8") == "kết quả cũ\n"


def test_score_of_a_messy_file_equals_the_clean_one(dti_executable, tmp_path, framework_yaml):
    outputs = []
    for name, content in (("sach.csv", CLEAN), ("ban.csv", MESSY["bom-crlf-nfd.csv"])):
        out = tmp_path / f"diem-{name}"
        data = write(tmp_path, name, content)
        result = run_dti(dti_executable, tmp_path, "score", "--framework", str(framework_yaml),
                         "--data", str(data), "--out", str(out))  # fmt: skip
        assert result.returncode == 0, result.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert "Xã Hòa Phú".encode() in outputs[1]


def test_coherence_in_file_mode_refuses_with_one_line(dti_executable, tmp_path, framework_yaml):
    data = write(tmp_path, "lap.csv", HEADER + "U1,2024,A,40\nU1,2024,B,3\nU1,2024,A,41\n")
    out = tmp_path / "ra"
    result = run_dti(dti_executable, tmp_path, "coherence", "--framework", str(framework_yaml),
                     "--data", str(data), "--out", str(out))  # fmt: skip
    assert_one_error_line(result, f"{data} · dòng 4", "dòng 2 và dòng 4")
    assert not out.exists()


def test_coinr_import_refuses_a_bad_imeta_and_writes_nothing(dti_executable, tmp_path, framework):
    lines = imeta_text(tmp_path, framework).splitlines()
    lines[1] += ",thừa"
    imeta = write(tmp_path, "iMeta.csv", "\n".join(lines) + "\n")
    out = tmp_path / "khung.yaml"
    result = run_dti(dti_executable, tmp_path, "coinr", "import", "--imeta", str(imeta),
                     "--out", str(out))  # fmt: skip
    assert_one_error_line(result, f"{imeta} · dòng 2", "'thừa'")
    assert not out.exists()


def test_inbox_csv_and_data_files_refuse_an_encoding_alike(tmp_path, framework):
    """The inbox's CSV submissions and the data files decode with the same function."""
    from pipelines.workbook.csvfile import read_csv_submission
    from pipelines.workbook.read import WorkbookError

    path = write(tmp_path, "cp1252.csv", (HEADER + "H\xf2a,2024,A,5\n").encode("cp1252"))
    with pytest.raises(WorkbookError) as inbox:
        read_csv_submission(path, lambda unit, year: None, 2024)
    with pytest.raises(DataFileError) as data:
        read_observations(path, framework)
    assert (
        (inbox.value.rule, inbox.value.row)
        == (data.value.rule, data.value.line)
        == (
            "bad_encoding",
            2,
        )
    )
    assert inbox.value.detail == data.value.detail
