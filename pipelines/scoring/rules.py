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

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl

from pipelines.framework.model import Framework
from pipelines.scoring.choices import DVCTT_SCOPES, DvcttScope, check_choice
from pipelines.scoring.grid import typed
from pipelines.scoring.leaf_arrays import LeafArrays, num_texts

RULE_PREFIX = "sonla"
UNIT_FLAGS = ("has_subordinates", "has_dvctt", "is_special")
SPECIAL, SUBORDINATE, DVCTT = "special_units_max", "subordinate_best", "dvctt_proportional"
RULES = (None, SPECIAL, SUBORDINATE, DVCTT)  # the codes of ``UnitRules.rule``
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


@dataclass
class UnitRules:
    """Which rule gives each cell its points (``rule``: a code into :data:`RULES`, 0 none),
    the note of a rule that could not (``fallback``: a code into the notes, -1 none), and
    what the rules read: each row's ``has_subordinates`` (null counts as true) and each
    column's ``dvctt`` flag and pillar."""

    rule: np.ndarray
    fallback: np.ndarray
    has_subordinates: np.ndarray
    dvctt: np.ndarray
    pillar: list[str | None]

    def pending(self, name: str) -> np.ndarray:
        return self.rule == RULES.index(name)


def mark_targets(
    state: LeafArrays, units: pl.DataFrame, framework: Framework, settings: RuleSettings
) -> UnitRules:
    """The rule of every cell of ``state`` under ``settings`` (``units``: the registry flags
    ``has_subordinates, has_dvctt, is_special`` of each unit and year, where known)."""
    grid, leaf_ids = state.grid, state.grid.leaf_ids
    shape = grid.value.shape
    flags = [framework.effective_flags(leaf) for leaf in leaf_ids]
    rules = UnitRules(
        np.zeros(shape, dtype=np.int8),
        np.full(shape, -1, dtype=np.int32),
        np.ones(shape[0], dtype=bool),
        np.array(["dvctt" in f for f in flags], dtype=bool),
        [framework.pillar_of(leaf) for leaf in leaf_ids],
    )
    if not settings.active:
        return rules  # no rule is switched on: no leaf has a rule
    known = [c for c in UNIT_FLAGS if c in units.columns]
    unit_flags = units.select(
        *typed("unit_id", "year"), *[pl.col(c).cast(pl.Boolean) for c in known]
    )
    unit_flags = unit_flags.unique(subset=["unit_id", "year"], keep="last")
    on_rows = grid.units.join(unit_flags, on=["unit_id", "year"], how="left", nulls_equal=True)

    def flag(name: str, value: bool) -> np.ndarray:
        """Rows whose flag is ``value`` (a null, unknown, flag is neither)."""
        if name not in on_rows.columns:
            return np.zeros(shape[0], dtype=bool)
        return on_rows[name].eq(value).fill_null(False).to_numpy()

    rules.has_subordinates = ~flag("has_subordinates", False)

    def leaf_flag(name: str) -> np.ndarray:
        return np.array([name in f for f in flags], dtype=bool)

    unrelated = np.broadcast_to(leaf_flag("function_specific"), shape)
    if settings.special_units:  # each special unit's own list, not one list for all
        own = dict(settings.special_units)
        listed = [set(own.get(unit, ())) for unit in on_rows["unit_id"].to_list()]
        unrelated = np.array([[leaf in ids for leaf in leaf_ids] for ids in listed], dtype=bool)
        unrelated = unrelated.reshape(shape)
    targets = [
        (DVCTT, settings.dvctt_proportional, flag("has_dvctt", False)[:, None] & rules.dvctt),
        (
            SUBORDINATE,
            settings.subordinate_best,
            ~rules.has_subordinates[:, None] & leaf_flag("subordinate"),
        ),
        (SPECIAL, settings.special_units_max, flag("is_special", True)[:, None] & unrelated),
    ]
    for name, switched_on, cells in targets:  # the last written wins: the precedence
        if switched_on:
            rules.rule[cells] = RULES.index(name)
    return rules


