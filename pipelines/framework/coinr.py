"""COINr's tables (``iMeta``, ``iData``) ↔ this project's frameworks and observations.

COINr (the JRC's R package) describes a composite index as rows: ``Level`` (1 = indicator, up to
the index), ``iCode``, ``iName``, ``Direction`` (1 / −1), ``Weight`` (relative to siblings),
``Parent``, ``Type`` (Indicator, Aggregate, Denominator, Group, Other) and optional ``Target``.
Weights become maximum points on the index scale (default 100), so summing children's points is
COINr's weighted arithmetic mean, scaled. Under the ``points`` method an indicator with a
``Target`` scores ``min(x / target, 1) × max`` (lower-is-better: ``target / x``); without one it
scores relative to the best unit.

Writing (:func:`write_imeta`, :func:`write_idata`) is lossless for this project: next to COINr's
own columns (``Weight`` = the node's maximum points, which COINr rescales within siblings) the
iMeta carries ``dti_*`` columns (node type, exact maximum, rule, flags, goalposts, order …) that
COINr ignores, and a sidecar ``<stem>.dti.json`` holds what has no row (scale, version, classes,
views, composites). Reading back both gives a framework with the same content hash, hence the
same scores. Without the extras (a file made by COINr) the weights and targets are used.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.framework.from_mapping import FrameworkError, framework_from_mapping
from pipelines.framework.model import Framework
from pipelines.framework.to_mapping import framework_to_mapping
from pipelines.text.safe_text import write_csv
from pipelines.workbook.csv_cells import (
    MISSING_MARKERS,
    CsvFileError,
    Fault,
    cell_text,
    header_title,
    read_csv_table,
    read_data_number,
    refuse_faults,
)

SCORED_TYPES = ("Indicator", "Aggregate")
IMETA_COLUMNS = [
    "Level",
    "iCode",
    "iName",
    "Direction",
    "Weight",
    "Parent",
    "Type",
    "Unit",
    "Target",
    "dti_type",
    "dti_max_points",
    "dti_rule",
    "dti_flags",
    "dti_goalposts",
    "dti_normalisation",
    "dti_source",
    "dti_percent_scale",
    "dti_rubric",
    "dti_declared_components",
    "dti_order",
]
IMETA_REQUIRED = ("Level", "iCode", "Parent", "Type")
_WHOLE_NUMBERS = ("Level", "Direction", "dti_declared_components", "dti_order")
_NUMBERS = (*_WHOLE_NUMBERS, "Weight", "Target", "dti_max_points", "dti_percent_scale")


def sidecar_path(imeta_path: str | Path) -> Path:
    """``iMeta.csv`` → ``iMeta.dti.json``: the framework-level settings iMeta has no row for."""
    path = Path(imeta_path)
    return path.with_name(f"{path.stem}.dti.json")


def _level_type(level: int, top: int) -> str:
    if level == top:
        return "index"
    return {1: "indicator", 2: "pillar"}.get(level, "group")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def read_imeta_rows(path: str | Path) -> list[dict[str, Any]]:
    """The rows of an ``iMeta`` CSV as dicts (column → text or number; ``NA`` and blank → None),
    in ``dti_order`` when the file has it, read with the intake's CSV rules
    (:mod:`pipelines.workbook.csv_cells`).

    Refused with one located line (:class:`~pipelines.workbook.csv_cells.CsvFileError`): what
    any CSV is refused for (encoding, empty or header-only file, extra or missing fields), a
    missing column of ``Level, iCode, Parent, Type``, a header naming a column twice, a blank
    ``iCode``, ``Level`` or ``Type``, an ``iCode`` given twice (both lines), a number that is not
    a finite number, a ``Level`` (or order) that is not a whole number, a ``Direction`` other
    than 1 or −1."""
    table = read_csv_table(path)
    titles = [header_title(t) for t in table.header]
    missing = [c for c in IMETA_REQUIRED if c not in titles]
    twice = sorted({t for t in titles if titles.count(t) > 1})
    if missing or twice:
        problem = f"thiếu cột {', '.join(missing)}" if missing else f"cột {twice[0]} lặp lại"
        raise CsvFileError(
            table.name,
            "missing_column" if missing else "duplicate_column",
            f"iMeta: {problem} ở dòng tiêu đề (cần: {', '.join(IMETA_REQUIRED)})",
            line=1,
        )
    faults = list(table.ragged)
    seen: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    for line, fields in table.rows:
        row: dict[str, Any] = {}
        for index, title in enumerate(titles):
            text = cell_text(fields, index)
            row[title] = None if text in MISSING_MARKERS else text
            if row[title] is not None and title in _NUMBERS:
                number, problem = _imeta_number(title, text)
                row[title] = number
                if problem:
                    faults.append(Fault(line, table.label(index), problem[0], problem[1]))
        for title in ("iCode", "Level", "Type"):
            index = titles.index(title)
            blank = cell_text(fields, index) in MISSING_MARKERS
            if blank and (title != "Level" or row["Type"] in SCORED_TYPES):
                faults.append(Fault(line, table.label(index), "missing_key", f"để trống {title}"))
        code = row["iCode"]
        if code is not None and code in seen:
            faults.append(
                Fault(
                    line,
                    table.label(titles.index("iCode")),
                    "duplicate_icode",
                    f"iCode {code} lặp lại: dòng {seen[code]} và dòng {line}",
                )
            )
        elif code is not None:
            seen[code] = line
        rows.append(row)
    refuse_faults(table.name, faults)
    if "dti_order" in titles:
        rows.sort(key=lambda r: (r["dti_order"] is None, r["dti_order"] or 0))
    return rows


def _imeta_number(title: str, text: str) -> tuple[float | int | None, tuple[str, str] | None]:
    reading = read_data_number(text)
    if reading.rule or reading.value is None:
        return None, (reading.rule or "not_a_number", f"{title}: {reading.message}")
    value = reading.value
    if title in _WHOLE_NUMBERS:
        if not value.is_integer() or value < (1 if title == "Level" else -1):
            kind = "số nguyên dương" if title == "Level" else "số nguyên"
            return None, ("not_whole_number", f"{title} '{text}' không phải {kind}")
        if title == "Direction" and value not in (1, -1):
            return None, ("bad_direction", f"Direction '{text}' phải là 1 hoặc -1")
        return int(value), None
    return value, None


def read_imeta(path: str | Path, scale: float | None = None) -> Framework:
    """Read an ``iMeta`` CSV (``NA`` = missing; :func:`read_imeta_rows`) into a validated
    framework.

    ``scale`` is the index's maximum points: given, else the sidecar's, else 100.
    """
    path = Path(path)
    rows = {r["iCode"]: r for r in read_imeta_rows(path) if r["Type"] in SCORED_TYPES}
    top = max(int(r["Level"]) for r in rows.values()) if rows else 1
    roots = [code for code, r in rows.items() if r["Parent"] is None]
    if len(roots) != 1:
        raise FrameworkError(str(path), [f"expected one top node without Parent, found {roots}"])
    problems = [
        f"row iCode={code}: Parent '{r['Parent']}' is not an iCode"
        for code, r in rows.items()
        if r["Parent"] is not None and r["Parent"] not in rows
    ]
    if problems:
        raise FrameworkError(str(path), problems)
    children: dict[str, list[str]] = {}
    for code, r in rows.items():
        if r["Parent"] is not None:
            children.setdefault(r["Parent"], []).append(code)

    def node(code: str) -> dict:
        r = rows[code]
        spec: dict[str, Any] = {
            "id": code,
            "type": r.get("dti_type") or _level_type(int(r["Level"]), top),
            "name": r.get("iName") or code,
            "direction": "lower" if r.get("Direction") == -1 else "higher",
        }
        if r.get("dti_max_points") is not None:
            spec["max_points"] = float(r["dti_max_points"])
        else:
            spec["weight"] = float(r["Weight"]) if r.get("Weight") is not None else 1.0
        if r.get("dti_source") is not None:
            spec["source"] = r["dti_source"]
        if r.get("dti_flags"):
            spec["flags"] = [f for f in str(r["dti_flags"]).split(",") if f]
        for column, key in (
            ("dti_percent_scale", "percent_scale"),
            ("dti_rubric", "rubric"),
            ("dti_declared_components", "declared_components"),
        ):
            if r.get(column) is not None:
                spec[key] = r[column]
        if r.get("dti_goalposts"):
            spec["goalposts"] = json.loads(r["dti_goalposts"])
        if r.get("dti_normalisation"):
            spec["normalisation"] = _json_cell(path, code, "dti_normalisation", r)
        if code in children:
            spec["children"] = [node(c) for c in children[code]]
        else:
            target = r.get("Target")
            if r.get("dti_rule"):
                spec["rule"] = json.loads(r["dti_rule"])
            elif target is not None and float(target) > 0:
                spec["rule"] = {"kind": "ratio", "target": float(target)}
            else:
                spec["rule"] = {"kind": "relative_best"}
            if r.get("Unit") is not None:
                spec["unit"] = _text(r["Unit"])
        return spec

    root = rows[roots[0]]
    mapping: dict[str, Any] = {
        "id": path.stem,
        "version": f"iMeta:{path.name}",
        "name": root.get("iName") or roots[0],
        "level": "unit",
        "scale": 100.0,
        "source": {"format": "COINr iMeta", "file": str(path)},
    }
    sidecar = sidecar_path(path)
    if sidecar.exists():
        mapping.update(json.loads(sidecar.read_text(encoding="utf-8")))
    if scale is not None:
        mapping["scale"] = scale
    mapping["root"] = {"id": roots[0], "name": root.get("iName") or roots[0]}
    mapping["tree"] = [node(c) for c in children.get(roots[0], [])]
    return framework_from_mapping(mapping, origin=str(path))


def _json_cell(path: Path, code: str, column: str, row: dict[str, Any]) -> Any:
    """A ``dti_*`` cell holding JSON, refused with the file, row and column when it is not."""
    try:
        return json.loads(row[column])
    except json.JSONDecodeError:
        raise FrameworkError(
            str(path), [f"row iCode={code}: {column} is not JSON: {row[column]!r}"]
        ) from None


def _heights(framework: Framework) -> dict[str, int]:
    """COINr's Level: 1 for indicators, 1 + the highest child level for aggregates."""
    height: dict[str, int] = {}
    for node_id in reversed(list(framework.nodes)):  # children come after their parents
        kids = framework.nodes[node_id].children
        height[node_id] = 1 + max((height[c] for c in kids), default=0)
    return height


