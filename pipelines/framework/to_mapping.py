"""A framework written back as the mapping its YAML holds (the inverse of
:func:`pipelines.framework.from_mapping.framework_from_mapping`)."""

from __future__ import annotations

from typing import Any

from pipelines.framework.model import (
    Framework,
)


def framework_to_mapping(framework: Framework) -> dict[str, Any]:
    """The inverse of :func:`framework_from_mapping`: a mapping that loads back into a framework
    with the same content hash (used by the COINr export and to write YAML)."""
    root = framework.nodes[framework.root_id]

    def node(node_id: str) -> dict[str, Any]:
        n = framework.nodes[node_id]
        spec: dict[str, Any] = {
            "id": n.id,
            "type": n.type,
            "name": n.name,
            "max_points": n.max_points,
        }
        if n.direction == -1:
            spec["direction"] = "lower"
        if n.rule is not None:
            spec["rule"] = {"kind": n.rule.kind, **n.rule.params}
        if n.flags:
            spec["flags"] = sorted(n.flags)
        spec["source"] = n.source
        for key in ("unit", "percent_scale", "rubric", "declared_components"):
            if getattr(n, key) is not None:
                spec[key] = getattr(n, key)
        if n.goalposts is not None:
            spec["goalposts"] = list(n.goalposts)
        if n.normalisation is not None:
            spec["normalisation"] = n.normalisation.params()
        if n.children:
            spec["children"] = [node(c) for c in n.children]
        return spec

    mapping: dict[str, Any] = {
        "id": framework.id,
        "version": framework.version,
        "name": framework.name,
        "level": framework.level,
        "scale": framework.scale,
        "root": {"id": root.id, "name": root.name},
        "source": dict(framework.source),
    }
    if framework.valid_from is not None or framework.valid_to is not None:
        mapping["valid_years"] = {"from": framework.valid_from, "to": framework.valid_to}
    if framework.declared:
        mapping["declared"] = dict(framework.declared)
    if framework.notes:
        mapping["notes"] = list(framework.notes)
    if framework.classification is not None:
        c = framework.classification
        mapping["classification"] = {
            "id": c.id,
            "source": c.source,
            "pillar_minimum": c.pillar_minimum,
            "bands": [{"label": b.label, "min_ratio": b.min_ratio} for b in c.bands],
        }
    mapping["tree"] = [node(c) for c in root.children]
    if framework.views:
        mapping["views"] = [
            {"id": v.id, "name": v.name, "over": list(v.over), "divisor": v.divisor}
            for v in framework.views
        ]
    if framework.composites:
        mapping["composites"] = [
            {"id": c.id, "name": c.name, "weights": dict(c.weights)} for c in framework.composites
        ]
    return mapping
