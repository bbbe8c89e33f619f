"""What the report shows of a year, as plain dataclasses (a year, its levels, their frameworks and
comparison groups, where the data came from), and the fixed words and colours they are shown
with."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from pipelines.framework.assumed import (
    AssumedAcceptance,
    AssumedComponents,
)
from pipelines.text.labels import LEVEL_UNIT_NAMES, MISSING_RULE_NAMES, UNCLASSIFIED

# Colours of classification bands, best band first; "not classified" is grey.
BAND_COLOURS = ("#2e7d32", "#1565c0", "#f9a825", "#c62828", "#6a1b9a", "#00838f")


UNCLASSIFIED_COLOUR = "#9e9e9e"


UNCLASSIFIED_LABEL = UNCLASSIFIED


# Short Vietnamese names of the units of a level, for sentences ("18 sở, ban, ngành").
LEVEL_UNITS = LEVEL_UNIT_NAMES


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

    @property
    def missing_rule_name(self) -> str:
        """How this snapshot scored a component without a value, in the words of the method
        page (the missing-data rule it was scored with; ``zero`` when none was recorded)."""
        return MISSING_RULE_NAMES[self.params.get("missing") or "zero"]


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
