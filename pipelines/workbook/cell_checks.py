"""Checks of one value cell of a received workbook: its structure (merged, formula without or
with a wrong result, hidden by its number format), its value against the indicator's rule, and
the file-wide percent-scale check."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pipelines.framework.model import Node
from pipelines.text.labels import vn_value
from pipelines.workbook.cells import EXCEL_ERRORS, CellReading, read_number
from pipelines.workbook.formula_check import UNCHECKED, evaluate_cells, same_result
from pipelines.workbook.parsed import ParsedWorkbook
from pipelines.workbook.sheet_table import (
    cell_value,
    is_filled,
    raw_text,
)
from pipelines.workbook.structure import (
    SheetFacts,
)


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
