"""Frameworks and observations from files, for scoring outside the warehouse (``dti score``).

Frameworks: the project's YAML, or a COINr ``iMeta`` CSV. Observations: a long CSV
(``unit_id,year,indicator_id,value``) or a COINr wide ``iData`` CSV (``uCode``, optional ``Time``,
one column per indicator; other columns such as ``uName``, groups and denominators are ignored);
a panel (several ``Time`` values) gives one year per value. Either may give a unit's value at any
node of the framework instead of the leaves below it (:mod:`pipelines.scoring.given_nodes`: an
index from 0 to 1, the node's points ÷ its maximum). Both ways: :func:`write_coinr` writes
a framework (and data) as COINr tables, :func:`write_framework_yaml` any framework as YAML.

Every command that reads indicator values from a file (``dti score``, the analyses and ``dti
coinr`` in file mode) goes through :func:`read_data_file`, which reads with the intake's CSV rules
(:mod:`pipelines.workbook.csv_cells`) and refuses a bad file with one located line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import yaml

from pipelines.framework.coinr import read_imeta, sidecar_path, write_idata, write_imeta
from pipelines.framework.load import load_framework
from pipelines.framework.model import Framework
from pipelines.framework.to_mapping import framework_to_mapping
from pipelines.scoring.given_nodes import mixed_levels, non_leaf_ids, out_of_range
from pipelines.workbook.csv_cells import (
    MISSING_MARKERS,
    CsvFileError,
    CsvTable,
    Fault,
    cell_text,
    find_columns,
    header_key,
    header_title,
    parse_year,
    read_csv_table,
    read_data_number,
    refuse_faults,
)

LONG_COLUMNS = ("unit_id", "year", "indicator_id", "value")
VALUES_SCHEMA = {"unit_id": pl.String, "year": pl.Int32, "node_id": pl.String, "value": pl.Float64}


# A refused framework or data file: one located line, whichever reader refused it.
DataFileError = CsvFileError


@dataclass
class DataFile:
    """What a data file holds: ``unit_id, year, node_id, value`` and the units' names (iData's
    ``uName``; empty for a long CSV)."""

    values: pl.DataFrame
    names: dict[str, str] = field(default_factory=dict)


def read_framework_file(path: str | Path) -> Framework:
    """YAML (``.yaml``/``.yml``) or COINr ``iMeta`` (``.csv``)."""
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        return load_framework(path)
    if path.suffix.lower() == ".csv":
        return read_imeta(path)
    raise DataFileError(
        str(path), "bad_framework_file", "framework must be .yaml/.yml or a COINr iMeta .csv"
    )


def read_observations(path: str | Path, framework: Framework, nodes: bool = False) -> pl.DataFrame:
    """``unit_id, year, node_id, value`` from a long or a COINr wide CSV (``NA`` = missing); see
    :func:`read_data_file`."""
    return read_data_file(path, framework, nodes).values


def read_data_file(path: str | Path, framework: Framework, nodes: bool = False) -> DataFile:
    """Read a long CSV (``unit_id,year,indicator_id,value``, Vietnamese headers too) or a COINr
    iData (``uCode``, optional ``Time`` and ``uName``, one column per indicator) with the intake's
    CSV rules (:mod:`pipelines.workbook.csv_cells`).

    Refused with one located line (:class:`DataFileError`; the first fault, with the count and
    lines of the others): encoding, an empty or header-only file, rows with extra or missing
    fields, a blank unit id, year or indicator, a year that is not four digits, a value that is
    not a finite number, indicators not in ``framework`` (all of them, with their lines), a
    (unit, year, indicator) given twice (both lines), a value at a node above the leaves outside
    [0, 1], a unit giving a node and something below it (both ids and lines). Blank and ``NA``
    are missing values; a node above the leaves with a missing value gives nothing. Values at
    nodes above the leaves are read with ``nodes`` (``dti score``); without it they are refused
    (the caller scores leaves only)."""
    table = read_csv_table(path)
    positions = find_columns(table.header, LONG_COLUMNS)
    if all(key in positions for key in LONG_COLUMNS):
        return _read_long(table, positions, framework, nodes)
    keys = [header_key(title) for title in table.header]
    if "ucode" in keys:
        return _read_wide(table, keys, framework, nodes)
    separators = "" if len(table.header) > 1 else " (dấu phân cách cột phải là ',', ';' hoặc tab)"
    raise DataFileError(
        table.name,
        "missing_column",
        f"dòng tiêu đề '{', '.join(header_title(t) for t in table.header)[:80]}' không có các cột "
        f"{', '.join(LONG_COLUMNS)} (tệp dạng dài) hay cột uCode (iData của COINr){separators}",
        line=1,
    )


def _value(
    text: str, framework: Framework, indicator: str
) -> tuple[float | None, tuple[str, str] | None]:
    if text in MISSING_MARKERS:
        return None, None
    node = framework.nodes[indicator]
    reading = read_data_number(text, yes_no=node.rule is not None and node.rule.kind == "yesno")
    if reading.rule:
        return None, (reading.rule, reading.message or "")
    if node.children and reading.value is not None and out_of_range(reading.value):
        return None, (
            "node_value_out_of_range",
            f"giá trị {text} không nằm trong khoảng 0–1: giá trị ở chỉ số {indicator} (không phải "
            f"chỉ số lá) là chỉ số điểm ÷ điểm tối đa ({node.max_points:g}), như Bộ công bố",
        )
    return reading.value, None


def _mixed_faults(
    given: dict[tuple[str, int | None, str], tuple[int, str]], framework: Framework
) -> list[Fault]:
    """A fault for every unit giving a node and something below it; ``given``: (unit, year,
    node) with a value → (line, column label)."""
    faults = []
    for unit, year, node_id, below in mixed_levels(given, framework):
        line, column = given[(unit, year, below)]
        node_line, node_column = given[(unit, year, node_id)]
        where = f"dòng {node_line}" if node_line != line else f"cột {node_column}"
        faults.append(
            Fault(
                line,
                column,
                "node_and_descendant",
                f"đơn vị {unit}"
                + (f", năm {year}" if year is not None else "")
                + f": có cả giá trị của chỉ số {node_id} ({where}) và của chỉ số {below} thuộc "
                f"nó — mỗi đơn vị chỉ cho một trong hai",
            )
        )
    return faults


def _read_long(
    table: CsvTable, positions: dict[str, int], framework: Framework, nodes: bool
) -> DataFile:
    above = non_leaf_ids(framework)
    leaves = set(framework.leaf_ids()) | (above if nodes else set())
    label = {key: table.label(index) for key, index in positions.items()}
    faults = list(table.ragged)
    unknown: dict[str, list[int]] = {}
    seen: dict[tuple[str, int, str], int] = {}
    given: dict[tuple[str, int | None, str], tuple[int, str]] = {}
    rows: list[tuple[str, int, str, float | None]] = []
    columns = [positions[key] for key in LONG_COLUMNS]
    for line, fields in table.rows:
        unit, year_text, indicator, text = (cell_text(fields, at) for at in columns)
        blank = (
            "unit_id"
            if not unit
            else "year"
            if not year_text
            else None
            if indicator
            else "indicator_id"
        )
        if blank is not None:
            faults.append(Fault(line, label[blank], f"missing_{blank}", _BLANK[blank]))
            continue
        year = parse_year(year_text)
        if year is None:
            faults.append(Fault(line, label["year"], "bad_year", f"năm '{year_text}' không hợp lệ"))
            continue
        if indicator not in leaves:
            unknown.setdefault(indicator, []).append(line)
            continue
        value, problem = _value(text, framework, indicator)
        if problem:
            message = f"đơn vị {unit}, chỉ số {indicator}: {problem[1]}"
            faults.append(Fault(line, label["value"], problem[0], message))
            continue
        key = (unit, year, indicator)
        if key in seen:
            faults.append(
                Fault(
                    line,
                    label["indicator_id"],
                    "duplicate_indicator",
                    f"đơn vị {unit}, năm {year}, chỉ số {indicator} lặp lại: dòng {seen[key]} "
                    f"và dòng {line}",
                )
            )
            continue
        seen[key] = line
        if value is not None:
            given[key] = (line, label["indicator_id"])
        rows.append((unit, year, indicator, value))
    if unknown:
        faults.append(_unknown_fault(unknown, label["indicator_id"], framework, above))
    faults.extend(_mixed_faults(given, framework))
    refuse_faults(table.name, faults)
    values = pl.DataFrame(rows, schema=VALUES_SCHEMA, orient="row")
    return DataFile(values)


_BLANK = {
    "unit_id": "để trống mã đơn vị",
    "year": "để trống năm",
    "indicator_id": "để trống mã chỉ số",
}


def _unknown_fault(
    unknown: dict[str, list[int]], column: str, framework: Framework, above: set[str]
) -> Fault:
    listed = "; ".join(
        f"'{code}' (dòng {', '.join(str(n) for n in lines[:5])}{', …' if len(lines) > 5 else ''})"
        for code, lines in unknown.items()
    )
    inner = sorted(code for code in unknown if code in above)
    why = (
        f" ({', '.join(inner)} không phải chỉ số lá: lệnh này chỉ đọc giá trị ở chỉ số lá, "
        "giá trị ở chỉ số bất kỳ do dti score đọc)"
        if inner
        else ""
    )
    return Fault(
        min(min(lines) for lines in unknown.values()),
        column,
        "unknown_indicator",
        f"{len(unknown)} mã chỉ số không có trong bộ chỉ số {framework.id}: {listed}{why}",
    )


def _read_wide(table: CsvTable, keys: list[str], framework: Framework, nodes: bool) -> DataFile:
    unit_at = keys.index("ucode")
    year_at = keys.index("time") if "time" in keys else None
    name_at = keys.index("uname") if "uname" in keys else None
    above = non_leaf_ids(framework)
    leaves = set(framework.leaf_ids()) | above
    columns: dict[str, int] = {}
    for index, title in enumerate(table.header):
        code = header_title(title)
        if code not in leaves:
            continue
        if code in above and not nodes:
            raise DataFileError(
                table.name,
                "node_column",
                f"cột {code} là chỉ số không phải chỉ số lá: lệnh này chỉ đọc giá trị ở chỉ số "
                "lá, giá trị ở chỉ số bất kỳ do dti score đọc",
                line=1,
                column=table.label(index),
            )
        if code in columns:
            raise DataFileError(
                table.name,
                "duplicate_column",
                f"chỉ số {code} có hai cột: {table.label(columns[code])} và {table.label(index)}",
                line=1,
                column=table.label(index),
            )
        columns[code] = index
    if not columns:
        raise DataFileError(
            table.name,
            "missing_column",
            f"không có cột nào mang mã chỉ số của bộ chỉ số {framework.id}",
            line=1,
        )
    faults = list(table.ragged)
    seen: dict[tuple[str, int | None], int] = {}
    names: dict[str, str] = {}
    keyed: list[tuple[str, int | None, list[str]]] = []
    for line, fields in table.rows:
        unit = cell_text(fields, unit_at)
        if not unit:
            faults.append(Fault(line, table.label(unit_at), "missing_unit_id", _BLANK["unit_id"]))
            continue
        year: int | None = None
        if year_at is not None:
            year_text = cell_text(fields, year_at)
            year = parse_year(year_text)
            if year is None:
                message = f"năm '{year_text}' không hợp lệ" if year_text else _BLANK["year"]
                faults.append(Fault(line, table.label(year_at), "bad_year", message))
                continue
        if (unit, year) in seen:
            faults.append(
                Fault(
                    line,
                    table.label(unit_at),
                    "duplicate_unit",
                    f"đơn vị {unit}"
                    + (f", năm {year}" if year is not None else "")
                    + f" lặp lại: dòng {seen[(unit, year)]} và dòng {line}",
                )
            )
            continue
        seen[(unit, year)] = line
        if name_at is not None and cell_text(fields, name_at) not in MISSING_MARKERS:
            names[unit] = cell_text(fields, name_at)
        keyed.append((unit, year, [cell_text(fields, i) for i in columns.values()]))
    rows: list[tuple[str, int | None, str, float | None]] = []
    given: dict[tuple[str, int | None, str], tuple[int, str]] = {}
    for position, (code, index) in enumerate(columns.items()):
        for unit, year, texts in keyed:
            value, problem = _value(texts[position], framework, code)
            if problem:
                line = seen[(unit, year)]
                message = f"đơn vị {unit}, chỉ số {code}: {problem[1]}"
                faults.append(Fault(line, table.label(index), problem[0], message))
                continue
            if value is not None:
                given[(unit, year, code)] = (seen[(unit, year)], table.label(index))
            rows.append((unit, year, code, value))
    faults.extend(_mixed_faults(given, framework))
    refuse_faults(table.name, faults)
    values = pl.DataFrame(rows, schema=VALUES_SCHEMA, orient="row")
    return DataFile(values, names)


def units_of(values: pl.DataFrame, group_id: str = "all") -> pl.DataFrame:
    """Every (unit, year) present in the data, all in one comparison group."""
    return (
        values.select("unit_id", "year").unique().with_columns(pl.lit(group_id).alias("group_id"))
    )


def write_coinr(
    framework: Framework,
    out_dir: str | Path,
    values: pl.DataFrame | None = None,
    names: dict[str, str] | None = None,
) -> dict[str, object]:
    """``iMeta.csv`` (+ ``iMeta.dti.json``) and, with values, ``iData.csv`` in ``out_dir``.

    Returns the paths written and the notes of :func:`write_imeta` (what COINr would refuse)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    imeta = out / "iMeta.csv"
    written: dict[str, object] = {
        "iMeta": imeta,
        "sidecar": sidecar_path(imeta),
        "notes": write_imeta(framework, imeta),
    }
    if values is not None:
        written["iData"] = out / "iData.csv"
        written["rows"] = write_idata(values, framework, out / "iData.csv", names)
    return written


def write_framework_yaml(framework: Framework, path: str | Path) -> Path:
    """Any framework (e.g. read from a COINr iMeta) as the project's YAML."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump(
            {"framework": framework_to_mapping(framework)},
            allow_unicode=True,
            sort_keys=False,
            width=100,
        ),
        encoding="utf-8",
    )
    return path
