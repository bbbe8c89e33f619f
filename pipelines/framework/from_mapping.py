"""A framework built from its parsed YAML mapping and validated: every problem is reported with the
origin and the path inside the file (``tree[0].children[2] (P3)``); counts a decision declares
against what it lists are findings, not errors (both numbers are kept)."""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from pipelines.framework.model import (
    NODE_FLAGS,
    RULE_KINDS,
    ClassBand,
    Classification,
    Composite,
    Framework,
    Node,
    Normalisation,
    Rule,
    View,
)
from pipelines.scoring.choices import METHODS, check_choice

POINTS_TOLERANCE = 1e-6


class FrameworkError(ValueError):
    """A framework file is invalid; ``problems`` lists each located message."""

    def __init__(self, origin: str, problems: list[str]):
        self.origin = origin
        self.problems = problems
        super().__init__(f"{origin}: invalid framework\n" + "\n".join(f"  - {p}" for p in problems))


def framework_from_mapping(spec: dict[str, Any], origin: str = "<memory>") -> Framework:
    """Build and validate a framework from its parsed YAML mapping."""
    builder = _Builder(origin)
    framework = builder.build(_nfc(spec))
    if builder.problems:
        raise FrameworkError(origin, builder.problems)
    return framework


def _nfc(value: Any) -> Any:
    """Normalise every string to Unicode NFC so ids and names compare reliably."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    if isinstance(value, dict):
        return {_nfc(k): _nfc(v) for k, v in value.items()}
    return value


class _Builder:
    def __init__(self, origin: str):
        self.origin = origin
        self.problems: list[str] = []
        self.findings: list[str] = []
        self.nodes: dict[str, Node] = {}

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def build(self, spec: dict[str, Any]) -> Framework:
        for key in ("id", "version", "name", "scale", "tree"):
            if key not in spec:
                self.problem("framework", f"required field '{key}' is missing")
        if self.problems:
            raise FrameworkError(self.origin, self.problems)

        scale = float(spec["scale"])
        root_spec = spec.get("root") or {}
        root = Node(
            id=str(root_spec.get("id", "DTI")),
            name=str(root_spec.get("name", spec["name"])),
            type="index",
            max_points=scale,
            parent_id=None,
            location="framework",
        )
        self.nodes[root.id] = root
        self._children(spec["tree"], root, "tree")
        self._check_points(root)
        self._check_declared(spec.get("declared") or {})

        views = self._views(spec.get("views") or [])
        composites = self._composites(spec.get("composites") or [], views)
        valid = spec.get("valid_years") or {}
        return Framework(
            id=str(spec["id"]),
            version=str(spec["version"]),
            name=str(spec["name"]),
            level=str(spec.get("level", "unit")),
            scale=scale,
            root_id=root.id,
            nodes=self.nodes,
            source=dict(spec.get("source") or {}),
            valid_from=valid.get("from"),
            valid_to=valid.get("to"),
            declared=dict(spec.get("declared") or {}),
            views=views,
            composites=composites,
            classification=self._classification(spec.get("classification")),
            notes=list(spec.get("notes") or []),
            findings=self.findings,
            origin=self.origin,
        )

    def _children(self, specs: Any, parent: Node, where: str) -> None:
        if not isinstance(specs, list) or not specs:
            self.problem(where, "must be a non-empty list of nodes")
            return
        weights = [s.get("weight") for s in specs if isinstance(s, dict)]
        weight_total = sum(float(w) for w in weights if w is not None)
        for i, child in enumerate(specs):
            loc = f"{where}[{i}]"
            if not isinstance(child, dict):
                self.problem(loc, "must be a mapping")
                continue
            node = self._node(child, parent, loc, weight_total)
            if node is None:
                continue
            parent.children.append(node.id)
            if "children" in child:
                self._children(child["children"], node, f"{loc}.children")

    def _node(self, spec: dict, parent: Node, loc: str, weight_total: float) -> Node | None:
        node_id = spec.get("id")
        if node_id is None or str(node_id).strip() == "":
            self.problem(loc, "node without 'id'")
            return None
        node_id = str(node_id)
        loc = f"{loc} ({node_id})"
        if node_id in self.nodes:
            self.problem(loc, f"duplicate id '{node_id}' (first at {self.nodes[node_id].location})")
            return None
        for key in ("name", "type"):
            if not spec.get(key):
                self.problem(loc, f"required field '{key}' is missing")
        max_points = self._max_points(spec, parent, loc, weight_total)
        direction = spec.get("direction", "higher")
        if direction not in ("higher", "lower", 1, -1):
            self.problem(loc, f"direction must be 'higher' or 'lower', not {direction!r}")
        flags = frozenset(spec.get("flags") or [])
        unknown = flags - set(NODE_FLAGS)
        if unknown:
            self.problem(loc, f"unknown flags {sorted(unknown)}; allowed: {list(NODE_FLAGS)}")
        node = Node(
            id=node_id,
            name=str(spec.get("name", node_id)),
            type=str(spec.get("type", "component")),
            max_points=max_points,
            parent_id=parent.id,
            direction=-1 if direction in ("lower", -1) else 1,
            rule=self._rule(spec.get("rule"), max_points, loc),
            flags=flags,
            source=str(spec.get("source", "decision")),
            unit=spec.get("unit"),
            percent_scale=spec.get("percent_scale"),
            rubric=spec.get("rubric"),
            declared_components=spec.get("declared_components"),
            goalposts=self._goalposts(spec.get("goalposts"), loc),
            normalisation=self._normalisation(spec.get("normalisation"), loc),
            location=loc,
        )
        self.nodes[node_id] = node
        return node

    def _max_points(self, spec: dict, parent: Node, loc: str, weight_total: float) -> float:
        if "max_points" in spec:
            value = spec["max_points"]
            if not isinstance(value, int | float) or value < 0 or math.isnan(value):
                self.problem(loc, f"max_points must be a number ≥ 0, not {value!r}")
                return 0.0
            return float(value)
        if "weight" in spec:
            weight = float(spec["weight"])
            if weight < 0 or weight_total <= 0:
                self.problem(loc, "weights must be ≥ 0 and not all zero among siblings")
                return 0.0
            return parent.max_points * weight / weight_total
        self.problem(loc, "needs 'max_points' or 'weight'")
        return 0.0

    def _goalposts(self, spec: Any, loc: str) -> tuple[float, float] | None:
        """``goalposts: [lo, hi]``: fixed min-max bounds of the raw value, lo < hi."""
        if spec is None:
            return None
        if (
            not isinstance(spec, list | tuple)
            or len(spec) != 2
            or not all(isinstance(v, int | float) and not math.isnan(v) for v in spec)
            or not spec[0] < spec[1]
        ):
            self.problem(f"{loc}.goalposts", f"must be [lo, hi] with numbers lo < hi, not {spec!r}")
            return None
        return (float(spec[0]), float(spec[1]))

    def _normalisation(self, spec: Any, loc: str) -> Normalisation | None:
        """``normalisation: {method, goalposts}``: the method of the leaves below (one of
        ``METHODS``) and fixed min-max goalposts ``[lo, hi]``, lo < hi (min-max only; alone
        they mean min-max)."""
        if spec is None:
            return None
        where = f"{loc}.normalisation"
        if not isinstance(spec, dict) or not spec:
            self.problem(where, f"must be a mapping with 'method' and/or 'goalposts', not {spec!r}")
            return None
        unknown = sorted(str(k) for k in spec if k not in ("method", "goalposts"))
        if unknown:
            self.problem(where, f"unknown keys {unknown}; allowed: ['method', 'goalposts']")
            return None
        method = spec.get("method")
        if method is not None:
            try:
                check_choice("normalisation method", method, METHODS)
            except ValueError as exc:
                self.problem(f"{where}.method", str(exc))
                return None
        goalposts = None
        if "goalposts" in spec:
            goalposts = self._goalposts(spec["goalposts"], where)
            if goalposts is None:
                return None
            if method not in (None, "minmax"):
                self.problem(
                    where, f"goalposts are min-max bounds: they cannot go with method {method!r}"
                )
                return None
        return Normalisation(method=method, goalposts=goalposts)

    def _rule(self, spec: Any, max_points: float, loc: str) -> Rule | None:
        if spec is None:
            return None
        if not isinstance(spec, dict) or spec.get("kind") not in RULE_KINDS:
            self.problem(loc, f"rule.kind must be one of {list(RULE_KINDS)}")
            return None
        params = {k: v for k, v in spec.items() if k != "kind"}
        kind = spec["kind"]
        if kind == "ratio" and not _positive(params.get("target")):
            self.problem(f"{loc}.rule", "ratio needs a positive 'target'")
        if kind == "steps":
            steps = params.get("thresholds")
            if not isinstance(steps, list) or not steps:
                self.problem(f"{loc}.rule", "steps needs 'thresholds: [[value, points], ...]'")
            else:
                for j, step in enumerate(steps):
                    if not (isinstance(step, list) and len(step) == 2):
                        self.problem(f"{loc}.rule.thresholds[{j}]", "must be [value, points]")
                    elif step[1] > max_points + POINTS_TOLERANCE:
                        self.problem(
                            f"{loc}.rule.thresholds[{j}]",
                            f"gives {step[1]} points, above the maximum {max_points}",
                        )
        if kind == "categorical":
            categories = params.get("categories")
            if not isinstance(categories, dict) or not categories:
                self.problem(f"{loc}.rule", "categorical needs 'categories: {code: points}'")
            elif not _distinct_numeric_codes(categories):
                self.problem(
                    f"{loc}.rule",
                    "category codes must be numbers, each listed once (1 and 1.0 are one), "
                    "all written as numbers or all as text",
                )
            elif max(categories.values()) > max_points + POINTS_TOLERANCE:
                self.problem(f"{loc}.rule", f"a category gives more than the maximum {max_points}")
        return Rule(kind=kind, params=params)

    def _check_points(self, node: Node) -> None:
        if node.children and node.goalposts is not None:
            self.problem(node.location, "goalposts belong on leaves (the nodes with raw values)")
        if not node.children:
            if node.type == "index":
                self.problem("tree", "the index has no nodes")
            elif node.rule is None:
                self.problem(node.location, "a leaf needs a 'rule' (how its raw value scores)")
            return
        total = sum(self.nodes[c].max_points for c in node.children)
        if abs(total - node.max_points) > POINTS_TOLERANCE:
            self.problem(
                node.location,
                f"children's points add up to {total:g}, not to this node's {node.max_points:g}",
            )
        for child in node.children:
            self._check_points(self.nodes[child])

    def _check_declared(self, declared: dict) -> None:
        counts = {
            "groups": sum(n.type == "group" for n in self.nodes.values()),
            "pillars": sum(n.type == "pillar" for n in self.nodes.values()),
            "components": sum(n.type == "component" for n in self.nodes.values()),
            "criteria": sum(n.type == "criterion" for n in self.nodes.values()),
        }
        for kind, stated in declared.items():
            if kind not in counts:
                self.problem("declared", f"unknown count '{kind}'; use {list(counts)}")
            elif int(stated) != counts[kind]:
                self.findings.append(
                    f"{self.origin}: declared {kind} = {stated}, listed = {counts[kind]}"
                )
        for node in self.nodes.values():
            if node.declared_components is None:
                continue
            actual = sum(self.nodes[c].type == "component" for c in node.children)
            if actual != int(node.declared_components):
                self.findings.append(
                    f"{self.origin}: {node.location}: declared components = "
                    f"{node.declared_components}, listed = {actual}"
                )

    def _views(self, specs: list) -> list[View]:
        views = []
        for i, spec in enumerate(specs):
            loc = f"views[{i}] ({spec.get('id')})"
            over = [str(x) for x in spec.get("over") or []]
            missing = [x for x in over if x not in self.nodes]
            if not over or missing:
                self.problem(loc, f"'over' must list existing node ids; unknown: {missing}")
                continue
            if spec.get("id") in self.nodes:
                self.problem(loc, "a view id must differ from every node id")
            divisor = spec.get("divisor", sum(self.nodes[x].max_points for x in over))
            views.append(
                View(str(spec["id"]), str(spec.get("name", spec["id"])), over, float(divisor))
            )
        return views

    def _composites(self, specs: list, views: list[View]) -> list[Composite]:
        known = set(self.nodes) | {v.id for v in views}
        out = []
        for i, spec in enumerate(specs):
            loc = f"composites[{i}] ({spec.get('id')})"
            weights = {str(k): float(v) for k, v in (spec.get("weights") or {}).items()}
            missing = [k for k in weights if k not in known]
            if not weights or missing:
                self.problem(
                    loc, f"'weights' must name existing nodes or views; unknown: {missing}"
                )
                continue
            out.append(Composite(str(spec["id"]), str(spec.get("name", spec["id"])), weights))
        return out

    def _classification(self, spec: Any) -> Classification | None:
        if not spec:
            return None
        bands = [ClassBand(str(b["label"]), float(b["min_ratio"])) for b in spec.get("bands", [])]
        bands.sort(key=lambda b: b.min_ratio, reverse=True)
        if not bands:
            self.problem("classification", "needs at least one band")
        return Classification(
            id=str(spec.get("id", "classes")),
            bands=bands,
            source=str(spec.get("source", "decision")),
            pillar_minimum=bool(spec.get("pillar_minimum", False)),
        )


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and value > 0


def _distinct_numeric_codes(categories: dict) -> bool:
    """Whether every category code reads as a finite number, no two read as the same one, and
    the codes are all written as numbers or all as text (a file mixing both cannot be hashed in
    one order)."""
    if len({isinstance(code, str) for code in categories}) > 1:
        return False
    codes = []
    for code in categories:
        try:
            number = float(code)
        except (TypeError, ValueError):
            return False
        if isinstance(code, bool) or not math.isfinite(number):
            return False
        codes.append(number)
    return len(set(codes)) == len(codes)
