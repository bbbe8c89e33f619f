"""What the public report says, read from the warehouse: the year's latest snapshot per level for
the preset's primary method, and everything needed to say where it came from.

Every number in the report comes from ``snapshots`` + ``snapshot_scores`` (never from the live
``scores`` view), so a page names exactly the snapshot, framework version and input it shows.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from pipelines.framework.assumed import (
    AssumedAcceptance,
    AssumedComponents,
    acceptance_of,
    assumed_components,
)
from pipelines.scoring.rank import class_labels
from pipelines.scoring.ties import NOISE_ONLY, RankPrecision
from pipelines.store.warehouse import run_query
from pipelines.text.labels import LEVEL_NAMES

# Colours of classification bands, best band first; "not classified" is grey.
BAND_COLOURS = ("#2e7d32", "#1565c0", "#f9a825", "#c62828", "#6a1b9a", "#00838f")
UNCLASSIFIED_COLOUR = "#9e9e9e"
UNCLASSIFIED_LABEL = "Không xếp loại"

# Short Vietnamese names of the units of a level, for sentences ("18 sở, ban, ngành").
LEVEL_UNITS = {
    "department": "sở, ban, ngành",
    "district": "huyện, thị xã, thành phố",
    "commune": "xã, phường, thị trấn",
    "province": "tỉnh",
}
# File-name slugs of the comparison groups (ASCII, stable).
LEVEL_SLUGS = {"department": "so", "district": "huyen", "commune": "xa", "province": "tinh"}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class Band:
    label: str
    min_ratio: float | None  # None: only the label is known (stored class labels)
    colour: str


@dataclass(frozen=True)
class FrameworkInfo:
    framework_id: str
    version: str
    name: str
    framework_hash: str
    scale: float
    source: dict[str, Any]
    findings: list[str]
    notes: list[str]  # the framework's developer notes (English): never shown to the public
    origin: str
    bands: list[Band]
    bands_id: str | None
    bands_source: str | None  # decision | assumed | None (no classification known)
    bands_note: str | None  # the classification's public_note (Vietnamese)
    pillar_minimum: bool
    bands_status: str  # how the bands were found (Vietnamese sentence)
    hash_matches: bool = True  # the framework file still has the snapshot's content hash
    reading: str | None = None  # total_only | total_and_pillars (from params_json if recorded)
    public_notes: list[str] = field(default_factory=list)  # Vietnamese, for the method page
    bands_document: str | None = None  # the text that sets the bands (classification.document)

    @property
    def classified(self) -> bool:
        """Whether units of this framework get a class (bands known or class labels stored);
        without one the published documents show ranks only."""
        return bool(self.bands)

    def colour_of(self, label: str | None) -> str:
        for band in self.bands:
            if band.label == label:
                return band.colour
        return UNCLASSIFIED_COLOUR


@dataclass(frozen=True)
class Group:
    group_id: str
    level: str
    name: str
    slug: str
    n_units: int


@dataclass
class LevelData:
    """One level (comparison kind) of one year, from its latest snapshot."""

    level: str
    label: str
    snapshot: dict[str, Any]
    params: dict[str, Any]
    framework: FrameworkInfo
    groups: list[Group]
    totals: pl.DataFrame  # unit_id, unit_name, group_id, points, max_points, ratio, rank, class…
    pillars: pl.DataFrame  # unit_id, group_id, node_id, name, ordinal, points, max_points, ratio…
    components: pl.DataFrame  # unit_id, group_id, node_id, name, pillar_id, points, ratio…
    pillar_nodes: pl.DataFrame  # node_id, name, max_points, ordinal (document order)
    component_nodes: pl.DataFrame  # node_id, name, pillar_id, max_points, ordinal, source
    methods: pl.DataFrame  # unit_id, group_id, method, points, ratio, rank (latest snapshots)
    method_snapshots: dict[str, str]
    uncertainty: pl.DataFrame | None  # unit_id, nominal_rank, median_rank, p05_rank, p95_rank
    adjustments: pl.DataFrame  # unit_id, indicator_id, self_value, appraised_value, reason
    flagged_units: pl.DataFrame  # unit_id, unit_name, has_dvctt, has_subordinates, is_special…
    override: str | None
    audit: pl.DataFrame | None = None  # rule, unit_id, n_leaves (leaf_scores.rule_applied)
    assumed: AssumedComponents | None = None  # components not from the decision (banner)
    acceptance: AssumedAcceptance | None = None  # publishing them anyway: who, when, why

    def group(self, group_id: str) -> Group:
        return next(g for g in self.groups if g.group_id == group_id)


@dataclass
class Provenance:
    n_submissions: int
    n_refused: int
    n_rejected_cells: int
    last_file: str | None
    last_seq: int | None
    data_as_of: dt.datetime | None  # when the last accepted submission was received (archive)
    n_checked: int  # files whose identification sheet could be read
    n_synthetic: int

    @property
    def synthetic(self) -> bool:
        return self.n_synthetic > 0


@dataclass
class YearData:
    year: int
    preset_id: str
    preset_name: str
    method: str
    levels: list[LevelData]
    history: pl.DataFrame  # year, level, unit_id, points, max_points, ratio, rank, class, size
    provenance: Provenance
    validation: pl.DataFrame
    years_available: list[int] = field(default_factory=list)
    illustrative: str | None = None  # the preset's illustrative sentence (a banner everywhere)
    # level → units whose class changes between the DVCTT bases (Sơn La; empty: rule off)
    scope_changes: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def level(self, level: str) -> LevelData:
        return next(x for x in self.levels if x.level == level)

    @property
    def snapshot_ids(self) -> list[str]:
        return [x.snapshot["snapshot_id"] for x in self.levels]


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()[0]
    )


def snapshot_years(con: duckdb.DuckDBPyConnection, method: str) -> list[int]:
    """Years with at least one snapshot for ``method``."""
    rows = con.execute(
        "SELECT DISTINCT year FROM snapshots WHERE method = ? ORDER BY year", [method]
    ).fetchall()
    return [r[0] for r in rows]


def latest_snapshot(
    con: duckdb.DuckDBPyConnection, year: int, level: str, method: str
) -> dict[str, Any] | None:
    frame = con.execute(
        "SELECT * FROM latest_snapshots WHERE year = ? AND level = ? AND method = ?",
        [year, level, method],
    ).pl()
    return frame.row(0, named=True) if frame.height else None


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
        from pipelines.framework.load import framework_document, framework_from_mapping

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


def _nodes(con: duckdb.DuckDBPyConnection, framework_hash: str) -> pl.DataFrame:
    return con.execute(
        "SELECT node_id, parent_id, node_level, ordinal, name, max_points, source "
        "FROM framework_nodes WHERE framework_hash = ? ORDER BY ordinal",
        [framework_hash],
    ).pl()


def _pillar_of(nodes: pl.DataFrame) -> dict[str, str | None]:
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


def _scores(con: duckdb.DuckDBPyConnection, snapshot_id: str, node_level: str) -> pl.DataFrame:
    return con.execute(
        "SELECT group_id, unit_id, node_id, points, max_points, ratio, z, rank, class_label, "
        "n_missing FROM snapshot_scores WHERE snapshot_id = ? AND node_level = ?",
        [snapshot_id, node_level],
    ).pl()


def _unit_names(con: duckdb.DuckDBPyConnection, registry: str) -> pl.DataFrame:
    frame = con.execute(
        "SELECT unit_id, name AS unit_name, short_name, parent_id, level AS unit_level, "
        "has_dvctt, has_subordinates, is_special, flags_source, name_source "
        "FROM units WHERE registry = ?",
        [registry],
    ).pl()
    return frame.with_columns(pl.col("unit_name").map_elements(nfc, return_dtype=pl.String))


def _group_name(group_id: str, level: str, names: dict[str, str]) -> str:
    if group_id == level:
        return f"{LEVEL_NAMES.get(level, level)}"
    return names.get(group_id, group_id)


def _group_slug(group_id: str, level: str) -> str:
    base = LEVEL_SLUGS.get(level, level)
    if group_id == level:
        return base
    safe = "".join(ch if ch.isalnum() else "-" for ch in group_id.lower()).strip("-")
    return f"{base}-{safe}"


def columns_of(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}


def classify(
    ratio: float | None,
    pillar_ratios: list[float | None],
    bands: list[Band],
    reading: str | None,
    precision: RankPrecision = NOISE_ONLY,
) -> str | None:
    """The band a unit falls in, None below every band: the scoring's own classifier
    (:func:`pipelines.scoring.rank.class_labels`) on the total ratio and the weakest pillar
    ratio (pillars without a ratio do not count). Bands without a ratio (stored labels only)
    and the bands after them classify nobody."""
    if ratio is None:
        return None
    known = []
    for band in bands:
        if band.min_ratio is None:
            break
        known.append((band.label, band.min_ratio))
    pillars = [r for r in pillar_ratios if r is not None]
    weakest = min(pillars) if pillars else math.nan
    return class_labels(np.array([ratio]), np.array([weakest]), known, reading, precision)[0]


def _checked_bands(
    fw: FrameworkInfo,
    totals: pl.DataFrame,
    pillars: pl.DataFrame,
    reading: str | None,
    precision: RankPrecision = NOISE_ONLY,
) -> FrameworkInfo:
    """Bands from a framework file that changed after the snapshot are used only if they give
    every unit the class the snapshot stored; otherwise only the stored labels are shown."""
    fw = replace(
        fw,
        reading=reading
        or ("total_and_pillars" if fw.pillar_minimum else "total_only" if fw.bands else None),
    )
    if fw.bands and not fw.hash_matches:
        by_unit = {
            u: part["ratio"].to_list()
            for (u,), part in pillars.partition_by("unit_id", as_dict=True).items()
        }
        agree = all(
            classify(r["ratio"], by_unit.get(r["unit_id"], []), fw.bands, fw.reading, precision)
            == r["class_label"]
            for r in totals.iter_rows(named=True)
        )
        if agree:
            return replace(
                fw,
                bands_status=fw.bands_status + f"; ngưỡng cho đúng xếp loại đã lưu của cả "
                f"{totals.height} đơn vị",
            )
        fw = replace(
            fw,
            bands=[],
            bands_status=fw.bands_status + ": ngưỡng trong tệp không khớp xếp loại đã lưu, "
            "chỉ hiển thị nhãn đã lưu",
        )
    if not fw.bands:
        labels = (
            totals.filter(pl.col("class_label").is_not_null())
            .group_by("class_label")
            .agg(pl.col("ratio").mean())
            .sort("ratio", descending=True)["class_label"]
            .to_list()
        )
        fw = replace(
            fw,
            bands=[
                Band(label, None, BAND_COLOURS[i % len(BAND_COLOURS)])
                for i, label in enumerate(labels)
            ],
        )
    return fw


RULE_NAMES = {
    "missing.zero": "Không có số liệu báo cáo → 0 điểm",
    "missing.exclude": "Không có số liệu → loại khỏi tính toán, tái phân bổ trọng số",
    "missing.mean": "Không có số liệu → điểm trung bình nhóm",
    "sonla.special_units_max": "Đơn vị đặc thù: tiêu chí không liên quan chức năng → điểm tối đa",
    "sonla.subordinate_best": "Không có đơn vị trực thuộc → điểm cao nhất của nhóm",
    "sonla.dvctt_proportional": "Không có DVCTT → điểm theo tỷ lệ các chỉ số không phải DVCTT",
    "points.ratio": "Thang điểm: tỷ lệ so với mục tiêu",
    "points.steps": "Thang điểm: theo bậc",
    "points.yesno": "Thang điểm: có/không",
    "points.categorical": "Thang điểm: theo loại",
    "points.relative_best": "Thang điểm: so với đơn vị tốt nhất",
    "points.direct": "Thang điểm: điểm nhập trực tiếp",
}
_RULE_FAMILY = re.compile(r"^\s*([A-Za-z_]+\.[A-Za-z_]+)")


def rule_audit(
    con: duckdb.DuckDBPyConnection, year: int, level: str, method: str, totals: pl.DataFrame
) -> pl.DataFrame | None:
    """Which special rule gave which unit's leaves their points (``leaf_scores.rule_applied``),
    when that column exists and the live leaf scores still add up to the snapshot's totals.
    Returns rule, unit_id, n_leaves (only rules with a dotted family, e.g. ``missing.zero``)."""
    if "rule_applied" not in columns_of(con, "leaf_scores"):
        return None
    leaves = con.execute(
        "SELECT unit_id, rule_applied, points FROM leaf_scores WHERE year = ? AND level = ? "
        "AND method = ?",
        [year, level, method],
    ).pl()
    if leaves.is_empty():
        return None
    sums = leaves.group_by("unit_id").agg(pl.col("points").sum().alias("leaf_sum"))
    check = totals.select("unit_id", "points").join(sums, on="unit_id", how="left")
    if check["leaf_sum"].is_null().any() or (
        (check["leaf_sum"] - check["points"]).abs().max() > 1e-6
    ):
        return None
    families = leaves.with_columns(
        pl.col("rule_applied").str.extract(_RULE_FAMILY.pattern, 1).alias("rule")
    ).filter(pl.col("rule").is_not_null())
    return families.group_by("rule", "unit_id").len("n_leaves").sort("rule", "unit_id")


def level_data(
    con: duckdb.DuckDBPyConnection,
    year: int,
    level: str,
    method: str,
    registry: str,
    methods: tuple[str, ...],
    units: pl.DataFrame | None = None,
) -> LevelData | None:
    """Everything the report shows for one level of one year (None: no snapshot).

    ``units``: the registry's units (``_unit_names``) when the caller has read them already."""
    snapshot = latest_snapshot(con, year, level, method)
    if snapshot is None:
        return None
    sid = snapshot["snapshot_id"]
    framework = framework_info(con, snapshot["framework_hash"])
    units = _unit_names(con, registry) if units is None else units
    names = dict(zip(units["unit_id"], units["unit_name"], strict=True))
    nodes = _nodes(con, snapshot["framework_hash"])
    pillar_of = _pillar_of(nodes)
    node_names = nodes.select("node_id", pl.col("name").map_elements(nfc, return_dtype=pl.String))

    index_scores = _scores(con, sid, "index")
    totals = (
        index_scores.join(units.select("unit_id", "unit_name"), on="unit_id", how="left")
        .with_columns(pl.col("unit_name").fill_null(pl.col("unit_id")))
        .sort("group_id", "rank", "unit_name")
    )
    pillar_nodes = nodes.filter(pl.col("node_level") == "pillar").select(
        "node_id", pl.col("name").map_elements(nfc, return_dtype=pl.String), "max_points", "ordinal"
    )
    pillars = (
        _scores(con, sid, "pillar")
        .join(node_names, on="node_id", how="left")
        .join(pillar_nodes.select("node_id", "ordinal"), on="node_id", how="left")
        .sort("unit_id", "ordinal")
    )
    component_nodes = (
        nodes.filter(pl.col("node_level") == "component")
        .with_columns(
            pl.col("node_id").replace_strict(pillar_of, default=None).alias("pillar_id"),
            pl.col("name").map_elements(nfc, return_dtype=pl.String),
        )
        .select("node_id", "name", "pillar_id", "max_points", "ordinal", "source")
    )
    components = (
        _scores(con, sid, "component")
        .join(component_nodes.select("node_id", "name", "pillar_id", "ordinal"), on="node_id")
        .sort("unit_id", "ordinal")
    )

    # The same year and level under every method, each from its own latest snapshot.
    method_frames, method_snapshots = [], {}
    for other in methods:
        # The primary method's snapshot and totals are those read above.
        snap = snapshot if other == method else latest_snapshot(con, year, level, other)
        if snap is None:
            continue
        method_snapshots[other] = snap["snapshot_id"]
        method_frames.append(
            (index_scores if other == method else _scores(con, snap["snapshot_id"], "index"))
            .select("unit_id", "group_id", "points", "ratio", "rank")
            .with_columns(pl.lit(other).alias("method"))
        )
    method_table = pl.concat(method_frames) if method_frames else pl.DataFrame()

    uncertainty = None
    if table_exists(con, "rank_uncertainty"):
        found = con.execute(
            "SELECT unit_id, nominal_rank, median_rank, p05_rank, p95_rank "
            "FROM rank_uncertainty WHERE year = ? AND level = ?",
            [year, level],
        ).pl()
        uncertainty = found if found.height else None

    adjustments = run_query(con, "appraisal_adjustments", year=year, level=level)
    scored = set(totals["unit_id"])
    flagged = units.filter(
        pl.col("unit_id").is_in(list(scored))
        & (~pl.col("has_dvctt") | ~pl.col("has_subordinates") | pl.col("is_special"))
    ).sort("unit_id")
    override = con.execute(
        "SELECT granted_by || ': ' || reason FROM validation_overrides "
        "WHERE year = ? AND level = ?",
        [year, level],
    ).fetchone()

    params = json.loads(snapshot["params_json"])
    framework = _checked_bands(
        framework,
        totals,
        pillars,
        params.get("classification_reading"),
        RankPrecision.from_mapping(params.get("rank_precision")),
    )
    audit = rule_audit(con, year, level, method, totals)
    sizes = totals.group_by("group_id").len()
    groups = [
        Group(
            group_id=g,
            level=level,
            name=_group_name(g, level, names),
            slug=_group_slug(g, level),
            n_units=n,
        )
        for g, n in sizes.sort("group_id").iter_rows()
    ]
    groups.sort(key=lambda g: g.name)
    return LevelData(
        level=level,
        label=LEVEL_NAMES.get(level, level),
        snapshot=snapshot,
        params=params,
        framework=framework,
        groups=groups,
        totals=totals,
        pillars=pillars,
        components=components,
        pillar_nodes=pillar_nodes,
        component_nodes=component_nodes,
        methods=method_table,
        method_snapshots=method_snapshots,
        uncertainty=uncertainty,
        adjustments=adjustments,
        flagged_units=flagged,
        override=override[0] if override else None,
        audit=audit,
    )


