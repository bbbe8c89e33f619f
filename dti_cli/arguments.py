"""The arguments every ``dti`` command checks before it starts work, in one place: the preset
(a name in ``data/presets/`` or a YAML file), its years (for ``run`` and ``demo`` also only the
years Dagster has a partition for: completed years), its levels, names and reasons that may not
be blank, folders that must exist. A mistake is one line on stderr naming the bad value and the
valid ones (:func:`dti_cli.common.fail`, exit code 2), in the command's language.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dti_cli.common import fail, parse_years, say
from pipelines.text.labels import LEVEL_NAMES

if TYPE_CHECKING:  # loading a preset imports polars and the scoring: only when one is checked
    from pipelines.framework.preset import Preset


def year_span(years: list[int]) -> str:
    """``2021–2025`` for consecutive years, ``2021, 2023`` otherwise, ``–`` for none."""
    years = sorted(years)
    if not years:
        return "–"
    if len(years) > 2 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}–{years[-1]}"
    return ", ".join(str(year) for year in years)


def preset_arg(name: str | Path | None) -> Preset:
    """The preset named ``name`` (default ``$DTI_PRESET`` or ``daklak``), or the error line."""
    from pipelines.analysis.inputs import default_preset
    from pipelines.framework.from_mapping import FrameworkError
    from pipelines.framework.preset import PresetError, UnknownPresetError, load_preset

    name = name or default_preset()
    try:
        preset = load_preset(name)
    except UnknownPresetError as exc:
        known = ", ".join(exc.known)
        fail(
            say(
                f"không có bộ chỉ số (preset) {exc.name!r}; có: {known} (hoặc đường dẫn tệp .yaml)",
                f"unknown preset {exc.name!r}; known: {known} (or the path of a .yaml file)",
            )
        )
    except (PresetError, FrameworkError, OSError, ValueError, KeyError, TypeError) as exc:
        fail(
            say(
                f"bộ chỉ số (preset) {str(name)!r} không đọc được: {exc}",
                f"preset {str(name)!r} cannot be read: {exc}",
            )
        )
    _same_preset_as_warehouse(preset)
    return preset


def _same_preset_as_warehouse(preset: Preset) -> None:
    """One warehouse per province: the error line when the warehouse holds another preset's data.
    A warehouse busy with a writer is not waited for here: a run checks again when it claims the
    warehouse, and a reading command reports the busy warehouse itself."""
    from pipelines.store.lock import WarehouseBusyError
    from pipelines.store.province import WrongPresetError, ensure_warehouse_preset

    try:
        ensure_warehouse_preset(preset)
    except WrongPresetError as exc:
        fail(str(exc))
    except WarehouseBusyError:
        pass


def runnable_years() -> list[int]:
    """The years Dagster's yearly partitions hold: completed years only (imports Dagster)."""
    from dti_assets.partitions import yearly_partitions

    return [int(key) for key in yearly_partitions.get_partition_keys()]


def runnable_of(years: list[int]) -> list[int]:
    """Those of ``years`` Dagster can run (completed years)."""
    done = set(runnable_years())
    return [year for year in years if year in done]


def year_arg(preset: Preset, year: int) -> int:
    """``year`` when it is one of the preset's years, else the error line."""
    if year not in preset.years:
        span = year_span(preset.years)
        fail(
            say(
                f"năm {year} không thuộc bộ chỉ số (preset) {preset.id}; có: {span}",
                f"year {year} is not a year of preset {preset.id}; valid: {span}",
            )
        )
    return year


def years_arg(preset: Preset, spec: str | None, runnable: bool = False) -> list[int]:
    """The years of ``spec`` (``2024``, ``2021-2025``, ``2021,2023``; ``all`` or None: every
    year of the preset), each one of the preset's; with ``runnable`` also each one Dagster can
    run (completed), before any run starts."""
    if not spec or spec == "all":
        valid = runnable_of(preset.years) if runnable else preset.years
        if not valid:
            fail(
                say(
                    f"bộ chỉ số (preset) {preset.id} chưa có năm nào đã kết thúc để chạy "
                    f"(năm của bộ chỉ số: {year_span(preset.years)})",
                    f"preset {preset.id} has no completed year to run "
                    f"(its years: {year_span(preset.years)})",
                )
            )
        return valid
    try:
        years = parse_years(spec)
    except ValueError as exc:
        span = year_span(preset.years)
        fail(
            say(
                f"năm {spec!r} không hợp lệ: viết 2024, 2021-2025 hoặc 2021,2023; "
                f"năm của bộ chỉ số (preset) {preset.id}: {span}",
                f"{exc}; years of preset {preset.id}: {span}",
            )
        )
    for year in years:
        year_arg(preset, year)
    if not runnable:
        return years
    valid = runnable_of(preset.years)
    for year in years:
        if year not in valid:
            fail(
                say(
                    f"năm {year} chưa kết thúc nên chưa chạy được (Dagster chỉ có các năm đã "
                    f"kết thúc); chạy được: {year_span(valid)}",
                    f"year {year} has not ended and cannot run yet (Dagster holds completed "
                    f"years only); runnable: {year_span(valid)}",
                )
            )
    return years


def level_arg(preset: Preset, level: str) -> str:
    """``level`` when the preset defines it, else the error line listing the preset's levels."""
    if level not in preset.levels:
        names = ", ".join(
            f"{lvl} [{LEVEL_NAMES[lvl]}]" if lvl in LEVEL_NAMES else lvl for lvl in preset.levels
        )
        fail(
            say(
                f"cấp {level!r} không có trong bộ chỉ số (preset) {preset.id}; có: {names}",
                f"level {level!r} is not a level of preset {preset.id}; "
                f"valid: {', '.join(preset.levels)}",
            )
        )
    return level


def text_arg(value: str | None, option: str) -> str:
    """``value`` without surrounding spaces, or the error line when it is blank."""
    text = (value or "").strip()
    if not text:
        fail(say(f"{option} không được để trống", f"{option} must not be empty"))
    return text


def folder_arg(path: Path, option: str) -> Path:
    """``path`` when it is an existing folder, else the error line."""
    if not path.is_dir():
        fail(
            say(
                f"{option}: không có thư mục {path}",
                f"{option}: no folder {path}",
            )
        )
    return path


def file_arg(path: Path, option: str) -> Path:
    """``path`` when it is an existing file, else the error line."""
    if not path.is_file():
        fail(say(f"{option}: không có tệp {path}", f"{option}: no file {path}"))
    return path
