"""The uncertainty analysis's fast model (:mod:`pipelines.analysis.uncertainty`): the tree as arrays
and the engine's leaf points of every (method setting, missing rule) analysed.

**Fast path.** Calling the polars engine a thousand times would take minutes. Instead the engine
is called once per (method setting, missing rule) — so every leaf's points are exactly the
engine's, per-unit rules and the appraiser's points included — and each replication is then numpy:
a weight change scales a leaf's points by ``max'(leaf) / max(leaf)`` (its normalised share stays),
parents sum their children (missing ``zero``/``mean``) or re-weight over the present children
level by level (``exclude``, the engine's formula), and ranks are counted per group. At the
nominal weights the fast path reproduces the engine (``tests/test_uncertainty.py``). One
approximation is documented: a leaf whose points a per-unit rule derives from other leaves
(Sơn La's DVCTT proportional rule) keeps its nominal share when weights move.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pipelines.analysis.inputs import AnalysisInput
from pipelines.scoring.ties import RankPrecision, tie_keys

_CHUNK = 256  # replications evaluated together under the exclude rule (bounded memory)


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
    precision: RankPrecision = field(default_factory=RankPrecision)  # when totals tie

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
                points, excluded = self.node_points(combo, rel[start:stop])
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
            out[:, start:stop] = self.node_points(combo, rel[start:stop])[0][:, :, self.root]
        return out

    def node_points(self, combo: Combo, rel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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

    @property
    def total_max(self) -> float:
        """The ranked total's maximum: 1 for a composite, else the root's (the root's weight
        gets no noise, so it is the same in every replication)."""
        return 1.0 if self.composite is not None else float(self.nominal_max[self.root])

    def ranks(self, totals: np.ndarray) -> np.ndarray:
        """Ranks within each comparison group, descending, ties share the lowest rank, totals
        compared by their tie key (:mod:`pipelines.scoring.ties`; units × replications)."""
        rounded = tie_keys(totals, self.total_max, self.precision)
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
        precision=inp.nominal.rank_precision,
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