def history(
    con: duckdb.DuckDBPyConnection,
    up_to_year: int,
    method: str,
    registry: str,
    units: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every unit's total and rank in each year up to ``up_to_year`` (latest snapshots);
    ``units`` as for :func:`level_data`."""
    frame = run_query(con, "report_history", method=method, up_to_year=up_to_year)
    units = _unit_names(con, registry) if units is None else units
    names = units.select("unit_id", "unit_name")
    return frame.join(names, on="unit_id", how="left")


def _meta_synthetic(path: Path) -> bool | None:
    """The ``synthetic`` flag of a DTI workbook's identification sheet (None: unreadable).

    Read once per version of the file in a process: a run over several years writes the index
    (every year's provenance) after each year's report and annex, and the archived copies do
    not change."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _meta_synthetic_of(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=1 << 16)
def _meta_synthetic_of(path: str, mtime_ns: int, size: int) -> bool | None:
    """:func:`_meta_synthetic` of the file as it is at (``mtime_ns``, ``size``)."""
    import fastexcel

    from pipelines.workbook.layout import META_SHEET

    try:
        sheet = fastexcel.read_excel(path).load_sheet_by_name(META_SHEET, header_row=None)
        frame = sheet.to_polars()
    except Exception:
        return None
    if frame.width < 2:
        return None
    meta = {str(k): str(v) for k, v in zip(frame[:, 0], frame[:, 1], strict=True)}
    return meta.get("synthetic", "").strip().lower() == "true"


def provenance(con: duckdb.DuckDBPyConnection, year: int) -> Provenance:
    """Where the year's data came from: files received, the last one, and whether the files
    say they are synthetic (the ``synthetic`` key of each workbook's ``_meta`` sheet, read from
    the archived copy; the warehouse has no such column)."""
    received_at = "received_at" if "received_at" in columns_of(con, "submissions") else "NULL"
    files = con.execute(
        f"SELECT file_name, archived_path, received_seq, status, {received_at} AS received_at "
        "FROM submissions WHERE year = ? ORDER BY received_seq",
        [year],
    ).pl()
    rejected = con.execute(
        "SELECT count(*) FROM rejected_rows r JOIN submissions s USING (submission_id) "
        "WHERE s.year = ?",
        [year],
    ).fetchone()[0]
    used = files.filter(pl.col("status") != "refused")
    n_checked = n_synthetic = 0
    received: list[dt.datetime] = []
    for row in used.iter_rows(named=True):
        path = Path(row["archived_path"])
        if row["received_at"] is not None:  # recorded at intake (UTC)
            received.append(row["received_at"].replace(tzinfo=dt.UTC))
        elif path.exists():  # older warehouses: the archive copy is made on receipt
            received.append(dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC))
        if not path.exists():
            continue
        flag = _meta_synthetic(path)
        if flag is not None:
            n_checked += 1
            n_synthetic += flag
    last = used.row(-1, named=True) if used.height else None
    return Provenance(
        n_submissions=files.height,
        n_refused=files.height - used.height,
        n_rejected_cells=int(rejected),
        last_file=last["file_name"] if last else None,
        last_seq=last["received_seq"] if last else None,
        data_as_of=max(received) if received else None,
        n_checked=n_checked,
        n_synthetic=n_synthetic,
    )


def validation(con: duckdb.DuckDBPyConnection, year: int) -> pl.DataFrame:
    return con.execute(
        "SELECT level, suite, expectation, success, blocking, description, unexpected_count, "
        "unexpected_examples FROM validation_results WHERE year = ? ORDER BY level, suite, "
        "expectation",
        [year],
    ).pl()


def year_data(
    con: duckdb.DuckDBPyConnection,
    year: int,
    preset_id: str,
    preset_name: str,
    levels: list[str],
    method: str,
    methods: tuple[str, ...],
    decision: str | None = None,
) -> YearData:
    """The report's content for ``year`` (levels in the preset's order; levels without a
    snapshot are left out). ``decision``: the preset's decision, named by the banner of a level
    whose components are assumed."""
    # One read of the registry's units for every level and the history.
    units = _unit_names(con, preset_id)
    found = [level_data(con, year, level, method, preset_id, methods, units) for level in levels]
    present = [x for x in found if x is not None]
    if not present:
        raise LookupError(f"no {method} snapshot for {year}: run the yearly job first")
    for found_level in present:
        found_level.assumed = assumed_components(
            con, found_level.snapshot["framework_hash"], found_level.level, decision
        )
        found_level.acceptance = acceptance_of(con, found_level.snapshot["snapshot_id"])
    return YearData(
        year=year,
        preset_id=preset_id,
        preset_name=nfc(preset_name),
        method=method,
        levels=present,
        history=history(con, year, method, preset_id, units),
        provenance=provenance(con, year),
        validation=validation(con, year),
        years_available=[y for y in snapshot_years(con, method) if y <= year],
    )


# ---- derived figures the pages and the annex share -------------------------------------------


def group_means(frame: pl.DataFrame, by: str = "node_id") -> pl.DataFrame:
    """Mean ratio per (group, node) over the group's units."""
    return frame.group_by("group_id", by).agg(pl.col("ratio").mean().alias("group_mean"))


def strengths_weaknesses(
    level: LevelData, unit_id: str, n: int = 3
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Components furthest above and below the group's mean ratio for one unit."""
    comps = level.components
    group_id = comps.filter(pl.col("unit_id") == unit_id)["group_id"][0]
    gaps = component_gaps(comps.filter(pl.col("group_id") == group_id))
    return split_strengths(gaps.filter(pl.col("unit_id") == unit_id), n)


def component_gaps(components: pl.DataFrame) -> pl.DataFrame:
    """Every unit's components with their group's mean ratio and the gap to it."""
    return components.join(
        group_means(components), on=["group_id", "node_id"], how="left"
    ).with_columns((pl.col("ratio") - pl.col("group_mean")).alias("gap"))


def split_strengths(gaps: pl.DataFrame, n: int = 3) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each unit's ``n`` components furthest above, and below, its group's mean (from
    :func:`component_gaps`, one unit or many; ties go to the component listed first)."""
    first_n = pl.int_range(pl.len()).over("unit_id") < n
    strengths = gaps.filter(pl.col("gap") > 1e-9).sort("gap", "ordinal", descending=[True, False])
    weaknesses = gaps.filter(pl.col("gap") < -1e-9).sort("gap", "ordinal")
    return strengths.filter(first_n), weaknesses.filter(first_n)


def spearman(a: list[float], b: list[float]) -> float | None:
    """Spearman's rank correlation (None when undefined: fewer than 3 units or no spread)."""
    if len(a) < 3 or len(set(a)) < 2 or len(set(b)) < 2:
        return None  # scipy would warn, then give NaN
    from scipy.stats import spearmanr

    value = spearmanr(a, b).statistic
    return None if value is None or math.isnan(value) else float(value)
