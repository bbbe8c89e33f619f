"""Strengths and weaknesses: per unit, the components furthest above and below its group.

What Đắk Lắk's decision asks the index to show each unit: where it stands out and where it lags.
For every unit and every component (by default the leaves; any ``node_level`` may be chosen),
the **difference** is the unit's ratio (points ÷ maximum) minus the mean ratio of its comparison
group on that component (the unit included; units whose component is excluded are left out of
the mean and get no difference). Ratios make components of different maxima comparable. The
``top`` largest positive differences are the unit's strengths, the ``top`` most negative its
weaknesses (a weakness must be below the mean, a strength above; ties broken by document order).
``z`` = difference ÷ the group's sample sd (null when the sd is 0 or the group has one unit).
"""

from __future__ import annotations

import polars as pl

from pipelines.analysis.inputs import AnalysisInput
from pipelines.framework.model import Framework
from pipelines.scoring.methods import MethodSpec

COLUMNS = [
    "group_id",
    "unit_id",
    "unit_name",
    "kind",
    "position",
    "node_id",
    "node_name",
    "points",
    "max_points",
    "ratio",
    "group_mean_ratio",
    "difference",
    "z",
]


def strengths_weaknesses(
    scores: pl.DataFrame,
    framework: Framework,
    top: int = 3,
    node_level: str | None = None,
    names: dict[str, str] | None = None,
) -> pl.DataFrame:
    """``scores``: the engine's rows (``group_id, unit_id, node_id, node_level, points,
    max_points, ratio, ordinal``). Returns one row per unit, kind (``strength`` /
    ``weakness``) and position 1…top."""
    if node_level is None:
        chosen = pl.col("node_id").is_in(framework.leaf_ids())
    else:
        chosen = pl.col("node_level") == node_level
    node_names = {n.id: n.name for n in framework.nodes.values()}
    part = (
        scores.filter(chosen & pl.col("ratio").is_not_null())
        .with_columns(
            pl.col("ratio").mean().over(["group_id", "node_id"]).alias("group_mean_ratio"),
            pl.col("ratio").std(ddof=1).over(["group_id", "node_id"]).alias("_sd"),
        )
        .with_columns(
            (pl.col("ratio") - pl.col("group_mean_ratio")).alias("difference"),
        )
        .with_columns(
            pl.when(pl.col("_sd") > 0)
            .then(pl.col("difference") / pl.col("_sd"))
            .otherwise(None)
            .alias("z"),
            pl.col("node_id").replace_strict(node_names, default=None).alias("node_name"),
            pl.col("unit_id").replace_strict(names or {}, default=None).alias("unit_name"),
        )
    )
    strengths = (
        part.filter(pl.col("difference") > 1e-12)
        .sort(["unit_id", "difference", "ordinal"], descending=[False, True, False])
        .group_by("unit_id", maintain_order=True)
        .head(top)
        .with_columns(pl.lit("strength").alias("kind"))
    )
    weaknesses = (
        part.filter(pl.col("difference") < -1e-12)
        .sort(["unit_id", "difference", "ordinal"])
        .group_by("unit_id", maintain_order=True)
        .head(top)
        .with_columns(pl.lit("weakness").alias("kind"))
    )
    both = pl.concat([strengths, weaknesses]).with_columns(
        pl.int_range(1, pl.len() + 1).over(["unit_id", "kind"]).cast(pl.Int32).alias("position")
    )
    return both.select(COLUMNS).sort(["group_id", "unit_id", "kind", "position"])


def unit_strengths(
    inp: AnalysisInput,
    spec: MethodSpec | None = None,
    top: int = 3,
    node_level: str | None = None,
) -> pl.DataFrame:
    """:func:`strengths_weaknesses` of ``inp`` scored by ``spec`` (default: nominal)."""
    scores = inp.score(spec or inp.nominal)
    return strengths_weaknesses(scores, inp.framework, top, node_level, inp.names)


def store_strengths(con, frame: pl.DataFrame, year: int, level: str, method: str) -> int:
    from pipelines.store.warehouse import replace_rows

    return replace_rows(
        con,
        "unit_strengths",
        frame.with_columns(
            pl.lit(year, dtype=pl.Int32).alias("year"),
            pl.lit(level).alias("level"),
            pl.lit(method).alias("method"),
        ),
        {"year": year, "level": level},
    )


def strengths_year(con, preset, year: int, top: int = 3) -> dict[str, int]:
    """Every level of the preset in ``year``: strengths and weaknesses stored (rows per level)."""
    from pipelines.analysis.inputs import levels_with_data, load_input, scenario_label

    summary = {}
    for level in levels_with_data(con, preset, year):
        inp = load_input(con, preset, year, level)
        frame = unit_strengths(inp, top=top)
        summary[level] = store_strengths(con, frame, year, level, scenario_label(inp.nominal))
    return summary
