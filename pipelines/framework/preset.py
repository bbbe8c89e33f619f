"""Presets (``data/presets/*.yaml``): a province's frameworks, registry, years, methods."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.framework.load import load_framework
from pipelines.framework.model import Framework
from pipelines.framework.registry import load_registry, units_in_year
from pipelines.framework.yamlfile import read_yaml
from pipelines.paths import DATA_DIR
from pipelines.scoring.choices import (
    BOUNDS,
    COMPARISON_GROUPS,
    METHODS,
    MISSING_RULES,
    READINGS,
    ZSCORE_MODES,
    Bounds,
    ClassificationReading,
    ComparisonGroup,
    Method,
    MissingRule,
    ZscoreMode,
)
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.rank import RankPrecision
from pipelines.scoring.rules import RuleSettings


class PresetError(ValueError):
    """A preset file names an unknown setting or value."""


@dataclass(frozen=True)
class LevelSetup:
    level: str
    framework_path: Path
    comparison_group: ComparisonGroup


@dataclass
class Preset:
    """Everything a province's yearly run needs, read from one YAML file."""

    id: str
    name: str
    registry_path: Path
    first_year: int
    last_year: int
    levels: dict[str, LevelSetup]
    primary_method: Method
    methods: tuple[Method, ...]
    demo: dict[str, Any] = field(default_factory=dict)
    origin: Path = Path()
    missing: MissingRule = "zero"
    classification_reading: ClassificationReading | None = None  # None: the framework's own
    rules: RuleSettings = field(default_factory=RuleSettings)
    lineage_path: Path | None = None
    minmax_bounds: Bounds = "observed"
    clip: bool = True
    zscore_mode: ZscoreMode = "cdf"
    reference_year: int | None = None
    decision: str | None = None  # the decision the frameworks come from ("2534/QĐ-UBND")
    rank_precision: RankPrecision = field(default_factory=RankPrecision)
    # a Vietnamese sentence saying the preset is an illustration (shown on every report page and
    # in the annex, like the assumed-components banner); None for a preset meant as the real one
    illustrative: str | None = None
    _unit_ids: dict[tuple[str, int], frozenset[str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def method_spec(self, method: str) -> MethodSpec:
        """The full settings of one method under this preset (recorded in snapshots)."""
        return MethodSpec(
            method=method,  # type: ignore[arg-type]
            missing=self.missing,
            minmax_bounds=self.minmax_bounds,
            clip=self.clip,
            zscore_mode=self.zscore_mode,
            reference_year=self.reference_year,
            rank_precision=self.rank_precision,
        )

    @cached_property
    def lineage(self) -> pl.DataFrame:
        """Predecessor → successor links (empty without a ``lineage:`` file)."""
        from pipelines.framework.lineage import empty_lineage, load_lineage

        return load_lineage(self.lineage_path) if self.lineage_path else empty_lineage()

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))

    @cached_property
    def registry(self) -> pl.DataFrame:
        return load_registry(self.registry_path, registry=self.id)

    def framework(self, level: str) -> Framework:
        return _framework_cached(self.levels[level].framework_path)

    def unit_ids(self, level: str, year: int) -> frozenset[str]:
        """Ids of the units of ``level`` existing in ``year`` (asked once per file received:
        memoised)."""
        key = (level, year)
        if key not in self._unit_ids:
            self._unit_ids[key] = frozenset(units_in_year(self.registry, level, year)["unit_id"])
        return self._unit_ids[key]


_FRAMEWORKS: dict[Path, Framework] = {}


def _framework_cached(path: Path) -> Framework:
    if path not in _FRAMEWORKS:
        _FRAMEWORKS[path] = load_framework(path)
    return _FRAMEWORKS[path]


PRESETS_DIR = DATA_DIR / "presets"
REQUIRED_KEYS = ("id", "name", "units", "years", "levels")


