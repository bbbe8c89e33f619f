"""Per-submission receipts (biên nhận): what was taken, what was refused, what is missing, what
to do — written beside the archive after the ingest and printed by ``dti receipt``."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from intake_support import T0, load, open_warehouse, sha256, submit, tiny_copy
from openpyxl import load_workbook

from dti_cli.main import cli
from pipelines.intake.ingest import ingest_year
from pipelines.intake.receipts import ReceiptError, receipt_markdown, receipt_path
from pipelines.intake.submission_lookup import find_submission

EXPECTED = """\
# Biên nhận tiếp nhận số liệu – Bộ chỉ số chuyển đổi số (DTI)

| Mục | Nội dung |
|---|---|
| Tệp | `DTI_2024_S-A.xlsx` |
| Mã tiếp nhận | `{sha}` |
| Nhận lúc | 05/03/2024 15:00:00 (giờ Việt Nam, UTC+7) (thứ tự nhận 1) |
| Loại | Tự đánh giá |
| Đơn vị | S-A – Sở Thử A |
| Cấp | Cấp sở (sở, ban, ngành) |
| Năm | 2024 |
| Bộ chỉ số | tiny-2023 (TEST/2023) |
| Kết quả | **Tiếp nhận một phần**: 2 giá trị được tiếp nhận, 1 ô/dòng bị từ chối, 1 chỉ số \
thiếu dòng |

## Không tiếp nhận (1)

1. DTI_2024_S-A.xlsx · trang 'Tự đánh giá' · dòng 9 · cột G: chỉ số P1.1: 'khoảng 80' không \
phải là số *(quy tắc `not_a_number`)*

## Chỉ số không có dòng trong tệp (1)

- `P2.2` Thời gian xử lý hồ sơ trực tuyến — không có dòng trong tệp: được coi là thiếu số liệu \
(0 điểm) nếu không bổ sung

## Đã tiếp nhận (2)

| Chỉ số | Tên chỉ số | Giá trị đọc được | Ô | Tài liệu kiểm chứng |
|---|---|---|---|---|
| `P1.2` | Có kế hoạch chuyển đổi số | Có (= 1) | trang 'Tự đánh giá', dòng 10, cột G | \
QĐ 12/QĐ-UBND |
| `P2.1` | Số cuộc họp trực tuyến | 4 | trang 'Tự đánh giá', dòng 11, cột G |  |

## Việc cần làm

