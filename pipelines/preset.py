"""Presets (``data/presets/*.yaml``): a province's frameworks, registry, years, methods."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from pipelines.framework.load import load_framework
from pipelines.framework.model import Framework
from pipelines.paths import DATA_DIR
from pipelines.registry import load_registry
from pipelines.scoring.methods import METHODS


@dataclass(frozen=True)
class LevelSetup:
    level: str
    framework_path: Path
    comparison_group: str  # level | parent


@dataclass
class Preset:
    """Everything a province's yearly run needs, read from one YAML file."""

    id: str
    name: str
    registry_path: Path
    first_year: int
    last_year: int
    levels: dict[str, LevelSetup]
    primary_method: str
    methods: tuple[str, ...]
    demo: dict[str, Any] = field(default_factory=dict)
    origin: Path = Path()

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))

    @cached_property
    def registry(self) -> pl.DataFrame:
        return load_registry(self.registry_path, registry=self.id)

    def framework(self, level: str) -> Framework:
        return _framework_cached(self.levels[level].framework_path)


_FRAMEWORKS: dict[Path, Framework] = {}


def _framework_cached(path: Path) -> Framework:
    if path not in _FRAMEWORKS:
        _FRAMEWORKS[path] = load_framework(path)
    return _FRAMEWORKS[path]


def preset_path(name_or_path: str | Path) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return candidate
    return DATA_DIR / "presets" / f"{name_or_path}.yaml"


def load_preset(name_or_path: str | Path = "daklak") -> Preset:
    """Read a preset by name (``daklak``) or path. Paths inside are relative to the folder that
    holds ``presets/`` (``data/`` for the shipped presets)."""
    path = preset_path(name_or_path)
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))["preset"]
    base = path.resolve().parent.parent
    levels = {
        level: LevelSetup(
            level=level,
            framework_path=base / setup["framework"],
            comparison_group=setup.get("comparison_group", "level"),
        )
        for level, setup in spec["levels"].items()
    }
    methods = tuple(spec.get("methods", {}).get("computed", METHODS))
    primary = spec.get("methods", {}).get("primary", methods[0])
    if primary not in methods:
        raise ValueError(f"{path}: primary method {primary!r} is not among computed {methods}")
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
    )
