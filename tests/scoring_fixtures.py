"""Small builders shared by the scoring tests (imported explicitly; not a conftest).

Frameworks are built with ``framework_from_mapping`` from a few hand-written nodes; values and
units are tiny polars frames; :func:`cell` reads one number of a score table.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from pipelines.framework.from_mapping import framework_from_mapping
from pipelines.framework.model import Framework
from pipelines.scoring.engine import score
from pipelines.scoring.methods import MethodSpec

YEAR = 2024
GROUP = "all"


def phi(z: float) -> float:
    """Standard normal CDF by hand: Φ(z) = (1 + erf(z / √2)) / 2."""
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def leaf(
    node_id: str,
    max_points: float,
    rule: dict[str, Any] | None = None,
    direction: str = "higher",
    **extra: Any,
) -> dict[str, Any]:
    """A component (leaf) node; the default rule ``direct`` makes points = the value entered."""
    spec: dict[str, Any] = {
        "id": node_id,
        "type": "component",
        "name": f"Chỉ số {node_id}",
        "max_points": max_points,
        "direction": direction,
        "rule": rule if rule is not None else {"kind": "direct"},
    }
    spec.update(extra)
    return spec


def node(
    node_id: str, *children: dict[str, Any], node_type: str = "pillar", **extra: Any
) -> dict[str, Any]:
    """An inner node whose maximum is the sum of its children's maxima (unless given)."""
    spec: dict[str, Any] = {
        "id": node_id,
        "type": node_type,
        "name": f"Trụ cột {node_id}",
        "max_points": sum(c["max_points"] for c in children),
        "children": list(children),
    }
    spec.update(extra)
    return spec


def build(*tree: dict[str, Any], **extra: Any) -> Framework:
    """A framework over ``tree``; the scale is the sum of the top nodes' maxima."""
    spec: dict[str, Any] = {
        "id": "test-framework",
        "version": "test",
        "name": "Bộ chỉ số thử nghiệm",
        "scale": sum(n["max_points"] for n in tree),
        "tree": list(tree),
    }
    spec.update(extra)
    return framework_from_mapping(spec)


def values(*rows: tuple) -> pl.DataFrame:
    """Rows ``(unit_id, node_id, value)`` in :data:`YEAR` or ``(unit_id, year, node_id, value)``."""
    full = [(r[0], YEAR, r[1], r[2]) if len(r) == 3 else r for r in rows]
    return pl.DataFrame(
        full,
        schema={"unit_id": pl.String, "year": pl.Int32, "node_id": pl.String, "value": pl.Float64},
        orient="row",
    )


def units(*rows: str | tuple) -> pl.DataFrame:
    """``"U1"`` (:data:`YEAR`, :data:`GROUP`), ``(unit, group)`` or ``(unit, year, group)``."""
    full = []
    for r in rows:
        if isinstance(r, str):
            full.append((r, YEAR, GROUP))
        elif len(r) == 2:
            full.append((r[0], YEAR, r[1]))
        else:
            full.append(r)
    return pl.DataFrame(
        full,
        schema={"unit_id": pl.String, "year": pl.Int32, "group_id": pl.String},
        orient="row",
    )


def run(
    framework: Framework, vals: pl.DataFrame, unit_frame: pl.DataFrame, method: str = "points"
) -> pl.DataFrame:
    """``engine.score`` with the method's default settings."""
    return score(vals, unit_frame, framework, MethodSpec(method))


def cell(
    scores: pl.DataFrame,
    unit_id: str,
    node_id: str,
    column: str = "points",
    year: int | None = YEAR,
) -> Any:
    """The single value of ``column`` for one unit, year and node (fails unless exactly one)."""
    same_year = pl.col("year").is_null() if year is None else pl.col("year") == year
    rows = scores.filter(
        (pl.col("unit_id") == unit_id) & same_year & (pl.col("node_id") == node_id)
    )
    assert rows.height == 1, f"{rows.height} rows for {unit_id}/{year}/{node_id}"
    return rows[column][0]


def column_of(
    scores: pl.DataFrame, node_id: str, unit_ids: list[str], column: str = "points"
) -> list:
    """``column`` of ``node_id`` for each unit, in the order given."""
    return [cell(scores, u, node_id, column) for u in unit_ids]
