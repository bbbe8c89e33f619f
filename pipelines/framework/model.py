"""In-memory model of a composite-indicator framework (index → group → pillar → component → …)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import polars as pl

RULE_KINDS = ("ratio", "steps", "yesno", "categorical", "relative_best", "direct")
NODE_FLAGS = ("dvctt", "subordinate", "function_specific")


@dataclass(frozen=True)
class Rule:
    """How a raw value becomes points under the ``points`` method (see docs/framework-format.md)."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Normalisation:
    """A node's own normalisation (docs/framework-format.md, "Normalisation per node"): the
    method of the leaves below it (None: the run's) and fixed min-max goalposts ``[lo, hi]`` of
    the raw value (min-max only). The nearest declaration above a leaf applies as a whole."""

    method: str | None = None
    goalposts: tuple[float, float] | None = None

    @property
    def effective_method(self) -> str | None:
        """The declared method; goalposts alone mean min-max."""
        return self.method or ("minmax" if self.goalposts is not None else None)

    def params(self) -> dict[str, Any]:
        """As recorded in a snapshot's settings: ``{method, goalposts}`` (goalposts only if set)."""
        out: dict[str, Any] = {"method": self.effective_method}
        if self.goalposts is not None:
            out["goalposts"] = list(self.goalposts)
        return out


@dataclass
class Node:
    """One node of the tree. Leaves carry raw values; inner nodes sum their children's points."""

    id: str
    name: str
    type: str
    max_points: float
    parent_id: str | None
    children: list[str] = field(default_factory=list)
    direction: int = 1
    rule: Rule | None = None
    flags: frozenset[str] = frozenset()
    source: str = "decision"
    unit: str | None = None
    percent_scale: float | None = None
    rubric: str | None = None
    declared_components: int | None = None
    goalposts: tuple[float, float] | None = None  # fixed min-max bounds [lo, hi] of the raw value
    normalisation: Normalisation | None = None  # this node's own method / goalposts, if declared
    location: str = ""

    @property
    def is_leaf(self) -> bool:
        return not self.children


@dataclass
class View:
    """A node reusing other nodes' points (national: digital government = foundation + gov)."""

    id: str
    name: str
    over: list[str]
    divisor: float


@dataclass
class Composite:
    """A weighted combination of node ratios (national 1726 model: 0.4·gov + 0.3·eco + 0.3·soc)."""

    id: str
    name: str
    weights: dict[str, float]


@dataclass
class ClassBand:
    label: str
    min_ratio: float


@dataclass
class Classification:
    """Bands on the total ratio, highest first; below every band means "not classified"."""

    id: str
    bands: list[ClassBand]
    source: str = "decision"
    pillar_minimum: bool = False


