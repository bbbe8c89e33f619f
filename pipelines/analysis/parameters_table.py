"""The parameters table: replications given as a table of runs, read and checked.

**Parameters table** (CSV or Parquet; one row per run) — what ``dti uncertainty --parameters``
reads and what ``dti uncertainty --out`` writes as ``parameters.csv``:

* ``run`` (optional; default the row's ordinal) — the run's label, unique;
* ``setting`` — a method setting label (:func:`pipelines.analysis.inputs.parse_setting`:
  ``points``, ``minmax:observed``, ``minmax:goalposts@2023``, ``zscore:cdf`` …);
* ``missing`` — the missing-data rule, ``zero``, ``exclude`` or ``mean``;
* ``weight_kind`` (optional; default the caller's, ``multiplier``) — ``multiplier`` or
  ``absolute``;
* one column per node below the index (any subset; a blank cell or an absent column keeps the
  node's framework weight): a **multiplier** of the node's maximum points (COINr's noisy
  weights ÷ nominal weights), or an **absolute** weight — only its ratio to its siblings' counts,
  as in COINr (a parent's maximum is shared among its children in proportion to their weights);
  an absolute weight is read as the multiplier ``weight ÷ max_points``.

:mod:`pipelines.analysis.replay` scores the runs. Refusals follow the intake's CSV rules
(:mod:`pipelines.workbook.csv_cells`): one line naming the file, the line, the column and the
value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.analysis.inputs import ALL_SETTINGS, parse_setting
from pipelines.analysis.uncertainty import UncertaintyResult
from pipelines.framework.model import Framework
from pipelines.scoring.choices import MISSING_RULES
from pipelines.workbook.csv_cells import (
    CsvFileError,
    CsvTable,
    Fault,
    cell_text,
    column_label,
    header_title,
    read_csv_table,
    read_data_number,
    refuse_faults,
)

WEIGHT_KINDS = ("multiplier", "absolute")
FIXED_COLUMNS = ("run", "setting", "missing", "weight_kind")


@dataclass
class Parameters:
    """Runs to score: labels, settings, rules and the weight multiplier of every node below the
    index (runs × nodes, in framework order :attr:`node_ids`)."""

    runs: list[str]
    settings: list[str]
    missing: list[str]
    node_ids: list[str]
    multipliers: np.ndarray

    def frame(self) -> pl.DataFrame:
        """The parameters table (multipliers), as ``--out`` writes ``parameters.csv``."""
        columns: dict[str, list] = {
            "run": self.runs,
            "setting": self.settings,
            "missing": self.missing,
            "weight_kind": ["multiplier"] * len(self.runs),
        }
        for j, node_id in enumerate(self.node_ids):
            columns[node_id] = self.multipliers[:, j].tolist()
        return pl.DataFrame(columns)


def weighted_nodes(framework: Framework) -> list[str]:
    """The nodes with a weight to set: every node below the index, in framework order."""
    return [n.id for n in framework.nodes.values() if n.parent_id is not None]


def parameters_of_run(result: UncertaintyResult, framework: Framework) -> Parameters:
    """An uncertainty run's replications as a parameters table: every node below the index, the
    nodes without noise at multiplier 1."""
    node_ids = weighted_nodes(framework)
    position = {node_id: j for j, node_id in enumerate(node_ids)}
    reps = result.replications.sort("replication_id")
    multipliers = np.ones((reps.height, len(node_ids)))
    noisy = [position[n] for n in result.params["noisy_nodes"]]
    if noisy:
        multipliers[:, noisy] = np.array(reps["weight_multipliers"].to_list(), dtype=float)
    return Parameters(
        runs=[str(r) for r in reps["replication_id"]],
        settings=reps["setting"].to_list(),
        missing=reps["missing"].to_list(),
        node_ids=node_ids,
        multipliers=multipliers,
    )


# ---------------------------------------------------------------- reading


def _table(path: Path) -> CsvTable:
    """A CSV through the intake's reader; a Parquet file as the same table (line = row + 1, the
    header counting as line 1; numbers written in full)."""
    if path.suffix.lower() != ".parquet":
        return read_csv_table(path)
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # any unreadable Parquet file is one refusal
        raise CsvFileError(str(path), "unreadable", f"không đọc được tệp Parquet ({exc})") from None
    if frame.is_empty():
        raise CsvFileError(str(path), "no_data_rows", "tệp không có hàng dữ liệu nào", line=1)
    table = CsvTable(str(path), list(frame.columns))
    for i, row in enumerate(frame.iter_rows()):
        cells = ["" if v is None else repr(v) if isinstance(v, float) else str(v) for v in row]
        table.rows.append((i + 2, cells))
    return table


def read_weight(text: str, line: int, label: str) -> tuple[float | None, Fault | None]:
    """A weight cell read as a number ≥ 0, or the fault refusing it."""
    reading = read_data_number(text)
    if reading.rule or reading.value is None:
        return None, Fault(line, label, "bad_weight", f"trọng số '{text}' không phải là số")
    if reading.value < 0:
        return None, Fault(line, label, "negative_weight", f"trọng số '{text}' âm")
    return reading.value, None


def _known_setting(label: str) -> bool:
    """A setting label :func:`parse_setting` reads, with a known option."""
    base, _, year = label.partition("@")
    if base not in (*ALL_SETTINGS, "minmax", "zscore") or (year and not year.isdigit()):
        return False
    try:
        parse_setting(label)
    except ValueError:
        return False
    return True


def read_parameters(
    path: str | Path, framework: Framework, weight_kind: str = "multiplier"
) -> Parameters:
    """The parameters table at ``path`` (module docstring) for ``framework``; ``weight_kind``
    applies where the table has no ``weight_kind`` column. Refused (:class:`CsvFileError`, the
    first fault with the count and lines of the others): a missing ``setting`` or ``missing``
    column, a column that is not a node below the index, an unknown setting or rule, a weight
    that is not a number ≥ 0, an unknown weight kind, a run label given twice."""
    if weight_kind not in WEIGHT_KINDS:
        raise ValueError(f"weight kind {weight_kind!r}: one of {', '.join(WEIGHT_KINDS)}")
    path = Path(path)
    table = _table(path)
    node_ids = weighted_nodes(framework)
    position = {node_id: j for j, node_id in enumerate(node_ids)}
    fixed: dict[str, int] = {}
    weight_columns: dict[int, int] = {}  # table column → node position
    faults: list[Fault] = list(table.ragged)
    for index, title in enumerate(table.header):
        name = header_title(title)
        label = column_label(index, title)
        if name.lower() in FIXED_COLUMNS and name.lower() not in fixed:
            fixed[name.lower()] = index
        elif name in position:
            weight_columns[index] = position[name]
        elif name == framework.root_id:
            faults.append(
                Fault(1, label, "root_weight", f"'{name}' là chỉ số tổng: không có trọng số")
            )
        else:
            faults.append(
                Fault(
                    1,
                    label,
                    "unknown_column",
                    f"cột '{name}' không phải nút nào dưới chỉ số tổng của bộ chỉ số "
                    f"{framework.id} (các cột: {', '.join(FIXED_COLUMNS)} và mã nút)",
                )
            )
    for needed in ("setting", "missing"):
        if needed not in fixed:
            faults.append(Fault(1, "", f"missing_{needed}", f"thiếu cột '{needed}'"))
    refuse_faults(table.name, faults)
    runs, settings, missing = [], [], []
    rows = []
    seen: dict[str, int] = {}
    for ordinal, (line, fields) in enumerate(table.rows, start=1):
        label = {key: table.label(index) for key, index in fixed.items()}
        run = cell_text(fields, fixed.get("run")) or str(ordinal)
        if run in seen:
            faults.append(
                Fault(
                    line,
                    label.get("run", ""),
                    "duplicate_run",
                    f"lần chạy '{run}' đã có ở dòng {seen[run]}",
                )
            )
        seen.setdefault(run, line)
        setting = cell_text(fields, fixed["setting"])
        if not _known_setting(setting):
            faults.append(
                Fault(
                    line,
                    label["setting"],
                    "bad_setting",
                    f"phương pháp '{setting}' không hợp lệ (ví dụ: points, minmax:observed, "
                    "minmax:goalposts@2023, zscore:cdf)",
                )
            )
        rule = cell_text(fields, fixed["missing"])
        if rule not in MISSING_RULES:
            faults.append(
                Fault(
                    line,
                    label["missing"],
                    "bad_missing",
                    f"quy tắc thiếu dữ liệu '{rule}' không hợp lệ ({', '.join(MISSING_RULES)})",
                )
            )
        kind = cell_text(fields, fixed.get("weight_kind")) or weight_kind
        if kind not in WEIGHT_KINDS:
            faults.append(
                Fault(
                    line,
                    label["weight_kind"],
                    "bad_weight_kind",
                    f"loại trọng số '{kind}' không hợp lệ ({', '.join(WEIGHT_KINDS)})",
                )
            )
        multipliers = np.ones(len(node_ids))
        for index, j in weight_columns.items():
            text = cell_text(fields, index)
            if text in ("", "NA"):
                continue
            value, fault = read_weight(text, line, table.label(index))
            if fault is not None:
                faults.append(fault)
            elif value is not None:
                maximum = framework.nodes[node_ids[j]].max_points
                multipliers[j] = value / maximum if kind == "absolute" and maximum else value
        runs.append(run)
        settings.append(setting)
        missing.append(rule)
        rows.append(multipliers)
    refuse_faults(table.name, faults)
    return Parameters(runs, settings, missing, node_ids, np.array(rows).reshape(len(runs), -1))