class UnknownPresetError(PresetError):
    """A preset name that is not in ``data/presets/`` and not an existing YAML file."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"unknown preset {name!r}; known: {', '.join(known)}")


def known_presets() -> list[str]:
    """The names of the shipped presets (``data/presets/*.yaml``), sorted."""
    return sorted(path.stem for path in PRESETS_DIR.glob("*.yaml"))


def preset_path(name_or_path: str | Path) -> Path:
    """The YAML file of a preset named ``daklak`` or given as a path; :class:`UnknownPresetError`
    when there is none."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml"):
        if candidate.is_file():
            return candidate
    elif str(name_or_path) in known_presets():
        return PRESETS_DIR / f"{name_or_path}.yaml"
    raise UnknownPresetError(str(name_or_path), known_presets())


def load_preset(name_or_path: str | Path = "daklak") -> Preset:
    """Read a preset by name (``daklak``) or path. Paths inside are relative to the folder that
    holds ``presets/`` (``data/`` for the shipped presets)."""
    path = preset_path(name_or_path)
    spec = (read_yaml(path) or {}).get("preset")
    missing = [key for key in REQUIRED_KEYS if key not in (spec or {})]
    if missing:
        raise PresetError(f"{path}: preset: needs {', '.join(missing)}")
    base = path.resolve().parent.parent
    levels = {
        level: LevelSetup(
            level=level,
            framework_path=base / setup["framework"],
            comparison_group=_choice(
                path,
                f"levels.{level}.comparison_group",
                setup.get("comparison_group", "level"),
                COMPARISON_GROUPS,
            ),
        )
        for level, setup in spec["levels"].items()
    }
    method_setup = spec.get("methods") or {}
    computed = method_setup.get("computed", METHODS)
    if isinstance(computed, str) or not computed:
        computed = [computed]  # one name is a list of one; none (null, []) is refused below
    methods = tuple(_choice(path, "methods.computed", method, METHODS) for method in computed)
    primary = _choice(path, "methods.primary", method_setup.get("primary", methods[0]), METHODS)
    if primary not in methods:
        raise PresetError(
            f"{path}: methods.primary {primary!r} is not among methods.computed "
            f"({', '.join(methods)})"
        )
    classification = spec.get("classification") or {}
    settings = {
        "missing": _choice(path, "missing", spec.get("missing", "zero"), MISSING_RULES),
        "classification_reading": _choice(
            path, "classification.reading", classification.get("reading"), READINGS, True
        ),
        "minmax_bounds": _choice(
            path, "methods.minmax_bounds", method_setup.get("minmax_bounds", "observed"), BOUNDS
        ),
        "zscore_mode": _choice(
            path, "methods.zscore_mode", method_setup.get("zscore_mode", "cdf"), ZSCORE_MODES
        ),
        "clip": bool(method_setup.get("clip", True)),
        "reference_year": method_setup.get("reference_year"),
    }
    try:
        rules = RuleSettings.from_mapping(spec.get("rules"), origin=str(path))
        settings["rank_precision"] = RankPrecision.from_mapping(spec.get("rank_precision"))
        MethodSpec(
            "minmax",
            minmax_bounds=settings["minmax_bounds"],
            reference_year=settings["reference_year"],
        )
    except ValueError as exc:
        raise PresetError(f"{path}: {exc}") from exc
    named = {f"levels.{level}.framework": setup.framework_path for level, setup in levels.items()}
    named["units"] = base / spec["units"]
    if spec.get("lineage"):
        named["lineage"] = base / spec["lineage"]
    for key, file in named.items():
        if not file.is_file():
            raise PresetError(f"{path}: {key}: no file {file}")
    return Preset(
        id=spec["id"],
        name=spec["name"],
        registry_path=base / spec["units"],
        first_year=int(spec["years"]["from"]),
        last_year=int(spec["years"]["to"]),
        levels=levels,
        primary_method=primary,
        methods=methods,
        demo=dict(spec.get("demo") or {}),
        origin=path,
        rules=rules,
        lineage_path=base / spec["lineage"] if spec.get("lineage") else None,
        decision=str(spec["decision"]) if spec.get("decision") else None,
        illustrative=_illustrative(path, spec.get("illustrative")),
        **settings,
    )


def _illustrative(path: Path, value: Any) -> str | None:
    """``illustrative:``: a non-empty sentence (NFC), or absent."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise PresetError(f"{path}: illustrative must be a sentence, not {value!r}")
    return unicodedata.normalize("NFC", value.strip())


def _choice(path: Path, key: str, value: Any, allowed: tuple[str, ...], optional: bool = False):
    """``value`` when it is one of ``allowed`` (or None and ``optional``); else the
    :class:`PresetError` naming the file, the key, the choices and the value."""
    if value is None and optional:
        return None
    if value not in allowed:
        raise PresetError(f"{path}: {key} must be one of {', '.join(allowed)}, not {value!r}")
    return value