def apply_unit_rules(state: LeafArrays, rules: UnitRules, own: np.ndarray) -> None:
    """special_units_max and subordinate_best (before the missing-data rule; ``own``: the
    points each unit's own values gave)."""
    special, sub = rules.pending(SPECIAL), rules.pending(SUBORDINATE)
    if not (special.any() or sub.any()):
        return  # no leaf takes its points from these rules: nothing changes
    grid, leaves = state.grid, state.columns
    top = np.broadcast_to(leaves.max_points, special.shape)
    maxima = num_texts(leaves.max_points)
    _by_rule(
        state,
        special,
        top[special],
        [np.nonzero(special)[1]],
        lambda first, cols: [
            f"{RULE_PREFIX}.{SPECIAL}: special unit, not its function → max {maxima[c]}"
            for c in cols[first]
        ],
    )
    # the best of each (year, group, leaf) among units the subordinate rule does not apply to,
    # and the first unit (by id) that achieved it
    achieved = np.where(rules.has_subordinates[:, None], own, np.nan)
    best = grid.by_group(np.fmax, achieved)
    rows = np.arange(grid.units.height, dtype=np.float64)[:, None]
    best_row = grid.by_group(np.fmin, np.where(achieved == best, rows, np.inf))
    given = sub & ~np.isnan(best)
    ids = grid.units["unit_id"].to_list()
    _by_rule(
        state,
        given,
        best[given],
        [best_row[given], np.nonzero(given)[1]],
        lambda first, cols: [
            f"{RULE_PREFIX}.{SUBORDINATE}: no subordinate units → best of the group {number} "
            f"({ids[int(row)]})"
            for number, row in zip(
                num_texts(best[given][first]), best_row[given][first], strict=True
            )
        ],
    )
    # nobody achieved anything: the unit's own value, else the missing-data rule
    _fall_back(state, rules, sub & ~given, SUB_NOBODY)


def apply_dvctt_rule(state: LeafArrays, rules: UnitRules, scope: str) -> None:
    """dvctt_proportional (after the missing-data rule: the non-DVCTT leaves are final)."""
    pending = rules.pending(DVCTT)
    if not pending.any():
        return
    counted = ~rules.dvctt & ~state.excluded & ~np.isnan(state.points)
    points = np.where(counted, state.points, 0.0)
    top = np.where(counted, state.columns.max_points, 0.0)
    base = np.repeat(points.sum(axis=1, keepdims=True), points.shape[1], axis=1)
    base_max = np.repeat(top.sum(axis=1, keepdims=True), points.shape[1], axis=1)
    pillars = sorted({p for p in rules.pillar if p is not None})
    scopes = [
        "scope=index",
        "scope=pillar",
        "scope=index: the leaf has no pillar",
        *(f"scope=index: pillar {p} has no scored non-DVCTT component" for p in pillars),
    ]
    why = np.zeros(points.shape, dtype=np.int64)  # the scope's text
    if scope == "pillar":
        why[:] = 2
        for k, pillar in enumerate(pillars):
            mine = np.array([p == pillar for p in rules.pillar])
            pillar_max = top[:, mine].sum(axis=1, keepdims=True)
            usable = (pillar_max > 0) & mine
            base = np.where(usable, points[:, mine].sum(axis=1, keepdims=True), base)
            base_max = np.where(usable, pillar_max, base_max)
            why[:, mine] = np.where(usable[:, mine], 1, 3 + k)
    ok = pending & (base_max > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        proportional = base / base_max * state.columns.max_points
    top_of = np.broadcast_to(state.columns.max_points, ok.shape)
    numbers = [num_texts(a[ok]) for a in (base, base_max, top_of)]
    reason = why[ok]
    _by_rule(
        state,
        ok,
        proportional[ok],
        [np.arange(int(ok.sum()))],
        lambda first, _: [
            f"{RULE_PREFIX}.{DVCTT}({scopes[reason[i]]}): "
            f"{numbers[0][i]}/{numbers[1][i]} × {numbers[2][i]}"
            for i in first
        ],
    )
    _fall_back(state, rules, pending & ~ok, DVCTT_NOBASE)


def _by_rule(
    state: LeafArrays,
    given: np.ndarray,
    points: np.ndarray,
    keys: list[np.ndarray],
    text: Callable[[np.ndarray, np.ndarray], list[str]],
) -> None:
    """The cells a rule gives (``given``): its ``points`` and its notes (``text(first,
    columns)`` of one cell per distinct ``keys``), and no z (not from a value)."""
    if not given.any():
        return
    cols = np.nonzero(given)[1]
    state.points[given] = points
    state.z[given] = np.nan
    state.notes.put(given, keys, lambda first: text(first, cols))


def _fall_back(state: LeafArrays, rules: UnitRules, failed: np.ndarray, note: str) -> None:
    """The cells a rule could not give (``failed``): the unit keeps its own value's points
    (``rule_applied`` says why), else the leaf is left to the missing-data rule (``fallback``);
    the rule is no longer the cell's."""
    if not failed.any():
        return
    state.notes.prefixed(failed & ~np.isnan(state.points), note)
    rules.fallback[failed] = state.notes.codes_of([note])[0]
    rules.rule[failed] = 0
