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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import polars as pl
from scipy.special import ndtr

from pipelines.framework.model import Framework
from pipelines.scoring.grid import GROUP_CODE, LEAF, POOLED_CODE, with_codes
from pipelines.scoring.keys import GROUP_KEYS
from pipelines.scoring.methods import RESCALE_CENTRE, RESCALE_SPREAD, MethodSpec

OUTPUT = ["normalised", "z", "points", "rule_applied"]
# the leaf attributes the methods read, gathered onto the rows by the leaf's position
ATTRIBUTES = ("max_points", "direction", "rule_kind", "target", "goalpost_lo", "goalpost_hi")


@dataclass(frozen=True)
class Keys:
    """The columns the group statistics are taken over: ``group`` = one comparison group, year
    and leaf; ``pooled`` = one group and leaf over every year. A grid with integer codes
    (:func:`pipelines.scoring.grid.with_codes`) is read by one code column for each
    (:func:`keys_of`): the same groups, the same rows in the same order, so the same numbers."""

    group: tuple[str, ...] = tuple(GROUP_KEYS)
    pooled: tuple[str, ...] = ("group_id", "node_id")


DEFAULT_KEYS = Keys()


def keys_of(frame: pl.DataFrame, history: pl.DataFrame | None = None) -> Keys:
    """The integer codes of ``frame`` when it has them, else the text keys; pooled bounds
    over other years' values (``history``) are matched by the text keys."""
    if GROUP_CODE not in frame.columns:
        return DEFAULT_KEYS
    other_years = history is not None and not history.is_empty()
    pooled = DEFAULT_KEYS.pooled if other_years else (POOLED_CODE,)
    return Keys(group=(GROUP_CODE,), pooled=pooled)


def num_text(expr: pl.Expr) -> pl.Expr:
    """A number as short text for ``rule_applied``: 6 decimals at most, no trailing ``.0``."""
    return expr.round(6).cast(pl.String).str.replace(r"\.0$", "")


def leaf_table(framework: Framework) -> pl.DataFrame:
    """Leaf attributes needed by the methods: max points, direction, rule, goalposts."""
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


