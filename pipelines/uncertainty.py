"""Rank uncertainty and sensitivity: Monte Carlo over the method, the weights and the missing rule.

Each *replication* draws three things:

* the **method setting** — one of the settings analysed (default ``points``, ``minmax:observed``,
  ``zscore:cdf``), uniformly;
* the **missing-data rule** — ``zero``, ``exclude`` or ``mean``, uniformly;
* the **weights** — every node's weight (its maximum points) times ``1 + ε``, ε uniform in
  ``[−noise, +noise]`` (COINr's ``get_noisy_weights``), then renormalised so that siblings keep
  their parent's maximum: ``max'(c) = max'(p) × Σ_s max(s) / max(p) × max(c)(1+ε_c) /
  Σ_s max(s)(1+ε_s)``. The index keeps its scale.

and yields every unit's total and its rank within its comparison group (descending, ties share
the lowest rank, totals compared at 6 decimals, as the engine ranks).

**Fast path.** Calling the polars engine a thousand times would take minutes. Instead the engine
is called once per (method setting, missing rule) — so every leaf's points are exactly the
engine's, per-unit rules and the appraiser's points included — and each replication is then numpy:
a weight change scales a leaf's points by ``max'(leaf) / max(leaf)`` (its normalised share stays),
parents sum their children (missing ``zero``/``mean``) or re-weight over the present children
level by level (``exclude``, the engine's formula), and ranks are counted per group. At the
nominal weights the fast path reproduces the engine (``tests/test_uncertainty.py``). One
approximation is documented: a leaf whose points a per-unit rule derives from other leaves
(Sơn La's DVCTT proportional rule) keeps its nominal share when weights move.

**Design.** With ``sensitivity`` (default) the replications follow Saltelli's design as COINr's
``SA_sample`` builds it: two independent base samples A and B of N rows, and for each factor i
the matrix AB_i = A with factor i's columns taken from B — N(d + 2) replications for d factors
(``replications`` is rounded up to a multiple of d + 2). The weights are one *group* factor (all
node noises together). Every replication is a valid draw from the input distribution, so the
rank statistics (median, 5th and 95th percentile — linear interpolation, R's type 7 — mean, min,
max) use all of them. Without sensitivity the replications are plain independent draws.

**Sensitivity indices** (COINr's ``SA_estimate``): first order
``S_i = mean(y_B (y_AB_i − y_A)) / V`` (Saltelli 2010), total ``ST_i = mean((y_A − y_AB_i)²) /
(2V)`` (Jansen 1999), ``V = var(y_A ∪ y_B)`` (n − 1). The output ``y`` is the **mean absolute
rank shift** against the nominal ranks (target ``mean_abs_rank_shift``, COINr's choice) and,
per unit, the unit's rank (target = the unit id). Indices are estimates: small negative values
or ``S_i > ST_i`` are sampling noise, shrinking as the number of replications grows. A factor
that does not vary (one setting, one rule, noise 0) is left out of the design.

**Reproducible.** A seed fixes every draw (numpy ``default_rng``); each replication's sampled
parameters (block, setting, rule, the weight multiplier of every noisy node) are kept in
``UncertaintyResult.replications`` (stored in the warehouse and written to Parquet), and
:func:`replay` recomputes any replication from them alone.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pipelines.analysis_input import (
    DEFAULT_MC_SETTINGS,
    AnalysisInput,
    check_missing_rules,
    scenario_label,
    setting_label,
)
from pipelines.scoring.methods import MISSING_RULES, RANK_DECIMALS

FACTORS = ("method", "missing", "weights")
_CHUNK = 256  # replications evaluated together under the exclude rule (bounded memory)


# ---------------------------------------------------------------- the fast model


@dataclass
class Combo:
    """Leaf points of one (setting, missing rule) from the engine: units × leaves."""

    points: np.ndarray
    excluded: np.ndarray
    node_excluded: np.ndarray | None = None  # units × nodes (exclude rule only)
    some_excluded: np.ndarray | None = None


@dataclass
class FastModel:
    """The tree as arrays, and the engine's leaf points of every combination analysed."""

    unit_ids: list[str]
    group_ids: list[str]
    node_ids: list[str]  # tree nodes in document order (parents before children)
    parent: np.ndarray  # index of the parent, −1 at the root
    nominal_max: np.ndarray
    leaf_index: np.ndarray  # node index of each leaf, in framework.leaf_ids() order
    noisy: np.ndarray  # node indices whose weight gets noise (every node but the root)
    combos: dict[tuple[str, str], Combo] = field(default_factory=dict)
    # the ranked total when it is a composite of views/nodes (national 1726: 0.4 gov + …):
    # views as (covered node indices, divisor); composite terms as (kind, index, weight)
    views: list[tuple[np.ndarray, float]] = field(default_factory=list)
    composite: list[tuple[str, int, float]] | None = None

    @property
    def root(self) -> int:
        return int(np.flatnonzero(self.parent < 0)[0])

    def children(self) -> dict[int, np.ndarray]:
        out: dict[int, list[int]] = {}
        for child, parent in enumerate(self.parent):
            if parent >= 0:
                out.setdefault(int(parent), []).append(child)
        return {p: np.array(c, dtype=np.int64) for p, c in out.items()}

    def depth(self) -> np.ndarray:
        depth = np.zeros(len(self.node_ids), dtype=np.int64)
        for i, parent in enumerate(self.parent):
            if parent >= 0:
                depth[i] = depth[parent] + 1
        return depth

    def relative_max(self, multipliers: np.ndarray) -> np.ndarray:
        """``max'(node) / max(node)`` (replications × nodes) for weight multipliers of the noisy
        nodes (replications × noisy). Exactly 1 where every multiplier is 1."""
        n_reps = multipliers.shape[0]
        mult = np.ones((n_reps, len(self.node_ids)))
        mult[:, self.noisy] = multipliers
        rel = np.ones((n_reps, len(self.node_ids)))
        kids = self.children()
        depth = self.depth()
        for parent in sorted(kids, key=lambda p: depth[p]):
            ch = kids[parent]
            base = self.nominal_max[ch]
            nominal_sum = _sum_last(base[None, :] * np.ones((1, ch.size)))
            perturbed_sum = _sum_last(base[None, :] * mult[:, ch])
            with np.errstate(divide="ignore", invalid="ignore"):
                share = np.where(perturbed_sum > 0, nominal_sum / perturbed_sum, 1.0)
            rel[:, ch] = rel[:, [parent]] * mult[:, ch] * share[:, None]
        return rel

    def totals(self, key: tuple[str, str], rel: np.ndarray) -> np.ndarray:
        """Index points, units × replications, under one combination for relative maxima
        ``rel`` (replications × nodes)."""
        combo = self.combos[key]
        if self.composite is not None:
            out = np.empty((len(self.unit_ids), rel.shape[0]))
            for start in range(0, rel.shape[0], _CHUNK):
                stop = min(start + _CHUNK, rel.shape[0])
                points, excluded = self._node_points(combo, rel[start:stop])
                out[:, start:stop] = self._composite_points(points, excluded, rel[start:stop])
            return out
        if not combo.excluded.any():
            # Σ over the leaves, left to right — not a matrix product nor ndarray.sum, whose
            # summation order depends on the array's shape: a replication replayed alone must
            # give bit-identical totals
            leaf_rel = rel[:, self.leaf_index]  # replications × leaves
            total = np.zeros((len(self.unit_ids), rel.shape[0]))
            for j in range(leaf_rel.shape[1]):
                total += np.outer(combo.points[:, j], leaf_rel[:, j])
            return total
        out = np.empty((len(self.unit_ids), rel.shape[0]))
        for start in range(0, rel.shape[0], _CHUNK):
            stop = min(start + _CHUNK, rel.shape[0])
            out[:, start:stop] = self._node_points(combo, rel[start:stop])[0][:, :, self.root]
        return out

    def _node_points(self, combo: Combo, rel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points of every node (units × replications × nodes) and which nodes are excluded
        (units × nodes). The exclude rule, level by level: a parent's points are the plain sum
        when none of its children is excluded, 0 when all are, else Σ present points ÷ Σ present
        maxima × its maximum (all maxima perturbed)."""
        n_units, n_reps = len(self.unit_ids), rel.shape[0]
        new_max = rel * self.nominal_max[None, :]  # reps × nodes
        points = np.zeros((n_units, n_reps, len(self.node_ids)))
        points[:, :, self.leaf_index] = combo.points[:, None, :] * rel[None, :, self.leaf_index]
        if combo.node_excluded is None or combo.some_excluded is None:
            nothing = np.zeros((n_units, len(self.node_ids)), dtype=bool)
            combo = Combo(combo.points, combo.excluded, nothing, nothing)
        assert combo.node_excluded is not None and combo.some_excluded is not None
        kids = self.children()
        depth = self.depth()
        for parent in sorted(kids, key=lambda p: -depth[p]):
            ch = kids[parent]
            child_points = points[:, :, ch]  # units × reps × children
            present = ~combo.node_excluded[:, ch]  # units × children
            plain = _sum_last(child_points)
            present_points = _sum_last(child_points * present[:, None, :])
            present_max = _sum_last(present[:, None, :] * new_max[None, :, ch])
            with np.errstate(divide="ignore", invalid="ignore"):
                weighted = np.where(
                    present_max > 0, present_points / present_max * new_max[None, :, parent], 0.0
                )
            some = combo.some_excluded[:, parent][:, None]
            every = combo.node_excluded[:, parent][:, None]
            points[:, :, parent] = np.where(every, 0.0, np.where(some, weighted, plain))
        return points, combo.node_excluded

    def _composite_points(
        self, points: np.ndarray, excluded: np.ndarray, rel: np.ndarray
    ) -> np.ndarray:
        """The composite (units × replications) from the node points, as the engine's views and
        composites compute it (``pipelines/scoring/aggregate.py``): a view sums its nodes
        (re-weighted over the present ones when some are excluded) and divides by its divisor —
        scaled by the change of its nodes' maxima, so its ratio stays a share; the composite is
        Σ weight × ratio, re-weighted over the present terms."""
        new_max = rel * self.nominal_max[None, :]
        view_ratio, view_excluded = [], []
        for covered, divisor in self.views:
            node_points = points[:, :, covered]
            present = ~excluded[:, covered]
            total_max = _sum_last(new_max[:, covered])  # reps
            scale = total_max / _sum_last(self.nominal_max[None, covered])
            present_max = _sum_last(present[:, None, :] * new_max[None, :, covered])
            with np.errstate(divide="ignore", invalid="ignore"):
                reweighted = np.where(
                    present_max > 0,
                    _sum_last(node_points * present[:, None, :]) / present_max * total_max,
                    0.0,
                )
            some = (~present).any(axis=1)[:, None]
            view_points = np.where(some, reweighted, _sum_last(node_points))
            new_divisor = divisor * scale  # reps
            with np.errstate(divide="ignore", invalid="ignore"):
                view_ratio.append(
                    np.where(new_divisor > 0, view_points / new_divisor[None, :], 0.0)
                )
            view_excluded.append((~present).all(axis=1))
        assert self.composite is not None
        terms, flags, weights = [], [], []
        for kind, index, weight in self.composite:
            if kind == "view":
                ratio, flag = view_ratio[index], view_excluded[index]
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = np.where(
                        new_max[None, :, index] > 0,
                        points[:, :, index] / new_max[None, :, index],
                        0.0,
                    )
                flag = excluded[:, index]
            terms.append(ratio * weight)
            flags.append(flag)
            weights.append(weight)
        stacked = np.stack(terms, axis=2)  # units × reps × terms
        absent = np.stack(flags, axis=1)  # units × terms
        w = np.array(weights)
        present_w = _sum_last(np.where(absent, 0.0, w[None, :]))  # units
        plain = _sum_last(stacked)
        present_sum = _sum_last(stacked * ~absent[:, None, :])
        with np.errstate(divide="ignore", invalid="ignore"):
            reweighted = np.where(
                present_w[:, None] > 0,
                present_sum / present_w[:, None] * _sum_last(w[None, :]),
                0.0,
            )
        return np.where(absent.any(axis=1)[:, None], reweighted, plain)

    def ranks(self, totals: np.ndarray) -> np.ndarray:
        """Ranks within each comparison group, descending, ties share the lowest rank, totals
        compared at ``RANK_DECIMALS`` decimals (units × replications)."""
        rounded = np.round(totals, RANK_DECIMALS)
        out = np.empty(totals.shape, dtype=np.int32)
        groups = np.array(self.group_ids)
        for group in np.unique(groups):
            idx = np.flatnonzero(groups == group)
            block = rounded[idx]
            n = idx.size
            step = max(1, int(4e7 // max(1, n * n)))
            for start in range(0, block.shape[1], step):
                part = block[:, start : start + step]
                higher = (part[None, :, :] > part[:, None, :]).sum(axis=1)
                out[idx, start : start + step] = 1 + higher
        return out


def _sum_last(array: np.ndarray) -> np.ndarray:
    """Σ over the last axis, strictly left to right: the same bits whatever the other
    dimensions (numpy's own reductions change their order with the shape)."""
    total = array[..., 0].copy()
    for j in range(1, array.shape[-1]):
        total += array[..., j]
    return total


def build_model(
    inp: AnalysisInput,
    settings: tuple[str, ...],
    missing_rules: tuple[str, ...],
) -> FastModel:
    """Call the engine once per (setting, missing rule) and keep the leaf points as matrices."""
    framework = inp.framework
    nodes = list(framework.nodes.values())
    node_ids = [n.id for n in nodes]
    position = {node_id: i for i, node_id in enumerate(node_ids)}
    parent = np.array([position[n.parent_id] if n.parent_id else -1 for n in nodes], dtype=np.int64)
    units = inp.units.sort(["group_id", "unit_id"])
    model = FastModel(
        unit_ids=units["unit_id"].to_list(),
        group_ids=units["group_id"].cast(pl.String).to_list(),
        node_ids=node_ids,
        parent=parent,
        nominal_max=np.array([float(n.max_points) for n in nodes]),
        leaf_index=np.array([position[i] for i in framework.leaf_ids()], dtype=np.int64),
        noisy=np.flatnonzero(parent >= 0),
    )
    if framework.composites:
        composite = framework.composites[0]
        view_index = {view.id: i for i, view in enumerate(framework.views)}
        model.views = [
            (np.array([position[n] for n in view.over], dtype=np.int64), float(view.divisor))
            for view in framework.views
        ]
        model.composite = [
            ("view", view_index[node], float(weight))
            if node in view_index
            else ("node", position[node], float(weight))
            for node, weight in composite.weights.items()
        ]
    for setting in settings:
        for missing in missing_rules:
            model.combos[(setting, missing)] = _combo(model, inp, inp.spec(setting, missing))
    return model


def _combo(model: FastModel, inp: AnalysisInput, spec) -> Combo:
    leaves = inp.leaves(spec).select("unit_id", "node_id", "points", "excluded")
    grid = (
        pl.DataFrame({"unit_id": model.unit_ids})
        .with_row_index("u")
        .join(
            pl.DataFrame({"node_id": inp.framework.leaf_ids()}).with_row_index("leaf"),
            how="cross",
        )
        .join(leaves, on=["unit_id", "node_id"], how="left")
        .sort("u", "leaf")
    )
    shape = (len(model.unit_ids), len(model.leaf_index))
    points = grid["points"].fill_null(0.0).to_numpy().reshape(shape).astype(float)
    excluded = grid["excluded"].fill_null(False).to_numpy().reshape(shape).astype(bool)
    combo = Combo(points=points, excluded=excluded)
    if excluded.any():
        node_excluded = np.zeros((shape[0], len(model.node_ids)), dtype=bool)
        some = np.zeros_like(node_excluded)
        node_excluded[:, model.leaf_index] = excluded
        depth = model.depth()
        kids = model.children()
        for parent in sorted(kids, key=lambda p: -depth[p]):
            ch = kids[parent]
            node_excluded[:, parent] = node_excluded[:, ch].all(axis=1)
            some[:, parent] = node_excluded[:, ch].any(axis=1)
        combo.node_excluded, combo.some_excluded = node_excluded, some
    return combo


# ---------------------------------------------------------------- design


@dataclass
class Design:
    """The sampled parameters of every replication."""

    settings: tuple[str, ...]
    missing_rules: tuple[str, ...]
    noise: float
    factors: tuple[str, ...]  # the factors that vary, in FACTORS order
    n_base: int  # N (Saltelli) or the number of independent draws
    blocks: list[str]  # per replication: A, B, AB:<factor> or mc
    base_index: np.ndarray
    setting_index: np.ndarray
    missing_index: np.ndarray
    multipliers: np.ndarray  # replications × noisy nodes

    @property
    def size(self) -> int:
        return len(self.blocks)


def sample_design(
    settings: tuple[str, ...],
    missing_rules: tuple[str, ...],
    n_noisy: int,
    noise: float,
    replications: int,
    seed: int,
    sensitivity: bool = True,
) -> Design:
    """Uniform draws mapped to the factors (module docstring); Saltelli's A, B, AB_i blocks when
    ``sensitivity``."""
    if replications < 1:
        raise ValueError("replications must be at least 1")
    if not 0 <= noise < 1:
        raise ValueError("noise must be in [0, 1): a fraction such as 0.2 for ±20 %")
    rng = np.random.default_rng(seed)
    varying = {
        "method": len(settings) > 1,
        "missing": len(missing_rules) > 1,
        "weights": noise > 0 and n_noisy > 0,
    }
    factors = tuple(f for f in FACTORS if varying[f])
    width = 2 + n_noisy
    columns = {"method": [0], "missing": [1], "weights": list(range(2, width))}
    if sensitivity and factors:
        n_base = math.ceil(replications / (len(factors) + 2))
        a = rng.random((n_base, width))
        b = rng.random((n_base, width))
        parts, blocks = [a, b], ["A"] * n_base + ["B"] * n_base
        for factor in factors:
            ab = a.copy()
            ab[:, columns[factor]] = b[:, columns[factor]]
            parts.append(ab)
            blocks += [f"AB:{factor}"] * n_base
        u = np.vstack(parts)
        base = np.tile(np.arange(n_base), len(parts))
    else:
        n_base = replications
        u = rng.random((replications, width))
        blocks = ["mc"] * replications
        base = np.arange(replications)
    setting_index = np.minimum((u[:, 0] * len(settings)).astype(np.int64), len(settings) - 1)
    missing_index = np.minimum(
        (u[:, 1] * len(missing_rules)).astype(np.int64), len(missing_rules) - 1
    )
    multipliers = 1.0 + (2.0 * u[:, 2:] - 1.0) * noise
    return Design(
        settings=settings,
        missing_rules=missing_rules,
        noise=noise,
        factors=factors,
        n_base=n_base,
        blocks=blocks,
        base_index=base,
        setting_index=setting_index,
        missing_index=missing_index,
        multipliers=multipliers,
    )


def evaluate(model: FastModel, design: Design) -> tuple[np.ndarray, np.ndarray]:
    """Totals and ranks of every unit in every replication (units × replications)."""
    rel = model.relative_max(design.multipliers)
    totals = np.empty((len(model.unit_ids), design.size))
    for s, setting in enumerate(design.settings):
        for m, missing in enumerate(design.missing_rules):
            chosen = np.flatnonzero((design.setting_index == s) & (design.missing_index == m))
            if chosen.size:
                totals[:, chosen] = model.totals((setting, missing), rel[chosen])
    return totals, model.ranks(totals)


# ---------------------------------------------------------------- sensitivity


def saltelli_indices(y: np.ndarray, blocks: list[str], factors: tuple[str, ...]) -> list[dict]:
    """First-order and total indices of each factor for outputs ``y`` (replications ×
    targets): COINr's ``SA_estimate`` (Saltelli 2010 first order, Jansen total)."""
    labels = np.array(blocks)
    y_a, y_b = y[labels == "A"], y[labels == "B"]
    variance = np.var(np.vstack([y_a, y_b]), axis=0, ddof=1)
    rows = []
    for factor in factors:
        y_ab = y[labels == f"AB:{factor}"]
        with np.errstate(divide="ignore", invalid="ignore"):
            first = np.mean(y_b * (y_ab - y_a), axis=0) / variance
            total = np.mean((y_a - y_ab) ** 2, axis=0) / (2 * variance)
        for t in range(y.shape[1]):
            defined = variance[t] > 0
            rows.append(
                {
                    "target_index": t,
                    "factor": factor,
                    "first_order": float(first[t]) if defined else None,
                    "total": float(total[t]) if defined else None,
                    "variance": float(variance[t]),
                }
            )
    return rows


# ---------------------------------------------------------------- the analysis


@dataclass
class UncertaintyResult:
    run_id: str
    params: dict
    units: pl.DataFrame  # per unit: nominal, median, p05, p95 … rank
    sensitivity: pl.DataFrame  # target, factor, first_order, total, variance
    replications: pl.DataFrame  # the sampled parameters of every replication
    totals: np.ndarray  # units × replications
    ranks: np.ndarray  # units × replications
    unit_ids: list[str]
    seconds: dict[str, float]

    @property
    def replications_per_second(self) -> float:
        return self.ranks.shape[1] / max(self.seconds["total"], 1e-9)

    def replication(self, replication_id: int) -> dict:
        """The sampled parameters of one replication (what :func:`replay` needs)."""
        row = self.replications.filter(pl.col("replication_id") == replication_id).row(
            0, named=True
        )
        return {**row, "noisy_nodes": self.params["noisy_nodes"]}

    def ranks_of(self, replication_id: int) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "unit_id": self.unit_ids,
                "points": self.totals[:, replication_id],
                "rank": self.ranks[:, replication_id],
            }
        )


