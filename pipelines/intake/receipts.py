"""Per-submission receipts (*biên nhận*), in Vietnamese Markdown: what was taken, what was refused
(each located message), which indicators the file has no row for, and what to do next.

A receipt is derived from the warehouse (never the other way round), written after each ingest
beside the archive, as ``receipts/<year>/<file stem>.<id[:12]>.receipt.md`` (the archive itself
holds only the bytes received), and printed again by ``dti receipt SUBMISSION_ID|FILE``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.framework.assumed import framework_assumed
from pipelines.store.warehouse import query_text
from pipelines.text.labels import LEVEL_NAMES, vn_time, vn_value
from pipelines.text.rows import Row, rows_by
from pipelines.text.safe_text import escape_markup

STATUS_VI = {
    "accepted": "Tiếp nhận toàn bộ",
    "partially_accepted": "Tiếp nhận một phần",
    "refused": "Không tiếp nhận (từ chối cả tệp)",
}
KIND_VI = {"self": "Tự đánh giá", "appraisal": "Thẩm định", "unknown": "Không xác định"}

# What the unit (or the appraiser) should do about each rule broken.
RULE_HINTS = {
    "not_a_number": "Nhập số thuần, không kèm chữ hay đơn vị; phần thập phân dùng dấu phẩy "
    "(85,5), không dùng dạng 1e3 hay 1_000.",
    "negative_value": "Giá trị và điểm không được âm.",
    "percent_out_of_range": "Tỷ lệ không vượt quá thang của chỉ số (100 với thang 0–100, "
    "1 với thang 0–1).",
    "percent_scale_mismatch": "Nhập tỷ lệ theo thang ghi ở cột 'Đơn vị tính' (thang 0–100: "
    "85,5; thang 0–1: 0,855); không tự đổi thang.",
    "not_yes_no": "Chỉ số Có/Không: chọn 'Có' hoặc 'Không'.",
    "above_maximum": "Điểm không vượt quá điểm tối đa của chỉ số.",
    "formula_error": "Sửa công thức bị lỗi (#DIV/0!, #REF!, …) hoặc nhập số trực tiếp.",
    "formula_without_result": "Mở tệp bằng Excel rồi lưu lại để công thức có kết quả, hoặc nhập "
    "số trực tiếp.",
    "merged_cell": "Bỏ gộp ô ở cột giá trị: mỗi chỉ số một ô riêng.",
    "unknown_indicator": "Không thêm dòng hay sửa mã chỉ số; dùng đúng mẫu của năm.",
    "duplicate_indicator": "Mỗi chỉ số (của mỗi đơn vị) chỉ một dòng; xóa dòng lặp.",
    "missing_indicator_id": "Không xóa mã chỉ số ở cột 'Mã chỉ số'; mỗi giá trị phải nằm trên "
    "dòng có mã chỉ số.",
    "invalid_self_points": "Điểm tự đánh giá là số từ 0 đến điểm tối đa (giá trị báo cáo của "
    "dòng vẫn được tiếp nhận).",
    "missing_meta": "Dùng mẫu do tỉnh phát hành (lệnh `dti template`); không xóa hay sửa trang "
    "ẩn '_meta'.",
    "unknown_format": "Dùng mẫu do tỉnh phát hành; không sửa trang ẩn '_meta'.",
    "unknown_kind": "Dùng mẫu do tỉnh phát hành; không sửa trang ẩn '_meta'.",
    "unknown_level": "Dùng mẫu đúng cấp của đơn vị; không sửa trang ẩn '_meta'.",
    "framework_mismatch": "Tải mẫu của năm đánh giá (bộ chỉ số đang áp dụng) và nhập lại số "
    "liệu vào mẫu đó.",
    "bad_year": "Dùng mẫu của năm đánh giá; không sửa trang ẩn '_meta'.",
    "wrong_year": "Gửi tệp vào đúng năm đánh giá, dùng mẫu của năm đó.",
    "framework_not_valid": "Dùng mẫu của năm đánh giá.",
    "unknown_unit": "Kiểm tra mã đơn vị. Nếu đơn vị mới thành lập hoặc sáp nhập, đề nghị cơ quan "
    "thường trực cập nhật danh mục đơn vị; tệp đã lưu sẽ được đánh giá lại (`dti reingest`), "
    "không cần gửi lại.",
    "unreadable_file": "Lưu tệp dạng Excel Workbook (.xlsx) rồi gửi lại.",
    "unsupported_type": "Chỉ tiếp nhận tệp Excel Workbook (.xlsx) lập từ mẫu của tỉnh (lệnh "
    "`dti template`) hoặc tệp .csv; tệp có macro (.xlsm), .xls, .ods, .pdf… không được nhận.",
    "old_excel_format": "Mở tệp bằng Excel, chọn Lưu thành (Save As) → 'Excel Workbook "
    "(*.xlsx)', rồi gửi tệp .xlsx đó.",
    "encrypted_file": "Gỡ mật khẩu của tệp (Excel: Tệp → Thông tin → Bảo vệ sổ làm việc → Mã hóa "
    "bằng mật khẩu, xóa mật khẩu rồi lưu), rồi gửi lại; không đặt mật khẩu cho tệp gửi.",
    "missing_table": "Không đổi tên hay xóa tiêu đề cột của bảng; dùng mẫu gốc.",
    "missing_column": "Không đổi tên hay xóa tiêu đề cột; dùng mẫu gốc.",
    "bad_encoding": "Lưu CSV dạng UTF-8: trong Excel chọn 'CSV UTF-8 (Comma delimited)'.",
    "empty_file": "Tệp rỗng: gửi lại tệp có số liệu.",
    "extra_fields": 'Đặt số thập phân có dấu phẩy trong ngoặc kép ("85,5") hoặc dùng dấu chấm '
    "phẩy (;) để phân cách cột.",
    "missing_unit_id": "Ghi mã đơn vị cho mọi dòng.",
    "missing_reason": "Ghi lý do cho mọi điều chỉnh thẩm định.",
    "missing_appraised_value": "Nhập giá trị (hoặc điểm) thẩm định, hoặc xóa dòng không điều "
    "chỉnh.",
    "missing_sheet": "Dùng mẫu do tỉnh phát hành; không xóa hay đổi tên trang 'Tự đánh giá'.",
    "hidden_sheet": "Không để số liệu ở trang ẩn: bỏ ẩn trang hoặc xóa trang thừa.",
    "hidden_column": "Không ẩn cột số liệu: bỏ ẩn cột hoặc xóa cột thừa.",
    "duplicate_column": "Mỗi tiêu đề cột chỉ một cột; xóa cột lặp.",
    "hidden_row": "Không để số liệu ở dòng ẩn: bỏ ẩn dòng hoặc xóa dòng thừa.",
    "hidden_value": "Không dùng định dạng số làm ẩn giá trị (;;;): đặt lại định dạng General.",
    "formula_result_mismatch": "Mở tệp bằng Excel, tính lại (F9) rồi lưu, hoặc nhập số trực "
    "tiếp thay cho công thức.",
    "formula_unchecked": "Nhập số trực tiếp thay cho công thức.",
    "identity_mismatch": "Dùng đúng mẫu của đơn vị và năm (lệnh `dti template`); không sửa "
    "phần đầu trang hay trang ẩn '_meta'.",
    "text_too_long": "Mỗi ô tối đa 32.767 ký tự; rút gọn nội dung (ghi số hiệu văn bản hoặc "
    "đường dẫn thay cho toàn văn).",
    "file_too_large": "Gửi tệp lập từ mẫu, không chèn ảnh hay trang thừa.",
}


class ReceiptError(KeyError):
    """No submission matches what was asked for."""


def find_submission(con: duckdb.DuckDBPyConnection, ident: str | Path) -> str:
    """The submission id for an id, a unique id prefix (≥ 8 characters), or a file (by content):
    the latest evaluation of that file."""
    from pipelines.intake.ingest import file_sha256

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


MAX_NAME_BYTES = 200  # a receipt's file name, in UTF-8 bytes (file systems allow 255)


def receipt_path(con: duckdb.DuckDBPyConnection, submission_id: str) -> Path:
    """``<archive>/../receipts/<year>/<file stem>.<id[:12]>[.<evaluation>].receipt.md``: beside the
    archive (which holds only the bytes received), named so staff can find the unit's file.
    ``<year>`` is the inbox year the file was found in (a file sent for the wrong year is
    answered where its sender looks), else the year the file names."""
    row = con.execute(
        "SELECT archived_path, file_name, coalesce(inbox_year, year), coalesce(evaluation, 1) "
        "FROM submissions WHERE submission_id = ?",
        [submission_id],
    ).fetchone()
    if row is None:
        raise ReceiptError(f"không có lượt nộp '{submission_id}'")
    return _path_of(submission_id, *row)


def missing_receipts(con: duckdb.DuckDBPyConnection, year: int) -> list[str]:
    """The submissions answered under ``year`` (their inbox year, else the year they name) whose
    receipt file is not there (never written, or removed): an ingest writes them again."""
    rows = con.execute(
        "SELECT submission_id, archived_path, file_name, coalesce(inbox_year, year), "
        "coalesce(evaluation, 1) FROM submissions WHERE coalesce(inbox_year, year) = ? "
        "ORDER BY received_seq, coalesce(evaluation, 1)",
        [year],
    ).fetchall()
    return [row[0] for row in rows if not _path_of(*row).exists()]


def bounded_name(stem: str, tail: str, limit: int = MAX_NAME_BYTES) -> str:
    """``stem + tail``, NFC, with the stem cut (on a character boundary) so that the whole name
    is at most ``limit`` UTF-8 bytes; path separators and control characters become ``_``."""
    stem = unicodedata.normalize("NFC", stem)
    stem = "".join("_" if c in "/\\" or unicodedata.category(c) == "Cc" else c for c in stem)
    room = limit - len(tail.encode("utf-8"))
    cut = stem.encode("utf-8", "replace")[: max(room, 0)].decode("utf-8", "ignore")
    return unicodedata.normalize("NFC", cut.rstrip(". ") + tail)


def _path_of(submission_id: str, archived, file_name, year, evaluation) -> Path:
    folder = Path(archived).parent.parent.parent / "receipts" / str(year or "khong-ro-nam")
    suffix = f".{evaluation}" if evaluation > 1 else ""
    tail = f".{submission_id[:12]}{suffix}.receipt.md"
    return folder / bounded_name(Path(file_name).stem, tail)


def write_receipt(con: duckdb.DuckDBPyConnection, submission_id: str) -> Path:
    """Write the receipt next to the archived file; returns its path."""
    return write_receipts(con, [submission_id])[0]


def write_receipts(
    con: duckdb.DuckDBPyConnection,
    submission_ids: list[str],
    failures: list[str] | None = None,
) -> list[Path]:
    """Write the receipts of many submissions (an ingest pass) with a few queries for all of
    them instead of a dozen per receipt; the text is the same as :func:`receipt_markdown`'s.
    With ``failures``, a receipt that cannot be written is named there (``"<file>: <reason>"``)
    and the others are still written; without, the error is raised."""
    written = []
    inputs = _gather(con, list(submission_ids))
    for submission_id in submission_ids:
        if submission_id not in inputs:
            raise ReceiptError(f"không có lượt nộp '{submission_id}'")
        data = inputs[submission_id]
        sub = data.sub
        path = _path_of(
            submission_id,
            sub["archived_path"],
            sub["file_name"],
            sub["inbox_year"] if sub.get("inbox_year") is not None else sub["year"],
            sub.get("evaluation") if sub.get("evaluation") is not None else 1,
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_render(data), encoding="utf-8")
        except (OSError, ValueError) as exc:
            if failures is None:
                raise
            failures.append(f"{sub['file_name']}: {type(exc).__name__}: {exc}")
            continue
        written.append(path)
    return written


def _vn(value: float | None) -> str:
    if value is None:
        return "để trống (thiếu số liệu)"
    return vn_value(value)


def _shown(raw: str | None, value: float | None) -> str:
    """The value read, with the words the unit wrote when they were words (``Có (= 1)``)."""
    if raw and value is not None and any(c.isalpha() for c in raw):
        return f"{_cell(raw.strip())} (= {_vn(value)})"
    return _vn(value)


def _cell(text: object) -> str:
    """Text read from a submission (or derived from it), as it may appear in a receipt: never
    markup, on one line (:func:`~pipelines.text.safe_text.escape_markup`)."""
    return escape_markup(text)


def receipt_markdown(con: duckdb.DuckDBPyConnection, submission_id: str) -> str:
    """The receipt of one submission (one evaluation of one file), NFC-normalised."""
    inputs = _gather(con, [submission_id])
    if submission_id not in inputs:
        raise ReceiptError(f"không có lượt nộp '{submission_id}'")
    return _render(inputs[submission_id])


@dataclass
class _Inputs:
    """Everything one receipt shows, read from the warehouse, as plain Python rows (a receipt is
    rendered from a few dozen rows: row lists are quicker than frames of that size, and can be
    rendered in a forked worker)."""

    sub: Row
    accepted: list[Row]
    refused: list[Row]
    points: list[Row]
    missing: list[Row]
    names: dict[str, str]
    unit_label: str | None  # "<id> – <name>" of the submission's unit, if it names one
    later: str | None  # a later evaluation of the same file
    superseded: list[str]  # files received later that count instead of this one
    replaced: list[tuple[str, str]] = field(default_factory=list)  # (unit, earlier file name)
    assumed_banner: str | None = None  # the framework's components not from the decision


_IDS = "submission_id IN (SELECT unnest($ids::VARCHAR[]))"


def _gather(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, _Inputs]:
    """The inputs of the receipts of ``ids``, one query per table for all of them."""
    params = {"ids": ids}
    subs = con.execute(f"SELECT * FROM submissions WHERE {_IDS}", params).pl()
    if subs.is_empty():
        return {}

    def per_submission(sql: str) -> dict[str, list[Row]]:
        return rows_by(con.execute(sql, params).pl(), "submission_id")

    accepted = per_submission(
        f"SELECT * FROM raw_values WHERE {_IDS} ORDER BY submission_id, unit_id, row_number"
    )
    refused = per_submission(
        f"SELECT * FROM rejected_rows WHERE {_IDS} ORDER BY submission_id, sheet, row_number, "
        "length(column_name), column_name"
    )
    points = per_submission(
        f"SELECT * FROM appraised_points WHERE {_IDS} ORDER BY submission_id, unit_id, row_number"
    )
    missing = per_submission(
        f"SELECT * FROM missing_indicators WHERE {_IDS} ORDER BY submission_id, unit_id"
    )
    unit_ids = [u for u in subs["unit_id"].unique().to_list() if u]
    unit_names = dict(
        con.execute(
            "SELECT unit_id, first(name) FROM units "
            "WHERE unit_id IN (SELECT unnest($u::VARCHAR[])) GROUP BY unit_id",
            {"u": unit_ids},
        ).fetchall()
    )
    evaluations: dict[str, list[tuple[int, str]]] = {}
    shas = [r["file_sha256"] or r["submission_id"] for r in subs.iter_rows(named=True)]
    for sha, evaluation, sid in con.execute(
        "SELECT file_sha256, evaluation, submission_id FROM submissions "
        "WHERE file_sha256 IN (SELECT unnest($s::VARCHAR[]))",
        {"s": shas},
    ).fetchall():
        evaluations.setdefault(sha, []).append((evaluation, sid))
    superseded = _superseded_many(
        con,
        [
            r["submission_id"]
            for r in subs.iter_rows(named=True)
            if r["kind"] == "self" and r["status"] != "refused"
        ],
    )
    replaced: dict[str, list[tuple[str, str]]] = {}
    for sid, unit, _, old_name in con.execute(
        query_text("replaced_files"), {"ids": list(subs["submission_id"])}
    ).fetchall():
        replaced.setdefault(sid, []).append((unit, old_name))
    names_cache: dict[tuple, dict[str, str]] = {}
    banners: dict[tuple, str | None] = {}
    out = {}
    for sub in subs.iter_rows(named=True):
        sid = sub["submission_id"]
        key = (sub["framework_id"], sub["framework_version"])
        if key not in names_cache:
            names_cache[key] = _indicator_names(con, *key)
        banner_key = (*key, sub["level"], sub["year"])
        if banner_key not in banners:
            assumed = framework_assumed(con, *banner_key)
            banners[banner_key] = assumed.banner if assumed is not None else None
        evaluation = sub.get("evaluation") or 1
        later = sorted(
            (e, s)
            for e, s in evaluations.get(sub.get("file_sha256") or sid, [])
            if e is not None and e > evaluation
        )
        unit = sub["unit_id"]
        out[sid] = _Inputs(
            sub=sub,
            accepted=accepted.get(sid, []),
            refused=refused.get(sid, []),
            points=points.get(sid, []),
            missing=missing.get(sid, []),
            names=names_cache[key],
            unit_label=(f"{unit} – {unit_names[unit]}" if unit in unit_names else unit)
            if unit
            else None,
            later=later[-1][1] if later else None,
            superseded=superseded.get(sid, []),
            replaced=replaced.get(sid, []),
            assumed_banner=banners[banner_key],
        )
    return out


def _render(data: _Inputs) -> str:
    """The receipt's text (Markdown, Vietnamese, NFC)."""
    sub, accepted, refused, points, missing, names = (
        data.sub,
        data.accepted,
        data.refused,
        data.points,
        data.missing,
        data.names,
    )
    order = {node: i for i, node in enumerate(names)}
    missing = sorted(
        missing, key=lambda r: (r["unit_id"], order.get(r["indicator_id"], len(order)))
    )
    kind = sub["kind"]
    n_values, n_points = len(accepted), len(points)
    lines = [
        "# Biên nhận tiếp nhận số liệu – Bộ chỉ số chuyển đổi số (DTI)",
        "",
        "| Mục | Nội dung |",
        "|---|---|",
        f"| Tệp | `{_cell(sub['file_name'])}` |",
        f"| Mã tiếp nhận | `{sub['submission_id']}` |",
        f"| Nhận lúc | {_when(sub.get('received_at'))} (thứ tự nhận {sub['received_seq']}) |",
    ]
    evaluation = sub.get("evaluation") or 1
    if evaluation > 1:
        lines.append(
            f"| Lần đánh giá | {evaluation} (đánh giá lại lúc {_when(sub.get('evaluated_at'))}, "
            f"thay cho `{_cell(sub.get('replaces_submission_id'))}`) |"
        )
    who = _cell(data.unit_label if sub["unit_id"] else _many_units(accepted))
    lines += [
        f"| Loại | {KIND_VI.get(kind, kind)} |",
        f"| Đơn vị | {who} |",
        f"| Cấp | {_cell(LEVEL_NAMES.get(sub['level'], sub['level'] or '–'))} |",
        f"| Năm | {sub['year'] if sub['year'] is not None else '–'} |",
        f"| Bộ chỉ số | {_cell(sub['framework_id'] or '–')}"
        + (f" ({_cell(sub['framework_version'])})" if sub["framework_version"] else "")
        + " |",
        f"| Kết quả | **{STATUS_VI.get(sub['status'], sub['status'])}**: "
        + _counts(kind, n_values, n_points, len(refused), len(missing))
        + " |",
        "",
    ]
    if data.assumed_banner:
        lines += [f"> **{data.assumed_banner}**", ""]
    if data.later:
        lines += [
            f"> **Lưu ý:** tệp này đã được đánh giá lại (`{data.later}`); biên nhận này là của lần "
            "đánh giá trước, được giữ làm lịch sử.",
            "",
        ]
    superseded = data.superseded
    if superseded:
        lines += [
            "> **Lưu ý:** đơn vị đã gửi tệp mới hơn ("
            + ", ".join(f"`{_cell(name)}`" for name in superseded)
            + "); tệp này vẫn được lưu nhưng không còn dùng để chấm điểm.",
            "",
        ]
    for unit, old_name in data.replaced:
        lines += [
            f"> **Cần kiểm tra:** tệp này được dùng thay cho tệp `{_cell(old_name)}` đã nhận "
            f"trước đó của đơn vị {unit} (tên tệp khác). Nếu tệp này không phải của đơn vị {unit}, "
            "báo ngay cho cơ quan thường trực.",
            "",
        ]
    lines += [f"## Không tiếp nhận ({len(refused)})", ""]
    if not refused:
        lines += ["Không có.", ""]
    else:
        for i, r in enumerate(refused, start=1):
            lines.append(f"{i}. {_cell(r['message'])} *(quy tắc `{_cell(r['rule'])}`)*")
        lines.append("")
    if kind != "appraisal":
        lines += [f"## Chỉ số không có dòng trong tệp ({len(missing)})", ""]
        if not missing:
            lines += ["Không có.", ""]
        else:
            many = len({r["unit_id"] for r in missing}) > 1
            for r in missing:
                who = f"{_cell(r['unit_id'])}: " if many else ""
                name = names.get(r["indicator_id"], "")
                lines.append(
                    f"- {who}`{_cell(r['indicator_id'])}` {_cell(name)} — không có dòng trong "
                    "tệp: được coi là thiếu số liệu (0 điểm) nếu không bổ sung"
                )
            lines.append("")
    lines += _accepted_section(kind, accepted, points, names)
    lines += _todo(sub["status"], refused, len(missing), kind)
    text = "\n".join(lines).rstrip() + "\n"
    return unicodedata.normalize("NFC", text)


