"""Leaf values → leaf points, per comparison group and year (DOMAIN.md, "Scoring methods").

Input frames have one row per unit, year and leaf: ``unit_id, year, group_id, node_id, value``
with ``value`` null where nothing was reported. Statistics ignore missing values; missing values
stay missing here and get points from the missing-data rule in :mod:`pipelines.scoring.engine`.
Every normaliser returns ``normalised, z, points`` and ``rule_applied`` (how the points were
obtained, e.g. ``minmax(observed)``; null where the value is missing).

Min-max bounds (``MethodSpec.minmax_bounds``):
- ``observed``: min and max of the group's present values in the year;
- ``pooled``: min and max of the group's present values over every year in the input (and in
  ``history``, the other years the warehouse holds);
- ``goalposts``: the leaf's ``goalposts: [lo, hi]`` from the framework; else, with a
  ``reference_year``, the group's observed bounds in that year; else the observed bounds (said in
  ``rule_applied``). With ``clip`` values beyond the bounds score 0 or the maximum.

Degenerate groups (documented, never NaN):
- min-max with max = min (one unit, all present values equal, or equal reference bounds):
  there is no spread to place a unit on, so ``n`` = the leaf's rubric points of the value ÷ its
  maximum — a "no" that every unit answers scores 0, not the maximum;
- z-score with fewer than two values or sd = 0: the same rule — ``z = 0`` (every unit is at
  the mean) but ``n`` = the rubric points ÷ the maximum, not ``Φ(0)`` = half the maximum
  (:func:`_rubric_share_where_degenerate`, shared by both methods).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy.special import ndtr

from pipelines.framework.model import Framework
from pipelines.scoring.grid import LEAF
from pipelines.scoring.leaf_frame import (
    DEFAULT_KEYS,
    Keys,
    leaf_code,
    leaf_table,
    leaf_texts,
    method_points,
    note,
    note_pick,
    num_text,
    pick,
    signed_frame,
)
from pipelines.scoring.methods import RESCALE_CENTRE, RESCALE_SPREAD, MethodSpec
from pipelines.scoring.rubric import rubric_points, rubric_signed

__all__ = [
    "minmax_points",
    "minmax_signed",
    "num_text",
    "rubric_points",
    "zscore_points",
]


# ---------------------------------------------------------------- min-max


def _bounds(
    frame: pl.DataFrame,
    keys: Sequence[str],
    history: pl.DataFrame | None,
    framework: Framework,
) -> pl.DataFrame:
    """``lo, hi`` of the signed present values over ``keys`` (from the frame and ``history``)."""
    keys = list(keys)
    if history is None or history.is_empty():
        pool = frame.select(*keys, "signed")
    else:
        pool = frame.select("unit_id", "year", "group_id", "node_id", "signed")
        past = signed_frame(
            history.select(
                pl.col("unit_id").cast(pl.String),
                pl.col("year").cast(pl.Int32),
                pl.col("group_id").cast(pl.String),
                pl.col("node_id").cast(frame.schema["node_id"]),
                pl.col("value").cast(pl.Float64),
            ),
            framework,
        ).select(pool.columns)
        pool = pl.concat([pool, past]).unique(subset=["unit_id", "year", "node_id"], keep="first")
    return (
        pool.filter(pl.col("signed").is_not_null())
        .group_by(keys)
        .agg(pl.col("signed").min().alias("lo"), pl.col("signed").max().alias("hi"))
    )


def minmax_points(
    values: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec | None = None,
    history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """``n = (x − lo) / (hi − lo)`` with the spec's bounds; points = n × max points.

    ``history`` holds other years' values (``unit_id, year, group_id, node_id, value``) for
    pooled bounds and reference-year goalposts; values of the frame itself always count.
    """
    return method_points(values, framework, minmax_signed, spec or MethodSpec("minmax"), history)


def minmax_signed(
    frame: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec,
    history: pl.DataFrame | None = None,
    keys: Keys = DEFAULT_KEYS,
) -> pl.DataFrame:
    """:func:`minmax_points` on a frame that already carries the leaf attributes and
    ``signed`` (:func:`signed_frame`); adds ``OUTPUT``. With ``keys`` other than the string keys the
    frame needs only the key columns (``history`` and ``reference_year`` need the string keys)."""
    group, pooled_keys = list(keys.group), list(keys.pooled)
    observed = frame.with_columns(
        pl.col("signed").min().over(group).alias("obs_lo"),
        pl.col("signed").max().over(group).alias("obs_hi"),
    )
    lo, hi = pl.col("obs_lo"), pl.col("obs_hi")
    # the basis text of each leaf (None: the row's own, below)
    basis_text: list[str | None] | None = None
    basis = pl.lit("observed")
    if spec.minmax_bounds == "observed":
        basis_text = ["observed"] * len(framework.leaves())
    elif spec.minmax_bounds == "pooled":
        pooled = _bounds(frame, pooled_keys, history, framework)
        observed = observed.join(pooled, on=pooled_keys, how="left", nulls_equal=True)
        lo, hi, basis = pl.col("lo"), pl.col("hi"), pl.lit("pooled")
        basis_text = ["pooled"] * len(framework.leaves())
    elif spec.minmax_bounds == "goalposts":
        # framework goalposts in signed terms: higher [lo, hi]; lower [−hi, −lo]
        fixed_lo = pl.when(pl.col("direction") == -1).then(-pl.col("goalpost_hi"))
        fixed_lo = fixed_lo.otherwise(pl.col("goalpost_lo"))
        fixed_hi = pl.when(pl.col("direction") == -1).then(-pl.col("goalpost_lo"))
        fixed_hi = fixed_hi.otherwise(pl.col("goalpost_hi"))
        has_fixed = pl.col("goalpost_lo").is_not_null()
        fixed_text = pl.concat_str(
            pl.lit("goalposts ["),
            num_text(pl.col("goalpost_lo")),
            pl.lit(", "),
            num_text(pl.col("goalpost_hi")),
            pl.lit("]"),
        )
        if spec.reference_year is not None:
            reference = _bounds(frame, ["year", "group_id", "node_id"], history, framework).filter(
                pl.col("year") == spec.reference_year
            )
            observed = observed.join(
                reference.drop("year").rename({"lo": "ref_lo", "hi": "ref_hi"}),
                on=["group_id", "node_id"],
                how="left",
                nulls_equal=True,
            )
            has_ref = pl.col("ref_lo").is_not_null()
            lo = pl.when(has_fixed).then(fixed_lo).when(has_ref).then("ref_lo").otherwise("obs_lo")
            hi = pl.when(has_fixed).then(fixed_hi).when(has_ref).then("ref_hi").otherwise("obs_hi")
            basis = (
                pl.when(has_fixed)
                .then(fixed_text)
                .when(has_ref)
                .then(pl.lit(f"goalposts of {spec.reference_year}"))
                .otherwise(pl.lit(f"observed: group absent in {spec.reference_year}"))
            )
        else:
            lo = pl.when(has_fixed).then(fixed_lo).otherwise("obs_lo")
            hi = pl.when(has_fixed).then(fixed_hi).otherwise("obs_hi")
            basis = pl.when(has_fixed).then(fixed_text).otherwise(pl.lit("observed: no goalposts"))
            basis_text = leaf_texts(framework, basis)  # a leaf's goalposts are its own
    # goalposts a node declares (``normalisation``) win over the run's bounds, on their leaves
    # (none declared: the run's bounds themselves, not a copy of them on every row)
    declared = pl.col("norm_lo").is_not_null()
    if leaf_table(framework)["norm_lo"].is_not_null().any():
        lower = pl.col("direction") == -1
        run_lo, run_hi = lo, hi
        lo = pl.when(declared).then(pl.when(lower).then(-pl.col("norm_hi")).otherwise("norm_lo"))
        lo = lo.otherwise(run_lo)
        hi = pl.when(declared).then(pl.when(lower).then(-pl.col("norm_lo")).otherwise("norm_hi"))
        hi = hi.otherwise(run_hi)
    declared_texts = leaf_texts(
        framework,
        pl.concat_str(
            pl.lit("goalposts ["),
            num_text(pl.col("norm_lo")),
            pl.lit(", "),
            num_text(pl.col("norm_hi")),
            pl.lit("] declared by "),
            pl.col("norm_by"),
        ),
    )
    if basis_text is not None:
        basis_text = [d or b for d, b in zip(declared_texts, basis_text, strict=True)]
    else:
        basis = pl.when(declared).then(pick(declared_texts, pl.col(LEAF))).otherwise(basis)
    frame = observed.with_columns(lo.alias("lo_used"), hi.alias("hi_used"))
    span = pl.col("hi_used") - pl.col("lo_used")
    frame = _rubric_share_where_degenerate(frame, framework, span == 0)
    raw = (
        pl.when(pl.col("signed").is_null())
        .then(None)
        .when(span == 0)
        .then(pl.col(RUBRIC_SHARE))
        .otherwise((pl.col("signed") - pl.col("lo_used")) / span)
    )
    frame = frame.with_columns(raw.alias("raw_n"))
    normalised = pl.col("raw_n").clip(0.0, 1.0) if spec.clip else pl.col("raw_n")
    clipped = (pl.col("raw_n") < 0) | (pl.col("raw_n") > 1)
    frame = frame.with_columns(
        normalised.alias("normalised"),
        (normalised * pl.col("max_points")).alias("points"),
        pl.lit(None, dtype=pl.Float64).alias("z"),
    )
    degenerate = ["", f"; max = min {NO_SPREAD}"]
    beyond = ["", "; clipped" if spec.clip else "; beyond the bounds, not clipped"]
    if basis_text is not None:
        # minmax({basis}{degenerate}{beyond}): a few texts per leaf, picked by a code
        texts = [
            None if b is None else f"minmax({b}{d}{c})"
            for b in basis_text
            for d in degenerate
            for c in beyond
        ]
        variant = (span == 0).fill_null(False).cast(pl.Int32) * 2 + clipped.fill_null(False).cast(
            pl.Int32
        )
        return note_pick(frame, texts, leaf_code(4, variant))
    text = pl.concat_str(
        pl.lit("minmax("),
        basis,
        pl.when(span == 0).then(pl.lit(degenerate[1])).otherwise(pl.lit("")),
        pl.when(clipped).then(pl.lit(beyond[1])).otherwise(pl.lit("")),
        pl.lit(")"),
    )
    return note(frame, text)


RUBRIC_SHARE = "_rubric_share"
NO_SPREAD = "→ n = rubric points ÷ max"  # how rule_applied says a group had no spread


def _rubric_share_where_degenerate(
    frame: pl.DataFrame, framework: Framework, degenerate: pl.Expr
) -> pl.DataFrame:
    """The no-spread rule of min-max and z-score (a group where max = min, sd = 0, or a single
    value): adds ``RUBRIC_SHARE``, on the rows of such a group the leaf's rubric
    points of the row's value ÷ the leaf's maximum (0 for a leaf of maximum 0), so no unit earns
    points for a value nobody achieved; null elsewhere. The rubric is applied to the distinct
    (leaf, value) pairs only; ``relative_best`` compares the value with itself (the group's
    best when every value is equal)."""
    pairs = (
        frame.filter(degenerate.fill_null(False) & pl.col("value").is_not_null())
        .select(LEAF, "value")
        .unique()
    )
    if pairs.is_empty():
        return frame.with_columns(pl.lit(None, dtype=pl.Float64).alias(RUBRIC_SHARE))
    leaf_dtype = frame.schema[LEAF]
    table = leaf_table(framework).with_row_index(LEAF).with_columns(pl.col(LEAF).cast(leaf_dtype))
    pairs = pairs.join(table, on=LEAF, how="left")
    rubric = rubric_signed(pairs, framework, keys=Keys(group=(LEAF, "value")))
    share = rubric.select(
        LEAF,
        "value",
        pl.when(pl.col("max_points") > 0)
        .then(pl.col("points").fill_null(0.0) / pl.col("max_points"))
        .otherwise(0.0)
        .alias(RUBRIC_SHARE),
    )
    return frame.join(
        share, on=[LEAF, "value"], how="left", nulls_equal=False, maintain_order="left"
    )


# ---------------------------------------------------------------- z-score


def zscore_points(
    values: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec | None = None,
    history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """``z = (x − mean) / sd`` with the sample sd (n − 1); points = Φ(z) × max points (``cdf``)
    or ``clip(0.5 + 0.1 z, 0, 1) × max`` (``rescaled``; see :mod:`pipelines.scoring.methods`)."""
    return method_points(values, framework, zscore_signed, spec or MethodSpec("zscore"), history)


def zscore_signed(
    frame: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec,
    history: pl.DataFrame | None = None,
    keys: Keys = DEFAULT_KEYS,
) -> pl.DataFrame:
    """:func:`zscore_points` on a frame with the leaf attributes and ``signed``."""
    group = list(keys.group)
    frame = frame.with_columns(pl.col("signed").std(ddof=1).over(group).alias("sd"))
    degenerate = pl.col("sd").is_null() | (pl.col("sd") == 0)
    z = (
        pl.when(pl.col("signed").is_null())
        .then(None)
        .when(degenerate)
        .then(0.0)
        .otherwise((pl.col("signed") - pl.col("signed").mean().over(group)) / pl.col("sd"))
    )
    frame = frame.with_columns(z.alias("z"))
    if spec.zscore_mode == "rescaled":
        frame = frame.with_columns(
            (RESCALE_CENTRE + RESCALE_SPREAD * pl.col("z")).clip(0.0, 1.0).alias("normalised")
        )
    else:
        cdf = ndtr(frame["z"].to_numpy(allow_copy=True).astype(np.float64, copy=False))
        frame = frame.with_columns(pl.Series("normalised", cdf, nan_to_null=True))
    frame = _rubric_share_where_degenerate(frame, framework, degenerate)
    frame = frame.with_columns(
        pl.when(degenerate & pl.col("signed").is_not_null())
        .then(pl.col(RUBRIC_SHARE))
        .otherwise(pl.col("normalised"))
        .alias("normalised")
    )
    frame = frame.with_columns((pl.col("normalised") * pl.col("max_points")).alias("points"))
    mode = spec.zscore_mode
    return note_pick(
        frame,
        [
            f"zscore({mode})",
            f"zscore({mode}; fewer than 2 values {NO_SPREAD})",
            f"zscore({mode}; sd = 0 {NO_SPREAD})",
        ],
        pl.when(pl.col("sd").is_null()).then(1).when(pl.col("sd") == 0).then(2).otherwise(0),
    )
