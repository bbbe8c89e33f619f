"""Per-unit special scoring rules (Sơn La 2024), applied after normalisation, before aggregation.

Source: Sơn La's 2024 decision on the DTI of its state agencies (press summary of 16/7/2024; see
docs/domain.md, "Sơn La"). Each rule is switched on by the preset
(``rules:`` in docs/presets.md), applies to the units whose registry flags say so and to the leaves
whose framework flags (own or inherited from an ancestor) say so:

``special_units_max``  — a special unit (``is_special`` true) scores the **maximum** on the leaves
    unrelated to its own function ("các tiêu chí … không liên quan đến chức năng, nhiệm vụ … được
    tính điểm tối đa"): the unit's own list in ``special_units`` (unit id → component ids) when
    the preset gives one, else every ``function_specific`` leaf.
``subordinate_best``   — a unit without subordinate units (``has_subordinates`` false) scores, on
    every ``subordinate`` leaf, the **highest points any unit of its comparison group achieved**
    there that year ("bằng với số điểm cao nhất của các cơ quan, đơn vị đạt được"). "Achieved"
    means scored from a reported value by a unit the rule does not apply to. When nobody achieved
    anything the unit keeps the points of its own value, if it reported one, else the leaf falls to
    the missing-data rule.
``dvctt_proportional`` — a unit without online public services (``has_dvctt`` false) scores, on
    every ``dvctt`` leaf, ``(points on the non-DVCTT leaves in scope ÷ their maximum) × the leaf's
    maximum``. Scope ``pillar`` (default): the non-DVCTT leaves of the same pillar; ``index``: of
    the whole index. A pillar without any non-DVCTT leaf uses the index scope; when no non-DVCTT
    leaf is scored at all (everything excluded) the unit keeps the points of its own value, if it
    reported one, else the leaf falls to the missing-data rule.

Precedence when several apply to one leaf: special_units_max, then subordinate_best, then
dvctt_proportional. A rule overrides any value the unit reported for that leaf. A unit flag that is
null (unknown) never triggers a rule. Rule-given leaves have ``z`` null (not from a value) and
``n_missing`` 0; ``rule_applied`` says which rule gave the points and with which numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.choices import DVCTT_SCOPES, DvcttScope, check_choice
from pipelines.scoring.grid import GROUP_CODE, LEAF, UNIT_KEYS, typed
from pipelines.scoring.leaf_frame import num_text

RULE_PREFIX = "sonla"
UNIT_FLAGS = ("has_subordinates", "has_dvctt", "is_special")
SPECIAL, SUBORDINATE, DVCTT = "special_units_max", "subordinate_best", "dvctt_proportional"
SUB_NOBODY = f"{RULE_PREFIX}.{SUBORDINATE}: no unit of the group scored this leaf"
DVCTT_NOBASE = f"{RULE_PREFIX}.{DVCTT}: no non-DVCTT component scored"


@dataclass(frozen=True)
class RuleSettings:
    """Which per-unit rules a preset switches on (all off by default: Đắk Lắk has none)."""

    subordinate_best: bool = False
    dvctt_proportional: bool = False
    dvctt_scope: DvcttScope = "pillar"
    special_units_max: bool = False
    # unit id → the component ids unrelated to that special unit's function (empty: the
    # framework's function_specific flag, the same for every special unit)
    special_units: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __post_init__(self) -> None:
        check_choice("rules.dvctt_scope", self.dvctt_scope, DVCTT_SCOPES)

    @property
    def active(self) -> bool:
        return self.subordinate_best or self.dvctt_proportional or self.special_units_max

    def params(self) -> dict[str, Any]:
        """The settings as recorded in a snapshot (``special_units`` only when given)."""
        params = asdict(self)
        params["special_units"] = {unit: list(ids) for unit, ids in self.special_units}
        if not self.special_units:
            del params["special_units"]
        return params

    @classmethod
    def from_mapping(cls, mapping: Any, origin: str = "rules") -> RuleSettings:
        """``rules:`` of a preset; unknown keys and non-boolean switches are errors."""
        if mapping is None:
            return cls()
        if not isinstance(mapping, dict):
            raise ValueError(f"{origin}: 'rules' must be a mapping")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(mapping) - known)
        if unknown:
            raise ValueError(f"{origin}: unknown rules {unknown}; known: {sorted(known)}")
        mapping = dict(mapping)
        mapping["special_units"] = _special_units(mapping.get("special_units"), origin)
        for key, value in mapping.items():
            if key not in ("dvctt_scope", "special_units") and not isinstance(value, bool):
                raise ValueError(f"{origin}: rules.{key} must be true or false, not {value!r}")
        return cls(**mapping)


def _special_units(mapping: Any, origin: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``rules.special_units`` (unit id → list of component ids) as a sorted, hashable tuple."""
    if mapping is None:
        return ()
    if not isinstance(mapping, dict):
        raise ValueError(f"{origin}: rules.special_units must map unit ids to component ids")
    out = []
    for unit, components in sorted(mapping.items()):
        if not isinstance(components, list) or not all(isinstance(c, str) for c in components):
            raise ValueError(
                f"{origin}: rules.special_units.{unit} must be a list of component ids, "
                f"not {components!r}"
            )
        out.append((str(unit), tuple(components)))
    return tuple(out)


