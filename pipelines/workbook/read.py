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
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from pipelines.framework.model import Framework, Node
from pipelines.text.labels import vn_value
from pipelines.workbook.cells import EXCEL_ERRORS, CellReading, read_number
from pipelines.workbook.errors import WorkbookError
from pipelines.workbook.fastbook import FastBook, NotPlain
from pipelines.workbook.formula_check import UNCHECKED, evaluate_cells, same_result
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
    archive_problem,
    column_index,
    workbook_facts,
)

# Columns of the self-assessment table the reader takes (the others are for the unit to read).
SELF_READ = ("indicator_id", "value", "self_points", "evidence")


@dataclass
class ParsedWorkbook:
    """What one file contained: its identification, the values taken and the cells refused."""

    file_name: str
    meta: dict[str, str] = field(default_factory=dict)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    missing_indicators: list[str] = field(default_factory=list)
    # Appraisal only: points set directly by the appraiser (one entry per row that sets them).
    adjusted_points: list[dict[str, Any]] = field(default_factory=list)
    # CSV with several units: the indicators each unit has no row for.
    missing_by_unit: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.file_name = unicodedata.normalize("NFC", self.file_name)

    def refuse(
        self,
        sheet: str,
        row: int,
        column: str,
        rule: str,
        message: str,
        column_label: str | None = None,
        **extra: Any,
    ) -> None:
        where = locate(self.file_name, sheet, row, column_label or column)
        self.rejected.append(
            {
                "file_name": self.file_name,
                "sheet": sheet,
                "row_number": row,
                "column_name": column,
                "rule": rule,
                "message": f"{where}: {message}",
                **extra,
            }
        )

    def sort_rejected(self) -> None:
        """Refusals in reading order: sheet, row, then column (A before B before AA)."""
        self.rejected.sort(key=lambda r: (r["sheet"], r["row_number"], _column_key(r)))


def locate(file_name: str, sheet: str, row: int, column: str) -> str:
    """``file · trang 'sheet' · dòng 13 · cột G``; parts that do not apply (a CSV has no sheet,
    an unreadable file has no cell) are left out."""
    parts = [file_name]
    if sheet:
        parts.append(f"trang '{sheet}'")
    if row:
        parts.append(f"dòng {row}")
    if column:
        parts.append(f"cột {column}")
    return " · ".join(parts)


def _column_key(row: dict[str, Any]) -> tuple[int, int]:
    letters = "".join(c for c in str(row["column_name"] or "") if "A" <= c <= "Z")
    return (len(letters), column_index(letters) if letters else -1)


def open_workbook(path: Path):
    """Open a workbook read-only with cached formula results (``#DIV/0!`` stays visible). The
    sheets' uncached formulas and merged ranges are attached as ``book.dti_facts``.

    A plain workbook (numbers and strings only, as the templates are filled in) is read straight
    from its XML by :class:`~pipelines.workbook.fastbook.FastBook`, which offers the same API
    and gives the same values (~5× faster); anything else goes through openpyxl."""
    try:
        return FastBook(path)
    except NotPlain:
        return open_with_openpyxl(path)


