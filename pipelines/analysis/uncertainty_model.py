"""The uncertainty analysis's model (:mod:`pipelines.analysis.uncertainty`): the engine's tree
and the engine's leaf points of every (method setting, missing rule) analysed.

Calling the whole engine a thousand times would take minutes. Instead the engine's leaf stage
runs once per (method setting, missing rule) — so every leaf's points are exactly the engine's,
per-unit rules and the appraiser's points included — and the replications are then evaluated
many at once by the engine's own aggregation (:func:`pipelines.scoring.tree.aggregate`, with a
leading replications axis): a weight change scales a leaf's points by ``max'(leaf) / max(leaf)``
(its normalised share stays) and moves the nodes' maxima, which the ``exclude`` re-weighting,
views and composites read. Ranks are the engine's (:func:`pipelines.scoring.rank.rank_by_group`).
At the nominal weights this reproduces the engine (``tests/test_uncertainty.py``). One
approximation is documented: a leaf whose points a per-unit rule derives from other leaves
(Sơn La's DVCTT proportional rule) keeps its nominal share when weights move.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pipelines.analysis.inputs import AnalysisInput
from pipelines.scoring.rank import RankPrecision, rank_by_group
from pipelines.scoring.tree import Tree, aggregate, build_tree

_CHUNK = 256  # at most this many replications evaluated together


@dataclass
class Combo:
    """Leaf points of one (setting, missing rule) from the engine: units × leaves, in the
    tree's leaf order, and which leaves the ``exclude`` rule left out."""

    points: np.ndarray
    excluded: np.ndarray