def _counts(kind: str, values: int, points: int, refused: int, missing: int) -> str:
    parts = [f"{values} giá trị được tiếp nhận"]
    if kind == "appraisal" or points:
        parts.append(f"{points} điểm thẩm định được tiếp nhận")
    parts.append(f"{refused} ô/dòng bị từ chối")
    if kind != "appraisal":
        parts.append(f"{missing} chỉ số thiếu dòng")
    return ", ".join(parts)


def _accepted_section(
    kind: str, accepted: list[Row], points: list[Row], names: dict[str, str]
) -> list[str]:
    lines = [f"## Đã tiếp nhận ({len(accepted) + len(points)})", ""]
    if not accepted and not points:
        return [*lines, "Không có.", ""]
    many_units = len({r["unit_id"] for r in accepted}) > 1
    if kind == "appraisal":
        lines += [
            "| Đơn vị | Chỉ số | Điều chỉnh | Lý do | Vị trí |",
            "|---|---|---|---|---|",
        ]
        entries = [
            (
                r["unit_id"],
                r["row_number"],
                r["indicator_id"],
                f"giá trị → {_vn(r['value'])}",
                r["reason"],
                r["sheet"],
                r["column_name"],
            )
            for r in accepted
        ] + [
            (
                r["unit_id"],
                r["row_number"],
                r["indicator_id"],
                f"điểm → {_vn(r['points'])}",
                r["reason"],
                r["sheet"],
                r["column_name"],
            )
            for r in points
        ]
        for unit, row, indicator, change, reason, sheet, column in sorted(
            entries, key=lambda e: (e[1], e[3])
        ):
            lines.append(
                f"| {_cell(unit)} | `{_cell(indicator)}` | {change} | {_cell(reason)} | "
                f"{_where(sheet, row, column)} |"
            )
        return [*lines, ""]
    head = "| Đơn vị " if many_units else ""
    lines += [
        f"{head}| Chỉ số | Tên chỉ số | Giá trị đọc được | Ô | Tài liệu kiểm chứng |",
        ("|---" if many_units else "") + "|---|---|---|---|---|",
    ]
    for r in accepted:
        unit = f"| {_cell(r['unit_id'])} " if many_units else ""
        lines.append(
            f"{unit}| `{_cell(r['indicator_id'])}` | {_cell(names.get(r['indicator_id'], ''))} | "
            f"{_shown(r['raw_text'], r['value'])} | "
            f"{_where(r['sheet'], r['row_number'], r['column_name'])} | "
            f"{_cell(r.get('evidence') or '')} |"
        )
    return [*lines, ""]