def _number(value: float | None) -> str:
    if value is None:
        return "NA"
    return repr(float(value)) if float(value) != int(value) else str(int(value))


def write_imeta(framework: Framework, path: str | Path) -> list[str]:
    """Write ``iMeta`` (and its sidecar ``<stem>.dti.json``); returns notes about what COINr
    itself will not accept as is (a tree whose leaves are not all at the same depth)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    level = _heights(framework)
    order = {node_id: i for i, node_id in enumerate(framework.nodes)}
    notes = []
    rows = []
    for node in sorted(framework.nodes.values(), key=lambda n: (level[n.id], order[n.id])):
        parent = node.parent_id
        if parent is not None and level[parent] != level[node.id] + 1:
            notes.append(
                f"{node.id}: Level {level[node.id]} under {parent} at Level {level[parent]} "
                "(COINr wants every Parent one level up; this project reads it as is)"
            )
        rule = node.rule
        target = rule.params.get("target") if rule is not None and rule.kind == "ratio" else None
        rows.append(
            {
                "Level": level[node.id],
                "iCode": node.id,
                "iName": node.name,
                "Direction": node.direction,
                "Weight": _number(node.max_points) if parent is not None else "1",
                "Parent": parent if parent is not None else "NA",
                "Type": "Aggregate" if node.children else "Indicator",
                "Unit": node.unit if node.unit is not None else "NA",
                "Target": _number(target),
                "dti_type": node.type,
                "dti_max_points": repr(float(node.max_points)),
                "dti_rule": json.dumps({"kind": rule.kind, **rule.params}, ensure_ascii=False)
                if rule is not None
                else "NA",
                "dti_flags": ",".join(sorted(node.flags)) or "NA",
                "dti_goalposts": json.dumps(list(node.goalposts)) if node.goalposts else "NA",
                "dti_normalisation": json.dumps(node.normalisation.params())
                if node.normalisation is not None
                else "NA",
                "dti_source": node.source,
                "dti_percent_scale": _number(node.percent_scale),
                "dti_rubric": node.rubric if node.rubric is not None else "NA",
                "dti_declared_components": node.declared_components
                if node.declared_components is not None
                else "NA",
                "dti_order": order[node.id],
            }
        )
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=IMETA_COLUMNS, quoting=csv.QUOTE_MINIMAL)
        writer.writeheader()
        writer.writerows(rows)
    header = {k: v for k, v in framework_to_mapping(framework).items() if k not in ("tree", "root")}
    sidecar_path(path).write_text(
        json.dumps(header, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )
    return notes


def idata_frame(
    values: pl.DataFrame, framework: Framework, names: dict[str, str] | None = None
) -> pl.DataFrame:
    """Long ``unit_id, year, node_id, value`` → COINr's wide iData: ``uCode`` (``uName`` when
    names are given), ``Time`` (unless every year is null), one column per leaf in framework
    order; a unit-year without a value for a leaf gets null (``NA``)."""
    leaves = framework.leaf_ids()
    unknown = sorted(set(values["node_id"].unique()) - set(leaves))
    if unknown:
        raise ValueError(f"values name indicators not in {framework.id}: {', '.join(unknown[:20])}")
    with_time = values["year"].null_count() < values.height
    keys = ["unit_id", "year"]
    rows = values.select(keys).unique().sort(keys, nulls_last=True)
    wide = values.pivot(on="node_id", index=keys, values="value", aggregate_function="first")
    wide = rows.join(wide, on=keys, how="left", nulls_equal=True)
    for leaf in leaves:
        if leaf not in wide.columns:
            wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(leaf))
    first = [pl.col("unit_id").alias("uCode")]
    if names:
        first.insert(0, pl.col("unit_id").replace_strict(names, default=None).alias("uName"))
    if with_time:
        first.append(pl.col("year").alias("Time"))
    return wide.select(*first, *[pl.col(c).cast(pl.Float64) for c in leaves]).sort(
        ["Time", "uCode"] if with_time else ["uCode"]
    )


def write_idata(
    values: pl.DataFrame,
    framework: Framework,
    path: str | Path,
    names: dict[str, str] | None = None,
) -> int:
    """Write :func:`idata_frame` as CSV (``NA`` = missing, floats at full precision)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = idata_frame(values, framework, names)
    write_csv(frame, path, null_value="NA")
    return frame.height