def _leaf_flags(framework: Framework) -> list[pl.Series]:
    """Per leaf (``framework.leaves()`` order): its pillar and its own or inherited flags."""
    flags = [framework.effective_flags(leaf.id) for leaf in framework.leaves()]
    pillars = [framework.pillar_of(leaf.id) for leaf in framework.leaves()]
    return [
        pl.Series("scope_pillar", pillars, dtype=pl.String),
        *(
            pl.Series(f"f_{flag}", [flag in f for f in flags], dtype=pl.Boolean)
            for flag in ("dvctt", "subordinate", "function_specific")
        ),
    ]


def mark_targets(
    leaves: pl.DataFrame, units: pl.DataFrame, framework: Framework, settings: RuleSettings
) -> pl.DataFrame:
    """Add ``unit_rule`` (the rule that gives this leaf's points, or null) and the unit flags
    (``leaves``: a grid's rows, with the leaf's position ``_leaf``)."""
    nothing = pl.lit(None, dtype=pl.String)
    if not settings.active:
        # no rule is switched on: nothing reads the flags, and no leaf has a rule
        return leaves.with_columns(
            *[pl.lit(None, dtype=pl.Boolean).alias(c) for c in UNIT_FLAGS],
            nothing.alias("unit_rule"),
            nothing.alias("fallback_note"),
        )
    flags = [c for c in UNIT_FLAGS if c in units.columns]
    unit_flags = units.select(
        *typed("unit_id", "year"),
        *[pl.col(c).cast(pl.Boolean) for c in flags],
        *[pl.lit(None, dtype=pl.Boolean).alias(c) for c in UNIT_FLAGS if c not in flags],
    ).unique(subset=["unit_id", "year"], keep="last")
    frame = leaves.join(unit_flags, on=["unit_id", "year"], how="left", nulls_equal=True)
    frame = frame.with_columns(
        pl.lit(per_leaf).gather(pl.col(LEAF)).alias(per_leaf.name)
        for per_leaf in _leaf_flags(framework)
    )
    # a null (unknown) unit flag never triggers a rule
    unrelated = pl.col("f_function_specific")
    if settings.special_units:  # each special unit's own list, not one list for all
        exempt = pl.DataFrame(
            [(u, c) for u, components in settings.special_units for c in components],
            schema={"unit_id": pl.String, "node_id": pl.String},
            orient="row",
        ).with_columns(
            pl.col("node_id").cast(leaves.schema["node_id"]),  # the leaves' own type
            pl.lit(True).alias("f_unrelated"),
        )
        frame = frame.join(exempt, on=["unit_id", "node_id"], how="left", maintain_order="left")
        unrelated = pl.col("f_unrelated").fill_null(False)
    special = pl.col("is_special").fill_null(False) & unrelated
    subordinate = ~pl.col("has_subordinates").fill_null(True) & pl.col("f_subordinate")
    dvctt = ~pl.col("has_dvctt").fill_null(True) & pl.col("f_dvctt")
    special = pl.lit(settings.special_units_max) & special
    subordinate = pl.lit(settings.subordinate_best) & subordinate
    dvctt = pl.lit(settings.dvctt_proportional) & dvctt
    return frame.with_columns(
        pl.when(special.fill_null(False))
        .then(pl.lit(SPECIAL))
        .when(subordinate.fill_null(False))
        .then(pl.lit(SUBORDINATE))
        .when(dvctt.fill_null(False))
        .then(pl.lit(DVCTT))
        .otherwise(None)
        .alias("unit_rule"),
        nothing.alias("fallback_note"),
    ).drop("f_unrelated", strict=False)


def apply_unit_rules(frame: pl.DataFrame) -> pl.DataFrame:
    """special_units_max and subordinate_best (before the missing-data rule)."""
    if not frame.select(pl.col("unit_rule").is_in([SPECIAL, SUBORDINATE]).any()).item():
        return frame  # no leaf takes its points from these rules: nothing changes
    # the best of each (year, group, leaf) among units the subordinate rule does not apply to
    achieved = (
        frame.filter(
            pl.col("own_points").is_not_null() & pl.col("has_subordinates").fill_null(True)
        )
        .sort(["own_points", "unit_id"], descending=[True, False])
        .group_by(GROUP_CODE, maintain_order=True)
        .agg(
            pl.col("own_points").first().alias("best_points"),
            pl.col("unit_id").first().alias("best_unit"),
        )
    )
    frame = frame.join(achieved, on=GROUP_CODE, how="left", nulls_equal=True)
    is_special = pl.col("unit_rule") == SPECIAL
    is_sub = pl.col("unit_rule") == SUBORDINATE
    has_best = pl.col("best_points").is_not_null()
    special_text = pl.concat_str(
        pl.lit(f"{RULE_PREFIX}.{SPECIAL}: special unit, not its function → max "),
        num_text(pl.col("max_points")),
    )
    best_text = pl.concat_str(
        pl.lit(f"{RULE_PREFIX}.{SUBORDINATE}: no subordinate units → best of the group "),
        num_text(pl.col("best_points")),
        pl.lit(" ("),
        pl.col("best_unit"),
        pl.lit(")"),
    )
    frame = _by_rule(
        frame,
        is_special | (is_sub & has_best),
        pl.when(is_special).then("max_points").otherwise("best_points"),
        pl.when(is_special).then(special_text).otherwise(best_text),
    )
    # nobody achieved anything: the unit's own value, else the missing-data rule
    return _fall_back(frame, is_sub & ~has_best, SUB_NOBODY).drop("best_points", "best_unit")