def _todo(status: str, refused: list[Row], n_missing: int, kind: str) -> list[str]:
    lines = ["## Việc cần làm", ""]
    resend = (
        "gửi lại toàn bộ tệp (tệp gửi sau thay thế tệp này; tệp này vẫn được lưu)"
        if kind == "self"
        else "gửi lại tệp thẩm định đã sửa (điều chỉnh gửi sau thay thế điều chỉnh trước cho cùng "
        "đơn vị và chỉ số)"
    )
    if status == "refused":
        lines.append(
            "- Tệp **không được dùng để chấm điểm**. Sửa theo hướng dẫn dưới đây rồi "
            + resend
            + "."
        )
    elif refused or n_missing:
        lines.append(
            "- Các giá trị đã tiếp nhận được ghi nhận. Ô bị từ chối và chỉ số thiếu dòng được coi "
            "là thiếu số liệu (0 điểm) cho đến khi bổ sung: sửa các ô nêu trên ngay trong tệp này "
            "rồi " + resend + "."
        )
    else:
        lines.append("- Không cần làm gì thêm. Nếu cần sửa số liệu, " + resend + ".")
    for rule in dict.fromkeys(r["rule"] for r in refused):
        hint = RULE_HINTS.get(rule)
        if hint:
            lines.append(f"- `{rule}`: {hint}")
    if n_missing and kind != "appraisal":
        lines.append(
            "- Chỉ số thiếu dòng: dùng mẫu gốc của năm, không xóa dòng; nhập giá trị vào đúng "
            "dòng của chỉ số (để trống nếu thật sự không có số liệu)."
        )
    return [*lines, ""]


