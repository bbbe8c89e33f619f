"""The Vietnamese Markdown text of one receipt, rendered from its inputs
(:mod:`pipelines.intake.receipt_inputs`): what was taken, what was refused (each located message,
with what to do about the rule broken), which indicators the file has no row for, and what to do
next."""

from __future__ import annotations

import unicodedata

from pipelines.intake.receipt_inputs import ReceiptInputs
from pipelines.text.labels import LEVEL_NAMES, vn_time, vn_value
from pipelines.text.rows import Row
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


def render_receipt(data: ReceiptInputs) -> str:
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


def _many_units(accepted: list[Row]) -> str:
    if not accepted:
        return "–"
    units = sorted({r["unit_id"] for r in accepted})
    return f"{len(units)} đơn vị ({', '.join(units[:10])}{', …' if len(units) > 10 else ''})"
