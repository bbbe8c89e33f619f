"""The rows of one CSV submission read one by one: each row located (line, column) and taken or
refused, the units, levels and years it covers, and the per-unit checks once every row is read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipelines.framework.model import Framework, Node
from pipelines.text.labels import vn_value
from pipelines.workbook.cells import read_number
from pipelines.workbook.csv_cells import (
    cell_text,
    extra_fields_message,
    parse_year,
)
from pipelines.workbook.layout import column_letter
from pipelines.workbook.read import (
    ParsedWorkbook,
    check_value,
    refuse_percent_scale_mismatch,
)

# (unit_id, year) → (level, framework of that level), or None when the registry has no such unit.
Resolver = Callable[[str, int], tuple[str, Framework] | None]


@dataclass
class CsvSubmission:
    """What one CSV file contained, with the units, levels and years it covers."""

    kind: str  # self | appraisal
    parsed: ParsedWorkbook
    units: set[str] = field(default_factory=set)
    levels: set[str] = field(default_factory=set)
    years: set[int] = field(default_factory=set)
    frameworks: set[tuple[str, str]] = field(default_factory=set)


class CsvReading:
    """Row-by-row state of one CSV: seen keys, per-unit percentages, units found."""

    def __init__(
        self,
        submission: CsvSubmission,
        positions: dict[str, int],
        labels: dict[str, str],
        resolve: Resolver,
        expected_year: int | None,
        width: int,
    ):
        self.s, self.parsed = submission, submission.parsed
        self.positions, self.labels = positions, labels
        self.resolve, self.expected_year, self.width = resolve, expected_year, width
        self.seen: dict[tuple[str, str], int] = {}
        self.leaves_by_unit: dict[str, list[str]] = {}
        self.percents: dict[str, list[tuple[Node, float, dict[str, Any] | None]]] = {}

    def refuse(self, line: int, key: str | None, rule: str, message: str, **extra: Any) -> None:
        column = column_letter(self.positions[key]) if key in self.positions else ""
        label = self.labels.get(key or "", column)
        self.parsed.refuse("", line, column, rule, message, column_label=label, **extra)

    def get(self, fields: list[str], key: str) -> str:
        return cell_text(fields, self.positions.get(key))

    def row(self, line: int, fields: list[str]) -> None:
        if not any(f.strip() for f in fields):
            return
        unit_id, indicator = self.get(fields, "unit_id"), self.get(fields, "indicator_id")
        value_key = "value" if self.s.kind == "self" else "appraised_value"
        raw = self.get(fields, value_key) or None
        base = {"unit_id": unit_id or None, "indicator_id": indicator or None, "raw_text": raw}
        if len(fields) > self.width:
            extra = column_letter(self.width)
            self.parsed.refuse(
                "",
                line,
                extra,
                "extra_fields",
                extra_fields_message(len(fields), self.width),
                **base,
            )
            return
        if self.s.kind == "appraisal" and not unit_id and not indicator:
            if raw or self.get(fields, "appraised_points"):
                self.refuse(
                    line,
                    "unit_id",
                    "missing_unit_id",
                    "dòng có giá trị thẩm định nhưng để trống mã đơn vị và mã chỉ số",
                    **base,
                )
            return
        if not unit_id:
            self.refuse(line, "unit_id", "missing_unit_id", "để trống mã đơn vị", **base)
            return
        year = self._year(line, fields, base)
        if year is None:
            return
        resolved = self.resolve(unit_id, year)
        if resolved is None:
            self.refuse(
                line,
                "unit_id",
                "unknown_unit",
                f"đơn vị '{unit_id}' không có trong danh mục năm {year}",
                **base,
            )
            return
        level, framework = resolved
        if not framework.valid_for(year):
            self.refuse(
                line,
                "year",
                "framework_not_valid",
                f"bộ chỉ số {framework.id} không áp dụng cho năm {year}",
                **base,
            )
            return
        declared = self.get(fields, "framework_version")
        if declared and declared != framework.version:
            self.refuse(
                line,
                "framework_version",
                "framework_mismatch",
                f"dòng lập theo bộ chỉ số phiên bản '{declared}', năm {year} áp dụng "
                f"{framework.id} ({framework.version})",
                **base,
            )
            return
        self.s.units.add(unit_id)
        self.s.levels.add(level)
        self.s.years.add(year)
        self.s.frameworks.add((framework.id, framework.version))
        self.leaves_by_unit.setdefault(unit_id, framework.leaf_ids())
        if not indicator:
            self.refuse(
                line,
                "indicator_id",
                "missing_indicator_id",
                f"đơn vị {unit_id}: để trống mã chỉ số",
                **base,
            )
            return
        node = framework.nodes.get(indicator)
        if node is None or not node.is_leaf or indicator == framework.root_id:
            self.refuse(
                line,
                "indicator_id",
                "unknown_indicator",
                f"mã chỉ số '{indicator}' không có trong bộ chỉ số {framework.id}",
                **base,
            )
            return
        if (unit_id, indicator) in self.seen:
            self.refuse(
                line,
                "indicator_id",
                "duplicate_indicator",
                f"đơn vị {unit_id}, chỉ số {indicator} lặp lại "
                f"(đã có ở dòng {self.seen[(unit_id, indicator)]})",
                **base,
            )
            return
        self.seen[(unit_id, indicator)] = line
        where = {"unit_id": unit_id, "level": level, "year": year, "indicator_id": indicator}
        if self.s.kind == "self":
            self._self_row(line, fields, node, raw, base, where)
        else:
            self._appraisal_row(line, fields, node, raw, base, where)

    def _year(self, line: int, fields: list[str], base: dict[str, Any]) -> int | None:
        text = self.get(fields, "year")
        if not text and "year" not in self.positions and self.expected_year is not None:
            return self.expected_year
        year = parse_year(text)
        if year is None:
            self.refuse(line, "year", "bad_year", f"năm '{text}' không hợp lệ", **base)
            return None
        if self.expected_year is not None and year != self.expected_year:
            self.refuse(
                line,
                "year",
                "wrong_year",
                f"dòng của năm {year}, không phải năm {self.expected_year}",
                **base,
            )
            return None
        return year

    def _self_row(self, line, fields, node: Node, raw, base, where) -> None:
        value, problem = check_value(node, raw)
        if problem and problem[0] == "percent_out_of_range" and value is not None:
            self.percents.setdefault(where["unit_id"], []).append((node, value, None))
        if problem:
            self.refuse(
                line,
                "value",
                problem[0],
                f"đơn vị {where['unit_id']}, chỉ số {node.id}: {problem[1]}",
                **base,
            )
            return
        entry = {
            "sheet": "",
            "row_number": line,
            "column_name": column_letter(self.positions["value"]),
            "column_label": self.labels["value"],
            **where,
            "kind": "self",
            "value": value,
            "reason": None,
            "raw_text": raw,
            "evidence": self.get(fields, "evidence") or None,
            "self_points": self._self_points(line, fields, node, base),
        }
        self.parsed.accepted.append(entry)
        if node.percent_scale and value is not None:
            self.percents.setdefault(where["unit_id"], []).append((node, value, entry))

    def _self_points(self, line, fields, node: Node, base) -> float | None:
        text = self.get(fields, "self_points")
        if not text:
            return None
        reading = read_number(text)
        if reading.rule is None and (
            reading.value is None or 0 <= reading.value <= node.max_points
        ):
            return reading.value
        detail = reading.message or (
            f"điểm {vn_value(reading.value)} ngoài khoảng 0–{vn_value(node.max_points)}"
        )
        self.refuse(
            line,
            "self_points",
            "invalid_self_points",
            f"đơn vị {base['unit_id']}, chỉ số {node.id}, điểm tự đánh giá: {detail}",
            **{**base, "raw_text": text},
        )
        return None

    def _appraisal_row(self, line, fields, node: Node, raw, base, where) -> None:
        reason = self.get(fields, "reason")
        points_text = self.get(fields, "appraised_points")
        unit_id = where["unit_id"]
        if not (raw or points_text or reason):
            return
        if not reason:
            self.refuse(
                line,
                "reason",
                "missing_reason",
                f"đơn vị {unit_id}, chỉ số {node.id}: thiếu lý do điều chỉnh",
                **base,
            )
            return
        if not (raw or points_text):
            key = "appraised_value" if "appraised_value" in self.positions else "appraised_points"
            self.refuse(
                line,
                key,
                "missing_appraised_value",
                f"đơn vị {unit_id}, chỉ số {node.id}: có lý do điều chỉnh nhưng để trống giá trị "
                "thẩm định (và điểm thẩm định); giá trị tự đánh giá được giữ nguyên — nhập giá "
                "trị (hoặc điểm) thẩm định, hoặc xóa dòng",
                **base,
            )
            return
        if raw:
            value, problem = check_value(node, raw)
            if problem:
                self.refuse(
                    line,
                    "appraised_value",
                    problem[0],
                    f"đơn vị {unit_id}, chỉ số {node.id}: {problem[1]}",
                    **base,
                )
            else:
                self.parsed.accepted.append(
                    {
                        "sheet": "",
                        "row_number": line,
                        "column_name": column_letter(self.positions["appraised_value"]),
                        **where,
                        "kind": "appraised",
                        "value": value,
                        "reason": reason,
                        "raw_text": raw,
                    }
                )
        if points_text:
            reading = read_number(points_text)
            points, problem = (
                reading.value,
                ((reading.rule, reading.message or "") if reading.rule else None),
            )
            if problem is None and points is not None and points < 0:
                problem = ("negative_value", f"điểm {vn_value(points)} âm")
            if problem is None and points is not None and points > node.max_points:
                maximum = vn_value(node.max_points)
                problem = ("above_maximum", f"điểm {vn_value(points)} vượt điểm tối đa {maximum}")
            if problem:
                self.refuse(
                    line,
                    "appraised_points",
                    problem[0],
                    f"đơn vị {unit_id}, chỉ số {node.id}: điểm thẩm định: {problem[1]}",
                    **{**base, "raw_text": points_text},
                )
            else:
                self.parsed.adjusted_points.append(
                    {
                        "sheet": "",
                        "row_number": line,
                        "column_name": column_letter(self.positions["appraised_points"]),
                        **where,
                        "raw_text": points_text,
                        "points": points,
                        "reason": reason,
                    }
                )

    def finish(self) -> None:
        for readings in self.percents.values():
            refuse_percent_scale_mismatch(self.parsed, readings)
        if self.s.kind == "self":
            seen_by_unit: dict[str, set[str]] = {}
            for unit_id, indicator in self.seen:
                seen_by_unit.setdefault(unit_id, set()).add(indicator)
            self.parsed.missing_by_unit = {
                unit: [i for i in leaves if i not in seen_by_unit.get(unit, set())]
                for unit, leaves in self.leaves_by_unit.items()
            }
        self.parsed.sort_rejected()
