"""Leaf points → every node, view and composite of a framework, on arrays (DOMAIN.md,
"aggregation"; docs/scoring.md, "Aggregation").

A :class:`Tree` is the framework as arrays for one order of the leaves (the columns of a dense
``units × leaves`` grid): the leaf → node weight matrix (1 where a leaf is below a node), the
child → parent matrices of every level, and views and composites as weighted sums over nodes.
:func:`aggregate` applies them to leaf points (with an ``excluded`` mask) and gives every node's
points, maximum, ratio, aggregated z and missing count, ``units × columns``. Points may carry
leading axes (replications × units × leaves, with each replication's node maxima): the Monte
Carlo evaluates many weight sets at once through the same code the engine scores with.

The rules:

- **points**: a node's points are the sum of its children's, which is the sum of the points of
  the leaves below it (the weight matrix);
- **exclude**: where something below a node is left out, the node is computed level by level:
  ``Σ present children's points ÷ Σ their maxima × the node's maximum`` when a child is left
  out, the plain sum of its children otherwise; a node whose children are all left out is left
  out itself (0 points, no ratio) — the same code for every method;
- **z**: a node's aggregated z is the max-points-weighted mean of the z of the leaves below it
  that have one; where something below the node is left out, it is re-weighted level by level
  like the points (the mean of its present children's z weighted by their maxima, over the
  children that have a z), which is COINr's aggregation with missing values left out;
- **given nodes**: a node whose points are given for a unit (``given``, a value read at the
  node rather than at its leaves) has those points; its parents are summed from their children,
  level by level, for the units that gave something below them (:mod:`given_nodes`); the
  nodes below a given node are left out (a view or composite over them re-weights over the
  present ones);
- **views**: the points of the nodes covered, re-weighted over the present ones when some are
  left out, on the view's divisor; the view's z is the mean of its nodes' z;
- **composites**: ``Σ weight × ratio`` of their nodes and views, re-weighted over the present
  terms when some are left out; maximum 1.

Sums run left to right in a fixed order (the grid's leaf order, the children's document order),
as explicit adds rather than a matrix product: a BLAS product's summation order changes with the
array's shape, and the same inputs must give the same bits whether a replication is evaluated
alone or among a thousand (and whatever the number of units scored).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipelines.framework.model import Framework


@dataclass(frozen=True)
class Tree:
    """A framework as arrays over the leaf columns ``leaf_ids``.

    Columns of a result: the tree nodes with a leaf below them (document order), then the
    views, then the composites (``node_ids``, ``node_types``, ``ordinals``, ``max_points``).
    """

    leaf_ids: tuple[str, ...]
    node_ids: tuple[str, ...]
    node_types: tuple[str, ...]
    ordinals: np.ndarray  # the framework's ordinal of each column (nodes, views, composites)
    max_points: np.ndarray  # nominal maximum of each column (a view: its divisor; composite: 1)
    n_nodes: int  # the tree nodes among the columns
    weights: np.ndarray  # leaves × tree nodes: 1 where the leaf is below (or is) the node
    leaf_column: np.ndarray  # the tree-node column of each leaf
    levels: tuple[tuple[tuple[int, np.ndarray], ...], ...]  # deepest first: (parent, children)
    views: tuple[np.ndarray, ...]  # the tree-node columns each view covers
    composites: tuple[tuple[np.ndarray, np.ndarray], ...]  # (term columns, their weights)

    @property
    def root(self) -> int:
        """The column of the index (the tree node no other node is below)."""
        return int(np.argmax(self.weights.sum(axis=0)))

    def below(self, column: int) -> np.ndarray:
        """The leaf positions below a tree node, left to right."""
        return np.flatnonzero(self.weights[:, column])

    def descendants(self, column: int) -> np.ndarray:
        """The tree-node columns strictly below a tree node, ascending."""
        children = {parent: kids for level in self.levels for parent, kids in level}
        found: list[int] = []
        todo = [column]
        while todo:
            kids = children.get(todo.pop(), ())
            found.extend(int(k) for k in kids)
            todo.extend(int(k) for k in kids)
        return np.array(sorted(found), dtype=int)

    def cut_below(self, given: np.ndarray) -> np.ndarray:
        """``units × tree nodes``: strictly below a node given for the unit (``given``: NaN
        where not given)."""
        cut = np.zeros(given.shape, dtype=bool)
        for k in np.flatnonzero((~np.isnan(given)).any(axis=0)):
            cut[np.ix_(~np.isnan(given[:, k]), self.descendants(int(k)))] = True
        return cut

    def columns_of(self, node_type: str) -> np.ndarray:
        """The columns of the nodes of one type (``pillar``, ``view`` …)."""
        return np.array([k for k, t in enumerate(self.node_types) if t == node_type], dtype=int)


def build_tree(framework: Framework, leaf_ids: Sequence[str] | None = None) -> Tree:
    """The :class:`Tree` of ``framework`` with leaf columns in ``leaf_ids`` order (default:
    sorted by id, the order of the engine's grid)."""
    order = tuple(sorted(framework.leaf_ids()) if leaf_ids is None else leaf_ids)
    position = {leaf: j for j, leaf in enumerate(order)}
    has_leaf: set[str] = set()
    for leaf in order:
        has_leaf.update([leaf, *framework.ancestors(leaf)])
    nodes = [node for node in framework.nodes.values() if node.id in has_leaf]
    column = {node.id: k for k, node in enumerate(nodes)}
    weights = np.zeros((len(order), len(nodes)))
    for leaf in order:
        for node_id in [leaf, *framework.ancestors(leaf)]:
            weights[position[leaf], column[node_id]] = 1.0
    depth = {node.id: len(framework.ancestors(node.id)) for node in nodes}
    by_depth: dict[int, list[tuple[int, np.ndarray]]] = {}
    for node in nodes:
        children = [column[c] for c in node.children if c in column]
        if children:
            by_depth.setdefault(depth[node.id], []).append(
                (column[node.id], np.array(children, dtype=int))
            )
    levels = tuple(tuple(by_depth[d]) for d in sorted(by_depth, reverse=True))
    ordinal = {node_id: i for i, node_id in enumerate(framework.nodes)}
    ids = [node.id for node in nodes]
    types = [node.type for node in nodes]
    ordinals = [ordinal[node.id] for node in nodes]
    maxima = [float(node.max_points) for node in nodes]
    views = []
    for j, view in enumerate(framework.views):
        covered = sorted((column[n] for n in view.over if n in column), key=lambda k: ordinals[k])
        views.append(np.array(covered, dtype=int))
        ids.append(view.id)
        types.append("view")
        ordinals.append(len(framework.nodes) + j)
        maxima.append(float(view.divisor))
    composites = []
    for j, composite in enumerate(framework.composites):
        where = {node_id: k for k, node_id in enumerate(ids)}
        terms = sorted(
            ((where[n], float(w)) for n, w in composite.weights.items() if n in where),
            key=lambda term: ordinals[term[0]],
        )
        composites.append(
            (np.array([k for k, _ in terms], dtype=int), np.array([w for _, w in terms]))
        )
        ids.append(composite.id)
        types.append("composite")
        ordinals.append(len(framework.nodes) + len(framework.views) + j)
        maxima.append(1.0)
    return Tree(
        leaf_ids=order,
        node_ids=tuple(ids),
        node_types=tuple(types),
        ordinals=np.array(ordinals, dtype=np.int32),
        max_points=np.array(maxima),
        n_nodes=len(nodes),
        weights=weights,
        leaf_column=np.array([column[leaf] for leaf in order], dtype=int),
        levels=levels,
        views=tuple(views),
        composites=tuple(composites),
    )


@dataclass
class Aggregate:
    """Every column's numbers (``units × columns``, with the points' leading axes)."""

    points: np.ndarray
    max_points: np.ndarray  # broadcasts against ``points``
    excluded: np.ndarray  # units × columns
    z: np.ndarray | None  # NaN where a node has no z; None when no z was given
    n_missing: np.ndarray  # units × columns (views and composites: 0)

    @property
    def ratio(self) -> np.ndarray:
        """points ÷ maximum; NaN for a node of maximum ≤ 0 or left out."""
        maxima = np.broadcast_to(self.max_points, self.points.shape)
        usable = (maxima > 0) & ~self.excluded
        return np.divide(self.points, maxima, out=np.full(self.points.shape, np.nan), where=usable)


def _by_unit(mask: np.ndarray, lead: int) -> np.ndarray:
    """A ``units × k`` mask as ``k × (1,)*lead × units`` floats, to multiply ``(k, …, units)``
    arrays term by term."""
    flipped = mask.T.astype(np.float64)
    return flipped.reshape(flipped.shape[0], *(1,) * lead, flipped.shape[1])


def _ordered_sum(parts: np.ndarray, picks: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Σ ``parts[picks[0]] + parts[picks[1]] + …`` (first axis), strictly left to right, into
    ``out`` when given (no fresh allocation)."""
    if out is None:
        out = parts[picks[0]].copy()
    else:
        np.copyto(out, parts[picks[0]])
    for j in picks[1:]:
        out += parts[j]
    return out


def aggregate(
    tree: Tree,
    points: np.ndarray,
    excluded: np.ndarray | None = None,
    z: np.ndarray | None = None,
    n_missing: np.ndarray | None = None,
    maxima: np.ndarray | None = None,
    only: int | None = None,
    given: np.ndarray | None = None,
) -> Aggregate:
    """Every column's numbers from the leaves' (module docstring).

    ``points``: ``(…, units, leaves)`` in ``tree.leaf_ids`` order (a left-out leaf's points
    are not read); ``excluded``, ``z`` (NaN: none), ``n_missing``: ``units × leaves``;
    ``maxima``: the tree nodes' maxima (``(…, 1, tree nodes)``, one row per replication when
    weights vary; None: the framework's). A node's points are the sum of its children's, so
    replications scale the leaves' points by their maxima before calling this. ``only``: the
    one tree-node column a caller reads (the Monte Carlo's ranked total); when nothing is left
    out, the other columns are not computed (NaN). ``given``: ``units × tree nodes`` points
    given at nodes (NaN: not given); the caller leaves the leaves below a given node at 0
    points, not left out and not missing.
    """
    nominal = maxima is None
    lead = points.shape[:-2]
    node_max = np.broadcast_to(
        tree.max_points[: tree.n_nodes] if maxima is None else maxima, (*lead, 1, tree.n_nodes)
    )
    # leaves first: each leaf's units contiguous for the sums
    by_leaf = np.ascontiguousarray(np.moveaxis(points, -1, 0))
    n_units = points.shape[-2]
    n_nodes, n_columns = tree.n_nodes, len(tree.node_ids)
    out = np.empty((n_columns, *points.shape[:-1]))
    below = [tree.below(k) for k in range(n_nodes)]
    anything_out = excluded is not None and bool(excluded.any())
    all_max = np.empty((*lead, 1, n_columns))
    all_max[..., :n_nodes] = node_max
    left_out = np.zeros((n_units, n_columns), dtype=bool)
    if only is not None and only < n_nodes and not anything_out and given is None:
        out[:] = np.nan
        _ordered_sum(by_leaf, below[only], out[only])
        no_missing = np.zeros((n_units, n_columns), dtype=np.int32)
        return Aggregate(np.moveaxis(out, 0, -1), all_max, left_out, None, no_missing)
    for k in range(n_nodes):
        _ordered_sum(by_leaf, below[k], out[k])
    del by_leaf  # not read again: freed before the z and the missing counts are summed
    if given is not None:
        _override(tree, out, given)
    under = np.zeros((n_units, n_nodes), dtype=bool)  # something below the node is left out
    if anything_out:
        assert excluded is not None
        left_out[:, tree.leaf_column] = excluded
        under = excluded.astype(np.float64) @ tree.weights > 0
        for level in tree.levels:  # deepest first: a parent's children are final
            for parent, children in level:
                left_out[:, parent] = left_out[:, children].all(axis=1)
                if not under[:, parent].any():
                    continue
                # Σ present ÷ Σ their maxima × the parent's maximum (0 when all are left out)
                child_max = np.moveaxis(node_max[..., children], -1, 0)  # children × (…, 1)
                reweighted = _reweighted_sum(
                    out[children], child_max, left_out[:, children], node_max[..., parent]
                )
                out[parent] = np.where(under[:, parent], reweighted, out[parent])
    if given is not None:
        left_out[:, :n_nodes] |= tree.cut_below(given)
    node_z = None if z is None else _node_z(tree, z, left_out, under)
    missing = np.zeros((n_columns, n_units), dtype=np.int32)
    if n_missing is not None and n_missing.any():
        by_leaf_missing = np.ascontiguousarray(n_missing.T, dtype=np.int32)
        for k in range(n_nodes):
            _ordered_sum(by_leaf_missing, below[k], missing[k])
    result = Aggregate(np.moveaxis(out, 0, -1), all_max, left_out, node_z, missing.T)
    _views(tree, result, nominal)
    _composites(tree, result)
    return result


def _override(tree: Tree, out: np.ndarray, given: np.ndarray) -> None:
    """The given nodes' points into ``out`` (``columns × (…, units)``), then, deepest level
    first, each parent of a changed node re-summed from its children for the units concerned."""
    is_given = ~np.isnan(given)
    changed = is_given.copy()
    for k in np.flatnonzero(is_given.any(axis=0)):
        out[k] = np.where(is_given[:, k], given[:, k], out[k])
    for level in tree.levels:
        for parent, children in level:
            redo = changed[:, children].any(axis=1) & ~is_given[:, parent]
            if redo.any():
                out[parent] = np.where(redo, _ordered_sum(out, children), out[parent])
                changed[:, parent] |= redo


def _node_z(tree: Tree, z: np.ndarray, left_out: np.ndarray, under: np.ndarray) -> np.ndarray:
    """The aggregated z of every column (``units × columns``; NaN: none)."""
    n_units, n_nodes = z.shape[0], tree.n_nodes
    weight = tree.max_points[: tree.n_nodes][tree.leaf_column]
    # the z weighted by the leaf's maximum, 0 where it has none: in the transposed copy itself
    z_weighted = z.T.copy()  # C order, and ours to write
    has_z = ~np.isnan(z_weighted)
    z_weighted *= weight[:, None]
    z_weighted[~has_z] = 0.0
    z_weight = np.where(has_z, weight[:, None], 0.0)
    del has_z
    out = np.full((len(tree.node_ids), n_units), np.nan)
    den = np.empty(n_units)
    for k in range(n_nodes):
        picks = tree.below(k)
        _ordered_sum(z_weighted, picks, out[k])
        _ordered_sum(z_weight, picks, den)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[k] /= den  # no leaf with a z: 0 / 0 → NaN → null
    node_max = tree.max_points
    for level in tree.levels:
        for parent, children in level:
            if not under[:, parent].any():
                continue
            child_z = out[children]
            counts = ~np.isnan(child_z) & (~left_out[:, children]).T
            num = _ordered_sum(
                np.where(counts, child_z * node_max[children, None], 0.0), np.arange(children.size)
            )
            den = _ordered_sum(
                np.where(counts, node_max[children, None], 0.0), np.arange(children.size)
            )
            with np.errstate(invalid="ignore", divide="ignore"):
                level_z = np.where(den > 0, num / den, np.nan)
            out[parent] = np.where(under[:, parent], level_z, out[parent])
    return out.T.copy()


def _reweighted_sum(
    by_term: np.ndarray,
    weights: np.ndarray,
    absent: np.ndarray,
    total: np.ndarray | None = None,
) -> np.ndarray:
    """Σ terms, or where some are absent the present ones re-weighted to ``total`` (default:
    the full weight): Σ present ÷ Σ their weights × total, 0 when all are absent.
    ``by_term``: ``terms × (…, units)``; ``weights``: ``terms × …`` broadcast against them;
    ``absent``: ``units × terms``."""
    picks = np.arange(by_term.shape[0])
    present = _by_unit(~absent, by_term.ndim - 2)
    plain = _ordered_sum(by_term, picks)
    present_values = _ordered_sum(by_term * present, picks)
    present_weight = _ordered_sum(weights * present, picks)
    total = _ordered_sum(weights, picks) if total is None else total
    with np.errstate(divide="ignore", invalid="ignore"):
        reweighted = np.where(present_weight > 0, present_values / present_weight * total, 0.0)
    return np.where(absent.any(axis=1), reweighted, plain)


def _terms(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(…, units, terms)`` values and their weights, terms first (:func:`_reweighted_sum`)."""
    lead = values.shape[:-2]
    weight = np.broadcast_to(weights, (*lead, 1, values.shape[-1]))
    return np.moveaxis(values, -1, 0), np.moveaxis(weight, -1, 0)


def _views(tree: Tree, result: Aggregate, nominal: bool) -> None:
    """Each view's points, divisor, z and exclusion into ``result``'s view columns."""
    for j, covered in enumerate(tree.views):
        column = tree.n_nodes + j
        node_max = result.max_points[..., covered]
        by_term, weight = _terms(result.points[..., covered], node_max)
        result.points[..., column] = _reweighted_sum(by_term, weight, result.excluded[:, covered])
        divisor = tree.max_points[column]
        if not nominal:  # the view's ratio stays a share when its nodes' maxima move
            moved = _ordered_sum(np.moveaxis(node_max, -1, 0), np.arange(covered.size))
            divisor = divisor * (moved / _ordered_sum(tree.max_points, covered))
        result.max_points[..., column] = divisor
        result.excluded[:, column] = result.excluded[:, covered].all(axis=1)
        if result.z is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # no z at all: NaN, no warning
                result.z[:, column] = np.nanmean(result.z[:, covered], axis=1)


def _composites(tree: Tree, result: Aggregate) -> None:
    """Each composite's ``Σ weight × ratio`` into ``result``'s composite columns."""
    first = tree.n_nodes + len(tree.views)
    for j, (terms, weights) in enumerate(tree.composites):
        column = first + j
        maxima = np.broadcast_to(result.max_points[..., terms], result.points[..., terms].shape)
        ratio = np.divide(
            result.points[..., terms],
            maxima,
            out=np.zeros(maxima.shape),
            where=maxima > 0,
        )
        by_term, weight = _terms(ratio * weights, weights)
        result.points[..., column] = _reweighted_sum(by_term, weight, result.excluded[:, terms])
        result.max_points[..., column] = 1.0
        result.excluded[:, column] = result.excluded[:, terms].all(axis=1)
        if result.z is not None:
            result.z[:, column] = np.nan