@dataclass
class FastModel:
    """The engine's tree (:class:`pipelines.scoring.tree.Tree`) and leaf points of every
    combination analysed; replications are weight sets applied to them."""

    tree: Tree
    unit_ids: list[str]
    group_ids: list[str]
    noisy: np.ndarray  # node columns whose weight gets noise (every node but the root)
    combos: dict[tuple[str, str], Combo] = field(default_factory=dict)
    precision: RankPrecision = field(default_factory=RankPrecision)  # when totals tie

    @property
    def node_ids(self) -> list[str]:
        """The tree nodes, in document order (parents before children)."""
        return list(self.tree.node_ids[: self.tree.n_nodes])

    @property
    def nominal_max(self) -> np.ndarray:
        return self.tree.max_points[: self.tree.n_nodes]

    @property
    def parent(self) -> np.ndarray:
        """The index of each node's parent, −1 at the root."""
        parent = np.full(self.tree.n_nodes, -1, dtype=np.int64)
        for level in self.tree.levels:
            for node, children in level:
                parent[children] = node
        return parent

    @property
    def root(self) -> int:
        return self.tree.root

    @property
    def target(self) -> int:
        """The column of the ranked total: the first composite (national 1726: 0.4 gov + …)
        when there is one, else the index."""
        composites = self.tree.columns_of("composite")
        return int(composites[0]) if composites.size else self.root

    def children(self) -> dict[int, np.ndarray]:
        return {node: kids for level in self.tree.levels for node, kids in level}

    def relative_max(self, multipliers: np.ndarray) -> np.ndarray:
        """``max'(node) / max(node)`` (replications × nodes) for weight multipliers of the noisy
        nodes (replications × noisy): each parent's maximum is shared among its children in
        proportion to their perturbed weights, top down. Exactly 1 where every multiplier is 1."""
        n_reps, n_nodes = multipliers.shape[0], self.tree.n_nodes
        mult = np.ones((n_reps, n_nodes))
        mult[:, self.noisy] = multipliers
        rel = np.ones((n_reps, n_nodes))
        for level in reversed(self.tree.levels):  # top down
            for parent, ch in level:
                base = self.nominal_max[ch]
                nominal_sum = _sum_last(base[None, :] * np.ones((1, ch.size)))
                perturbed_sum = _sum_last(base[None, :] * mult[:, ch])
                with np.errstate(divide="ignore", invalid="ignore"):
                    share = np.where(perturbed_sum > 0, nominal_sum / perturbed_sum, 1.0)
                rel[:, ch] = rel[:, [parent]] * mult[:, ch] * share[:, None]
        return rel

    def evaluate(
        self, combo: Combo, rel: np.ndarray, only: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every column's points (replications × units × columns) under relative maxima
        ``rel`` (replications × nodes), and which columns are left out (units × columns): the
        engine's aggregation (:func:`pipelines.scoring.tree.aggregate`; ``only``: its
        argument) with each leaf's points scaled by its maximum's change (its normalised share
        stays)."""
        tree = self.tree
        leaf_rel = rel[:, tree.leaf_column]  # replications × leaves
        # built leaf-major (leaves × replications × units), the layout the sums read
        by_leaf = combo.points.T[:, None, :] * leaf_rel.T[:, :, None]
        maxima = (rel * self.nominal_max[None, :])[:, None, :]
        result = aggregate(
            tree, np.moveaxis(by_leaf, 0, -1), combo.excluded, maxima=maxima, only=only
        )
        return result.points, result.excluded

    def _chunks(self, n_reps: int) -> list[slice]:
        """Replications in chunks of about 4 million leaf values (bounded memory)."""
        size = len(self.unit_ids) * len(self.tree.node_ids)
        step = max(1, min(_CHUNK, (1 << 22) // max(1, size)))
        return [slice(start, min(start + step, n_reps)) for start in range(0, n_reps, step)]

    def totals(self, key: tuple[str, str], rel: np.ndarray) -> np.ndarray:
        """The ranked total's points, units × replications, under one combination for
        relative maxima ``rel`` (replications × nodes), a chunk of replications at a time."""
        combo = self.combos[key]
        out = np.empty((len(self.unit_ids), rel.shape[0]))
        for chunk in self._chunks(rel.shape[0]):
            points, _ = self.evaluate(combo, rel[chunk], only=self.target)
            out[:, chunk] = points[:, :, self.target].T
        return out

    def node_points(self, combo: Combo, rel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points of every column — tree nodes, views, composites — (units × replications ×
        columns) and which columns are left out (units × columns)."""
        n_columns = len(self.tree.node_ids)
        out = np.empty((len(self.unit_ids), rel.shape[0], n_columns))
        excluded = np.zeros((len(self.unit_ids), n_columns), dtype=bool)
        for chunk in self._chunks(rel.shape[0]):
            points, excluded = self.evaluate(combo, rel[chunk])
            out[:, chunk, :] = np.moveaxis(points, 0, 1)
        return out, excluded

    @property
    def total_max(self) -> float:
        """The ranked total's maximum: 1 for a composite, else the root's (the root's weight
        gets no noise, so it is the same in every replication)."""
        return float(self.tree.max_points[self.target])

    def ranks(self, totals: np.ndarray, max_points: float | None = None) -> np.ndarray:
        """Ranks within each comparison group (units × replications), as the engine ranks
        (:func:`pipelines.scoring.rank.rank_by_group`), points of maximum ``max_points``
        (None: the ranked total's) compared by their tie key."""
        groups = pl.DataFrame({"year": [0] * len(self.group_ids), "group_id": self.group_ids})
        maximum = self.total_max if max_points is None else max_points
        return rank_by_group(totals, np.float64(maximum), groups, self.precision)


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
    tree = build_tree(inp.framework)
    units = inp.units.sort(["group_id", "unit_id"])
    model = FastModel(
        tree=tree,
        unit_ids=units["unit_id"].to_list(),
        group_ids=units["group_id"].cast(pl.String).to_list(),
        noisy=np.array([k for k in range(tree.n_nodes) if k != tree.root], dtype=np.int64),
        precision=inp.nominal.rank_precision,
    )
    for setting in settings:
        for missing in missing_rules:
            model.combos[(setting, missing)] = _combo(model, inp, inp.spec(setting, missing))
    return model


def _combo(model: FastModel, inp: AnalysisInput, spec) -> Combo:
    leaves = inp.leaves(spec).select(
        "unit_id", pl.col("node_id").cast(pl.String), "points", "excluded"
    )
    grid = (
        pl.DataFrame({"unit_id": model.unit_ids})
        .with_row_index("u")
        .join(
            pl.DataFrame({"node_id": list(model.tree.leaf_ids)}).with_row_index("leaf"), how="cross"
        )
        .join(leaves, on=["unit_id", "node_id"], how="left")
        .sort("u", "leaf")
    )
    shape = (len(model.unit_ids), len(model.tree.leaf_ids))
    points = grid["points"].fill_null(0.0).to_numpy().reshape(shape).astype(float)
    excluded = grid["excluded"].fill_null(False).to_numpy().reshape(shape).astype(bool)
    return Combo(points=points, excluded=excluded)
