"""A scored framework as the report describes it: its nodes and pillars, classes, the findings of
its checks in Vietnamese."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import polars as pl

from pipelines.report.contents import BAND_COLOURS, Band, FrameworkInfo, nfc

COUNT_NAMES = {
    "groups": "nhóm chỉ số",
    "pillars": "chỉ số chính",
    "components": "chỉ số thành phần",
    "criteria": "tiêu chí",
}


_DECLARED_TOTAL = re.compile(r"declared (\w+) = (\d+), listed = (\d+)$")


_DECLARED_NODE = re.compile(r"\((?P<node>[^()]+)\): declared components = (\d+), listed = (\d+)$")


def finding_text(finding: str) -> str:
    """A framework loader's count finding (English, for developers) said in Vietnamese for the
    method page: what the decision declares against what the framework lists."""
    found = _DECLARED_NODE.search(finding)
    if found:
        node, declared, listed = found.groups()
        return (
            f"Chỉ số {node}: quyết định nêu {declared} chỉ số thành phần, "
            f"danh mục liệt kê {listed}."
        )
    found = _DECLARED_TOTAL.search(finding)
    if found:
        kind, declared, listed = found.groups()
        noun = COUNT_NAMES.get(kind, kind)
        return f"Quyết định nêu {declared} {noun}, danh mục liệt kê {listed}."
    return "Số lượng chỉ số nêu trong quyết định không khớp với danh mục."


def framework_info(con: duckdb.DuckDBPyConnection, framework_hash: str) -> FrameworkInfo:
    """The framework version a snapshot used; its classification bands are read from the
    framework file named in ``framework_versions.origin`` only when that file still has the
    same content hash (the warehouse does not store bands)."""
    row = con.execute(
        "SELECT * FROM framework_versions WHERE framework_hash = ?", [framework_hash]
    ).pl()
    if row.is_empty():
        raise LookupError(f"framework version {framework_hash} is not in the warehouse")
    info = row.row(0, named=True)
    bands: list[Band] = []
    bands_id = bands_source = bands_note = None
    public_notes: list[str] = []
    bands_document = None
    pillar_minimum = hash_matches = False
    origin = Path(info["origin"])
    status = f"không đọc được tệp bộ chỉ số {origin.name}: chỉ hiển thị nhãn xếp loại đã lưu"
    if origin.exists():
        from pipelines.framework.from_mapping import framework_from_mapping
        from pipelines.framework.load import framework_document

        try:
            # the document too: the classification's note is not kept by the model
            document = framework_document(origin)
            framework = framework_from_mapping(document["framework"], origin=str(origin))
        except Exception as exc:  # a framework file under concurrent edit must not stop a report
            framework, status = None, f"tệp bộ chỉ số {origin.name} lỗi ({exc}); nhãn đã lưu"
        hash_matches = framework is not None and framework.content_hash() == framework_hash
        if framework is not None:
            public_notes = [str(n) for n in document["framework"].get("public_notes") or []]
        if framework is not None and framework.classification is not None:
            c = framework.classification
            bands = [
                Band(b.label, b.min_ratio, BAND_COLOURS[i % len(BAND_COLOURS)])
                for i, b in enumerate(c.bands)
            ]
            bands_id, bands_source, pillar_minimum = c.id, c.source, c.pillar_minimum
            block = (document["framework"] or {}).get("classification") or {}
            bands_note, bands_document = block.get("public_note"), block.get("document")
            status = (
                f"ngưỡng đọc từ {origin.name}, trùng mã băm với snapshot"
                if hash_matches
                else f"ngưỡng đọc từ {origin.name} (tệp đã thay đổi sau snapshot)"
            )
        elif framework is not None:
            status = "bộ chỉ số không quy định xếp loại"
    return FrameworkInfo(
        framework_id=info["framework_id"],
        version=nfc(info["version"]),
        name=nfc(info["name"]),
        framework_hash=framework_hash,
        scale=float(info["scale"]),
        source=json.loads(info["source_json"]),
        findings=[finding_text(nfc(f)) for f in json.loads(info["findings_json"])],
        notes=[nfc(n) for n in json.loads(info["notes_json"])],
        origin=info["origin"],
        bands=bands,
        bands_id=bands_id,
        bands_source=bands_source,
        bands_note=nfc(bands_note) if bands_note else None,
        pillar_minimum=pillar_minimum,
        bands_status=status,
        hash_matches=hash_matches,
        public_notes=[nfc(n) for n in public_notes],
        bands_document=nfc(bands_document) if bands_document else None,
    )


def framework_nodes(con: duckdb.DuckDBPyConnection, framework_hash: str) -> pl.DataFrame:
    """The nodes of a framework version, in their order."""
    return con.execute(
        "SELECT node_id, parent_id, node_level, ordinal, name, max_points, source "
        "FROM framework_nodes WHERE framework_hash = ? ORDER BY ordinal",
        [framework_hash],
    ).pl()


def node_pillars(nodes: pl.DataFrame) -> dict[str, str | None]:
    """node_id → the pillar above it (or itself)."""
    parent = dict(zip(nodes["node_id"], nodes["parent_id"], strict=True))
    kind = dict(zip(nodes["node_id"], nodes["node_level"], strict=True))
    out: dict[str, str | None] = {}
    for node_id in nodes["node_id"]:
        current: str | None = node_id
        while current is not None and kind.get(current) != "pillar":
            current = parent.get(current)
        out[node_id] = current
    return out