- Các giá trị đã tiếp nhận được ghi nhận. Ô bị từ chối và chỉ số thiếu dòng được coi là thiếu \
số liệu (0 điểm) cho đến khi bổ sung: sửa các ô nêu trên ngay trong tệp này rồi gửi lại toàn bộ \
tệp (tệp gửi sau thay thế tệp này; tệp này vẫn được lưu).
- `not_a_number`: Nhập số thuần, không kèm chữ hay đơn vị; phần thập phân dùng dấu phẩy \
(85,5), không dùng dạng 1e3 hay 1_000.
- Chỉ số thiếu dòng: dùng mẫu gốc của năm, không xóa dòng; nhập giá trị vào đúng dòng của chỉ \
số (để trống nếu thật sự không có số liệu).
"""


@pytest.fixture
def partial(tmp_path: Path):
    """S-A's workbook: P1.1 typed as words, evidence for P1.2, P2.2's row deleted."""
    preset_path = tiny_copy(tmp_path)
    preset = load(preset_path)
    con = open_warehouse(preset)
    path = submit(preset, tmp_path / "inbox", "S-A", {"P1.1": 80.0, "P1.2": 1.0, "P2.1": 4.0})
    book = load_workbook(path)
    sheet = book["Tự đánh giá"]
    sheet["G9"] = "khoảng 80"
    sheet["I10"] = "QĐ 12/QĐ-UBND"
    sheet.delete_rows(12)
    book.save(path)
    os.utime(path, (T0, T0))
    summary = ingest_year(con, preset, 2024, tmp_path / "inbox", tmp_path / "archive")
    yield preset_path, preset, con, path, summary
    con.close()


def test_receipt_of_a_partly_accepted_workbook(partial, tmp_path: Path) -> None:
    _, _, con, path, summary = partial
    digest = sha256(path)
    expected = EXPECTED.format(sha=digest)
    assert receipt_markdown(con, digest) == expected
    assert unicodedata.is_normalized("NFC", expected)
    # written after the ingest, beside the archive (which keeps only the bytes received)
    written = tmp_path / "receipts" / "2024" / f"DTI_2024_S-A.{digest[:12]}.receipt.md"
    assert summary.receipts == [written]
    assert receipt_path(con, digest) == written
    assert written.read_text(encoding="utf-8") == expected
    assert sorted(p.name for p in (tmp_path / "archive").rglob("*") if p.is_file()) == [
        f"{digest}.xlsx"
    ]


def test_receipt_of_a_refused_file_says_it_is_not_used(tmp_path: Path) -> None:
    preset = load(tiny_copy(tmp_path))
    con = open_warehouse(preset)
    path = submit(preset, tmp_path / "inbox", "S-Z", {"P1.1": 50.0})
    ingest_year(con, preset, 2024, tmp_path / "inbox", tmp_path / "archive")
    text = receipt_markdown(con, sha256(path))
    assert "| Kết quả | **Không tiếp nhận (từ chối cả tệp)**: 0 giá trị được tiếp nhận" in text
    assert "| Đơn vị | S-Z |" in text  # what _meta says is kept, though the unit is unknown
    assert (
        "1. DTI_2024_S-Z.xlsx · trang '_meta' · dòng 7 · cột B: đơn vị 'S-Z' không có trong danh "
        "mục cấp department năm 2024 *(quy tắc `unknown_unit`)*"
    ) in text
    assert "- Tệp **không được dùng để chấm điểm**." in text
    assert "- `unknown_unit`: Kiểm tra mã đơn vị." in text
    con.close()


def test_receipt_of_a_fully_accepted_csv(tmp_path: Path) -> None:
    preset = load(tiny_copy(tmp_path))
    con = open_warehouse(preset)
    path = tmp_path / "inbox" / "2024" / "S-B.csv"
    path.parent.mkdir(parents=True)
    path.write_text(
        "unit_id,year,indicator_id,value,evidence\n"
        'S-B,2024,P1.1,"45,5",Báo cáo 3/BC\nS-B,2024,P1.2,Không,\nS-B,2024,P2.1,3,\n'
        "S-B,2024,P2.2,,\n",
        encoding="utf-8",
    )
    ingest_year(con, preset, 2024, tmp_path / "inbox", tmp_path / "archive")
    text = receipt_markdown(con, sha256(path))
    assert (
        "| Kết quả | **Tiếp nhận toàn bộ**: 4 giá trị được tiếp nhận, 0 ô/dòng bị từ chối, 0 "
        "chỉ số thiếu dòng |" in text
    )
    assert "| `P1.1` | Tỷ lệ văn bản điện tử | 45,5 | dòng 2, cột D | Báo cáo 3/BC |" in text
    assert "| `P1.2` | Có kế hoạch chuyển đổi số | Không (= 0) | dòng 3, cột D |  |" in text
    assert "| `P2.2` | Thời gian xử lý hồ sơ trực tuyến | để trống (thiếu số liệu) |" in text
    assert "- Không cần làm gì thêm." in text
    con.close()


def test_find_submission_by_id_prefix_or_file(partial) -> None:
    _, _, con, path, _ = partial
    digest = sha256(path)
    assert find_submission(con, digest) == digest
    assert find_submission(con, digest[:10]) == digest
    assert find_submission(con, path) == digest
    with pytest.raises(ReceiptError, match="không có lượt nộp nào khớp"):
        find_submission(con, "0000000000")


def test_dti_receipt_prints_the_receipt(partial) -> None:
    _, _, con, path, _ = partial
    digest = sha256(path)
    con.close()
    by_file = CliRunner().invoke(cli, ["receipt", str(path)])
    assert by_file.exit_code == 0, by_file.output
    assert by_file.output == EXPECTED.format(sha=digest)
    by_id = CliRunner().invoke(cli, ["receipt", digest[:12]])
    assert by_id.output == by_file.output
    missing = CliRunner().invoke(cli, ["receipt", "ffffffffffff"])
    assert missing.exit_code == 2