def _signed(values: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Attach the leaf attributes (by the leaf's position: :func:`with_codes`) and the
    direction-adjusted value (lower-is-better is negated)."""
    # the rule kind is only compared: a categorical (4 bytes a row, not a 16-byte view)
    table = leaf_table(framework).with_columns(pl.col("rule_kind").cast(pl.Categorical))
    frame = with_codes(values, framework).drop(ATTRIBUTES, strict=False)
    return frame.with_columns(
        pl.lit(table[column]).gather(pl.col(LEAF)).alias(column) for column in ATTRIBUTES
    ).with_columns((pl.col("value") * pl.col("direction")).alias("signed"))


def pick(texts: Sequence[str | None], code: pl.Expr) -> pl.Expr:
    """``texts[code]`` on every row (null where ``code`` is null): the few fixed notes of
    ``rule_applied`` without building a string row by row."""
    return pl.lit(pl.Series(texts, dtype=pl.String)).gather(code)


def _note(frame: pl.DataFrame, note: pl.Expr) -> pl.DataFrame:
    """``rule_applied``: the note where the value gave points, else null."""
    return frame.with_columns(
        pl.when(pl.col("points").is_null()).then(None).otherwise(note).alias("rule_applied")
    )


def _note_pick(frame: pl.DataFrame, texts: Sequence[str | None], code: pl.Expr) -> pl.DataFrame:
    """:func:`_note` of ``texts[code]``."""
    return _note(frame, pick(texts, code))


def _leaf_texts(framework: Framework, text: pl.Expr) -> list[str | None]:
    """``text`` evaluated on the leaf table: one string per leaf, in ``framework.leaves()``
    order (the code ``_leaf``)."""
    return leaf_table(framework).select(text.alias("t"))["t"].to_list()


def _leaf_code(texts_per_leaf: int, variant: pl.Expr) -> pl.Expr:
    return pl.col(LEAF).cast(pl.Int32) * texts_per_leaf + variant.cast(pl.Int32)


def _points(
    values: pl.DataFrame,
    framework: Framework,
    signed_method: Callable[..., pl.DataFrame],
    spec: MethodSpec | None,
    history: pl.DataFrame | None,
) -> pl.DataFrame:
    """A method's public form: the input columns plus ``OUTPUT``, from its ``*_signed`` core."""
    frame = _signed(values, framework)
    frame = signed_method(frame, framework, spec, history, keys_of(frame, history))
    return frame.select(*values.columns, *OUTPUT)


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
        past = _signed(
            history.select(
                pl.col("unit_id").cast(pl.String),
                pl.col("year").cast(pl.Int32),
                pl.col("group_id").cast(pl.String),
                pl.col("node_id").cast(pl.String),
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
    return _points(values, framework, minmax_signed, spec or MethodSpec("minmax"), history)


def minmax_signed(
    frame: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec,
    history: pl.DataFrame | None = None,
    keys: Keys = DEFAULT_KEYS,
) -> pl.DataFrame:
    """:func:`minmax_points` on a frame that already carries the leaf attributes and
    ``signed`` (:func:`_signed`); adds ``OUTPUT``. With ``keys`` other than the string keys the
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
            basis_text = _leaf_texts(framework, basis)  # a leaf's goalposts are its own
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
        return _note_pick(frame, texts, _leaf_code(4, variant))
    note = pl.concat_str(
        pl.lit("minmax("),
        basis,
        pl.when(span == 0).then(pl.lit(degenerate[1])).otherwise(pl.lit("")),
        pl.when(clipped).then(pl.lit(beyond[1])).otherwise(pl.lit("")),
        pl.lit(")"),
    )
    return _note(frame, note)


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
    return _points(values, framework, zscore_signed, spec or MethodSpec("zscore"), history)


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
    return _note_pick(
        frame,
        [
            f"zscore({mode})",
            f"zscore({mode}; fewer than 2 values {NO_SPREAD})",
            f"zscore({mode}; sd = 0 {NO_SPREAD})",
        ],
        pl.when(pl.col("sd").is_null()).then(1).when(pl.col("sd") == 0).then(2).otherwise(0),
    )


# ---------------------------------------------------------------- rubric (points)


def rubric_points(
    values: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec | None = None,
    history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Apply each leaf's rubric rule (docs/framework-format.md, "Rules") to its raw value."""
    return _points(values, framework, rubric_signed, spec, history)


def rubric_signed(
    frame: pl.DataFrame,
    framework: Framework,
    spec: MethodSpec | None = None,
    history: pl.DataFrame | None = None,
    keys: Keys = DEFAULT_KEYS,
) -> pl.DataFrame:
    """:func:`rubric_points` on a frame with the leaf attributes and ``signed``."""
    group = list(keys.group)
    lower = pl.col("direction") == -1
    kinds = [leaf.rule.kind if leaf.rule else None for leaf in framework.leaves()]
    relative = [i for i, k in enumerate(kinds) if k == "relative_best"]
    best = pl.Series("best", np.full(frame.height, np.nan), nan_to_null=True)
    if relative:  # the best of the group, on the rows of relative_best leaves alone
        rows = frame.select(pl.col(LEAF).is_in(relative).fill_null(False).arg_true())
        rows = rows.to_series()
        # the highest signed value, back in raw terms (lower-is-better: the lowest value)
        signed = pl.col("value") * pl.col("direction")
        found = frame[rows].select((signed.max().over(group) * pl.col("direction")).alias("b"))
        best = best.scatter(rows, found["b"])
    frame = frame.with_columns(best)
    points = pl.Series("points", _simple_rules(frame, framework), nan_to_null=True)
    frame = frame.with_columns(points)
    frame = _table_rules(frame, framework)
    frame = frame.with_columns(
        pl.when(pl.col("max_points") > 0)
        .then(pl.col("points") / pl.col("max_points"))
        .otherwise(None)  # a leaf of maximum 0 (reported, not scored): no share, never NaN
        .alias("normalised"),
        pl.lit(None, dtype=pl.Float64).alias("z"),
    )
    # points.{kind}, and "(best ≤ 0 → 0)" for a higher-is-better relative_best nobody achieved
    texts = [
        None if k is None else f"points.{k}{tail}" for k in kinds for tail in ("", "(best ≤ 0 → 0)")
    ]
    nobody = (pl.col("rule_kind") == "relative_best") & ~lower & (pl.col("best") <= 0)
    return _note_pick(frame, texts, _leaf_code(2, nobody.fill_null(False)))


SIMPLE_KINDS = ("ratio", "yesno", "relative_best", "direct")


def _simple_rules(frame: pl.DataFrame, framework: Framework) -> np.ndarray:
    """Points of the leaves whose rule is a formula (NaN elsewhere: steps, categories, no rule,
    no value), each kind computed on its own rows only:

    - ``ratio``: ``min(x / target, 1)`` (≥ 0) × max; lower-is-better ``min(target / x, 1)``,
      and the maximum for x ≤ 0;
    - ``yesno``: the maximum for x ≥ 0.5, else 0;
    - ``relative_best``: ``x / best`` (≥ 0) × max, 0 when the best is ≤ 0 (nobody achieved
      anything); lower-is-better ``best / x`` (≥ 0) × max, the maximum for x ≤ 0;
    - ``direct``: x clipped to [0, max]."""
    table = leaf_table(framework)
    kinds = table["rule_kind"].to_list()
    n_leaves = len(kinds)
    # per leaf (and one past the end for rows of no known leaf)
    code = np.array([*(SIMPLE_KINDS.index(k) if k in SIMPLE_KINDS else -1 for k in kinds), -1])
    tops = np.append(table["max_points"].cast(pl.Float64).to_numpy(), np.nan)
    lowers = np.append((table["direction"] == -1).to_numpy(), False)
    targets = np.append(table["target"].cast(pl.Float64).to_numpy(), np.nan)
    value = frame["value"]
    x = value.to_numpy().astype(np.float64, copy=False)  # null → NaN
    leaf = frame[LEAF].fill_null(n_leaves).cast(pl.Int64).to_numpy()
    row_kind = code[leaf]
    if value.null_count():
        row_kind[value.is_null().to_numpy()] = -1
    points = np.full(len(x), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        rows = np.flatnonzero(row_kind == 0)  # ratio
        xs, at = x[rows], leaf[rows]
        share = np.where(
            lowers[at],
            np.where(xs <= 0, 1.0, np.fmin(targets[at] / xs, 1.0)),
            np.maximum(np.fmin(xs / targets[at], 1.0), 0.0),
        )
        points[rows] = share * tops[at]
        rows = np.flatnonzero(row_kind == 1)  # yesno
        points[rows] = np.where(x[rows] >= 0.5, tops[leaf[rows]], 0.0)
        rows = np.flatnonzero(row_kind == 2)  # relative_best
        xs, at = x[rows], leaf[rows]
        b = frame["best"].gather(rows).to_numpy().astype(np.float64, copy=False)
        t = tops[at]
        points[rows] = np.where(
            lowers[at],
            np.where(xs <= 0, t, np.maximum(b / xs, 0.0) * t),
            np.where(b <= 0, 0.0, np.maximum(xs / b, 0.0) * t),
        )
        rows = np.flatnonzero(row_kind == 3)  # direct
        points[rows] = np.clip(x[rows], 0.0, tops[leaf[rows]])
    return points


def _table_rules(frame: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Steps and categorical rules: the first threshold reached (thresholds are listed best
    first), else the ``else`` points; the points of the category of the value, else null.

    Only the rows of such leaves are read, leaf by leaf (a join on (leaf, value) over every row
    took a second at national scale); :func:`_table_rules_join` is the lookup-table form, used
    for the values a float comparison and a join could tell apart (NaN, −0.0) and for a
    category listed twice."""
    steps: dict[int, tuple[list[tuple[float, float]], float]] = {}
    categories: dict[int, dict[float, float]] = {}
    for position, leaf in enumerate(framework.leaves()):
        if leaf.rule is None:
            continue
        if leaf.rule.kind == "steps":
            thresholds = [(float(t), float(p)) for t, p in leaf.rule.params["thresholds"]]
            steps[position] = (thresholds, float(leaf.rule.params.get("else", 0.0)))
        elif leaf.rule.kind == "categorical":
            listed = [(float(c), float(p)) for c, p in leaf.rule.params["categories"].items()]
            if len({c for c, _ in listed}) != len(listed):
                return _table_rules_join(frame, framework)
            categories[position] = dict(listed)
    if not steps and not categories:
        return frame
    leaf_all = frame[LEAF].fill_null(len(framework.leaves())).cast(pl.Int64).to_numpy()
    is_table = np.zeros(len(framework.leaves()) + 1, dtype=bool)
    is_table[list(steps) + list(categories)] = True
    rows = np.flatnonzero(is_table[leaf_all] & frame["value"].is_not_null().to_numpy())
    if rows.size == 0:
        return frame
    leaf_of = leaf_all[rows]
    value = frame["value"].to_numpy()[rows]
    if np.isnan(value).any() or ((value == 0) & np.signbit(value)).any():
        return _table_rules_join(frame, framework)
    points = np.full(len(value), np.nan)
    order = np.argsort(leaf_of, kind="stable")  # each leaf's rows together
    bounds = np.flatnonzero(np.diff(leaf_of[order], prepend=-1, append=-1))
    lower = {i: leaf.direction == -1 for i, leaf in enumerate(framework.leaves())}
    for start, stop in pairwise(bounds):
        mine = order[start:stop]
        position = int(leaf_of[mine[0]])
        x = value[mine]
        if position in steps:
            thresholds, otherwise = steps[position]
            got = np.full(len(mine), otherwise)
            for threshold, step_points in reversed(thresholds):  # the first reached wins
                reached = x <= threshold if lower[position] else x >= threshold
                got[reached] = step_points
        else:
            got = np.full(len(mine), np.nan)  # a value of no category: null
            for code, category_points in categories[position].items():
                got[x == code] = category_points
        points[mine] = got
    new = pl.Series("p", points, nan_to_null=True)
    return frame.with_columns(frame["points"].clone().scatter(rows, new).alias("points"))


def _table_rules_join(frame: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Steps and categorical rules: a lookup table joined on (leaf, value) (the leaf by its
    position ``_leaf``)."""
    steps, categories = [], []
    for position, leaf in enumerate(framework.leaves()):
        if leaf.rule is None:
            continue
        if leaf.rule.kind == "steps":
            for order, (threshold, points) in enumerate(leaf.rule.params["thresholds"]):
                steps.append((position, order, float(threshold), float(points)))
        elif leaf.rule.kind == "categorical":
            for code, points in leaf.rule.params["categories"].items():
                categories.append((position, float(code), float(points)))
    frame = frame.with_row_index("_row")
    if steps:
        table = pl.DataFrame(
            steps,
            schema={
                LEAF: pl.UInt32,
                "step_order": pl.Int64,
                "threshold": pl.Float64,
                "step_points": pl.Float64,
            },
            orient="row",
        )
        hit = (
            frame.filter(pl.col("rule_kind") == "steps", pl.col("value").is_not_null())
            .select("_row", LEAF, "value", "direction")
            .join(table, on=LEAF)
            .filter(
                pl.when(pl.col("direction") == -1)
                .then(pl.col("value") <= pl.col("threshold"))
                .otherwise(pl.col("value") >= pl.col("threshold"))
            )
            # thresholds are listed best first: the first satisfied one gives the points
            .group_by("_row")
            .agg(pl.col("step_points").sort_by("step_order").first())
        )
        else_points = {
            position: float(leaf.rule.params.get("else", 0.0))
            for position, leaf in enumerate(framework.leaves())
            if leaf.rule is not None and leaf.rule.kind == "steps"
        }
        frame = frame.join(hit, on="_row", how="left", maintain_order="left").with_columns(
            pl.when((pl.col("rule_kind") == "steps") & pl.col("value").is_not_null())
            .then(
                pl.coalesce(
                    "step_points",
                    pl.col(LEAF).replace_strict(else_points, default=0.0, return_dtype=pl.Float64),
                )
            )
            .otherwise(pl.col("points"))
            .alias("points")
        )
    if categories:
        table = pl.DataFrame(
            categories,
            schema={LEAF: pl.UInt32, "value": pl.Float64, "category_points": pl.Float64},
            orient="row",
        )
        hit = (
            frame.filter(pl.col("rule_kind") == "categorical")
            .select("_row", LEAF, "value")
            .join(table, on=[LEAF, "value"], how="inner")
            .select("_row", "category_points")
        )
        frame = frame.join(hit, on="_row", how="left", maintain_order="left").with_columns(
            pl.when(pl.col("rule_kind") == "categorical")
            .then(pl.col("category_points"))
            .otherwise(pl.col("points"))
            .alias("points")
        )
    return frame.drop("_row")
