"""Named weight sets scored through the uncertainty model and compared with the nominal weights.

**Weight sets** (CSV ``set_name,node_id,weight``): named alternative absolute weights (e.g.
"equal pillars": every pillar 1), each scored under the nominal setting and rule and compared
with the nominal weights unit by unit (``rank_shift = nominal_rank − rank``: positive = climbs).
Refusals follow the intake's CSV rules (:mod:`pipelines.workbook.csv_cells`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from pipelines.analysis.inputs import AnalysisInput, setting_label
from pipelines.analysis.parameters_table import Parameters, read_weight, weighted_nodes
from pipelines.analysis.replay import replay_parameters
from pipelines.framework.model import Framework
from pipelines.workbook.csv_cells import (
    Fault,
    cell_text,
    header_title,
    read_csv_table,
    refuse_faults,
)


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
        value, fault = read_weight(text, line, label["weight"])
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
