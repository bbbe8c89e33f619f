"""Which submission an officer means: an id, a unique id prefix, or the file itself (by content)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.intake.ingest import file_sha256
from pipelines.intake.receipts import ReceiptError


def find_submission(con: duckdb.DuckDBPyConnection, ident: str | Path) -> str:
    """The submission id for an id, a unique id prefix (≥ 8 characters), or a file (by content):
    the latest evaluation of that file."""
    text = str(ident).strip()
    path = Path(text)
    if path.is_file():
        text = file_sha256(path)
    rows = con.execute(
        "SELECT submission_id, coalesce(file_sha256, submission_id) AS sha, "
        "coalesce(evaluation, 1) AS evaluation FROM submissions "
        "WHERE submission_id = $i OR file_sha256 = $i "
        "OR (length($i) >= 8 AND starts_with(submission_id, $i)) "
        "ORDER BY evaluation DESC",
        {"i": text.lower()},
    ).fetchall()
    shas = {sha for _, sha, _ in rows}
    if not rows:
        raise ReceiptError(f"không có lượt nộp nào khớp với '{ident}'")
    if len(shas) > 1:
        raise ReceiptError(f"'{ident}' khớp với nhiều tệp; ghi đầy đủ mã tiếp nhận")
    exact = [sid for sid, _, _ in rows if sid == text.lower()]
    return exact[0] if exact else rows[0][0]
