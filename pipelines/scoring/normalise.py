"""Leaf values → leaf points, per comparison group and year (DOMAIN.md, "Scoring methods").

Input frames have one row per unit, year and leaf: ``unit_id, year, group_id, node_id, value``
with ``value`` null where nothing was reported. Statistics ignore missing values; missing values
stay missing here and get points from the missing-data rule in :mod:`pipelines.scoring.engine`.
Every normaliser returns ``normalised, z, points`` and ``rule_applied`` (how the points were
obtained, e.g. ``minmax(observed)``; null where the value is missing).

Every leaf by its own method: a node of the framework may declare the normalisation of the
leaves below it (``normalisation: {method, goalposts}``, the nearest declaration winning:
:meth:`Framework.leaf_normalisation`); the run's method applies to every other leaf, so one pass
sends the rows of each method's leaves to that method's core (:func:`normalise_signed`), and
declared goalposts are read by the min-max core as the bounds of their leaves. ``rule_applied``
says which method scored each leaf (``points.steps``, ``minmax(goalposts [0, 100] declared by
P2)``, ``zscore(cdf)``).

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
from pipelines.scoring.choices import METHODS
from pipelines.scoring.grid import GROUP_CODE, LEAF, POOLED_CODE, typed
from pipelines.scoring.leaf_frame import (
    OUTPUT,
    leaf_code,
    leaf_methods,
    leaf_texts,
    note_pick,
    num_text,
    signed_frame,
)
from pipelines.scoring.methods import RESCALE_CENTRE, RESCALE_SPREAD, MethodSpec
from pipelines.scoring.rubric import rubric_array, rubric_signed


def normalise(
    values: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec,
    history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Leaf points by the run's method, or by the method a node of the framework declares for
    a leaf (``normalisation``): the input columns and ``OUTPUT``; missing values stay null
    (the missing-data rule: :func:`pipelines.scoring.engine.impute`).

    ``history`` (other years' ``unit_id, year, group_id, node_id, value``) feeds pooled min-max
    bounds and reference-year goalposts; the values' own years always count."""
    frame = signed_frame(values, framework)
    return normalise_signed(frame, framework, spec, history).select(*values.columns, *OUTPUT)


