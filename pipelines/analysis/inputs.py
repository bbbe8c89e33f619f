"""What every analysis works on: one year and level of one framework, from the warehouse or files.

An :class:`AnalysisInput` holds everything the scoring engine needs to score a year and level
again under any method setting — the framework, the year's values, the scored units with their
comparison groups (and registry flags), the other years' values (pooled min-max bounds,
reference-year goalposts), the per-unit rules, the classification reading, the appraiser's points
overrides — plus the *nominal* setting (the preset's primary method and missing-data rule), the
one every analysis compares against. Two loaders fill it:

* :func:`from_warehouse` — ``observations`` of a year and level (and of the level's other years),
  read in one short read-only connection that is closed before any computation (DuckDB allows one
  writer; a notebook must never hold a connection);
* :func:`from_files` — a framework YAML or COINr ``iMeta`` and a long CSV or COINr ``iData``
  (``pipelines.analysis.datafiles``); with a panel (several ``Time`` values) one year is analysed
  and the others are its history.

Method settings are written as short labels (:func:`parse_setting`): ``points``,
``minmax:observed``, ``minmax:pooled``, ``minmax:goalposts`` (``minmax:goalposts@2023`` with a
reference year), ``zscore:cdf``, ``zscore:rescaled``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from pipelines.evaluate.recipe import LevelRecipe, leaf_points, score_level
from pipelines.framework.model import Framework
from pipelines.scoring.choices import BOUNDS, MISSING_RULES, ZSCORE_MODES
from pipelines.scoring.grid import complete_grid
from pipelines.scoring.methods import MethodSpec
from pipelines.scoring.normalise import reads_other_years
from pipelines.scoring.rules import RuleSettings

# Every method setting by its label: points, min-max with each bounds, z-score with each form.
ALL_SETTINGS: tuple[str, ...] = (
    "points",
    *(f"minmax:{bounds}" for bounds in BOUNDS),
    *(f"zscore:{mode}" for mode in ZSCORE_MODES),
)
# The Monte Carlo's default choice of method: the three methods every preset computes.
DEFAULT_MC_SETTINGS: tuple[str, ...] = ("points", "minmax:observed", "zscore:cdf")


def default_preset() -> str:
    """The preset the warehouse was built with: ``$DTI_PRESET`` (name or YAML path), else
    ``daklak`` (the demo's)."""
    return os.environ.get("DTI_PRESET", "daklak")


def asem_dir() -> Path:
    """COINr's ASEM example, kept in the repository (``data/examples/asem``; origin and licence
    in its README)."""
    from pipelines.paths import DATA_DIR

    return DATA_DIR / "examples" / "asem"


def parse_setting(label: str, base: MethodSpec | None = None) -> MethodSpec:
    """``minmax:pooled`` → ``MethodSpec("minmax", minmax_bounds="pooled")`` keeping ``base``'s
    other settings (missing rule, clip). ``minmax`` alone means observed bounds, ``zscore``
    alone the normal CDF."""
    base = base or MethodSpec()
    method, _, option = label.partition(":")
    reference_year = None
    if "@" in option:
        option, _, year = option.partition("@")
        reference_year = int(year)
    if method == "points":
        if option:
            raise ValueError(f"points takes no option: {label!r}")
        return replace(base, method="points", minmax_bounds="observed", reference_year=None)
    if method == "minmax":
        return replace(
            base,
            method="minmax",
            minmax_bounds=option or "observed",  # type: ignore[arg-type]
            reference_year=reference_year,
            zscore_mode="cdf",
        )
    if method == "zscore":
        if reference_year is not None:
            raise ValueError(f"a reference year only applies to min-max goalposts: {label!r}")
        return replace(
            base,
            method="zscore",
            zscore_mode=option or "cdf",  # type: ignore[arg-type]
            minmax_bounds="observed",
            reference_year=None,
        )
    raise ValueError(f"unknown method setting {label!r}; examples: {', '.join(ALL_SETTINGS)}")


def setting_label(spec: MethodSpec) -> str:
    """The short label of a spec's method setting (inverse of :func:`parse_setting`)."""
    if spec.method == "points":
        return "points"
    if spec.method == "zscore":
        return f"zscore:{spec.zscore_mode}"
    label = f"minmax:{spec.minmax_bounds}"
    return f"{label}@{spec.reference_year}" if spec.reference_year is not None else label


def scenario_label(spec: MethodSpec) -> str:
    """``minmax:observed|zero``: the method setting and the missing-data rule."""
    return f"{setting_label(spec)}|{spec.missing}"


def split_list(text: str | None, allowed: tuple[str, ...], default: tuple[str, ...]) -> tuple:
    """``"a,b"`` → ``("a", "b")``; ``all`` → every allowed value; empty → ``default``."""
    if not text:
        return default
    if text == "all":
        return allowed
    return tuple(part.strip() for part in text.split(",") if part.strip())


@dataclass
class AnalysisInput:
    """One year and level, ready to be scored again under any setting."""

    framework: Framework
    values: pl.DataFrame  # unit_id, year, node_id, value (the year analysed)
    units: pl.DataFrame  # unit_id, year, group_id (+ registry flags the rules read)
    level: str
    year: int | None
    nominal: MethodSpec = field(default_factory=lambda: MethodSpec("minmax"))
    history: pl.DataFrame | None = None  # other years: unit_id, year, group_id, node_id, value
    rules: RuleSettings = field(default_factory=RuleSettings)
    reading: str | None = None
    overrides: pl.DataFrame | None = None  # appraiser's points: unit_id, node_id, points, reason
    names: dict[str, str] = field(default_factory=dict)
    source: str = ""
    preset_id: str | None = None

    @property
    def history_years(self) -> list[int]:
        if self.history is None or self.history.is_empty():
            return []
        return sorted(int(y) for y in self.history["year"].drop_nulls().unique())

    def spec(self, setting: str, missing: str | None = None) -> MethodSpec:
        """The full spec of a method setting under this input's nominal settings."""
        spec = parse_setting(setting, self.nominal)
        return replace(spec, missing=missing) if missing else spec  # type: ignore[arg-type]

    def default_goalposts(self) -> str:
        """``minmax:goalposts`` with the earliest other year as reference year when the
        framework has no goalposts of its own and history exists (else plain goalposts, which
        fall back to the observed bounds, as the engine says in ``rule_applied``)."""
        has_own = any(leaf.goalposts for leaf in self.framework.leaves())
        years = [y for y in self.history_years if y != self.year]
        if has_own or not years:
            return "minmax:goalposts"
        return f"minmax:goalposts@{years[0]}"

    def resolve_settings(self, settings: tuple[str, ...]) -> tuple[str, ...]:
        """Settings with ``minmax:goalposts`` given its default reference year."""
        return tuple(self.default_goalposts() if s == "minmax:goalposts" else s for s in settings)

    @property
    def recipe(self) -> LevelRecipe:
        """The framework, per-unit rules and classification reading this input is scored by."""
        return LevelRecipe(self.framework, self.rules, self.reading)

    def leaves(self, spec: MethodSpec) -> pl.DataFrame:
        """Leaf scores by the recipe (with the appraiser's points under ``points``), exactly as
        the warehouse's stage 1 computes them."""
        history = self.history if reads_other_years(spec, self.framework) else None
        grid = complete_grid(self.values, self.units, self.framework)
        return leaf_points(grid, self.units, self.recipe, spec, self.overrides, history)

    def score(self, spec: MethodSpec) -> pl.DataFrame:
        """Every node of every unit (``SCORE_COLUMNS``) under ``spec``, by the recipe."""
        ((_, scores),) = score_level(
            self.values, self.units, self.recipe, {"": spec}, self.overrides, self.history
        )
        return scores

    @property
    def target_id(self) -> str:
        """The node whose rank the analyses follow: the index, or the framework's (first)
        composite when it has one (national 1726: DTI = 0.4 gov + 0.3 eco + 0.3 soc)."""
        if self.framework.composites:
            return self.framework.composites[0].id
        return self.framework.root_id

    def totals(self, spec: MethodSpec) -> pl.DataFrame:
        """``unit_id, group_id, points, ratio, rank, class_label`` of the ranked total
        (:attr:`target_id`; the class is the index's)."""
        scores = self.score(spec)
        classes = scores.filter(pl.col("node_id") == self.framework.root_id).select(
            "unit_id", "class_label"
        )
        return (
            scores.filter(pl.col("node_id") == self.target_id)
            .select("unit_id", "group_id", "points", "ratio", "rank")
            .join(classes, on="unit_id", how="left")
        )


# ---------------------------------------------------------------- loaders


def from_warehouse(
    year: int,
    level: str,
    preset: str | None = None,
    warehouse: str | Path | None = None,
) -> AnalysisInput:
    """The year and level as the warehouse holds them (``observations``), scored by the preset's
    framework, units, rules and nominal (primary) method. One read-only connection, closed
    before returning."""
    from pipelines.framework.preset import load_preset
    from pipelines.store.warehouse import session

    loaded = load_preset(preset or default_preset())
    with session(warehouse, read_only=True) as con:
        return load_input(con, loaded, year, level)


def load_input(con, preset, year: int, level: str) -> AnalysisInput:
    """:func:`from_warehouse` on an open connection (the Dagster assets' own)."""
    from pipelines.evaluate.appraisal import points_overrides
    from pipelines.evaluate.stages import scored_units

    if level not in preset.levels:
        raise ValueError(f"preset {preset.id} has no level {level!r}: {', '.join(preset.levels)}")
    values = con.execute(
        "SELECT unit_id, year, indicator_id AS node_id, value FROM observations "
        "WHERE level = ? ORDER BY year, unit_id, indicator_id",
        [level],
    ).pl()
    overrides = points_overrides(con, year, level)
    if values.filter(pl.col("year") == year).is_empty():
        raise ValueError(f"the warehouse has no observations for {year} {level}")
    other_years = sorted(int(y) for y in values["year"].unique() if int(y) != year)
    history = None
    if other_years:
        groups = pl.concat(
            [
                scored_units(preset, level, y).select("unit_id", "year", "group_id")
                for y in other_years
            ]
        )
        history = values.filter(pl.col("year") != year).join(groups, on=["unit_id", "year"])
    registry = preset.registry
    return AnalysisInput(
        framework=preset.framework(level),
        values=values.filter(pl.col("year") == year),
        units=scored_units(preset, level, year),
        level=level,
        year=year,
        nominal=preset.method_spec(preset.primary_method),
        history=history,
        rules=preset.rules,
        reading=preset.classification_reading,
        overrides=overrides,
        names=dict(zip(registry["unit_id"], registry["name"], strict=True)),
        source=f"warehouse:{preset.id}",
        preset_id=preset.id,
    )


def levels_with_data(con, preset, year: int) -> list[str]:
    """The preset's levels that have observations in ``year``."""
    found = {
        row[0]
        for row in con.execute(
            "SELECT DISTINCT level FROM observations WHERE year = ?", [year]
        ).fetchall()
    }
    return [level for level in preset.levels if level in found]


def from_files(
    framework_path: str | Path,
    data_path: str | Path,
    year: int | None = None,
    nominal: MethodSpec | None = None,
    level: str | None = None,
) -> AnalysisInput:
    """A framework file and a data file (``dti score``'s formats). All units form one comparison
    group. A panel analyses ``year`` (default: the latest) with the other years as history."""
    from pipelines.analysis.datafiles import read_data_file, read_framework_file, units_of

    framework = read_framework_file(framework_path)
    data = read_data_file(data_path, framework)
    values = data.values
    years = sorted(int(y) for y in values["year"].drop_nulls().unique())
    if year is None and years:
        year = years[-1]
    if year is not None and year not in years:
        raise ValueError(f"{data_path}: no data for {year} (years: {years})")
    if year is None:
        current, history = values, None
    else:
        current = values.filter(pl.col("year") == year)
        past = values.filter(pl.col("year") != year)
        history = past.with_columns(pl.lit("all").alias("group_id")) if past.height else None
    return AnalysisInput(
        framework=framework,
        values=current,
        units=units_of(current),
        level=level or framework.level or "all",
        year=year,
        nominal=nominal or MethodSpec("minmax"),
        history=history,
        names=data.names,
        source=f"files:{Path(framework_path).name}+{Path(data_path).name}",
    )


def check_missing_rules(rules: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [r for r in rules if r not in MISSING_RULES]
    if unknown:
        raise ValueError(f"unknown missing-data rule(s) {unknown}; available: {MISSING_RULES}")
    return rules