@dataclass
class Framework:
    """A validated framework for one index (one comparison level) over a range of years."""

    id: str
    version: str
    name: str
    level: str
    scale: float
    root_id: str
    nodes: dict[str, Node]
    source: dict[str, Any] = field(default_factory=dict)
    valid_from: int | None = None
    valid_to: int | None = None
    declared: dict[str, int] = field(default_factory=dict)
    views: list[View] = field(default_factory=list)
    composites: list[Composite] = field(default_factory=list)
    classification: Classification | None = None
    notes: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    origin: str = ""

    def leaves(self) -> list[Node]:
        """Leaf nodes in document order: the indicators that carry raw values."""
        return [n for n in self.nodes.values() if n.is_leaf and n.id != self.root_id]

    def leaf_ids(self) -> list[str]:
        return [n.id for n in self.leaves()]

    def of_type(self, node_type: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.type == node_type]

    def ancestors(self, node_id: str) -> list[str]:
        """Ids from the node's parent up to the root."""
        out: list[str] = []
        parent = self.nodes[node_id].parent_id
        while parent is not None:
            out.append(parent)
            parent = self.nodes[parent].parent_id
        return out

    def effective_flags(self, node_id: str) -> frozenset[str]:
        """The node's flags and those of its ancestors: a flag on a component covers its
        criteria (a ``dvctt`` component's criteria are all about online public services)."""
        flags = set(self.nodes[node_id].flags)
        for ancestor in self.ancestors(node_id):
            flags |= self.nodes[ancestor].flags
        return frozenset(flags)

    def leaf_normalisation(self, leaf_id: str) -> tuple[str, Normalisation] | None:
        """The declaration that applies to a leaf: its own, else its nearest ancestor's, with
        the id of the node that declares it; None where no node declares one (the run's method
        then applies)."""
        for candidate in [leaf_id, *self.ancestors(leaf_id)]:
            declared = self.nodes[candidate].normalisation
            if declared is not None:
                return candidate, declared
        return None

    def normalisation_params(self) -> dict[str, dict[str, Any]]:
        """Every node's own declaration, node id → ``{method, goalposts}`` in document order:
        what a snapshot records of the per-node choices (empty when no node declares one)."""
        return {
            node.id: node.normalisation.params()
            for node in self.nodes.values()
            if node.normalisation is not None
        }

    def pillar_of(self, node_id: str) -> str | None:
        for candidate in [node_id, *self.ancestors(node_id)]:
            if self.nodes[candidate].type == "pillar":
                return candidate
        return None

    def valid_for(self, year: int) -> bool:
        lo = self.valid_from if self.valid_from is not None else year
        hi = self.valid_to if self.valid_to is not None else year
        return lo <= year <= hi

    def nodes_frame(self) -> pl.DataFrame:
        """One row per node (and view/composite) with its place in the tree."""
        depth = {self.root_id: 0}
        for node in self.nodes.values():  # document order: parents come before children
            if node.parent_id is not None:
                depth[node.id] = depth[node.parent_id] + 1
        rows = [
            {
                "node_id": n.id,
                "parent_id": n.parent_id,
                "node_level": n.type,
                "depth": depth[n.id],
                "ordinal": i,
                "name": n.name,
                "max_points": float(n.max_points),
                "direction": n.direction,
                "rule_kind": n.rule.kind if n.rule else None,
                "rule_params": json.dumps(n.rule.params, ensure_ascii=False, sort_keys=True)
                if n.rule
                else None,
                "flags": ",".join(sorted(n.flags)),
                "source": n.source,
                "unit": n.unit,
                "is_leaf": n.is_leaf and n.id != self.root_id,
                "goalpost_lo": n.goalposts[0] if n.goalposts else None,
                "goalpost_hi": n.goalposts[1] if n.goalposts else None,
            }
            for i, n in enumerate(self.nodes.values())
        ]
        base = len(rows)
        for j, v in enumerate(self.views):
            rows.append(_extra_row(v.id, "view", v.name, v.divisor, base + j))
        base = len(rows)
        for j, c in enumerate(self.composites):
            rows.append(_extra_row(c.id, "composite", c.name, 1.0, base + j))
        return pl.DataFrame(rows, schema=NODES_SCHEMA)

    def leaf_ancestry(self) -> pl.DataFrame:
        """Closure table: (leaf_id, node_id) for every leaf and each of its ancestors and itself."""
        pairs = [
            (leaf.id, node_id)
            for leaf in self.leaves()
            for node_id in [leaf.id, *self.ancestors(leaf.id)]
        ]
        return pl.DataFrame(
            pairs, schema={"leaf_id": pl.String, "node_id": pl.String}, orient="row"
        )

    def content_hash(self) -> str:
        """Hash of everything that affects scores: a snapshot names the exact framework used."""
        payload = {
            "id": self.id,
            "version": self.version,
            "scale": self.scale,
            "nodes": self.nodes_frame().to_dicts(),
            "views": [v.__dict__ for v in self.views],
            "composites": [c.__dict__ for c in self.composites],
            "classification": None
            if self.classification is None
            else {
                "id": self.classification.id,
                "pillar_minimum": self.classification.pillar_minimum,
                "bands": [b.__dict__ for b in self.classification.bands],
            },
        }
        declared = self.normalisation_params()
        if declared:  # a framework without declarations keeps the hash it always had
            payload["normalisation"] = declared
        blob = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


NODES_SCHEMA = {
    "node_id": pl.String,
    "parent_id": pl.String,
    "node_level": pl.String,
    "depth": pl.Int32,
    "ordinal": pl.Int32,
    "name": pl.String,
    "max_points": pl.Float64,
    "direction": pl.Int8,
    "rule_kind": pl.String,
    "rule_params": pl.String,
    "flags": pl.String,
    "source": pl.String,
    "unit": pl.String,
    "is_leaf": pl.Boolean,
    "goalpost_lo": pl.Float64,
    "goalpost_hi": pl.Float64,
}


def _extra_row(node_id: str, level: str, name: str, max_points: float, ordinal: int) -> dict:
    return {
        "node_id": node_id,
        "parent_id": None,
        "node_level": level,
        "depth": 0,
        "ordinal": ordinal,
        "name": name,
        "max_points": float(max_points),
        "direction": 1,
        "rule_kind": None,
        "rule_params": None,
        "flags": "",
        "source": "decision",
        "unit": None,
        "is_leaf": False,
        "goalpost_lo": None,
        "goalpost_hi": None,
    }