def normalise_signed(
    frame: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec,
    history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """:func:`normalise` on a frame with the leaf attributes and ``signed``
    (:func:`signed_frame`): the rows of each method's leaves go to that method's core (a group
    is one leaf, so its statistics are the same as over the whole frame), back in their order.
    Rows of no known leaf go with the run's method."""
    methods = leaf_methods(framework, spec)
    present = [m for m in METHODS if m in methods]
    if present == [spec.method] or not present:
        return SIGNED_CORES[spec.method](frame, framework, spec, history)
    frame = frame.with_row_index("_row")
    parts = []
    for method in present:
        mine = pl.col(LEAF).is_in([i for i, m in enumerate(methods) if m == method])
        if method == spec.method:
            mine = mine.fill_null(True)
        part = frame.filter(mine.fill_null(False))
        parts.append(SIGNED_CORES[method](part, framework, spec, history))
    return pl.concat(parts, how="diagonal_relaxed").sort("_row").drop("_row")


def reads_other_years(spec: MethodSpec, framework: Framework) -> bool:
    """Whether scoring ``framework`` by ``spec`` reads years other than the one scored: the
    run's own min-max with pooled or reference-year bounds (``spec.needs_other_years``), or,
    under such bounds, a leaf a node declares ``method: minmax`` for without goalposts (it
    takes the run's bounds whatever the run's method)."""
    if spec.needs_other_years:
        return True
    if spec.minmax_bounds != "pooled" and spec.reference_year is None:
        return False
    declared = (framework.leaf_normalisation(leaf.id) for leaf in framework.leaves())
    return any(
        d is not None and d[1].effective_method == "minmax" and d[1].goalposts is None
        for d in declared
    )


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
        past = history.select(*typed("unit_id", "year", "group_id", "node_id", "value"))
        past = past.with_columns(pl.col("node_id").cast(frame.schema["node_id"]))
        past = signed_frame(past, framework).select(pool.columns)
        pool = pl.concat([pool, past]).unique(subset=["unit_id", "year", "node_id"], keep="first")
    return (
        pool.filter(pl.col("signed").is_not_null())
        .group_by(keys)
        .agg(pl.col("signed").min().alias("lo"), pl.col("signed").max().alias("hi"))
    )


def minmax_signed(
    frame: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec,
    history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """``n = (x − lo) / (hi − lo)`` with the spec's bounds, points = n × max points, on a frame
    with the leaf attributes and ``signed`` (:func:`signed_frame`); adds ``OUTPUT``.

    ``history`` holds other years' values (``unit_id, year, group_id, node_id, value``) for
    pooled bounds and reference-year goalposts; values of the frame itself always count."""
    frame = frame.with_columns(
        pl.col("signed").min().over(GROUP_CODE).alias("obs_lo"),
        pl.col("signed").max().over(GROUP_CODE).alias("obs_hi"),
    )
    lo, hi = pl.col("obs_lo"), pl.col("obs_hi")
    n_leaves = len(framework.leaves())
    # the basis of each leaf's bounds, in two variants: its own, and (reference-year goalposts)
    # the group's when the group is absent in the reference year
    basis = [("observed", "observed")] * n_leaves
    absent = pl.lit(False)
    if spec.minmax_bounds == "pooled":
        other_years = history is not None and not history.is_empty()
        # other years' values are matched by the text keys; the frame's own by its codes
        keys = ["group_id", "node_id"] if other_years else [POOLED_CODE]
        pooled = _bounds(frame, keys, history, framework)
        frame = frame.join(pooled, on=keys, how="left", nulls_equal=True)
        lo, hi = pl.col("lo"), pl.col("hi")
        basis = [("pooled", "pooled")] * n_leaves
    elif spec.minmax_bounds == "goalposts":
        # framework goalposts in signed terms: higher [lo, hi]; lower [−hi, −lo]
        has_fixed = pl.col("goalpost_lo").is_not_null()
        lower = pl.col("direction") == -1
        fixed_lo = pl.when(lower).then(-pl.col("goalpost_hi")).otherwise(pl.col("goalpost_lo"))
        fixed_hi = pl.when(lower).then(-pl.col("goalpost_lo")).otherwise(pl.col("goalpost_hi"))
        fixed = leaf_texts(framework, _goalposts_text("goalpost_lo", "goalpost_hi"))
        year = spec.reference_year
        if year is not None:
            reference = _bounds(frame, ["year", "group_id", "node_id"], history, framework)
            reference = reference.filter(pl.col("year") == year).drop("year")
            frame = frame.join(
                reference.rename({"lo": "ref_lo", "hi": "ref_hi"}),
                on=["group_id", "node_id"],
                how="left",
                nulls_equal=True,
            )
            has_ref = pl.col("ref_lo").is_not_null()
            lo = pl.when(has_fixed).then(fixed_lo).when(has_ref).then("ref_lo").otherwise("obs_lo")
            hi = pl.when(has_fixed).then(fixed_hi).when(has_ref).then("ref_hi").otherwise("obs_hi")
            absent = ~has_fixed & ~has_ref
            own = (f"goalposts of {year}", f"observed: group absent in {year}")
        else:
            lo = pl.when(has_fixed).then(fixed_lo).otherwise("obs_lo")
            hi = pl.when(has_fixed).then(fixed_hi).otherwise("obs_hi")
            own = ("observed: no goalposts",) * 2
        basis = [(f, f) if f is not None else own for f in fixed]  # a leaf's goalposts are its own
    # goalposts a node declares (``normalisation``) win over the run's bounds, on their leaves
    # (none declared: the run's bounds themselves, not a copy of them on every row)
    declared = leaf_texts(framework, _goalposts_text("norm_lo", "norm_hi", by="norm_by"))
    if any(d is not None for d in declared):
        lower = pl.col("direction") == -1
        is_declared = pl.col("norm_lo").is_not_null()
        declared_lo = pl.when(lower).then(-pl.col("norm_hi")).otherwise("norm_lo")
        declared_hi = pl.when(lower).then(-pl.col("norm_lo")).otherwise("norm_hi")
        lo = pl.when(is_declared).then(declared_lo).otherwise(lo)
        hi = pl.when(is_declared).then(declared_hi).otherwise(hi)
        basis = [(d, d) if d is not None else b for d, b in zip(declared, basis, strict=True)]
    frame = frame.with_columns(lo.alias("lo_used"), hi.alias("hi_used"))
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
    # minmax({basis}{degenerate}{beyond}): eight texts per leaf, picked by a code
    beyond = "; clipped" if spec.clip else "; beyond the bounds, not clipped"
    texts = [
        f"minmax({b}{d}{c})"
        for pair in basis
        for b in pair
        for d in ("", f"; max = min {NO_SPREAD}")
        for c in ("", beyond)
    ]
    variant = (
        absent.fill_null(False).cast(pl.Int32) * 4
        + (span == 0).fill_null(False).cast(pl.Int32) * 2
        + clipped.fill_null(False).cast(pl.Int32)
    )
    return note_pick(frame, texts, leaf_code(8, variant))


def _goalposts_text(lo: str, hi: str, by: str | None = None) -> pl.Expr:
    """``goalposts [lo, hi]`` (``declared by <node>`` with ``by``) from a leaf table's columns;
    null where there are none."""
    parts = [pl.lit("goalposts ["), num_text(pl.col(lo)), pl.lit(", "), num_text(pl.col(hi))]
    tail = [pl.lit("]")] if by is None else [pl.lit("] declared by "), pl.col(by)]
    return pl.concat_str([*parts, *tail])


RUBRIC_SHARE = "_rubric_share"
NO_SPREAD = "→ n = rubric points ÷ max"  # how rule_applied says a group had no spread


def _rubric_share_where_degenerate(
    frame: pl.DataFrame, framework: Framework, degenerate: pl.Expr
) -> pl.DataFrame:
    """The no-spread rule of min-max and z-score (a group where max = min, sd = 0, or a single
    value): adds ``RUBRIC_SHARE``, on the rows of such a group the leaf's rubric points of the
    row's value ÷ the leaf's maximum (0 for a leaf of maximum 0, or a value the rubric gives
    nothing), so no unit earns points for a value nobody achieved; null elsewhere.
    ``relative_best`` compares the value with itself (the group's best when every value is
    equal)."""
    rows = frame.select((degenerate.fill_null(False) & pl.col("value").is_not_null()).arg_true())
    rows = rows.to_series().to_numpy()
    share = np.full(frame.height, np.nan)
    if rows.size:
        part = frame[rows]
        x = part["value"].cast(pl.Float64).to_numpy()
        leaf = part[LEAF].fill_null(len(framework.leaves())).to_numpy()
        points = np.nan_to_num(rubric_array(x, leaf, x, framework))
        top = part["max_points"].cast(pl.Float64).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            share[rows] = np.where(top > 0, points / top, 0.0)
    return frame.with_columns(pl.Series(RUBRIC_SHARE, share, nan_to_null=True))


# ---------------------------------------------------------------- z-score


def zscore_signed(
    frame: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec,
    history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """``z = (x − mean) / sd`` with the sample sd (n − 1); points = Φ(z) × max points (``cdf``)
    or ``clip(0.5 + 0.1 z, 0, 1) × max`` (``rescaled``; see :mod:`pipelines.scoring.methods`),
    on a frame with the leaf attributes and ``signed``."""
    group = GROUP_CODE
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


SIGNED_CORES = {"points": rubric_signed, "minmax": minmax_signed, "zscore": zscore_signed}