def _where(sheet: str | None, row: int, column: str) -> str:
    parts = ([f"trang '{sheet}'"] if sheet else []) + [f"dòng {row}", f"cột {column}"]
    return _cell(", ".join(parts))


def _when(value) -> str:
    return vn_time(value, seconds=True)


def _unit_label(con: duckdb.DuckDBPyConnection, unit_id: str) -> str:
    row = con.execute("SELECT name FROM units WHERE unit_id = ? LIMIT 1", [unit_id]).fetchone()
    return f"{unit_id} – {row[0]}" if row else unit_id


def _many_units(accepted: list[Row]) -> str:
    if not accepted:
        return "–"
    units = sorted({r["unit_id"] for r in accepted})
    return f"{len(units)} đơn vị ({', '.join(units[:10])}{', …' if len(units) > 10 else ''})"


def _indicator_names(
    con: duckdb.DuckDBPyConnection, framework_id: str | None, version: str | None
) -> dict[str, str]:
    """Leaf id → name, in document order, from the framework stored in the warehouse."""
    if not framework_id:
        return {}
    rows = con.execute(
        query_text("leaf_names"), {"framework_id": framework_id, "version": version}
    ).fetchall()
    return {node: name for node, name, _ in rows}


def _superseded_many(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, list[str]]:
    """Files received later that count instead of each given self-assessment: id → file names."""
    if not ids:
        return {}
    rows = con.execute(query_text("superseding_files"), {"ids": ids}).fetchall()
    found: dict[str, list[str]] = {}
    for sid, name, _ in rows:
        found.setdefault(sid, []).append(name)
    return found
