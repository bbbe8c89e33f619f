"""The frame every method reads: the grid's rows with their leaf's attributes, and how a method
records which rule gave a row its points (``rule_applied``)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.grid import LEAF, with_codes
from pipelines.scoring.methods import MethodSpec

OUTPUT = ["normalised", "z", "points", "rule_applied"]
# the leaf attributes the methods read, gathered onto the rows by the leaf's position
ATTRIBUTES = (
    "max_points",
    "direction",
    "rule_kind",
    "target",
    "goalpost_lo",
    "goalpost_hi",
    "norm_lo",
    "norm_hi",
)


def num_text(expr: pl.Expr) -> pl.Expr:
    """A number as short text for ``rule_applied``: 6 decimals at most, no trailing ``.0``."""
    return expr.round(6).cast(pl.String).str.replace(r"\.0$", "")


def share(points: pl.Expr) -> pl.Expr:
    """points ÷ max points; null for a leaf of maximum 0 (reported, not scored): never NaN."""
    return pl.when(pl.col("max_points") > 0).then(points / pl.col("max_points")).otherwise(None)


def leaf_table(framework: Framework) -> pl.DataFrame:
    """Leaf attributes needed by the methods: max points, direction, rule, goalposts, and the
    normalisation a node declares for the leaf (:meth:`Framework.leaf_normalisation`):
    ``norm_method`` (null: the run's), ``norm_lo, norm_hi`` (declared goalposts) and
    ``norm_by`` (the declaring node)."""
    declared = [framework.leaf_normalisation(leaf.id) for leaf in framework.leaves()]
    norm = pl.DataFrame(
        {
            "norm_method": [d[1].effective_method if d else None for d in declared],
            "norm_lo": [d[1].goalposts[0] if d and d[1].goalposts else None for d in declared],
            "norm_hi": [d[1].goalposts[1] if d and d[1].goalposts else None for d in declared],
            "norm_by": [d[0] if d else None for d in declared],
        },
        schema={
            "norm_method": pl.String,
            "norm_lo": pl.Float64,
            "norm_hi": pl.Float64,
            "norm_by": pl.String,
        },
    )
    return pl.concat([_leaf_attributes(framework), norm], how="horizontal")


def leaf_methods(framework: Framework, spec: MethodSpec) -> list[str]:
    """Each leaf's method, in ``framework.leaves()`` order: the one a node declares for it,
    else the run's (``spec.method``)."""
    return [m or spec.method for m in leaf_table(framework)["norm_method"].to_list()]


def _leaf_attributes(framework: Framework) -> pl.DataFrame:
    return (
        framework.nodes_frame()
        .filter(pl.col("is_leaf"))
        .select(
            "node_id",
            "max_points",
            "direction",
            "rule_kind",
            "rule_params",
            "goalpost_lo",
            "goalpost_hi",
        )
        # the ratio rule's target, parsed once per leaf rather than once per row (and the JSON
        # text not copied onto every row)
        .with_columns(
            pl.col("rule_params").str.json_path_match("$.target").cast(pl.Float64).alias("target")
        )
        .drop("rule_params")
    )


def signed_frame(values: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Attach the leaf attributes (by the leaf's position: :func:`with_codes`) and the
    direction-adjusted value (lower-is-better is negated)."""
    # the rule kind is only compared: a categorical (4 bytes a row, not a 16-byte view)
    table = leaf_table(framework).with_columns(pl.col("rule_kind").cast(pl.Categorical))
    frame = with_codes(values, framework).drop(ATTRIBUTES, strict=False)
    every_row_a_leaf = frame[LEAF].null_count() == 0
    return frame.with_columns(
        _attribute(table[column], every_row_a_leaf) for column in ATTRIBUTES
    ).with_columns((pl.col("value") * pl.col("direction")).alias("signed"))


def _attribute(per_leaf: pl.Series, every_row_a_leaf: bool) -> pl.Expr:
    """A leaf attribute on every row (null on a row of no known leaf): gathered by the row's
    leaf, or one scalar when every leaf has the same (no goalposts declared: 8 bytes a row
    saved on millions of rows)."""
    if every_row_a_leaf and per_leaf.n_unique() == 1:
        return pl.lit(per_leaf[0], dtype=per_leaf.dtype).alias(per_leaf.name)
    return pl.lit(per_leaf).gather(pl.col(LEAF)).alias(per_leaf.name)


def pick(texts: Sequence[str | None], code: pl.Expr) -> pl.Expr:
    """``texts[code]`` on every row (null where ``code`` is null): the few fixed notes of
    ``rule_applied`` as a categorical (4 bytes a row, not a string built row by row)."""
    return pl.lit(pl.Series(texts, dtype=pl.Categorical)).gather(code)


def note_pick(frame: pl.DataFrame, texts: Sequence[str | None], code: pl.Expr) -> pl.DataFrame:
    """``rule_applied``: ``texts[code]`` where the value gave points, else null."""
    note = pick(texts, code)
    return frame.with_columns(
        pl.when(pl.col("points").is_null()).then(None).otherwise(note).alias("rule_applied")
    )


def leaf_texts(framework: Framework, text: pl.Expr) -> list[str | None]:
    """``text`` evaluated on the leaf table: one string per leaf, in ``framework.leaves()``
    order (the code ``_leaf``)."""
    return leaf_table(framework).select(text.alias("t"))["t"].to_list()


def leaf_code(texts_per_leaf: int, variant: pl.Expr) -> pl.Expr:
    return pl.col(LEAF).cast(pl.Int32) * texts_per_leaf + variant.cast(pl.Int32)
