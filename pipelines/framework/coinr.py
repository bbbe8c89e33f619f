"""COINr's framework table (``iMeta``) as a :class:`Framework`.

COINr (the JRC's R package) describes a composite index as rows: ``Level`` (1 = indicator, up to
the index), ``iCode``, ``iName``, ``Direction`` (1 / −1), ``Weight`` (relative to siblings),
``Parent``, ``Type`` (Indicator, Aggregate, Denominator, Group, Other) and optional ``Target``.
Weights become maximum points on the index scale (default 100), so summing children's points is
COINr's weighted arithmetic mean, scaled. Under the ``points`` method an indicator with a
``Target`` scores ``min(x / target, 1) × max`` (lower-is-better: ``target / x``); without one it
scores relative to the best unit.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.framework.load import FrameworkError, framework_from_mapping
from pipelines.framework.model import Framework

SCORED_TYPES = ("Indicator", "Aggregate")


def _level_type(level: int, top: int) -> str:
    if level == top:
        return "index"
    return {1: "indicator", 2: "pillar"}.get(level, "group")


def read_imeta(path: str | Path, scale: float = 100.0) -> Framework:
    """Read an ``iMeta`` CSV (``NA`` = missing) into a validated framework."""
    path = Path(path)
    meta = pl.read_csv(path, null_values=["NA", ""], infer_schema_length=None)
    required = {"Level", "iCode", "Parent", "Type"}
    if not required <= set(meta.columns):
        raise FrameworkError(str(path), [f"iMeta needs columns {sorted(required)}"])
    meta = meta.filter(pl.col("Type").is_in(SCORED_TYPES))
    rows = {r["iCode"]: r for r in meta.iter_rows(named=True)}
    top = int(meta["Level"].max())
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
        spec = {
            "id": code,
            "type": _level_type(int(r["Level"]), top),
            "name": r.get("iName") or code,
            "weight": float(r["Weight"]) if r.get("Weight") is not None else 1.0,
            "direction": "lower" if r.get("Direction") == -1 else "higher",
        }
        if code in children:
            spec["children"] = [node(c) for c in children[code]]
        else:
            target = r.get("Target")
            spec["rule"] = (
                {"kind": "ratio", "target": float(target)}
                if target is not None and float(target) > 0
                else {"kind": "relative_best"}
            )
            spec["unit"] = r.get("Unit")
        return spec

    root = rows[roots[0]]
    return framework_from_mapping(
        {
            "id": path.stem,
            "version": f"iMeta:{path.name}",
            "name": root.get("iName") or roots[0],
            "level": "unit",
            "scale": scale,
            "root": {"id": roots[0], "name": root.get("iName") or roots[0]},
            "source": {"format": "COINr iMeta", "file": str(path)},
            "tree": [node(c) for c in children.get(roots[0], [])],
        },
        origin=str(path),
    )
