"""Which files the intake reads, told by their content where the name can lie.

A submission is an Excel workbook (``.xlsx``, a ZIP package) made from the province's template,
or a ``.csv`` file. Anything else found in the inbox is still archived and answered: it is
refused as a whole with what to send instead (:func:`refused_type`). Two look-alikes are named
exactly, whatever their extension says: the old Excel 97–2003 format and a password-encrypted
workbook are both OLE2 compound files (magic ``D0 CF 11 E0 A1 B1 1A E1``); the encrypted one
holds an ``EncryptedPackage`` stream.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.workbook.read import WorkbookError

OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = b"PK\x03\x04"
# OLE2 directory entries name their streams in UTF-16LE
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
READ_SUFFIXES = (".xlsx", ".csv")
SEND_INSTEAD = (
    "gửi tệp Excel Workbook (.xlsx) lập từ mẫu của tỉnh (lệnh `dti template`) hoặc tệp .csv"
)
SAVE_AS_XLSX = "mở tệp bằng Excel, chọn Lưu thành (Save As) 'Excel Workbook (*.xlsx)' rồi gửi lại"
# what each foreign type is, in the officer's words (by lower-case extension)
KNOWN_TYPES = {
    ".xlsm": "tệp Excel có macro (.xlsm)",
    ".xlsb": "tệp Excel nhị phân (.xlsb)",
    ".xltx": "tệp mẫu Excel (.xltx)",
    ".xltm": "tệp mẫu Excel có macro (.xltm)",
    ".ods": "tệp bảng tính OpenDocument (.ods)",
    ".pdf": "tệp PDF",
    ".doc": "tệp Word",
    ".docx": "tệp Word",
    ".zip": "tệp nén (.zip)",
    ".rar": "tệp nén (.rar)",
    ".7z": "tệp nén (.7z)",
    ".jpg": "tệp ảnh",
    ".jpeg": "tệp ảnh",
    ".png": "tệp ảnh",
}


def head_bytes(path: Path, size: int = 8) -> bytes:
    """The first ``size`` bytes of the file (fewer for a shorter file)."""
    with path.open("rb") as handle:
        return handle.read(size)


def is_encrypted_ole2(path: Path, chunk: int = 1 << 20) -> bool:
    """Whether an OLE2 file names an ``EncryptedPackage`` stream in its directory (Office's
    password encryption); the directory may be anywhere, so the whole file is scanned."""
    overlap = len(ENCRYPTED_STREAM) - 1
    tail = b""
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            if ENCRYPTED_STREAM in tail + block:
                return True
            tail = block[-overlap:]
    return False


def refused_type(path: Path, name: str) -> WorkbookError | None:
    """The refusal of a file the intake does not read (None for an ``.xlsx`` or ``.csv`` file it
    tries to read): the message says what the file is and what to send instead. ``name`` is the
    file's name as sent."""
    suffix = Path(name).suffix.lower()  # as sent (an archived copy may have lost a long suffix)
    head = head_bytes(path)
    if head.startswith(OLE2_MAGIC):
        if is_encrypted_ole2(path):
            return WorkbookError(
                name,
                "encrypted_file",
                "tệp được đặt mật khẩu (mã hóa), không đọc được; gỡ mật khẩu (Excel: Tệp → "
                "Thông tin → Bảo vệ sổ làm việc → Mã hóa bằng mật khẩu, xóa mật khẩu), lưu lại "
                "rồi gửi lại",
                sheet="",
                row=0,
                column="",
            )
        return WorkbookError(
            name,
            "old_excel_format",
            f"tệp Excel định dạng cũ (.xls, Excel 97–2003), không được tiếp nhận; {SAVE_AS_XLSX}",
            sheet="",
            row=0,
            column="",
        )
    if suffix in READ_SUFFIXES:
        return None
    what = KNOWN_TYPES.get(suffix)
    if what is None:
        what = f"tệp loại '{suffix}'" if suffix else "tệp không có phần mở rộng"
    if suffix == ".xls":
        what = "tệp Excel định dạng cũ (.xls)"
    return WorkbookError(
        name,
        "unsupported_type",
        f"{what} không phải loại tệp được tiếp nhận; {SEND_INSTEAD}",
        sheet="",
        row=0,
        column="",
    )
