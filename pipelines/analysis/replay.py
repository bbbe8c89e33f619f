"""Replications given as a table, and named weight sets, scored through the uncertainty model.

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

Each run is then scored exactly as an uncertainty replication is
(:mod:`pipelines.analysis.uncertainty_model`: the engine's leaf points per (setting, rule), weights
applied
top-down keeping each parent's maximum), so an uncertainty run written with ``--out`` replays to
identical ranks. Refusals follow the intake's CSV rules (:mod:`pipelines.workbook.csv_cells`):
one line naming the file, the line, the column and the value.

**Weight sets** (CSV ``set_name,node_id,weight``): named alternative absolute weights (e.g.
"equal pillars": every pillar 1), each scored under the nominal setting and rule and compared
with the nominal weights unit by unit (``rank_shift = nominal_rank − rank``: positive = climbs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.analysis.inputs import ALL_SETTINGS, AnalysisInput, parse_setting, setting_label
from pipelines.analysis.uncertainty import (
    UncertaintyResult,
    nominal_ranks,
    set_noisy_nodes,
    unit_rank_stats,
)
from pipelines.analysis.uncertainty_model import build_model
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


def _weight(text: str, line: int, label: str) -> tuple[float | None, Fault | None]:
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
            value, fault = _weight(text, line, table.label(index))
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


# ---------------------------------------------------------------- scoring


@dataclass
class ReplayResult:
    """Every run's points and rank at every node, the ranked total's ranks (units × runs) and
    the per-unit rank statistics (:func:`pipelines.analysis.uncertainty.unit_rank_stats`)."""

    parameters: Parameters
    unit_ids: list[str]
    totals: np.ndarray  # units × runs (the ranked total)
    ranks: np.ndarray  # units × runs
    scores: pl.DataFrame  # run, unit_id, node_id, points, rank, excluded
    units: pl.DataFrame  # nominal, median, p05, p95 … rank


def replay_parameters(inp: AnalysisInput, parameters: Parameters) -> ReplayResult:
    """Score every run of ``parameters`` (one engine call per distinct (setting, rule), then the
    uncertainty model's arithmetic, as :func:`pipelines.analysis.uncertainty.evaluate`)."""
    resolved = list(inp.resolve_settings(tuple(parameters.settings)))
    combos = sorted(set(zip(resolved, parameters.missing, strict=True)))
    settings = tuple(dict.fromkeys(s for s, _ in combos))
    rules = tuple(dict.fromkeys(m for _, m in combos))
    model = build_model(inp, settings, rules)
    set_noisy_nodes(model, parameters.node_ids)
    rel = model.relative_max(parameters.multipliers)
    n_runs = len(parameters.runs)
    totals = np.empty((len(model.unit_ids), n_runs))
    node_points = np.empty((len(model.unit_ids), n_runs, len(model.node_ids)))
    node_excluded = np.zeros((len(model.unit_ids), n_runs, len(model.node_ids)), dtype=bool)
    for setting, missing in combos:
        chosen = np.flatnonzero(
            (np.array(resolved) == setting) & (np.array(parameters.missing) == missing)
        )
        points, excluded = model.node_points(model.combos[(setting, missing)], rel[chosen])
        totals[:, chosen] = points[:, :, model.target]
        node_points[:, chosen, :] = points[:, :, : len(model.node_ids)]
        node_excluded[:, chosen, :] = excluded[:, None, : len(model.node_ids)]
    ranks = model.ranks(totals)
    target = inp.target_id
    n_units = len(model.unit_ids)
    keys = pl.DataFrame(
        {
            "run": pl.Series(parameters.runs, dtype=pl.String).gather(
                np.tile(np.arange(n_runs), n_units)
            ),
            "unit_id": pl.Series(model.unit_ids, dtype=pl.String).gather(
                np.repeat(np.arange(n_units), n_runs)
            ),
        }
    )
    frames = []
    for k, node_id in enumerate(model.node_ids):
        points = totals if node_id == target else node_points[:, :, k]
        node_ranks = ranks if node_id == target else model.ranks(points, model.nominal_max[k])
        frames.append(_long(keys, node_id, points, node_ranks, node_excluded[:, :, k]))
    if target not in model.node_ids:  # a composite (national 1726)
        none = np.zeros_like(totals, dtype=bool)
        frames.append(_long(keys, target, totals, ranks, none))
    nominal_vec = nominal_ranks(inp, model.unit_ids)
    return ReplayResult(
        parameters=parameters,
        unit_ids=model.unit_ids,
        totals=totals,
        ranks=ranks,
        scores=pl.concat(frames),
        units=unit_rank_stats(model, ranks, nominal_vec, inp.names),
    )


def _long(keys: pl.DataFrame, node_id: str, points, ranks, excluded) -> pl.DataFrame:
    """One node's rows: ``keys`` (run, unit_id; unit-major) with its points, ranks, exclusion."""
    return keys.with_columns(
        pl.lit(node_id, dtype=pl.String).alias("node_id"),
        pl.Series("points", points.reshape(-1), dtype=pl.Float64),
        pl.Series("rank", ranks.reshape(-1).astype(np.int32), dtype=pl.Int32),
        pl.Series("excluded", excluded.reshape(-1), dtype=pl.Boolean),
    )


# ---------------------------------------------------------------- weight sets


def read_weight_sets(path: str | Path, framework: Framework) -> dict[str, dict[str, float]]:
    """Named weight sets from a CSV ``set_name,node_id,weight`` (absolute weights; a node not
    listed keeps its framework weight), in the file's order. Refused (:class:`CsvFileError`):
    a missing column, a blank set name, a node that is not below the index, a weight that is not
    a number ≥ 0, a (set, node) given twice."""
    table = read_csv_table(path)
    keys = [header_title(t).lower() for t in table.header]
    faults: list[Fault] = list(table.ragged)
    wanted = ("set_name", "node_id", "weight")
    for name in wanted:
        if name not in keys:
            faults.append(Fault(1, "", f"missing_{name}", f"thiếu cột '{name}'"))
    refuse_faults(table.name, faults)
    at = {name: keys.index(name) for name in wanted}
    label = {name: table.label(index) for name, index in at.items()}
    below = set(weighted_nodes(framework))
    sets: dict[str, dict[str, float]] = {}
    seen: dict[tuple[str, str], int] = {}
    for line, fields in table.rows:
        name, node_id, text = (cell_text(fields, at[k]) for k in wanted)
        if not name:
            faults.append(
                Fault(line, label["set_name"], "missing_set_name", "thiếu tên bộ trọng số")
            )
            continue
        if node_id not in below:
            faults.append(
                Fault(
                    line,
                    label["node_id"],
                    "unknown_node",
                    f"'{node_id}' không phải nút nào dưới chỉ số tổng của bộ chỉ số {framework.id}",
                )
            )
            continue
        if (name, node_id) in seen:
            faults.append(
                Fault(
                    line,
                    label["node_id"],
                    "duplicate_weight",
                    f"'{node_id}' của bộ '{name}' đã có ở dòng {seen[(name, node_id)]}",
                )
            )
            continue
        seen[(name, node_id)] = line
        value, fault = _weight(text, line, label["weight"])
        if fault is not None:
            faults.append(fault)
            continue
        sets.setdefault(name, {})[node_id] = float(value)  # type: ignore[arg-type]
    refuse_faults(table.name, faults)
    return sets


def weight_set_parameters(inp: AnalysisInput, sets: dict[str, dict[str, float]]) -> Parameters:
    """The nominal weights (run ``nominal``) and each set, under the nominal setting and rule,
    as multipliers."""
    node_ids = weighted_nodes(inp.framework)
    rows = [np.ones(len(node_ids))]
    for weights in sets.values():
        row = np.ones(len(node_ids))
        for j, node_id in enumerate(node_ids):
            if node_id in weights:
                maximum = inp.framework.nodes[node_id].max_points
                row[j] = weights[node_id] / maximum if maximum else weights[node_id]
        rows.append(row)
    runs = ["nominal", *sets]
    return Parameters(
        runs=runs,
        settings=[setting_label(inp.nominal)] * len(runs),
        missing=[inp.nominal.missing] * len(runs),
        node_ids=node_ids,
        multipliers=np.array(rows),
    )


def compare_weight_sets(
    inp: AnalysisInput, sets: dict[str, dict[str, float]]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each set's points and rank per unit against the nominal weights (same setting and rule,
    same arithmetic): a long frame ``set_name, unit_id, unit_name, group_id, points, rank,
    nominal_rank, rank_shift`` and a wide one (``rank <set>``, ``shift <set>`` per set)."""
    replayed = replay_parameters(inp, weight_set_parameters(inp, sets))
    nominal = replayed.ranks[:, 0]
    rows = []
    for k, name in enumerate(sets, start=1):
        for u, unit_id in enumerate(replayed.unit_ids):
            rows.append(
                {
                    "set_name": name,
                    "unit_id": unit_id,
                    "unit_name": inp.names.get(unit_id),
                    "points": float(replayed.totals[u, k]),
                    "rank": int(replayed.ranks[u, k]),
                    "nominal_rank": int(nominal[u]),
                    "rank_shift": int(nominal[u]) - int(replayed.ranks[u, k]),
                }
            )
    long = pl.DataFrame(
        rows,
        schema={
            "set_name": pl.String,
            "unit_id": pl.String,
            "unit_name": pl.String,
            "points": pl.Float64,
            "rank": pl.Int32,
            "nominal_rank": pl.Int32,
            "rank_shift": pl.Int32,
        },
    )
    groups = replayed.units.select("unit_id", "group_id")
    long = long.join(groups, on="unit_id", how="left")
    wide = pl.DataFrame(
        {
            "unit_id": replayed.unit_ids,
            "unit_name": [inp.names.get(u) for u in replayed.unit_ids],
            "nominal_rank": nominal.astype(np.int32),
        }
    ).join(groups, on="unit_id", how="left")
    for k, name in enumerate(sets, start=1):
        wide = wide.with_columns(
            pl.Series(f"rank {name}", replayed.ranks[:, k].astype(np.int32)),
            pl.Series(f"shift {name}", (nominal - replayed.ranks[:, k]).astype(np.int32)),
        )
    order = ["unit_id", "unit_name", "group_id", "nominal_rank"]
    wide = wide.select(order + [c for c in wide.columns if c not in order])
    return long, wide.sort("group_id", "nominal_rank", "unit_id")
