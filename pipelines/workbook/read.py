"""Read unit workbooks (and, in :mod:`pipelines.workbook.read_appraisal`, the appraiser's) into
accepted values and located refusals.

Every refusal names the file, the sheet, the Excel row and column, and the rule broken, so the
unit can fix its file and send it again; nothing read is dropped without a trace.

Rules applied to the self-assessment table (see docs/intake.md for the full list):

- a row is an indicator row when its ``Mã chỉ số`` cell is filled; a row with a value but no
  indicator id is refused (``missing_indicator_id``), never skipped;
- unknown or repeated indicator ids are refused at the id cell;
- a value cell inside a merged range spanning several rows is refused (``merged_cell``): every cell
  but the first reads as blank, so the values the unit meant cannot be told apart;
- a formula stored without its calculated result is refused (``formula_without_result``): it would
  read as blank, i.e. as missing data;
- percentages are read on the scale each criterion declares (``percent_scale`` 100 or 1); when the
  percentages of a file as a whole look like the other scale, they are refused with the value the
  unit probably meant (``percent_scale_mismatch``), never silently rescaled;
- what is scored is what the unit sees in Excel: a formula whose stored result is not what the
  formula gives is refused at the cell (``formula_result_mismatch``, or ``formula_unchecked`` when
  it cannot be evaluated); a hidden row with a value is refused at the cell (``hidden_row``), so
  is a value hidden by its number format ``;;;`` (``hidden_value``); a
  hidden sheet holding the table or a hidden column the reader takes refuses the file
  (``hidden_sheet``, ``hidden_column``);
- the visible identification above the table (year in the title, unit) must agree with the hidden
  ``_meta`` sheet (unit, level, year), or the file is refused naming both (``identity_mismatch``);
- sizes are bounded: a cell's text to Excel's 32,767 characters (``text_too_long``), the whole
  decompressed workbook to :data:`~pipelines.workbook.structure.MAX_UNPACKED_BYTES`
  (``file_too_large``, before anything is decompressed).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from pipelines.framework.model import Framework, Node
from pipelines.text.labels import vn_value
from pipelines.workbook.book import open_with_openpyxl, open_workbook, read_meta, read_meta_cells
from pipelines.workbook.cell_checks import (
    cell_structure_problem,
    check_value,
    formula_results,
    hidden_by_format,
    refuse_percent_scale_mismatch,
)
from pipelines.workbook.cells import read_number
from pipelines.workbook.errors import WorkbookError
from pipelines.workbook.layout import (
    META_SHEET,
    SELF_COLUMN_LETTERS,
    SELF_COLUMNS,
    SELF_HEADER_ROW,
    SELF_SHEET,
    SELF_TITLE,
    UNIT_LABEL,
    column_letter,
)
from pipelines.workbook.parsed import ParsedWorkbook, locate
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
from pipelines.workbook.structure import (
    MAX_CELL_CHARS,
    SheetFacts,
)

__all__ = [
    "ParsedWorkbook",
    "WorkbookError",
    "cell_structure_problem",
    "check_value",
    "check_visible_identity",
    "formula_results",
    "locate",
    "open_with_openpyxl",
    "open_workbook",
    "read_meta",
    "read_meta_cells",
    "read_unit_workbook",
    "refuse_percent_scale_mismatch",
]


# Columns of the self-assessment table the reader takes (the others are for the unit to read).
SELF_READ = ("indicator_id", "value", "self_points", "evidence")


# --- self-assessment --------------------------------------------------------------------------


def read_unit_workbook(
    book,
    framework: Framework,
    file_name: str,
    units: Iterable[tuple[str, str, str]] = (),
) -> ParsedWorkbook:
    """Values a unit reported for each leaf of ``framework`` (kind ``self``), with the evidence
    and the self-assessed points of each row. ``units`` (unit id, level, name of every unit in
    the registry) let the visible header be checked against the hidden ``_meta`` sheet
    (:func:`check_visible_identity`)."""
    parsed = ParsedWorkbook(file_name)
    meta_cells = read_meta_cells(book, parsed.file_name)
    parsed.meta = {key: value for key, (_, value) in meta_cells.items()}
    file_name = parsed.file_name
    sheet_name, header_row, columns = find_table(
        book, SELF_COLUMNS, "indicator_id", file_name, read=SELF_READ, preferred=SELF_SHEET
    )
    if sheet_name is None:
        if SELF_SHEET not in book.sheetnames:
            raise WorkbookError(
                file_name,
                "missing_sheet",
                f"thiếu trang '{SELF_SHEET}' (không trang nào nhìn thấy được có bảng với cột "
                f"'{SELF_COLUMNS['indicator_id']}'); dùng mẫu DTI của năm, không xóa hay đổi tên "
                "trang",
                sheet="",
                row=0,
                column="",
            )
        raise WorkbookError(
            file_name,
            "missing_table",
            f"không tìm thấy bảng có cột '{SELF_COLUMNS['indicator_id']}' "
            f"(theo mẫu: dòng tiêu đề {SELF_HEADER_ROW}, "
            f"cột {SELF_COLUMN_LETTERS['indicator_id']})",
            sheet=SELF_SHEET,
            row=SELF_HEADER_ROW,
            column=SELF_COLUMN_LETTERS["indicator_id"],
        )
    if "value" not in columns:
        raise WorkbookError(
            file_name,
            "missing_column",
            f"dòng tiêu đề thiếu cột '{SELF_COLUMNS['value']}'",
            sheet=sheet_name,
            row=header_row,
            column=SELF_COLUMN_LETTERS["value"],
        )
    check_visible_identity(book, sheet_name, header_row, file_name, meta_cells, units)
    facts = sheet_facts(book, sheet_name)
    leaves = {n.id: n for n in framework.leaves()}
    letters = {key: column_letter(index) for key, index in columns.items()}
    id_col = letters["indicator_id"]
    value_col = letters["value"]
    points_col = letters.get("self_points")
    computed = formula_results(book, sheet_name, facts, (value_col, points_col))
    seen: dict[str, int] = {}
    percents: list[tuple[Node, float, dict[str, Any] | None]] = []
    for row_number, cells in rows_after(book[sheet_name], header_row):
        indicator = cell_text(cells, columns["indicator_id"])
        value_cell = cell_at(cells, columns["value"])
        formula = facts.uncached_formulas.get(f"{value_col}{row_number}")
        overlong = overlong_cell(cells, columns, SELF_READ)
        if overlong:
            key, length = overlong
            parsed.refuse(
                sheet_name,
                row_number,
                letters[key],
                "text_too_long",
                too_long_message(letters[key], row_number, length),
                indicator_id=indicator[:MAX_CELL_CHARS] or None,
                raw_text=None,
            )
            continue
        if facts.row_hidden(row_number):
            filled = [
                key
                for key in ("value", "self_points", "evidence")
                if key in columns
                and (
                    is_filled(cell_value(cell_at(cells, columns[key])))
                    or f"{letters[key]}{row_number}" in facts.uncached_formulas
                )
            ]
            if filled:
                shown = raw_text(cell_value(cell_at(cells, columns[filled[0]])))
                parsed.refuse(
                    sheet_name,
                    row_number,
                    letters[filled[0]],
                    "hidden_row",
                    f"dòng {row_number} bị ẩn nhưng có nội dung ở cột {letters[filled[0]]}; chỉ "
                    "đọc số liệu đơn vị nhìn thấy — bỏ ẩn dòng, hoặc xóa dòng nếu thừa",
                    indicator_id=indicator or None,
                    raw_text=shown,
                )
                continue
        if not indicator:
            if is_filled(cell_value(value_cell)) or formula:
                shown = raw_text(cell_value(value_cell)) or formula
                parsed.refuse(
                    sheet_name,
                    row_number,
                    id_col,
                    "missing_indicator_id",
                    f"dòng có giá trị '{shown}' ở cột {value_col} nhưng để trống mã chỉ số; "
                    "ghi lại mã chỉ số của dòng hoặc xóa giá trị",
                    indicator_id=None,
                    raw_text=shown,
                )
            continue
        node = leaves.get(indicator)
        raw = shown_value(value_cell, node)
        base = {"indicator_id": indicator, "raw_text": raw_text(raw)}
        if node is None:
            parsed.refuse(
                sheet_name,
                row_number,
                id_col,
                "unknown_indicator",
                f"mã chỉ số '{indicator}' không có trong bộ chỉ số {framework.id}",
                **base,
            )
            continue
        if indicator in seen:
            parsed.refuse(
                sheet_name,
                row_number,
                id_col,
                "duplicate_indicator",
                f"mã chỉ số '{indicator}' lặp lại (đã có ở dòng {seen[indicator]})",
                **base,
            )
            continue
        seen[indicator] = row_number
        problem = cell_structure_problem(
            facts, value_col, row_number, formula, cell_value(value_cell), computed
        ) or hidden_by_format(value_cell, value_col, row_number)
        value = None
        if problem is None:
            value, problem = check_value(node, raw)
            if problem and problem[0] == "percent_out_of_range" and value is not None:
                percents.append((node, value, None))
        if problem:
            parsed.refuse(
                sheet_name,
                row_number,
                value_col,
                problem[0],
                f"chỉ số {indicator}: {problem[1]}",
                **base,
            )
            continue
        entry = {
            "sheet": sheet_name,
            "row_number": row_number,
            "column_name": value_col,
            "indicator_id": indicator,
            "kind": "self",
            "value": value,
            "reason": None,
            **base,
            "evidence": (cell_text(cells, columns["evidence"]) or None)
            if "evidence" in columns
            else None,
            "self_points": _self_points(
                parsed, sheet_name, row_number, points_col, cells, columns, facts, node, computed
            ),
        }
        parsed.accepted.append(entry)
        if node.percent_scale and value is not None:
            percents.append((node, value, entry))
    parsed.missing_indicators = [i for i in leaves if i not in seen]
    refuse_percent_scale_mismatch(parsed, percents)
    parsed.sort_rejected()
    return parsed


def check_visible_identity(
    book,
    sheet_name: str,
    header_row: int,
    file_name: str,
    meta: dict[str, tuple[int, str]],
    units: Iterable[tuple[str, str, str]],
) -> None:
    """The year in the title and the unit written above the table (column A) must be those of the
    hidden ``_meta`` sheet, or the file is refused naming both (``identity_mismatch``): a file
    whose header shows one registered unit (``units``: the registry's unit id, level and name)
    while ``_meta`` names another unit, or another level, is never read as the other unit's. A
    unit name the registry does not know (a unit added to it later) and a line the unit removed
    are not compared."""
    by_name: dict[str, list[tuple[str, str, str]]] = {}
    for unit in units:
        by_name.setdefault(_name_key(unit[2]), []).append(unit)
    value = {key: text.strip() for key, (_, text) in meta.items()}
    rows = book[sheet_name].iter_rows(max_row=max(header_row - 1, 1), max_col=1, values_only=True)
    for row_number, cells in enumerate(rows, start=1):
        if row_number >= header_row:
            break
        text = unicodedata.normalize("NFC", str(cells[0] if cells and cells[0] else "")).strip()
        if text.upper().startswith(SELF_TITLE.upper()):
            found = re.search(r"\d{4}", text[len(SELF_TITLE) :])
            if found is None or found.group() == value.get("year"):
                continue
            key, shown, what = "year", "", f"năm {value.get('year')}"
        elif text.upper().startswith(UNIT_LABEL.upper()):
            named = by_name.get(_name_key(text[len(UNIT_LABEL) :]), [])
            unit_id, level = value.get("unit_id", ""), value.get("level", "")
            if not named or any(u[0] == unit_id and u[1] == level for u in named):
                continue
            own = [u[2] for group in by_name.values() for u in group if u[0] == unit_id]
            key = "unit_id"
            shown = f" (đơn vị {named[0][0]}, cấp {named[0][1]})"
            what = f"mã đơn vị '{unit_id}'" + (f" ({own[0]})" if own else "") + f", cấp '{level}'"
        else:
            continue
        meta_row = meta.get(key, (0, ""))[0]
        raise WorkbookError(
            file_name,
            "identity_mismatch",
            f"phần đầu trang ghi '{text}'{shown} nhưng trang ẩn '{META_SHEET}' (dòng {meta_row}) "
            f"ghi {what}; tệp phải là của đúng đơn vị, cấp và năm — tải lại mẫu của đơn vị và "
            "nhập lại, không sửa phần đầu trang hay trang ẩn",
            sheet=sheet_name,
            row=row_number,
            column="A",
        )


def _name_key(name: str) -> str:
    """A unit's name compared as Excel shows it: NFC, case and spacing aside."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _self_points(
    parsed: ParsedWorkbook,
    sheet: str,
    row: int,
    points_col: str | None,
    cells: tuple,
    columns: dict[str, int],
    facts: SheetFacts,
    node: Node,
    computed: dict[str, object],
) -> float | None:
    """The unit's own points for the row (informational: scores are computed from the values).
    A bad cell is refused on its own; the row's value is still taken."""
    if points_col is None:
        return None
    raw = cell_value(cell_at(cells, columns["self_points"]))
    base = {"indicator_id": node.id, "raw_text": raw_text(raw)}
    formula = facts.uncached_formulas.get(f"{points_col}{row}")
    problem = cell_structure_problem(facts, points_col, row, formula, raw, computed)
    if problem is None:
        reading = read_number(raw)
        if reading.rule:
            problem = ("invalid_self_points", reading.message)
        elif reading.value is not None and not 0 <= reading.value <= node.max_points:
            problem = (
                "invalid_self_points",
                f"điểm {vn_value(reading.value)} ngoài khoảng 0–{vn_value(node.max_points)}",
            )
        else:
            return reading.value
    parsed.refuse(
        sheet,
        row,
        points_col,
        problem[0],
        f"chỉ số {node.id}, điểm tự đánh giá: {problem[1]}",
        **base,
    )
    return None
