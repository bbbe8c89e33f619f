"""The door an uploaded file passes before the reader sees it: size, then content (an Office
Open XML archive, within the intake's size budget and a compression ratio no workbook has)."""

from __future__ import annotations

import io
import zipfile

from dti_portal.pipeline import zip_budget_problem

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # a unit's filled template is ~0.1 MB
MAX_RATIO = 100  # uncompressed / compressed, over the whole archive
ZIP_MAGIC = b"PK\x03\x04"


class UploadRefused(ValueError):
    """The upload is not taken; the message says why, in Vietnamese."""


def check_upload(content: bytes) -> None:
    """Raise :class:`UploadRefused` unless ``content`` may be a workbook worth reading."""
    if not content:
        raise UploadRefused("tệp rỗng")
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadRefused(
            f"tệp {len(content):,} byte, vượt giới hạn {MAX_UPLOAD_BYTES:,} byte".replace(",", ".")
        )
    if not content.startswith(ZIP_MAGIC):
        raise UploadRefused(
            "tệp không phải Excel Workbook (.xlsx) theo nội dung (có thể là .xls, .pdf hay tệp "
            "đổi đuôi); lưu tệp dạng Excel Workbook (.xlsx) từ mẫu rồi gửi lại"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        raise UploadRefused(f"tệp .xlsx bị hỏng ({exc})") from exc
    with archive:
        names = set(archive.namelist())
        if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
            raise UploadRefused("tệp nén không phải Excel Workbook (thiếu xl/workbook.xml)")
        members = archive.infolist()
        unpacked = sum(m.file_size for m in members)
        packed = sum(m.compress_size for m in members) or 1
        if unpacked / packed > MAX_RATIO:
            raise UploadRefused(
                f"tệp nén với tỷ lệ {unpacked // packed}:1, vượt {MAX_RATIO}:1 (tệp nén bất "
                "thường); lưu lại tệp từ mẫu bằng Excel rồi gửi lại"
            )
        problem = zip_budget_problem(archive)
        if problem is not None:
            raise UploadRefused(problem[1])
