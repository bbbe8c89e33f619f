"""Read the appraiser's workbook: per (unit, indicator) the appraised value and/or points set
directly, each with its reason; every refusal located by file, sheet, row and column
(docs/intake.md, appraisal).
"""

from __future__ import annotations

from pipelines.framework.model import Framework, Node
from pipelines.text.labels import vn_value
from pipelines.workbook.cells import read_number
from pipelines.workbook.layout import APPRAISAL_COLUMNS, column_letter
from pipelines.workbook.read import (
    ParsedWorkbook,
    WorkbookError,
    cell_structure_problem,
    check_value,
    formula_results,
    read_meta,
)
from pipelines.workbook.sheet_table import (
    cell_at,
    cell_text,
    cell_value,
    find_table,
    is_filled,
    overlong_cell,
    raw_text,
    rows_after,
    sheet_facts,
    shown_value,
    too_long_message,
)

# Columns of the appraisal table the reader takes.
APPRAISAL_READ = (
    "unit_id",
    "indicator_id",
    "appraised_value",
    "reason",
    "appraised_points",
)


def read_appraisal_workbook(book, framework: Framework, file_name: str) -> ParsedWorkbook:
    """The appraiser's changes: one accepted row per (unit, leaf) with the appraised value, and/or
    points set directly (``adjusted_points``), each with the reason.

    A row listing a unit and an indicator with nothing else filled is no adjustment and is
    skipped. A reason with neither a value nor points is refused (``missing_appraised_value``):
    a blank is not read as "no data"; the self-assessed value stays. Merged cells in the unit and
    reason columns apply to every row of the range (one reason for several rows)."""
    parsed = ParsedWorkbook(file_name, meta=read_meta(book, file_name))
    sheet_name, header_row, columns = find_table(
        book, APPRAISAL_COLUMNS, "unit_id", parsed.file_name, read=APPRAISAL_READ
    )
    needed = ("unit_id", "indicator_id", "appraised_value", "reason")
    if sheet_name is None or any(k not in columns for k in needed):
        raise WorkbookError(
            parsed.file_name,
            "missing_table",
            "không tìm thấy bảng thẩm định với các cột "
            + ", ".join(APPRAISAL_COLUMNS[k] for k in needed),
            sheet=sheet_name or "",
            row=header_row or 0,
            column="",
        )
    facts = sheet_facts(book, sheet_name)
    leaves = {n.id: n for n in framework.leaves()}
    letters = {key: column_letter(index) for key, index in columns.items()}
    seen: dict[tuple[str, str], int] = {}
    filled_down: dict[str, dict[int, str]] = {"unit_id": {}, "reason": {}}
    computed = formula_results(
        book, sheet_name, facts, (letters["appraised_value"], letters.get("appraised_points"))
    )
    for row_number, cells in rows_after(book[sheet_name], header_row):
        overlong = overlong_cell(cells, columns, APPRAISAL_READ)
        if overlong:
            key, length = overlong
            parsed.refuse(
                sheet_name,
                row_number,
                letters[key],
                "text_too_long",
                too_long_message(letters[key], row_number, length),
                raw_text=None,
            )
            continue
        if facts.row_hidden(row_number) and any(
            is_filled(cell_value(cell_at(cells, columns[key])))
            for key in ("appraised_value", "appraised_points", "reason")
            if key in columns
        ):
            parsed.refuse(
                sheet_name,
                row_number,
                letters["appraised_value"],
                "hidden_row",
                f"dòng {row_number} bị ẩn nhưng có nội dung thẩm định; chỉ đọc số liệu nhìn thấy "
                "— bỏ ẩn dòng, hoặc xóa dòng nếu thừa",
                raw_text=None,
            )
            continue
        texts = {}
        for key in ("unit_id", "reason"):
            texts[key] = cell_text(cells, columns[key])
            merged = facts.merged_range_of(letters[key], row_number)
            if not texts[key] and merged:
                first_row = int("".join(c for c in merged.split(":")[0] if c.isdigit()))
                texts[key] = filled_down[key].get(first_row, "")
            filled_down[key][row_number] = texts[key]
        unit_id, reason = texts["unit_id"], texts["reason"]
        indicator = cell_text(cells, columns["indicator_id"])
        node = leaves.get(indicator)
        value_cell = cell_at(cells, columns["appraised_value"])
        raw = shown_value(value_cell, node)
        value_formula = facts.uncached_formulas.get(f"{letters['appraised_value']}{row_number}")
        points_raw, points_formula = None, None
        if "appraised_points" in columns:
            points_raw = cell_value(cell_at(cells, columns["appraised_points"]))
            points_formula = facts.uncached_formulas.get(
                f"{letters['appraised_points']}{row_number}"
            )
        has_value = is_filled(raw) or bool(value_formula)
        has_points = is_filled(points_raw) or bool(points_formula)
        base = {"unit_id": unit_id, "indicator_id": indicator, "raw_text": raw_text(raw)}
        if not unit_id and not indicator:
            if has_value or has_points:
                parsed.refuse(
                    sheet_name,
                    row_number,
                    letters["unit_id"],
                    "missing_unit_id",
                    "dòng có giá trị thẩm định nhưng để trống mã đơn vị và mã chỉ số",
                    **base,
                )
            continue
        if not unit_id:
            parsed.refuse(
                sheet_name,
                row_number,
                letters["unit_id"],
                "missing_unit_id",
                f"chỉ số {indicator}: để trống mã đơn vị",
                **base,
            )
            continue
        if not indicator:
            parsed.refuse(
                sheet_name,
                row_number,
                letters["indicator_id"],
                "missing_indicator_id",
                f"đơn vị {unit_id}: để trống mã chỉ số",
                **base,
            )
            continue
        if node is None:
            parsed.refuse(
                sheet_name,
                row_number,
                letters["indicator_id"],
                "unknown_indicator",
                f"mã chỉ số '{indicator}' không có trong bộ chỉ số {framework.id}",
                **base,
            )
            continue
        if (unit_id, indicator) in seen:
            parsed.refuse(
                sheet_name,
                row_number,
                letters["unit_id"],
                "duplicate_indicator",
                f"đơn vị {unit_id}, chỉ số {indicator} lặp lại "
                f"(đã có ở dòng {seen[(unit_id, indicator)]})",
                **base,
            )
            continue
        seen[(unit_id, indicator)] = row_number
        if not (has_value or has_points or reason):
            continue  # listed, not adjusted
        if not reason:
            parsed.refuse(
                sheet_name,
                row_number,
                letters["reason"],
                "missing_reason",
                f"đơn vị {unit_id}, chỉ số {indicator}: thiếu lý do điều chỉnh",
                **base,
            )
            continue
        if not (has_value or has_points):
            parsed.refuse(
                sheet_name,
                row_number,
                letters["appraised_value"],
                "missing_appraised_value",
                f"đơn vị {unit_id}, chỉ số {indicator}: có lý do điều chỉnh nhưng để trống giá "
                "trị thẩm định (và điểm thẩm định); giá trị tự đánh giá được giữ nguyên — nhập "
                "giá trị (hoặc điểm) thẩm định, hoặc xóa dòng",
                **base,
            )
            continue
        where = {"sheet": sheet_name, "row_number": row_number}
        if has_value:
            problem = cell_structure_problem(
                facts,
                letters["appraised_value"],
                row_number,
                value_formula,
                cell_value(value_cell),
                computed,
            )
            value = None
            if problem is None:
                value, problem = check_value(node, raw)
            if problem:
                parsed.refuse(
                    sheet_name,
                    row_number,
                    letters["appraised_value"],
                    problem[0],
                    f"đơn vị {unit_id}, chỉ số {indicator}: {problem[1]}",
                    **base,
                )
            else:
                parsed.accepted.append(
                    {
                        **where,
                        "column_name": letters["appraised_value"],
                        "kind": "appraised",
                        "value": value,
                        "reason": reason,
                        **base,
                    }
                )
        if has_points:
            points_ref = f"{letters['appraised_points']}{row_number}"
            if points_ref in computed:  # a formula with a stored result: checked first
                points, problem = (
                    None,
                    cell_structure_problem(
                        facts, letters["appraised_points"], row_number, None, points_raw, computed
                    ),
                )
            else:
                problem = None
            if problem is None:
                points, problem = _points_reading(node, points_raw, points_formula)
            if problem:
                parsed.refuse(
                    sheet_name,
                    row_number,
                    letters["appraised_points"],
                    problem[0],
                    f"đơn vị {unit_id}, chỉ số {indicator}: điểm thẩm định: {problem[1]}",
                    **{**base, "raw_text": raw_text(points_raw) or points_formula},
                )
            else:
                parsed.adjusted_points.append(
                    {
                        **where,
                        "column_name": letters["appraised_points"],
                        "unit_id": unit_id,
                        "indicator_id": indicator,
                        "raw_text": raw_text(points_raw),
                        "points": points,
                        "reason": reason,
                    }
                )
    parsed.sort_rejected()
    return parsed


def _points_reading(
    node: Node, raw: object, formula: str | None
) -> tuple[float | None, tuple[str, str] | None]:
    if formula:
        return None, (
            "formula_without_result",
            f"ô có công thức {formula} nhưng không có kết quả đã tính; nhập số trực tiếp",
        )
    reading = read_number(raw)
    if reading.rule:
        return None, (reading.rule, reading.message or "")
    value = reading.value
    if value is not None and value < 0:
        return None, ("negative_value", f"điểm {vn_value(value)} âm")
    if value is not None and value > node.max_points:
        return None, (
            "above_maximum",
            f"điểm {vn_value(value)} vượt điểm tối đa {vn_value(node.max_points)}",
        )
    return value, None