def apply_dvctt_rule(frame: pl.DataFrame, framework: Framework, scope: str) -> pl.DataFrame:
    """dvctt_proportional (after the missing-data rule: the non-DVCTT leaves are final)."""
    pending = pl.col("unit_rule") == DVCTT
    if not frame.select(pending.any()).item():
        return frame
    counted = frame.filter(
        ~pl.col("f_dvctt") & ~pl.col("excluded").fill_null(False) & pl.col("points").is_not_null()
    )
    by_pillar = counted.group_by([*UNIT_KEYS, "scope_pillar"]).agg(
        pl.col("points").sum().alias("pillar_points"),
        pl.col("max_points").sum().alias("pillar_max"),
    )
    by_index = counted.group_by(UNIT_KEYS).agg(
        pl.col("points").sum().alias("index_points"), pl.col("max_points").sum().alias("index_max")
    )
    frame = frame.join(
        by_pillar, on=[*UNIT_KEYS, "scope_pillar"], how="left", nulls_equal=True
    ).join(by_index, on=UNIT_KEYS, how="left", nulls_equal=True)
    if scope == "pillar":
        use_pillar = pl.col("scope_pillar").is_not_null() & (pl.col("pillar_max") > 0)
        base = pl.when(use_pillar).then("pillar_points").otherwise("index_points")
        base_max = pl.when(use_pillar).then("pillar_max").otherwise("index_max")
        scope_text = (
            pl.when(use_pillar)
            .then(pl.lit("scope=pillar"))
            .when(pl.col("scope_pillar").is_null())
            .then(pl.lit("scope=index: the leaf has no pillar"))
            .otherwise(
                pl.concat_str(
                    pl.lit("scope=index: pillar "),
                    pl.col("scope_pillar"),
                    pl.lit(" has no scored non-DVCTT component"),
                )
            )
        )
    else:
        base, base_max = pl.col("index_points"), pl.col("index_max")
        scope_text = pl.lit("scope=index")
    frame = frame.with_columns(
        base.alias("base"), base_max.alias("base_max"), scope_text.alias("st")
    )
    ok = pending & (pl.col("base_max") > 0).fill_null(False)
    text = pl.concat_str(
        pl.lit(f"{RULE_PREFIX}.{DVCTT}("),
        pl.col("st"),
        pl.lit("): "),
        num_text(pl.col("base")),
        pl.lit("/"),
        num_text(pl.col("base_max")),
        pl.lit(" × "),
        num_text(pl.col("max_points")),
    )
    frame = _by_rule(frame, ok, pl.col("base") / pl.col("base_max") * pl.col("max_points"), text)
    frame = _fall_back(frame, pending & ~ok, DVCTT_NOBASE)
    return frame.drop(
        "pillar_points", "pillar_max", "index_points", "index_max", "base", "base_max", "st"
    )


def _by_rule(frame: pl.DataFrame, given: pl.Expr, points: pl.Expr, text: pl.Expr) -> pl.DataFrame:
    """The rows a rule gives (``given``): its points and its note, and no z (not from a
    value)."""
    return frame.with_columns(
        pl.when(given).then(points).otherwise("points").alias("points"),
        pl.when(given).then(text).otherwise("rule_applied").alias("rule_applied"),
        pl.when(given).then(None).otherwise("z").alias("z"),
    )


def _fall_back(frame: pl.DataFrame, failed: pl.Expr, note: str) -> pl.DataFrame:
    """The rows a rule could not give (``failed``): the unit keeps its own value's points
    (``rule_applied`` says why), else the leaf is left to the missing-data rule
    (``fallback_note``); the rule is no longer the leaf's."""
    kept = failed & pl.col("points").is_not_null()
    return frame.with_columns(
        pl.when(kept)
        .then(pl.concat_str(pl.lit(f"{note} → "), pl.col("rule_applied")))
        .otherwise("rule_applied")
        .alias("rule_applied"),
        pl.when(failed).then(pl.lit(note)).otherwise("fallback_note").alias("fallback_note"),
        pl.when(failed).then(None).otherwise("unit_rule").alias("unit_rule"),
    )