def run_id_of(inp: AnalysisInput, params: dict) -> str:
    """Hash of the source, year, level, framework, the values and units analysed and the
    parameters: the same run on other data gets another id."""

    def content(frame: pl.DataFrame, keys: list[str]) -> str:
        columns = frame.sort(keys).to_dict(as_series=False)
        return hashlib.sha256(json.dumps(columns, default=str).encode()).hexdigest()

    identity = {
        "source": inp.source,
        "year": inp.year,
        "level": inp.level,
        "framework": inp.framework.content_hash(),
        "values": content(inp.values.select("unit_id", "node_id", "value"), ["unit_id", "node_id"]),
        "units": content(inp.units.select("unit_id", "group_id"), ["unit_id"]),
        "params": params,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def run_uncertainty(
    inp: AnalysisInput,
    settings: tuple[str, ...] = DEFAULT_MC_SETTINGS,
    missing_rules: tuple[str, ...] = MISSING_RULES,
    replications: int = 1000,
    noise: float = 0.2,
    seed: int = 2534,
    sensitivity: bool = True,
) -> UncertaintyResult:
    """The Monte Carlo (module docstring): rank statistics per unit and sensitivity indices."""
    check_missing_rules(missing_rules)
    started = time.perf_counter()
    settings = inp.resolve_settings(settings)
    model = build_model(inp, settings, missing_rules)
    built = time.perf_counter()
    design = sample_design(
        settings, missing_rules, len(model.noisy), noise, replications, seed, sensitivity
    )
    totals, ranks = evaluate(model, design)
    evaluated = time.perf_counter()
    nominal = inp.totals(inp.nominal)
    nominal_rank = dict(zip(nominal["unit_id"], nominal["rank"], strict=True))
    nominal_vec = np.array([nominal_rank[u] for u in model.unit_ids], dtype=float)
    params = {
        "settings": list(settings),
        "missing_rules": list(missing_rules),
        "noise": noise,
        "seed": seed,
        "replications_requested": replications,
        "replications": design.size,
        "sensitivity": bool(sensitivity and design.factors),
        "factors": list(design.factors),
        "n_base": design.n_base,
        "nominal": scenario_label(inp.nominal),
        "noisy_nodes": [model.node_ids[i] for i in model.noisy],
        "estimator": "Saltelli 2010 (first order), Jansen 1999 (total); y = mean |rank − nominal|",
        "percentiles": "linear interpolation (R type 7)",
    }
    run_id = run_id_of(inp, {k: v for k, v in params.items() if k != "noisy_nodes"})
    units = _unit_stats(model, ranks, nominal_vec, inp.names)
    shift = np.mean(np.abs(ranks - nominal_vec[:, None]), axis=0)  # per replication
    targets = ["mean_abs_rank_shift", *model.unit_ids]
    sens_rows = []
    if params["sensitivity"]:
        y = np.column_stack([shift, ranks.T.astype(float)])
        for row in saltelli_indices(y, design.blocks, design.factors):
            sens_rows.append({"target": targets[row.pop("target_index")], **row})
    sensitivity_frame = pl.DataFrame(
        sens_rows,
        schema={
            "target": pl.String,
            "factor": pl.String,
            "first_order": pl.Float64,
            "total": pl.Float64,
            "variance": pl.Float64,
        },
    )
    replications_frame = pl.DataFrame(
        {
            "replication_id": np.arange(design.size, dtype=np.int64),
            "block": design.blocks,
            "base_index": design.base_index.astype(np.int64),
            "setting": [settings[i] for i in design.setting_index],
            "missing": [missing_rules[i] for i in design.missing_index],
            "weight_multipliers": [list(map(float, row)) for row in design.multipliers],
            "mean_abs_rank_shift": shift,
        },
        schema_overrides={"weight_multipliers": pl.List(pl.Float64)},
    )
    finished = time.perf_counter()
    seconds = {
        "engine": built - started,
        "replications": evaluated - built,
        "total": finished - started,
    }
    return UncertaintyResult(
        run_id=run_id,
        params=params,
        units=units,
        sensitivity=sensitivity_frame,
        replications=replications_frame,
        totals=totals,
        ranks=ranks,
        unit_ids=model.unit_ids,
        seconds=seconds,
    )


def _unit_stats(
    model: FastModel, ranks: np.ndarray, nominal: np.ndarray, names: dict[str, str]
) -> pl.DataFrame:
    as_float = ranks.astype(float)
    p05, median, p95 = np.percentile(as_float, [5, 50, 95], axis=1)
    return pl.DataFrame(
        {
            "unit_id": model.unit_ids,
            "unit_name": [names.get(u) for u in model.unit_ids],
            "group_id": model.group_ids,
            "nominal_rank": nominal.astype(np.int32),
            "median_rank": median,
            "p05_rank": p05,
            "p95_rank": p95,
            "mean_rank": as_float.mean(axis=1),
            "min_rank": ranks.min(axis=1).astype(np.int32),
            "max_rank": ranks.max(axis=1).astype(np.int32),
        }
    ).with_columns(
        (pl.col("p95_rank") - pl.col("p05_rank")).alias("interval_width"),
        pl.len().over("group_id").cast(pl.Int32).alias("group_size"),
    )


# ---------------------------------------------------------------- replay


def replay(inp: AnalysisInput, replication: dict) -> pl.DataFrame:
    """Recompute one replication from its saved parameters alone — the setting, the missing
    rule, the weight multipliers of ``noisy_nodes`` — with the engine's leaf points for that
    combination: ``unit_id, points, rank``."""
    setting, missing = replication["setting"], replication["missing"]
    model = build_model(inp, (setting,), (missing,))
    noisy = [model.node_ids[i] for i in model.noisy]
    if list(replication["noisy_nodes"]) != noisy:
        raise ValueError("the framework's nodes differ from those of the run being replayed")
    multipliers = np.array([replication["weight_multipliers"]], dtype=float)
    rel = model.relative_max(multipliers)
    totals = model.totals((setting, missing), rel)
    ranks = model.ranks(totals)
    return pl.DataFrame(
        {"unit_id": model.unit_ids, "points": totals[:, 0], "rank": ranks[:, 0]}
    ).with_columns(pl.col("rank").cast(pl.Int32))


def nominal_fast(inp: AnalysisInput) -> pl.DataFrame:
    """The nominal setting through the fast path at unperturbed weights (checked against the
    engine in the tests): ``unit_id, points, rank``."""
    return replay(
        inp,
        {
            "setting": setting_label(inp.nominal),
            "missing": inp.nominal.missing,
            "weight_multipliers": [1.0] * (len(inp.framework.nodes) - 1),
            "noisy_nodes": [n.id for n in inp.framework.nodes.values() if n.parent_id],
        },
    )


# ---------------------------------------------------------------- warehouse


def store_uncertainty(con, result: UncertaintyResult, inp: AnalysisInput) -> int:
    """Write the run (``uncertainty_runs``), its replications, the per-unit rank statistics
    (``rank_uncertainty``, which the report reads: the year and level's latest run) and the
    sensitivity indices."""
    import datetime as dt

    from pipelines.warehouse import insert_frame, replace_rows, transaction

    run = pl.DataFrame(
        [
            {
                "run_id": result.run_id,
                "year": inp.year,
                "level": inp.level,
                "source": inp.source,
                "seed": result.params["seed"],
                "noise": result.params["noise"],
                "n_replications": result.params["replications"],
                "params_json": json.dumps(result.params, sort_keys=True),
                "nominal": result.params["nominal"],
                "seconds": result.seconds["total"],
                "replications_per_second": result.replications_per_second,
                "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            }
        ]
    )
    tagged = {"run_id": result.run_id}
    with transaction(con):
        con.execute("DELETE FROM uncertainty_runs WHERE run_id = ?", [result.run_id])
        insert_frame(con, "uncertainty_runs", run)
    replace_rows(
        con,
        "uncertainty_replications",
        result.replications.with_columns(pl.lit(result.run_id).alias("run_id")),
        tagged,
    )
    replace_rows(
        con,
        "sensitivity_indices",
        result.sensitivity.with_columns(
            pl.lit(result.run_id).alias("run_id"),
            pl.lit(inp.year, dtype=pl.Int32).alias("year"),
            pl.lit(inp.level).alias("level"),
        ),
        tagged,
    )
    return replace_rows(
        con,
        "rank_uncertainty",
        result.units.with_columns(
            pl.lit(inp.year, dtype=pl.Int32).alias("year"),
            pl.lit(inp.level).alias("level"),
            pl.lit(result.run_id).alias("run_id"),
        ),
        {"year": inp.year, "level": inp.level},
    )


def uncertainty_year(
    con,
    preset,
    year: int,
    replications: int = 1000,
    noise: float = 0.2,
    seed: int = 2534,
    settings: tuple[str, ...] = DEFAULT_MC_SETTINGS,
    missing_rules: tuple[str, ...] = MISSING_RULES,
) -> dict[str, dict]:
    """Every level of the preset in ``year``: run, store; a summary per level."""
    from pipelines.analysis_input import levels_with_data, load_input

    summary = {}
    for level in levels_with_data(con, preset, year):
        inp = load_input(con, preset, year, level)
        result = run_uncertainty(inp, settings, missing_rules, replications, noise, seed)
        store_uncertainty(con, result, inp)
        overall = result.sensitivity.filter(pl.col("target") == "mean_abs_rank_shift")
        summary[level] = {
            "run_id": result.run_id,
            "replications": result.ranks.shape[1],
            "replications_per_second": round(result.replications_per_second),
            "widest_interval": float(result.units["interval_width"].max() or 0),
            "total_index": {r["factor"]: r["total"] for r in overall.iter_rows(named=True)},
        }
    return summary


def load_replication(run_id: str, replication_id: int, warehouse=None) -> tuple[dict, dict]:
    """``(run, replication)`` as stored: the run's row (with ``params``) and the replication's
    sampled parameters, ready for :func:`replay`."""
    from pipelines.warehouse import session

    with session(warehouse, read_only=True) as con:
        run = con.execute("SELECT * FROM uncertainty_runs WHERE run_id = ?", [run_id]).pl()
        rep = con.execute(
            "SELECT * FROM uncertainty_replications WHERE run_id = ? AND replication_id = ?",
            [run_id, replication_id],
        ).pl()
    if run.is_empty() or rep.is_empty():
        raise KeyError(f"no replication {replication_id} of run {run_id}")
    row = run.row(0, named=True)
    params = json.loads(row["params_json"])
    replication = {**rep.row(0, named=True), "noisy_nodes": params["noisy_nodes"]}
    return {**row, "params": params}, replication