def open_with_openpyxl(path: Path):
    """:func:`open_workbook` through openpyxl, whatever the file holds (within the size budget).
    The path is kept as ``book.dti_path``, to evaluate the formulas the reader takes."""
    _check_budget(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise WorkbookError(
            path.name,
            "unreadable_file",
            f"không đọc được tệp Excel ({type(exc).__name__}: {exc})",
            sheet="",
            row=0,
            column="",
        ) from exc
    book.dti_facts = workbook_facts(path)
    book.dti_path = Path(path)
    return book


def _check_budget(path: Path) -> None:
    """Refuse a workbook beyond the size budget or with a part holding more than it declares
    (:func:`~pipelines.workbook.structure.archive_problem`); a file that is not an archive is left
    for openpyxl to report."""
    try:
        with zipfile.ZipFile(path) as archive:
            beyond = archive_problem(archive)
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    if beyond:
        raise WorkbookError(Path(path).name, *beyond, sheet="", row=0, column="")


def read_meta_cells(book, file_name: str) -> dict[str, tuple[int, str]]:
    """The ``_meta`` sheet as ``key → (Excel row, value)`` (the value is in column B)."""
    if META_SHEET not in book.sheetnames:
        raise WorkbookError(
            file_name, "missing_meta", f"thiếu trang ẩn '{META_SHEET}' (tệp không lập từ mẫu DTI)"
        )
    found: dict[str, tuple[int, str]] = {}
    for row_number, cells in enumerate(book[META_SHEET].iter_rows(values_only=True), start=1):
        if cells and cells[0]:
            value = cells[1] if len(cells) > 1 else None
            text = unicodedata.normalize("NFC", str(value if value is not None else ""))
            if len(text) > MAX_CELL_CHARS:
                raise WorkbookError(
                    file_name,
                    "text_too_long",
                    too_long_message("B", row_number, len(text)),
                    row=row_number,
                    column="B",
                )
            found.setdefault(str(cells[0]).strip(), (row_number, text))
    return found


def read_meta(book, file_name: str) -> dict[str, str]:
    """The hidden identification sheet of a workbook (format, kind, framework, unit, year)."""
    return {key: value for key, (_, value) in read_meta_cells(book, file_name).items()}


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


def formula_results(
    book, sheet_name: str, facts: SheetFacts, columns: tuple[str | None, ...]
) -> dict[str, object]:
    """What each formula with a stored result in ``columns`` of the sheet evaluates to (cell →
    value, or :data:`~pipelines.workbook.formula_check.UNCHECKED`); empty when there is none."""
    wanted = {c for c in columns if c}
    refs = [ref for ref in facts.cached_formulas if ref.rstrip("0123456789") in wanted]
    path = getattr(book, "dti_path", None)
    if not refs:
        return {}
    if path is None:
        return dict.fromkeys(refs, UNCHECKED)
    n_formulas = sum(
        len(f.cached_formulas) + len(f.uncached_formulas)
        for f in getattr(book, "dti_facts", {}).values()
    )
    return evaluate_cells(path, sheet_name, refs, n_formulas)


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


def cell_structure_problem(
    facts: SheetFacts,
    column: str,
    row: int,
    formula: str | None,
    stored: object = None,
    computed: dict[str, object] | None = None,
) -> tuple[str, str] | None:
    """Why a value cell cannot be read at all — inside a merged range over several rows, a
    formula saved without its result, or with a result (``stored``) that is not what the formula
    gives (``computed``, :func:`formula_results`) — as (rule, message); None when it can."""
    merged = facts.merged_range_of(column, row)
    if merged:
        return (
            "merged_cell",
            f"ô {column}{row} nằm trong vùng ô gộp {merged} trải trên nhiều dòng; "
            "bỏ gộp ô và nhập giá trị riêng cho từng dòng",
        )
    if formula:
        shown = formula if formula != "=" else "(công thức dùng chung)"
        return (
            "formula_without_result",
            f"ô có công thức {shown} nhưng không có kết quả đã tính (tệp không được lưu lại "
            "bằng Excel); mở tệp bằng Excel rồi lưu lại, hoặc nhập số trực tiếp",
        )
    ref = f"{column}{row}"
    if computed and ref in computed:
        text = facts.cached_formulas.get(ref, "")
        shown = text if text != "=" else "(công thức dùng chung)"
        result = computed[ref]
        library_error = result in EXCEL_ERRORS and not same_result(stored, result)
        if result is UNCHECKED or library_error:  # an error may be the library's, not Excel's
            return (
                "formula_unchecked",
                f"ô có công thức {shown} mà chương trình không tính lại được để đối chiếu kết quả "
                "lưu trong tệp (hàm không hỗ trợ, tham chiếu vòng hoặc ra tệp khác, hay tệp có "
                "quá nhiều công thức); nhập số trực tiếp",
            )
        if not same_result(stored, result):
            return (
                "formula_result_mismatch",
                f"ô có công thức {shown}, kết quả lưu trong tệp là '{raw_text(stored)}' nhưng "
                f"công thức cho '{raw_text(result)}'; mở tệp bằng Excel, tính lại rồi lưu, hoặc "
                "nhập số trực tiếp",
            )
    return None


def hidden_by_format(cell, column: str, row: int) -> tuple[str, str] | None:
    """A filled cell whose number format shows nothing (``;;;``: every section empty), as
    (rule, message); None when what it holds is shown."""
    number_format = str(getattr(cell, "number_format", None) or "")
    if ";" not in number_format or number_format.replace(";", "").strip():
        return None
    if not is_filled(cell_value(cell)):
        return None
    return (
        "hidden_value",
        f"ô {column}{row} có định dạng số '{number_format}' làm giá trị không hiện trên trang; "
        "chỉ đọc số liệu đơn vị nhìn thấy — bỏ định dạng đó (Format Cells → General)",
    )


def check_value(node: Node, raw: object) -> tuple[float | None, tuple[str, str] | None]:
    """Read one raw value for ``node``: the number (None = blank) and the problem, if any."""
    reading: CellReading = read_number(raw, yes_no=_is_yes_no(node))
    if reading.rule:
        return None, (reading.rule, reading.message or "")
    return reading.value, _range_problem(node, reading.value)


def refuse_percent_scale_mismatch(
    parsed: ParsedWorkbook, readings: Iterable[tuple[Node, float, dict[str, Any] | None]]
) -> None:
    """Percentages of one file (one unit) entered on the other scale are refused, not rescaled.

    Rule, per declared scale, over the file's percentage values (accepted, or refused only as
    out of range), when there are at least two of them:

    - scale 100 (0–100): every value ≤ 1 and at least one strictly between 0 and 1 → the file is
      on 0–1; each value above 0 is refused (0 means the same on both scales and is kept);
    - scale 1 (0–1): at least one value above 1 and none above 100 → the file is on 0–100; each
      accepted value above 0 is refused as well (the values above 1 already are, as out of range).

    The message gives the value the unit probably meant, so the fix is one edit.
    """
    readings = list(readings)
    for scale in (100.0, 1.0):
        mine = [(n, v, e) for n, v, e in readings if float(n.percent_scale or 0) == scale]
        values = [v for _, v, _ in mine]
        if len(values) < 2:
            continue
        if scale == 100.0:
            other = all(v <= 1 for v in values) and any(0 < v < 1 for v in values)
        else:
            other = any(v > 1 for v in values) and all(v <= 100 for v in values)
        if not other:
            continue
        for node, value, entry in mine:
            if entry is None or value == 0:
                continue
            parsed.accepted.remove(entry)
            # the value as stored, then the suggestion as the unit would type it (85,5)
            if scale == 100.0:
                detail = (
                    f"tỷ lệ {vn_value(value)} có vẻ nhập theo thang 0–1 "
                    "(mọi tỷ lệ trong tệp đều ≤ 1) "
                    f"trong khi chỉ số dùng thang 0–100; nếu là {vn_value(value * 100)}% thì nhập "
                    f"{vn_value(value * 100)}"
                )
            else:
                detail = (
                    f"tỷ lệ {vn_value(value)} có vẻ nhập theo thang 0–100 (tệp có tỷ lệ lớn hơn 1) "
                    f"trong khi chỉ số dùng thang 0–1; nếu là {vn_value(value)}% thì nhập "
                    f"{vn_value(value / 100)}"
                )
            who = f"đơn vị {entry['unit_id']}, " if entry.get("unit_id") else ""
            parsed.refuse(
                entry["sheet"],
                entry["row_number"],
                entry["column_name"],
                "percent_scale_mismatch",
                f"{who}chỉ số {node.id}: {detail}",
                column_label=entry.get("column_label"),
                **{k: entry[k] for k in ("unit_id", "indicator_id", "raw_text") if k in entry},
            )


def _is_yes_no(node: Node) -> bool:
    return node.rule is not None and node.rule.kind == "yesno"


def _range_problem(node: Node, value: float | None) -> tuple[str, str] | None:
    if value is None:
        return None
    if value < 0:
        return "negative_value", f"giá trị {vn_value(value)} âm"
    if node.rule is not None and node.rule.kind == "direct" and value > node.max_points:
        maximum = vn_value(node.max_points)
        return "above_maximum", f"điểm {vn_value(value)} vượt điểm tối đa {maximum}"
    if node.percent_scale and value > node.percent_scale:
        if node.percent_scale == 1:
            return "percent_out_of_range", f"tỷ lệ {vn_value(value)} vượt 1 (chỉ số dùng thang 0–1)"
        scale = vn_value(node.percent_scale)
        return "percent_out_of_range", f"tỷ lệ {vn_value(value)} vượt {scale}%"
    if _is_yes_no(node) and value not in (0.0, 1.0):
        return "not_yes_no", f"giá trị {vn_value(value)} không phải Có/Không"
    return None
